"""Exports against both backends: every format and layout is written, read back with its own
library (csv, json, pyarrow, openpyxl) and compared with the stored reports; long → wide gives the
stored cells back; text that a spreadsheet would run as a formula is neutralised, numbers are
not."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from gkcrawl.outputs import export as export_module
from gkcrawl.outputs.export import (
    FORMATS,
    FORMULA_PREFIXES,
    ExportError,
    cell_columns,
    escape,
    export,
    fields,
    long_to_wide,
    main_export,
    typed,
    unescape,
)
from gkcrawl.store import ReportRow, Store
from gkcrawl.template.spec import AMOUNT, TEMPLATES
from tests.outputs.corpus import DDE_TITLE, EVIL_ORGAN, MINUS_ORGAN, TENTH, fill

LAYOUTS = ("wide", "long")


# --- reading back, with each format's own library -------------------------------------------

def read_back(path: Path, fmt: str, layout: str) -> list[dict[str, Any]]:
    if fmt == "csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            return list(csv.DictReader(f))
    if fmt == "jsonl":
        return [json.loads(line, parse_float=Decimal)
                for line in path.read_text(encoding="utf-8").splitlines()]
    if fmt == "parquet":
        return pq.read_table(path).to_pylist()
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
    if fmt == "csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            return next(csv.reader(f))
    if fmt == "jsonl":
        return list(json.loads(path.read_text(encoding="utf-8").splitlines()[0]))
    if fmt == "parquet":
        return pq.read_schema(path).names
    book = load_workbook(path, read_only=True)
    names = [c.value for c in next(book[layout].iter_rows(max_row=1))]
    book.close()
    return names


# --- what the store holds, computed here without the exporter --------------------------------

def canon(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == AMOUNT:
        return Decimal(str(value))
    assert float(value).is_integer()
    return int(value)


def stored_cells(row: ReportRow) -> dict[str, Any]:
    """Every cell of every template version: the report's own cells, None elsewhere."""
    cells: dict[str, Any] = {}
    for template in TEMPLATES.values():
        for ref in template.cells():
            cells.setdefault(".".join(ref), None)
    template = TEMPLATES.get(row.format or "")
    if template is not None:
        for (t, r, c) in template.cells():
            cells[f"{t}.{r}.{c}"] = canon(row.report[t][r][c], template.kind((t, r, c)))
    return cells


def stored_meta(row: ReportRow) -> dict[str, Any]:
    checks = row.report["checks"]
    return {
        "organ_key": row.organ_key, "organ": row.organ,
        **{k: row.report.get(k) for k in ("organ_as_printed", "publisher", "division_code",
                                          "division_level")},
        "year": row.year, "format": row.format,
        "published": row.report["published"], "title": row.report["title"] or None,
        "source_url": row.report["source_url"], "portal": row.report["portal"],
        "n_sources": row.n_sources, "parser_version": row.parser_version,
        "identities_passed": sum(c["status"] == "pass" for c in checks),
        "identities_failed": sum(c["status"] == "fail" for c in checks),
        "identities_uncertain": sum(c["status"] == "uncertain" for c in checks),
        "flags": "\n".join(row.report["flags"]) or None,
    }


def assert_same_values(got: dict[str, Any], want: dict[str, Any], where: str) -> None:
    """Equal, and the same kind of number: counts ints, amounts Decimals (not floats)."""
    assert got.keys() == want.keys(), where
    for key, value in want.items():
        assert got[key] == value, (where, key, got[key], value)
        if value is not None:
            assert type(got[key]) is type(value), (where, key, got[key], value)


@pytest.fixture
def filled(store: Store) -> Store:
    fill(store)
    return store


def write(store: Store, fmt: str, layout: str, tmp_path: Path) -> Path:
    path = tmp_path / f"reports-{layout}.{fmt}"
    export(store, fmt, layout, path)
    assert path.is_file() and not path.with_name(path.name + ".part").exists()
    return path


# --- round trips ----------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_wide_equals_the_store(filled: Store, fmt: str, tmp_path: Path) -> None:
    path = write(filled, fmt, "wide", tmp_path)
    assert header(path, fmt, "wide") == [f.name for f in fields("wide")]
    rows = [typed(r, "wide", fmt) for r in read_back(path, fmt, "wide")]
    stored = list(filled.reports())
    assert len(rows) == len(stored) == 13
    for row, report in zip(rows, stored, strict=True):
        where = f"{fmt} {report.organ_key} {report.year}"
        assert_same_values(row, {**stored_meta(report), **stored_cells(report)}, where)
    # the corpus has what the round trip must survive
    values = [v for row in rows for k, v in row.items() if "." in k]
    assert any(isinstance(v, int) and v < 0 for v in values)  # 本年增/减
    assert any(isinstance(v, Decimal) and v != v.to_integral_value() for v in values)
    assert Decimal(str(TENTH)) in values
    assert {row["format"] for row in rows} == {"2019", "2021", "legacy"}
    assert {row["organ"] for row in rows} >= {EVIL_ORGAN, MINUS_ORGAN}
    # the seeds' organs: 西藏自治区人民政府办公厅, 五指山市人民政府办公室, 工布江达县人民政府
    assert {(row["division_code"], row["division_level"]) for row in rows} >= {
        ("540000", "province"), ("469001", "county"), ("540421", "county")}


@pytest.mark.parametrize("fmt", FORMATS)
def test_long_to_wide_equals_the_stored_values(filled: Store, fmt: str, tmp_path: Path) -> None:
    path = write(filled, fmt, "long", tmp_path)
    assert header(path, fmt, "long") == [
        "organ_key", "organ", "division_code", "year", "format", "table", "table_label", "row",
        "row_label", "column", "column_label", "value", "inferred"]
    long = [typed(r, "long", fmt) for r in read_back(path, fmt, "long")]
    stored = [r for r in filled.reports() if r.format in TEMPLATES]  # legacy: no cells
    assert len(long) == sum(len(TEMPLATES[r.format].cells()) for r in stored)
    rebuilt = long_to_wide(long)
    assert len(rebuilt) == len(stored)
    for wide, report in zip(rebuilt, stored, strict=True):
        want = {"organ_key": report.organ_key, "organ": report.organ,
                "division_code": report.report.get("division_code"), "year": report.year,
                "format": report.format, **stored_cells(report)}
        assert_same_values(wide, want, f"{fmt} {report.organ_key} {report.year}")


@pytest.mark.parametrize("fmt", FORMATS)
def test_long_labels_and_inferred_marks(filled: Store, fmt: str, tmp_path: Path) -> None:
    path = write(filled, fmt, "long", tmp_path)
    long = [typed(r, "long", fmt) for r in read_back(path, fmt, "long")]
    reports = {(r.organ_key, r.year): r for r in filled.reports()}
    marked = 0
    for row in long:
        report = reports[(row["organ_key"], row["year"])]
        table = TEMPLATES[report.format].table(row["table"])
        template_row = table.row(row["row"])
        assert row["table_label"] == table.title
        assert row["row_label"].endswith(template_row.label)
        assert row["row_label"].startswith(template_row.group)
        assert row["column_label"] == table.column(row["column"]).label
        cell = f"{row['table']}.{row['row']}.{row['column']}"
        assert row["inferred"] is (cell in {i["cell"] for i in report.report["inferred"]})
        marked += row["inferred"]
    assert marked == sum(len(r.report["inferred"]) for r in reports.values()) > 0
    labels = {(r["row"], r["row_label"]) for r in long}
    assert ("withheld_state_secret", "(三)不予公开·1.属于国家秘密") in labels
    assert ("other_other", "(六)其他处理·3.其他") in labels


# --- numbers stay numbers, formulas do not run ----------------------------------------------

def test_csv_escapes_text_not_numbers(filled: Store, tmp_path: Path) -> None:
    path = write(filled, "csv", "wide", tmp_path)
    raw = {r["organ"]: r for r in read_back(path, "csv", "wide")}
    assert f"'{EVIL_ORGAN}" in raw and f"'{MINUS_ORGAN}" in raw
    assert EVIL_ORGAN not in raw and MINUS_ORGAN not in raw
    minus = raw[f"'{MINUS_ORGAN}"]
    assert minus["title"] == f"'{DDE_TITLE}"
    changes = [v for r in raw.values() for k, v in r.items() if k.endswith(".change") and v]
    assert any(v.startswith("-") for v in changes)  # negative 本年增/减 ...
    assert all(re.fullmatch(r"-?\d+", v) for v in changes)  # ... are plain numbers, no quote
    assert not any(v.startswith("'") for r in raw.values() for k, v in r.items() if "." in k)
    assert raw[f"'{EVIL_ORGAN}"]["active_disclosure.admin_fees.amount_10k_yuan"] == "0.1"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the CSV as UTF-8


def test_xlsx_text_is_never_a_formula(filled: Store, tmp_path: Path) -> None:
    path = write(filled, "xlsx", "wide", tmp_path)
    book = load_workbook(path)  # not read-only: cell styles are loaded
    sheet = book["wide"]
    names = [c.value for c in sheet[1]]
    organ = names.index("organ") + 1
    change = names.index("active_disclosure.admin_licensing.change") + 1
    fees = names.index("active_disclosure.admin_fees.amount_10k_yuan") + 1
    by_organ = {sheet.cell(r, organ).value: r for r in range(2, sheet.max_row + 1)}
    for hostile in (EVIL_ORGAN, MINUS_ORGAN):
        cell = sheet.cell(by_organ[hostile], organ)
        assert cell.data_type == "s" and cell.value == hostile and cell.quotePrefix
    changes = [sheet.cell(r, change) for r in by_organ.values()]
    # 本年增/减 stay numbers
    assert any(c.data_type == "n" and c.value is not None and c.value < 0 for c in changes)
    tenth = sheet.cell(by_organ[EVIL_ORGAN], fees)
    assert tenth.data_type == "n" and tenth.value == TENTH
    with zipfile.ZipFile(path) as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")  # no formula anywhere
    assert {"column", "type", "label"} <= {c.value for c in book["columns"][1]}
    book.close()


def test_parquet_columns_are_typed(filled: Store, tmp_path: Path) -> None:
    wide = pq.read_schema(write(filled, "parquet", "wide", tmp_path))
    assert wide.field("year").type == pa.int64()
    assert wide.field("organ").type == pa.string()
    assert wide.field("active_disclosure.admin_licensing.change").type == pa.int64()
    assert pa.types.is_decimal(wide.field("active_disclosure.admin_fees.amount_10k_yuan").type)
    label = wide.field("applications.disclosed.total").metadata[b"label"].decode()
    assert "三、收到和处理政府信息公开申请情况" in label and "总计" in label
    long = pq.read_schema(write(filled, "parquet", "long", tmp_path))
    assert pa.types.is_decimal(long.field("value").type)
    assert long.field("inferred").type == pa.bool_()


def test_jsonl_numbers_are_json_numbers(filled: Store, tmp_path: Path) -> None:
    path = write(filled, "jsonl", "wide", tmp_path)
    rows = {r["organ"]: r for r in map(json.loads, path.read_text("utf-8").splitlines())}
    assert EVIL_ORGAN in rows  # data formats are not escaped
    assert rows[EVIL_ORGAN]["active_disclosure.admin_fees.amount_10k_yuan"] == TENTH
    assert isinstance(rows[MINUS_ORGAN]["active_disclosure.admin_licensing.change"], int)


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_escape_each_prefix(prefix: str) -> None:
    text = f"{prefix}1+1"
    assert escape(text) == f"'{text}" and unescape(escape(text)) == text


@given(st.text(max_size=12))
def test_unescape_inverts_escape(text: str) -> None:
    escaped = escape(text)
    assert unescape(escaped) == text
    assert not escaped.startswith(FORMULA_PREFIXES)


# --- columns, streams, sheets, the command ---------------------------------------------------

def test_wide_columns_are_the_template_union_in_template_order() -> None:
    names = [c.name for c in cell_columns()]
    assert len(names) == len(set(names))
    assert set(names) == {".".join(ref) for t in TEMPLATES.values() for ref in t.cells()}
    for template in TEMPLATES.values():
        own = [".".join(ref) for ref in template.cells()]
        assert [n for n in names if n in set(own)] == own  # each version's order is kept
    # 2019's extra row sits where the 2019 template prints it
    assert names.index("active_disclosure.other_external_services.decisions") < \
        names.index("active_disclosure.admin_penalty.decisions")


def test_streams_and_empty_store(store: Store, tmp_path: Path) -> None:
    text = io.StringIO()
    assert export(store, "csv", "long", text) == 0
    assert text.getvalue().strip().split(",")[0] == "organ_key"
    binary = io.BytesIO()
    assert export(store, "parquet", "wide", binary) == 0
    assert pq.read_table(io.BytesIO(binary.getvalue())).num_rows == 0
    with pytest.raises(ExportError, match="binary"):
        export(store, "xlsx", "wide", io.StringIO())
    with pytest.raises(ExportError, match="format"):
        export(store, "ods", "wide", tmp_path / "x.ods")
    with pytest.raises(ExportError, match="layout"):
        export(store, "csv", "tall", tmp_path / "x.csv")


def test_xlsx_continues_on_another_sheet(filled: Store, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_module, "XLSX_MAX_ROWS", 500)
    path = write(filled, "xlsx", "long", tmp_path)
    book = load_workbook(path, read_only=True)
    sheets = [s.title for s in book.worksheets]
    book.close()
    assert sheets[:3] == ["long", "long_2", "long_3"] and sheets[-1] == "columns"
    rebuilt = long_to_wide(typed(r, "long", "xlsx") for r in read_back(path, "xlsx", "long"))
    stored = [r for r in filled.reports() if r.format in TEMPLATES]
    assert [w["active_disclosure.regulations.in_force"] for w in rebuilt] == \
        [stored_cells(r)["active_disclosure.regulations.in_force"] for r in stored]


def test_main_export(filled: Store, target: str, tmp_path: Path,
                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out" / "reports.parquet"
    assert main_export(target, "parquet", "wide", out) == 0
    assert pq.read_table(out).num_rows == 13
    assert "13 wide rows (parquet)" in capsys.readouterr().err
    assert main_export(target, "jsonl", "long", "-") == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == int(captured.err.split()[0]) > 0
    assert main_export(target, "csv", "wide", None) == 0
    assert capsys.readouterr().out.startswith("organ_key,")  # a BOM only in files
    assert main_export(target, "ods", "wide", out) == 2


def test_main_export_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    missing = tmp_path / "nowhere" / "gkcrawl.sqlite3"
    assert main_export(missing, "csv", "wide", tmp_path / "x.csv") == 1
    assert f"no store at {missing}" in capsys.readouterr().err
    assert not missing.parent.exists()  # no empty store created on the way
    assert main_export(missing, "xlsx", "wide", None, stdout=Terminal()) == 2
    assert "give --output FILE" in capsys.readouterr().err
