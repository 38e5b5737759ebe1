"""HTML pages -> :class:`Document`: innermost tables as expanded grids, the rest as text lines.

Government pages wrap the article in layout tables, so only *innermost* tables are read as data
grids. ``rowspan``/``colspan`` are expanded into a full grid where each covered position keeps the
origin of its merged cell (see :mod:`gkcrawl.parsing.document`).
"""

from __future__ import annotations

import lxml.etree
import lxml.html

from .document import TEXT, Cell, Document, OriginCounter, Row, Unreadable, grid_rows

#: Spans larger than this are markup errors; clamping keeps a hostile page from exploding.
MAX_SPAN = 64
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
                grid, capped = _grid(el, new_origin)
                if capped:
                    flags.append(f"table {tables} larger than {MAX_TABLE_CELLS} cells was cut")
                rows.extend(grid_rows(grid, tables))
                lines.extend(" ".join(t for t, _ in r) for r in grid)
                tables += 1
                walker.skip_subtree()
                continue
            if tag in _BLOCK:
                flush()
            if el.text:
                buf.append(el.text)
        else:
            if tag in _BLOCK:
                flush()
            if el.tail:
                buf.append(el.tail)
    flush()
    return Document(rows=rows, text="\n".join(lines), kind="html", meta=meta, flags=flags)


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


_BREAKS = frozenset(("br", "p", "div"))


def _cell_text(cell: lxml.etree._Element) -> str:
    if not len(cell):  # the common case: a cell with text and no markup inside
        return (cell.text or "").strip()
    parts: list[str] = [cell.text] if cell.text else []
    for node in cell.iterdescendants():
        tag = node.tag
        if isinstance(tag, str):  # not a comment or processing instruction
            if tag in _BREAKS:
                parts.append("\n")
            if tag not in _SKIP:
                text = node.text
                if text:
                    parts.append(text)
        tail = node.tail
        if tail:
            parts.append(tail)
    return "".join(parts).strip()


def _span(cell: lxml.html.HtmlElement, attr: str) -> int:
    raw = cell.get(attr)
    if raw is None:
        return 1
    try:
        return max(1, min(MAX_SPAN, int((raw or "1").strip() or 1)))
    except ValueError:
        return 1


def _grid(table: lxml.html.HtmlElement,
          new_origin: OriginCounter) -> tuple[list[list[tuple[str, int]]], bool]:
    """Expand rowspan/colspan: each position holds (text, origin of the merged cell)."""
    grid: list[list[tuple[str, int]]] = []
    carry: dict[int, tuple[int, str, int]] = {}  # column -> (rows left, text, origin)
    size = 0
    for tr in _rows(table):
        row: dict[int, tuple[str, int]] = {}
        col = 0
        for cell in tr.iterchildren("td", "th"):
            while col in carry:
                col = _place_carry(row, carry, col)
            if len(cell):
                text = _cell_text(cell)
            else:  # the common case: text and no markup inside
                text = cell.text
                text = text.strip() if text else ""
            origin = new_origin()
            rowspan = cell.get("rowspan")
            colspan = cell.get("colspan")
            if rowspan is None and colspan is None:
                row[col] = (text, origin)
                col += 1
                continue
            rowspan = 1 if rowspan is None else _span(cell, "rowspan")
            colspan = 1 if colspan is None else _span(cell, "colspan")
            for i in range(colspan):
                row[col + i] = (text, origin)
                if rowspan > 1:
                    carry[col + i] = (rowspan - 1, text, origin)
            col += colspan
        if carry:
            for c in sorted(k for k in carry if k not in row):
                _place_carry(row, carry, c)
        width = max(row) + 1 if row else 0
        grid.append([row[i] if i in row else ("", new_origin()) for i in range(width)])
        size += width
        if size > MAX_TABLE_CELLS:
            return grid, True
    return grid, False


def _rows(table: lxml.html.HtmlElement):
    """./tr|./thead/tr|./tbody/tr|./tfoot/tr in document order, without XPath."""
    for child in table:
        if child.tag == "tr":
            yield child
        elif child.tag in ("thead", "tbody", "tfoot"):
            for tr in child:
                if tr.tag == "tr":
                    yield tr


def _place_carry(row: dict[int, tuple[str, int]], carry: dict[int, tuple[int, str, int]],
                 col: int) -> int:
    left, text, origin = carry[col]
    row[col] = (text, origin)
    if left > 1:
        carry[col] = (left - 1, text, origin)
    else:
        del carry[col]
    return col + 1
