"""Render a report dict (canonical keys) as a DOCX attachment, for tests, benches and demos.

The 2021 format fills the official blank template (国办公开办函〔2021〕30号, shipped next to this
module) so that the merged-cell structure is exactly the one offices download; the 2019 format is
built with python-docx following the official 2019 layout. Both are driven by :func:`layout_tables`,
an HTML-like description of the printed tables (cells with row/column spans) that the PDF renderer
shares, so the DOCX and PDF fixtures print the same grid.
"""

from __future__ import annotations

import copy
import io
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import docx
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph

from gkcrawl.template.spec import TEMPLATES, Table

#: The official blank 2021 template (国办公开办函〔2021〕30号 attachment), as offices download it.
TEMPLATE_2021_DOCX = Path(__file__).parents[1] / "site" / "template-2021-blank.docx"

#: Zip entry timestamp used for every part, so the same report always renders to the same bytes.
FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
#: Core-properties date when the report has no publication date.
FALLBACK_DATE = datetime(2000, 1, 1, tzinfo=UTC)
#: Number of label columns printed left of the values in table 2 (三、/(三)/1. levels).
T2_LABEL_COLUMNS = 3
#: Number of grid columns of table 1 (label + three value columns).
T1_COLUMNS = 4
#: Python-docx style name of a table with all grid lines drawn.
GRID_STYLE = "Table Grid"

NOTICES = {"2019": "国办公开办函〔2019〕60号", "2021": "国办公开办函〔2021〕30号"}
SECTION_HEADINGS = (
    "一、总体情况",
    "二、主动公开政府信息情况",
    "三、收到和处理政府信息公开申请情况",
    "四、政府信息公开行政复议、行政诉讼情况",
    "五、存在的主要问题及改进情况",
    "六、其他需要报告的事项",
)
#: Which table follows which section heading.
TABLE_SECTIONS = {"active_disclosure": 1, "applications": 2, "review_litigation": 3}
T2_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
ORGANISATION_HEADER = "法人或其他组织"
APPLICANT_HEADER = "申请人情况"
_FULL_WIDTH = str.maketrans("(),:", "（），：")


# --- the printed layout, shared with the PDF renderer ------------------------------------------


@dataclass(frozen=True)
class Span:
    """One printed cell, HTML style: text plus how many grid rows/columns it covers."""

    text: str
    cols: int = 1
    rows: int = 1
    #: a number cell (not a label)
    value: bool = False
    #: a group label printed top to bottom in a narrow column (三、本年度办理结果, (三)不予公开 …)
    vertical: bool = False


@dataclass(frozen=True)
class LayoutTable:
    key: str
    width: int
    rows: tuple[tuple[Span, ...], ...]

    def anchors(self) -> Iterator[tuple[int, int, Span]]:
        """``(row, column, span)`` of every printed cell, placing spans like an HTML table."""
        covered: set[tuple[int, int]] = set()
        for r, row in enumerate(self.rows):
            c = 0
            for span in row:
                while (r, c) in covered:
                    c += 1
                yield r, c, span
                covered.update(
                    (r + dr, c + dc) for dr in range(span.rows) for dc in range(span.cols)
                )
                c += span.cols


def format_value(value: Any) -> str:
    """How a number is printed: ``None`` blank, integers plain, amounts without exponent."""
    if value is None:
        return ""
    if isinstance(value, bool):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        value = Decimal(repr(value))
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def official_label(label: str) -> str:
    """The spec's half-width labels printed with the template's full-width punctuation."""
    return label.translate(_FULL_WIDTH)


def layout_tables(report: dict[str, Any]) -> list[LayoutTable]:
    """The three statistical tables of ``report`` as printed in its format's official template."""
    template = TEMPLATES[report["format"]]
    active = template.table("active_disclosure")
    apps = template.table("applications")
    review = template.table("review_litigation")
    return [
        _active_layout(active, report.get("active_disclosure") or {}, report["format"]),
        _applications_layout(apps, report.get("applications") or {}),
        _review_layout(review, report.get("review_litigation") or {}),
    ]


def _values(table: Table, data: dict[str, dict[str, Any]], row_key: str) -> list[str]:
    cells = data.get(row_key) or {}
    return [format_value(cells.get(col)) for col in table.row_columns(table.row(row_key))]


def _active_layout(table: Table, data: dict[str, dict[str, Any]], version: str) -> LayoutTable:
    """Table 1: blocks of 第二十条第（X）项 / 信息内容 header / rows, four grid columns."""
    value_cols = T1_COLUMNS - 1
    rows: list[tuple[Span, ...]] = []

    def block(item: str, keys: tuple[str, ...]) -> None:
        rows.append((Span(f"第二十条第（{item}）项", cols=T1_COLUMNS),))
        columns = table.row_columns(table.row(keys[0]))
        rows.append((Span("信息内容"), *_header_spans(table, columns, value_cols)))
        for key in keys:
            texts = _values(table, data, key)
            spans = _spread(texts, value_cols)
            rows.append((Span(official_label(table.row(key).label)), *spans))

    block("一", ("regulations", "normative_documents"))
    if version == "2019":
        block("五", ("admin_licensing", "other_external_services"))
    else:
        block("五", ("admin_licensing",))
    block("六", ("admin_penalty", "admin_coercion"))
    block("八", ("admin_fees",))
    if version == "2019":
        block("九", ("centralized_procurement",))
    return LayoutTable(table.key, T1_COLUMNS, tuple(rows))


def _header_spans(table: Table, columns: tuple[str, ...], width: int) -> list[Span]:
    labels = [official_label(table.column(c).label) for c in columns]
    return [Span(s.text, cols=s.cols) for s in _spread(labels, width, value=False)]


def _spread(texts: list[str], width: int, value: bool = True) -> list[Span]:
    """Cells over ``width`` grid columns; the last one spans what is left (行政许可 over three)."""
    spans = [Span(t, value=value) for t in texts[:-1]]
    spans.append(Span(texts[-1], cols=width - len(texts) + 1, value=value))
    return spans


def _applications_layout(table: Table, data: dict[str, dict[str, Any]]) -> LayoutTable:
    """Table 2: 3 label columns (vertical merges for the groups), 7 applicant columns."""
    orgs = [c for c in table.columns if c.key not in ("natural_person", "total")]
    width = T2_LABEL_COLUMNS + len(table.columns)
    rows: list[tuple[Span, ...]] = [
        (
            Span(T2_NOTE, cols=T2_LABEL_COLUMNS, rows=3),
            Span(APPLICANT_HEADER, cols=len(table.columns)),
        ),
        (
            Span(table.column("natural_person").label, rows=2),
            Span(ORGANISATION_HEADER, cols=len(orgs)),
            Span(table.column("total").label, rows=2),
        ),
        tuple(Span(c.label) for c in orgs),
    ]
    results = [r for r in table.rows if r.leaf] + [table.row("total_processed")]
    for row in table.rows:
        values = [Span(v, value=True) for v in _values(table, data, row.key)]
        label = official_label(row.label)
        lead: list[Span] = []
        if row is results[0]:
            lead.append(Span(official_label(row.group), rows=len(results), vertical=True))
        if row.group and row in results:
            members = [r for r in results if r.group == row.group]
            if row.group != results[0].group:
                if row is members[0]:
                    lead.append(Span(official_label(row.group), rows=len(members), vertical=True))
                lead.append(Span(label))
            else:
                lead.append(Span(label, cols=T2_LABEL_COLUMNS - 1))
        elif row in results:  # (七)总计 inside 三、本年度办理结果
            lead.append(Span(label, cols=T2_LABEL_COLUMNS - 1))
        else:
            lead.append(Span(label, cols=T2_LABEL_COLUMNS))
        rows.append((*lead, *values))
    return LayoutTable(table.key, width, tuple(rows))


def _review_layout(table: Table, data: dict[str, dict[str, Any]]) -> LayoutTable:
    """Table 3: three header rows, then one line of 15 numbers."""
    cols = [official_label(c.label) for c in table.columns]
    n = len(cols)
    values: list[Span] = []
    for row in table.rows:
        values.extend(Span(v, value=True) for v in _values(table, data, row.key))
    rows = (
        (Span("行政复议", cols=n), Span("行政诉讼", cols=2 * n)),
        (
            *(Span(c, rows=2) for c in cols),
            Span("未经复议直接起诉", cols=n),
            Span("复议后起诉", cols=n),
        ),
        tuple(Span(c) for c in cols * 2),
        tuple(values),
    )
    return LayoutTable(table.key, 3 * n, rows)


# --- DOCX --------------------------------------------------------------------------------------


def report_title(report: dict[str, Any]) -> str:
    return report.get("title") or f"{report['organ']}{report['year']}年政府信息公开工作年度报告"


def date_line(report: dict[str, Any]) -> str | None:
    published = report.get("published")
    return f"发布日期：{published}" if published else None


def intro_line(report: dict[str, Any]) -> str:
    return (
        f"依据《中华人民共和国政府信息公开条例》和《中华人民共和国政府信息公开工作年度报告格式》"
        f"（{NOTICES[report['format']]}）要求，编制{report['organ']}{report['year']}年"
        f"政府信息公开工作年度报告。"
    )


def narrative(report: dict[str, Any], section: int) -> str:
    """Neutral filler text for the prose sections (no numbers, so no narrative/table conflicts)."""
    if section == 0:
        return (
            f"{report['year']}年，{report['organ']}认真贯彻落实《中华人民共和国政府信息公开条例》，"
            "持续推进政府信息公开工作。"
        )
    if section == 4:
        return "政府信息公开工作仍存在一些不足，下一步将进一步规范公开内容，完善工作机制。"
    return "本年度未收取信息处理费。"


def render_docx(report: dict[str, Any]) -> bytes:
    """DOCX bytes of ``report``; the same report always gives the same bytes."""
    document = _fill_2021(report) if report["format"] == "2021" else _build(report)
    props = document.core_properties
    props.title = report_title(report)
    props.author = report["organ"]
    props.last_modified_by = report["organ"]
    props.revision = 1
    stamp = _timestamp(report.get("published"))
    props.created = stamp
    props.modified = stamp
    out = io.BytesIO()
    document.save(out)
    return _deterministic_zip(out.getvalue())


def _timestamp(published: str | None) -> datetime:
    if not published:
        return FALLBACK_DATE
    return datetime.fromisoformat(published).replace(tzinfo=UTC)


def _fill_2021(report: dict[str, Any]) -> Any:
    document = docx.Document(str(TEMPLATE_2021_DOCX))
    paragraphs = document.paragraphs
    title = next(p for p in paragraphs if "年度报告格式模板" in p.text)
    _replace_text(title, report_title(report))
    anchor = next(p for p in paragraphs if p.text.strip() == SECTION_HEADINGS[0])
    lines = [line for line in (date_line(report), intro_line(report)) if line]
    for line in lines:
        anchor.insert_paragraph_before(line)
    placeholders = [p for p in document.paragraphs if p.text.strip().startswith("（文字描述")]
    for paragraph, section in zip(placeholders, (0, 4, 5), strict=True):
        _replace_text(paragraph, narrative(report, section))
    for layout, table in zip(layout_tables(report), document.tables, strict=True):
        _fill_table(table, layout)
    return document


def _fill_table(table: DocxTable, layout: LayoutTable) -> None:
    """Write the layout's numbers into the template's cells, checking the labels line up."""
    grid = [row.cells for row in table.rows]  # table.cell() recomputes the whole grid per call
    for r, c, span in layout.anchors():
        cell = grid[r][c]
        if span.value:
            _replace_cell_text(cell, span.text)
        elif _squash(cell.text) != _squash(span.text):
            raise ValueError(
                f"template drift at {layout.key}[{r}][{c}]: {cell.text!r} != {span.text!r}"
            )


def _build(report: dict[str, Any]) -> Any:
    """A DOCX in the 2019 layout, built from scratch with real merged cells."""
    document = docx.Document()
    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    heading.add_run(report_title(report)).bold = True
    for line in (date_line(report), intro_line(report)):
        if line:
            document.add_paragraph(line)
    tables = {t.key: t for t in layout_tables(report)}
    by_section = {section: key for key, section in TABLE_SECTIONS.items()}
    for section, text in enumerate(SECTION_HEADINGS):
        document.add_paragraph(text)
        if section in by_section:
            _add_table(document, tables[by_section[section]])
        else:
            document.add_paragraph(narrative(report, section))
    return document


def _add_table(document: Any, layout: LayoutTable) -> None:
    table = document.add_table(rows=len(layout.rows), cols=layout.width)
    table.style = document.styles[GRID_STYLE]
    # Cells looked up once (table.cell() recomputes the grid per call); spans never overlap, so
    # each merge leaves the other cells' elements in place.
    grid = [row.cells for row in table.rows]
    for r, c, span in layout.anchors():
        cell = grid[r][c]
        if span.rows > 1 or span.cols > 1:
            cell = cell.merge(grid[r + span.rows - 1][c + span.cols - 1])
        cell.text = span.text
        if span.value:
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER


def _replace_text(paragraph: Paragraph, text: str) -> None:
    """New text in an existing paragraph, keeping its paragraph and first-run formatting."""
    p = paragraph._p
    first_rpr = p.find(f"{qn('w:r')}/{qn('w:rPr')}")
    for child in list(p):
        if child.tag != qn("w:pPr"):
            p.remove(child)
    run = OxmlElement("w:r")
    if first_rpr is not None:
        run.append(copy.deepcopy(first_rpr))
    t = OxmlElement("w:t")
    t.text = text
    run.append(t)
    p.append(run)


def _replace_cell_text(cell: Any, text: str) -> None:
    tc = cell._tc
    paragraphs = tc.findall(qn("w:p"))
    for extra in paragraphs[1:]:
        tc.remove(extra)
    _replace_text(Paragraph(paragraphs[0], cell), text)


def _squash(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def _deterministic_zip(data: bytes) -> bytes:
    """Re-zip with fixed timestamps (python-docx stamps entries with the current time)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, src.read(info))
    return out.getvalue()
