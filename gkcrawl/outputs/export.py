"""``gkcrawl export``: the stored reports as CSV, JSON Lines, Parquet, XLSX, Stata or a
Frictionless data package, in two layouts.

*panel*: one row per organ and year (the chosen copy of the report): who published it, where
(the division: GB/T 2260 code, province, city, county, level), when, where its bytes are archived
(the WARC file, offset and record id), its flags and identity checks, then one column per
variable of :mod:`gkcrawl.outputs.variables`: the cells that mean the same under both template
versions share a variable, each version's own cells keep theirs, and every name is short ASCII
that Stata, R, SPSS and pandas take as it is. *long*: one row per report × table × row × column
of the report's own template, with the template's keys and Chinese labels, for pivoting.

Numbers stay numbers: counts are integers, amounts (万元) exact decimals (Parquet ``decimal128``,
XLSX numeric cells, plain digits in CSV and JSON; Stata has no decimal type: doubles); dates are
dates (Parquet ``date32``, XLSX date cells, Stata ``%td``, ISO text in CSV and JSON). Spreadsheets
run text that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and organ names and titles
come from the open web: such *text* cells get a leading ``'`` in CSV and are string cells in
XLSX; numbers, negative ones included, are left alone.
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
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import IO, Any, TextIO, cast

from gkcrawl.crawl import registry
from gkcrawl.crawl.registry import Portal
from gkcrawl.outputs.divisions import division_of
from gkcrawl.outputs.variables import (
    CROSSWALK_COLUMNS,
    Variable,
    cell_value,
    crosswalk,
    panel_cells,
    report_cell,
    row_label,
    variables,
)
from gkcrawl.store import ReportRow, Store, is_postgres_url, open_store
from gkcrawl.template.spec import AMOUNT, TEMPLATES, CellRef, Table, Template

FORMATS = ("csv", "jsonl", "parquet", "xlsx", "dta", "datapackage")
LAYOUTS = ("panel", "long")
#: formats that cannot go to a terminal or a text stream
BINARY_FORMATS = frozenset({"parquet", "xlsx", "dta"})
#: formats written as several files into a directory
DIRECTORY_FORMATS = frozenset({"datapackage"})

EXIT_OK, EXIT_NO_STORE, EXIT_USAGE = 0, 1, 2

#: field types: what a column holds in every format
TEXT, INTEGER, DECIMAL, NUMBER, BOOLEAN, DATE = (
    "text", "integer", "decimal", "number", "boolean", "date")

#: a text cell starting with one of these is a formula (or DDE payload) to a spreadsheet; the
#: full-width forms count too, since some spreadsheet locales fold them to ASCII on input
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
#: what neutralises such a cell in CSV; cells already starting with it get one more, so that
#: :func:`unescape` is the exact inverse
QUOTE = "'"
#: joins a report's flags into one cell (flags are one-line messages that may contain ``;``)
FLAG_SEPARATOR = "\n"

#: amounts (万元) keep this many decimals in Parquet at least (0.000001 万元 = 0.01 元)
AMOUNT_SCALE = 6
DECIMAL_PRECISION = 38
PARQUET_BATCH_ROWS = 10_000
#: Excel's sheet size, the header row included; longer exports continue on another sheet
XLSX_MAX_ROWS = 1_048_576
XLSX_CODEBOOK_SHEET = "columns"
XLSX_CROSSWALK_SHEET = "crosswalk"
XLSX_DATE_FORMAT = "yyyy-mm-dd"
#: characters XLSX (XML 1.0) cannot hold; openpyxl refuses them, so they are dropped
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    #: Chinese label for the codebook (XLSX sheet ``columns``, Parquet field metadata, Stata
    #: variable labels, the data package's titles)
    label: str = ""
    description: str = ""
    #: the panel variable the column holds, for a template cell column
    variable: Variable | None = None


PANEL_META = (
    Field("organ_key", TEXT, "机关键", "the organ's dedup key (spellings of one organ meet here)"),
    Field("organ", TEXT, "机关", "the organ the report is about, simplified script"),
    Field("year", INTEGER, "报告年度", "the report year (not the publication year)"),
    Field("format", TEXT, "模板版本", "template version: 2019, 2021 or legacy"),
    Field("published", DATE, "发布日期", "publication date printed in or beside the report"),
    Field("title", TEXT, "标题", "the report's title"),
    Field("division_code", TEXT, "行政区划代码",
          "GB/T 2260 code of the organ's division (100000: central government and ministries)"),
    Field("province", TEXT, "省级", "province-level division named from the code"),
    Field("city", TEXT, "地级", "prefecture-level division named from the code"),
    Field("county", TEXT, "县级", "county-level division named from the code"),
    Field("level", TEXT, "层级", "level of the division or portal: national, ministry, "
                                 "province, city, county, ..."),
    Field("division_source", TEXT, "区划来源",
          "report: read from the report; portal: the region of the portal it was found on"),
    Field("publisher", TEXT, "发布单位", "who published the document, when not the organ"),
    Field("organ_as_printed", TEXT, "文中机关名称", "the organ as the document prints it"),
    Field("source_url", TEXT, "来源网址", "URL of the chosen copy"),
    Field("portal", TEXT, "门户", "registry id of the portal the copy was found on"),
    Field("warc_file", TEXT, "WARC文件", "WARC file holding the chosen copy's response"),
    Field("warc_offset", INTEGER, "WARC偏移", "byte offset of the response record in warc_file"),
    Field("warc_record_id", TEXT, "WARC记录标识", "WARC-Record-ID of the response record"),
    Field("fetched", DATE, "抓取日期", "UTC day the chosen copy was fetched"),
    Field("n_sources", INTEGER, "副本数", "copies found of this report (mirrors, re-posts)"),
    Field("parser_version", TEXT, "解析器版本", "the parser that produced the values"),
    Field("identities_passed", INTEGER, "勾稽关系通过数", "identity checks that hold"),
    Field("identities_failed", INTEGER, "勾稽关系不符数", "identity checks that fail"),
    Field("identities_uncertain", INTEGER, "勾稽关系无法判断数",
          "identity checks that cannot be decided (cells missing)"),
    Field("flags", TEXT, "提示", "the parser's flags, one per line"),
)
#: the report columns of the long layout (and of what :func:`long_to_panel` rebuilds)
LONG_KEYS = ("organ_key", "organ", "year", "format")
LONG_FIELDS = (
    *(f for f in PANEL_META if f.name in LONG_KEYS),
    Field("table", TEXT, "", "table key"), Field("table_label", TEXT, "表"),
    Field("row", TEXT, "", "row key"), Field("row_label", TEXT, "行"),
    Field("column", TEXT, "", "column key"), Field("column_label", TEXT, "列"),
    Field("value", NUMBER, "数值", "the cell: a count, or an amount in 万元"),
    Field("inferred", BOOLEAN, "由勾稽关系推算",
          "true when the value was derived from the identities, not read"),
)
CODEBOOK_COLUMNS = ("name", "type", "unit", "label", "description", "table", "row", "column",
                    "templates")


class ExportError(ValueError):
    """The export cannot be written as asked (unknown format, binary format to a text stream)."""


# --- columns ----------------------------------------------------------------------------------

def _describe(variable: Variable) -> str:
    how = "; ".join(f"{s.version}: {s.relation} {s.keys}" for s in variable.sources)
    return f"{how} [{variable.unit}]"


@cache
def fields(layout: str) -> tuple[Field, ...]:
    """The columns of ``layout``, in order."""
    if layout == "long":
        return LONG_FIELDS
    if layout != "panel":
        raise ExportError(f"layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    return PANEL_META + tuple(
        Field(v.name, DECIMAL if v.kind == AMOUNT else INTEGER, v.label, _describe(v), v)
        for v in variables())


def codebook(layout: str) -> list[dict[str, str]]:
    """Every column of ``layout``: name, type, unit, Chinese label, description, and for a
    template cell its table, row and column keys and the template versions having it."""
    out = []
    for f in fields(layout):
        v = f.variable
        out.append({"name": f.name, "type": f.type, "unit": v.unit if v else "",
                    "label": f.label, "description": f.description,
                    "table": v.table if v else "", "row": v.row if v else "",
                    "column": v.column if v else "",
                    "templates": " ".join(v.versions) if v else ""})
    return out


# --- values -----------------------------------------------------------------------------------

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


def day(value: Any) -> date | None:
    """A date from what a report or a reader holds: ISO text (``2020-01-20``, a timestamp's
    first ten characters), a datetime (a spreadsheet's or pandas'), a date; None otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:len("YYYY-MM-DD")])
    except ValueError:
        return None


def _typed(field: Field, value: Any, *, csv_text: bool, kind: str = "") -> Any:
    if value != value:  # NaN and NaT: a missing value as pandas reads Stata files
        value = None
    if field.type == TEXT:
        text = _text(value)
        return unescape(text) if csv_text and text is not None else text
    if field.type == DATE:
        return day(value)
    if field.type == BOOLEAN:
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1") if value.strip() else None
        return None if value is None else bool(value)
    if field.type == DECIMAL:
        return cell_value(value, AMOUNT)
    return cell_value(value, kind)


def _long_kind(row: Mapping[str, Any], csv_text: bool) -> str:
    """The kind of a long row's value, from its template version and cell keys."""
    version, *ref = (_typed(Field(k, TEXT), row.get(k), csv_text=csv_text)
                     for k in ("format", "table", "row", "column"))
    template = _template(version)
    try:
        return template.kind(cast(CellRef, tuple(ref))) if template else AMOUNT
    except KeyError:  # not a cell of the template: long_to_panel says so
        return AMOUNT


def typed(row: Mapping[str, Any], layout: str, fmt: str = "") -> dict[str, Any]:
    """A row read back from an export, in the values :func:`panel_rows`/:func:`long_rows` give:
    CSV strings, XLSX and Stata floats become ints and Decimals again, dates dates, ``''`` (and
    a Stata missing value) None, and for ``fmt="csv"`` the formula escape is undone. Idempotent
    on rows already typed."""
    out: dict[str, Any] = {}
    csv_text = fmt == "csv"
    for field in fields(layout):
        kind = _long_kind(row, csv_text) if field.name == "value" else ""
        out[field.name] = _typed(field, row.get(field.name), csv_text=csv_text, kind=kind)
    return out


# --- rows -------------------------------------------------------------------------------------

def _template(version: str | None) -> Template | None:
    return TEMPLATES.get(version or "")


def _check_counts(report: Mapping[str, Any]) -> dict[str, int]:
    counts = {"pass": 0, "fail": 0, "uncertain": 0}
    for check in report.get("checks") or []:
        status = check.get("status")
        if status in counts:
            counts[status] += 1
    return counts


@dataclass(frozen=True)
class ReportCopy:
    """What the panel row says of the report beyond its parse: its keys and the copy chosen."""

    organ_key: str | None
    year: int | None
    organ: str | None
    format: str | None
    n_sources: int | None
    parser_version: str | None
    warc_file: str | None = None
    warc_offset: int | None = None
    record_id: str | None = None
    fetched: date | None = None

    @classmethod
    def of(cls, row: ReportRow) -> ReportCopy:
        report = row.report
        return cls(row.organ_key, row.year, row.organ or report.get("organ"),
                   row.format or report.get("format"), row.n_sources, row.parser_version,
                   row.warc_file, row.warc_offset, row.record_id,
                   row.fetched_at.date() if row.fetched_at else None)


def panel_row(report: Mapping[str, Any], copy: ReportCopy,
              portals: Mapping[str, Portal]) -> dict[str, Any]:
    """The panel row of a parsed report (a stored report, or a crawl's item)."""
    counts = _check_counts(report)
    division = division_of(report, portals.get(report.get("portal") or ""))
    meta = {
        "organ_key": copy.organ_key, "organ": _text(copy.organ), "year": copy.year,
        "format": _text(copy.format), "published": day(report.get("published")),
        "title": _text(report.get("title")), "division_code": division.code,
        "province": division.province, "city": division.city, "county": division.county,
        "level": division.level, "division_source": division.source,
        "publisher": _text(report.get("publisher")),
        "organ_as_printed": _text(report.get("organ_as_printed")),
        "source_url": _text(report.get("source_url")), "portal": _text(report.get("portal")),
        "warc_file": _text(copy.warc_file), "warc_offset": copy.warc_offset,
        "warc_record_id": _text(copy.record_id), "fetched": copy.fetched,
        "n_sources": copy.n_sources, "parser_version": _text(copy.parser_version),
        "identities_passed": counts["pass"], "identities_failed": counts["fail"],
        "identities_uncertain": counts["uncertain"],
        "flags": _text(FLAG_SEPARATOR.join(str(f) for f in report.get("flags") or [])),
    }
    return {**meta, **panel_cells(report, copy.format)}


def panel_rows(reports: Iterable[ReportRow],
               portals: Mapping[str, Portal] | None = None) -> Iterator[dict[str, Any]]:
    """One row per report; variables the report's template version lacks are None."""
    for row in reports:
        yield panel_row(row.report, ReportCopy.of(row), portals or {})


def _long_table(base: dict[str, Any], report: Mapping[str, Any], template: Template,
                table: Table, inferred: set[str]) -> Iterator[dict[str, Any]]:
    for row in table.rows:
        label = row_label(row)
        for key in table.row_columns(row):
            ref = (table.key, row.key, key)
            yield {**base, "table": table.key, "table_label": table.title, "row": row.key,
                   "row_label": label, "column": key, "column_label": table.column(key).label,
                   "value": cell_value(report_cell(report, *ref), template.kind(ref)),
                   "inferred": ".".join(ref) in inferred}


def long_rows(reports: Iterable[ReportRow]) -> Iterator[dict[str, Any]]:
    """One row per cell of the report's template version (nulls included, so that the panel
    row can be rebuilt); a report without a template version (legacy) has no rows."""
    for row in reports:
        copy = ReportCopy.of(row)
        template = _template(copy.format)
        if template is None:
            continue
        base = {"organ_key": copy.organ_key, "organ": _text(copy.organ), "year": copy.year,
                "format": copy.format}
        inferred = {str(i.get("cell")) for i in row.report.get("inferred") or []
                    if isinstance(i, Mapping)}
        for table in template.tables:
            yield from _long_table(base, row.report, template, table, inferred)


def long_to_panel(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Panel rows (the report keys and every variable) rebuilt from long rows, as read back
    from any format: the proof that the long layout loses nothing the panel holds."""
    reports: dict[tuple[Any, Any], dict[str, Any]] = {}
    for raw in rows:
        row = typed(raw, "long")
        report = reports.setdefault((row["organ_key"], row["year"]),
                                    {k: row[k] for k in LONG_KEYS})
        template = _template(row["format"])
        ref = (row["table"], row["row"], row["column"])
        if template is None or ref not in template.cell_index:
            raise ValueError(f"long row of {row['organ_key']} {row['year']}: no cell "
                             f"{'.'.join(map(str, ref))} in template {row['format']}")
        report.setdefault(ref[0], {}).setdefault(ref[1], {})[ref[2]] = row["value"]
    return [{**{k: r[k] for k in LONG_KEYS}, **panel_cells(r, r["format"])}
            for r in reports.values()]


# --- writers ----------------------------------------------------------------------------------

Rows = Callable[[], Iterator[dict[str, Any]]]
Output = Path | str | IO[Any]


@contextmanager
def target_path(path: Path) -> Iterator[Path]:
    """Write beside the target and rename at the end: an interrupted export leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    try:
        yield part
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


@contextmanager
def text_out(out: Output, encoding: str) -> Iterator[TextIO]:
    if isinstance(out, (str, Path)):
        with target_path(Path(out)) as part, part.open("w", encoding=encoding, newline="") as f:
            yield f
    else:
        yield cast(TextIO, out)  # a stream: text, as the caller's format is


@contextmanager
def binary_out(out: Output, fmt: str) -> Iterator[Any]:
    if isinstance(out, (str, Path)):
        with target_path(Path(out)) as part:
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


def csv_cell(value: Any, text: Callable[[str], str] = escape) -> str:
    """A value as CSV text: numbers in plain digits, dates ISO, ``true``/``false``, and text
    through ``text`` (the formula escape, unless the file is a data file)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, (int, date)):
        return str(value)
    return text(str(value))


def write_csv(columns: Sequence[Field], rows: Rows, out: Output, *, encoding: str = "utf-8-sig",
              text: Callable[[str], str] = escape) -> int:
    with text_out(out, encoding) as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow([c.name for c in columns])
        n = 0
        for row in rows():
            writer.writerow([csv_cell(row[c.name], text) for c in columns])
            n += 1
    return n


def _write_csv(columns: Sequence[Field], rows: Rows, out: Output, layout: str) -> int:
    # utf-8-sig: Excel reads a BOM-less CSV in the legacy code page, and the labels are Chinese
    return write_csv(columns, rows, out)


def _json_value(value: Any) -> str:
    if isinstance(value, Decimal):
        return plain(value)  # exact digits: a float would round long amounts
    if isinstance(value, date):
        return f'"{value.isoformat()}"'
    return json.dumps(value, ensure_ascii=False)


def _write_jsonl(columns: Sequence[Field], rows: Rows, out: Output, layout: str) -> int:
    with text_out(out, "utf-8") as f:
        n = 0
        for row in rows():
            f.write("{" + ",".join(f"{json.dumps(c.name)}:{_json_value(row[c.name])}"
                                   for c in columns) + "}\n")
            n += 1
    return n


def _scale(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def fractional(columns: Sequence[Field], rows: Rows) -> tuple[set[str], int]:
    """A pass over the data: the integer columns holding a count that is not whole (they are
    written as decimals instead of being rounded), and the decimal scale every value fits."""
    numeric = [c.name for c in columns if c.type in (INTEGER, DECIMAL, NUMBER)]
    found: set[str] = set()
    scale = AMOUNT_SCALE
    for row in rows():
        for name in numeric:
            value = row[name]
            if isinstance(value, Decimal):
                found.add(name)
                scale = max(scale, _scale(value))
    return found, scale


def _parquet_schema(columns: Sequence[Field], rows: Rows, layout: str) -> Any:
    """Counts int64, amounts decimal128 with at least AMOUNT_SCALE decimals, dates date32."""
    import pyarrow as pa

    found, scale = fractional(columns, rows)
    decimal = pa.decimal128(DECIMAL_PRECISION, scale)
    types = {TEXT: pa.string(), BOOLEAN: pa.bool_(), DECIMAL: decimal, NUMBER: decimal,
             DATE: pa.date32()}
    out = []
    for c in columns:
        kind = decimal if c.type == INTEGER and c.name in found else \
            types.get(c.type, pa.int64())
        metadata = {"label": c.label} if c.label else {}
        if c.variable is not None:
            metadata["unit"] = c.variable.unit
        out.append(pa.field(c.name, kind, metadata=metadata or None))
    return pa.schema(out, metadata={"gkcrawl.layout": layout})


def _write_parquet(columns: Sequence[Field], rows: Rows, out: Output, layout: str) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _parquet_schema(columns, rows, layout)
    n = 0
    with binary_out(out, "parquet") as sink, pq.ParquetWriter(sink, schema) as writer:
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
    ones also get Excel's quotePrefix so that editing the cell keeps it text. Dates are date
    cells."""
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = XLSX_DATE_FORMAT
        return cell
    if not isinstance(value, str):
        return value
    text = _XLSX_ILLEGAL.sub("", value)
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    if text.startswith(FORMULA_PREFIXES):
        cell.quotePrefix = True
    return cell


def _xlsx_table(book: Any, title: str, columns: Sequence[str],
                entries: Iterable[Mapping[str, str]]) -> None:
    sheet = book.create_sheet(title)
    sheet.append(list(columns))
    for entry in entries:
        sheet.append([_xlsx_cell(sheet, entry[k]) for k in columns])


def _write_xlsx(columns: Sequence[Field], rows: Rows, out: Output, layout: str) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    with binary_out(out, "xlsx") as sink:  # refuse a text stream before writing anything
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
            _xlsx_table(book, XLSX_CODEBOOK_SHEET, CODEBOOK_COLUMNS, codebook(layout))
            if layout == "panel":
                _xlsx_table(book, XLSX_CROSSWALK_SHEET, CROSSWALK_COLUMNS, crosswalk())
        except BaseException:
            for worksheet in book.worksheets:  # end openpyxl's sheet writers, drop temp files
                worksheet.close()
            raise
        book.save(sink)
    return n


Writer = Callable[[Sequence[Field], Rows, Output, str], int]
_WRITERS: dict[str, Writer] = {
    "csv": _write_csv, "jsonl": _write_jsonl, "parquet": _write_parquet, "xlsx": _write_xlsx,
}


def _writer(fmt: str) -> Writer:
    """The writer of ``fmt``. The Stata and data package writers build on this module and are
    imported when asked for (the Stata one imports pandas)."""
    if fmt == "dta":
        from gkcrawl.outputs.stata import write_dta

        return write_dta
    if fmt == "datapackage":
        from gkcrawl.outputs.datapackage import write_datapackage

        return write_datapackage
    if fmt not in _WRITERS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return _WRITERS[fmt]


def export(store: Store, fmt: str, layout: str, out: Output,
           portals: Iterable[Portal] | None = None) -> int:
    """Write every stored report in ``fmt`` and ``layout`` to ``out`` (a path, or an open
    stream: text for csv/jsonl, binary or text-with-buffer for parquet/xlsx/dta; a directory
    for a data package); the rows written. ``portals`` (the bundled registry when None) give a
    report without a division of its own its portal's."""
    writer = _writer(fmt)
    columns = fields(layout)
    by_id = {p.id: p for p in (registry.load() if portals is None else portals)}

    def rows() -> Iterator[dict[str, Any]]:
        reports = store.reports()
        return panel_rows(reports, by_id) if layout == "panel" else long_rows(reports)

    return writer(columns, rows, out, layout)


# --- command ----------------------------------------------------------------------------------

def store_missing(target: str | Path) -> bool:
    """A SQLite target that does not exist: opening it would create an empty store."""
    return not is_postgres_url(target) and not Path(target).exists()


def main_export(target: str | Path, fmt: str, layout: str, output: str | Path | None,
                *, stdout: TextIO | None = None,
                registry_path: str | Path | None = None) -> int:
    """``gkcrawl export``: ``output`` None or ``-`` is standard output (csv and jsonl; parquet,
    xlsx and dta when it is not a terminal); a data package needs a directory."""
    stdout = stdout or sys.stdout
    if fmt not in FORMATS or layout not in LAYOUTS:
        print(f"gkcrawl export: --format is one of {', '.join(FORMATS)}, --layout one of "
              f"{', '.join(LAYOUTS)}", file=sys.stderr)
        return EXIT_USAGE
    to_stdout = output is None or str(output) == "-"
    if to_stdout and fmt in DIRECTORY_FORMATS:
        print(f"gkcrawl export: {fmt} is a directory of files; give --output DIR",
              file=sys.stderr)
        return EXIT_USAGE
    if to_stdout and fmt in BINARY_FORMATS and stdout.isatty():
        print(f"gkcrawl export: {fmt} is binary; give --output FILE", file=sys.stderr)
        return EXIT_USAGE
    if store_missing(target):
        print(f"no store at {target}", file=sys.stderr)
        return EXIT_NO_STORE
    try:
        portals = registry.load(registry_path)
    except registry.RegistryError as exc:
        print(f"gkcrawl export: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with open_store(target) as store:
        try:
            n = export(store, fmt, layout, stdout if to_stdout else Path(str(output)), portals)
        except ExportError as exc:
            print(f"gkcrawl export: {exc}", file=sys.stderr)
            return EXIT_USAGE
    where = "standard output" if to_stdout else str(output)
    print(f"{n} {layout} row{'s' if n != 1 else ''} ({fmt}) -> {where}", file=sys.stderr)
    return EXIT_OK
