"""TResample recomputed with pandas from the same run's base column, on the real data.

Usage: resample_check.py FEATURES.csv COLUMN=PERIOD:AGGREGATION ...

FEATURES.csv is `factorlab features` output for whole instruments (codes, no --start/--end), with the column X (the
series resampled) and one column per TResample(X, PERIOD, AGGREGATION) named on the command line. pandas' definition:
per instrument, group its rows by calendar period (pandas Period 'D', 'W-SUN', 'M', 'Q', 'Y'), aggregate with NaN
skipped (sum with min_count=1, std/var with ddof=1, count of non-NaN), then give every row the aggregate of the period
before its own. Every cell must agree within 1e-12 (absolute, or relative to the value); NaN on the same cells.
"""

import sys

import numpy as np
import pandas as pd

PANDAS_PERIOD = {"1d": "D", "W": "W-SUN", "M": "M", "Q": "Q", "Y": "Y"}


def expected(frame, period, how):
    out = pd.Series(np.nan, index=frame.index)
    for _, rows in frame.groupby("instrument", sort=False):
        key = rows["time"].dt.to_period(PANDAS_PERIOD[period])
        grouped = rows["X"].groupby(key, sort=True)
        if how == "sum":
            per_period = grouped.sum(min_count=1)
        elif how == "first":
            per_period = grouped.first()
        elif how == "last":
            per_period = grouped.last()
        else:
            per_period = getattr(grouped, how)()
        previous = per_period.shift(1)
        out[rows.index] = key.map(previous).to_numpy(dtype=float)
    return out


def main():
    frame = pd.read_csv(sys.argv[1])
    frame["time"] = pd.to_datetime(frame["datetime"])
    failures = 0
    for spec in sys.argv[2:]:
        column, definition = spec.split("=")
        period, how = definition.split(":")
        got = frame[column].to_numpy(dtype=float)
        want = expected(frame, period, how).to_numpy(dtype=float)
        nan_mismatch = np.isnan(got) != np.isnan(want)
        both = ~np.isnan(got) & ~np.isnan(want)
        error = np.abs(got[both] - want[both])
        bad = error > 1e-12 * np.maximum(1.0, np.abs(want[both]))
        print(f"{column} = TResample(X, '{period}', '{how}'): {both.sum()} cells compared, {nan_mismatch.sum()} NaN mismatches, "
              f"max error {error.max() if error.size else 0:.3g}, {bad.sum()} outside 1e-12")
        failures += int(nan_mismatch.sum() + bad.sum())
    if failures:
        sys.exit(f"TResample: {failures} cells disagree with pandas")
    print(f"TResample agrees with pandas on {len(frame)} rows")


if __name__ == "__main__":
    main()
