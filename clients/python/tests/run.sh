#!/usr/bin/env bash
# The Python client against a live server: installs ./clients/python into a venv (pip), starts `factorlab serve` and a
# worker on a fresh store with the real data, creates a researcher's token, then runs the notebook example
# (examples/notebook_quickstart.py) and the client's tests (pytest).
#
#   clients/python/tests/run.sh FACTORLAB_BINARY
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
data="$repo/../shared/data/cn_csi300_daily"
if [[ ! -d "$data" ]]; then echo "python client: ../shared/data/cn_csi300_daily is absent; skipped"; exit 0; fi
data="$(cd "$data" && pwd)"

venv="${FACTOR_CACHE_DIR:-$HOME/.cache/factorlab}/client-venv"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/pip" install -q "$repo/clients/python[test]"

work="$(mktemp -d /tmp/factorlab-client.XXXXXX)"
export FACTOR_PLATFORM_DB="$work/platform.db" FACTOR_DATA_PATH="$data"
"$bin" init-db >/dev/null
token="$("$bin" create-token notebook --role researcher | tail -1)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$bin" serve --host 127.0.0.1 --port "$port" >"$work/serve.log" 2>&1 &
server=$!
"$bin" worker --poll 0.2 >"$work/worker.log" 2>&1 &
worker=$!
trap 'kill $server $worker 2>/dev/null; wait $server $worker 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

export FACTORLAB_URL="http://127.0.0.1:$port" FACTORLAB_TOKEN="$token"
cd "$work"
if ! "$venv/bin/python" "$repo/examples/notebook_quickstart.py"; then
  echo "--- serve.log"; tail -20 "$work/serve.log"; echo "--- worker.log"; tail -20 "$work/worker.log"; exit 1
fi
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$here"
