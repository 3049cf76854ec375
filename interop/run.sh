#!/usr/bin/env bash
# Parquet interoperability: FactorLab's Parquet files read back by pyarrow and polars, every value compared with
# the CSV of the same run (parquet_check.py); the group operators and TResample recomputed by pandas
# (group_check.py, resample_check.py). Needs the release binary and ../shared/data; makes its own venv.
#   interop/run.sh [path/to/factorlab]        PARQUET_VENV (default ~/.cache/factorlab/parquet-venv)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
factorlab="$(realpath "${1:-$here/../.build/release/factorlab}")"  # resolved from the caller's directory
cd "$here"
data=../../shared/data
if [[ ! -d $data/cn_csi300_daily ]]; then
  echo "interop: skipped: ../shared/data is absent (CI has it)"
  exit 0
fi
venv="${PARQUET_VENV:-$HOME/.cache/factorlab/parquet-venv}"
if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c 'import pyarrow, polars, numpy, pandas' 2>/dev/null \
    || ! "$venv/bin/pip" freeze | grep -qx "$(grep '^pyarrow' requirements.txt)"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r requirements.txt
fi
py="$venv/bin/python"
work="$(mktemp -d /tmp/factorlab-interop.XXXXXX)"
trap 'rm -rf "$work"' EXIT

run() {  # factorlab with its messages kept, shown when it fails
  "$factorlab" "$@" >"$work/stdout" 2>"$work/stderr" || { cat "$work/stderr" >&2; echo "interop: factorlab $1 failed" >&2; exit 1; }
}

check() {  # name, expected row groups, then features arguments
  local name=$1 groups=$2
  shift 2
  run features "$@" --out "$work/$name.csv"
  for codec in snappy none; do
    run features "$@" --out "$work/$name.$codec.parquet" --compression "$codec" ${ROWS:+--row-group-rows $ROWS}
    echo "== $name ($codec)"
    "$py" parquet_check.py "$work/$name.csv" "$work/$name.$codec.parquet" --row-groups "$groups"
  done
}

# Alpha158 and its label over csi300's members since mid-2022: 161 columns, NaN, look-back, several row groups.
ROWS=20000 check alpha158 4 --data "$data/cn_csi300_daily" --universe csi300 --start 2023-01-01 \
  --expr-file ../../shared/reference/alpha158.tsv --allow-missing-fields
# Intraday timestamps (5-minute ETF bars), infinities, an all-null column, one row group.
ROWS= check intraday 1 --data "$data/cn_etf_5min" --expr 'R=$close/Ref($close,1)-1' --expr 'INF=$close/0' \
  --expr 'NONE=If($close > 0, 0/0, 1)' --expr 'C=$close'
# One row group of 426,288 rows: four data pages per column chunk (pages hold 131,072 values).
ROWS= check pages 1 --data "$data/cn_csi300_daily" --universe csi300 --expr 'C=$close' --expr 'R=$close/Ref($close,1)-1'
# A row group per row: the smallest pages and dictionaries.
ROWS=1 check tiny 8 --data "$data/cn_csi300_daily" --universe SH600000,SZ000001 --start 2018-01-02 --end 2018-01-05 \
  --expr 'C=$close' --expr 'V=$volume'
# The per-date series of an evaluation and the stored results, each written both ways.
evaluate=(evaluate --data "$data/cn_csi300_daily" --universe csi300 --start 2022-01-01 --horizons 1,5 --decay-lags 0
          --expr 'MOM5=Ref($close,5)/$close-1' --expr 'REV1=$close/Ref($close,1)-1' --expr 'FLAT=1')
run "${evaluate[@]}" --series "$work/series.csv" --save --db "$work/store.db" --run-id interop
run "${evaluate[@]}" --series "$work/series.parquet"
echo "== evaluate --series"
"$py" parquet_check.py "$work/series.csv" "$work/series.parquet" --row-groups 1
run export-results --db "$work/store.db" --out "$work/results.csv"
run export-results --db "$work/store.db" --format parquet --out "$work/results.parquet"
echo "== export-results"
"$py" parquet_check.py "$work/results.csv" "$work/results.parquet" --row-groups 1

# Group operators and CSNeutralize against pandas' groupby(date, industry) on csi300's members through 2021.
run features --data "$data/cn_csi300_daily" --universe csi300 --start 2021-01-01 --end 2021-12-31 \
  --expr 'R=Ref($close,5)/$close-1' --expr 'LV=Log($close*$volume)' \
  --expr 'GR=GroupRank(Ref($close,5)/$close-1, $industry)' --expr 'GZ=GroupZScore(Ref($close,5)/$close-1, $industry)' \
  --expr 'GD=GroupDemean(Ref($close,5)/$close-1, $sector)' --expr 'GN=GroupNeutralize(Ref($close,5)/$close-1, $industry)' \
  --expr 'CN=CSNeutralize(Ref($close,5)/$close-1, Log($close*$volume))' --out "$work/groups.csv"
echo "== group operators"
"$py" group_check.py "$work/groups.csv" "$data/cn_csi300_daily/meta/industry_csrc.csv"

# TResample against pandas' per-instrument groupby(period) shifted one period: daily bars by week, month, quarter and
# year (several aggregations, with suspensions), and 5-minute bars by day.
run features --data "$data/cn_csi300_daily" --universe SH600000,SZ000001,SH600519,SZ300750 --expr 'X=$close/Ref($close,1)-1' \
  --expr "WL=TResample(\$close/Ref(\$close,1)-1, 'W', 'last')" --expr "WM=TResample(\$close/Ref(\$close,1)-1, 'W', 'mean')" \
  --expr "MS=TResample(\$close/Ref(\$close,1)-1, 'M', 'std')" --expr "MF=TResample(\$close/Ref(\$close,1)-1, 'M', 'first')" \
  --expr "QS=TResample(\$close/Ref(\$close,1)-1, 'Q', 'sum')" --expr "YC=TResample(\$close/Ref(\$close,1)-1, 'Y', 'count')" \
  --expr "WX=TResample(\$close/Ref(\$close,1)-1, 'W', 'max')" --expr "MV=TResample(\$close/Ref(\$close,1)-1, 'M', 'var')" \
  --out "$work/resample_daily.csv"
echo "== TResample, daily bars"
"$py" resample_check.py "$work/resample_daily.csv" WL=W:last WM=W:mean MS=M:std MF=M:first QS=Q:sum YC=Y:count WX=W:max MV=M:var
run features --data "$data/cn_etf_5min" --expr 'X=$close' --expr "DL=TResample(\$close, '1d', 'last')" \
  --expr "DM=TResample(\$close, '1d', 'min')" --out "$work/resample_5min.csv"
echo "== TResample, 5-minute bars"
"$py" resample_check.py "$work/resample_5min.csv" DL=1d:last DM=1d:min

echo "interop: Parquet read back by pyarrow and polars, equal to the CSV; group operators and TResample equal to pandas"
