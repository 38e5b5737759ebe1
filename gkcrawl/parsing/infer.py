"""From printed rows to table cells, recovering only what the identities force.

Rules (see docs/parsing.md, "Blank and missing cells"):

* A cell printed with a number is that number.
* A cell printed blank is recorded as blank and starts as null. Identities often force it (a
  blank 总计 on a detail row is the sum of the row; a row whose total is 0 has zeros elsewhere);
  then the value is filled and listed in ``inferred``. Otherwise it stays null and is flagged.
* A row printed with fewer values than columns (the cells that were empty left no trace) is
  *placed*: every way of putting the printed values, in order, into the row's columns is tried
  together with the other rows, and kept when all identities can still hold with non-negative
  counts. A cell is filled only when every surviving placement gives it the same value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from itertools import combinations
from math import comb, prod
from operator import is_
from typing import cast

from gkcrawl.parsing.mapper import Mapped, PrintedRow
from gkcrawl.parsing.normalize import Value, to_10k_yuan
from gkcrawl.template.spec import CellRef, Identity, Template

Number = Decimal
Cells = dict[CellRef, Number | None]
_ZERO = Decimal(0)

#: Placements of one short row tried at most (C(15, 4) = 1365 for table 3 fits).
MAX_PLACEMENTS = 5000
#: Joint placements of all short rows explored at most before falling back to row by row.
MAX_JOINT = 4096
ALIGNMENT = "placement"


@dataclass(frozen=True)
class Inferred:
    ref: CellRef
    value: Number
    rule: str  # an identity rule ("1".."4") or "placement"
    why: str


@dataclass
class Solved:
    cells: Cells
    inferred: list[Inferred] = field(default_factory=list)
    blanks: set[CellRef] = field(default_factory=set)
    flags: list[str] = field(default_factory=list)


class _Conflict(Exception):
    pass


def solve(mapped: Mapped) -> Solved:
    template = mapped.template
    assert template is not None
    cells: Cells = dict.fromkeys(template.all_cells)
    out = Solved(cells)
    printed: set[CellRef] = set()
    blanks, amounts = out.blanks, template.amount_cells
    for row in mapped.rows:
        if row.complete:
            # _number, inlined: 200 cells a report
            for ref, val in zip(row.refs, row.values, strict=True):
                number = val.number
                cells[ref] = to_10k_yuan(val) if ref in amounts else number
                if number is None:
                    blanks.add(ref)
            printed.update(row.refs)
    seen_rows = {r.name for r in mapped.rows}
    for table in template.tables:
        names = [table.key] if table.single_line else [f"{table.key}.{r.key}" for r in table.rows]
        out.flags.extend(f"row not found: {n}" for n in names if n not in seen_rows)

    identities = template.identities
    derived: dict[CellRef, Identity] = {}
    broken, trial = _broken(cells, identities, derived)
    short = [r for r in mapped.rows if not r.complete and r.values]
    placed = _place(template, cells, short, identities, broken, out) if short else {}
    if not short and not broken:
        # the strict pass met no conflict on these very cells: the lenient pass would fill the
        # same cells from the same identities in the same order
        cells.update(trial)
    else:
        derived.clear()
        _propagate(cells, identities, broken, derived, strict=False)
    # only placed or derived cells are listed, in template order: visiting those few rather than
    # every cell gives the same list
    for ref in sorted(placed.keys() | derived.keys(), key=template.cell_index.__getitem__):
        filled = cells[ref]
        if filled is None or (ref in printed and ref not in blanks):
            continue
        if ref in placed:
            rule, why = placed[ref]
        elif ref in derived:
            rule, why = derived[ref].rule, f"identity {derived[ref].rule}: {derived[ref].name}"
        else:  # pragma: no cover - the loop visits placed and derived cells only
            continue
        if ref in out.blanks:
            why = "printed blank; " + why
        out.inferred.append(Inferred(ref, filled, rule, why))
    for row in short:
        missing = [ref for ref in row.refs if cells[ref] is None]
        out.flags.append(f"{row.name}: {len(row.values)} of {len(row.refs)} values printed; "
                         + (f"{len(missing)} cells left null (identities do not fix them)"
                            if missing else "all cells recovered from the identities"))
    blank_null = sorted(ref for ref in out.blanks if cells[ref] is None)
    if blank_null:
        out.flags.append(f"{len(blank_null)} blank cells left null: "
                         + ", ".join(".".join(r) for r in blank_null[:8])
                         + (" …" if len(blank_null) > 8 else ""))
    return out


def _number(template: Template, ref: CellRef, val: Value) -> Number | None:
    if ref in template.amount_cells:
        return to_10k_yuan(val)
    return val.number


def _broken(cells: Cells, identities: tuple[Identity, ...],
            derived: dict[CellRef, Identity]) -> tuple[set[int], Cells]:
    """Identities the printed numbers already break: they cannot guide placement or filling.

    Also the cells as the strict pass filled them (and, in ``derived``, by which identity)."""
    trial = dict(cells)
    broken: set[int] = set()
    for _ in range(len(identities)):
        try:
            _propagate(trial, identities, broken, derived, strict=True)
            return broken, trial
        except _Conflict as conflict:
            broken.add(conflict.args[0])
    return broken, trial


def _propagate(cells: Cells, identities: tuple[Identity, ...], skip: set[int],
               derived: dict[CellRef, Identity], strict: bool) -> None:
    """Fill cells that an identity pins down; raise _Conflict (strict) when one cannot hold."""
    cell = cells.__getitem__
    changed = True
    while changed:
        changed = False
        for index, ident in enumerate(identities):
            if index in skip:
                continue
            lhs, rhs = list(map(cell, ident.lhs)), list(map(cell, ident.rhs))
            if not any(map(_is_null, lhs)) and not any(map(_is_null, rhs)):
                # every cell known, as in most identities of most reports: C calls only
                if strict and sum(cast("list[Number]", lhs)) != sum(cast("list[Number]", rhs)):
                    raise _Conflict(index)
                continue
            lhs_known, lhs_open = _known_sum(ident.lhs, lhs)
            rhs_known, rhs_open = _known_sum(ident.rhs, rhs)
            gap = lhs_known - rhs_known  # what the open rhs cells must add up to, minus open lhs
            if not lhs_open and not rhs_open:
                if gap != 0 and strict:
                    raise _Conflict(index)
                continue
            if lhs_open and rhs_open:
                continue
            open_cells, need = (rhs_open, gap) if rhs_open else (lhs_open, -gap)
            if need < 0:
                if strict:
                    raise _Conflict(index)
                continue
            if len(open_cells) == 1 or need == 0:
                for ref in open_cells:
                    cells[ref] = need if len(open_cells) == 1 else Decimal(0)
                    derived[ref] = ident
                changed = True


#: ``_is_null(v)`` is ``v is None`` as a C call (``None in values`` would compare each Decimal with
#: None, which _decimal answers through an isinstance(…, numbers.Rational)).
_is_null = partial(is_, None)


def _known_sum(refs: tuple[CellRef, ...],
               values: list[Number | None]) -> tuple[Number, list[CellRef]]:
    """The sum of the known cells and the list of the open ones, in one pass."""
    known = _ZERO
    open_refs: list[CellRef] = []
    for ref, val in zip(refs, values, strict=True):
        if val is None:
            open_refs.append(ref)
        else:
            known += val
    return known, open_refs


def _place(template: Template, cells: Cells, short: list[PrintedRow],
           identities: tuple[Identity, ...], broken: set[int],
           out: Solved) -> dict[CellRef, tuple[str, str]]:
    """Fill the cells of short rows that every consistent placement agrees on."""
    options: list[list[dict[CellRef, Number | None]]] = []
    rows: list[PrintedRow] = []
    for row in short:
        n, k = len(row.refs), len(row.values)
        if comb(n, k) > MAX_PLACEMENTS:
            out.flags.append(f"{row.name}: too many ways to place {k} of {n} values; left null")
            continue
        # a short row: its k values, each with the unit of one of the first k cells
        numbers = [_number(template, ref, v) for ref, v in zip(row.refs, row.values, strict=False)]
        found: dict[tuple[Number | None, ...], dict[CellRef, Number | None]] = {}
        for positions in combinations(range(n), k):
            vec: dict[CellRef, Number | None] = dict.fromkeys(row.refs)
            for pos, num in zip(positions, numbers, strict=True):
                vec[row.refs[pos]] = num
            trial = _merge(cells, vec, identities, broken)
            if trial is not None:  # keep placements consistent with the complete rows
                key = tuple(trial[r] for r in row.refs)
                found.setdefault(key, {r: trial[r] for r in row.refs})
        if not found:
            out.flags.append(
                f"{row.name}: no placement of the printed values satisfies the identities")
            continue
        options.append(list(found.values()))
        rows.append(row)

    agreed: dict[CellRef, Number]
    if prod(len(o) for o in options) <= MAX_JOINT:
        agreed = _joint(cells, options, identities, broken)
    else:
        agreed = _row_by_row(cells, options)
    result: dict[CellRef, tuple[str, str]] = {}
    for row in rows:
        for ref in row.refs:
            if ref in agreed:
                cells[ref] = agreed[ref]
                result[ref] = (ALIGNMENT, (f"{row.name} printed {len(row.values)} of "
                                           f"{len(row.refs)} values; every placement that keeps "
                                           f"the identities gives this cell this value"))
    return result


def _consensus(solutions: list[dict[CellRef, Number | None]]) -> dict[CellRef, Number]:
    if not solutions:
        return {}
    return {ref: val for ref, val in solutions[0].items()
            if val is not None and all(s.get(ref) == val for s in solutions[1:])}


def _joint(cells: Cells, options: list[list[dict[CellRef, Number | None]]],
           identities: tuple[Identity, ...], broken: set[int]) -> dict[CellRef, Number]:
    solutions: list[dict[CellRef, Number | None]] = []

    def walk(i: int, state: Cells) -> None:
        if i == len(options):
            solutions.append(state)
            return
        for vec in options[i]:
            trial = _merge(state, vec, identities, broken)
            if trial is not None:
                walk(i + 1, trial)

    walk(0, dict(cells))
    refs = {ref for opts in options for ref in opts[0]}
    return _consensus([{r: s[r] for r in refs} for s in solutions])


def _row_by_row(cells: Cells,
                options: list[list[dict[CellRef, Number | None]]]) -> dict[CellRef, Number]:
    agreed: dict[CellRef, Number] = {}
    for opts in options:
        agreed.update(_consensus(opts))
    return agreed


def _merge(state: Cells, vec: dict[CellRef, Number | None], identities: tuple[Identity, ...],
           broken: set[int]) -> Cells | None:
    trial = dict(state)
    for ref, val in vec.items():
        if val is None:
            continue
        if trial[ref] is not None and trial[ref] != val:
            return None
        trial[ref] = val
    try:
        _propagate(trial, identities, broken, {}, strict=True)
    except _Conflict:
        return None
    return trial
