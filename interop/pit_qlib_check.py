"""Point-in-time fundamentals: FactorLab against Qlib 0.9.7 itself, on the hand-made fixture (Tests/Fixtures/pit).

Usage: pit_qlib_check.py --factorlab PATH [--work DIR]   (run with the peers' venv python: it imports qlib)

Writes the fixture as a Qlib data directory — calendar, instruments, features/<code>/close.day.bin, and
financial/<code>/<field>.data + .index in Qlib's PIT layout (20-byte records date/period/value/_next, revisions
chained, the index holding each period's first record from the first year's first quarter) — then computes the same
expressions with Qlib's `D.features` and with `factorlab features` on that directory and on the fixture's CSV layout.
Qlib keeps P's values as float32: FactorLab's float64 values must round to exactly Qlib's float32 (NaN on the same
cells), and FactorLab's two layouts must agree to the last bit.
"""

import argparse
import csv
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "Tests", "Fixtures", "pit")
EXPRESSIONS = {
    "ROE": "P($$roe_q)",
    "ROE_PREV": "P(Ref($$roe_q, 1))",
    "ROE_MEAN2": "P(Mean($$roe_q, 2))",
    "ROE_MEAN3": "P(Mean($$roe_q, 3))",
    "ROE_CHANGE": "P($$roe_q - Ref($$roe_q, 1))",
    "ROE_2018Q4": "PRef($$roe_q, 201804)",
    "ROE_2019Q1": "PRef($$roe_q, 201901)",
    "EPS": "P($$eps_a)",
    "EPS_2018": "PRef($$eps_a, 2018)",
}
NAN_INDEX = 0xFFFFFFFF


def write_qlib_directory(root):
    bars = {}
    for name in sorted(os.listdir(FIXTURE)):
        if name.endswith("_daily.csv"):
            bars[name.split("_")[0]] = pd.read_csv(os.path.join(FIXTURE, name))
    dates = sorted(set(d for frame in bars.values() for d in frame["date"]))
    os.makedirs(os.path.join(root, "calendars"))
    with open(os.path.join(root, "calendars", "day.txt"), "w") as f:
        f.write("\n".join(dates) + "\n")
    os.makedirs(os.path.join(root, "instruments"))
    with open(os.path.join(root, "instruments", "all.txt"), "w") as f:
        for code, frame in bars.items():
            f.write(f"{code}\t{frame['date'].iloc[0]}\t{frame['date'].iloc[-1]}\n")
    for code, frame in bars.items():
        folder = os.path.join(root, "features", code.lower())
        os.makedirs(folder)
        start = dates.index(frame["date"].iloc[0])
        np.hstack([[start], frame["close"].to_numpy()]).astype("<f4").tofile(os.path.join(folder, "close.day.bin"))

    reports = {}
    with open(os.path.join(FIXTURE, "financial", "reports.csv")) as f:
        for order, row in enumerate(csv.DictReader(f)):
            period = row["period"].upper()
            if "Q" in period:
                period = period[:4] + "0" + period[-1]
            date = int(row["announce_date"].replace("-", ""))
            reports.setdefault((row["code"].lower(), row["field"]), []).append((date, order, int(period), float(row["value"])))
    for (code, field), rows in reports.items():
        rows.sort()
        quarterly = field.endswith("_q")
        folder = os.path.join(root, "financial", code)
        os.makedirs(folder, exist_ok=True)
        size = struct.calcsize("<IIdI")
        nexts = [NAN_INDEX] * len(rows)
        first_of = {}
        for k, (_, _, period, _) in enumerate(rows):
            later = [j for j in range(k + 1, len(rows)) if rows[j][2] == period]
            nexts[k] = later[0] * size if later else NAN_INDEX
            first_of.setdefault(period, k * size)
        with open(os.path.join(folder, field + ".data"), "wb") as f:
            for k, (date, _, period, value) in enumerate(rows):
                f.write(struct.pack("<IIdI", date, period, value, nexts[k]))
        periods = [p for _, _, p, _ in rows]
        first_year = min(p // 100 if quarterly else p for p in periods)
        last = max(periods)
        count = ((last // 100 - first_year) * 4 + last % 100) if quarterly else last - first_year + 1
        offsets = []
        for offset in range(count):
            period = (first_year + offset // 4) * 100 + offset % 4 + 1 if quarterly else first_year + offset
            offsets.append(first_of.get(period, NAN_INDEX))
        with open(os.path.join(folder, field + ".index"), "wb") as f:
            f.write(struct.pack("<I", first_year))
            f.write(struct.pack(f"<{len(offsets)}I", *offsets))
    return list(bars), dates


def factorlab_values(factorlab, directory, out):
    args = [factorlab, "features", "--data", directory, "--out", out, "--cache-dir", out + ".cache"]
    for name, expression in EXPRESSIONS.items():
        args += ["--expr", f"{name}={expression}"]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    frame = pd.read_csv(out)
    return frame.set_index(["instrument", "datetime"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--factorlab", required=True)
    parser.add_argument("--work")
    options = parser.parse_args()
    work = options.work or tempfile.mkdtemp(prefix="factorlab-pit-qlib-")
    root = os.path.join(work, "qlib_data")
    codes, dates = write_qlib_directory(root)

    import qlib
    from qlib.data import D

    qlib.init(provider_uri=root, region="cn", expression_cache=None, dataset_cache=None, kernels=1)
    expected = D.features(codes, list(EXPRESSIONS.values()), start_time=dates[0], end_time=dates[-1], freq="day")
    expected.columns = list(EXPRESSIONS)
    expected.index = expected.index.set_levels([expected.index.levels[0].str.upper(),
                                                expected.index.levels[1].strftime("%Y-%m-%d")])

    binary = factorlab_values(os.path.abspath(options.factorlab), root, os.path.join(work, "binary.csv"))
    text = factorlab_values(os.path.abspath(options.factorlab), os.path.abspath(FIXTURE), os.path.join(work, "csv.csv"))
    failures = 0
    for name in EXPRESSIONS:
        want = expected[name].reindex(binary.index).to_numpy(dtype=np.float32)
        got = binary[name].to_numpy(dtype=np.float64)
        got32 = got.astype(np.float32)
        nan_mismatch = np.isnan(got32) != np.isnan(want)
        both = ~np.isnan(got32) & ~np.isnan(want)
        differ = (got32[both] != want[both]).sum()
        a, b = binary[name].to_numpy(dtype=np.float64), text[name].reindex(binary.index).to_numpy(dtype=np.float64)
        layouts = ~((a == b) | (np.isnan(a) & np.isnan(b)))
        print(f"{name:11s} {EXPRESSIONS[name]:30s} {both.sum():3d} cells vs Qlib: {nan_mismatch.sum()} NaN mismatches, "
              f"{differ} differ in float32; CSV layout vs Qlib layout: {layouts.sum()} differ")
        failures += int(nan_mismatch.sum() + differ + layouts.sum())
    if failures:
        print(expected.to_string())
        print(binary.to_string())
        sys.exit(f"point-in-time: {failures} cells disagree")
    print(f"point-in-time: FactorLab equals Qlib {qlib.__version__} on {len(binary)} rows × {len(EXPRESSIONS)} expressions, both layouts")


if __name__ == "__main__":
    main()
