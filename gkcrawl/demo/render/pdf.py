"""Render a report dict (canonical keys) as a PDF attachment, for tests, benches and demos.

The PDF reproduces what Word-exported reports do to a text layer: group labels
in narrow merged columns come out one character per line, long labels wrap, table 2 continues on
the next page without its header (and with the page break inside the 三、本年度办理结果 merge), and
table 3 is a 3-row header over one line of 15 numbers. It uses reportlab's built-in CJK CID font,
so no font file is needed, and ``invariant=1`` so the same report always gives the same bytes.
"""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from gkcrawl.demo.render.docx import (
    SECTION_HEADINGS,
    TABLE_SECTIONS,
    LayoutTable,
    Span,
    date_line,
    intro_line,
    layout_tables,
    narrative,
    report_title,
)
from gkcrawl.template.spec import APPLICANT_COLUMNS, REVIEW

#: reportlab's built-in Adobe-GB1 CID font: simplified Chinese without embedding a font file.
CJK_FONT = "STSong-Light"
PAGE_SIZE = A4
MARGIN = 20 * mm
BODY_SIZE = 10.5
TITLE_SIZE = 16
CELL_SIZE = 8
LEADING_FACTOR = 1.25
CELL_PADDING = 2
GRID_WIDTH = 0.5
#: Column widths in points: table 1 (label + 3 values), table 2 (group, subgroup, leaf label,
#: 7 applicant columns), table 3 (15 equal columns).
T1_WIDTHS = (150.0, 110.0, 110.0, 110.0)
T2_WIDTHS = (16.0, 16.0, 150.0) + (42.0,) * len(APPLICANT_COLUMNS)
T3_WIDTHS = (32.0,) * (len(REVIEW.rows) * len(REVIEW.columns))
#: Table 2 is cut after the last row of this group: the rest goes to the next page, without the
#: header rows and with the 三、本年度办理结果 column blank there, as Word prints a merge that
#: straddles a page break.
T2_BREAK_AFTER_GROUP = "(三)不予公开"
#: The vertical group labels: these character pairs stay on one line (三、 rather than 三 / 、).
_KEEP_WITH_PREVIOUS = "、）)"

_STYLES: dict[str, ParagraphStyle] = {}


def _font() -> str:
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


def _style(name: str) -> ParagraphStyle:
    if not _STYLES:
        font = _font()

        def make(key: str, size: float, align: int = 0) -> ParagraphStyle:
            return ParagraphStyle(
                key,
                fontName=font,
                fontSize=size,
                leading=size * LEADING_FACTOR,
                alignment=align,
                wordWrap="CJK",
            )

        _STYLES.update(
            title=make("title", TITLE_SIZE, TA_CENTER),
            body=make("body", BODY_SIZE),
            cell=make("cell", CELL_SIZE),
            value=make("value", CELL_SIZE, TA_CENTER),
        )
    return _STYLES[name]


def render_pdf(report: dict[str, Any]) -> bytes:
    """PDF bytes of ``report`` with a text layer that pdfplumber reads back as Chinese."""
    out = io.BytesIO()
    title = report_title(report)
    doc = SimpleDocTemplate(
        out,
        pagesize=PAGE_SIZE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        author=report["organ"],
        invariant=1,
    )
    story: list[Any] = [Paragraph(_escape(title), _style("title")), Spacer(1, BODY_SIZE)]
    story.extend(Paragraph(_escape(line), _style("body"))
                 for line in (date_line(report), intro_line(report)) if line)
    tables = {t.key: t for t in layout_tables(report)}
    by_section = {section: key for key, section in TABLE_SECTIONS.items()}
    for section, heading in enumerate(SECTION_HEADINGS):
        story.append(Paragraph(_escape(heading), _style("body")))
        key = by_section.get(section)
        if key is None:
            story.append(Paragraph(_escape(narrative(report, section)), _style("body")))
        elif key == "applications":
            first, rest = split_applications(tables[key])
            story += [_table(first, T2_WIDTHS), PageBreak(), _table(rest, T2_WIDTHS)]
        else:
            story.append(
                _table(tables[key], T1_WIDTHS if key == "active_disclosure" else T3_WIDTHS)
            )
    doc.build(story)
    return out.getvalue()


def split_applications(layout: LayoutTable) -> tuple[LayoutTable, LayoutTable]:
    """Table 2 cut after the :data:`T2_BREAK_AFTER_GROUP` rows; the continuation has no header."""
    group = _label_key(T2_BREAK_AFTER_GROUP)
    rows = list(layout.rows)
    starts = [i for i, row in enumerate(rows) if any(_label_key(s.text) == group for s in row)]
    if not starts:
        raise ValueError(f"no {T2_BREAK_AFTER_GROUP} row in table 2")
    start = starts[0]
    members = next(s.rows for s in rows[start] if _label_key(s.text) == group)
    cut = start + members
    results_row = next(i for i, row in enumerate(rows) if row and row[0].vertical)
    results = rows[results_row][0]
    results_end = results_row + results.rows
    first = [list(r) for r in rows[:cut]]
    rest = [list(r) for r in rows[cut:]]
    first[results_row][0] = Span(results.text, rows=cut - results_row, vertical=True)
    if cut < results_end:
        rest[0].insert(0, Span("", rows=results_end - cut))
    return (
        LayoutTable(layout.key, layout.width, tuple(tuple(r) for r in first)),
        LayoutTable(layout.key, layout.width, tuple(tuple(r) for r in rest)),
    )


def _label_key(text: str) -> str:
    return text.replace("（", "(").replace("）", ")")


def _table(layout: LayoutTable, widths: tuple[float, ...]) -> Table:
    data: list[list[Any]] = [[""] * layout.width for _ in layout.rows]
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), GRID_WIDTH, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("TOPPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("BOTTOMPADDING", (0, 0), (-1, -1), CELL_PADDING),
    ]
    min_heights = [0.0] * len(layout.rows)
    for r, c, span in layout.anchors():
        data[r][c] = _cell(span)
        if span.rows > 1 or span.cols > 1:
            commands.append(("SPAN", (c, r), (c + span.cols - 1, r + span.rows - 1)))
        if span.vertical:
            _reserve_height(min_heights, r, span)
    return Table(
        data,
        colWidths=list(widths),
        style=TableStyle(commands),
        repeatRows=0,
        minRowHeights=min_heights,
    )


def _cell(span: Span) -> Paragraph | str:
    if not span.text:
        return ""
    if span.vertical:
        return Paragraph(
            "<br/>".join(_escape(ch) for ch in vertical_lines(span.text)), _style("value")
        )
    return Paragraph(_escape(span.text), _style("value" if span.value else "cell"))


def vertical_lines(text: str) -> list[str]:
    """One character per line, punctuation kept with the character before it (三、 / 本 / 年 …)."""
    lines: list[str] = []
    for ch in text:
        if lines and ch in _KEEP_WITH_PREVIOUS:
            lines[-1] += ch
        else:
            lines.append(ch)
    return lines


def _reserve_height(min_heights: list[float], row: int, span: Span) -> None:
    """Make the spanned rows tall enough for a vertical label (reportlab sizes rows per cell)."""
    needed = len(vertical_lines(span.text)) * CELL_SIZE * LEADING_FACTOR + 2 * CELL_PADDING
    share = needed / span.rows
    for i in range(row, row + span.rows):
        min_heights[i] = max(min_heights[i], share)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_scanned_pdf(pages: int = 1) -> bytes:
    """A PDF that looks like a scan: ruled shapes and a filled image area, no text layer at all."""
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=PAGE_SIZE, invariant=1)
    width, height = PAGE_SIZE
    for _ in range(pages):
        c.setFillColor(colors.lightgrey)
        c.rect(MARGIN, height / 2, width - 2 * MARGIN, height / 2 - MARGIN, fill=1, stroke=0)
        c.setStrokeColor(colors.black)
        for i in range(6):
            y = MARGIN + i * 40
            c.line(MARGIN, y, width - MARGIN, y)
        c.showPage()
    c.save()
    return out.getvalue()
