"""Document rows -> printed template rows.

A printed row is a label (matched against the template's patterns) and the values printed after
it, in grid order. The mapper only *reads*: it never moves a number to a column it was not printed
in. When a row carries fewer values than the template has columns (text copies lose empty cells),
it is handed on as incomplete, and :mod:`gkcrawl.parsing.infer` decides what the identities allow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final, cast

from gkcrawl.parsing.document import TEXT, Cell, Document
from gkcrawl.parsing.normalize import Value, label, value
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
                context = switched
        if not values:
            continue
        spec, table = _match(norm, context, template)
        if (context is not None and context.single_line and norm
                and _is_column_label(norm[-1], context)):
            spec, table = None, None  # e.g. 总计 closing table 3's header, not (七)总计 of table 2
        if labels and all(v.blank for v in values) and (
                spec is None or (context is not None and _is_column_label(norm[-1], context))):
            continue  # blank cells padding a header row (…其他 | 总计 | | |), not blank values
        if spec is None and context is not None and context.single_line:
            single = single or PrintedRow(context.key, None, tuple(context.cells()), [], index)
            room = len(single.refs) - len(single.values)
            single.values.extend(_fit(values, room, out, f"{context.key} (row {index})"))
            if len(single.values) >= len(single.refs):
                close_single()
            continue
        if spec is None or table is None:
            if context is not None and any(not v.blank for v in values):
                out.flags.append(f"unrecognised row in {context.key}: {' / '.join(labels)[:60]!r}")
            continue
        if table is not context:
            close_single()
            context = table
        refs = table.row_refs(spec)
        if len(values) > len(refs):  # else _fit would hand back a copy of the (fresh) list
            values = _fit(values, len(refs), out, f"{table.key}.{spec.key}")
        _keep(PrintedRow(table.key, spec.key, refs, values, index), seen, out)
    close_single()
    return out


def _split(cells: list[Cell]) -> tuple[list[str], list[Value]]:
    """Label texts (up to the last non-value cell) and the values printed after them, with
    horizontal span copies folded into one cell (as :meth:`Row.distinct`), in one pass."""
    texts: list[str] = []
    previous: int | None = None
    for cell in cells:
        if cell.origin != previous:
            previous = cell.origin
            texts.append(cell.text)
    parsed = list(map(value, texts))
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
    if not earlier.complete and printed.complete:
        out.rows[out.rows.index(earlier)] = printed
        seen[printed.name] = printed
    out.flags.append(f"{printed.name} printed twice with different values; "
                     f"kept the {'first' if seen[printed.name] is earlier else 'complete'} copy")
