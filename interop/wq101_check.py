"""FactorLab's `wq101` library (WorldQuant's 101 Formulaic Alphas) against the PyPI package alpha101v 0.1.9, cell by cell.

Usage: wq101_check.py --factorlab PATH_TO_BINARY --data ../shared/data/cn_csi300_daily --work DIR
                      [--start 2022-01-04] [--alphas 1,2,3] [--claimed FILE] [--require-all] [--translation-check]

Run it with a Python that has alpha101v==0.1.9 (MIT) and the pinned numpy/pandas/scipy of wq101-requirements.txt;
interop/wq101.sh makes that venv and runs the check as CI does (--claimed wq101-claimed.txt --require-all).

1. Builds a derived data directory WORK/data from the real data (never in the repository): every instrument CSV from
   --start on, plus a column vwap = (high + low + close) / 3 (a stated test input: the data set has no vwap);
   calendars/day.txt trimmed the same way; instruments/all.txt (SYMBOL<TAB>first<TAB>last of the rows kept); and
   meta/industry_csrc.csv ($industry = industry_code, $sector = csrc_section).
2. Runs `factorlab features --universe all --expr-file wq101` on it (columns WQ_001 … WQ_101). When the binary has
   no `wq101` library, it writes WORK/wq101.tsv from Sources/FactorExpr/Library/WorldQuant101.swift and passes that.
3. Computes every alpha with alpha101v's run_factor(name, panel, dtype=np.float64) on wide panels (calendar × the
   instruments) read from the same derived CSVs: returns = returns_from_close(close), amount = volume (so adv{d} is
   the mean share volume, as FactorLab's $adv{d} is), ind_sector = csrc_section, ind_industry = ind_subindustry =
   industry_code (the data's finest level).
4. Computes the "textbook" variant of the reference: the library's expressions evaluated with alpha101v's own
   operators (WQRank → rank, WQDecayLinear → decay_linear, …), except that the window moments ts_sum, sma (and so
   adv{d}), stddev, correlation and covariance are their definitions computed on every strict window (NaN unless all
   d values are finite), in FactorLab's order of operations (FactorCore's WindowMoments): sum = v0 + v1 + … oldest
   first; mean = sum / d; Σ(v − mean)² accumulated the same way, exactly 0 on a flat window (all values equal);
   stddev = √(Σ/d); covariance = Σ(x − mx)(y − my) / d; correlation = Sxy / √(Sxx·Syy), NaN when either side is flat
   or the result is not finite.
   Why: pandas' rolling kernels, which alpha101v uses, are one-pass online formulas. rolling sum/mean add the entering
   value and remove the leaving one with Kahan compensation; rolling var is an online Welford update (add/remove);
   rolling corr is (mean(xy) − mean(x)·mean(y))·n/(n−1) / √(var_x·var_y) and cov the same numerator. Their rounding
   depends on the whole history of the column, so a flat window gets a tiny non-zero spread, equal sums of equal
   values differ in the last bits, and near-cancellation is amplified: alpha45's "correlations" reach 4633 (far
   outside [−1, 1]). In an alpha, that noise flips near-ties in ranks and comparisons, so a correct
   implementation of the definitions disagrees with run_factor on some cells.
5. Compares the cells FactorLab outputs (an instrument from its first to its last row), ±inf read as NaN on every
   side (run_factor does that): a cell agrees when both are NaN, or both are finite and
   |a − b| ≤ 1e-9·max(1, |b|) (b the reference). Each alpha is classified:
     exact        FactorLab agrees with run_factor on every cell;
     moments      not exact, but FactorLab agrees with the textbook variant on every cell, and that explains the
                  disagreement: the textbook variant differs from run_factor on (at least) every cell where FactorLab
                  does, and the library's expression with alpha101v's unmodified operators agrees with run_factor on
                  every cell (so the transcription is not the cause). Printed: the cells differing from run_factor
                  (NaN/value, value/NaN, values) and the cells where the textbook variant differs from run_factor;
     unexplained  anything else (also a moments candidate whose cover or transcription fails): prints the first
                  disagreeing cells with FactorLab's, the textbook variant's and run_factor's values;
     missing      the column is not in FactorLab's output.
   Then a summary table (alpha, class, cells differing from run_factor, from the textbook variant, textbook variant
   vs run_factor, largest differences) and `exact N, moments N, unexplained N: …`.

--claimed FILE lists alpha numbers (one a line, `#` comments) that must each be `exact` or `moments`: exit 1 naming any
that is not (or is not in the library). --require-all exits 1 when any alpha of the library that was run is
`unexplained` or `missing`. Without either the script only reports. Without --factorlab it builds the data and runs
the reference and textbook sides only (timing both, and counting per alpha the cells where the textbook variant
differs from run_factor). --translation-check also evaluates every expression of the library with alpha101v's
unmodified operators and compares it with run_factor on all cells, which checks the transcription independently of
FactorLab's operators; any difference there exits 1.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

REPO = Path(__file__).resolve().parent.parent
LIBRARY = REPO / "Sources" / "FactorExpr" / "Library" / "WorldQuant101.swift"
MARKER = ".wq101_check"
FIELDS = ["open", "high", "low", "close", "volume", "vwap"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--factorlab", help="the factorlab binary (omit to run the reference side only)")
    parser.add_argument("--data", required=True, help="the real data directory, e.g. ../shared/data/cn_csi300_daily")
    parser.add_argument("--work", required=True, help="work directory (outside the repository)")
    parser.add_argument("--start", default="2022-01-04", help="first date kept (default 2022-01-04)")
    parser.add_argument("--alphas", help="comma-separated alpha numbers (default: every alpha of the library)")
    parser.add_argument("--claimed", help="file of alpha numbers that must each be exact or moments")
    parser.add_argument("--require-all", action="store_true",
                        help="exit 1 when any alpha of the library is unexplained (or missing from FactorLab's output)")
    parser.add_argument("--translation-check", action="store_true",
                        help="also evaluate the library's expressions with alpha101v's operators")
    return parser.parse_args()


def library_alphas():
    """(number, expression) from WorldQuant101.swift's `alphas` list."""
    text = LIBRARY.read_text()
    body = text.split("public static let alphas", 1)[1].split("public static let omitted", 1)[0]
    found = [(int(n), e) for n, e in re.findall(r'\(\s*(\d+)\s*,\s*"([^"]*)"\s*\)', body)]
    if not found:
        sys.exit(f"wq101_check: no alphas found in {LIBRARY}")
    return found


def column(number):
    return f"WQ_{number:03d}"


def read_claimed(path):
    claimed = set()
    for line in Path(path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            claimed.add(int(line))
    return claimed


# ----------------------------------------------------------------------------------------------------------------
# 1. The derived data directory
# ----------------------------------------------------------------------------------------------------------------

def build_data(source, target, start):
    """Writes the trimmed CSVs with vwap, the calendar, instruments/all.txt and the industry file into `target`."""
    if target.exists():
        if not (target / MARKER).exists():
            sys.exit(f"wq101_check: {target} exists and was not written by this script; choose another --work")
        shutil.rmtree(target)
    (target / "calendars").mkdir(parents=True)
    (target / "instruments").mkdir()
    (target / "meta").mkdir()
    (target / MARKER).write_text("written by interop/wq101_check.py\n")

    calendar = [d for d in (source / "calendars" / "day.txt").read_text().split() if d >= start]
    (target / "calendars" / "day.txt").write_text("".join(d + "\n" for d in calendar))

    spans = []
    for path in sorted(source.glob("*.csv")):
        lines = path.read_text().splitlines()
        header = lines[0].split(",")
        k = {name: header.index(name) for name in ["date", "high", "low", "close"]}
        kept = []
        for line in lines[1:]:
            cells = line.split(",")
            if cells[k["date"]] < start:
                continue
            vwap = (float(cells[k["high"]]) + float(cells[k["low"]]) + float(cells[k["close"]])) / 3
            kept.append(line + "," + repr(vwap))
        if not kept:
            continue
        (target / path.name).write_text(lines[0] + ",vwap\n" + "".join(line + "\n" for line in kept))
        symbol = path.name.split("_")[0].upper()
        spans.append((symbol, kept[0].split(",")[k["date"]], kept[-1].split(",")[k["date"]]))
    (target / "instruments" / "all.txt").write_text("".join(f"{s}\t{a}\t{b}\n" for s, a, b in spans))
    shutil.copy(source / "meta" / "industry_csrc.csv", target / "meta" / "industry_csrc.csv")
    return calendar, spans


# ----------------------------------------------------------------------------------------------------------------
# 2. FactorLab
# ----------------------------------------------------------------------------------------------------------------

def run_factorlab(binary, data, work, alphas):
    out = work / "wq101.csv"
    base = [binary, "features", "--data", str(data), "--universe", "all", "--out", str(out),
            "--cache-dir", str(work / "cache")]
    began = time.perf_counter()
    run = subprocess.run(base + ["--expr-file", "wq101"], capture_output=True, text=True)
    if run.returncode != 0:
        print(f"factorlab has no usable wq101 library ({run.stderr.strip().splitlines()[-1] if run.stderr.strip() else 'exit ' + str(run.returncode)}); "
              f"passing the expressions of {LIBRARY.name} as a TSV")
        tsv = work / "wq101.tsv"
        tsv.write_text("name\texpression\n" + "".join(f"{column(n)}\t{e}\n" for n, e in alphas))
        began = time.perf_counter()
        run = subprocess.run(base + ["--expr-file", str(tsv)], capture_output=True, text=True)
        if run.returncode != 0:
            sys.stderr.write(run.stdout + run.stderr)
            sys.exit(f"wq101_check: factorlab features failed (exit {run.returncode})")
    seconds = time.perf_counter() - began
    for line in run.stderr.strip().splitlines()[-3:]:
        print(f"  factorlab: {line}")
    print(f"factorlab features: {seconds:.1f} s")
    return out


def read_factorlab(path, calendar, instruments):
    frame = pd.read_csv(path, float_precision="round_trip", dtype={"instrument": str, "datetime": str})
    date_index = {d: i for i, d in enumerate(calendar)}
    instrument_index = {s: j for j, s in enumerate(instruments)}
    rows = frame["datetime"].str.slice(0, 10).map(date_index)
    cols = frame["instrument"].map(instrument_index)
    if rows.isna().any() or cols.isna().any():
        bad = frame[rows.isna() | cols.isna()].iloc[0]
        sys.exit(f"wq101_check: factorlab row {bad['instrument']} {bad['datetime']} is not on the derived calendar/instruments")
    return frame, rows.to_numpy(dtype=np.int64), cols.to_numpy(dtype=np.int64)


# ----------------------------------------------------------------------------------------------------------------
# 3. alpha101v
# ----------------------------------------------------------------------------------------------------------------

def reference_panel(data, calendar, spans):
    from alpha101v.panel import returns_from_close

    index = pd.DatetimeIndex(pd.to_datetime(calendar))
    symbols = [s for s, _, _ in spans]
    columns = {name: {} for name in FIELDS}
    for path in sorted(data.glob("*.csv")):
        frame = pd.read_csv(path, float_precision="round_trip", dtype={"date": str})
        frame.index = pd.DatetimeIndex(pd.to_datetime(frame["date"]))
        symbol = path.name.split("_")[0].upper()
        for name in FIELDS:
            columns[name][symbol] = frame[name].astype(np.float64)
    wide = {name: pd.DataFrame(columns[name], index=index, columns=symbols, dtype=np.float64) for name in FIELDS}
    industry = pd.read_csv(data / "meta" / "industry_csrc.csv", dtype=str).set_index("symbol")
    industry.index = industry.index.str.upper()
    missing = [s for s in symbols if s not in industry.index]
    if missing:
        sys.exit(f"wq101_check: no industry for {missing[:5]}")
    panel = {
        "close": wide["close"], "Open": wide["open"], "high": wide["high"], "low": wide["low"],
        "volume": wide["volume"], "vwap": wide["vwap"],
        "returns": returns_from_close(wide["close"]),
        "amount": wide["volume"].copy(),  # adv{d} = sma(amount, d) = mean share volume, as FactorLab's $adv{d}
        "ind_sector": industry["csrc_section"].reindex(symbols),
        "ind_industry": industry["industry_code"].reindex(symbols),
        "ind_subindustry": industry["industry_code"].reindex(symbols),
    }
    return panel


def run_reference(panel, numbers):
    from alpha101v import run_factor

    results, seconds = {}, {}
    for n in numbers:
        began = time.perf_counter()
        results[n] = run_factor(f"alpha{n}", panel, dtype=np.float64).to_numpy(dtype=np.float64)
        seconds[n] = time.perf_counter() - began
    return results, seconds


# ----------------------------------------------------------------------------------------------------------------
# 4. The library's expressions, parsed and evaluated with given operators
# ----------------------------------------------------------------------------------------------------------------

TOKEN = re.compile(r"\s*(?:(\d+\.\d*(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?|\.\d+)|\$([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*)|(.))")


def tokenize(text):
    tokens = []
    for number, field, name, symbol in TOKEN.findall(text):
        if number:
            tokens.append(("num", float(number)))
        elif field:
            tokens.append(("field", field))
        elif name:
            tokens.append(("name", name))
        elif symbol.strip():
            tokens.append(("sym", symbol))
    tokens.append(("end", None))
    return tokens


def parse_expression(text):
    """FactorLab's syntax as the library uses it: + - * / (left-associative), unary minus, calls, fields, numbers."""
    tokens, position = tokenize(text), [0]

    def peek():
        return tokens[position[0]]

    def take():
        token = tokens[position[0]]
        position[0] += 1
        return token

    def additive():
        node = multiplicative()
        while peek() in (("sym", "+"), ("sym", "-")):
            node = (take()[1], node, multiplicative())
        return node

    def multiplicative():
        node = unary()
        while peek() in (("sym", "*"), ("sym", "/")):
            node = (take()[1], node, unary())
        return node

    def unary():
        if peek() == ("sym", "-"):
            take()
            operand = unary()
            return ("num", -operand[1]) if operand[0] == "num" else ("neg", operand)
        return primary()

    def primary():
        kind, value = take()
        if kind in ("num", "field"):
            return (kind, value)
        if kind == "name":
            assert take() == ("sym", "("), text
            arguments = [additive()]
            while peek() == ("sym", ","):
                take()
                arguments.append(additive())
            assert take() == ("sym", ")"), text
            return ("call", value, arguments)
        assert (kind, value) == ("sym", "("), f"{text}: unexpected {value}"
        node = additive()
        assert take() == ("sym", ")"), text
        return node

    tree = additive()
    assert peek()[0] == "end", f"{text}: trailing tokens"
    return tree


def reference_operators():
    import alpha101v.factors as f
    from alpha101v import operators as op
    from alpha101v.elemwise import abs_, log, maximum, minimum, sign, signedpower
    from alpha101v.neutralize import ind_neutralize

    return {
        "Ref": op.delay, "Delta": op.delta, "Abs": abs_, "Sign": sign,
        "WQRank": op.rank, "WQScale": op.scale, "WQTsRank": op.ts_rank, "WQSum": op.ts_sum, "WQMean": op.sma,
        "WQProduct": op.product, "WQStdDev": op.stddev, "WQCorrelation": op.correlation,
        "WQCovariance": op.covariance, "WQTsMin": op.ts_min, "WQTsMax": op.ts_max, "WQTsArgMax": op.ts_argmax,
        "WQTsArgMin": op.ts_argmin, "WQDecayLinear": op.decay_linear, "WQMin": minimum, "WQMax": maximum,
        "WQLt": f._lt, "WQGt": f._gt, "WQEq": f._eq, "WQIf": f._if, "WQOr": f._or, "WQPower": f._pow,
        "WQLog": log, "WQSignedPower": signedpower, "IndNeutralize": ind_neutralize,
    }


def evaluate(tree, panel, operators, adv):
    """The expression tree on the wide panel: `operators` maps FactorLab's operator names to functions, `adv(frame, d)`
    computes $adv{d} from the amount panel."""
    kind = tree[0]
    if kind == "num":
        return tree[1]
    if kind == "field":
        name = tree[1]
        if name.startswith("adv"):
            return adv(panel["amount"], int(name[3:]))
        labels = {"industry": "ind_industry", "sector": "ind_sector", "open": "Open"}
        return panel[labels.get(name, name)]
    if kind == "neg":
        return -evaluate(tree[1], panel, operators, adv)
    if kind == "call":
        arguments = [evaluate(a, panel, operators, adv) for a in tree[2]]
        return operators[tree[1]](*arguments)
    left, right = evaluate(tree[1], panel, operators, adv), evaluate(tree[2], panel, operators, adv)
    return {"+": lambda: left + right, "-": lambda: left - right,
            "*": lambda: left * right, "/": lambda: left / right}[kind]()


def finite_or_nan(values):
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(values), values, np.nan)


def evaluate_library(alphas, panel, operators, adv):
    """{number: the expression's values as a calendar × instruments array, ±inf → NaN}, {number: seconds}."""
    results, seconds = {}, {}
    like = panel["close"]
    for n, expression in alphas:
        began = time.perf_counter()
        with np.errstate(all="ignore"):
            value = evaluate(parse_expression(expression), panel, operators, adv)
        value = value.to_numpy(dtype=np.float64) if hasattr(value, "to_numpy") else np.full(like.shape, value, np.float64)
        results[n] = finite_or_nan(value)
        seconds[n] = time.perf_counter() - began
    return results, seconds


def plain_evaluation(alphas, panel):
    """The library's expressions with alpha101v's unmodified operators."""
    from alpha101v.operators import sma

    return evaluate_library(alphas, panel, reference_operators(), sma)


def translation_check(alphas, panel, reference, plain):
    """Largest difference between each expression evaluated with alpha101v's operators and run_factor, all cells."""
    failures = []
    print("\ntranslation check (the library's expressions with alpha101v's operators vs run_factor, all cells):")
    for n, _ in alphas:
        ours, theirs = plain[n], finite_or_nan(reference[n])
        nan_mismatch = int((np.isnan(ours) != np.isnan(theirs)).sum())
        both = ~np.isnan(ours) & ~np.isnan(theirs)
        diff = float(np.abs(ours[both] - theirs[both]).max()) if both.any() else 0.0
        if nan_mismatch or diff > 0:
            failures.append(n)
        print(f"  {column(n)}: {int(both.sum())} values, {nan_mismatch} NaN mismatches, max |diff| {diff:.3g}")
    return failures


# ----------------------------------------------------------------------------------------------------------------
# The textbook variant: alpha101v's operators with the window moments computed from their definitions
# ----------------------------------------------------------------------------------------------------------------
# Exactly FactorCore's WindowMoments, vectorised over the cells: the same IEEE operations in the same order (a
# sequential oldest-first loop over the window, never np.sum/np.mean, which sum pairwise), so the results are
# bit-identical to FactorLab's for the same inputs.

def _days(d):
    from alpha101v.operators import _floor_days

    return _floor_days(d, name="window", minimum=1)


def _array(frame):
    return np.asarray(frame.to_numpy(dtype=np.float64) if hasattr(frame, "to_numpy") else frame, dtype=np.float64)


def _windows(values, d):
    """The (T−d+1, N, d) oldest-first window views, and which windows hold d finite values (strict windows)."""
    finite = np.isfinite(values)
    count = np.concatenate([np.zeros((1, values.shape[1]), np.int64), np.cumsum(finite, axis=0, dtype=np.int64)])
    return sliding_window_view(values, d, axis=0), (count[d:] - count[:-d]) == d


def _window_sum(v, d):
    s = v[..., 0].copy()
    for k in range(1, d):
        s = s + v[..., k]
    return s


def _squared_deviations(v, d, mean):
    """Σ (v − mean)² left to right, exactly 0 where every value of the window equals the first."""
    q = (v[..., 0] - mean) * (v[..., 0] - mean)
    flat = np.ones(mean.shape, dtype=bool)
    for k in range(1, d):
        flat &= v[..., k] == v[..., 0]
        q = q + (v[..., k] - mean) * (v[..., k] - mean)
    q[flat] = 0.0
    return q


def _frame(like, d, full, window_values):
    """A panel shaped like `like`: NaN on the first d−1 rows and on non-strict windows."""
    out = np.full(like.shape, np.nan)
    if window_values is not None:
        out[d - 1:] = np.where(full, window_values, np.nan)
    return pd.DataFrame(out, index=like.index, columns=like.columns)


def textbook_moment(statistic, frame, d):
    d = _days(d)
    values = _array(frame)
    if d > values.shape[0]:
        return _frame(frame, d, None, None)
    v, full = _windows(values, d)
    with np.errstate(all="ignore"):
        s = _window_sum(v, d)
        if statistic == "sum":
            result = s
        elif statistic == "mean":
            result = s / d
        else:
            result = np.sqrt(_squared_deviations(v, d, s / d) / d)
    return _frame(frame, d, full, result)


def textbook_pair(statistic, x, y, d):
    d = _days(d)
    xs, ys = _array(x), _array(y)
    if xs.shape != ys.shape:
        raise ValueError(f"{statistic}: panels of shapes {xs.shape} and {ys.shape}")
    if d > xs.shape[0]:
        return _frame(x, d, None, None)
    vx, full_x = _windows(xs, d)
    vy, full_y = _windows(ys, d)
    with np.errstate(all="ignore"):
        mx, my = _window_sum(vx, d) / d, _window_sum(vy, d) / d
        sxy = (vx[..., 0] - mx) * (vy[..., 0] - my)
        for k in range(1, d):
            sxy = sxy + (vx[..., k] - mx) * (vy[..., k] - my)
        if statistic == "covariance":
            result = sxy / d
        else:
            sxx, syy = _squared_deviations(vx, d, mx), _squared_deviations(vy, d, my)
            r = sxy / np.sqrt(sxx * syy)
            result = np.where((sxx == 0) | (syy == 0) | ~np.isfinite(r), np.nan, r)
    return _frame(x, d, full_x & full_y, result)


def textbook_operators():
    operators = reference_operators()
    operators.update({
        "WQSum": lambda x, d: textbook_moment("sum", x, d),
        "WQMean": lambda x, d: textbook_moment("mean", x, d),
        "WQStdDev": lambda x, d: textbook_moment("standardDeviation", x, d),
        "WQCorrelation": lambda x, y, d: textbook_pair("correlation", x, y, d),
        "WQCovariance": lambda x, y, d: textbook_pair("covariance", x, y, d),
    })
    return operators


def textbook_evaluation(alphas, panel):
    return evaluate_library(alphas, panel, textbook_operators(), lambda x, d: textbook_moment("mean", x, d))


# ----------------------------------------------------------------------------------------------------------------
# 5. Comparison
# ----------------------------------------------------------------------------------------------------------------

def compare(ours, theirs):
    """Counts over aligned 1-D arrays (±inf already NaN) and the indices of the disagreeing cells."""
    ours_nan, theirs_nan = np.isnan(ours), np.isnan(theirs)
    both = ~ours_nan & ~theirs_nan
    diff = np.zeros_like(ours)
    diff[both] = np.abs(ours[both] - theirs[both])
    off = both & (diff > 1e-9 * np.maximum(1.0, np.abs(np.where(both, theirs, 0.0))))
    bad = (ours_nan & ~theirs_nan) | (~ours_nan & theirs_nan) | off
    return {
        "cells": ours.size, "agree": int(ours.size - bad.sum()), "differ": int(bad.sum()),
        "nan_value": int((ours_nan & ~theirs_nan).sum()), "value_nan": int((~ours_nan & theirs_nan).sum()),
        "mismatch": int(off.sum()), "max_diff": float(diff.max()) if both.any() else 0.0,
        "bad": np.flatnonzero(bad),
    }


def counts(r):
    return f"{r['differ']} cells ({r['nan_value']} NaN/value, {r['value_nan']} value/NaN, {r['mismatch']} values)"


def classify(ours, reference, textbook, plain):
    """(class, details) for one alpha's FactorLab cells; `plain` is a callable giving the plain evaluation's cells."""
    vs_reference = compare(ours, reference)
    vs_textbook = compare(ours, textbook)
    textbook_reference = compare(textbook, reference)
    details = {"reference": vs_reference, "textbook": vs_textbook, "textbook_reference": textbook_reference,
               "uncovered": np.empty(0, np.int64), "plain": None}
    if vs_reference["differ"] == 0:
        return "exact", details
    if vs_textbook["differ"] != 0:
        return "unexplained", details
    details["uncovered"] = np.setdiff1d(vs_reference["bad"], textbook_reference["bad"], assume_unique=True)
    details["plain"] = compare(plain(), reference)
    if details["uncovered"].size or details["plain"]["differ"]:
        return "unexplained", details
    return "moments", details


def main():
    args = parse_args()
    source, work = Path(args.data).resolve(), Path(args.work).resolve()
    if work == REPO or REPO in work.parents:
        sys.exit(f"wq101_check: --work {work} is inside the repository; choose a directory outside it")
    work.mkdir(parents=True, exist_ok=True)
    data = work / "data"
    began = time.perf_counter()

    alphas = library_alphas()
    library = {n for n, _ in alphas}
    if args.alphas:
        wanted = {int(a) for a in args.alphas.split(",")}
        alphas = [(n, e) for n, e in alphas if n in wanted]
        omitted = sorted(wanted - {n for n, _ in alphas})
        if omitted:
            print(f"not in the library: {', '.join(map(str, omitted))}")
    numbers = [n for n, _ in alphas]
    claimed = read_claimed(args.claimed) if args.claimed else set()

    calendar, spans = build_data(source, data, args.start)
    instruments = [s for s, _, _ in spans]
    print(f"derived data: {len(instruments)} instruments × {len(calendar)} days ({calendar[0]} … {calendar[-1]}), "
          f"vwap = (high + low + close) / 3, in {data}")

    def slowest(seconds):
        return ", ".join(f"{column(n)} {seconds[n]:.2f} s" for n in sorted(seconds, key=seconds.get, reverse=True)[:5])

    panel = reference_panel(data, calendar, spans)
    reference, seconds = run_reference(panel, numbers)
    reference = {n: finite_or_nan(values) for n, values in reference.items()}
    print(f"alpha101v run_factor: {len(numbers)} alphas in {sum(seconds.values()):.1f} s (slowest: {slowest(seconds)})")
    textbook, textbook_seconds = textbook_evaluation(alphas, panel)
    print(f"textbook variant: {len(numbers)} alphas in {sum(textbook_seconds.values()):.1f} s "
          f"(slowest: {slowest(textbook_seconds)})")

    plain, failures = {}, []
    if args.translation_check:
        plain, plain_seconds = plain_evaluation(alphas, panel)
        print(f"alpha101v operators on the library's expressions: {sum(plain_seconds.values()):.1f} s")
        failures += translation_check(alphas, panel, reference, plain)

    if not args.factorlab:
        # The cells FactorLab would output: every instrument from its first to its last row.
        position = {d: i for i, d in enumerate(calendar)}
        rows = np.concatenate([np.arange(position[a], position[b] + 1) for _, a, b in spans])
        cols = np.concatenate([np.full(position[b] - position[a] + 1, j) for j, (_, a, b) in enumerate(spans)])
        print(f"\nno --factorlab: the textbook variant vs run_factor on the {rows.size} listed cells per alpha")
        print(f"{'alpha':7} {'differ':>8} {'NaN/val':>8} {'val/NaN':>8} {'mismatch':>8} {'max|diff|':>10} {'ref s':>6} {'tb s':>6}")
        differing = []
        for n in numbers:
            r = compare(textbook[n][rows, cols], reference[n][rows, cols])
            if r["differ"]:
                differing.append(n)
            print(f"{column(n):7} {r['differ']:8} {r['nan_value']:8} {r['value_nan']:8} {r['mismatch']:8} "
                  f"{r['max_diff']:10.3g} {seconds[n]:6.2f} {textbook_seconds[n]:6.2f}")
        print(f"\nthe textbook variant equals run_factor on every cell for {len(numbers) - len(differing)} of "
              f"{len(numbers)} alphas; differs for {len(differing)}: {', '.join(map(str, differing))}")
        print(f"no --factorlab: reference sides only; total {time.perf_counter() - began:.1f} s")
        if failures:
            sys.exit(f"translation check: {', '.join(column(n) for n in failures)} differ from run_factor")
        return

    out = run_factorlab(args.factorlab, data, work, alphas)
    frame, rows, cols = read_factorlab(out, calendar, instruments)

    def cell(k):
        return f"{frame['instrument'].iat[k]} {frame['datetime'].iat[k][:10]}"

    plain_cache = {}

    def plain_cells(n, expression):
        def compute():
            if n not in plain:
                plain_cache.update(plain_evaluation([(n, expression)], panel)[0])
            return (plain[n] if n in plain else plain_cache[n])[rows, cols]
        return compute

    print(f"\n{len(frame)} FactorLab cells per alpha; agreement: both NaN, or |ours - theirs| <= 1e-9*max(1, |theirs|)")
    classes, details = {}, {}
    for n, expression in alphas:
        name = column(n)
        if name not in frame.columns:
            classes[n] = "missing"
            print(f"{name}  missing: not in FactorLab's output")
            continue
        ours = finite_or_nan(frame[name].to_numpy(dtype=np.float64))
        theirs, book = reference[n][rows, cols], textbook[n][rows, cols]
        classes[n], d = classify(ours, theirs, book, plain_cells(n, expression))
        details[n] = d
        if classes[n] == "exact":
            continue
        vs_ref, vs_book, book_ref = d["reference"], d["textbook"], d["textbook_reference"]
        print(f"{name}  {classes[n]}: differs from run_factor on {counts(vs_ref)}, max |diff| {vs_ref['max_diff']:.3g}")
        print(f"         the textbook variant differs from run_factor on {counts(book_ref)}")
        if vs_book["differ"] == 0:
            print(f"         FactorLab agrees with the textbook variant on every cell (max |diff| {vs_book['max_diff']:.3g})"
                  + (f", whose disagreement with run_factor covers all {vs_ref['differ']} of FactorLab's"
                     if not d["uncovered"].size
                     else f"; but on {d['uncovered'].size} of FactorLab's disagreeing cells the textbook variant agrees "
                          f"with run_factor (tolerance), e.g. {cell(d['uncovered'][0])}"))
            if d["plain"]["differ"]:
                print(f"         but the expression with alpha101v's own operators differs from run_factor on "
                      f"{counts(d['plain'])}, e.g. {cell(d['plain']['bad'][0])} (transcription?)")
            else:
                print("         and the expression with alpha101v's own operators equals run_factor on every cell")
            continue
        print(f"         differs from the textbook variant on {counts(vs_book)}, max |diff| {vs_book['max_diff']:.3g}")
        for k in vs_book["bad"][:3]:
            print(f"         {cell(k)}: ours {ours[k]!r}, textbook {book[k]!r}, run_factor {theirs[k]!r}")

    print(f"\n{'alpha':7} {'class':11} {'≠ref':>8} {'≠textbook':>9} {'tb≠ref':>8} {'max|Δref|':>10} {'max|Δtb|':>10}")
    for n in numbers:
        if classes[n] == "missing":
            print(f"{column(n):7} {'missing':11}")
            continue
        d = details[n]
        print(f"{column(n):7} {classes[n]:11} {d['reference']['differ']:8} {d['textbook']['differ']:9} "
              f"{d['textbook_reference']['differ']:8} {d['reference']['max_diff']:10.3g} {d['textbook']['max_diff']:10.3g}")
    by_class = {c: [n for n in numbers if classes[n] == c] for c in ("exact", "moments", "unexplained", "missing")}
    print(f"\nexact {len(by_class['exact'])}, moments {len(by_class['moments'])}, "
          f"unexplained {len(by_class['unexplained'])}"
          + (f": {', '.join(map(str, by_class['unexplained']))}" if by_class["unexplained"] else "")
          + (f"; missing from FactorLab's output {len(by_class['missing'])}: {', '.join(map(str, by_class['missing']))}"
             if by_class["missing"] else ""))
    print(f"alpha101v {sum(seconds.values()):.1f} s, textbook variant {sum(textbook_seconds.values()):.1f} s; "
          f"whole check {time.perf_counter() - began:.1f} s")

    problems = []
    skipped = sorted(n for n in claimed if n in library and n not in numbers)
    if skipped:
        print(f"claimed but not run (--alphas): {', '.join(map(str, skipped))}")
    absent = sorted(n for n in claimed if n not in library)
    unmet = sorted(n for n in claimed if n in numbers and classes[n] not in ("exact", "moments"))
    if unmet:
        problems.append(f"claimed alphas neither exact nor moments: {', '.join(f'{n} ({classes[n]})' for n in unmet)}")
    if absent:
        problems.append(f"claimed alphas not in the library: {', '.join(map(str, absent))}")
    if args.require_all:
        if len(numbers) < len(library):
            print(f"--require-all: {len(library) - len(numbers)} alphas of the library not run (--alphas)")
        failing = by_class["unexplained"] + by_class["missing"]
        if failing:
            problems.append(f"--require-all: unexplained or missing alphas: {', '.join(map(str, sorted(failing)))}")
    if failures:
        problems.append(f"translation check: {', '.join(column(n) for n in failures)} differ from run_factor")
    if problems:
        sys.exit("wq101_check: " + "; ".join(problems))


if __name__ == "__main__":
    main()
