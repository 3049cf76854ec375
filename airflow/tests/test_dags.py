"""Fast checks of the FactorLab DAGs: no Airflow metadata DB and no FactorLab needed.

The DAG folder imports cleanly, imports only from airflow.sdk, the graph, flags and task settings are what the
design says, the params' defaults validate, bad input is refused and the form's input is accepted, and the
checks JSON Schema cannot express (unknown keys, reversed dates, a selection without its inputs) fail at once.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
DAGS = HERE.parent / "dags"
DAG_FILE = DAGS / "starquant_factor_pipeline.py"
os.environ.setdefault("FACTORLAB_RETRY_DELAY_S", "1")

from airflow.models import DagBag  # noqa: E402  (after the environment is set)
from airflow.sdk import TriggerRule  # noqa: E402
from airflow.sdk.definitions.mappedoperator import MappedOperator  # noqa: E402
from airflow.sdk.exceptions import AirflowFailException, ParamValidationError  # noqa: E402

MANUAL, DAILY = "starquant_factor_pipeline", "factorlab_daily_evaluation"
CHAIN = ["submit_job", "fetch_factor_jobs", "evaluate_factor", "aggregate_results", "publish_summary"]


@pytest.fixture(scope="module")
def dagbag() -> DagBag:
    # dagbag.dags, not DagBag.get_dag(): the latter queries the metadata DB.
    return DagBag(dag_folder=str(DAGS))


@pytest.fixture(scope="module")
def module():
    """The DAG file as a plain module, for its helper functions."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("factorlab_dag_under_test", DAG_FILE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_dag_folder_imports_cleanly(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {MANUAL, DAILY}


def test_the_dag_file_imports_only_from_the_task_sdk():
    # Airflow 3 workers may not touch the metadata DB; `dags test` would not notice an airflow.models import.
    tree = ast.parse(DAG_FILE.read_text())
    airflow_modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "airflow":
            airflow_modules.add(node.module)
        if isinstance(node, ast.Import):
            airflow_modules |= {a.name for a in node.names if a.name.split(".")[0] == "airflow"}
    assert airflow_modules == {"airflow.sdk", "airflow.sdk.exceptions"}


@pytest.mark.parametrize("dag_id", [MANUAL, DAILY])
def test_graph_flags_and_task_settings(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert [t.task_id for t in dag.topological_sort()] == CHAIN
    for up, down in zip(CHAIN, CHAIN[1:]):
        assert dag.get_task(up).downstream_task_ids == {down}
    evaluate = dag.get_task("evaluate_factor")
    assert isinstance(evaluate, MappedOperator)
    kw = evaluate.partial_kwargs
    assert kw["retries"] == 2
    assert kw["retry_exponential_backoff"] == 2.0
    assert kw["max_retry_delay"] == timedelta(minutes=15)
    assert kw["execution_timeout"] == timedelta(hours=2)
    assert kw["max_active_tis_per_dagrun"] == 4
    assert kw["pool"] == "factorlab"
    assert kw["map_index_template"] == "{{ factorlab_task }}"
    assert dag.get_task("submit_job").retries == 2
    assert dag.get_task("aggregate_results").trigger_rule == TriggerRule.ALL_DONE
    assert dag.get_task("publish_summary").trigger_rule == TriggerRule.ALL_SUCCESS
    assert dag.get_task("publish_summary").retries == 0  # its failure is a verdict, not a fault
    assert dag.is_paused_upon_creation is False
    assert dag.catchup is False
    assert dag.max_active_runs == (4 if dag_id == MANUAL else 1)


def test_schedules(dagbag):
    assert type(dagbag.dags[MANUAL].timetable).__name__ == "NullTimetable"  # schedule=None
    daily = dagbag.dags[DAILY].timetable
    assert type(daily).__name__ == "CronTriggerTimetable"
    assert (daily.expression, str(daily.timezone)) == ("30 18 * * 1-5", "Asia/Shanghai")


@pytest.mark.parametrize("dag_id", [MANUAL, DAILY])
def test_param_defaults_validate_and_every_field_has_a_label_and_section(dagbag, dag_id):
    params = dagbag.dags[dag_id].params
    params.validate()
    for name in params:
        schema = params.get_param(name).schema
        assert schema.get("title") and schema.get("section"), name
    sections = {params.get_param(n).schema["section"] for n in params}
    assert sections == {"Factors", "Universe and time", "Evaluation", "Advanced"}


def test_the_params_of_each_dag(dagbag):
    common = {"factor_selection", "factor_codes", "category", "include_drafts", "universes", "frequencies", "horizons",
              "quantiles", "delay", "top_n", "batch_size", "extra_windows", "winsorize", "neutralize", "industry_file",
              "size_expression", "zscore"}
    assert set(dagbag.dags[MANUAL].params) == common | {"start_date", "end_date"}
    assert set(dagbag.dags[DAILY].params) == common | {"lookback_days"}
    assert dagbag.dags[DAILY].params["factor_selection"] == "all_approved"


def test_batch_size_defaults_to_FACTOR_BATCH_SIZE():
    probe = ("from airflow.models import DagBag; b = DagBag(dag_folder=%r); "
             "print(b.dags['starquant_factor_pipeline'].params['batch_size'])" % str(DAGS))
    run = lambda value: subprocess.run([sys.executable, "-c", probe], env={**os.environ, "FACTOR_BATCH_SIZE": value},
                                       capture_output=True, text=True, check=True).stdout.split()[-1]
    assert run("3") == "3"
    assert run("not-a-number") == "8"  # a bad environment value never breaks parsing


@pytest.mark.parametrize(
    "name,value",
    [
        ("frequencies", ["hourly"]),
        ("frequencies", []),
        ("horizons", [0]),
        ("horizons", ["0"]),
        ("horizons", [300]),
        ("horizons", ["x"]),
        ("start_date", "2019-13-45"),
        ("start_date", "2019-02-30"),
        ("end_date", "yesterday"),
        ("factor_codes", ["x; rm -rf /"]),
        ("factor_codes", ["A158_MA5", "A158_MA5"]),
        ("universes", []),
        ("universes", ["csi300; ls"]),
        ("factor_selection", "everything"),
        ("quantiles", 1),
        ("delay", -1),
        ("batch_size", 0),
        ("extra_windows", ["2021-01-01..2021-12-31"]),
        ("category", "a b"),
        ("winsorize", "median"),
        ("neutralize", "sector"),
    ],
)
def test_bad_input_is_refused_by_the_schema(dagbag, name, value):
    with pytest.raises(ParamValidationError):
        dagbag.dags[MANUAL].params.get_param(name).resolve(value)


@pytest.mark.parametrize(
    "name,value",
    [
        ("horizons", [1, 5, 20, "10"]),  # the form's multi-select returns picked values as strings
        ("category", None),
        ("category", "my_own_category"),
        ("extra_windows", ["2021-01-04:2023-12-29"]),
        ("frequencies", ["day", "week", "5min"]),
        ("universes", ["csi300", "all"]),
    ],
)
def test_form_style_input_is_accepted(dagbag, name, value):
    assert dagbag.dags[MANUAL].params.get_param(name).resolve(value) == value


def params(**over):
    base = {"factor_selection": "codes", "factor_codes": ["A158_ROC20"], "category": None, "include_drafts": False,
            "universes": ["csi300"], "frequencies": ["day"], "horizons": [20, "5", 1, 5], "quantiles": 5, "delay": 1,
            "top_n": 10, "batch_size": 8, "extra_windows": [], "start_date": "2022-01-04", "end_date": "2023-12-29",
            "winsorize": None, "neutralize": None, "industry_file": None, "size_expression": None, "zscore": False}
    return {**base, **over}


def test_the_job_request_built_from_params(module):
    r = module._job_request(params(extra_windows=["2020-01-02:2020-12-31"]), date(2024, 1, 5), "airflow:d:r")
    assert r["codes"] == ["A158_ROC20"]
    assert r["windows"] == [("2022-01-04", "2023-12-29"), ("2020-01-02", "2020-12-31")]
    assert r["horizons"] == [1, 5, 20]  # cast, deduplicated, sorted
    assert r["max_attempts"] == 3  # FactorLab's attempt budget = Airflow's retries + 1
    assert r["idempotency_key"] == "airflow:d:r"
    assert r["options"] == {}  # the raw factor unless asked


def test_preprocessing_params_become_factorlab_options(module):
    r = module._job_request(params(winsorize="mad:3", neutralize="industry", industry_file="/data/industry.csv", zscore=True),
                            date(2024, 1, 5), "k")
    assert r["options"] == {"winsorize": "mad:3", "neutralize": "industry", "industry_file": "/data/industry.csv", "zscore": True}


def test_the_daily_window_ends_on_the_run_date(module):
    p = params(lookback_days=730)
    del p["start_date"], p["end_date"]
    assert module._windows(p, date(2023, 12, 29)) == [("2021-12-29", "2023-12-29")]


@pytest.mark.parametrize(
    "over,field",
    [
        ({"start_date": "2023-12-29", "end_date": "2022-01-04"}, "start_date/end_date"),
        ({"extra_windows": ["2021-12-31:2021-01-01"]}, "extra_windows"),
        ({"extra_windows": ["2021-02-30:2021-03-01"]}, "extra_windows"),
        ({"factor_codes": []}, "factor_codes"),
        ({"factor_selection": "category", "category": None}, "category"),
    ],
)
def test_what_the_schema_cannot_check_fails_without_retry_naming_the_field(module, over, field):
    with pytest.raises(AirflowFailException, match=field.replace("/", ".")):
        module._job_request(params(**over), date(2024, 1, 5), "k")


def test_task_labels_name_the_task_universe_window_frequency_and_factors(module):
    payload = ('{"factors":[{"code":"A","version":1,"expression":"$close"},{"code":"B","version":1,"expression":"$open"},'
               '{"code":"C","version":2,"expression":"$high"},{"code":"D","version":1,"expression":"$low"}],'
               '"universe":"csi300","start":"2022-01-04","end":"2023-12-29","frequency":"week"}')
    assert module._label({"id": "1a2b3c4d-0003", "payload": payload}) == "1a2b3c4d-0003 csi300 2022-01-04:2023-12-29 week [A,B,C,+1]"
    assert module._label({"id": "x-0001", "payload": "not json"}) == "x-0001"
