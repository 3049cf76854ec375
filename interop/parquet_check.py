#!/usr/bin/env python3
"""Reads a FactorLab Parquet file with pyarrow and polars and compares every cell with the CSV of the same data.

usage: parquet_check.py FILE.csv FILE.parquet [--row-groups N]

The CSV is read as text. By the Parquet column's type: a double column must be null exactly where the CSV cell is
empty (FactorLab writes NaN as null), `inf`/`-inf` infinities, and every other cell the same double, bit for bit;
an int64 column the same integers; a string column the same text; a timestamp[us] column the same wall-clock time
as the CSV's label. Footer statistics (null count, min, max) must agree with each row group's values. Exits 1
naming the first difference.
"""
import argparse
import csv
import math
import sys

import numpy as np
import polars as pl
import pyarrow
import pyarrow.parquet as pq


def fail(message):
    print(f"parquet_check: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def label(text):
    """A CSV time label as YYYY-MM-DD HH:MM:SS."""
    if " " not in text and "T" not in text:
        return text + " 00:00:00"
    text = text.replace("T", " ")
    return text + ":00" if len(text) == 16 else text


def check_statistics(metadata, column_index, name, expected, missing):
    start = 0
    for g in range(metadata.num_row_groups):
        rows = metadata.row_group(g).num_rows
        stats = metadata.row_group(g).column(column_index).statistics
        part, part_missing = expected[start:start + rows], missing[start:start + rows]
        if stats is None or stats.null_count != int(part_missing.sum()):
            fail(f"{name} row group {g}: statistics {stats}")
        if not part_missing.all():
            lo, hi = np.nanmin(part), np.nanmax(part)
            if not stats.has_min_max or stats.min != lo or stats.max != hi:
                fail(f"{name} row group {g}: min/max {stats.min}/{stats.max}, values {lo}/{hi}")
        start += rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("csv")
    parser.add_argument("parquet")
    parser.add_argument("--row-groups", type=int, help="the number of row groups expected")
    args = parser.parse_args()

    with open(args.csv, newline="") as f:
        reader = csv.reader(f)
        names = next(reader)
        rows = list(reader)
    columns = list(zip(*rows)) if rows else [()] * len(names)
    metadata = pq.ParquetFile(args.parquet).metadata
    if args.row_groups is not None and metadata.num_row_groups != args.row_groups:
        fail(f"{metadata.num_row_groups} row groups, expected {args.row_groups}")
    arrow = pq.read_table(args.parquet)
    polars = pl.read_parquet(args.parquet)
    if arrow.column_names != names or polars.columns != names:
        fail(f"columns {arrow.column_names} / {polars.columns}, CSV has {names}")
    if arrow.num_rows != len(rows) or polars.height != len(rows):
        fail(f"{arrow.num_rows} / {polars.height} rows, CSV has {len(rows)}")

    compared = nulls = 0
    for index, name in enumerate(names):
        cells = list(columns[index])
        kind = str(arrow.schema.field(name).type)
        column, series = arrow.column(name), polars[name]
        if kind == "double":
            expected = np.array([math.nan if c == "" else float(c) for c in cells])
            missing = np.array([c == "" for c in cells])
            for reader_name, got_nulls, got in (
                    ("pyarrow", column.is_null().to_numpy(zero_copy_only=False), column.to_numpy(zero_copy_only=False)),
                    ("polars", series.is_null().to_numpy(), series.fill_null(math.nan).to_numpy())):
                if not np.array_equal(got_nulls, missing):
                    k = int(np.argmax(got_nulls != missing))
                    fail(f"{name} row {k}: {reader_name} null={got_nulls[k]}, CSV cell {cells[k]!r}")
                present = ~missing
                same = expected[present].view(np.uint64) == got[present].view(np.uint64)
                if not same.all():
                    k = int(np.flatnonzero(present)[np.argmax(~same)])
                    fail(f"{name} row {k}: {reader_name} {got[k]!r}, CSV {cells[k]!r}")
            check_statistics(metadata, index, name, expected, missing)
            nulls += int(missing.sum())
        elif kind == "int64":
            expected = [int(c) for c in cells]
            if column.to_pylist() != expected or series.to_list() != expected:
                fail(f"{name}: integers differ")
        elif kind == "string":
            if column.to_pylist() != cells or series.to_list() != cells:
                fail(f"{name}: strings differ")
        elif kind == "timestamp[us]":
            expected = [label(c) for c in cells]
            got_arrow = [t.strftime("%Y-%m-%d %H:%M:%S") for t in column.to_pylist()]
            got_polars = series.dt.strftime("%Y-%m-%d %H:%M:%S").to_list()
            for k, (e, a, p) in enumerate(zip(expected, got_arrow, got_polars)):
                if a != e or p != e:
                    fail(f"{name} row {k}: {a} / {p}, CSV {cells[k]}")
        else:
            fail(f"{name}: unexpected type {kind}")
        compared += len(cells)
    print(f"parquet_check: {len(rows)} rows x {len(names)} columns in {metadata.num_row_groups} row groups: "
          f"{compared} cells equal in pyarrow {pyarrow.__version__} and polars {pl.__version__} "
          f"({nulls} nulls where the CSV is empty)")


if __name__ == "__main__":
    main()
