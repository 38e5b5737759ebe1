"""``gkcrawl export``: the stored reports as CSV, JSON Lines, Parquet or XLSX, in two layouts.

*wide*: one row per report: metadata, then one column per template cell named
``table.row.column`` (the union of every template version, newest version first, rows and columns
in template order; a cell the report's version lacks stays empty). *long*: one row per report ×
table × row × column, the template's Chinese labels next to the English keys, for pivoting. Both
come from ``gkcrawl.template.spec``, so a template change reaches the exports without an edit here.

Numbers stay numbers: counts are integers, amounts (万元) exact decimals (Parquet ``decimal128``,
XLSX numeric cells, plain digits in CSV and JSON). Spreadsheets run text that starts with ``=``,
``+``, ``-`` or ``@`` as a formula, and organ names and titles come from the open web: such *text*
cells get a leading ``'`` in CSV and are string cells in XLSX; numbers, negative ones included, are
left alone.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import IO, Any, TextIO, cast

from gkcrawl.store import ReportRow, Store, is_postgres_url, open_store
from gkcrawl.template.spec import AMOUNT, TEMPLATES, Row, Table, Template

FORMATS = ("csv", "jsonl", "parquet", "xlsx")
LAYOUTS = ("wide", "long")
#: formats that cannot go to a terminal or a text stream
BINARY_FORMATS = frozenset({"parquet", "xlsx"})

EXIT_OK, EXIT_NO_STORE, EXIT_USAGE = 0, 1, 2

#: field types: what a column holds in every format
TEXT, INTEGER, DECIMAL, NUMBER, BOOLEAN = "text", "integer", "decimal", "number", "boolean"

#: a text cell starting with one of these is a formula (or DDE payload) to a spreadsheet; the
#: full-width forms count too, since some spreadsheet locales fold them to ASCII on input
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
#: what neutralises such a cell in CSV; cells already starting with it get one more, so that
#: :func:`unescape` is the exact inverse
QUOTE = "'"
#: joins a report's flags into one cell (flags are one-line messages that may contain ``;``)
FLAG_SEPARATOR = "\n"
#: joins a row's group label and its own label (table 3 labels already use it)
LABEL_SEPARATOR = "·"

#: amounts (万元) keep this many decimals in Parquet at least (0.000001 万元 = 0.01 元)
AMOUNT_SCALE = 6
DECIMAL_PRECISION = 38
PARQUET_BATCH_ROWS = 10_000
#: Excel's sheet size, the header row included; longer exports continue on another sheet
XLSX_MAX_ROWS = 1_048_576
XLSX_CODEBOOK_SHEET = "columns"
#: characters XLSX (XML 1.0) cannot hold; openpyxl refuses them, so they are dropped
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    #: Chinese label for the codebook (XLSX sheet ``columns``, Parquet field metadata)
    label: str = ""


@dataclass(frozen=True)
class CellColumn:
    """One template cell as a wide column; the label comes from the newest version having it."""

    table: str
    row: str
    column: str
    kind: str
    table_label: str
    row_label: str
    column_label: str

    @property
    def name(self) -> str:
        return f"{self.table}.{self.row}.{self.column}"

    @property
    def label(self) -> str:
        return f"{self.table_label} / {self.row_label} / {self.column_label}"


WIDE_META = (
    Field("organ_key", TEXT, "机关键"), Field("organ", TEXT, "报告机关"),
    Field("organ_as_printed", TEXT, "报告机关（原文简称）"), Field("publisher", TEXT, "发布机关"),
    Field("division_code", TEXT, "行政区划代码"), Field("division_level", TEXT, "行政区划级别"),
    Field("year", INTEGER, "报告年度"), Field("format", TEXT, "模板版本"),
    Field("published", TEXT, "发布日期"), Field("title", TEXT, "标题"),
    Field("source_url", TEXT, "来源网址"), Field("portal", TEXT, "门户"),
    Field("n_sources", INTEGER, "副本数"), Field("parser_version", TEXT, "解析器版本"),
    Field("identities_passed", INTEGER, "勾稽关系通过数"),
    Field("identities_failed", INTEGER, "勾稽关系不符数"),
    Field("identities_uncertain", INTEGER, "勾稽关系无法判断数"),
    Field("flags", TEXT, "提示"),
)
#: what the report says of its organ besides its name (docs/report-schema.md)
ORGAN_FIELDS = ("organ_as_printed", "publisher", "division_code", "division_level")
#: the report columns of the long layout (and of what :func:`long_to_wide` rebuilds)
LONG_KEYS = ("organ_key", "organ", "division_code", "year", "format")
LONG_FIELDS = (
    *(f for f in WIDE_META if f.name in LONG_KEYS),
    Field("table", TEXT), Field("table_label", TEXT, "表"), Field("row", TEXT),
    Field("row_label", TEXT, "行"), Field("column", TEXT), Field("column_label", TEXT, "列"),
    Field("value", NUMBER, "数值"), Field("inferred", BOOLEAN, "由勾稽关系推算"),
)


class ExportError(ValueError):
    """The export cannot be written as asked (unknown format, binary format to a text stream)."""


# --- columns, from the template ---------------------------------------------------------------

def _merge(merged: list[str], keys: Sequence[str]) -> None:
    """Add ``keys`` to ``merged`` keeping both orders: a new key goes before the next of its
    followers already present (2019's 其他对外管理服务事项 lands before 行政处罚)."""
    for i, key in enumerate(keys):
        if key in merged:
            continue
        after = next((k for k in keys[i + 1:] if k in merged), None)
        merged.insert(merged.index(after) if after is not None else len(merged), key)


def _versions() -> list[Template]:
    return [TEMPLATES[v] for v in sorted(TEMPLATES, reverse=True)]


def row_label(row: Row) -> str:
    """The row's label with its group (``(三)不予公开·1.属于国家秘密``): "3.其他" alone is
    ambiguous."""
    return LABEL_SEPARATOR.join(part for part in (row.group, row.label) if part)


@cache
def cell_columns() -> tuple[CellColumn, ...]:
    """Every cell of every template version, once, in wide-column order."""
    tables: list[str] = []
    rows: dict[str, list[str]] = {}
    columns: dict[tuple[str, str], list[str]] = {}
    found: dict[tuple[str, str, str], CellColumn] = {}
    for template in _versions():
        _merge(tables, [t.key for t in template.tables])
        for table in template.tables:
            _merge(rows.setdefault(table.key, []), [r.key for r in table.rows])
            for row in table.rows:
                keys = table.row_columns(row)
                _merge(columns.setdefault((table.key, row.key), []), list(keys))
                for key in keys:
                    ref = (table.key, row.key, key)
                    column = table.column(key)
                    found.setdefault(ref, CellColumn(*ref, column.kind, table.title, row_label(row),
                                                     column.label))
    return tuple(found[(t, r, c)] for t in tables for r in rows[t] for c in columns[(t, r)])


@cache
def _cells_by_name() -> dict[str, CellColumn]:
    return {c.name: c for c in cell_columns()}


def fields(layout: str) -> tuple[Field, ...]:
    """The columns of ``layout``, in order."""
    if layout == "long":
        return LONG_FIELDS
    if layout != "wide":
        raise ExportError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    return WIDE_META + tuple(Field(c.name, DECIMAL if c.kind == AMOUNT else INTEGER, c.label)
                             for c in cell_columns())


# --- values -----------------------------------------------------------------------------------

def cell_value(value: Any, kind: str) -> int | Decimal | None:
    """A cell as exported: counts as ``int``, amounts as exact ``Decimal`` (a stored float such as
    1234.5678 becomes Decimal('1234.5678'), not its binary expansion). A count that is not whole
    (the domain check flags those) stays a Decimal rather than being rounded."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    if kind != AMOUNT and number == number.to_integral_value():
        return int(number)
    return number


def plain(number: Decimal) -> str:
    """Digits without exponent or trailing zeros: Decimal('12.500000') -> '12.5'."""
    if number == 0:
        return "0"
    return format(number.normalize(), "f")


def escape(text: str) -> str:
    """CSV text safe to open in a spreadsheet: a formula-like start gets a leading quote."""
    return QUOTE + text if text.startswith((*FORMULA_PREFIXES, QUOTE)) else text


def unescape(text: str) -> str:
    """The inverse of :func:`escape`, for reading a CSV export back."""
    if text.startswith(QUOTE) and text[1:].startswith((*FORMULA_PREFIXES, QUOTE)):
        return text[1:]
    return text


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _typed(field: Field, value: Any, *, csv_text: bool, kind: str = "") -> Any:
    if field.type == TEXT:
        text = _text(value)
        return unescape(text) if csv_text and text is not None else text
    if field.type == BOOLEAN:
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1") if value.strip() else None
        return None if value is None else bool(value)
    if field.type == DECIMAL:
        return cell_value(value, AMOUNT)
    return cell_value(value, kind)


def typed(row: Mapping[str, Any], layout: str, fmt: str = "") -> dict[str, Any]:
    """A row read back from an export, in the values :func:`wide_rows`/:func:`long_rows` give:
    CSV strings and XLSX floats become ints and Decimals again, ``''`` becomes None, and for
    ``fmt="csv"`` the formula escape is undone. Idempotent on rows already typed."""
    out: dict[str, Any] = {}
    csv_text = fmt == "csv"
    for field in fields(layout):
        kind = ""
        if field.name == "value":
            name = ".".join(str(_typed(Field(k, TEXT), row.get(k), csv_text=csv_text))
                            for k in ("table", "row", "column"))
            cell = _cells_by_name().get(name)
            kind = cell.kind if cell else AMOUNT
        out[field.name] = _typed(field, row.get(field.name), csv_text=csv_text, kind=kind)
    return out


# --- rows -------------------------------------------------------------------------------------

def _template(row: ReportRow) -> Template | None:
    return TEMPLATES.get(row.format or row.report.get("format") or "")


def _cell(report: Mapping[str, Any], table: str, row: str, column: str) -> Any:
    return ((report.get(table) or {}).get(row) or {}).get(column)


def _check_counts(report: Mapping[str, Any]) -> dict[str, int]:
    counts = {"pass": 0, "fail": 0, "uncertain": 0}
    for check in report.get("checks") or []:
        status = check.get("status")
        if status in counts:
            counts[status] += 1
    return counts


def _meta(row: ReportRow) -> dict[str, Any]:
    report = row.report
    counts = _check_counts(report)
    return {
        "organ_key": row.organ_key, "organ": _text(row.organ or report.get("organ")),
        **{k: _text(report.get(k)) for k in ORGAN_FIELDS},
        "year": row.year, "format": _text(row.format or report.get("format")),
        "published": _text(report.get("published")), "title": _text(report.get("title")),
        "source_url": _text(report.get("source_url")), "portal": _text(report.get("portal")),
        "n_sources": row.n_sources, "parser_version": _text(row.parser_version),
        "identities_passed": counts["pass"], "identities_failed": counts["fail"],
        "identities_uncertain": counts["uncertain"],
        "flags": _text(FLAG_SEPARATOR.join(str(f) for f in report.get("flags") or [])),
    }


@cache
def _own_cells(version: str) -> frozenset[tuple[str, str, str]]:
    return frozenset(TEMPLATES[version].cells())


def wide_rows(reports: Iterable[ReportRow]) -> Iterator[dict[str, Any]]:
    """One row per report; cells outside the report's template version are None."""
    for row in reports:
        template = _template(row)
        own = _own_cells(template.version) if template else frozenset()
        out = _meta(row)
        for cell in cell_columns():
            ref = (cell.table, cell.row, cell.column)
            out[cell.name] = cell_value(_cell(row.report, *ref), cell.kind) if ref in own else None
        yield out


def _long_table(base: dict[str, Any], report: Mapping[str, Any], template: Template,
                table: Table, inferred: set[str]) -> Iterator[dict[str, Any]]:
    for row in table.rows:
        label = row_label(row)
        for key in table.row_columns(row):
            ref = (table.key, row.key, key)
            yield {**base, "table": table.key, "table_label": table.title, "row": row.key,
                   "row_label": label, "column": key, "column_label": table.column(key).label,
                   "value": cell_value(_cell(report, *ref), template.kind(ref)),
                   "inferred": ".".join(ref) in inferred}


def long_rows(reports: Iterable[ReportRow]) -> Iterator[dict[str, Any]]:
    """One row per cell of the report's template version (nulls included, so that the wide
    row can be rebuilt); a report without a template version (legacy) has no rows."""
    for row in reports:
        template = _template(row)
        if template is None:
            continue
        meta = _meta(row)
        base = {k: meta[k] for k in LONG_KEYS}
        inferred = {str(i.get("cell")) for i in row.report.get("inferred") or []
                    if isinstance(i, Mapping)}
        for table in template.tables:
            yield from _long_table(base, row.report, template, table, inferred)


def long_to_wide(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Wide rows (the report keys and every cell column) rebuilt from long rows, as read back
    from any format: the proof that the long layout loses nothing the wide one holds."""
    cells = _cells_by_name()
    out: dict[tuple[Any, Any], dict[str, Any]] = {}
    for raw in rows:
        row = typed(raw, "long")
        wide = out.get((row["organ_key"], row["year"]))
        if wide is None:
            wide = {**{k: row[k] for k in LONG_KEYS}, **dict.fromkeys(cells)}
            out[(row["organ_key"], row["year"])] = wide
        name = f"{row['table']}.{row['row']}.{row['column']}"
        if name not in cells:
            raise ValueError(
                f"long row of {row['organ_key']} {row['year']}: no template cell {name}")
        wide[name] = row["value"]
    return list(out.values())


def codebook(layout: str) -> list[dict[str, str]]:
    """Column, type and Chinese label of every column of ``layout``."""
    return [{"column": f.name, "type": f.type, "label": f.label} for f in fields(layout)]


# --- writers ----------------------------------------------------------------------------------

Rows = Callable[[], Iterator[dict[str, Any]]]
Output = Path | str | IO[Any]


@contextmanager
def _target_path(path: Path) -> Iterator[Path]:
    """Write beside the target and rename at the end: an interrupted export leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    try:
        yield part
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


@contextmanager
def _text_out(out: Output, encoding: str) -> Iterator[TextIO]:
    if isinstance(out, (str, Path)):
        with _target_path(Path(out)) as part, part.open("w", encoding=encoding, newline="") as f:
            yield f
    else:
        yield cast(TextIO, out)  # a stream: text, as the caller's format is


@contextmanager
def _binary_out(out: Output, fmt: str) -> Iterator[Any]:
    if isinstance(out, (str, Path)):
        with _target_path(Path(out)) as part:
            yield part
        return
    if hasattr(out, "encoding"):  # a text stream (io.TextIOBase and the like)
        buffer = getattr(out, "buffer", None)
        if buffer is None:
            raise ExportError(f"{fmt} is binary: write it to a file or a binary stream")
        out.flush()
        yield buffer
        buffer.flush()
        return
    yield out


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, int):
        return str(value)
    return escape(str(value))


def _write_csv(columns: Sequence[Field], rows: Rows, out: Output, layout: str) -> int:
    # utf-8-sig: Excel reads a BOM-less CSV in the legacy code page, and the labels are Chinese
    with _text_out(out, "utf-8-sig") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow([c.name for c in columns])
        n = 0
        for row in rows():
            writer.writerow([_csv_cell(row[c.name]) for c in columns])
            n += 1
    return n


def _json_value(value: Any) -> str:
    if isinstance(value, Decimal):
        return plain(value)  # exact digits: a float would round long amounts
    return json.dumps(value, ensure_ascii=False)


def _write_jsonl(columns: Sequence[Field], rows: Rows, out: Output, layout: str) -> int:
    with _text_out(out, "utf-8") as f:
        n = 0
        for row in rows():
            f.write("{" + ",".join(f"{json.dumps(c.name)}:{_json_value(row[c.name])}"
                                   for c in columns) + "}\n")
            n += 1
    return n


def _scale(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _parquet_schema(columns: Sequence[Field], rows: Rows, layout: str) -> Any:
    """Counts int64, amounts decimal128 with at least AMOUNT_SCALE decimals. A pass over the data
    finds what does not fit (a fractional count makes its column decimal) instead of rounding."""
    import pyarrow as pa

    numeric = [c.name for c in columns if c.type in (INTEGER, DECIMAL, NUMBER)]
    fractional: set[str] = set()
    scale = AMOUNT_SCALE
    for row in rows():
        for name in numeric:
            value = row[name]
            if isinstance(value, Decimal):
                fractional.add(name)
                scale = max(scale, _scale(value))
    decimal = pa.decimal128(DECIMAL_PRECISION, scale)
    types = {TEXT: pa.string(), BOOLEAN: pa.bool_(), DECIMAL: decimal, NUMBER: decimal}
    out = []
    for c in columns:
        kind = decimal if c.type == INTEGER and c.name in fractional else \
            types.get(c.type, pa.int64())
        out.append(pa.field(c.name, kind, metadata={"label": c.label} if c.label else None))
    return pa.schema(out, metadata={"gkcrawl.layout": layout})


def _write_parquet(columns: Sequence[Field], rows: Rows, out: Output, layout: str) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _parquet_schema(columns, rows, layout)
    n = 0
    with _binary_out(out, "parquet") as sink, pq.ParquetWriter(sink, schema) as writer:
        batch: list[dict[str, Any]] = []
        for row in rows():
            batch.append(row)
            if len(batch) >= PARQUET_BATCH_ROWS:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                n += len(batch)
                batch = []
        if batch or n == 0:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            n += len(batch)
    return n


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    """Strings are always string cells (openpyxl would make ``=…`` a formula); formula-like
    ones also get Excel's quotePrefix so that editing the cell keeps it text."""
    from openpyxl.cell import WriteOnlyCell

    if not isinstance(value, str):
        return value
    text = _XLSX_ILLEGAL.sub("", value)
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    if text.startswith(FORMULA_PREFIXES):
        cell.quotePrefix = True
    return cell


def _write_xlsx(columns: Sequence[Field], rows: Rows, out: Output, layout: str) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    with _binary_out(out, "xlsx") as sink:  # refuse a text stream before writing anything
        book = Workbook(write_only=True)
        bold = Font(bold=True)

        def new_sheet(index: int) -> Any:
            sheet = book.create_sheet(layout if index == 1 else f"{layout}_{index}")
            sheet.freeze_panes = "A2"
            header = []
            for c in columns:
                cell = WriteOnlyCell(sheet, value=c.name)
                cell.font = bold
                header.append(cell)
            sheet.append(header)
            return sheet

        try:
            sheets = 1
            sheet = new_sheet(sheets)
            used, n = 1, 0
            for row in rows():
                if used >= XLSX_MAX_ROWS:
                    sheets += 1
                    sheet, used = new_sheet(sheets), 1
                sheet.append([_xlsx_cell(sheet, row[c.name]) for c in columns])
                used += 1
                n += 1
            codes = book.create_sheet(XLSX_CODEBOOK_SHEET)
            for entry in [{"column": "column", "type": "type", "label": "label"},
                          *codebook(layout)]:
                codes.append([_xlsx_cell(codes, entry[k]) for k in ("column", "type", "label")])
        except BaseException:
            for worksheet in book.worksheets:  # end openpyxl's sheet writers, drop temp files
                worksheet.close()
            raise
        book.save(sink)
    return n


_WRITERS: dict[str, Callable[[Sequence[Field], Rows, Output, str], int]] = {
    "csv": _write_csv, "jsonl": _write_jsonl, "parquet": _write_parquet, "xlsx": _write_xlsx,
}


def export(store: Store, fmt: str, layout: str, out: Output) -> int:
    """Write every stored report in ``fmt`` and ``layout`` to ``out`` (a path, or an open
    stream: text for csv/jsonl, binary or text-with-buffer for parquet/xlsx); the rows written."""
    if fmt not in _WRITERS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    columns = fields(layout)
    produce = wide_rows if layout == "wide" else long_rows

    def rows() -> Iterator[dict[str, Any]]:
        return produce(store.reports())

    return _WRITERS[fmt](columns, rows, out, layout)


# --- command ----------------------------------------------------------------------------------

def store_missing(target: str | Path) -> bool:
    """A SQLite target that does not exist: opening it would create an empty store."""
    return not is_postgres_url(target) and not Path(target).exists()


def main_export(target: str | Path, fmt: str, layout: str, output: str | Path | None,
                *, stdout: TextIO | None = None) -> int:
    """``gkcrawl export``: ``output`` None or ``-`` is standard output (csv and jsonl only,
    parquet and xlsx when it is not a terminal)."""
    stdout = stdout or sys.stdout
    if fmt not in FORMATS or layout not in LAYOUTS:
        print(f"gkcrawl export: --format is one of {', '.join(FORMATS)}, --layout one of "
              f"{', '.join(LAYOUTS)}", file=sys.stderr)
        return EXIT_USAGE
    to_stdout = output is None or str(output) == "-"
    if to_stdout and fmt in BINARY_FORMATS and stdout.isatty():
        print(f"gkcrawl export: {fmt} is binary; give --output FILE", file=sys.stderr)
        return EXIT_USAGE
    if store_missing(target):
        print(f"no store at {target}", file=sys.stderr)
        return EXIT_NO_STORE
    with open_store(target) as store:
        try:
            n = export(store, fmt, layout, stdout if to_stdout else Path(str(output)))
        except ExportError as exc:
            print(f"gkcrawl export: {exc}", file=sys.stderr)
            return EXIT_USAGE
    where = "standard output" if to_stdout else str(output)
    print(f"{n} {layout} row{'s' if n != 1 else ''} ({fmt}) -> {where}", file=sys.stderr)
    return EXIT_OK
