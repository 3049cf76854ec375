#!/usr/bin/env bash
# Fuzzes the HTTP API against its own OpenAPI document with Schemathesis (PyPI, pinned in contract/requirements.txt):
# every operation, its checks for server errors, status codes, content types and response schemas, a fixed seed.
# A live `factorlab serve` on loopback, an admin token, a store with a factor, a job and a subscription in it so that
# path parameters can reach existing things. Fails on any failure; prints Schemathesis's statistics.
#
#   contract/fuzz.sh FACTORLAB_BINARY [STORE]      (STORE: an SQLite file (default: a fresh one) or a postgres:// URL)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
work="$(mktemp -d /tmp/factorlab-contract.XXXXXX)"
server=""
trap 'set +e; [[ -n "$server" ]] && { kill "$server"; wait "$server"; } 2>/dev/null; rm -rf "$work"' EXIT
if [[ $# -ge 2 && -z "$2" ]]; then echo "contract fuzz: the store argument is empty" >&2; exit 64; fi
store="${2:-$work/platform.db}"
seed="${SCHEMATHESIS_SEED:-20261205}"
examples="${SCHEMATHESIS_MAX_EXAMPLES:-40}"

# One venv per set of pins, so that a changed pin is installed even with a kept cache.
pins="$(sha256sum "$here/requirements.txt" | cut -c1-12)"
venv="${FACTOR_CACHE_DIR:-$HOME/.cache/factorlab}/schemathesis-venv-$pins"
if [[ ! -x "$venv/bin/st" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r "$here/requirements.txt"
fi

export FACTOR_PLATFORM_DB="$store"
data="${FACTOR_DATA_PATH:-}"
[[ -z "$data" && -d "$here/../../shared/data/cn_csi300_daily" ]] && data="$(cd "$here/../../shared/data/cn_csi300_daily" && pwd)"
if [[ -n "$data" ]]; then export FACTOR_DATA_PATH="$data"; fi

cd "$work"
"$bin" init-db >/dev/null
FACTOR_USER=alice "$bin" register-factor MOM5 'Ref($close, 5) / $close - 1' --name "5-day reversal" --category momentum >/dev/null
FACTOR_USER=alice "$bin" register-factor VOL20 'Std($close / Ref($close, 1) - 1, 20)' --category risk >/dev/null
FACTOR_USER=alice "$bin" submit-review VOL20 >/dev/null
"$bin" submit-job MOM5 --include-drafts --start 2020-01-01 --end 2020-06-30 --instruments csi300 >/dev/null
"$bin" subscribe --kind webhook --to http://127.0.0.1:9/hook --events job.succeeded >/dev/null
token="$("$bin" create-token contract-fuzzer --role admin | tail -1)"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$bin" serve --host 127.0.0.1 --port "$port" >"$work/serve.log" 2>&1 &
server=$!
up=""
for _ in $(seq 150); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && { up=1; break; }; sleep 0.1; done
if [[ -z "$up" ]]; then echo "contract fuzz: factorlab serve did not answer /healthz:" >&2; cat "$work/serve.log" >&2; exit 1; fi

status=0
"$venv/bin/st" --config-file "$here/schemathesis.toml" run "http://127.0.0.1:$port/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --seed "$seed" --max-examples "$examples" --generation-database none --workers 2 --request-timeout 30 \
  --no-color --report junit --report-junit-path "$work/junit.xml" || status=$?

# The server must have lived through it and still answer with the fuzzer's token.
if ! curl -fs -H "Authorization: Bearer $token" "http://127.0.0.1:$port/me" >/dev/null; then
  echo "contract fuzz: the server no longer answers /me after the run" >&2
  tail -20 "$work/serve.log" >&2
  status=1
fi
if grep -q " error " "$work/serve.log"; then
  echo "contract fuzz: the server logged errors:" >&2
  grep " error " "$work/serve.log" | head -20 >&2
  status=1
fi
if [[ ! -f "$work/junit.xml" ]]; then echo "contract fuzz: Schemathesis wrote no report (exit $status)" >&2; exit 1; fi
python3 - "$work/junit.xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else list(root)
cases = sum(len(s.findall("testcase")) for s in suites)
failures = sum(len(c.findall("failure")) for s in suites for c in s.findall("testcase"))
errors = sum(len(c.findall("error")) for s in suites for c in s.findall("testcase"))
print(f"contract fuzz: {cases} operations tested, {failures} failures, {errors} errors")
EOF
exit $status
