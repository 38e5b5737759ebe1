"""PDF attachments -> :class:`~gkcrawl.parsing.document.Document`, with pdfplumber.

Per page, ruled tables are found from their drawn lines and read cell by cell; the text outside
them becomes one-cell TEXT rows, and both are ordered top to bottom as printed. pdfplumber reports a
position covered by a merged cell as ``None``; it is given the origin of the merged cell that
geometrically covers it (to its left for a column span, above for a row span), so spans behave like
HTML rowspan/colspan. Newlines inside a cell are kept: a vertical label comes out one character
per line and the label normaliser joins it back. Tables continuing on the next page are simply more
rows; the mapper follows the stream.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pdfplumber
from pdfplumber.page import Page
from pdfplumber.pdf import PDF
from pdfplumber.table import Table

from gkcrawl.parsing.document import (
    Cell,
    Document,
    DocumentBuilder,
    OriginCounter,
    Unreadable,
)
from gkcrawl.parsing.extract.inflate import PARSE_MAX_INFLATED, check_pdf

KIND = "pdf"

#: Pages read at most; annual reports run to a few dozen pages, the rest of a huge file is
#: appendices (or a scanned compilation) not worth the time and memory.
MAX_PAGES = 100
#: Above this many drawn lines/rects/curves on one page, table finding (quadratic in edges) is
#: skipped and the page is read as text lines.
MAX_PAGE_GRAPHICS = 20_000
#: Ruling-line table detection (the statistical tables are always fully ruled).
TABLE_SETTINGS: dict[str, Any] = {"vertical_strategy": "lines", "horizontal_strategy": "lines"}
#: Share of ``(cid:N)`` placeholder characters above which the text layer is flagged as unmapped.
GARBLED_CID_SHARE = 0.5
#: Separator of the cells of one table row in :attr:`Document.text`.
#: Longest library error message quoted in an Unreadable reason.
MAX_REASON_CHARS = 200
#: Smallest table kept as a grid: a single framed box is read as text.
MIN_TABLE_CELLS = 2

FLAG_PAGES_CAPPED = "pdf_pages_capped"
FLAG_TEXTLESS_PAGES = "pdf_pages_without_text"
FLAG_GRAPHICS_HEAVY = "pdf_table_search_skipped"
FLAG_UNMAPPED_CID = "pdf_unmapped_cid_text"


def extract_pdf(body: bytes, max_inflated: int = PARSE_MAX_INFLATED) -> Document:
    """Rows of a PDF in reading order; raise :class:`Unreadable` if it has no usable text layer,
    or if one of its Flate streams inflates past ``max_inflated`` bytes (checked first)."""
    check_pdf(body, max_inflated)
    try:
        with pdfplumber.open(io.BytesIO(body)) as pdf:
            return _extract(pdf)
    except (Unreadable, MemoryError):  # MemoryError: over the worker's memory limit, not damage
        raise
    except Exception as exc:
        raise Unreadable("corrupt", _broken_reason(exc)) from exc


def _extract(pdf: PDF) -> Document:
    pages = pdf.pages
    total = len(pages)
    if not total:
        raise Unreadable("empty", "PDF without pages")
    out = _Builder()
    if total > MAX_PAGES:
        out.flag(f"{FLAG_PAGES_CAPPED}:{MAX_PAGES}/{total}")
    textless = 0
    for page in pages[:MAX_PAGES]:
        try:
            if not _read_page(page, out):
                textless += 1
        finally:
            page.close()
    read = min(total, MAX_PAGES)
    if textless == read:
        raise Unreadable(
            "scanned_pdf", f"scanned PDF without a text layer ({total} pages); OCR is not attempted"
        )
    if textless:
        out.flag(f"{FLAG_TEXTLESS_PAGES}:{textless}")
    if out.chars and out.cid_chars / out.chars > GARBLED_CID_SHARE:
        out.flag(FLAG_UNMAPPED_CID)
    meta: dict[str, str] = {}
    title = _meta_text(pdf.metadata.get("Title"))
    if title:
        meta["title"] = title
    return out.build(KIND, meta)


@dataclass
class _Builder(DocumentBuilder):
    chars: int = 0
    cid_chars: int = 0

    def table(self, grid: list[list[Cell]]) -> None:
        index, seen = self.start_table(), set[int]()
        for cells in grid:
            self.table_row(index, cells, seen)


def _read_page(page: Page, out: _Builder) -> bool:
    """Add the page's tables and text lines in reading order; False if it has no text at all."""
    chars = page.chars
    if not any(c["text"].strip() for c in chars):
        return False
    out.chars += len(chars)
    out.cid_chars += sum(1 for c in chars if c["text"].startswith("(cid:"))
    page = page.dedupe_chars()
    tables: list[Table] = []
    if len(page.lines) + len(page.rects) + len(page.curves) > MAX_PAGE_GRAPHICS:
        out.flag(FLAG_GRAPHICS_HEAVY)
    else:
        tables = [t for t in page.find_tables(TABLE_SETTINGS) if len(t.cells) >= MIN_TABLE_CELLS]
    # Chars in a table's cells are read with the table; anything else (even inside the table's
    # bounding box, where an irregular grid leaves gaps) stays running text.
    outside = page.filter(lambda obj: obj.get("object_type") != "char" or not _in_cell(obj, tables))
    items: list[tuple[float, float, int, Any]] = []
    for n, line in enumerate(outside.extract_text_lines(return_chars=False)):
        if line["text"].strip():
            items.append((line["top"], line["x0"], n, line["text"]))
    for n, table in enumerate(tables):
        items.append((table.bbox[1], table.bbox[0], -1 - n, table))
    for _top, _x0, _n, item in sorted(items, key=lambda i: (i[0], i[1], i[2])):
        if isinstance(item, str):
            out.text(item)
        else:
            out.table(_grid(item, out.new_origin))
    return True


def _grid(table: Table, new_origin: OriginCounter) -> list[list[Cell]]:
    """The table's full grid; merged positions share the covering cell's origin."""
    texts = table.extract()
    owners: dict[tuple[float, ...], Cell] = {}
    for row, row_texts in zip(table.rows, texts, strict=True):
        for bbox, text in zip(row.cells, row_texts, strict=True):
            if bbox is not None:
                owners[tuple(bbox)] = Cell((text or "").strip(), new_origin())
    xs = [*sorted({c[0] for c in table.cells}), table.bbox[2]]
    ys = [*sorted({c[1] for c in table.cells}), table.bbox[3]]
    grid: list[list[Cell]] = []
    for i, row in enumerate(table.rows):
        cy = (ys[i] + ys[i + 1]) / 2
        line: list[Cell] = []
        for j, bbox in enumerate(row.cells):
            if bbox is not None:
                owner = owners[tuple(bbox)]
            else:
                cx = (xs[j] + xs[j + 1]) / 2
                owner = _covering(owners, cx, cy) or _neighbour(line, grid, j, new_origin)
            line.append(Cell(owner.text, owner.origin))
        grid.append(line)
    return grid


def _covering(
    owners: dict[tuple[float, ...], Cell], x: float, y: float
) -> Cell | None:
    for (x0, top, x1, bottom), cell in owners.items():
        if x0 <= x < x1 and top <= y < bottom:
            return cell
    return None


def _neighbour(line: list[Cell], grid: list[list[Cell]], j: int, new_origin: OriginCounter) -> Cell:
    """No cell covers the position (a ruling line is missing): join the left, else the upper."""
    if line:
        return line[-1]
    if grid and j < len(grid[-1]):
        return grid[-1][j]
    return Cell("", new_origin())


def _in_cell(obj: dict[str, Any], tables: list[Table]) -> bool:
    return any(
        _center_in(obj, table.bbox) and any(_center_in(obj, cell) for cell in table.cells)
        for table in tables
    )


def _center_in(obj: dict[str, Any], bbox: tuple[float, float, float, float]) -> bool:
    x: float = (obj["x0"] + obj["x1"]) / 2
    y: float = (obj["top"] + obj["bottom"]) / 2
    x0, top, x1, bottom = bbox
    return x0 <= x < x1 and top <= y < bottom


def _meta_text(value: Any) -> str:
    if isinstance(value, bytes):
        for encoding in ("utf-8", "gb18030"):
            try:
                value = value.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            return ""
    return value.strip() if isinstance(value, str) else ""


def _broken_reason(exc: BaseException) -> str:
    """One line; pdfplumber wraps pdfminer's error (in ``args`` and ``__context__``), unwrap it."""
    inner: BaseException = exc
    while True:
        nested = next((a for a in inner.args if isinstance(a, BaseException)), None)
        nested = nested or inner.__cause__ or inner.__context__
        if nested is None or nested is inner:
            break
        inner = nested
    if "password" in type(inner).__name__.lower() or "encrypt" in type(inner).__name__.lower():
        return "encrypted PDF that cannot be opened without a password"
    text = " ".join(str(inner).split()) or type(inner).__name__
    return f"not a readable PDF file ({type(inner).__name__}: {text})"[:MAX_REASON_CHARS]
