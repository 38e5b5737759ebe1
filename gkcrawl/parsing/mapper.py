"""Document rows -> printed template rows.

A printed row is a label (matched against the template's patterns) and the values printed after
it, in grid order. The mapper only *reads*: it never moves a number to a column it was not printed
in. When a row carries fewer values than the template has columns (text copies lose empty cells),
it is handed on as incomplete, and :mod:`gkcrawl.parsing.infer` decides what the identities allow.
In a one-cell-per-line copy, a row label printed alone, before the next row's, is a row whose
cells were all empty: it is handed on with no values.

Two things broken renderings do (PDF-to-Markdown conversions) are read here too:

* rows of a grid table printed without their labels, the labels set loose as text nearby: when
  the rows of the template between two labelled rows are as many as the unlabelled rows printed
  between them, those rows are theirs, in template order (a count that differs leaves them
  unread, flagged);
* values set loose in text beside a grid table (a one-cell-per-line run among pipe rows) are not
  a row of their own: a run that does not fill its row is not read there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final, cast

from gkcrawl.parsing.document import STREAM, TABLE, TEXT, Cell, Document
from gkcrawl.parsing.normalize import Value, label, page_footer, value
from gkcrawl.template.spec import TEMPLATES, CellRef, Table, Template
from gkcrawl.template.spec import Row as SpecRow

#: A one-cell text row longer than this is prose, not a table label (for format detection).
MAX_HEADING_CHARS = 30


@dataclass
class PrintedRow:
    table: str
    #: the template row (None for a single-line table such as table 3)
    row: str | None
    #: the cells this printed row stands for, in printed order
    refs: tuple[CellRef, ...]
    #: the values as printed (a blank cell is ``normalize.BLANK``)
    values: list[Value]
    #: index of the document row it came from (for error messages)
    source: int
    #: the kind of that document row (document.TABLE, STREAM, TEXT)
    kind: str = TABLE
    #: printed without a label, placed by template order between two labelled rows
    detached: bool = False

    @property
    def complete(self) -> bool:
        return len(self.values) == len(self.refs)

    @property
    def name(self) -> str:
        return f"{self.table}.{self.row}" if self.row else self.table


@dataclass
class Mapped:
    template: Template | None
    rows: list[PrintedRow] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    #: signature hits per template version
    scores: dict[str, int] = field(default_factory=dict)


def detect_format(doc: Document) -> tuple[Template | None, dict[str, int]]:
    """The template version whose signature labels the document prints most (None: neither)."""
    texts = {c.text for row in doc.rows if row.kind != TEXT or
             len(row.cells[0].text) <= MAX_HEADING_CHARS for c in row.cells}
    labels = set(map(label, texts))  # texts repeat ("", "0", span copies): each label once
    joined = "\n".join(labels)
    scores = {v: sum(1 for sig in t.signature_patterns if sig.search(joined))
              for v, t in TEMPLATES.items()}
    best = max(scores, key=lambda v: scores[v])
    if scores[best] == 0 or list(scores.values()).count(scores[best]) > 1:
        return None, scores
    return TEMPLATES[best], scores


def map_rows(doc: Document, template: Template) -> Mapped:
    out = Mapped(template)
    context: Table | None = None
    single: PrintedRow | None = None  # table 3 values gathered over several rows
    seen: dict[str, PrintedRow] = {}
    unlabelled = _Unlabelled(out, seen)

    def close_single() -> None:
        nonlocal single
        if single is not None:
            _keep(single, seen, out)
            single = None

    contexts = template.context_cache
    for index, row in enumerate(doc.rows):
        labels, values = _split(row.cells)
        norm = list(map(label, labels))
        for lab in norm:
            switched = contexts.get(lab, _UNSEEN)  # _context_of's memo, inlined: 140 labels a page
            if switched is _UNSEEN:
                switched = _context_of(lab, template)
            if switched is not None and switched is not context:
                close_single()
                unlabelled.give_up()
                context = switched
        if not values or (not labels and all(v.blank for v in values)):
            continue  # no values, or a row of empty cells: nothing printed
        spec, table = _match(norm, context, template)
        if (context is not None and context.single_line and norm
                and _is_column_label(norm[-1], context)):
            spec, table = None, None  # e.g. 总计 closing table 3's header, not (七)总计 of table 2
        if labels and all(v.blank for v in values) and (
                spec is None or (context is not None and _is_column_label(norm[-1], context))):
            continue  # blank cells padding a header row (…其他 | 总计 | | |), not blank values
        if spec is None and context is not None and context.single_line:
            single = single or PrintedRow(context.key, None, tuple(context.cells()), [], index,
                                          row.kind)
            room = len(single.refs) - len(single.values)
            single.values.extend(_fit(values, room, out, f"{context.key} (row {index})"))
            if len(single.values) >= len(single.refs):
                close_single()
            continue
        if spec is None or table is None:
            if context is not None and not labels and row.kind == TABLE:
                unlabelled.hold(context, index, values)
            elif context is not None and any(not v.blank for v in values):
                out.flags.append(f"unrecognised row in {context.key}: {' / '.join(labels)[:60]!r}")
                if row.kind == TABLE:
                    unlabelled.spoil()
            continue
        if table is not context:
            close_single()
            unlabelled.give_up()
            context = table
        if row.kind == STREAM:
            for empty in _empty_rows(norm, table, spec, unlabelled.last.get(table.key), template):
                _keep(PrintedRow(table.key, empty.key, table.row_refs(empty), [], index, STREAM),
                      seen, out)
        unlabelled.place_before(table, spec)
        _keep(_printed(table, spec, values, index, row.kind, out), seen, out)
    close_single()
    unlabelled.give_up()
    _drop_loose(out)
    return out


def _printed(table: Table, spec: SpecRow, values: list[Value], index: int, kind: str,
             out: Mapped, detached: bool = False) -> PrintedRow:
    refs = table.row_refs(spec)
    if len(values) > len(refs):  # else _fit would hand back a copy of the (fresh) list
        values = _fit(values, len(refs), out, f"{table.key}.{spec.key}")
    return PrintedRow(table.key, spec.key, refs, values, index, kind, detached)


class _Unlabelled:
    """Grid rows printed without their labels, held until the next labelled row of their table
    says which template rows lie between (see the module's docstring)."""

    def __init__(self, out: Mapped, seen: dict[str, PrintedRow]) -> None:
        self.out, self.seen = out, seen
        self.table: Table | None = None
        self.rows: list[tuple[int, list[Value]]] = []
        self.spoilt = False  # an unrecognised labelled row among them: the count means nothing
        #: per table, the last template row read
        self.last: dict[str, SpecRow] = {}

    def hold(self, table: Table, index: int, values: list[Value]) -> None:
        if table is not self.table:
            self.give_up()
            self.table = table
        self.rows.append((index, values))

    def spoil(self) -> None:
        if self.rows:
            self.spoilt = True

    def place_before(self, table: Table, spec: SpecRow) -> None:
        """The held rows are the unread template rows between the last row read and ``spec``."""
        if self.rows and table is self.table and not self.spoilt:
            previous = self.last.get(table.key)
            start = table.rows.index(previous) + 1 if previous is not None else 0
            end = table.rows.index(spec)
            gap = [r for r in table.rows[start:end]
                   if f"{table.key}.{r.key}" not in self.seen]
            if len(gap) == len(self.rows):
                for row, (index, values) in zip(gap, self.rows, strict=True):
                    _keep(_printed(table, row, values, index, TABLE, self.out, detached=True),
                          self.seen, self.out)
                self.out.flags.append(
                    f"{table.key}: {len(gap)} rows printed without labels read as "
                    f"{', '.join(r.key for r in gap)} (template order before {spec.key})")
                self.rows = []
        self.give_up()
        self.last[table.key] = spec

    def give_up(self) -> None:
        if self.rows and self.table is not None:
            self.out.flags.append(f"{self.table.key}: {len(self.rows)} rows printed without "
                                  "labels do not match the template rows around them; not read")
        self.rows, self.spoilt = [], False


#: A label longer than this is not a template row's (the longest, numbered, is 38 characters).
MAX_ROW_LABEL_CHARS = 45


def _empty_rows(labels: list[str], table: Table, spec: SpecRow, previous: SpecRow | None,
                template: Template) -> list[SpecRow]:
    """Template rows named among the labels before ``spec`` in a one-cell-per-line run: rows
    printed with every cell empty, which such a copy prints as a label alone. Only the rows
    between the last row read and ``spec`` count (a label elsewhere is a heading or prose)."""
    start = table.rows.index(previous) + 1 if previous is not None else 0
    end = table.rows.index(spec)
    out: list[SpecRow] = []
    for lab in labels:
        if len(lab) > MAX_ROW_LABEL_CHARS:
            continue
        named, where = _match([lab], table, template)
        if (named is not None and where is table and named not in out
                and start <= table.rows.index(named) < end):
            out.append(named)
    return out


def _drop_loose(out: Mapped) -> None:
    """A one-cell-per-line run that does not fill its row, in a table printed as a grid, is
    loose text, not a row that lost cells."""
    grids = {row.table for row in out.rows if row.kind == TABLE}
    loose = [row for row in out.rows
             if row.kind == STREAM and row.table in grids and not row.complete]
    for row in loose:
        out.rows.remove(row)
        out.flags.append(f"{row.name}: {len(row.values)} values printed loose beside the grid "
                         "table; not read")


def _split(cells: list[Cell]) -> tuple[list[str], list[Value]]:
    """Label texts (up to the last non-value cell) and the values printed after them, with
    horizontal span copies folded into one cell (as :meth:`Row.distinct`), in one pass. A page
    number among the cells (— 4 —) is neither."""
    texts: list[str] = []
    previous: int | None = None
    for cell in cells:
        if cell.origin != previous:
            previous = cell.origin
            texts.append(cell.text)
    parsed = list(map(value, texts))
    if any(v is None and page_footer(t) for t, v in zip(texts, parsed, strict=True)):
        kept = [(t, v) for t, v in zip(texts, parsed, strict=True)
                if v is not None or not page_footer(t)]
        texts, parsed = [t for t, _ in kept], [v for _, v in kept]
    end = len(parsed)  # just after the last label
    while end and parsed[end - 1] is not None:
        end -= 1
    labels = [t for t, v in zip(texts[:end], parsed[:end], strict=True) if v is None]
    return labels, cast("list[Value]", parsed[end:])  # all values after the last label


def _is_column_label(lab: str, table: Table) -> bool:
    return any(lab == label(c.label) for c in table.columns)


#: Entries kept per template in each label memo. Labels repeat across reports (the template's
#: own: a few hundred), but a long crawl meets ever new ones (notes, prose in cells): a full memo
#: is emptied and refills with the common labels at once, so it stays small and keeps hitting.
MAX_MEMO = 8192


class _Memo(Enum):
    UNSEEN = "unseen"


#: Not in the memo yet (None is a memoised answer: no table).
_UNSEEN: Final = _Memo.UNSEEN


def _context_of(lab: str, template: Template) -> Table | None:
    """The table whose context patterns the label names (memoised per template)."""
    memo = template.context_cache
    memoised = memo.get(lab, _UNSEEN)
    if memoised is not _UNSEEN:
        return memoised
    found = None
    for table in template.tables:
        if any(p.search(lab) for p in table.context_patterns):
            found = table
            break
    _remember(memo, lab, found)
    return found


def _match(labels: list[str], context: Table | None,
           template: Template) -> tuple[SpecRow | None, Table | None]:
    """The template row named by the row's last labels: first in the current table, then in any."""
    memo = template.label_cache
    key = ("match", context.key if context is not None else None, *labels[-2:])
    if key in memo:
        return memo[key]
    found = _match_uncached(labels, context, template)
    _remember(memo, key, found)
    return found


def _remember(memo: dict[Any, Any], key: Any, found: Any) -> None:
    if len(memo) >= MAX_MEMO:
        memo.clear()
    memo[key] = found


def _match_uncached(labels: list[str], context: Table | None,
                    template: Template) -> tuple[SpecRow | None, Table | None]:
    candidates = [context] if context is not None else []
    candidates += [t for t in template.tables if t is not context]
    for lab in reversed(labels[-2:]):
        for table in candidates:
            for spec in table.rows:
                if any(p.search(lab) for p in spec.patterns):
                    return spec, table
    return None, None


def _fit(values: list[Value], expected: int, out: Mapped, where: str) -> list[Value]:
    """Trim blank cells that only pad the grid (trailing first, then leading)."""
    values = list(values)
    while len(values) > expected and values[-1].blank:
        values.pop()
    while len(values) > expected and values[0].blank:
        values.pop(0)
    if len(values) > expected:
        out.flags.append(
            f"{where}: {len(values)} values printed for {expected} columns; extra ignored")
        values = values[:expected]
    return values


def _keep(printed: PrintedRow, seen: dict[str, PrintedRow], out: Mapped) -> None:
    earlier = seen.get(printed.name)
    if earlier is None:
        seen[printed.name] = printed
        out.rows.append(printed)
        return
    if earlier.values == printed.values:
        return  # the same table printed twice (page + print view): nothing new
    if not earlier.complete and len(printed.values) > len(earlier.values):
        out.rows[out.rows.index(earlier)] = printed
        seen[printed.name] = printed
    out.flags.append(f"{printed.name} printed twice with different values; "
                     f"kept the {'first' if seen[printed.name] is earlier else 'fuller'} copy")
