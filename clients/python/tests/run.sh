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

work="$(mktemp -d /tmp/factorlab-client.XXXXXX)"
pids=()
trap 'set +e; for p in "${pids[@]}"; do kill "$p"; wait "$p"; done 2>/dev/null; rm -rf "$work"' EXIT

venv="${FACTOR_CACHE_DIR:-$HOME/.cache/factorlab}/client-venv"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
# Built from a copy, so that setuptools leaves no build/ or egg-info in the checkout.
cp -r "$repo/clients/python" "$work/client-source"
"$venv/bin/pip" install -q --force-reinstall --no-deps "$work/client-source" >/dev/null
"$venv/bin/pip" install -q "$work/client-source[test]"

export FACTOR_PLATFORM_DB="$work/platform.db" FACTOR_DATA_PATH="$data"
"$bin" init-db >/dev/null
token="$("$bin" create-token notebook --role researcher | tail -1)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$bin" serve --host 127.0.0.1 --port "$port" >"$work/serve.log" 2>&1 &
pids+=($!)
"$bin" worker --poll 0.2 >"$work/worker.log" 2>&1 &
pids+=($!)
up=""
for _ in $(seq 150); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && { up=1; break; }; sleep 0.1; done
if [[ -z "$up" ]]; then echo "python client: factorlab serve did not answer /healthz:" >&2; cat "$work/serve.log" >&2; exit 1; fi

export FACTORLAB_URL="http://127.0.0.1:$port" FACTORLAB_TOKEN="$token"
cd "$work"
if ! "$venv/bin/python" "$repo/examples/notebook_quickstart.py"; then
  echo "--- serve.log"; tail -20 "$work/serve.log"; echo "--- worker.log"; tail -20 "$work/worker.log"; exit 1
fi
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$here"
