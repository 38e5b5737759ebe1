"""The one shape every rendering is reduced to before the template is applied.

Each extractor (HTML, text, DOCX, PDF) turns its input into a :class:`Document`: the rows of the
document in reading order. A table row keeps its grid: row and column spans are expanded, and every
grid position covered by one merged cell carries that cell's ``origin`` number, so a later stage
can tell a span copy from a blank cell. Text outside tables becomes one-cell rows. Nothing here
knows the report template; :mod:`gkcrawl.parsing.mapper` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

#: Row kinds.
TABLE = "table"  #: a row of a real grid (HTML/DOCX/PDF table, pipe-separated text row)
TEXT = "text"  #: a paragraph or line of running text (one cell)
STREAM = "stream"  #: a row regrouped from a one-cell-per-line text rendering (no grid known)


@dataclass(slots=True)
class Cell:
    """One grid position: its text as printed and the id of the merged cell it belongs to."""

    text: str
    origin: int


@dataclass(slots=True)
class Row:
    cells: list[Cell]
    kind: str = TABLE
    #: index of the source table in the document (rows of one table share it); -1 for text
    table: int = -1

    @property
    def texts(self) -> list[str]:
        return [c.text for c in self.cells]

    def distinct(self) -> list[Cell]:
        """The row's cells with horizontal span copies folded into one (reading order kept)."""
        out: list[Cell] = []
        for cell in self.cells:
            if out and out[-1].origin == cell.origin:
                continue
            out.append(cell)
        return out


@dataclass
class Document:
    """What an extractor hands to the template mapper."""

    rows: list[Row]
    #: plain text of the whole document (for metadata: title, organ, dates). It holds the text of
    #: every cell (each extractor makes it so; parsing's _simplify relies on it to skip the cells
    #: of a page that has no pinyin and no traditional script)
    text: str
    #: "html" | "text" | "docx" | "pdf" | "doc"
    kind: str
    #: metadata found outside the body, e.g. HTML <meta name="ArticleTitle"> or <title>
    meta: dict[str, str] = field(default_factory=dict)
    #: problems met while extracting (kept as flags on the report)
    flags: list[str] = field(default_factory=list)
    #: the texts of the page's links: a report title among them names another page (a list of
    #: the other years' reports beside the article), not this one
    links: list[str] = field(default_factory=list)

    @property
    def prose(self) -> str:
        """The running text outside the tables, a line per paragraph: what a report says in its
        own words (the tables are its numbers)."""
        return "\n".join(row.cells[0].text for row in self.rows if row.kind == TEXT)


class OriginCounter:
    """Hands out cell origin ids, unique within one document."""

    __slots__ = ("take",)

    def __init__(self) -> None:
        #: the next id, as a C-level call: per-cell loops bind it instead of calling the counter
        self.take = count().__next__

    def __call__(self) -> int:
        return self.take()


#: Between the distinct cells of a table row in the document's plain text.
TEXT_CELL_SEPARATOR = "\t"


@dataclass
class DocumentBuilder:
    """Collects rows and plain-text lines in reading order, for extractors that walk a file once."""

    rows: list[Row] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    new_origin: OriginCounter = field(default_factory=OriginCounter)
    tables: int = 0

    def flag(self, flag: str) -> None:
        if flag not in self.flags:
            self.flags.append(flag)

    def text(self, text: str) -> None:
        self.rows.append(text_row(text, self.new_origin))
        self.lines.append(text)

    def start_table(self) -> int:
        """The index of a new table (its rows share it)."""
        self.tables += 1
        return self.tables - 1

    def table_row(self, index: int, cells: list[Cell], seen: set[int]) -> None:
        """Add a grid row; its text line names each merged cell once (``seen`` spans the table)."""
        self.rows.append(Row(cells, TABLE, index))
        line = []
        for cell in cells:
            if cell.origin not in seen:
                seen.add(cell.origin)
                line.append(cell.text)
        self.lines.append(TEXT_CELL_SEPARATOR.join(line))

    def build(self, kind: str, meta: dict[str, str]) -> Document:
        return Document(self.rows, "\n".join(self.lines), kind, meta, self.flags)


def text_row(text: str, new_origin: OriginCounter) -> Row:
    return Row([Cell(text, new_origin())], TEXT)


class Unreadable(Exception):
    """The input cannot be turned into a :class:`Document` (the reason is one line, for users)."""

    #: codes: "unsupported_format", "scanned_pdf", "corrupt", "too_large", "empty",
    #: "parse_inflated"; ``over_limit`` is the value of the limit the document went over, if any
    def __init__(self, code: str, reason: str, kind: str | None = None,
                 over_limit: float | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.kind = kind
        self.over_limit = over_limit
