"""Text renderings of a report -> :class:`Document` rows.

Scraped or converted copies of reports come in three table shapes, often mixed in one file:

* pipe rows: ``规章 | 7 | 1 | 35 |`` — a line is a row, ``|`` separates cells (seed 000);
* tab blocks: every cell on its own line indented with a tab, rows separated by a blank line
  (word-processor export, seed 004);
* a stream of cells, one per line (seeds 001, 002, 003). Rows are not marked, so they are
  regrouped here: a row is a run of label cells followed by a run of value cells. Empty cells left
  no trace in such a stream; that is why these rows can come out short, and why the mapper must
  not fill numbers in sequence. A line that is a label and numbers separated by spaces
  (``行政许可 97``, as PDF conversions set table rows loose, or a copy that separates cells with
  spaces) is that label and those cells; empty cells leave no trace there either.

Page numbers a conversion left between the lines (``— 4 —``) are dropped.
"""

from __future__ import annotations

import re

from gkcrawl.parsing.document import STREAM, TABLE, TEXT, Cell, Document, OriginCounter, Row
from gkcrawl.parsing.normalize import page_footer, value

#: A stream line longer than this is running text, not a table label.
MAX_LABEL_CHARS = 80
_PIPE = "|"
_NUMBER = r"[-+]?\d[\d,]*(?:\.\d+)?(?:万元|元|件|个|项|条|次)?"
#: ``label 1 2 3``: label words without digits (but for a leading 1. or (一)), then numbers;
#: or numbers alone (``1 0 0 0 1``): rows set loose by a conversion, or a copy that separates
#: cells with spaces.
_SPACED_ROW = re.compile(
    r"^(?P<label>(?:(?:[(（]?[一二三四五六七八九十\d]{1,2}[)）.、．])?[^\d\s]+\s+)+)?"
    rf"(?P<values>{_NUMBER}(?:\s+{_NUMBER})*)$")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def _pipe_cells(line: str) -> list[str]:
    """The cells between the pipes; a pipe that opens or closes the line is a border, not the
    edge of an empty cell."""
    cells = [c.strip() for c in line.split(_PIPE)]
    if cells and cells[0] == "":
        cells = cells[1:]
    if cells and cells[-1] == "" and line.rstrip().endswith(_PIPE):
        cells = cells[:-1]
    return cells


def extract_text(text: str) -> Document:
    new_origin = OriginCounter()
    rows: list[Row] = []
    stream: list[str] = []
    block: list[str] | None = None
    table = 0

    def flush_stream() -> None:
        nonlocal table
        if stream:
            rows.extend(_regroup(stream, new_origin, table))
            table += 1
            stream.clear()

    def flush_block() -> None:
        nonlocal block
        if block and any(c for c in block):
            rows.append(Row([Cell(c, new_origin()) for c in block], TABLE, table))
        block = None

    for raw in text.splitlines():
        line = raw.rstrip()
        if raw.startswith("\t"):  # tab block: one cell per line, a blank line ends the row
            flush_stream()
            block = (block or []) + [line.strip()]
            continue
        if not line.strip():
            flush_block()
            continue
        flush_block()
        if line.count(_PIPE) >= 1:
            cells = _pipe_cells(line)
            if sum(1 for c in cells if c) >= 2:
                flush_stream()
                rows.append(Row([Cell(c, new_origin()) for c in cells], TABLE, table))
                continue
            line = line.replace(_PIPE, " ")
        cell = line.strip()
        if not cell or page_footer(cell):
            continue
        cells = _inline_cells(cell)
        if len(cells[0]) > MAX_LABEL_CHARS:
            flush_stream()
            rows.append(Row([Cell(cell, new_origin())], TEXT))
        else:
            stream.extend(cells)
    flush_block()
    flush_stream()
    return Document(rows=rows, text=text, kind="text")


def _inline_cells(line: str) -> list[str]:
    """``行政许可 97`` -> ``["行政许可", "97"]``, ``1 0 2`` -> three cells (each word of the label
    a cell of its own, as the cells of a row are); any other line is one cell."""
    match = _SPACED_ROW.match(line)
    if match is None:
        return [line]
    values = match["values"].split()
    if match["label"] is None:
        return values if len(values) > 1 else [line]
    if not _HAN.search(match["label"]):
        return [line]
    return [*match["label"].split(), *values]


def _regroup(cells: list[str], new_origin: OriginCounter, table: int) -> list[Row]:
    """Split a one-cell-per-line stream into rows: labels, then values; a label after a value
    starts the next row."""
    rows: list[Row] = []
    current: list[str] = []
    seen_value = False
    for cell in cells:
        is_value = value(cell) is not None
        if not is_value and seen_value:
            rows.append(_stream_row(current, new_origin, table))
            current, seen_value = [], False
        current.append(cell)
        seen_value = seen_value or is_value
    if current:
        rows.append(_stream_row(current, new_origin, table))
    return rows


def _stream_row(cells: list[str], new_origin: OriginCounter, table: int) -> Row:
    kind = STREAM if any(value(c) is not None for c in cells) else TEXT
    if kind == TEXT and len(cells) > 1:
        kind = STREAM
    return Row([Cell(c, new_origin()) for c in cells], kind, table)
