"""What the tools FactorLab replaces take for the same work, on this machine, in this run.

Run by `factorlab bench all` from the venv bench/peers/setup.sh makes; prints one JSON object on stdout:

- qlib_features_seconds: Qlib 0.9.7 computing Alpha158 + LABEL0 for the CSI 300 (point in time) over the whole
  calendar on one core, caches off (kernels=1, expression_cache=None, dataset_cache=None), the data converted to
  Qlib's binary layout first (not timed);
- alphalens_seconds_per_factor: alphalens-reloaded preparing one factor for three horizons and computing its IC,
  quantile returns, rank autocorrelation and top/bottom turnover (what `factorlab evaluate` reports per factor),
  averaged over a few factors;
- polars_seconds_1 / polars_seconds_2: Polars computing the same expressions with one and two threads, over every
  instrument laid on the calendar as Qlib lays it; Polars has no rolling arg-max, so IdxMax/IdxMin expressions are
  left out (polars_expressions says how many were computed, polars_names which).
"""

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

FIELDS = ["open", "high", "low", "close", "volume", "factor"]


def read_bars(data: Path):
    calendar = [line.strip() for line in (data / "calendars" / "day.txt").read_text().splitlines() if line.strip()]
    index = {d: k for k, d in enumerate(calendar)}
    bars = {}
    for path in sorted(data.glob("*_daily_hfq.csv")):
        code = path.name.split("_")[0].upper()
        frame = pd.read_csv(path)
        frame = frame[frame["date"].isin(index.keys())]
        if frame.empty:
            continue
        rows = [index[d] for d in frame["date"]]
        first, last = min(rows), max(rows)
        laid = {}
        for field in FIELDS:
            values = np.full(last - first + 1, np.nan)
            if field in frame:
                values[np.array(rows) - first] = frame[field].to_numpy(dtype=float)
            laid[field] = values
        bars[code] = (first, laid)
    return calendar, bars


def dump_qlib(data: Path, calendar, bars, out: Path):
    (out / "calendars").mkdir(parents=True, exist_ok=True)
    (out / "calendars" / "day.txt").write_text("\n".join(calendar) + "\n")
    (out / "instruments").mkdir(exist_ok=True)
    for universe in (data / "instruments").glob("*.txt"):
        (out / "instruments" / universe.name).write_text(universe.read_text())
    for code, (first, laid) in bars.items():
        folder = out / "features" / code.lower()
        folder.mkdir(parents=True, exist_ok=True)
        for field, values in laid.items():
            np.concatenate([[first], values]).astype("<f4").tofile(folder / f"{field}.day.bin")


def time_qlib(qlib_dir: Path, expressions):
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    import qlib
    from qlib.data import D

    qlib.init(provider_uri=str(qlib_dir), region="cn", expression_cache=None, dataset_cache=None, kernels=1)
    instruments = D.instruments("csi300")
    started = time.perf_counter()
    frame = D.features(instruments, [e for _, e in expressions], start_time="2018-01-02", end_time="2023-12-29", freq="day")
    seconds = time.perf_counter() - started
    return seconds, frame


def time_alphalens(frame, names, bars, calendar, count: int):
    import alphalens as al

    close = pd.DataFrame({code: pd.Series(laid["close"], index=pd.to_datetime(calendar[first:first + len(laid["close"])]))
                          for code, (first, laid) in bars.items()})
    seconds = []
    for name in names[:count]:
        factor = frame[name].dropna()
        factor.index = factor.index.set_names(["asset", "date"]).swaplevel()
        factor.index = factor.index.set_levels(pd.to_datetime(factor.index.levels[0]), level=0)
        factor = factor.sort_index()
        started = time.perf_counter()
        clean = al.utils.get_clean_factor_and_forward_returns(factor, close, periods=(1, 5, 20), quantiles=5, max_loss=1.0)
        al.performance.factor_information_coefficient(clean)
        al.performance.mean_return_by_quantile(clean, by_date=True)
        for period in (1, 5, 20):
            al.performance.factor_rank_autocorrelation(clean, period=period)
            for q in (1, 5):
                al.performance.quantile_turnover(clean["factor_quantile"], q, period=period)
        seconds.append(time.perf_counter() - started)
    return sum(seconds) / len(seconds)


class Parser:
    """Qlib's expression language (as Alpha158 uses it) into Polars expressions over one instrument's rows."""

    token = re.compile(r"\s*(\$[A-Za-z_]\w*|[A-Za-z_]\w*|\d+\.?\d*(?:[eE][-+]?\d+)?|[-+*/(),<>])")

    def __init__(self, text, pl):
        self.pl = pl
        self.tokens = self.token.findall(text)
        self.k = 0

    def peek(self):
        return self.tokens[self.k] if self.k < len(self.tokens) else None

    def take(self):
        self.k += 1
        return self.tokens[self.k - 1]

    def parse(self):
        node = self.comparison()
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek()}")
        return self.expr(node)

    def expr(self, node):
        """A number literal (kept as a float for window arguments) as a Polars literal."""
        return self.pl.lit(node) if isinstance(node, float) else node

    def comparison(self):
        left = self.sum()
        while self.peek() in ("<", ">"):
            op = self.take()
            a, b = self.expr(left), self.expr(self.sum())
            left = (a < b if op == "<" else a > b).cast(self.pl.Float64)
        return left

    def sum(self):
        left = self.product()
        while self.peek() in ("+", "-"):
            op = self.take()
            a, b = self.expr(left), self.expr(self.product())
            left = a + b if op == "+" else a - b
        return left

    def product(self):
        left = self.unary()
        while self.peek() in ("*", "/"):
            op = self.take()
            a, b = self.expr(left), self.expr(self.unary())
            left = a * b if op == "*" else a / b
        return left

    def unary(self):
        if self.peek() == "-":
            self.take()
            node = self.unary()
            return -node if isinstance(node, float) else -self.expr(node)
        return self.atom()

    def atom(self):
        pl = self.pl
        t = self.take()
        if t == "(":
            node = self.comparison()
            self.take()
            return node
        if t.startswith("$"):
            return pl.col(t[1:])
        if re.match(r"\d", t):
            return float(t)
        self.take()  # (
        args = [self.comparison()]
        while self.peek() == ",":
            self.take()
            args.append(self.comparison())
        self.take()  # )
        return self.call(t, args)

    def call(self, name, raw):
        pl, over = self.pl, "instrument"
        args = [self.expr(a) for a in raw]
        if name in ("Abs",):
            return args[0].abs()
        if name == "Log":
            return args[0].log()
        if name == "Greater":
            return pl.max_horizontal(args[0], args[1])
        if name == "Less":
            return pl.min_horizontal(args[0], args[1])
        n = int(raw[1] if name in ("Quantile", "Ref", "Mean", "Sum", "Std", "Max", "Min", "Rank", "Slope", "Rsquare", "Resi") else raw[-1])
        x = args[0]
        if name == "Ref":
            return x.shift(n).over(over)
        if name == "Mean":
            return x.rolling_mean(n, min_samples=1).over(over)
        if name == "Sum":
            return x.rolling_sum(n, min_samples=1).over(over)
        if name == "Std":
            return x.rolling_std(n, min_samples=1).over(over)
        if name == "Max":
            return x.rolling_max(n, min_samples=1).over(over)
        if name == "Min":
            return x.rolling_min(n, min_samples=1).over(over)
        if name == "Quantile":
            q = raw[2]
            return x.rolling_quantile(q, "linear", n, min_samples=1).over(over)
        if name == "Rank":
            count = x.is_not_null().cast(pl.Float64).rolling_sum(n, min_samples=1)
            return (x.rolling_rank(n, method="average", min_samples=1) / count).over(over)
        if name == "Corr":
            return pl.rolling_corr(args[0], args[1], window_size=n, min_samples=1).over(over)
        if name in ("Slope", "Rsquare", "Resi"):
            t = pl.col("row").cast(pl.Float64)
            t = pl.when(x.is_not_null()).then(t)
            c = x.is_not_null().cast(pl.Float64).rolling_sum(n, min_samples=1)
            sx, sy = t.rolling_sum(n, min_samples=1), x.rolling_sum(n, min_samples=1)
            sxx, sxy = (t * t).rolling_sum(n, min_samples=1), (t * x).rolling_sum(n, min_samples=1)
            slope = (c * sxy - sx * sy) / (c * sxx - sx * sx)
            if name == "Slope":
                return slope.over(over)
            if name == "Resi":
                return (x - ((sy - slope * sx) / c + slope * pl.col("row").cast(pl.Float64))).over(over)
            syy = (x * x).rolling_sum(n, min_samples=1)
            return ((c * sxy - sx * sy) ** 2 / ((c * sxx - sx * sx) * (c * syy - sy * sy))).over(over)
        raise KeyError(name)


def time_polars(bars, expressions, threads: int):
    """In a child process: POLARS_MAX_THREADS is read once, when Polars loads."""
    env = dict(os.environ, POLARS_MAX_THREADS=str(threads))
    payload = json.dumps({"expressions": expressions})
    child = subprocess.run([sys.executable, __file__, "--polars-child", os.environ["PEERS_BARS"]], input=payload, text=True,
                           capture_output=True, env=env)
    if child.returncode != 0:
        raise SystemExit(f"the Polars run failed:\n{child.stderr}")
    return json.loads(child.stdout)


def polars_child(bars_path: str):
    import polars as pl

    expressions = json.loads(sys.stdin.read())["expressions"]
    frame = pl.read_parquet(bars_path).with_columns(pl.lit(None, dtype=pl.Float64).alias("vwap"))
    frame = frame.with_columns(pl.int_range(pl.len()).over("instrument").alias("row"))
    compiled, names = [], []
    for name, text in expressions:
        if "IdxMax" in text or "IdxMin" in text:
            continue
        compiled.append(Parser(text, pl).parse().alias(name))
        names.append(name)
    started = time.perf_counter()
    frame.select(compiled)
    print(json.dumps({"seconds": time.perf_counter() - started, "names": names}))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--polars-child":
        return polars_child(sys.argv[2])
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--expressions", required=True, help="name<TAB>expression file")
    parser.add_argument("--work", required=True)
    parser.add_argument("--alphalens-factors", type=int, default=3)
    args = parser.parse_args()
    data, work = Path(args.data), Path(args.work)
    lines = [l.split("\t") for l in Path(args.expressions).read_text().splitlines()[1:] if l.strip()]
    expressions = [(name, text) for name, text in lines]
    calendar, bars = read_bars(data)
    dump_qlib(data, calendar, bars, work / "qlib")
    # The bars as one long table for Polars, each instrument laid on the calendar from its first to its last row.
    long = pd.concat([pd.DataFrame({"instrument": code, "date": calendar[first:first + len(laid["close"])], **laid})
                      for code, (first, laid) in bars.items()])
    bars_path = work / "bars.parquet"
    long.to_parquet(bars_path)
    os.environ["PEERS_BARS"] = str(bars_path)
    # The libraries print progress on stdout; only the figures go there.
    with contextlib.redirect_stdout(sys.stderr):
        polars_1 = time_polars(bars, expressions, 1)
        polars_2 = time_polars(bars, expressions, 2)
        qlib_seconds, frame = time_qlib(work / "qlib", expressions)
        frame.columns = [name for name, _ in expressions]
        factors = [name for name, _ in expressions if name not in ("VWAP0", "LABEL0")]
        alphalens_seconds = time_alphalens(frame, factors, bars, calendar, args.alphalens_factors)
    print(json.dumps({
        "qlib_features_seconds": qlib_seconds,
        "alphalens_seconds_per_factor": alphalens_seconds,
        "alphalens_factors": min(args.alphalens_factors, len(factors)),
        "polars_seconds_1": polars_1["seconds"],
        "polars_seconds_2": polars_2["seconds"],
        "polars_expressions": len(polars_1["names"]),
        "polars_names": polars_1["names"],
        "versions": {"qlib": __import__("qlib").__version__, "alphalens": __import__("alphalens").__version__,
                     "polars": __import__("polars").__version__, "pandas": pd.__version__, "numpy": np.__version__},
    }))


if __name__ == "__main__":
    main()
