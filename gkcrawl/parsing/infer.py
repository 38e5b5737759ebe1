"""From printed rows to table cells: what is printed, what a blank stands for, and where the values
of a row that lost cells go.

Rules (docs/report-schema.md and docs/parsing.md, "Blank and missing cells"):

* A cell printed with a number is that number.
* A cell printed blank in a filled table (one that prints at least one number) is 0, rule
  ``blank``, unless an identity forces another value: a blank 总计 is the sum of its row (rule 3),
  and a blank that is the one unknown of an identity is what the identity leaves. When 0 would
  break an identity the printed numbers keep, the cell stays null and is flagged.
* A row printed with fewer values than columns lost its empty cells (text copies drop them):
  :mod:`gkcrawl.parsing.placement` decides where its values go (rule ``placement``); its lost
  cells are blanks.
* Cells of rows the document does not print are filled only where an identity forces them.
* ``strict``: only what is printed. Blank and lost cells stay null, nothing is inferred.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gkcrawl.parsing import placement
from gkcrawl.parsing.identities import (
    ZERO,
    Cells,
    Conflict,
    Number,
    broken,
    propagate,
)
from gkcrawl.parsing.mapper import Mapped, PrintedRow
from gkcrawl.parsing.normalize import to_10k_yuan
from gkcrawl.template.spec import CellRef, Identity, Template

__all__ = ["BLANK", "PLACEMENT", "Cells", "Inferred", "Number", "Solved", "solve"]

#: Rules of :class:`Inferred` besides the identities' own ("1".."4").
BLANK, PLACEMENT = "blank", "placement"
#: Cells named in a flag at most.
FLAG_CELLS = 8


@dataclass(frozen=True)
class Inferred:
    ref: CellRef
    value: Number
    rule: str  # an identity rule ("1".."4"), "blank" or "placement"
    why: str


@dataclass
class Solved:
    cells: Cells
    inferred: list[Inferred] = field(default_factory=list)
    #: cells printed blank (in rows printed whole)
    blanks: set[CellRef] = field(default_factory=set)
    flags: list[str] = field(default_factory=list)


def solve(mapped: Mapped, stated: dict[str, int] | None = None, strict: bool = False) -> Solved:
    """The report's cells from its printed rows; ``stated``: the totals its prose states."""
    template = mapped.template
    assert template is not None
    cells: Cells = dict.fromkeys(template.all_cells)
    out = Solved(cells)
    printed = _read(template, mapped.rows, cells, out.blanks)
    seen_rows = {r.name for r in mapped.rows}
    for table in template.tables:
        names = [table.key] if table.single_line else [f"{table.key}.{r.key}" for r in table.rows]
        out.flags.extend(f"row not found: {n}" for n in names if n not in seen_rows)
    short = [r for r in mapped.rows if not r.complete]
    if strict:
        _flag_strict(out, short)
        return out

    identities = template.identities
    derived: dict[CellRef, Identity] = {}
    # the cells of the short rows wait for the placement: no identity fills them before it
    pending = frozenset(ref for row in short for ref in row.refs)
    skip, trial = broken(cells, identities, derived, pending)
    if _drop_detached(template, mapped.rows, cells, printed, out, skip):
        derived.clear()
        skip, trial = broken(cells, identities, derived, pending)
    if not short and not skip and all(trial[ref] is not None for ref in out.blanks):
        # the strict pass met no conflict and left no blank open: the lenient pass would fill
        # the same cells from the same identities in the same order
        cells.update(trial)
        zeroed: set[CellRef] = set()
        placed: dict[CellRef, tuple[str, str]] = {}
    else:
        derived.clear()
        propagate(cells, identities, skip, derived, strict=False, closed=pending)
        filled = {ref[0] for ref in printed if ref not in out.blanks}
        filled |= {row.table for row in short if any(not v.blank for v in row.values)}
        zeroed = _blanks_to_zero(template, cells, out.blanks, filled, skip, derived, pending)
        placed, unplaced = (_place(template, cells, short, skip, stated or {}, out) if short
                            else ({}, set()))
        # a row no placement fits shows that its identities do not hold as printed: they do
        # not fill its cells either
        propagate(cells, identities, skip, derived, strict=False, closed=frozenset(unplaced))
    out.inferred = _inferred(template, cells, printed, out.blanks, placed, zeroed, derived)
    blank_null = sorted(ref for ref in out.blanks if cells[ref] is None)
    if blank_null:
        out.flags.append(f"{len(blank_null)} blank cells left null: " + _names(blank_null))
    return out


def _read(template: Template, rows: list[PrintedRow], cells: Cells,
          blanks: set[CellRef]) -> set[CellRef]:
    """The values of the rows printed whole into ``cells``; the cells printed (blank or not)."""
    printed: set[CellRef] = set()
    amounts = template.amount_cells
    for row in rows:
        if row.complete:
            # _number, inlined: 200 cells a report
            for ref, val in zip(row.refs, row.values, strict=True):
                number = val.number
                cells[ref] = to_10k_yuan(val) if ref in amounts else number
                if number is None:
                    blanks.add(ref)
            printed.update(row.refs)
    return printed


def _flag_strict(out: Solved, short: list[PrintedRow]) -> None:
    if out.blanks:
        out.flags.append(f"strict reading: {len(out.blanks)} blank cells left null: "
                         + _names(sorted(out.blanks)))
    out.flags.extend(f"strict reading: {row.name}: {len(row.values)} of {len(row.refs)} values "
                     "printed; the row is left null" for row in short)


def _drop_detached(template: Template, rows: list[PrintedRow], cells: Cells,
                   printed: set[CellRef], out: Solved, skip: set[int]) -> bool:
    """Rows printed without their labels, placed by template order (mapper), are kept only when
    the identities they take part in hold; True when one was dropped."""
    doubtful = [row for row in rows if row.detached and row.complete and any(
        index in skip for ref in row.refs for index in template.identities_of.get(ref, ()))]
    for row in doubtful:
        for ref in row.refs:
            cells[ref] = None
            printed.discard(ref)
            out.blanks.discard(ref)
        out.flags.append(f"{row.name}: the row printed without its label breaks an identity "
                         "where template order puts it; left null")
    return bool(doubtful)


def _blanks_to_zero(template: Template, cells: Cells, blanks: set[CellRef], filled: set[str],
                    skip: set[int], derived: dict[CellRef, Identity],
                    pending: frozenset[CellRef]) -> set[CellRef]:
    """Blank cells no identity forced are 0 (in a filled table), then the blank 总计 come out of
    their parts. A blank whose 0 breaks an identity the printed numbers keep stays null, and so
    does every blank that 0 would have to go through to reach that identity."""
    identities = template.identities
    open_blanks = sorted(ref for ref in blanks if cells[ref] is None and ref[0] in filled
                         and ref not in template.totals)
    held: set[CellRef] = set()
    while True:
        zeroed = [ref for ref in open_blanks if ref not in held]
        trial = dict(cells)
        trial.update(dict.fromkeys(zeroed, ZERO))
        found: dict[CellRef, Identity] = {}
        try:
            propagate(trial, identities, skip, found, strict=True, closed=pending)
        except Conflict as conflict:
            culprits = _culprits(identities[conflict.index], set(zeroed), found)
            if not culprits:
                return set()  # pragma: no cover - a conflict always goes back to a zeroed blank
            held |= culprits
            continue
        cells.update(trial)
        derived.update(found)
        return set(zeroed)


def _culprits(ident: Identity, zeroed: set[CellRef],
              found: dict[CellRef, Identity]) -> set[CellRef]:
    """The zeroed blanks an identity's cells come from, through the cells filled on the way."""
    out: set[CellRef] = set()
    todo, visited = list(ident.refs), set[CellRef]()
    while todo:
        ref = todo.pop()
        if ref in visited:
            continue
        visited.add(ref)
        if ref in zeroed:
            out.add(ref)
        elif ref in found:
            todo.extend(found[ref].refs)
    return out


def _place(template: Template, cells: Cells, short: list[PrintedRow], skip: set[int],
           stated: dict[str, int], out: Solved,
           ) -> tuple[dict[CellRef, tuple[str, str]], set[CellRef]]:
    """Place the values of the short rows: the rule and reason of every cell it decides, and
    the cells of the rows no placement fits."""
    decided = placement.place(template, cells, short, skip, stated)
    out.flags.extend(decided.flags)
    result: dict[CellRef, tuple[str, str]] = {}
    for row in short:
        printed = f"{row.name} printed {len(row.values)} of {len(row.refs)} values"
        for ref in row.refs:
            val = decided.values.get(ref)
            if val is None:
                continue
            cells[ref] = val
            if ref in decided.lost:
                result[ref] = (BLANK, (f"{printed}; no printed value goes to this cell in any "
                                       "placement that keeps the identities: a blank"))
            else:
                result[ref] = (PLACEMENT, (f"{printed}; every placement that keeps the "
                                           "identities puts this value here"))
        missing = sum(1 for ref in row.refs if ref not in decided.values)
        if decided.unplaced.issuperset(row.refs):
            continue  # flagged by the placement
        out.flags.append(f"{row.name}: {len(row.values)} of {len(row.refs)} values printed; "
                         + (f"{missing} cells left null (the placements that keep the identities "
                            "disagree)" if missing else "placed"))
    return result, decided.unplaced


def _inferred(template: Template, cells: Cells, printed: set[CellRef], blanks: set[CellRef],
              placed: dict[CellRef, tuple[str, str]], zeroed: set[CellRef],
              derived: dict[CellRef, Identity]) -> list[Inferred]:
    """Every cell that holds a number the document does not print there, in template order."""
    out: list[Inferred] = []
    # only placed, zeroed or derived cells are listed: visiting those few rather than every
    # cell gives the same list
    for ref in sorted(placed.keys() | zeroed | derived.keys(), key=template.cell_index.__getitem__):
        value = cells[ref]
        if value is None or (ref in printed and ref not in blanks):
            continue
        if ref in placed:
            rule, why = placed[ref]
        elif ref in zeroed:
            rule, why = BLANK, "printed blank"
        else:
            ident = derived[ref]
            rule, why = ident.rule, f"identity {ident.rule}: {ident.name}"
            if ref in blanks:
                why = "printed blank; " + why
        out.append(Inferred(ref, value, rule, why))
    return out


def _names(refs: list[CellRef]) -> str:
    return (", ".join(".".join(r) for r in refs[:FLAG_CELLS])
            + (" …" if len(refs) > FLAG_CELLS else ""))
