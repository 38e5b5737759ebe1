"""DOCX attachments -> :class:`~gkcrawl.parsing.document.Document`.

The body is walked in document order straight from the WordprocessingML, not through python-docx's
table API, because the mapper needs to know *which* grid positions one merged cell covers:
``w:gridSpan`` (horizontal), ``w:vMerge`` (vertical) and the legacy ``w:hMerge`` all expand to
copies that share the merged cell's ``origin``. ``w:gridBefore``/``w:gridAfter`` become blank
cells so that every row keeps its grid columns.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import docx
from docx.oxml.ns import qn
from lxml import etree

from gkcrawl.parsing.document import (
    Cell,
    Document,
    DocumentBuilder,
    Unreadable,
)
from gkcrawl.parsing.extract.inflate import PARSE_MAX_INFLATED, check_zip

KIND = "docx"

#: Block containers whose children are walked as if they were body content: content controls,
#: custom XML, tracked insertions/moves of whole blocks.
_TRANSPARENT = {qn("w:sdt"), qn("w:sdtContent"), qn("w:customXml"), qn("w:ins"), qn("w:moveTo")}
#: Subtrees whose text is not part of the visible document (deleted/moved-away text, the fallback
#: copy of drawing content that ``mc:Choice`` already holds).
_SKIPPED = {
    qn("w:del"),
    qn("w:moveFrom"),
    "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback",
}
_P, _TBL, _TR, _TC = qn("w:p"), qn("w:tbl"), qn("w:tr"), qn("w:tc")
_T, _TAB, _BR, _CR = qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")
_NO_BREAK_HYPHEN = qn("w:noBreakHyphen")
_VAL = qn("w:val")
#: Separator of the cells of one table row in :attr:`Document.text`.
#: Word's own limit on table columns; larger spans in the XML are damage (or a memory bomb).
MAX_GRID_COLUMNS = 63
#: Longest library error message quoted in an Unreadable reason.
MAX_REASON_CHARS = 200


def extract_docx(body: bytes, max_inflated: int = PARSE_MAX_INFLATED) -> Document:
    """Rows of a DOCX body in reading order; raise :class:`Unreadable` for a broken package or
    one whose parts inflate past ``max_inflated`` bytes (checked before any is read)."""
    check_zip(body, max_inflated)
    try:
        package = docx.Document(io.BytesIO(body))
    except MemoryError:  # over the worker's memory limit, not damage
        raise
    except Exception as exc:
        if _out_of_memory(exc):
            raise MemoryError(_one_line(exc)) from exc
        raise Unreadable("corrupt", f"not a readable DOCX file ({_one_line(exc)})") from exc
    walker = _Walker()
    walker.blocks(package.element.body)
    meta: dict[str, str] = {}
    title = (package.core_properties.title or "").strip()
    if title:
        meta["title"] = title
    return walker.build(KIND, meta)


class _Walker(DocumentBuilder):
    """Collects rows and text lines while walking the body once."""

    def blocks(self, parent: etree._Element) -> None:
        for child in _block_children(parent):
            if child.tag == _P:
                text = paragraph_text(child).strip()
                if text:
                    self.text(text)
            elif child.tag == _TBL:
                self.table(child)

    def table(self, tbl: etree._Element) -> None:
        grid_rows = list(_table_rows(tbl))
        if _is_wrapper(grid_rows):
            # A one-column layout table around the real content: read its cells as body content.
            for tr_cells in grid_rows:
                for tc in tr_cells:
                    self.blocks(tc)
            return
        index = self.start_table()
        above: list[Cell] = []  # the previous row's cells, for vMerge continuation
        seen: set[int] = set()
        for tr in _rows_of(tbl):
            cells, nested = self._row(tr, above)
            self.table_row(index, cells, seen)
            above = cells
            for inner in nested:
                # Nested tables are read as tables of their own, right after their row.
                self.flag("nested_table")
                self.table(inner)

    def _row(
        self, tr: etree._Element, above: list[Cell]
    ) -> tuple[list[Cell], list[etree._Element]]:
        cells: list[Cell] = []
        nested: list[etree._Element] = []
        trpr = tr.find(qn("w:trPr"))
        cells.extend(self._blanks(_int_prop(trpr, "w:gridBefore", 0)))
        for tc in _cells_of(tr):
            tcpr = tc.find(qn("w:tcPr"))
            span = max(1, _int_prop(tcpr, "w:gridSpan", 1))
            col = len(cells)
            if _merge_continues(tcpr, "w:vMerge") and col < len(above):
                origin_cell = above[col]
            elif _merge_continues(tcpr, "w:hMerge") and cells:
                origin_cell = cells[-1]
            else:
                origin_cell = Cell(cell_text(tc), self.new_origin())
                nested.extend(_nested_tables(tc))
            cells.extend(Cell(origin_cell.text, origin_cell.origin) for _ in range(span))
        cells.extend(self._blanks(_int_prop(trpr, "w:gridAfter", 0)))
        return cells, nested

    def _blanks(self, n: int) -> list[Cell]:
        return [Cell("", self.new_origin()) for _ in range(max(0, n))]


def paragraph_text(p: etree._Element) -> str:
    """Visible text of one ``w:p``: runs, hyperlinks, fields, tabs and breaks, no deleted text."""
    out: list[str] = []
    for node in _visible_descendants(p):
        tag = node.tag
        if tag == _T:
            out.append(node.text or "")
        elif tag == _TAB:
            out.append("\t")
        elif tag in (_BR, _CR):
            out.append("\n")
        elif tag == _NO_BREAK_HYPHEN:
            out.append("-")
    return "".join(out)


def cell_text(tc: etree._Element) -> str:
    """The cell's own paragraphs, newline-joined (nested tables are read separately)."""
    texts = [paragraph_text(p) for p in _block_children(tc) if p.tag == _P]
    return "\n".join(texts).strip()


# --- walking helpers ------------------------------------------------------------------------------


def _children(parent: etree._Element, tags: tuple[str, ...]) -> Iterator[etree._Element]:
    """The children of ``parent`` with one of ``tags``, looking through content controls."""
    for child in parent:
        if child.tag in tags:
            yield child
        elif child.tag in _TRANSPARENT:
            yield from _children(child, tags)


def _block_children(parent: etree._Element) -> Iterator[etree._Element]:
    """``w:p`` and ``w:tbl`` children of a body or a cell."""
    return _children(parent, (_P, _TBL))


def _rows_of(tbl: etree._Element) -> Iterator[etree._Element]:
    return _children(tbl, (_TR,))


def _cells_of(tr: etree._Element) -> Iterator[etree._Element]:
    return _children(tr, (_TC,))


def _table_rows(tbl: etree._Element) -> Iterator[list[etree._Element]]:
    for tr in _rows_of(tbl):
        yield list(_cells_of(tr))


def _is_wrapper(rows: list[list[etree._Element]]) -> bool:
    """A table of single, unspanned cells holding a table: a layout frame, not data."""
    if not rows or any(len(r) != 1 for r in rows):
        return False
    return any(any(True for _ in _nested_tables(r[0])) for r in rows)


def _nested_tables(tc: etree._Element) -> Iterator[etree._Element]:
    return (child for child in _block_children(tc) if child.tag == _TBL)


def _visible_descendants(p: etree._Element) -> Iterator[etree._Element]:
    for child in p:
        if child.tag in _SKIPPED or child.tag in (_P, _TBL):
            # text boxes hold their own paragraphs; their text still belongs to this paragraph
            if child.tag == _P:
                yield from _visible_descendants(child)
            continue
        yield child
        yield from _visible_descendants(child)


def _int_prop(props: etree._Element | None, name: str, default: int) -> int:
    if props is None:
        return default
    node = props.find(qn(name))
    if node is None:
        return default
    try:
        return min(int(node.get(_VAL, default)), MAX_GRID_COLUMNS)
    except ValueError:
        return default


def _merge_continues(tcpr: etree._Element | None, name: str) -> bool:
    """``<w:vMerge/>`` and ``<w:vMerge w:val="continue"/>`` continue; ``restart`` starts."""
    if tcpr is None:
        return False
    node = tcpr.find(qn(name))
    return node is not None and node.get(_VAL, "continue") == "continue"


def _out_of_memory(exc: BaseException) -> bool:
    """Whether libxml2 failed to allocate: lxml reports it as a syntax error (ERR_NO_MEMORY)."""
    log = exc.error_log if isinstance(exc, etree.LxmlError) else ()
    return any(entry.type == etree.ErrorTypes.ERR_NO_MEMORY for entry in log)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:MAX_REASON_CHARS]
