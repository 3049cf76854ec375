#!/usr/bin/env bash
# FactorLab under Apache Airflow 3, tested for real: the DAGs against the real `factorlab` binary, a real FactorLab
# database and the real data in ../shared (synthetic data when it is absent).
#
#   airflow/tests/run.sh          everything: fast checks, dags test scenarios, the HTTP API mode, the end-to-end
#                                 fault scenarios, then live.sh (a real scheduler, Clear, kill, the Trigger form)
#   airflow/tests/run.sh quick    only the checks that need no Airflow DB and no FactorLab
#
# FACTORLAB_BIN (default .build/release/factorlab; build it with `swift build -c release --product factorlab`),
# AIRFLOW_VENV (default ~/.cache/factorlab/airflow-venv-<hash of the lock file and Python>), LIVE=0 skips live.sh.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
lock="$repo/airflow/requirements-lock.txt"
work="$(mktemp -d /tmp/factorlab-airflow.XXXXXX)"
failures=0
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
ok() { echo "  ok    $*"; }
bad() { echo "  FAIL  $*"; failures=$((failures + 1)); }

# check NAME EXPECTED_RC 'pattern that must appear in the output' -- command...
check() {
  local name="$1" want_rc="$2" pattern="$3"; shift 4
  local t0 rc=0; t0="$(now)"
  "$@" >"$work/$name.log" 2>&1 || rc=$?
  local took; took="$(secs "$t0" "$(now)")"
  if [[ "$rc" == "$want_rc" ]] && grep -qE -- "$pattern" "$work/$name.log"; then
    printf '  ok    %-44s %6s s  (exit %s)\n' "$name" "$took" "$rc"
  else
    printf '  FAIL  %-44s %6s s  (exit %s, wanted %s and /%s/; log %s)\n' "$name" "$took" "$rc" "$want_rc" "$pattern" "$work/$name.log"
    tail -25 "$work/$name.log" | sed 's/^/        /'
    failures=$((failures + 1))
  fi
}

echo "== Airflow venv"
t0="$(now)"
py="$(command -v python3)"
key="$( (cat "$lock"; "$py" -c 'import sys; print(sys.version)') | sha256sum | cut -c1-16)"
VENV="${AIRFLOW_VENV:-$HOME/.cache/factorlab/airflow-venv-$key}"
# The venv is reused only when it was built from this very lock file and Python, completed (the marker is written
# last), and still imports; anything else is rebuilt from scratch.
if [[ ! -f "$VENV/.factorlab-complete" ]] || ! "$VENV/bin/python" -c 'import airflow.sdk, pytest, websocket' 2>/dev/null; then
  rm -rf "$VENV"
  "$py" -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$lock"
  touch "$VENV/.factorlab-complete"
  echo "  built $VENV"
else
  echo "  reused $VENV (built from the same lock file)"
fi
[[ "$("$VENV/bin/airflow" version 2>/dev/null)" == 3.* ]] || { echo "airflow is not usable in $VENV"; exit 1; }
echo "  airflow $("$VENV/bin/airflow" version)   $(secs "$t0" "$(now)") s"
export PATH="$VENV/bin:$PATH"
export AIRFLOW__CORE__LOAD_EXAMPLES=False AIRFLOW__CORE__DAGS_FOLDER="$repo/airflow/dags"

echo "== fast checks: DagBag import, graph, flags, params (no Airflow DB)"
check pytest-fast 0 ' passed' -- env AIRFLOW_HOME="$work/af-nodb" python -m pytest -q -p no:cacheprovider "$here/test_dags.py"
[[ "${1:-}" == quick ]] && { echo "logs: $work"; exit "$failures"; }

export FACTORLAB_BIN="${FACTORLAB_BIN:-$repo/.build/release/factorlab}"
[[ -x "$FACTORLAB_BIN" ]] || { echo "no factorlab binary at $FACTORLAB_BIN (swift build -c release --product factorlab)"; exit 1; }
export FACTORLAB_RETRY_DELAY_S=1 FACTOR_CACHE_DIR="$work/cache" FACTOR_USER=airflow-ci

echo "== data"
"$FACTORLAB_BIN" demo --dir "$work/synthetic" >/dev/null  # has $vwap: where the "unevaluable factor" is registered
if [[ -d "$repo/../shared/data/cn_csi300_daily" ]]; then
  export FACTORLAB_TEST_DATA="$(cd "$repo/../shared/data/cn_csi300_daily" && pwd)" FACTORLAB_TEST_UNIVERSE=csi300
  export FACTORLAB_TEST_START=2022-01-04 FACTORLAB_TEST_END=2023-12-29 FIRST=2022-01-03
else
  # No ../shared: a copy of the synthetic market without its vwap column plays the real data.
  mkdir -p "$work/data"
  cp -r "$work/synthetic/." "$work/data/"
  for f in "$work/data"/*.csv "$work/data"/benchmarks/*.csv; do
    [[ -f "$f" ]] && python - "$f" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
if "vwap" in rows[0]:
    i = rows[0].index("vwap")
    csv.writer(open(sys.argv[1], "w", newline="")).writerows([r[:i] + r[i + 1:] for r in rows])
PY
  done
  export FACTORLAB_TEST_DATA="$work/data" FACTORLAB_TEST_UNIVERSE=core20
  export FACTORLAB_TEST_START=2021-06-01 FACTORLAB_TEST_END=2022-12-30 FIRST=2021-06-01
  echo "  ../shared/data/cn_csi300_daily is absent: SYNTHETIC data"
fi
export FACTORLAB_TEST_VWAP_DATA="$work/synthetic" FACTORLAB_CATALOGUE="$repo/configs/factors.json"
echo "  $FACTORLAB_TEST_DATA · $FACTORLAB_TEST_UNIVERSE · $FACTORLAB_TEST_START…$FACTORLAB_TEST_END"

echo "== airflow db migrate, pool"
export AIRFLOW_HOME="$work/af-home"
check db-migrate 0 'Database migration done' -- airflow db migrate
check pool 0 'factorlab' -- bash -c "$("$FACTORLAB_BIN" airflow pool --slots 2)"

# A FactorLab store seeded with the shipped catalogue; the factors the scenarios name are approved.
new_store() {
  export FACTOR_PLATFORM_DB="$work/$1/factorlab.db" FACTOR_DATA_PATH="$FACTORLAB_TEST_DATA"
  mkdir -p "$work/$1"
  "$FACTORLAB_BIN" init-db --seed "$FACTORLAB_CATALOGUE" >/dev/null
  for code in A158_ROC20 A158_MA5 "${@:2}"; do
    "$FACTORLAB_BIN" submit-review "$code" >/dev/null && "$FACTORLAB_BIN" approve-factor "$code" --by ci >/dev/null
  done
}
# expect_job NAME STATUS RESULTS: the newest job of the current store, as FactorLab reports it
expect_job() {
  local job; job="$("$FACTORLAB_BIN" list-jobs --json | python -c 'import json,sys; print(json.load(sys.stdin)[-1]["job"]["id"])')"
  local got; got="$("$FACTORLAB_BIN" show-job "$job" --json | python -c '
import json, subprocess, sys
shown = json.load(sys.stdin)
results = json.loads(subprocess.run([sys.argv[1], "export-results", "--format", "json", "--run", shown["job"]["runId"]],
                                    capture_output=True, text=True, check=True).stdout)
keys = {(r["key"]["factorCode"], r["key"]["universe"], r["key"]["start"], r["key"]["frequency"], r["key"]["horizon"]) for r in results}
print(shown["job"]["status"], len(results), len(keys), sum(r.get("error") is not None for r in results))' "$FACTORLAB_BIN")"
  [[ "$got" == "$2 $3 $3 0" ]] && ok "$1: job $2, $3 results, one per factor × universe × window × frequency × horizon" ||
    bad "$1: FactorLab says '$got' (status, results, distinct keys, errors); wanted '$2 $3 $3 0'"
}

CONF="{\"factor_selection\":\"codes\",\"factor_codes\":[\"A158_ROC20\",\"A158_MA5\"],\"universes\":[\"$FACTORLAB_TEST_UNIVERSE\"],
  \"frequencies\":[\"day\",\"week\"],\"start_date\":\"$FIRST\",\"end_date\":\"$FACTORLAB_TEST_END\",\"horizons\":[1,5]}"

echo "== airflow dags test against the real factorlab"
new_store happy
check manual-happy 0 'FactorLab job [0-9a-f-]+ .*: SUCCESS' -- airflow dags test starquant_factor_pipeline -c "$CONF"
expect_job manual-happy SUCCESS 8
grep -q 'tasks: 2/2 succeeded' "$work/manual-happy.log" && ok "publish_summary printed the Top-N of 2 of 2 tasks" ||
  bad "publish_summary's table is missing from the log"

echo "== refused confs: the run fails at once, naming the field"
check conf-bad-frequency 1 'ParamValidationError: Invalid input for param frequencies' -- \
  airflow dags test starquant_factor_pipeline -c '{"frequencies":["hourly"]}'
check conf-impossible-date 1 "ParamValidationError: Invalid input for param start_date.*is not a 'date'" -- \
  airflow dags test starquant_factor_pipeline -c '{"start_date":"2023-02-30"}'
check conf-misspelt-key 1 "unknown parameter\\(s\\) \\['frequency'\\]" -- \
  airflow dags test starquant_factor_pipeline -c '{"frequency":["week"]}'
check conf-reversed-dates 1 'start_date/end_date: the window 2023-12-29:2022-01-04 ends before it starts' -- \
  airflow dags test starquant_factor_pipeline -c '{"start_date":"2023-12-29","end_date":"2022-01-04"}'
check conf-selection-without-codes 1 'factor_codes: factor_selection=codes needs at least one factor code' -- \
  airflow dags test starquant_factor_pipeline -c '{"factor_selection":"codes","factor_codes":[]}'
check conf-category-without-category 1 'category: factor_selection=category needs a category' -- \
  airflow dags test starquant_factor_pipeline -c '{"factor_selection":"category"}'
for name in conf-misspelt-key conf-reversed-dates conf-selection-without-codes conf-category-without-category; do
  # AirflowFailException: the first try is the last (no "up_for_retry", no second try of submit_job)
  if grep -q 'UP_FOR_RETRY\|up_for_retry' "$work/$name.log"; then bad "$name was retried"; fi
done
echo "        (no retries: every refused conf failed on its first try)"

echo "== the daily DAG at a logical date (18:30 Shanghai on the last day of the data)"
new_store daily A158_KMID A158_STD20
check daily-scheduled 0 "submit-job --all-approved --windows [0-9-]+:$FACTORLAB_TEST_END" -- \
  airflow dags test factorlab_daily_evaluation "${FACTORLAB_TEST_END}T10:30:00+00:00"
expect_job daily-scheduled SUCCESS 12  # 4 approved factors × horizons 1, 5, 20

echo "== the same pipeline over the HTTP API (FACTORLAB_SERVER; Airflow without the database)"
new_store api
port=$((18200 + RANDOM % 500))
"$FACTORLAB_BIN" serve --host 127.0.0.1 --port "$port" >"$work/serve.log" 2>&1 &
pids+=($!)
researcher="$("$FACTORLAB_BIN" create-token airflow-submitter --role researcher --json | python -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
worker="$("$FACTORLAB_BIN" create-token airflow-worker --role worker --json | python -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
check api-mode 0 'FactorLab job [0-9a-f-]+ .*: SUCCESS' -- env -u FACTOR_PLATFORM_DB -u FACTOR_DATA_PATH \
  FACTORLAB_SERVER="http://127.0.0.1:$port" FACTORLAB_TOKEN="$researcher" FACTORLAB_WORKER_TOKEN="$worker" \
  airflow dags test starquant_factor_pipeline -c "$CONF"
expect_job api-mode SUCCESS 8
grep -q -- "run-task .* --server http://127.0.0.1:$port" "$work/api-mode.log" && ok "evaluate_factor ran run-task --server" ||
  bad "evaluate_factor did not go through the server"
if grep -q -e "$worker" -e "$researcher" "$work/api-mode.log"; then bad "a token appears in the task log"; else ok "no token in the task log"; fi

echo "== end-to-end fault scenarios (dag.test() with the real factorlab; asserts every task state)"
check pytest-e2e 0 ' passed' -- env FACTORLAB_AIRFLOW_E2E=1 python -m pytest -v -p no:cacheprovider "$here/test_pipeline_e2e.py"
grep -E 'PASSED|FAILED|SKIPPED' "$work/pytest-e2e.log" | sed -E 's/^.*::/        /'

echo "== Airflow's overhead per mapped task under dags test (16 FactorLab tasks)"
new_store overhead A158_KMID A158_STD20 A158_CORR20 A158_RSV10 A158_BETA10 A158_ROC60
t0="$(now)"
check overhead-16-tasks 0 'tasks: 16/16 succeeded' -- airflow dags test starquant_factor_pipeline -c \
  "{\"factor_codes\":[\"A158_ROC20\",\"A158_MA5\",\"A158_KMID\",\"A158_STD20\",\"A158_CORR20\",\"A158_RSV10\",\"A158_BETA10\",\"A158_ROC60\"],
    \"universes\":[\"$FACTORLAB_TEST_UNIVERSE\"],\"frequencies\":[\"day\",\"week\"],\"start_date\":\"$FACTORLAB_TEST_START\",
    \"end_date\":\"$FACTORLAB_TEST_END\",\"batch_size\":1}"
wall="$(secs "$t0" "$(now)")"
"$FACTORLAB_BIN" show-job "$("$FACTORLAB_BIN" list-jobs --json | python -c 'import json,sys; print(json.load(sys.stdin)[-1]["job"]["id"])')" --json |
  python -c '
import json, sys
from datetime import datetime
tasks = json.load(sys.stdin)["tasks"]
own = sum((datetime.fromisoformat(t["finishedAt"]) - datetime.fromisoformat(t["startedAt"])).total_seconds() for t in tasks)
wall = float(sys.argv[1])
print(f"        dags test: {wall:.1f} s for the whole run (CLI start-up and DAG parsing included); FactorLab tasks {own:.2f} s "
      f"in all; Airflow overhead {(wall - own) / len(tasks):.2f} s per mapped task ({len(tasks)} tasks)")' "$wall"

if [[ "${LIVE:-1}" == 1 ]]; then
  echo "== live: a real scheduler (airflow standalone), Clear, kill, pool, the Trigger form in Chromium"
  new_store live A158_KMID A158_STD20 A158_CORR20 A158_RSV10 A158_BETA10 A158_ROC60
  if AIRFLOW_VENV="$VENV" WORK="$work/live" "$here/live.sh"; then ok "live.sh"; else bad "live.sh (see above)"; fi
fi

echo "logs: $work"
if ((failures)); then echo "$failures check(s) failed"; exit 1; fi
echo "all Airflow checks passed"
