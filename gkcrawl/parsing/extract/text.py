"""Text renderings of a report -> :class:`Document` rows.

Scraped or converted copies of reports come in three table shapes, often mixed in one file:

* pipe rows: ``规章 | 7 | 1 | 35 |`` — a line is a row, ``|`` separates cells (seed 000);
* tab blocks: every cell on its own line indented with a tab, rows separated by a blank line
  (word-processor export, seed 004);
* a stream of cells, one per line (seeds 001, 002, 003). Rows are not marked, so they are
  regrouped here: a row is a run of label cells followed by a run of value cells. Empty cells left
  no trace in such a stream; that is why these rows can come out short, and why the mapper must
  not fill numbers in sequence.
"""

from __future__ import annotations

from gkcrawl.parsing.document import STREAM, TABLE, TEXT, Cell, Document, OriginCounter, Row
from gkcrawl.parsing.normalize import value

#: A stream line longer than this is running text, not a table label.
MAX_LABEL_CHARS = 80
_PIPE = "|"


def _pipe_cells(line: str) -> list[str]:
    cells = [c.strip() for c in line.split(_PIPE)]
    if cells and cells[0] == "":
        cells = cells[1:]
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
        if not cell:
            continue
        if len(cell) > MAX_LABEL_CHARS:
            flush_stream()
            rows.append(Row([Cell(cell, new_origin())], TEXT))
        else:
            stream.append(cell)
    flush_block()
    flush_stream()
    return Document(rows=rows, text=text, kind="text")


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
