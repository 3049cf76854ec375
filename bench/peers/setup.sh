#!/usr/bin/env bash
# Creates (or reuses) the peers' venv and prints its path: Qlib, alphalens and Polars at the versions pinned in
# requirements.txt. Cached under ~/.cache/factorlab by the hash of that file and the Python version.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${PYTHON:-python3}"
key="$( (cat "$here/requirements.txt"; "$python" --version) | sha256sum | cut -c1-12)"
venv="${FACTOR_PEERS_VENV:-$HOME/.cache/factorlab/peers-venv-$key}"
if [[ ! -f "$venv/.complete" ]] || ! "$venv/bin/python" -c "import qlib, alphalens, polars" 2>/dev/null; then
  rm -rf "$venv"
  "$python" -m venv "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt" >&2
  touch "$venv/.complete"
fi
echo "$venv"
