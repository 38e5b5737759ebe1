"""Exports read back with each format's own library: csv, json, pyarrow, openpyxl,
pandas.read_stata, and a data package's data file with csv."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from openpyxl import load_workbook


def read_back(path: Path, fmt: str, layout: str) -> list[dict[str, Any]]:
    if fmt in ("csv", "datapackage"):
        if fmt == "datapackage":  # a directory: the layout's data file
            path = path / f"{layout}.csv"
        with path.open(encoding="utf-8-sig", newline="") as f:
            return list(csv.DictReader(f))
    if fmt == "jsonl":
        return [json.loads(line, parse_float=Decimal)
                for line in path.read_text(encoding="utf-8").splitlines()]
    if fmt == "parquet":
        return pq.read_table(path).to_pylist()
    if fmt == "dta":
        frame = pd.read_stata(path, convert_categoricals=False)
        return [dict(zip(frame.columns, r, strict=True))
                for r in frame.itertuples(index=False, name=None)]
    book = load_workbook(path, read_only=True)
    rows: list[dict[str, Any]] = []
    for sheet in book.worksheets:
        if sheet.title != layout and not sheet.title.startswith(f"{layout}_"):
            continue
        values = list(sheet.iter_rows(values_only=True))
        # a read-only sheet's row ends at its last filled cell
        rows += [dict(zip(values[0], r, strict=False)) for r in values[1:]]
    book.close()
    return rows


def header(path: Path, fmt: str, layout: str) -> list[str]:
    if fmt in ("csv", "datapackage"):
        if fmt == "datapackage":
            path = path / f"{layout}.csv"
        with path.open(encoding="utf-8-sig", newline="") as f:
            return next(csv.reader(f))
    if fmt == "jsonl":
        return list(json.loads(path.read_text(encoding="utf-8").splitlines()[0]))
    if fmt == "parquet":
        return pq.read_schema(path).names
    if fmt == "dta":
        return list(pd.read_stata(path).columns)
    book = load_workbook(path, read_only=True)
    names = [c.value for c in next(book[layout].iter_rows(max_row=1))]
    book.close()
    return names
