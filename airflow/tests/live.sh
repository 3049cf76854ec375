#!/usr/bin/env bash
# The FactorLab DAGs under a real Airflow 3 scheduler: `airflow standalone` (api-server, scheduler, dag-processor,
# triggerer; LocalExecutor on SQLite) on 127.0.0.1, driven over its REST API the way the UI drives it, then the
# Trigger form itself in headless Chromium. What only a real scheduler shows: deployment flags, a Clear, a killed
# task (its factorlab child must stop and give its lease back), the pool, the task labels, the form.
#
# Called by run.sh, which provides: AIRFLOW_VENV, FACTORLAB_BIN, a seeded FactorLab store (FACTOR_PLATFORM_DB,
# FACTOR_DATA_PATH) and FACTORLAB_TEST_{UNIVERSE,START,END}; WORK is a scratch folder. Stops what it started.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
VENV="${AIRFLOW_VENV:?}"
WORK="${WORK:-$(mktemp -d /tmp/factorlab-live.XXXXXX)}"
mkdir -p "$WORK"
PORT="${AIRFLOW_LIVE_PORT:-$((18700 + RANDOM % 500))}"
export PATH="$VENV/bin:$PATH"  # standalone starts its components as `airflow` from PATH
export AIRFLOW_HOME="$WORK/af-home"
export AIRFLOW__CORE__LOAD_EXAMPLES=False AIRFLOW__CORE__DAGS_FOLDER="$repo/airflow/dags"
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS=True  # throwaway loopback instance: no login
export AIRFLOW__API__HOST=127.0.0.1 AIRFLOW__API__PORT="$PORT"
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:$PORT/execution/"
export AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL=5
export FACTORLAB_RETRY_DELAY_S=2
B="$FACTORLAB_BIN"
A="http://127.0.0.1:$PORT/api/v2"
D=starquant_factor_pipeline
U="$FACTORLAB_TEST_UNIVERSE" S="$FACTORLAB_TEST_START" E="$FACTORLAB_TEST_END"
failures=0
t_start=$(date +%s.%N)

el() { awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%5.1f", b - a }'; }
ok() { echo "  [$(el) s] ok    $*"; }
bad() { echo "  [$(el) s] FAIL  $*"; failures=$((failures + 1)); }
expect() { local what="$1" got="$2" want="$3"; [[ "$got" == "$want" ]] && ok "$what: $got" || bad "$what: got '$got', wanted '$want'"; }
api() { curl -sS "$@"; }
urlq() { jq -rn --arg s "$1" '$s|@uri'; }
trigger() { api -X POST "$A/dags/$D/dagRuns" -H 'Content-Type: application/json' -d "{\"logical_date\": null, \"conf\": $1}" | jq -r .dag_run_id; }
run_state() { api "$A/dags/$D/dagRuns/$(urlq "$1")" | jq -r .state; }
wait_run() { # RUN_ID [SECONDS] -> final state
  local s
  for _ in $(seq 1 "${2:-180}"); do
    s="$(run_state "$1")"
    [[ "$s" == success || "$s" == failed ]] && { echo "$s"; return; }
    sleep 1
  done
  echo timeout
}
tis() { api "$A/dags/$D/dagRuns/$(urlq "$1")/taskInstances?limit=500"; }
task_log() { # RUN_ID TASK TRY MAP_INDEX -> the log's events, one per line
  api "$A/dags/$D/dagRuns/$(urlq "$1")/taskInstances/$2/logs/$3?map_index=$4" | jq -r '.content[]? | .event // empty'
}
job_of() { # RUN_ID -> the FactorLab job of that Airflow run (by the idempotency key the DAG sends)
  "$B" list-jobs --json | jq -r --arg k "airflow:$D:$1" '.[] | select(.job.idempotencyKey == $k) | .job.id'
}
job_json() { "$B" show-job "$1" --json; }

echo "== start airflow standalone on 127.0.0.1:$PORT (AIRFLOW_HOME=$AIRFLOW_HOME)"
airflow db migrate >"$WORK/migrate.log" 2>&1
airflow pools set factorlab 1 "FactorLab evaluations (one slot in this test)" >/dev/null
setsid airflow standalone >"$WORK/standalone.log" 2>&1 &
pid=$!
cpid=""
stop() { # the process groups started here; Airflow's components shut down gracefully within seconds
  [[ -n "$cpid" ]] && kill -TERM -- "-$cpid" 2>/dev/null
  kill -TERM -- "-$pid" 2>/dev/null || return 0
  for _ in $(seq 1 30); do kill -0 -- "-$pid" 2>/dev/null || return 0; sleep 1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
}
trap stop EXIT
for _ in $(seq 1 180); do api -f "$A/monitor/health" >/dev/null 2>&1 && break; sleep 1; done
for _ in $(seq 1 180); do
  [[ "$(api "$A/dags/$D" | jq -r .is_paused)" =~ ^(true|false)$ && \
     "$(api "$A/dags/factorlab_daily_evaluation" | jq -r .is_paused)" =~ ^(true|false)$ ]] && break
  sleep 1
done
ok "api-server up and both DAGs parsed"

echo "== deployment flags"
expect "$D is_paused after deployment" "$(api "$A/dags/$D" | jq -r .is_paused)" false
expect "factorlab_daily_evaluation is_paused after deployment" "$(api "$A/dags/factorlab_daily_evaluation" | jq -r .is_paused)" false
expect "$D schedule" "$(api "$A/dags/$D" | jq -r .timetable_description)" "Never, external triggers only"
sleep 3
runs="$(api "$A/dags/factorlab_daily_evaluation/dagRuns" | jq -r .total_entries)"
[[ "$runs" -le 1 ]] && ok "daily DAG, catchup=False: $runs run(s) on deployment (at most the latest weekday evening)" ||
  bad "the daily DAG created $runs runs on deployment"
ok "daily DAG's next run after: $(api "$A/dags/factorlab_daily_evaluation" | jq -r .next_dagrun_run_after)"
# Its runs evaluate today's window, which this test data does not reach; pause it so it leaves the pool to the tests.
api -X PATCH "$A/dags/factorlab_daily_evaluation" -H 'Content-Type: application/json' -d '{"is_paused": true}' >/dev/null

echo "== the trigger path's validation (POST dagRuns, as the form submits)"
for bad_conf in '{"frequencies": ["hourly"]}' '{"start_date": "2023-02-30"}' '{"horizons": [0]}'; do
  code="$(api -o "$WORK/bad.json" -w '%{http_code}' -X POST "$A/dags/$D/dagRuns" -H 'Content-Type: application/json' \
    -d "{\"logical_date\": null, \"conf\": $bad_conf}")"
  expect "conf $bad_conf -> HTTP" "$code" 400
done

echo "== a run of 4 mapped tasks: labels, logs, results"
run="$(trigger "{\"factor_codes\":[\"A158_ROC20\",\"A158_MA5\"],\"universes\":[\"$U\"],\"frequencies\":[\"day\",\"week\"],
  \"batch_size\":1,\"start_date\":\"$S\",\"end_date\":\"$E\"}")"
expect "logical_date of a run triggered over the API" "$(api "$A/dags/$D/dagRuns/$(urlq "$run")" | jq -r .logical_date)" null
expect "run state" "$(wait_run "$run")" success
tis "$run" | jq -r '.task_instances | sort_by(.task_id, .map_index)[] |
  "        \(.task_id)[\(.map_index)] \(.state) try=\(.try_number) \(.rendered_map_index // "")"'
job1="$(job_of "$run")"
labels="$(tis "$run" | jq -r '[.task_instances[] | select(.task_id == "evaluate_factor") | .rendered_map_index] | sort | join("|")')"
want="$(job_json "$job1" | jq -r '[.tasks[].id] | sort | join("|")')"
[[ "$(echo "$labels" | tr '|' '\n' | awk '{print $1}' | paste -sd'|')" == "$want" && "$labels" == *" $U "* ]] &&
  ok "each mapped instance is labelled with its FactorLab task, universe, window, frequency and factors" ||
  bad "labels '$labels' do not name the tasks '$want'"
task_log "$run" evaluate_factor 1 0 | grep -q 'factorlab: .*task SUCCESS' &&
  ok "FactorLab's stderr is in the task log at INFO" || bad "FactorLab's log lines are missing from the task log"
expect "FactorLab job" "$(job_json "$job1" | jq -r '.job.status')" SUCCESS
before="$(job_json "$job1" | jq -c '[.tasks[] | [.id, .attempts, .finishedAt]]')"
jobs_before="$("$B" list-jobs --json | jq length)"

echo "== Clear the whole finished run: the same FactorLab job, nothing evaluated twice"
api -X POST "$A/dags/$D/clearTaskInstances" -H 'Content-Type: application/json' \
  -d "{\"dag_run_id\": \"$run\", \"dry_run\": false, \"reset_dag_runs\": true, \"only_failed\": false}" >/dev/null
sleep 3
expect "run state after Clear" "$(wait_run "$run")" success
task_log "$run" submit_job 2 -1 | grep -q 'created=False' && ok "submit_job try 2 got the same job back (created=False)" ||
  bad "submit_job after the Clear did not reuse the job"
task_log "$run" fetch_factor_jobs 2 -1 | grep -q '0 of 4 FactorLab tasks to run' && ok "fetch_factor_jobs: 0 of 4 tasks to run" ||
  bad "fetch_factor_jobs after the Clear listed tasks to run"
expect "mapped instances after the Clear" \
  "$(tis "$run" | jq -r '[.task_instances[] | select(.task_id == "evaluate_factor") | .state] | unique | join(",")')" removed
expect "FactorLab jobs in the store after the Clear (none added)" "$("$B" list-jobs --json | jq length)" "$jobs_before"
expect "FactorLab tasks' attempts and finish times" "$(job_json "$job1" | jq -c '[.tasks[] | [.id, .attempts, .finishedAt]]')" "$before"

if [[ "$U" != csi300 ]]; then
  echo "== the pool and a killed task: skipped (they need a task that runs for seconds: the real csi300 data)"
else
echo "== the pool: one slot, so a second run's evaluations wait while a long one runs"
# The long task must outlast the pool check and the kill: every catalogue factor over every instrument, 2018 on,
# with 30 horizons (about 20 s of evaluation on this machine's two cores).
codes="$(jq -c '[.[] | .code | select(. != "A158_VWAP0")]' "$repo/configs/factors.json")"
long="$(trigger "{\"factor_codes\":$codes,\"include_drafts\":true,\"universes\":[\"all\"],\"batch_size\":1000,
  \"horizons\":[$(seq -s, 1 30)],\"start_date\":\"2018-01-02\",\"end_date\":\"$E\"}")"
for _ in $(seq 1 90); do pgrep -f "$B run-task" >/dev/null && break; sleep 0.5; done
pgrep -f "$B run-task" >/dev/null && ok "the long task's factorlab run-task is running" || bad "the long task never started"
long_job="$(job_of "$long")"
short="$(trigger "{\"factor_codes\":[\"A158_ROC20\"],\"universes\":[\"$U\"],\"start_date\":\"$S\",\"end_date\":\"$E\"}")"
waiting=""
for _ in $(seq 1 60); do
  state="$(tis "$short" | jq -r '[.task_instances[] | select(.task_id == "evaluate_factor") | .state] | join(",")')"
  pool="$(api "$A/pools/factorlab" | jq -r '"\(.running_slots) running, \(.queued_slots + .scheduled_slots) waiting"')"
  [[ "$state" == scheduled || "$state" == queued ]] && [[ "$pool" == "1 running, "* && "$pool" != *", 0 waiting" ]] && { waiting=1; break; }
  sleep 0.5
done
[[ -n "$waiting" ]] && ok "while the long task runs, the second run's evaluate_factor is $state (pool: $pool)" ||
  bad "the pool did not hold back the second run (its evaluate_factor: '$state'; pool: $pool)"

echo "== kill the running task (mark it failed, as from the UI): its factorlab child stops and gives the lease back"
long_task="$(job_json "$long_job" | jq -r '.tasks[0].id')"
expect "FactorLab task while it runs" "$(job_json "$long_job" | jq -r '.tasks[0] | "\(.status) attempts=\(.attempts)"')" "RUNNING attempts=1"
t0=$(date +%s.%N)
api -X PATCH "$A/dags/$D/dagRuns/$(urlq "$long")/taskInstances/evaluate_factor/0" \
  -H 'Content-Type: application/json' -d '{"new_state": "failed"}' >/dev/null
for _ in $(seq 1 60); do pgrep -f "$B run-task $long_task" >/dev/null || break; sleep 0.5; done
if pgrep -f "$B run-task $long_task" >/dev/null; then bad "factorlab run-task still running 30 s after the kill"
else ok "factorlab run-task stopped $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s after the task was marked failed"; fi
expect "FactorLab task after the kill (lease released, attempt not counted)" \
  "$(job_json "$long_job" | jq -r '.tasks[0] | "\(.status) attempts=\(.attempts) owner=\(.leaseOwner)"')" "PENDING attempts=0 owner=null"
expect "the killed run" "$(wait_run "$long")" failed
expect "the second run, once the slot was free" "$(wait_run "$short")" success
"$B" cancel-job "$long_job" >/dev/null
fi

# The form's defaults name csi300, so it runs on the real data only.
if [[ "${LIVE_UI:-1}" == 1 && "$U" == csi300 ]]; then
  echo "== the Trigger form in headless Chromium (screenshots in $WORK/ui)"
  command -v chromium >/dev/null || { bad "chromium is not installed"; exit 1; }
  CDP="${LIVE_CDP_PORT:-$((19300 + RANDOM % 500))}"
  setsid chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
    --disable-sync --no-first-run --user-data-dir="$(mktemp -d /tmp/chromium.XXXXXX)" \
    --remote-debugging-address=127.0.0.1 --remote-debugging-port="$CDP" about:blank >/dev/null 2>&1 &
  cpid=$!
  for _ in $(seq 1 30); do api -f "http://127.0.0.1:$CDP/json/version" >/dev/null 2>&1 && break; sleep 1; done
  if python "$here/trigger_form.py" "http://127.0.0.1:$PORT" "$D" "$WORK/ui" "$CDP" "$S" "$E" >"$WORK/ui.json"; then
    ok "the form shows its sections: $(jq -c '.sections | map_values(length)' "$WORK/ui.json")"
    ok "an impossible date is refused in the form: $(jq -r .refused "$WORK/ui.json"); Trigger disabled; no run created"
    ok "$(jq '[.checks[] | select(.passed)] | length' "$WORK/ui.json") form checks passed"
  else
    bad "the form check failed: $(jq -r .error "$WORK/ui.json" 2>/dev/null | head -3)"
  fi
  run="$(api "$A/dags/$D/dagRuns?order_by=-run_after&limit=1" | jq -r '.dag_runs[0].dag_run_id')"
  expect "the form's run: triggered_by, horizons" "$(api "$A/dags/$D/dagRuns/$(urlq "$run")" | jq -c '[.triggered_by, .conf.horizons]')" \
    '["ui",[1,5,20,"10"]]'
  expect "the form's run" "$(wait_run "$run")" success
  expect "its FactorLab job" "$(job_json "$(job_of "$run")" | jq -r .job.status)" SUCCESS
  kill -TERM -- "-$cpid" 2>/dev/null || true
  cpid=""
fi

echo "== Airflow's overhead per mapped task under the scheduler (16 FactorLab tasks, pool of 4 slots)"
airflow pools set factorlab 4 "FactorLab evaluations" >/dev/null
run="$(trigger "{\"factor_codes\":[\"A158_ROC20\",\"A158_MA5\",\"A158_KMID\",\"A158_STD20\",\"A158_CORR20\",\"A158_RSV10\",
  \"A158_BETA10\",\"A158_ROC60\"],\"universes\":[\"$U\"],\"frequencies\":[\"day\",\"week\"],\"batch_size\":1,
  \"start_date\":\"$S\",\"end_date\":\"$E\"}")"
expect "16-task run" "$(wait_run "$run" 300)" success
api "$A/dags/$D/dagRuns/$(urlq "$run")" >"$WORK/overhead-run.json"
job_json "$(job_of "$run")" | python -c '
import json, sys
from datetime import datetime
run = json.load(open(sys.argv[1]))
tasks = json.load(sys.stdin)["tasks"]
t = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
wall = (t(run["end_date"]) - t(run["start_date"])).total_seconds()
own = sum((t(x["finishedAt"]) - t(x["startedAt"])).total_seconds() for x in tasks)
print(f"        scheduler: run {wall:.1f} s, FactorLab tasks {own:.2f} s in all, up to 4 at once; Airflow overhead "
      f"{(wall - own) / len(tasks):.2f} s per mapped task (wall minus FactorLab seconds, over {len(tasks)} tasks)")' \
  "$WORK/overhead-run.json"

echo "standalone log: $WORK/standalone.log"
if ((failures)); then echo "$failures live check(s) failed"; exit 1; fi
echo "all live checks passed"
