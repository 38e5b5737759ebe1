"""Attachment extractors (DOCX, PDF, legacy Word) and the renderers that make their fixtures.

Fixtures live in tests/fixtures/attachments (regenerate with make_fixtures.py there); their true
values are in reports.json, read off seeds 001, 002 and 004.
"""

from __future__ import annotations

import io
import json
import os
import stat
import sys
import time
import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from gkcrawl.demo.render.docx import (
    TEMPLATE_2021_DOCX,
    format_value,
    official_label,
    render_docx,
)
from gkcrawl.demo.render.pdf import CJK_FONT, render_pdf
from gkcrawl.parsing.document import TABLE, TEXT, Document, Row, Unreadable
from gkcrawl.parsing.extract import legacy
from gkcrawl.parsing.extract.docx import extract_docx
from gkcrawl.parsing.extract.legacy import extract_legacy
from gkcrawl.parsing.extract.pdf import MAX_PAGES, extract_pdf
from gkcrawl.template.spec import AMOUNT, SIGNED, TEMPLATES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "attachments"
TRUTH = json.loads((FIXTURES / "reports.json").read_text(encoding="utf-8"))
REPORTS: dict[str, dict[str, Any]] = TRUTH["reports"]
FIXTURE_REPORTS: dict[str, str] = TRUTH["fixtures"]
TABLE_KEYS = ("active_disclosure", "applications", "review_litigation")
#: Grid widths of the printed tables: table 1 (label + 3), table 2 (3 labels + 7), table 3 (15).
T1_WIDTH, T2_WIDTH, T3_WIDTH = 4, 10, 15
T2_LABEL_COLUMNS = 3
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def report_of(name: str) -> dict[str, Any]:
    return REPORTS[FIXTURE_REPORTS[name]]


def squash(text: str) -> str:
    """What a label normaliser does at least: width folding, no whitespace or line breaks."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def distinct(row: Row) -> list[str]:
    return [c.text for c in row.distinct()]


def printed_values(doc: Document, report: dict[str, Any]) -> dict[str, dict[str, dict[str, str]]]:
    """Cell texts found in the extracted grids, located by row label and grid position only."""
    template = TEMPLATES[report["format"]]
    out: dict[str, dict[str, dict[str, str]]] = {k: {} for k in TABLE_KEYS}
    t1, t2, t3 = (template.table(k) for k in TABLE_KEYS)
    t1_labels = {squash(official_label(r.label)): r for r in t1.rows}
    t2_labels = {squash(official_label(r.label)): r for r in t2.rows}
    t3_rows = [r for r in doc.rows if r.kind == TABLE and len(r.cells) == T3_WIDTH]
    for row in doc.rows:
        if row.kind != TABLE:
            continue
        if len(row.cells) == T1_WIDTH and squash(row.cells[0].text) in t1_labels:
            spec = t1_labels[squash(row.cells[0].text)]
            texts = distinct(row)[1:]
            out[t1.key][spec.key] = dict(zip(t1.row_columns(spec), texts, strict=True))
        elif (
            len(row.cells) == T2_WIDTH and squash(row.cells[T2_LABEL_COLUMNS - 1].text) in t2_labels
        ):
            spec = t2_labels[squash(row.cells[T2_LABEL_COLUMNS - 1].text)]
            texts = [c.text for c in row.cells[T2_LABEL_COLUMNS:]]
            out[t2.key][spec.key] = dict(zip(t2.row_columns(spec), texts, strict=True))
    numbers = [c.text for c in t3_rows[-1].cells]
    width = len(t3.columns)
    for i, spec in enumerate(t3.rows):
        out[t3.key][spec.key] = dict(
            zip(t3.row_columns(spec), numbers[i * width : (i + 1) * width], strict=True)
        )
    return out


def expected_texts(report: dict[str, Any]) -> dict[str, dict[str, dict[str, str]]]:
    return {
        t: {
            row: {col: format_value(v) for col, v in cols.items()}
            for row, cols in report[t].items()
        }
        for t in TABLE_KEYS
    }


def same_number(got: Any, want: Any) -> bool:
    if got is None or want is None:
        return got is want
    return Decimal(str(got)) == Decimal(str(want))


# --- DOCX: the official blank template --------------------------------------------------------


@pytest.fixture(scope="module")
def blank() -> Document:
    return extract_docx(TEMPLATE_2021_DOCX.read_bytes())


def table_rows(doc: Document, index: int) -> list[Row]:
    return [r for r in doc.rows if r.kind == TABLE and r.table == index]


def test_blank_template_tables_in_document_order(blank: Document) -> None:
    assert blank.kind == "docx"
    kinds = [(r.kind, r.table) for r in blank.rows]
    texts = [r.cells[0].text for r in blank.rows]
    assert sorted({t for k, t in kinds if k == TABLE}) == [0, 1, 2]
    assert [len(table_rows(blank, i)) for i in range(3)] == [14, 28, 4]
    # headings come right before their tables, in order
    for heading, table in (
        ("二、主动公开政府信息情况", 0),
        ("三、收到和处理政府信息公开申请情况", 1),
        ("四、政府信息公开行政复议、行政诉讼情况", 2),
    ):
        at = texts.index(heading)
        assert blank.rows[at].kind == TEXT
        assert blank.rows[at + 1].table == table
    assert texts[-1].startswith("（文字描述，收取信息处理费")
    assert "政府信息公开工作年度报告格式模板" in blank.text.splitlines()[0]


def test_blank_template_horizontal_spans_share_one_origin(blank: Document) -> None:
    header = table_rows(blank, 2)[0]
    assert [c.text for c in header.cells] == ["行政复议"] * 5 + ["行政诉讼"] * 10
    assert len({c.origin for c in header.cells[:5]}) == 1
    assert len({c.origin for c in header.cells[5:]}) == 1
    assert header.cells[0].origin != header.cells[5].origin
    licensing = table_rows(blank, 0)[6]
    assert licensing.cells[0].text == "行政许可"
    assert len({c.origin for c in licensing.cells[1:]}) == 1  # 本年处理决定数量 spans three columns
    regulations = table_rows(blank, 0)[2]
    assert regulations.texts == ["规章", "", "", ""]  # blank cells keep their own origins
    assert len({c.origin for c in regulations.cells}) == 4


def test_blank_template_vertical_merges_share_one_origin(blank: Document) -> None:
    rows = table_rows(blank, 1)
    results = [r for r in rows if r.cells[0].text == "三、本年度办理结果"]
    assert len(results) == 22  # (一) … (六)3.其他 and (七)总计
    assert len({r.cells[0].origin for r in results}) == 1
    withheld = [r for r in rows if r.cells[1].text == "（三）不予公开"]
    assert [r.cells[2].text[:2] for r in withheld] == [f"{i}." for i in range(1, 9)]
    assert len({r.cells[1].origin for r in withheld}) == 1
    assert withheld[0].cells[1].origin != results[0].cells[0].origin
    # the note spans 3 rows x 3 columns; 自然人 and 总计 span the two lower header rows
    note = {c.origin for r in rows[:3] for c in r.cells[:3]}
    assert len(note) == 1
    assert rows[1].cells[3].origin == rows[2].cells[3].origin
    assert rows[1].cells[9].origin == rows[2].cells[9].origin
    assert rows[1].cells[4].origin != rows[2].cells[4].origin  # 法人或其他组织 over 商业企业
    # the values grid is all blank cells, each its own
    values = [c for r in rows[3:] for c in r.cells[3:]]
    assert {c.text for c in values} == {""}
    assert len({c.origin for c in values}) == len(values)


def test_table3_header_merges_in_blank_template(blank: Document) -> None:
    _, header2, header3, numbers = table_rows(blank, 2)
    for col in range(5):  # 结果维持 … 总计 of 行政复议 span two header rows
        assert header2.cells[col].origin == header3.cells[col].origin
    assert {c.text for c in header2.cells[5:10]} == {"未经复议直接起诉"}
    assert len({c.origin for c in header2.cells[5:10]}) == 1
    assert len(numbers.cells) == T3_WIDTH


# --- DOCX: rendered fixtures ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["report-2021.docx", "report-2019.docx"])
def test_rendered_docx_numbers_in_their_grid_positions(name: str) -> None:
    report = report_of(name)
    doc = extract_docx(fixture(name))
    assert printed_values(doc, report) == expected_texts(report)
    assert doc.meta["title"] == report["title"]
    assert doc.rows[0].kind == TEXT and doc.rows[0].cells[0].text == report["title"]
    assert f"发布日期：{report['published']}" in doc.text


def test_rendered_2021_docx_has_seed_002_values() -> None:
    doc = extract_docx(fixture("report-2021.docx"))
    not_held = next(
        r for r in doc.rows if r.kind == TABLE and r.cells[2].text == "1.本机关不掌握相关政府信息"
    )
    assert not_held.cells[1].text == "（四）无法提供"
    assert not_held.texts[3:] == ["56", "3", "0", "0", "0", "0", "59"]
    numbers = [r for r in doc.rows if r.kind == TABLE and len(r.cells) == T3_WIDTH][-1]
    assert numbers.texts == [
        "1",
        "0",
        "0",
        "0",
        "1",
        "1",
        "0",
        "0",
        "1",
        "2",
        "0",
        "0",
        "0",
        "1",
        "1",
    ]


def test_rendered_2019_docx_has_real_merges_and_signed_values() -> None:
    doc = extract_docx(fixture("report-2019.docx"))
    t2 = [r for r in doc.rows if r.kind == TABLE and len(r.cells) == T2_WIDTH]
    assert [c.text for c in t2[0].cells[3:]] == ["申请人情况"] * 7
    assert len({c.origin for c in t2[0].cells[3:]}) == 1
    assert [c.text for c in t2[1].cells[4:9]] == ["法人或其他组织"] * 5
    results = [r for r in t2 if r.cells[0].text == "三、本年度办理结果"]
    assert len(results) == 20 and len({r.cells[0].origin for r in results}) == 1
    assert results[-2].cells[1].text == "（六）其他处理" == results[-2].cells[2].text
    t1 = {
        r.cells[0].text: distinct(r)[1:]
        for r in doc.rows
        if r.kind == TABLE and len(r.cells) == T1_WIDTH
    }
    assert t1["行政许可"] == ["150", "-5", "1417"]
    assert t1["行政处罚"] == ["1493", "-18", "281"]
    assert t1["政府集中采购"] == ["75", "2359.4197"]


def test_docx_render_is_deterministic() -> None:
    report = report_of("report-2021.docx")
    assert render_docx(report) == render_docx(report)


# --- DOCX: structures the renderers do not produce -----------------------------------------------


def _docx_bytes(document: Any) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_nested_table_is_read_as_its_own_table() -> None:
    document = docx.Document()
    outer = document.add_table(rows=2, cols=2)
    outer.cell(0, 0).text = "外"
    inner = outer.cell(0, 1).add_table(rows=1, cols=2)
    inner.cell(0, 0).text = "规章"
    inner.cell(0, 1).text = "7"
    outer.cell(1, 0).text = "下"
    doc = extract_docx(_docx_bytes(document))
    assert [(r.table, r.texts) for r in doc.rows] == [
        (0, ["外", ""]),
        (1, ["规章", "7"]),
        (0, ["下", ""]),
    ]
    assert "nested_table" in doc.flags


def test_docx_layout_wrapper_table_is_unwrapped() -> None:
    document = docx.Document()
    frame = document.add_table(rows=1, cols=1).cell(0, 0)
    frame.paragraphs[0].text = "二、主动公开政府信息情况"
    inner = frame.add_table(rows=1, cols=3)
    for i, text in enumerate(("规章", "1", "2")):
        inner.cell(0, i).text = text
    doc = extract_docx(_docx_bytes(document))
    assert [(r.kind, r.table, r.texts) for r in doc.rows] == [
        (TEXT, -1, ["二、主动公开政府信息情况"]),
        (TABLE, 0, ["规章", "1", "2"]),
    ]


def test_docx_grid_before_content_controls_and_deleted_text() -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    for r in range(2):
        for c in range(3):
            table.cell(r, c).text = f"{r}{c}"
    tr = table.rows[1]._tr
    tr.remove(tr.tc_lst[0])  # the row starts one grid column in
    trpr = tr.get_or_add_trPr()
    before = OxmlElement("w:gridBefore")
    before.set(qn("w:val"), "1")
    trpr.append(before)
    paragraph = document.add_paragraph("保留")
    deleted = OxmlElement("w:del")
    run = OxmlElement("w:r")
    text = OxmlElement("w:delText")
    text.text = "删除"
    run.append(text)
    deleted.append(run)
    paragraph._p.append(deleted)
    sdt, content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
    body = document.element.body
    wrapped = document.add_paragraph("控件内")._p
    body.remove(wrapped)
    content.append(wrapped)
    sdt.append(content)
    body.insert(body.index(body.sectPr) if body.sectPr is not None else len(body), sdt)
    doc = extract_docx(_docx_bytes(document))
    assert [r.texts for r in doc.rows] == [
        ["00", "01", "02"],
        ["", "11", "12"],
        ["保留"],
        ["控件内"],
    ]
    assert doc.rows[1].cells[0].origin not in {c.origin for c in doc.rows[0].cells}


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"PK\x03\x04 not a zip",
        os.urandom(2048),
        fixture("report-2021.docx")[:5000],
        fixture("report-2021.pdf"),
    ],
)
def test_docx_garbage_is_unreadable_corrupt(body: bytes) -> None:
    with pytest.raises(Unreadable) as err:
        extract_docx(body)
    assert err.value.code == "corrupt"
    assert "\n" not in err.value.reason


@settings(max_examples=25, deadline=None)
@given(cut=st.integers(min_value=0, max_value=len(fixture("report-2019.docx")) - 1))
def test_truncated_docx_never_raises_anything_else(cut: int) -> None:
    try:
        extract_docx(fixture("report-2019.docx")[:cut])
    except Unreadable as exc:  # not raising at all passes too, so no pytest.raises
        assert exc.code == "corrupt"  # noqa: PT017


# --- PDF --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdf2021() -> Document:
    return extract_pdf(fixture("report-2021.pdf"))


@pytest.fixture(scope="module")
def pdf2019() -> Document:
    return extract_pdf(fixture("report-2019.pdf"))


def test_pdf_text_layer_round_trips_chinese(pdf2021: Document) -> None:
    report = report_of("report-2021.pdf")
    assert pdf2021.kind == "pdf"
    assert pdf2021.meta["title"] == report["title"]
    assert pdf2021.rows[0].kind == TEXT and pdf2021.rows[0].cells[0].text == report["title"]
    assert f"发布日期：{report['published']}" in pdf2021.text
    headings = [r.cells[0].text for r in pdf2021.rows if r.kind == TEXT]
    assert "四、政府信息公开行政复议、行政诉讼情况" in headings
    assert pdf2021.flags == []


@pytest.mark.parametrize("name", ["report-2021.pdf", "report-2019.pdf"])
def test_rendered_pdf_numbers_in_their_grid_positions(name: str) -> None:
    report = report_of(name)
    assert printed_values(extract_pdf(fixture(name)), report) == expected_texts(report)


@pytest.mark.parametrize("name", ["report-2021.pdf", "report-2019.pdf"])
def test_pdf_table2_continues_on_the_next_page_without_header(name: str) -> None:
    doc = extract_pdf(fixture(name))
    t2 = [r for r in doc.rows if r.kind == TABLE and len(r.cells) == T2_WIDTH]
    template = TEMPLATES[report_of(name)["format"]]
    labels = [squash(official_label(r.label)) for r in template.table("applications").rows]
    found = [squash(r.cells[T2_LABEL_COLUMNS - 1].text) for r in t2]
    assert [lab for lab in found if lab in labels] == labels  # every row, in order
    parts = sorted({r.table for r in t2})
    assert len(parts) == 2
    second = [r for r in t2 if r.table == parts[1]]
    assert squash(second[0].cells[2].text) == "1.本机关不掌握相关政府信息"  # no header repeated
    assert not any("申请人情况" in c.text for r in second for c in r.cells)
    # the 三、本年度办理结果 merge straddles the break: blank and merged on the second page
    assert second[0].cells[0].text == ""
    assert len({r.cells[0].origin for r in second[:-1]}) == 1


def test_pdf_vertical_labels_one_character_per_line(pdf2021: Document) -> None:
    t2 = [r for r in pdf2021.rows if r.kind == TABLE and len(r.cells) == T2_WIDTH]
    results = [r for r in t2 if "本年度办理结果" in r.cells[0].text.replace("\n", "")]
    assert len(results) == 10  # (一)予以公开 … 8.属于行政查询事项, then the page break
    assert len({r.cells[0].origin for r in results}) == 1
    assert results[0].cells[0].text.count("\n") >= len("本年度办理结果")
    assert "三、" in results[0].cells[0].text.split("\n")
    for group in ("不予公开", "无法提供", "不予处理", "其他处理"):
        cells = [r.cells[1] for r in t2 if group in r.cells[1].text.replace("\n", "")]
        assert cells and "\n" in cells[0].text
        assert len({c.origin for c in cells}) == 1
    withheld = [r for r in t2 if "不予公开" in r.cells[1].text.replace("\n", "")]
    assert len(withheld) == 8


def test_pdf_long_labels_are_wrapped(pdf2021: Document) -> None:
    label = "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"
    cell = next(
        r.cells[2]
        for r in pdf2021.rows
        if r.kind == TABLE
        and len(r.cells) == T2_WIDTH
        and r.cells[2].text.replace("\n", "") == label
    )
    assert "\n" in cell.text


def test_pdf_table3_fifteen_numbers_in_one_row(pdf2019: Document) -> None:
    t3 = [r for r in pdf2019.rows if r.kind == TABLE and len(r.cells) == T3_WIDTH]
    assert len(t3) == 4 and len({r.table for r in t3}) == 1
    assert t3[-1].texts == ["0"] * 15
    assert len({c.origin for c in t3[-1].cells}) == 15
    assert {c.text for c in t3[0].cells[:5]} == {"行政复议"}
    assert len({c.origin for c in t3[0].cells[:5]}) == 1
    assert squash(t3[1].cells[0].text) == "结果维持"
    assert t3[1].cells[0].origin == t3[2].cells[0].origin  # vertical span, pdfplumber gave None


def test_pdf_2019_signed_and_amount_values(pdf2019: Document) -> None:
    t1 = {
        squash(r.cells[0].text): distinct(r)[1:]
        for r in pdf2019.rows
        if r.kind == TABLE and len(r.cells) == T1_WIDTH
    }
    assert t1["行政许可"] == ["150", "-5", "1417"]
    assert t1["其他对外管理服务事项"] == ["719", "-1", "240"]
    assert t1["政府集中采购"] == ["75", "2359.4197"]


def test_pdf_render_is_deterministic() -> None:
    report = report_of("report-2019.pdf")
    assert render_pdf(report) == render_pdf(report)


def test_scanned_pdf_is_unreadable() -> None:
    with pytest.raises(Unreadable) as err:
        extract_pdf(fixture("scanned.pdf"))
    assert err.value.code == "scanned_pdf"
    assert err.value.reason == "scanned PDF without a text layer (2 pages); OCR is not attempted"


def _text_pdf(pages: list[str | None], **kwargs: Any) -> bytes:
    """A plain PDF: one line of text per page (None: a page with only a drawn shape)."""
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, invariant=1, **kwargs)
    for text in pages:
        if text is None:
            c.rect(100, 100, 200, 200, fill=1)
        else:
            c.setFont(CJK_FONT, 12)
            c.drawString(72, 720, text)
        c.showPage()
    c.save()
    return out.getvalue()


def test_pdf_without_ruled_tables_gives_text_lines() -> None:
    doc = extract_pdf(_text_pdf(["一、总体情况", None, "规章 0 0 0"]))
    assert [(r.kind, r.texts) for r in doc.rows] == [
        (TEXT, ["一、总体情况"]),
        (TEXT, ["规章 0 0 0"]),
    ]
    assert doc.flags == ["pdf_pages_without_text:1"]


def test_pdf_page_cap_is_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gkcrawl.parsing.extract.pdf.MAX_PAGES", 2)
    doc = extract_pdf(_text_pdf(["第一页", "第二页", "第三页"]))
    assert [r.cells[0].text for r in doc.rows] == ["第一页", "第二页"]
    assert doc.flags == ["pdf_pages_capped:2/3"]
    assert MAX_PAGES >= 50  # the real cap leaves room for long reports


def test_encrypted_pdf_with_password_is_corrupt_without_password_is_read() -> None:
    locked = _text_pdf(["机密"], encrypt=StandardEncryption("secret", ownerPassword="owner"))
    with pytest.raises(Unreadable) as err:
        extract_pdf(locked)
    assert err.value.code == "corrupt" and "encrypted" in err.value.reason
    owner_only = extract_pdf(
        _text_pdf(["公开"], encrypt=StandardEncryption("", ownerPassword="owner"))
    )
    # pdfminer 20260107 loses the CID font's CMap in this (reportlab-encrypted) file and gives
    # "(cid:N)" placeholders: the file is read, and the unusable text layer is flagged
    assert owner_only.rows[0].texts == ["公开"] or "pdf_unmapped_cid_text" in owner_only.flags


@pytest.mark.parametrize(
    "body",
    [
        os.urandom(4096),
        b"%PDF-1.4\n" + os.urandom(4096),
        fixture("report-2021.pdf")[: len(fixture("report-2021.pdf")) // 2],
        fixture("report-2021.docx"),
        b"%PDF-",
    ],
)
def test_broken_pdf_is_unreadable_corrupt(body: bytes) -> None:
    with pytest.raises(Unreadable) as err:
        extract_pdf(body)
    assert err.value.code == "corrupt"
    assert "\n" not in err.value.reason


@settings(max_examples=20, deadline=None)
@given(
    cut=st.integers(min_value=0, max_value=len(fixture("report-2021.pdf"))),
    flips=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(fixture("report-2021.pdf")) - 1),
            st.integers(min_value=0, max_value=255),
        ),
        max_size=5,
    ),
)
def test_damaged_pdf_never_raises_anything_else(cut: int, flips: list[tuple[int, int]]) -> None:
    body = bytearray(fixture("report-2021.pdf"))
    for at, byte in flips:
        body[at] = byte
    try:
        extract_pdf(bytes(body[:cut]))
    except Unreadable as exc:  # not raising at all passes too, so no pytest.raises
        assert exc.code in ("corrupt", "scanned_pdf", "empty")  # noqa: PT017


# --- renderers as property: any report survives render -> extract ---------------------------


def _cell_value(kind: str) -> st.SearchStrategy[Any]:
    if kind == AMOUNT:
        amounts = st.decimals(
            min_value=0, max_value=99999, places=4, allow_nan=False, allow_infinity=False
        )
        return st.one_of(st.none(), amounts)
    if kind == SIGNED:
        return st.one_of(st.none(), st.integers(min_value=-9999, max_value=9999))
    return st.one_of(st.none(), st.integers(min_value=0, max_value=99999))


@st.composite
def reports(draw: st.DrawFn) -> dict[str, Any]:
    version = draw(st.sampled_from(sorted(TEMPLATES)))
    template = TEMPLATES[version]
    out: dict[str, Any] = {
        "format": version,
        "year": 2021 if version == "2021" else 2020,
        "organ": "测试县人民政府办公室",
        "published": None,
        "title": None,
    }
    for table in template.tables:
        out[table.key] = {
            row.key: {
                col: draw(_cell_value(table.column(col).kind)) for col in table.row_columns(row)
            }
            for row in table.rows
        }
    return out


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(report=reports())
def test_any_report_round_trips_through_docx_and_pdf(report: dict[str, Any]) -> None:
    expected = expected_texts(report)
    assert printed_values(extract_docx(render_docx(report)), report) == expected
    assert printed_values(extract_pdf(render_pdf(report)), report) == expected


# --- legacy .doc / .wps dispatch -----------------------------------------------------------------

ANTIWORD_TEXT = "工布江达县2020年政府信息公开工作年度报告\n|规章|0|0|0|\n|规范性文件|4|4|12|\n"


def _fake_tool(directory: Path, name: str, source: str) -> None:
    path = directory / name
    path.write_text(f"#!{sys.executable}\n{source}", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _fake_antiword(directory: Path) -> Path:
    argv_log = directory / "antiword.argv"
    _fake_tool(
        directory,
        "antiword",
        f"""
import json, sys
open({str(argv_log)!r}, "w").write(json.dumps(sys.argv[1:]))
sys.stdout.buffer.write({ANTIWORD_TEXT!r}.encode("utf-8"))
""",
    )
    return argv_log


def _fake_soffice(
    directory: Path, docx_path: Path | None, exit_code: int = 0, sleep: float = 0
) -> None:
    _fake_tool(
        directory,
        "soffice",
        f"""
import shutil, sys, time
from pathlib import Path
time.sleep({sleep})
args = sys.argv[1:]
if {exit_code}:
    sys.stderr.write("Error: source file could not be loaded\\n")
    sys.exit({exit_code})
outdir = Path(args[args.index("--outdir") + 1])
assert args[args.index("--convert-to") + 1] == "docx" and "--headless" in args
outdir.mkdir(parents=True, exist_ok=True)
shutil.copy({str(docx_path)!r}, outdir / (Path(args[-1]).stem + ".docx"))
""",
    )


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty PATH directory: no LibreOffice, no antiword unless a test adds a fake."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


FAKE_DOC = OLE2_MAGIC + b"\x00" * 512


def test_legacy_without_tools_is_unsupported(tools: Path) -> None:
    with pytest.raises(Unreadable) as err:
        extract_legacy(FAKE_DOC, ".doc")
    assert err.value.code == "unsupported_format"
    assert err.value.reason == (
        "legacy Word file (.doc/.wps) needs LibreOffice, wvHtml or antiword, none is installed"
    )


def test_legacy_docx_in_disguise_needs_no_tool(tools: Path) -> None:
    doc = extract_legacy(fixture("report-2021.docx"), ".doc")
    assert doc.rows[0].texts == [report_of("report-2021.docx")["title"]]


def test_legacy_with_soffice_converts_to_docx(tools: Path) -> None:
    _fake_soffice(tools, FIXTURES / "report-2019.docx")
    doc = extract_legacy(FAKE_DOC, "wps")
    assert doc.kind == "doc" and doc.meta["converter"] == "libreoffice"
    report = report_of("report-2019.docx")
    assert printed_values(doc, report) == expected_texts(report)


def test_legacy_with_antiword_reads_text(tools: Path) -> None:
    argv_log = _fake_antiword(tools)
    doc = extract_legacy(FAKE_DOC, ".wps")
    argv = json.loads(argv_log.read_text())
    assert argv[:4] == ["-m", "UTF-8.txt", "-w", "0"] and argv[-1].endswith(".wps")
    assert doc.kind == "doc" and doc.meta["converter"] == "antiword"
    assert "规范性文件" in doc.text
    assert any("12" in r.texts for r in doc.rows)


def test_legacy_soffice_failure_falls_back_to_antiword(tools: Path) -> None:
    _fake_soffice(tools, None, exit_code=77)
    _fake_antiword(tools)
    assert extract_legacy(FAKE_DOC, ".doc").meta["converter"] == "antiword"


def test_legacy_soffice_failure_alone_is_corrupt(tools: Path) -> None:
    _fake_soffice(tools, None, exit_code=77)
    with pytest.raises(Unreadable) as err:
        extract_legacy(FAKE_DOC, ".doc")
    assert err.value.code == "corrupt"
    assert (
        err.value.reason == "LibreOffice failed (exit 77): Error: source file could not be loaded"
    )


def test_legacy_timeout_is_corrupt(tools: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(legacy, "CONVERT_TIMEOUT_SECONDS", 1)
    _fake_soffice(tools, None, sleep=30)
    started = time.monotonic()
    with pytest.raises(Unreadable) as err:
        extract_legacy(FAKE_DOC, ".doc")
    assert err.value.code == "corrupt" and "timed out" in err.value.reason
    assert time.monotonic() - started < 10


# --- end to end: bytes -> parse_document -> the seed's true values -------------------------------


def assert_report_matches(result: Any, report: dict[str, Any], kind: str) -> None:
    assert result.ok, getattr(result, "reason", None)
    got = result.to_dict()
    for key in ("format", "year", "organ", "published"):
        assert got[key] == report[key], key
    assert got["source_kind"] == kind
    wrong = [
        (t, row, col, (got[t] or {}).get(row, {}).get(col), want)
        for t in TABLE_KEYS
        for row, cols in report[t].items()
        for col, want in cols.items()
        if not same_number((got[t] or {}).get(row, {}).get(col), want)
    ]
    assert wrong == []


@pytest.mark.parametrize("name", sorted(FIXTURE_REPORTS))
def test_parse_document_gives_the_seed_values(name: str) -> None:
    from gkcrawl.parsing import parse_document

    suffix = name.rsplit(".", 1)[1]
    result = parse_document(fixture(name), url=f"http://www.example.gov.cn/xxgk/{name}")
    assert_report_matches(result, report_of(name), suffix)


@pytest.mark.parametrize("name", ["report-2021.pdf", "report-2019.docx"])
def test_parse_document_ignores_a_wrong_content_type(name: str) -> None:
    from gkcrawl.parsing import parse_document

    result = parse_document(fixture(name), content_type="application/octet-stream", url=None)
    assert_report_matches(result, report_of(name), name.rsplit(".", 1)[1])


def test_parse_document_legacy_doc_through_libreoffice(tools: Path) -> None:
    from gkcrawl.parsing import parse_document

    _fake_soffice(tools, FIXTURES / "report-2019.docx")
    result = parse_document(FAKE_DOC, url="http://www.example.gov.cn/xxgk/report.doc")
    assert_report_matches(result, report_of("report-2019.docx"), "doc")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (fixture("scanned.pdf"), "scanned_pdf"),
        (b"%PDF-1.7\n" + b"\x00garbage" * 64, "corrupt"),
        (FAKE_DOC, "unsupported_format"),
    ],
)
def test_parse_document_unreadable_attachments(body: bytes, code: str, tools: Path) -> None:
    from gkcrawl.parsing import parse_document

    result = parse_document(body, url="http://www.example.gov.cn/xxgk/a")
    assert not result.ok
    assert result.code == code
