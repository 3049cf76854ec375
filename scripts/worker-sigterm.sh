#!/usr/bin/env bash
# A worker built as shipped (release) stops on SIGTERM, giving its leases back, within a few seconds: an optimised
# build once freed its signal sources early, ignored SIGTERM and ran on until SIGKILL.
#   scripts/worker-sigterm.sh FACTORLAB_BINARY
set -euo pipefail
bin="$1"
work="$(mktemp -d /tmp/factorlab-sigterm.XXXXXX)"
pid=""
trap 'set +e; [[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null; rm -rf "$work"' EXIT
export FACTOR_PLATFORM_DB="$work/platform.db"
"$bin" init-db >/dev/null
"$bin" worker --poll 0.2 >"$work/worker.log" 2>&1 &
pid=$!
sleep 1.5
kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
  echo "worker-sigterm: the worker is still running 10 s after SIGTERM" >&2
  exit 1
fi
wait "$pid" || true
pid=""
grep -q "stopped by signal 15" "$work/worker.log" || { echo "worker-sigterm: the worker did not say it stopped:" >&2; cat "$work/worker.log" >&2; exit 1; }
echo "worker-sigterm: the worker stopped on SIGTERM and released its leases"
