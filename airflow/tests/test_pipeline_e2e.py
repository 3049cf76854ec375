"""The FactorLab DAGs run for real: `dag.test()` against the real `factorlab` binary, a real FactorLab database and
real market data, one scenario per row of the failure table in shared/research/airflow.md (a Clear and a killed task
need a real scheduler: live.sh).

Needs a migrated Airflow metadata DB (AIRFLOW_HOME) and:
  FACTORLAB_AIRFLOW_E2E=1, FACTORLAB_BIN (the release binary), FACTORLAB_CATALOGUE (configs/factors.json),
  FACTORLAB_TEST_DATA, FACTORLAB_TEST_UNIVERSE, FACTORLAB_TEST_START, FACTORLAB_TEST_END (the data, e.g. csi300 over
  2022-01-04…2023-12-29), FACTORLAB_TEST_VWAP_DATA (a data directory that has $vwap, which the test data lacks).
airflow/tests/run.sh sets all of them. Every assertion reads FactorLab's own store (`show-job --json`) and Airflow's
task instances, never the DAG's XComs alone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not os.environ.get("FACTORLAB_AIRFLOW_E2E"), reason="needs FACTORLAB_AIRFLOW_E2E=1 (run.sh)")

HERE = Path(__file__).resolve().parent
DAGS = HERE.parent / "dags"
MANUAL, DAILY = "starquant_factor_pipeline", "factorlab_daily_evaluation"
BIN = os.environ.get("FACTORLAB_BIN", "factorlab")
DATA = os.environ.get("FACTORLAB_TEST_DATA", "")
UNIVERSE = os.environ.get("FACTORLAB_TEST_UNIVERSE", "csi300")
START = os.environ.get("FACTORLAB_TEST_START", "2022-01-04")
END = os.environ.get("FACTORLAB_TEST_END", "2023-12-29")
VWAP_DATA = os.environ.get("FACTORLAB_TEST_VWAP_DATA", "")
CATALOGUE = os.environ.get("FACTORLAB_CATALOGUE", str(HERE.parents[1] / "configs" / "factors.json"))
APPROVED = ["A158_ROC20", "A158_MA5", "A158_KMID", "A158_STD20", "A158_CORR20", "A158_RSV10", "A158_BETA10", "A158_ROC60"]


def factorlab(*args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    run = subprocess.run([BIN, *args], capture_output=True, text=True, env={**os.environ, **(env or {})})
    if check and run.returncode != 0:
        raise AssertionError(f"factorlab {' '.join(args)} exited {run.returncode}: {run.stderr}")
    return run


def jobs() -> list[dict]:
    return json.loads(factorlab("list-jobs", "--json").stdout)


def show(job_id: str) -> dict:
    return json.loads(factorlab("show-job", job_id, "--json").stdout)


def task_states(dag_run) -> dict:
    """{(task_id, map_index): (state, try_number, rendered_map_index)} of a finished run."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        tis = session.scalars(select(TaskInstance).where(TaskInstance.dag_id == dag_run.dag_id,
                                                         TaskInstance.run_id == dag_run.run_id)).all()
        return {(ti.task_id, ti.map_index): (ti.state, ti.try_number, ti.rendered_map_index) for ti in tis}


def mapped(states: dict) -> dict:
    """FactorLab task id -> (state, try) of each evaluate_factor instance, from its rendered label."""
    return {label.split()[0]: (state, tries) for (task, _), (state, tries, label) in states.items()
            if task == "evaluate_factor" and label}


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A fresh FactorLab database seeded with the shipped catalogue, a few factors approved."""
    monkeypatch.setenv("FACTOR_PLATFORM_DB", str(tmp_path / "factorlab.db"))
    monkeypatch.setenv("FACTOR_DATA_PATH", DATA)
    monkeypatch.setenv("FACTOR_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FACTOR_USER", "airflow-e2e")
    factorlab("init-db", "--seed", CATALOGUE)
    for code in APPROVED:
        factorlab("submit-review", code)
        factorlab("approve-factor", code, "--by", "reviewer")
    return tmp_path


def dag(dag_id: str, **env: str):
    """The DAG parsed with these deployment knobs (they are read when the file is parsed)."""
    from airflow.models import DagBag

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        bag = DagBag(dag_folder=str(DAGS))
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    assert bag.import_errors == {}
    return bag.dags[dag_id]


CONF = {"factor_selection": "codes", "universes": [UNIVERSE], "frequencies": ["day"], "start_date": START, "end_date": END,
        "horizons": [1, 5]}


def test_a_task_held_by_a_crashed_worker_exits_75_once_and_is_retried_to_success(store):
    """exit 75 once -> up_for_retry -> the retry succeeds (the FactorLab task: attempt 1 lost, attempt 2 done)."""
    pipeline = dag(MANUAL, FACTORLAB_RETRY_DELAY_S="12")
    # A FactorLab worker of the same store takes the first task as soon as the job exists, and freezes holding its
    # lease (SIGSTOP: no heartbeat from then on), then dies. Its lease (6 s) outlives Airflow's first attempt and
    # lapses before the retry (at least 12 s later).
    worker = subprocess.Popen([BIN, "worker", "--lease-seconds", "6", "--poll", "0.02", "--name", "crashed"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    taken: dict = {}

    def freeze_when_leased() -> None:
        deadline = time.time() + 120
        while time.time() < deadline and not taken:
            for j in jobs():
                for t in show(j["job"]["id"])["tasks"]:
                    if t.get("leaseOwner") == "crashed":
                        worker.send_signal(signal.SIGSTOP)
                        taken["task"] = t["id"]
                        return
            time.sleep(0.01)

    watcher = threading.Thread(target=freeze_when_leased)
    watcher.start()
    try:
        run = pipeline.test(run_conf={**CONF, "factor_codes": ["A158_ROC20", "A158_MA5"], "batch_size": 1})
    finally:
        watcher.join(timeout=5)
        worker.kill()
        worker.wait()
    assert taken, "the worker never leased a task"
    states = task_states(run)
    shown = show(jobs()[-1]["job"]["id"])
    crashed = next(t for t in shown["tasks"] if t["id"] == taken["task"])
    assert mapped(states)[taken["task"]] == ("success", 2), states  # try 1 exited 75, try 2 evaluated it
    assert crashed["status"] == "SUCCESS" and crashed["attempts"] == 2  # the crashed worker's attempt, then Airflow's
    assert run.state == "success"
    assert shown["job"]["status"] == "SUCCESS"
    results = json.loads(factorlab("export-results", "--format", "json", "--run", shown["job"]["runId"]).stdout)
    assert len(results) == 2 * 2  # factors x horizons: one copy of each, whoever ran the task


def test_a_factor_that_cannot_be_evaluated_fails_its_task_without_retry_and_the_run(store):
    """exit 65 -> failed on try 1 (no retry); the other task succeeds; aggregate runs; publish fails the run."""
    # Registered (and warmed up) on data that has $vwap; the job reads data that has none.
    factorlab("register-factor", "VWAPGAP", "$vwap/$close - 1", "--category", "test", "--data", VWAP_DATA)
    factorlab("submit-review", "VWAPGAP")
    factorlab("approve-factor", "VWAPGAP", "--by", "reviewer")
    run = dag(MANUAL).test(run_conf={**CONF, "factor_codes": ["A158_ROC20", "VWAPGAP"], "batch_size": 1})
    states = task_states(run)
    shown = show(jobs()[-1]["job"]["id"])
    by_factor = {json.loads(t["payload"])["factors"][0]["code"]: t for t in shown["tasks"]}
    assert mapped(states)[by_factor["VWAPGAP"]["id"]] == ("failed", 1)
    assert mapped(states)[by_factor["A158_ROC20"]["id"]] == ("success", 1)
    assert by_factor["VWAPGAP"]["status"] == "FAILED" and by_factor["VWAPGAP"]["attempts"] == 1
    assert "vwap" in by_factor["VWAPGAP"]["error"]
    assert states[("aggregate_results", -1)][0] == "success"
    assert states[("publish_summary", -1)][:2] == ("failed", 1)
    assert run.state == "failed"
    assert shown["job"]["status"] == "FAILED"


def test_an_unknown_factor_code_fails_submit_job_at_once(store):
    run = dag(MANUAL).test(run_conf={**CONF, "factor_codes": ["A158_ROC20", "NO_SUCH_FACTOR"]})
    states = task_states(run)
    assert states[("submit_job", -1)][:2] == ("failed", 1)  # 65: no retry
    assert states[("aggregate_results", -1)][:2] == ("failed", 1)  # ALL_DONE, finds no job, fails fast
    assert run.state == "failed"
    assert jobs() == []  # nothing was written


def test_a_cancelled_job_skips_its_remaining_tasks_and_fails_the_run(store):
    """exit 99 -> skipped; the job ends CANCELLED; the run fails."""
    cancelled: dict = {}

    def cancel_after_the_first_success() -> None:
        deadline = time.time() + 120
        while time.time() < deadline:
            for j in jobs():
                if any(t["status"] == "SUCCESS" for t in show(j["job"]["id"])["tasks"]):
                    cancelled["job"] = json.loads(factorlab("cancel-job", j["job"]["id"], "--json").stdout)
                    return
            time.sleep(0.01)

    watcher = threading.Thread(target=cancel_after_the_first_success)
    watcher.start()
    run = dag(MANUAL).test(run_conf={**CONF, "factor_codes": APPROVED, "batch_size": 1})
    watcher.join(timeout=5)
    assert cancelled, "the job never had a successful task"
    states = task_states(run)
    shown = show(jobs()[-1]["job"]["id"])
    by_id = {t["id"]: t["status"] for t in shown["tasks"]}
    outcome = mapped(states)
    assert len(outcome) == len(APPROVED)
    assert {s for s, _ in outcome.values()} == {"success", "skipped"}
    for task_id, (state, tries) in outcome.items():
        assert (state, by_id[task_id]) in {("success", "SUCCESS"), ("skipped", "CANCELLED")}, (task_id, state)
        assert tries == 1
    assert shown["job"]["status"] == "CANCELLED"
    assert states[("aggregate_results", -1)][0] == "success"
    assert states[("publish_summary", -1)][0] == "failed"
    assert run.state == "failed"


def test_more_tasks_than_max_map_length_fail_fetch_at_once_with_advice(store, monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__MAX_MAP_LENGTH", "3")
    run = dag(MANUAL).test(run_conf={**CONF, "factor_codes": APPROVED[:4], "batch_size": 1})
    states = task_states(run)
    assert states[("fetch_factor_jobs", -1)][:2] == ("failed", 1)
    assert run.state == "failed"
    assert len(show(jobs()[-1]["job"]["id"])["tasks"]) == 4


def test_the_daily_dag_evaluates_every_approved_factor_over_the_trailing_window(store):
    import pendulum

    last = pendulum.parse(END)
    # 18:30 in Shanghai on the last day of the data: that evening's scheduled run.
    run = dag(DAILY).test(logical_date=pendulum.datetime(last.year, last.month, last.day, 10, 30, tz="UTC"),
                          run_conf={"lookback_days": 365})
    assert run.state == "success"
    shown = show(jobs()[-1]["job"]["id"])
    assert shown["job"]["status"] == "SUCCESS"
    evaluated = {f["code"] for t in shown["tasks"] for f in json.loads(t["payload"])["factors"]}
    assert evaluated == set(APPROVED)
    windows = {(json.loads(t["payload"])["start"], json.loads(t["payload"])["end"]) for t in shown["tasks"]}
    assert windows == {(last.subtract(days=365).to_date_string(), END)}
    results = json.loads(factorlab("export-results", "--format", "json", "--run", shown["job"]["runId"]).stdout)
    assert len(results) == len(APPROVED) * 3  # horizons 1, 5, 20
