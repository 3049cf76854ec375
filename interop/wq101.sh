#!/usr/bin/env bash
# The wq101 library against alpha101v 0.1.9 (PyPI, MIT), cell by cell on the real data (wq101_check.py). Needs the
# release binary and ../shared/data; makes its own venv from wq101-requirements.txt.
#   interop/wq101.sh [path/to/factorlab]        WQ101_VENV (default ~/.cache/factorlab/wq101-venv)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
factorlab="$(realpath "${1:-$here/../.build/release/factorlab}")"
data="$here/../../shared/data/cn_csi300_daily"
if [[ ! -d $data ]]; then
  echo "wq101: skipped: ../shared/data is absent (CI has it)"
  exit 0
fi
venv="${WQ101_VENV:-$HOME/.cache/factorlab/wq101-venv}"
if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/pip" freeze | grep -qx "$(grep '^alpha101v' "$here/wq101-requirements.txt")" \
    || ! "$venv/bin/pip" freeze | grep -qx "$(grep '^pandas' "$here/wq101-requirements.txt")"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r "$here/wq101-requirements.txt"
fi
work="$(mktemp -d /tmp/factorlab-wq101.XXXXXX)"
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" "$here/wq101_check.py" --factorlab "$factorlab" --data "$data" --work "$work" \
  --claimed "$here/wq101-claimed.txt" --require-all
