"""The panel: variables derived from the two template versions (the crosswalk), names every tool
takes, one organ's 2019- and 2021-template reports in the same columns (real reports, their
values read by hand), divisions, and what the Stata file and the data package descriptor say."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from gkcrawl.outputs.divisions import PROVINCE_NAMES, code_level, division_names
from gkcrawl.outputs.export import FORMATS, codebook, export, fields, typed
from gkcrawl.outputs.variables import (
    EQUIVALENT_COLUMNS,
    OWN,
    SAME_KEY,
    SUM,
    crosswalk_markdown,
    variables,
)
from gkcrawl.parsing import parse_document
from gkcrawl.pipelines.dedup import source_row
from gkcrawl.quality.validation import validate
from gkcrawl.store import ReportRow, Store
from gkcrawl.template.spec import TEMPLATES
from tests.outputs.corpus import fill
from tests.outputs.reading import read_back
from tests.shared import CORPUS, shared

ROOT = Path(__file__).parents[2]
#: what a name must be for Stata (the strictest), R, SPSS and pandas alike
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")
PINGTAN = {2019: date(2020, 1, 20), 2020: date(2021, 3, 5), 2021: date(2022, 2, 8)}
TABLES = ("active_disclosure", "applications", "review_litigation")


# --- the variables and their names ------------------------------------------------------------

def test_names_every_tool_takes() -> None:
    for layout in ("panel", "long"):
        names = [f.name for f in fields(layout)]
        assert len(names) == len(set(names))
        assert all(NAME.fullmatch(n) and n.isascii() for n in names), names
    panel = {f.name for f in fields("panel")}
    assert {"t2_new_np", "t2_handled_tot", "t2_next_firm", "t3_review_tot",
            "t3_suit_after_pending", "t1_fees_amt10k", "t1_reg_issued", "t2_oth_np",
            "t2_oth_misc_np", "division_code", "warc_record_id"} <= panel
    # Stata's variable labels hold 80 characters: every label fits without being cut
    assert all(len(v.short_label) <= 80 and not v.short_label.endswith("…")
               for v in variables())


def test_the_crosswalk_follows_the_templates() -> None:
    """Every cell of every version fills exactly one variable of its own; the cells both
    versions have share it; keys differ only where EQUIVALENT_COLUMNS says; 2021's three
    (六)其他处理 rows add up to 2019's one."""
    holder: dict[tuple[str, tuple[str, str, str]], str] = {}
    uses: Counter[tuple[str, tuple[str, str, str]]] = Counter()
    for variable in variables():
        for source in variable.sources:
            if source.relation != SUM:
                (ref,) = source.cells
                holder[(source.version, ref)] = variable.name
                uses[(source.version, ref)] += 1
        if len(variable.sources) == 1:
            assert variable.sources[0].relation == OWN
    assert set(uses.values()) == {1}
    assert set(holder) == {(t.version, ref) for t in TEMPLATES.values() for ref in t.cells()}
    old, new = TEMPLATES["2019"], TEMPLATES["2021"]
    both = set(old.cells()) & set(new.cells())
    assert all(holder[("2019", ref)] == holder[("2021", ref)] for ref in both)
    # every cell of table 3, every cell of table 2 but the (六)其他处理 rows, 处理决定数量
    assert {r for r in both if r[0] == "review_litigation"} == \
        set(new.table("review_litigation").cells())
    assert {r[1] for r in both if r[0] == "applications"} == \
        {r.key for r in new.table("applications").rows if not r.group.startswith("(六)")}
    assert {r[1:] for r in both if r[0] == "active_disclosure"} == \
        {(row, "decisions") for row in ("admin_licensing", "admin_penalty", "admin_coercion")}
    renamed = {(t, c) for v in variables() for s in v.sources for t, _, c in s.cells
               if s.relation not in (SUM, SAME_KEY, OWN)}
    assert renamed == set(EQUIVALENT_COLUMNS) == {("active_disclosure", "new_made")}
    assert holder[("2019", ("active_disclosure", "regulations", "new_made"))] == "t1_reg_issued"
    other = next(v for v in variables() if v.name == "t2_oth_np")
    assert [(s.version, s.relation, s.keys) for s in other.sources] == [
        ("2021", SUM, " + ".join(f"applications.{row}.natural_person" for row in (
            "other_overdue_correction", "other_overdue_fee", "other_other"))),
        ("2019", SAME_KEY, "applications.other_handling.natural_person")]
    assert len(variables()) == 224
    assert sum(len(v.sources) == 2 for v in variables()) == 154 + 15 + 3 + 2 + 7


def test_the_docs_print_the_crosswalk() -> None:
    doc = (ROOT / "docs" / "exports.md").read_text(encoding="utf-8")
    assert crosswalk_markdown() in doc
    assert "| `t2_new_*` | same key: `new_received.*` | same key: `new_received.*` |" in doc


def test_the_codebook_describes_every_variable() -> None:
    entries = {e["name"]: e for e in codebook("panel")}
    fees = entries["t1_fees_amt10k"]
    assert (fees["type"], fees["unit"], fees["templates"]) == ("decimal", "万元 (10,000 yuan)",
                                                               "2021")
    assert (fees["table"], fees["row"], fees["column"]) == (
        "active_disclosure", "admin_fees", "amount_10k_yuan")
    assert "本年收费金额" in fees["label"]
    assert entries["t1_reg_issued"]["description"].startswith(
        "2021: same key active_disclosure.regulations.issued; "
        "2019: equivalent active_disclosure.regulations.new_made")
    assert entries["published"]["type"] == "date" and entries["published"]["label"] == "发布日期"


# --- divisions --------------------------------------------------------------------------------

def test_division_names_and_levels() -> None:
    assert len(PROVINCE_NAMES) == 34
    assert division_names("469001") == ("海南省", None, "五指山市")  # under the province
    assert division_names("320813", 2023) == ("江苏省", "淮安市", "洪泽区")
    assert division_names("469099") == ("海南省", None, None)  # not in the list: the province
    assert division_names("540000") == ("西藏自治区", None, None)
    assert division_names("820000") == ("澳门特别行政区", None, None)
    assert division_names("100000") == (None, None, None)  # central government: no province
    assert division_names("4690") == (None, None, None)
    assert [code_level(c) for c in ("110000", "320800", "320813", "100000", None)] == [
        "province", "city", "county", None, None]


# --- one organ under both templates: 平潭综合实验区 2019, 2020 (2019 template), 2021 -------------

def _gold(year: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        shared(CORPUS / "gold" / f"pingtan-{year}.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture
def pingtan(store: Store) -> Store:
    for year in PINGTAN:
        body = shared(CORPUS / f"pingtan-{year}.html").read_bytes()
        result = parse_document(body, "text/html", f"http://www.pingtan.gov.cn/nb/{year}.html")
        assert result.ok, result
        item = {**result.to_dict(), "portal": "fujian"}
        source = source_row({**item, "validation": [f.to_dict() for f in validate(item)]})
        store.upsert_source(source)
        store.upsert_report(ReportRow.from_source(source))
    return store


def _cells(gold: dict[str, Any]) -> dict[tuple[str, str, str], Any]:
    return {(t, r, c): v for t in TABLES for r, cols in gold[t].items() for c, v in cols.items()}


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_organ_both_templates_share_columns(pingtan: Store, fmt: str,
                                                tmp_path: Path) -> None:
    path = tmp_path / f"pingtan.{fmt}"
    assert export(pingtan, fmt, "panel", path) == len(PINGTAN)
    rows = {r["year"]: r for r in (typed(raw, "panel", fmt)
                                   for raw in read_back(path, fmt, "panel"))}
    assert {r["organ"] for r in rows.values()} == {"平潭综合实验区"}
    assert {y: r["published"] for y, r in rows.items()} == PINGTAN  # dates, in every format
    assert {r["province"] for r in rows.values()} == {"福建省"}
    # the crosswalk as written beside the data
    package = tmp_path / "package"
    export(pingtan, "datapackage", "panel", package)
    with (package / "crosswalk.csv").open(encoding="utf-8", newline="") as f:
        column = {(e["version"], e["cells"]): e["name"] for e in csv.DictReader(f)}
    gold = {year: _cells(_gold(year)) for year in PINGTAN}
    shared_cells = gold[2019].keys() & gold[2021].keys()
    assert len(shared_cells) == 154 + 15 + 3
    for ref in shared_cells:
        name = column[("2019", ".".join(ref))]
        assert name == column[("2021", ".".join(ref))]  # one harmonised column ...
        for year in PINGTAN:  # ... holding each year's printed value
            assert rows[year][name] == gold[year][ref], (fmt, year, name)
    active = "active_disclosure"
    assert rows[2019]["t1_norm_issued"] == gold[2019][(active, "normative_documents", "new_made")]
    assert rows[2021]["t1_norm_issued"] == gold[2021][(active, "normative_documents", "issued")]
    assert rows[2019]["t1_norm_tot_pub"] == 89 and rows[2021]["t1_norm_tot_pub"] is None
    assert rows[2021]["t1_norm_in_force"] == 665 and rows[2019]["t1_norm_in_force"] is None
    assert rows[2019]["t1_procure_amt10k"] == Decimal("7539.443252")
    assert rows[2021]["t1_fees_amt10k"] == Decimal("24252.311082")
    assert (rows[2021]["t2_oth_np"], rows[2021]["t2_oth_misc_np"], rows[2019]["t2_oth_np"]) == \
        (1, 1, 0)
    assert rows[2019]["t2_oth_misc_np"] is None


def test_dates_are_typed_in_each_format(pingtan: Store, tmp_path: Path) -> None:
    export(pingtan, "parquet", "panel", tmp_path / "p.parquet")
    table = pq.read_table(tmp_path / "p.parquet")
    assert table.schema.field("published").type == pa.date32()
    assert sorted(table.column("published").to_pylist()) == sorted(PINGTAN.values())
    export(pingtan, "xlsx", "panel", tmp_path / "p.xlsx")
    book = load_workbook(tmp_path / "p.xlsx", read_only=True)
    names = [c.value for c in next(book["panel"].iter_rows(max_row=1))]
    cells = [row[names.index("published")] for row in book["panel"].iter_rows(min_row=2)]
    assert all(c.is_date for c in cells)
    book.close()
    export(pingtan, "dta", "panel", tmp_path / "p.dta")
    with pd.io.stata.StataReader(tmp_path / "p.dta") as reader:
        frame = reader.read()
        formats = dict(zip(frame.columns, reader._fmtlist, strict=True))
    assert formats["published"] == formats["fetched"] == "%td"
    assert sorted(d.date() for d in frame["published"]) == sorted(PINGTAN.values())


# --- what Stata and the data package are told -------------------------------------------------

@pytest.fixture
def filled(store: Store) -> Store:
    fill(store)
    return store


def test_stata_labels(filled: Store, tmp_path: Path) -> None:
    export(filled, "dta", "panel", tmp_path / "p.dta")
    with pd.io.stata.StataReader(tmp_path / "p.dta") as reader:
        labels = reader.variable_labels()
        assert reader.data_label.startswith("政府信息公开工作年度报告")
    assert labels["t2_new_np"] == "表2 一、本年新收政府信息公开申请数量 自然人"
    assert labels["t1_reg_issued"] == "表1 规章 本年制发件数"
    assert labels["published"] == "发布日期" and labels["province"] == "省级"
    assert list(labels) == [f.name for f in fields("panel")]


#: Table Schema's field types
SCHEMA_TYPES = {"string", "number", "integer", "boolean", "object", "array", "date", "time",
                "datetime", "year", "yearmonth", "duration", "geopoint", "geojson", "any"}


def _cast(value: str, field: dict[str, Any]) -> Any:
    """A CSV value read as its Table Schema type says (what a frictionless reader does)."""
    kind = field["type"]
    if kind == "integer":
        return int(value)
    if kind == "number":
        return Decimal(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "boolean":
        assert value in field["trueValues"] + field["falseValues"]
        return value in field["trueValues"]
    return value


@pytest.mark.parametrize("layout", ["panel", "long"])
def test_the_data_package_descriptor(filled: Store, tmp_path: Path, layout: str) -> None:
    """The descriptor against the Data Package and Table Schema rules: resources, files that
    match their size and hash, a schema naming the CSV's columns with their types and
    Chinese titles, a primary key that holds, values that cast to their types."""
    package = tmp_path / "package"
    export(filled, "datapackage", layout, package)
    descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["profile"] == "tabular-data-package"
    assert re.fullmatch(r"[a-z0-9._-]+", descriptor["name"])
    names = [r["name"] for r in descriptor["resources"]]
    assert names == [layout, "codebook", *(["crosswalk"] if layout == "panel" else [])]
    labels = {f.name: f.label for f in fields(layout)}
    for resource in descriptor["resources"]:
        assert resource["profile"] == "tabular-data-resource"
        assert re.fullmatch(r"[a-z0-9._-]+", resource["name"])
        path = package / resource["path"]
        assert path.parent == package and path.is_file()
        data = path.read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")  # a data file: no BOM
        assert resource["bytes"] == len(data)
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert resource["encoding"] == "utf-8" and resource["format"] == "csv"
        schema = resource["schema"]
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f, lineterminator=resource["dialect"]["lineTerminator"])
            head, *rows = list(reader)
        assert [f["name"] for f in schema["fields"]] == head
        assert {f["type"] for f in schema["fields"]} <= SCHEMA_TYPES
        missing = set(schema["missingValues"])
        for row in rows:
            for value, field in zip(row, schema["fields"], strict=True):
                if value not in missing:
                    _cast(value, field)
        if resource["name"] != layout:
            continue
        assert {f["name"]: f.get("title", "") for f in schema["fields"]} == labels
        key = [head.index(k) for k in schema["primaryKey"]]
        assert len({tuple(r[i] for i in key) for r in rows}) == len(rows) > 0
        types = {f["name"]: f["type"] for f in schema["fields"]}
        if layout == "panel":
            assert types["published"] == "date" and types["year"] == "integer"
            assert types["t2_new_np"] == "integer" and types["t1_fees_amt10k"] == "number"
            new = next(f for f in schema["fields"] if f["name"] == "t2_new_np")
            assert "applications.new_received.natural_person" in new["description"]
        else:
            assert types["value"] == "number" and types["inferred"] == "boolean"
