"""The group operators and CSNeutralize recomputed with pandas from the same run's base columns, on the real data.

Usage: group_check.py FEATURES.csv INDUSTRY.csv

FEATURES.csv is `factorlab features` output with columns R (a factor), LV (a size proxy) and the operators applied to
them: GR = GroupRank(R, $industry), GZ = GroupZScore(R, $industry), GD = GroupDemean(R, $sector),
GN = GroupNeutralize(R, $industry), CN = CSNeutralize(R, LV). Its rows are exactly the universe's members on each
date, so pandas' groupby(date, industry) over them is the definition. Every cell must agree within 1e-12 (absolute,
or relative to the value), and NaN must fall on the same cells.
"""

import sys

import numpy as np
import pandas as pd


def main():
    features, industry_path = sys.argv[1], sys.argv[2]
    frame = pd.read_csv(features)
    industry = pd.read_csv(industry_path, dtype=str)
    frame["industry"] = frame["instrument"].map(dict(zip(industry["symbol"], industry["industry_code"])))
    frame["sector"] = frame["instrument"].map(dict(zip(industry["symbol"], industry["csrc_section"])))
    valid = frame["R"].where(np.isfinite(frame["R"]))
    frame["Rv"] = valid

    by_industry = frame.groupby(["datetime", "industry"])["Rv"]
    by_sector = frame.groupby(["datetime", "sector"])["Rv"]
    expected = pd.DataFrame(index=frame.index)
    expected["GR"] = by_industry.rank(method="average", pct=True)
    mean, std, count = by_industry.transform("mean"), by_industry.transform("std"), by_industry.transform("count")
    expected["GZ"] = ((frame["Rv"] - mean) / std).where((count >= 2) & (std > 0))
    expected["GD"] = frame["Rv"] - by_sector.transform("mean")
    expected["GN"] = frame["Rv"] - mean

    def residual(day):
        x, y = day["Rv"], day["LV"].where(np.isfinite(day["LV"]))
        both = x.notna() & y.notna()
        out = pd.Series(np.nan, index=day.index)
        if both.sum() < 2:
            return out
        xc, yc = x[both] - x[both].mean(), y[both] - y[both].mean()
        syy = (yc * yc).sum()
        b = (xc * yc).sum() / syy if syy > 0 else 0.0
        out[both] = xc - b * yc
        return out

    expected["CN"] = pd.concat([residual(day) for _, day in frame.groupby("datetime")]).reindex(frame.index)

    failures = 0
    for column in ["GR", "GZ", "GD", "GN", "CN"]:
        got, want = frame[column].to_numpy(dtype=float), expected[column].to_numpy(dtype=float)
        nan_mismatch = np.isnan(got) != np.isnan(want)
        both = ~np.isnan(got) & ~np.isnan(want)
        error = np.abs(got[both] - want[both])
        bad = error > 1e-12 * np.maximum(1.0, np.abs(want[both]))
        print(f"{column}: {both.sum()} cells compared, {nan_mismatch.sum()} NaN mismatches, max error {error.max() if error.size else 0:.3g}, "
              f"{bad.sum()} outside 1e-12")
        failures += int(nan_mismatch.sum() + bad.sum())
    if failures:
        sys.exit(f"group operators: {failures} cells disagree with pandas")
    print(f"group operators agree with pandas on {len(frame)} rows")


if __name__ == "__main__":
    main()
