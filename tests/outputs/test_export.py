"""Exports against both backends: every format and layout is written, read back with its own
library (csv, json, pyarrow, openpyxl, pandas.read_stata; a data package's CSV with csv) and
compared with the stored reports; long → panel gives the stored cells back; text that a
spreadsheet would run as a formula is neutralised, numbers are not."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from gkcrawl.crawl import registry
from gkcrawl.outputs import export as export_module
from gkcrawl.outputs.export import (
    FORMATS,
    FORMULA_PREFIXES,
    ExportError,
    escape,
    export,
    fields,
    long_to_panel,
    main_export,
    typed,
    unescape,
)
from gkcrawl.outputs.variables import variables
from gkcrawl.store import ReportRow, Store
from gkcrawl.template.spec import AMOUNT, TEMPLATES
from tests.outputs.corpus import (
    DDE_TITLE,
    EVIL_ORGAN,
    MINUS_ORGAN,
    TENTH,
    WARC_STEP,
    fill,
)
from tests.outputs.expected import REGION_OF
from tests.outputs.reading import header, read_back

LAYOUTS = ("panel", "long")
#: the panel's template cell columns
CELLS = frozenset(v.name for v in variables())


# --- what the store holds, computed here without the exporter --------------------------------

def canon(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == AMOUNT:
        return Decimal(str(value))
    assert float(value).is_integer()
    return int(value)


def stored_cells(row: ReportRow) -> dict[str, Any]:
    """Every panel variable: the report's cells where its template version has the variable
    (a sum where the crosswalk says so), None elsewhere."""
    cells: dict[str, Any] = {}
    for variable in variables():
        source = variable.source(row.format)
        if source is None:
            cells[variable.name] = None
            continue
        values = [canon(row.report[t][r][c], variable.kind) for t, r, c in source.cells]
        cells[variable.name] = None if None in values else sum(values)
    return cells


#: (province, city, county) of the seeds' organs, read by hand from GB/T 2260
SEED_PLACES = {"469001": ("海南省", None, "五指山市"),
               "540421": ("西藏自治区", "林芝市", "工布江达县"),
               "540000": ("西藏自治区", None, None), "650000": ("新疆维吾尔自治区", None, None),
               "460100": ("海南省", "海口市", None),
               "533423": ("云南省", "迪庆藏族自治州", "维西傈僳族自治县")}


def stored_division(row: ReportRow) -> dict[str, Any]:
    """The report's own division where it has one (the seeds' organs), else its portal's: the
    code and level from the registry, the province by hand (tests/outputs/expected.py)."""
    portal = {p.id: p for p in registry.load()}.get(row.report.get("portal") or "")
    if code := row.report.get("division_code"):
        province, city, county = SEED_PLACES[code]
        return {"division_code": code, "province": province, "city": city, "county": county,
                "level": row.report["division_level"], "division_source": "report"}
    if portal is None:
        return dict.fromkeys(("division_code", "province", "city", "county", "level",
                              "division_source"))
    province = REGION_OF[portal.id]
    return {"division_code": portal.region_code, "city": None, "county": None,
            "province": None if province == "中央" else province, "level": portal.level,
            "division_source": "portal"}


def stored_meta(row: ReportRow) -> dict[str, Any]:
    checks = row.report["checks"]
    return {
        "organ_key": row.organ_key, "organ": row.organ, "year": row.year, "format": row.format,
        "published": date.fromisoformat(row.report["published"])
        if row.report["published"] else None,
        "title": row.report["title"] or None, **stored_division(row),
        "publisher": row.report.get("publisher"),
        "organ_as_printed": row.report.get("organ_as_printed"),
        "source_url": row.report["source_url"], "portal": row.report["portal"],
        "warc_file": "crawl-a/crawl-a-00000.warc.gz", "warc_offset": row.warc_offset,
        "warc_record_id": row.record_id, "fetched": date(2024, 2, 1),
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
    written = path / "datapackage.json" if fmt == "datapackage" else path
    assert written.is_file() and not written.with_name(written.name + ".part").exists()
    return path


# --- round trips ----------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_panel_equals_the_store(filled: Store, fmt: str, tmp_path: Path) -> None:
    path = write(filled, fmt, "panel", tmp_path)
    assert header(path, fmt, "panel") == [f.name for f in fields("panel")]
    rows = [typed(r, "panel", fmt) for r in read_back(path, fmt, "panel")]
    stored = list(filled.reports())
    assert len(rows) == len(stored) == 13
    for row, report in zip(rows, stored, strict=True):
        where = f"{fmt} {report.organ_key} {report.year}"
        assert_same_values(row, {**stored_meta(report), **stored_cells(report)}, where)
    # the corpus has what the round trip must survive
    values = [v for row in rows for k, v in row.items() if k in CELLS]
    assert any(isinstance(v, int) and v < 0 for v in values)  # 本年增/减
    assert any(isinstance(v, Decimal) and v != v.to_integral_value() for v in values)
    assert Decimal(str(TENTH)) in values
    assert {row["format"] for row in rows} == {"2019", "2021", "legacy"}
    assert {row["organ"] for row in rows} >= {EVIL_ORGAN, MINUS_ORGAN}
    assert {row["division_source"] for row in rows} == {"report", "portal", None}
    assert {row["warc_offset"] % WARC_STEP for row in rows} == {0}
    assert all(isinstance(row["published"], date) for row in rows)
    # the seeds' organs: 西藏自治区人民政府办公厅, 五指山市人民政府办公室, 工布江达县人民政府
    assert {(row["division_code"], row["level"]) for row in rows} >= {
        ("540000", "province"), ("469001", "county"), ("540421", "county")}


@pytest.mark.parametrize("fmt", FORMATS)
def test_long_to_panel_equals_the_stored_values(filled: Store, fmt: str, tmp_path: Path) -> None:
    path = write(filled, fmt, "long", tmp_path)
    assert header(path, fmt, "long") == [
        "organ_key", "organ", "year", "format", "table", "table_label", "row", "row_label",
        "column", "column_label", "value", "inferred"]
    long = [typed(r, "long", fmt) for r in read_back(path, fmt, "long")]
    stored = [r for r in filled.reports() if r.format in TEMPLATES]  # legacy: no cells
    assert len(long) == sum(len(TEMPLATES[r.format].cells()) for r in stored)
    rebuilt = long_to_panel(long)
    assert len(rebuilt) == len(stored)
    for panel, report in zip(rebuilt, stored, strict=True):
        want = {"organ_key": report.organ_key, "organ": report.organ, "year": report.year,
                "format": report.format, **stored_cells(report)}
        assert_same_values(panel, want, f"{fmt} {report.organ_key} {report.year}")


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
    path = write(filled, "csv", "panel", tmp_path)
    raw = {r["organ"]: r for r in read_back(path, "csv", "panel")}
    assert f"'{EVIL_ORGAN}" in raw and f"'{MINUS_ORGAN}" in raw
    assert EVIL_ORGAN not in raw and MINUS_ORGAN not in raw
    minus = raw[f"'{MINUS_ORGAN}"]
    assert minus["title"] == f"'{DDE_TITLE}"
    changes = [v for r in raw.values() for k, v in r.items() if k.endswith("_change") and v]
    assert any(v.startswith("-") for v in changes)  # negative 本年增/减 ...
    assert all(re.fullmatch(r"-?\d+", v) for v in changes)  # ... are plain numbers, no quote
    assert not any(v.startswith("'") for r in raw.values() for k, v in r.items() if k in CELLS)
    assert raw[f"'{EVIL_ORGAN}"]["t1_fees_amt10k"] == "0.1"
    assert minus["published"] == "2020-01-29"  # ISO dates
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the CSV as UTF-8


def test_xlsx_text_is_never_a_formula(filled: Store, tmp_path: Path) -> None:
    path = write(filled, "xlsx", "panel", tmp_path)
    book = load_workbook(path)  # not read-only: cell styles are loaded
    sheet = book["panel"]
    names = [c.value for c in sheet[1]]
    organ = names.index("organ") + 1
    change = names.index("t1_lic_change") + 1
    fees = names.index("t1_fees_amt10k") + 1
    published = names.index("published") + 1
    by_organ = {sheet.cell(r, organ).value: r for r in range(2, sheet.max_row + 1)}
    for hostile in (EVIL_ORGAN, MINUS_ORGAN):
        cell = sheet.cell(by_organ[hostile], organ)
        assert cell.data_type == "s" and cell.value == hostile and cell.quotePrefix
    changes = [sheet.cell(r, change) for r in by_organ.values()]
    # 本年增/减 stay numbers
    assert any(c.data_type == "n" and c.value is not None and c.value < 0 for c in changes)
    tenth = sheet.cell(by_organ[EVIL_ORGAN], fees)
    assert tenth.data_type == "n" and tenth.value == TENTH
    day = sheet.cell(by_organ[MINUS_ORGAN], published)  # a date cell, shown as a date
    assert day.is_date and day.value.date() == date(2020, 1, 29)
    assert day.number_format == "yyyy-mm-dd"
    with zipfile.ZipFile(path) as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")  # no formula anywhere
    codebook = list(book["columns"].values)
    assert codebook[0] == ("name", "type", "unit", "label", "description", "table", "row",
                           "column", "templates")
    new_np = next(r for r in codebook if r[0] == "t2_new_np")
    assert new_np[1:3] == ("integer", "count") and new_np[-1] == "2021 2019"
    assert new_np[5:8] == ("applications", "new_received", "natural_person")
    assert "自然人" in new_np[3]
    crosswalk = list(book["crosswalk"].values)
    assert ("t1_reg_issued", "2019", "active_disclosure.regulations.new_made",
            "规章·本年新制作数量", "equivalent") in crosswalk
    book.close()


def test_parquet_columns_are_typed(filled: Store, tmp_path: Path) -> None:
    panel = pq.read_schema(write(filled, "parquet", "panel", tmp_path))
    assert panel.field("year").type == pa.int64()
    assert panel.field("organ").type == pa.string()
    assert panel.field("published").type == pa.date32()
    assert panel.field("fetched").type == pa.date32()
    assert panel.field("t1_lic_change").type == pa.int64()
    fees = panel.field("t1_fees_amt10k")
    assert pa.types.is_decimal(fees.type) and fees.metadata[b"unit"].decode().startswith("万元")
    label = panel.field("t2_discl_tot").metadata[b"label"].decode()
    assert "三、收到和处理政府信息公开申请情况" in label and "总计" in label
    long = pq.read_schema(write(filled, "parquet", "long", tmp_path))
    assert pa.types.is_decimal(long.field("value").type)
    assert long.field("inferred").type == pa.bool_()


def test_jsonl_numbers_are_json_numbers(filled: Store, tmp_path: Path) -> None:
    path = write(filled, "jsonl", "panel", tmp_path)
    rows = {r["organ"]: r for r in map(json.loads, path.read_text("utf-8").splitlines())}
    assert EVIL_ORGAN in rows  # data formats are not escaped
    assert rows[EVIL_ORGAN]["t1_fees_amt10k"] == TENTH
    assert isinstance(rows[MINUS_ORGAN]["t1_lic_change"], int)
    assert rows[MINUS_ORGAN]["published"] == "2020-01-29"


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

def test_streams_and_empty_store(store: Store, tmp_path: Path) -> None:
    text = io.StringIO()
    assert export(store, "csv", "long", text) == 0
    assert text.getvalue().strip().split(",")[0] == "organ_key"
    binary = io.BytesIO()
    assert export(store, "parquet", "panel", binary) == 0
    assert pq.read_table(io.BytesIO(binary.getvalue())).num_rows == 0
    binary = io.BytesIO()
    assert export(store, "dta", "panel", binary) == 0
    empty = pd.read_stata(io.BytesIO(binary.getvalue()))
    assert len(empty) == 0 and list(empty.columns) == [f.name for f in fields("panel")]
    for fmt in ("xlsx", "dta"):
        with pytest.raises(ExportError, match="binary"):
            export(store, fmt, "panel", io.StringIO())
    with pytest.raises(ExportError, match="directory"):
        export(store, "datapackage", "panel", io.BytesIO())
    with pytest.raises(ExportError, match="format"):
        export(store, "ods", "panel", tmp_path / "x.ods")
    with pytest.raises(ExportError, match="layout"):
        export(store, "csv", "wide", tmp_path / "x.csv")


def test_xlsx_continues_on_another_sheet(filled: Store, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_module, "XLSX_MAX_ROWS", 500)
    path = write(filled, "xlsx", "long", tmp_path)
    book = load_workbook(path, read_only=True)
    sheets = [s.title for s in book.worksheets]
    book.close()
    assert sheets[:3] == ["long", "long_2", "long_3"] and sheets[-1] == "columns"
    rebuilt = long_to_panel(typed(r, "long", "xlsx") for r in read_back(path, "xlsx", "long"))
    stored = [r for r in filled.reports() if r.format in TEMPLATES]
    assert [w["t1_reg_in_force"] for w in rebuilt] == \
        [stored_cells(r)["t1_reg_in_force"] for r in stored]


def test_main_export(filled: Store, target: str, tmp_path: Path,
                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out" / "reports.parquet"
    assert main_export(target, "parquet", "panel", out) == 0
    assert pq.read_table(out).num_rows == 13
    assert "13 panel rows (parquet)" in capsys.readouterr().err
    assert main_export(target, "jsonl", "long", "-") == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == int(captured.err.split()[0]) > 0
    assert main_export(target, "csv", "panel", None) == 0
    assert capsys.readouterr().out.startswith("organ_key,")  # a BOM only in files
    assert main_export(target, "ods", "panel", out) == 2
    assert main_export(target, "datapackage", "panel", None) == 2
    assert "give --output DIR" in capsys.readouterr().err
    package = tmp_path / "package"
    assert main_export(target, "datapackage", "panel", package) == 0
    assert sorted(p.name for p in package.iterdir()) == [
        "codebook.csv", "crosswalk.csv", "datapackage.json", "panel.csv"]


def test_main_export_registry(filled: Store, target: str, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    """Another registry gives the reports without a division of their own its portals'."""
    portals = tmp_path / "portals.csv"
    portals.write_text("id,name,start_url,region_code,level\n"
                       "yunnan,迪庆藏族自治州人民政府,http://www.diqing.gov.cn/,533400,city\n",
                       encoding="utf-8")
    out = tmp_path / "panel.csv"
    assert main_export(target, "csv", "panel", out, registry_path=portals) == 0
    rows = [typed(r, "panel", "csv") for r in read_back(out, "csv", "panel")]
    yunnan = {(r["division_code"], r["level"], r["city"], r["division_source"]) for r in rows
              if r["portal"] == "yunnan"}
    assert yunnan == {("533400", "city", "迪庆藏族自治州", "portal"),  # 白济汛乡: its portal's
                      ("533423", "county", "迪庆藏族自治州", "report")}
    assert all(r["division_code"] is None for r in rows if r["portal"] == "hainan"
               and r["division_source"] != "report")
    portals.write_text("id,name\n", encoding="utf-8")
    assert main_export(target, "csv", "panel", out, registry_path=portals) == 2
    assert "start_url" in capsys.readouterr().err


def test_main_export_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    missing = tmp_path / "nowhere" / "gkcrawl.sqlite3"
    assert main_export(missing, "csv", "panel", tmp_path / "x.csv") == 1
    assert f"no store at {missing}" in capsys.readouterr().err
    assert not missing.parent.exists()  # no empty store created on the way
    for fmt in ("xlsx", "dta"):
        assert main_export(missing, fmt, "panel", None, stdout=Terminal()) == 2
        assert "give --output FILE" in capsys.readouterr().err
