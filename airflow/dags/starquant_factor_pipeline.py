"""FactorLab evaluation pipelines for Apache Airflow 3.

Airflow orchestrates; FactorLab executes and owns all state. Every task runs the ``factorlab`` CLI with an
argument list (no shell, no Jinja) and reads the JSON it prints on stdout, or, when ``FACTORLAB_SERVER`` is set,
does the same step over FactorLab's HTTP API. Jobs, tasks, attempts and results live in FactorLab's store; XCom
carries only ids and a small summary.

Two DAGs come from one factory, so their tasks cannot drift apart:

* ``starquant_factor_pipeline``: manual runs. The Trigger form asks for factors, universes, window,
  frequencies, horizons and the evaluation settings.
* ``factorlab_daily_evaluation``: weekdays at 18:30 Shanghai time. It evaluates every approved factor over a
  trailing window that ends on the run's date; FactorLab's alert rules (IC drop, coverage) fire when the job ends.

Task graph: submit_job -> fetch_factor_jobs -> evaluate_factor (one mapped instance per FactorLab task)
-> aggregate_results (ALL_DONE; asks FactorLab, not XCom) -> publish_summary (fails the run unless the job is
SUCCESS, because a run's state follows its leaf tasks only).

Environment (read when the file is parsed; cheap, no FactorLab call at parse time):

* ``FACTORLAB_BIN``: the ``factorlab`` executable (default: ``factorlab`` on PATH).
* ``FACTOR_PLATFORM_DB``, ``FACTOR_DATA_PATH`` / ``QLIB_DATA_PATH``: passed through to FactorLab as they are.
* ``FACTORLAB_SERVER`` + ``FACTORLAB_TOKEN``: submit and read jobs over the HTTP API instead (Airflow workers on
  other hosts than the database); ``evaluate_factor`` then runs ``factorlab run-task ID --server URL`` with
  ``FACTORLAB_WORKER_TOKEN`` (default ``FACTORLAB_TOKEN``), so the evaluation happens on the Airflow worker.
* ``FACTOR_BATCH_SIZE``: the default of the batch_size param. ``FACTORLAB_POOL`` (default ``factorlab``),
  ``FACTORLAB_MAX_PARALLEL`` (mapped instances at once per run, default 4), ``FACTORLAB_RETRY_DELAY_S``
  (default 60), ``FACTORLAB_EXECUTION_TIMEOUT_S`` (per FactorLab task, default 7200).
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
import threading
import urllib.error
import urllib.request
from datetime import date, timedelta

import pendulum

from airflow.sdk import DAG, CronTriggerTimetable, Param, TriggerRule, conf, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

log = logging.getLogger("factorlab.airflow")  # __name__ is a mangled module name in Airflow


def _env_int(name: str, default: int, minimum: int = 1) -> int:
    """An integer knob from the environment; a malformed value falls back to the default (never a parse error)."""
    try:
        return max(minimum, int(os.environ.get(name, default)))
    except ValueError:
        return default


FACTORLAB_BIN = os.environ.get("FACTORLAB_BIN", "factorlab")
FACTORLAB_SERVER = os.environ.get("FACTORLAB_SERVER", "").rstrip("/")
RETRY_DELAY = timedelta(seconds=_env_int("FACTORLAB_RETRY_DELAY_S", 60))
EXECUTION_TIMEOUT = timedelta(seconds=_env_int("FACTORLAB_EXECUTION_TIMEOUT_S", 7200))
MAX_PARALLEL = _env_int("FACTORLAB_MAX_PARALLEL", 4)
POOL = os.environ.get("FACTORLAB_POOL", "factorlab")
DEFAULT_BATCH_SIZE = min(_env_int("FACTOR_BATCH_SIZE", 8), 1000)
RETRIES = 2  # Airflow retries of each task; FactorLab is told the same budget (max attempts = retries + 1)

# The exit codes of `factorlab` (sysexits.h numbers, plus Airflow's skip code).
EXIT_USAGE, EXIT_DATAERR, EXIT_TEMPFAIL, EXIT_CANCELLED = 64, 65, 75, 99

CODE = r"^[A-Za-z][A-Za-z0-9_.]{0,63}$"
UNIVERSE = r"^[A-Za-z0-9_]{1,64}$"
WINDOW = r"^\d{4}-\d{2}-\d{2}:\d{4}-\d{2}-\d{2}$"
# The shipped catalogue's categories; the registry accepts others, so the form suggests these and takes any.
CATEGORIES = ["momentum", "reversal", "volatility", "liquidity", "technical", "trend", "price_range", "volume_price",
              "kbar", "price", "value_like", "beta", "cross_section"]
UNIVERSES = ["csi300", "csi500", "csi800", "csi1000", "all"]
FREQUENCIES = ["day", "week", "month", "5min", "15min", "30min", "60min"]


class FactorLabError(Exception):
    """A failed FactorLab step that is worth retrying."""


def _command(args: list[str]) -> str:
    return shlex.join([FACTORLAB_BIN, *args])


def _factorlab(*args: str, env: dict | None = None) -> dict | list:
    """Run one `factorlab` command with `--json`; return what it printed on stdout (JSON only, logs on stderr).

    FactorLab's stderr lines are forwarded to the task log as they come, at INFO (an inherited stderr would also
    reach the log, but tagged ERROR). The child stays in the task's process group, so when Airflow kills the task
    (SIGINT, SIGTERM, SIGKILL to the group) FactorLab stops too and gives its lease back.
    """
    cmd = [FACTORLAB_BIN, *args]
    log.info("$ %s", shlex.join(cmd))
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, **env} if env else None)
    except FileNotFoundError:
        raise AirflowFailException(f"factorlab executable not found: {FACTORLAB_BIN!r} (set FACTORLAB_BIN)")

    last_error: list[str] = []  # FactorLab's own error line ("error: …"), for the exception message

    def forward_stderr() -> None:
        for line in proc.stderr:
            log.info("factorlab: %s", line.rstrip())
            if line.startswith("error:"):
                last_error[:] = [line[len("error:"):].strip()]

    pump = threading.Thread(target=forward_stderr, daemon=True)
    pump.start()
    try:
        stdout = proc.stdout.read()
        rc = proc.wait()
    finally:
        if proc.poll() is None:  # execution_timeout or another exception in this process: stop FactorLab
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        pump.join(timeout=5)
    try:
        out = json.loads(stdout) if stdout.strip() else None
    except json.JSONDecodeError:
        out = None
    if rc == EXIT_CANCELLED:
        raise AirflowSkipException(f"FactorLab reports the task as cancelled ({shlex.join(cmd)})")
    why = out.get("error") if isinstance(out, dict) and out.get("error") else (last_error[0] if last_error else None)
    why = f": {why}" if why else " (see the factorlab lines above)"
    if rc in (EXIT_USAGE, EXIT_DATAERR):
        raise AirflowFailException(f"{shlex.join(cmd)} failed permanently with exit code {rc}{why}")
    if rc != 0:
        raise FactorLabError(f"{shlex.join(cmd)} failed with exit code {rc}{why}")
    if out is None:
        raise FactorLabError(f"{shlex.join(cmd)} printed no JSON on stdout: {stdout[:300]!r}")
    return out


class FactorLabAPI:
    """The same steps over `factorlab serve`'s HTTP API (FACTORLAB_SERVER, FACTORLAB_TOKEN)."""

    def __init__(self, server: str, token: str) -> None:
        self.server, self.token = server, token

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.server + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        log.info("%s %s%s", method, self.server, path)
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:
                return json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as err:
            text = err.read().decode(errors="replace")
            try:
                message = json.loads(text)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = text[:300]
            if 400 <= err.code < 500 and err.code != 429:  # the request is wrong, or not allowed: retrying cannot help
                raise AirflowFailException(f"{method} {path}: HTTP {err.code}: {message}")
            raise FactorLabError(f"{method} {path}: HTTP {err.code}: {message}") from err
        except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
            raise FactorLabError(f"{method} {self.server}{path}: {err}") from err


def _api() -> FactorLabAPI | None:
    if not FACTORLAB_SERVER:
        return None
    token = os.environ.get("FACTORLAB_TOKEN")
    if not token:
        raise AirflowFailException("FACTORLAB_SERVER is set but FACTORLAB_TOKEN is not")
    return FactorLabAPI(FACTORLAB_SERVER, token)


def _windows(params: dict, run_date: date) -> list[tuple[str, str]]:
    """Evaluation windows (start, end), checked beyond what JSON Schema can express (their order)."""
    if "lookback_days" in params:  # the daily DAG: a trailing window that ends on the run's date
        start = run_date - timedelta(days=int(params["lookback_days"]))
        windows = [("lookback_days", start.isoformat(), run_date.isoformat())]
    else:
        windows = [("start_date/end_date", params["start_date"], params["end_date"])]
    windows += [("extra_windows", *w.split(":")) for w in params.get("extra_windows") or []]
    for field, start, end in windows:
        try:
            first, last = date.fromisoformat(start), date.fromisoformat(end)
        except ValueError as err:
            raise AirflowFailException(f"{field}: {start}:{end} is not a pair of dates YYYY-MM-DD ({err})")
        if first > last:
            raise AirflowFailException(f"{field}: the window {start}:{end} ends before it starts")
    return [(start, end) for _, start, end in windows]


def _selection(params: dict) -> dict:
    how = params["factor_selection"]
    if how == "codes":
        codes = list(params.get("factor_codes") or [])
        if not codes:
            raise AirflowFailException("factor_codes: factor_selection=codes needs at least one factor code")
        return {"codes": codes}
    if how == "category":
        if not params.get("category"):
            raise AirflowFailException("category: factor_selection=category needs a category")
        return {"category": params["category"]}
    return {"all_approved": True}


def _job_request(params: dict, run_date: date, key: str) -> dict:
    """What to submit, from the validated params; rendered as CLI flags or as the API's body."""
    return {
        **_selection(params),
        "windows": _windows(params, run_date),
        "universes": list(params["universes"]),
        "frequencies": list(params["frequencies"]),
        "horizons": sorted({int(h) for h in params["horizons"]}),
        "quantiles": int(params["quantiles"]),
        "delay": int(params["delay"]),
        "batch_size": int(params["batch_size"]),
        "include_drafts": bool(params.get("include_drafts")),
        "max_attempts": RETRIES + 1,
        "idempotency_key": key,
        "options": _options(params),
    }


# Evaluation options: the DAG's param, FactorLab's CLI flag and its API field for each.
OPTIONS = [("winsorize", "--winsorize", "winsorize"), ("neutralize", "--neutralize", "neutralize"),
           ("industry_file", "--industry", "industry"), ("size_expression", "--size", "size")]


def _options(params: dict) -> dict:
    """The preprocessing options that are set, by DAG param name (FactorLab checks them at submission)."""
    options = {name: str(params[name]).strip() for name, _, _ in OPTIONS if str(params.get(name) or "").strip()}
    if params.get("zscore"):
        options["zscore"] = True
    return options


def _submit(request: dict) -> dict:
    """Submits the job; returns {job_id, run_id, created, tasks}."""
    api = _api()
    if api:
        body = {"windows": [{"start": s, "end": e} for s, e in request["windows"]], "universes": request["universes"],
                "frequencies": request["frequencies"], "horizons": request["horizons"], "quantiles": request["quantiles"],
                "delay": request["delay"], "batchSize": request["batch_size"], "includeDrafts": request["include_drafts"],
                "maxAttempts": request["max_attempts"], "idempotencyKey": request["idempotency_key"]}
        for name, _, field in OPTIONS:
            if name in request["options"]:
                body[field] = request["options"][name]
        if request["options"].get("zscore"):
            body["zscore"] = True
        if "codes" in request:
            body["factors"] = request["codes"]
        elif "category" in request:
            body["category"] = request["category"]
        else:
            body["allApproved"] = True
        out = api.call("POST", "/jobs", body)
        return {"job_id": out["job"]["id"], "run_id": out["job"]["runId"], "created": out["created"], "tasks": out["tasks"]}
    args = ["submit-job"]
    if "codes" in request:
        args.append(",".join(request["codes"]))
    elif "category" in request:
        args += ["--category", request["category"]]
    else:
        args.append("--all-approved")
    args += ["--windows", ",".join(f"{s}:{e}" for s, e in request["windows"]),
             "--instruments", ",".join(request["universes"]), "--freq", ",".join(request["frequencies"]),
             "--horizons", ",".join(map(str, request["horizons"])), "--quantiles", str(request["quantiles"]),
             "--delay", str(request["delay"]), "--batch-size", str(request["batch_size"]),
             "--max-attempts", str(request["max_attempts"]), "--idempotency-key", request["idempotency_key"], "--json"]
    if request["include_drafts"]:
        args.append("--include-drafts")
    for name, flag, _ in OPTIONS:
        if name in request["options"]:
            args += [flag, request["options"][name]]
    if request["options"].get("zscore"):
        args.append("--zscore")
    out = _factorlab(*args)
    return {"job_id": out["jobId"], "run_id": out["runId"], "created": out["created"], "tasks": out["tasks"]}


def _show(job_id: str, top: int = 10) -> dict:
    """The job as `show-job --json` prints it: {job, tasks, top, failures}."""
    api = _api()
    if api:
        return api.call("GET", f"/jobs/{job_id}?top={top}")
    return _factorlab("show-job", job_id, "--top", str(top), "--json")


def _retry_failed(job_id: str) -> None:
    api = _api()
    if api:
        api.call("POST", f"/jobs/{job_id}/retry", {})
    else:
        _factorlab("retry-job", job_id, "--json")


def _label(t: dict) -> str:
    """`<task id> <universe> <start>:<end> <freq> [codes]`, shown instead of the bare map index."""
    try:
        p = json.loads(t["payload"])
        codes = [f["code"] for f in p["factors"]]
        more = f",+{len(codes) - 3}" if len(codes) > 3 else ""
        return f"{t['id']} {p['universe']} {p['start']}:{p['end']} {p['frequency']} [{','.join(codes[:3])}{more}]"
    except (KeyError, TypeError, ValueError):
        return t["id"]


def build_pipeline() -> None:
    """Add the five tasks to the DAG whose `with` block calls this."""

    @task(retries=RETRIES, retry_delay=RETRY_DELAY)
    def submit_job() -> dict:
        """Submit the FactorLab job; idempotent per Airflow run, so a retry or a Clear gets the same job back."""
        ctx = get_current_context()
        params, dag_run = ctx["params"], ctx["dag_run"]
        # JSON Schema checks each param, but a misspelt conf key ("frequency") would silently fall back to the
        # default, so reject keys the DAG does not declare.
        unknown = sorted(set(dag_run.conf or {}) - set(ctx["dag"].params))
        if unknown:
            raise AirflowFailException(f"unknown parameter(s) {unknown}; this DAG takes {sorted(ctx['dag'].params)}")
        # Manual runs may have no logical date in Airflow 3; run_after is always set.
        when = dag_run.logical_date or dag_run.run_after
        run_date = pendulum.instance(when).in_timezone("Asia/Shanghai").date()
        key = f"airflow:{dag_run.dag_id}:{dag_run.run_id}"
        submitted = _submit(_job_request(params, run_date, key))
        log.info("FactorLab job %s (run %s): %s tasks, created=%s", submitted["job_id"], submitted["run_id"],
                 submitted["tasks"], submitted["created"])
        if not submitted["created"]:
            # A Clear of a finished run re-runs what did not succeed: failed tasks get fresh attempts; succeeded
            # tasks are skipped below and cancelled ones stay cancelled (a cancel is deliberate).
            job = _show(submitted["job_id"])
            if any(t["status"] == "FAILED" for t in job["tasks"]):
                log.info("re-queueing the failed tasks of job %s", submitted["job_id"])
                _retry_failed(submitted["job_id"])
        return {"job_id": submitted["job_id"], "run_id": submitted["run_id"], "created": submitted["created"]}

    @task(retries=RETRIES, retry_delay=RETRY_DELAY)
    def fetch_factor_jobs(job: dict) -> list[dict]:
        """The job's FactorLab tasks that are not SUCCESS yet: the input of the mapping."""
        shown = _show(job["job_id"])
        specs = [{"factorlab_task": t["id"], "label": _label(t)} for t in shown["tasks"] if t["status"] != "SUCCESS"]
        limit = conf.getint("core", "max_map_length")
        if len(specs) > limit:  # past the limit the XCom push itself fails, and would be retried in vain
            raise AirflowFailException(
                f"{len(specs)} FactorLab tasks exceed [core] max_map_length={limit}: raise batch_size, "
                f"narrow the job (fewer universes, windows or frequencies), or raise AIRFLOW__CORE__MAX_MAP_LENGTH")
        log.info("%d of %d FactorLab tasks to run", len(specs), len(shown["tasks"]))
        return specs

    @task(
        retries=RETRIES,
        retry_delay=RETRY_DELAY,
        retry_exponential_backoff=2.0,
        max_retry_delay=timedelta(minutes=15),
        execution_timeout=EXECUTION_TIMEOUT,
        max_active_tis_per_dagrun=MAX_PARALLEL,
        pool=POOL,
        map_index_template="{{ factorlab_task }}",
    )
    def evaluate_factor(spec: dict) -> dict:
        """Run one FactorLab task (factor batch x universe x window x frequency) under a lease."""
        ctx = get_current_context()
        ctx["factorlab_task"] = spec["label"]
        args = ["run-task", spec["factorlab_task"], "--attempt", str(ctx["ti"].try_number), "--json"]
        if FACTORLAB_SERVER:
            token = os.environ.get("FACTORLAB_WORKER_TOKEN") or os.environ.get("FACTORLAB_TOKEN")
            if not token:
                raise AirflowFailException("FACTORLAB_SERVER is set but neither FACTORLAB_WORKER_TOKEN nor FACTORLAB_TOKEN is")
            args += ["--server", FACTORLAB_SERVER]
        # The token travels in the environment, not in argv: the command line is logged (and visible in ps).
        out = _factorlab(*args, env={"FACTOR_TOKEN": token} if FACTORLAB_SERVER else None)
        if out.get("failedFactors"):
            log.warning("factors with an error result (the rest of the batch was evaluated): %s", out["failedFactors"])
        return {k: out.get(k) for k in ("taskId", "status", "attempt", "results", "seconds", "failedFactors", "alreadyDone")}

    @task(trigger_rule=TriggerRule.ALL_DONE, retries=RETRIES, retry_delay=RETRY_DELAY)
    def aggregate_results() -> dict:
        """Runs when every mapped instance has ended, failed ones included: FactorLab has the results."""
        ctx = get_current_context()
        # ALL_DONE also fires when submit_job failed. Pull the job explicitly: a missing argument XCom would fail
        # this task with retries, three times over.
        job = ctx["ti"].xcom_pull(task_ids="submit_job")
        if not job:
            raise AirflowFailException("submit_job did not succeed: there is no FactorLab job to aggregate")
        top_n = int(ctx["params"].get("top_n") or 10)
        shown = _show(job["job_id"], top=top_n)
        counts = {s: 0 for s in ("SUCCESS", "FAILED", "PENDING", "RUNNING", "CANCELLED")}
        for t in shown["tasks"]:
            counts[t["status"]] = counts.get(t["status"], 0) + 1
        summary = {
            "job_id": shown["job"]["id"],
            "run_id": shown["job"]["runId"],
            "status": shown["job"]["status"],
            "error": shown["job"].get("error"),
            "counts": {**counts, "total": len(shown["tasks"])},
            "summary_at": shown["job"].get("summaryAt"),
            "top": [{"factor": r["key"]["factorCode"], "version": r["key"]["factorVersion"], "universe": r["key"]["universe"],
                     "freq": r["key"]["frequency"], "window": f"{r['key']['start']}:{r['key']['end']}",
                     "horizon": r["key"]["horizon"], "rank_ic": r.get("rankICMean"), "rank_icir": r.get("rankICIR"),
                     "ls_sharpe": r.get("lsSharpe")} for r in shown["top"][:top_n]],
            "failed_tasks": [{"task": t["id"], "error": t.get("error")} for t in shown["tasks"] if t["status"] == "FAILED"],
            "failed_factors": sorted({r["key"]["factorCode"] for r in shown.get("failures", [])}),
        }
        return summary

    @task(retries=0)
    def publish_summary(summary: dict) -> None:
        """Print the Top-N and where the summary is; then fail the run unless the FactorLab job succeeded."""

        def number(x) -> str:
            return "" if x is None else f"{x:.4f}"

        rows = "\n".join(
            f"| {i + 1} | {r['factor']} v{r['version']} | {r['universe']} | {r['freq']} | {r['window']} | {r['horizon']} | "
            f"{number(r['rank_ic'])} | {number(r['rank_icir'])} | {number(r['ls_sharpe'])} |"
            for i, r in enumerate(summary["top"]))
        c = summary["counts"]
        lines = [
            f"## FactorLab job {summary['job_id']} (run {summary['run_id']}): {summary['status']}",
            f"tasks: {c['SUCCESS']}/{c['total']} succeeded, {c['FAILED']} failed, {c['CANCELLED']} cancelled, "
            f"{c['PENDING'] + c['RUNNING']} not finished",
            "",
            "| # | factor | universe | freq | window | h | Rank IC | Rank ICIR | LS Sharpe |",
            "|---|---|---|---|---|---|---|---|---|",
            rows or "| | (no results) | | | | | | | |",
            "",
            (f"summary: stored in FactorLab at {summary['summary_at']} (export: factorlab show-job {summary['job_id']} "
             f"--summary-csv FILE, or GET /jobs/{summary['job_id']}/summary.csv)" if summary.get("summary_at")
             else "summary: not stored (the job has not ended)"),
        ]
        if summary["failed_factors"]:
            lines.append(f"factors with an error result: {', '.join(summary['failed_factors'])}")
        for f in summary["failed_tasks"]:
            lines.append(f"failed task {f['task']}: {f['error']}")
        print("\n".join(lines))
        # The DAG run's state follows its leaf tasks only: without this check a run whose mapped tasks failed (or
        # never ran) would still end green.
        if summary["status"] != "SUCCESS":
            raise AirflowFailException(
                f"FactorLab job {summary['job_id']} is {summary['status']}"
                f"{': ' + summary['error'] if summary.get('error') else ''} ({c['FAILED']} failed, {c['CANCELLED']} "
                f"cancelled, {c['PENDING'] + c['RUNNING']} not finished of {c['total']})")

    job = submit_job()
    done = evaluate_factor.expand(spec=fetch_factor_jobs(job))
    summary = aggregate_results()
    done >> summary
    publish_summary(summary)


def _params(daily: bool) -> dict:
    p = {
        "factor_selection": Param(
            "all_approved" if daily else "codes",
            type="string",
            enum=["codes", "category", "all_approved"],
            values_display={"codes": "Listed factor codes", "category": "A whole category",
                            "all_approved": "All approved factors"},
            title="Factors from",
            section="Factors",
        ),
        "factor_codes": Param(
            [] if daily else ["A158_ROC20", "A158_MA5"],
            type="array",
            items={"type": "string", "pattern": CODE},
            uniqueItems=True,
            title="Factor codes",
            description="One registered factor code per line (used when 'Factors from' is the list).",
            section="Factors",
        ),
        "category": Param(
            None,
            type=["null", "string"],
            pattern=r"^[A-Za-z0-9_.-]{1,64}$",
            examples=CATEGORIES,
            title="Category",
            description="Used when 'Factors from' is a category.",
            section="Factors",
        ),
        "include_drafts": Param(
            False, type="boolean", title="Include drafts",
            description="Also evaluate factors that are not approved yet (drafts and those in review).",
            section="Factors",
        ),
        "universes": Param(
            ["csi300"],
            type="array",
            items={"type": "string", "pattern": UNIVERSE},
            minItems=1,
            uniqueItems=True,
            examples=UNIVERSES,
            title="Universes",
            description="Point-in-time universes of the data (instruments/<name>.txt), e.g. csi300, or all.",
            section="Universe and time",
        ),
        "frequencies": Param(
            ["day"],
            type="array",
            items={"type": "string", "enum": FREQUENCIES},
            minItems=1,
            uniqueItems=True,
            examples=FREQUENCIES,
            title="Frequencies",
            section="Universe and time",
        ),
        # The form's multi-select hands picked values back as strings ("10"), so integer-only items would be refused
        # (HTTP 400). Accept integers (API, CLI) and digit strings (form); submit_job casts.
        "horizons": Param(
            [1, 5, 20],
            type="array",
            items={"type": ["integer", "string"], "pattern": r"^[1-9][0-9]{0,2}$", "minimum": 1, "maximum": 250},
            minItems=1,
            uniqueItems=True,
            examples=[1, 2, 3, 5, 10, 20, 40, 60, 120, 250],
            title="Forward-return horizons (bars)",
            section="Evaluation",
        ),
        "quantiles": Param(5, type="integer", minimum=2, maximum=50, title="Quantile groups", section="Evaluation"),
        "delay": Param(
            1, type="integer", minimum=0, maximum=20, title="Entry delay (bars)",
            description="The return of row t runs from the close of t+delay: 1 is Qlib's label, 0 is alphalens'.",
            section="Evaluation",
        ),
        "top_n": Param(10, type="integer", minimum=1, maximum=100, title="Top-N in the summary", section="Evaluation"),
        # Optional text fields are nullable: the form sends null for an empty field, which a plain string type refuses
        # (the Trigger button would stay disabled).
        "winsorize": Param(
            None, type=["null", "string"], pattern=r"^(|mad|mad:[0-9]+(\.[0-9]+)?|quantile:0?\.[0-9]+)$", title="Winsorize",
            description="Clip each date's values first: mad (median ± 3·1.4826·MAD), mad:K, or quantile:P; empty: no clipping.",
            section="Evaluation",
        ),
        "neutralize": Param(
            None, type=["null", "string"], enum=[None, "industry", "size", "industry,size"], title="Neutralize",
            description="Replace the factor by its residual on industry dummies and/or log market value (needs the file or "
                        "expression below); empty: the raw factor.",
            section="Evaluation",
        ),
        "industry_file": Param(
            None, type=["null", "string"], title="Industry file",
            description="For neutralize industry: a CSV (symbol, industry_code) every worker can read at this path.",
            section="Evaluation",
        ),
        "size_expression": Param(
            None, type=["null", "string"], title="Market value expression",
            description="For neutralize size, e.g. $close*$shares (its log is the regressor).", section="Evaluation",
        ),
        "zscore": Param(False, type="boolean", title="Z-score each date", section="Evaluation"),
        "batch_size": Param(
            DEFAULT_BATCH_SIZE, type="integer", minimum=1, maximum=1000, title="Factors per task",
            description="How many factors one FactorLab task evaluates together (default: FACTOR_BATCH_SIZE).",
            section="Advanced",
        ),
        "extra_windows": Param(
            [],
            type="array",
            items={"type": "string", "pattern": WINDOW},
            title="Extra windows",
            description="Optional further windows, one START:END per line, e.g. 2021-01-04:2023-12-29.",
            section="Advanced",
        ),
    }
    if daily:
        p["lookback_days"] = Param(
            730, type="integer", minimum=30, maximum=10000, title="Trailing window (calendar days)",
            description="The window ends on the run's date (Asia/Shanghai) and starts this many days before.",
            section="Universe and time",
        )
    else:
        for name, default, title in (("start_date", "2022-01-04", "Start"), ("end_date", "2023-12-29", "End")):
            p[name] = Param(default, type="string", format="date", title=title, section="Universe and time")
    return p


DEFAULT_ARGS = {"owner": "factorlab", "retries": RETRIES, "retry_delay": RETRY_DELAY}
# Early, so that runs for past dates (a backfill of the daily DAG, a test on historical data) have their tasks: Airflow
# creates no task instance for a logical date before the start date. catchup=False keeps deployment free of backlogs.
START = pendulum.datetime(2000, 1, 1, tz="Asia/Shanghai")

with DAG(
    dag_id="starquant_factor_pipeline",
    dag_display_name="FactorLab: evaluate factors",
    description="Evaluate factors (IC, Rank IC, ICIR, quantiles) on chosen universes, windows and frequencies",
    doc_md=__doc__,
    schedule=None,  # manual runs only: the Trigger form is the entry point
    start_date=START,
    catchup=False,
    is_paused_upon_creation=False,  # the seed's DAG stayed paused after deployment
    max_active_runs=4,
    dagrun_timeout=timedelta(hours=12),
    default_args=DEFAULT_ARGS,
    params=_params(daily=False),
    tags=["factorlab"],
):
    build_pipeline()

with DAG(
    dag_id="factorlab_daily_evaluation",
    dag_display_name="FactorLab: daily evaluation of approved factors",
    description="Approved factors over a trailing window, weekdays after the close; FactorLab raises IC-drop alerts",
    doc_md=__doc__,
    schedule=CronTriggerTimetable("30 18 * * 1-5", timezone="Asia/Shanghai"),
    start_date=START,
    catchup=False,  # on deployment: at most the latest missed evening, never a backlog
    is_paused_upon_creation=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=12),
    default_args=DEFAULT_ARGS,
    params=_params(daily=True),
    tags=["factorlab", "daily"],
):
    build_pipeline()
