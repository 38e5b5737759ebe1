"""HTML pages -> :class:`Document`: innermost tables as expanded grids, the rest as text lines.

Government pages wrap the article in layout tables, so only *innermost* tables are read as data
grids. ``rowspan``/``colspan`` are expanded into a full grid where each covered position keeps the
origin of its merged cell (see :mod:`gkcrawl.parsing.document`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

import lxml.etree
import lxml.html

from gkcrawl.parsing.document import TABLE, TEXT, Cell, Document, OriginCounter, Row, Unreadable

#: Spans larger than this are markup errors; clamping keeps a hostile page from exploding.
MAX_SPAN = 64
#: Distinct span attribute values remembered (pages print a handful: "2", "3", "7", …).
SPAN_CACHE = 256
#: Grid positions per table beyond which the rest of the table is dropped (and flagged).
MAX_TABLE_CELLS = 100_000
#: <meta name=...> fields of the 政府网站发展指引 that say what the page is.
META_FIELDS = ("ArticleTitle", "ContentSource", "PubDate", "ColumnName", "ColumnType",
               "SiteName", "SiteIDCode", "Keywords", "Description")

_SKIP = {"script", "style", "noscript", "template", "select", "option", "button", "iframe"}
_BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section",
          "article", "header", "footer", "ul", "ol", "dd", "dt", "blockquote", "pre", "center",
          "title", "form", "hr", "caption"}


#: A plain libxml2 HTML parser: lxml.html's parser looks up a Python element class for every
#: element proxy it creates, which costs more than the parse; nothing here needs HtmlElement.
_PARSER = lxml.etree.HTMLParser()


def extract_html(text: str) -> Document:
    try:
        root = lxml.html.document_fromstring(text, parser=_PARSER)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise Unreadable("not_a_report", f"no HTML content ({exc})") from None
    meta = _meta(root)
    new_origin = OriginCounter()
    rows: list[Row] = []
    flags: list[str] = []
    buf: list[str] = []
    lines: list[str] = []
    links: list[str] = []
    tables = 0

    def flush() -> None:
        line = "".join(buf).strip()
        buf.clear()
        if line:
            lines.append(line)
            rows.append(Row([Cell(line, new_origin())], TEXT))

    body = root.find("body")
    walker = lxml.etree.iterwalk(body if body is not None else root, events=("start", "end"))
    for event, el in walker:
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if tag in _SKIP or not tag:
                walker.skip_subtree()
                continue
            if tag == "table" and el.find(".//table") is None:
                flush()
                grid, capped = _grid(el, new_origin.take)
                if capped:
                    flags.append(f"table {tables} larger than {MAX_TABLE_CELLS} cells was cut")
                for cells in grid:
                    rows.append(Row(cells, TABLE, tables))
                    lines.append(" ".join([c.text for c in cells]))
                tables += 1
                walker.skip_subtree()
                continue
            if tag in _BLOCK:
                flush()
            if tag == "a":
                links.append("".join(el.itertext()))
            if el.text:
                buf.append(el.text)
        else:
            if tag in _BLOCK:
                flush()
            if el.tail:
                buf.append(el.tail)
    flush()
    return Document(rows=rows, text="\n".join(lines), kind="html", meta=meta, flags=flags,
                    links=[link for link in links if link.strip()])


def _meta(root: lxml.html.HtmlElement) -> dict[str, str]:
    meta: dict[str, str] = {}
    for el in root.iterfind(".//meta"):
        name = (el.get("name") or "").strip()
        content = (el.get("content") or "").strip()
        for field in META_FIELDS:
            if name.lower() == field.lower() and content:
                meta[field] = content
    title = root.find(".//title")
    title_text = "".join(title.itertext()).strip() if title is not None else ""
    if title_text:
        meta["title"] = title_text
    return meta


#: Elements that start a new line inside a cell.
_BREAKS = ("br", "p", "div")


def _prepare_cells(table: lxml.etree._Element) -> None:
    """Make each cell's text what ``tostring(cell, method="text")`` gives, so that reading a cell
    with markup inside (Word exports: <p><span>…</span></p>) is one C-level call in document order:
    the line break each br/p/div stands for is written into the tree as text at the element's
    start, and the own text of _SKIP elements (script, select, …) is removed. Only innermost
    tables are changed, and nothing reads their subtree afterwards."""
    for el in table.iter(*_SKIP):
        el.text = None
    for el in table.iter(*_BREAKS):
        text = el.text
        el.text = "\n" + text if text else "\n"


_tostring = lxml.etree.tostring


@lru_cache(maxsize=SPAN_CACHE)
def _span(raw: str) -> int:
    """A rowspan/colspan attribute's value, clamped to 1..MAX_SPAN (1 when unreadable)."""
    try:
        return max(1, min(MAX_SPAN, int((raw or "1").strip() or 1)))
    except ValueError:
        return 1


#: The cell elements of a table row.
_CELLS = frozenset(("td", "th"))


def _grid(table: lxml.etree._Element,
          take: Callable[[], int]) -> tuple[list[list[Cell]], bool]:
    """Expand rowspan/colspan: each grid position is a Cell with the origin of its merged cell.

    A row fills from the left (a cell takes the next column not held by a rowspan from above),
    so it is built as a list in one pass over its cells; this runs for every cell of every page.
    ``take`` hands out origins."""
    grid: list[list[Cell]] = []
    carry: dict[int, tuple[int, str, int]] = {}  # column -> (rows left, text, origin)
    size = 0
    _prepare_cells(table)
    for tr in _rows(table):
        row: list[Cell] = []
        for cell in tr:
            if cell.tag not in _CELLS:
                continue
            if carry:
                col = len(row)
                while col in carry:
                    _place_carry(row, carry, col)
                    col += 1
            if len(cell):  # markup inside: see _prepare_cells
                text = _tostring(cell, method="text", encoding=str, with_tail=False).strip()
            else:  # the common case: text and no markup inside
                text = cell.text
                text = text.strip() if text else ""
            origin = take()
            if not cell.keys():  # no attributes: one call instead of two get()s
                row.append(Cell(text, origin))
                continue
            rowspan = cell.get("rowspan")
            colspan = cell.get("colspan")
            if rowspan is None and colspan is None:
                row.append(Cell(text, origin))
                continue
            rows_down = 1 if rowspan is None else _span(rowspan)
            col = len(row)
            for i in range(1 if colspan is None else _span(colspan)):
                row.append(Cell(text, origin))
                if rows_down > 1:
                    carry[col + i] = (rows_down - 1, text, origin)
        if carry and max(carry) >= len(row):
            _carry_past_end(row, carry, take)
        grid.append(row)
        size += len(row)
        if size > MAX_TABLE_CELLS:
            return grid, True
    return grid, False


def _rows(table: lxml.etree._Element) -> Iterator[lxml.etree._Element]:
    """./tr|./thead/tr|./tbody/tr|./tfoot/tr in document order, without XPath."""
    for child in table:
        if child.tag == "tr":
            yield child
        elif child.tag in ("thead", "tbody", "tfoot"):
            for tr in child:
                if tr.tag == "tr":
                    yield tr


def _place_carry(row: list[Cell], carry: dict[int, tuple[int, str, int]], col: int) -> None:
    """Append the cell that a rowspan from above holds at ``col`` (which is ``len(row)``)."""
    left, text, origin = carry[col]
    row.append(Cell(text, origin))
    if left > 1:
        carry[col] = (left - 1, text, origin)
    else:
        del carry[col]


def _carry_past_end(row: list[Cell], carry: dict[int, tuple[int, str, int]],
                    take: Callable[[], int]) -> None:
    """Rowspans from above that reach past the row's last cell; the positions between them are
    blank cells of their own (their origins drawn after the row's cells, left to right)."""
    width = len(row)
    gaps: list[int] = []
    for col in sorted(k for k in carry if k >= width):
        while len(row) < col:
            gaps.append(len(row))
            row.append(_GAP)
        _place_carry(row, carry, col)
    for col in gaps:
        row[col] = Cell("", take())


#: Placeholder for a blank grid position until its origin is drawn.
_GAP = Cell("", -1)
