"""The identities (勾稽关系) at work on a report's cells: checking them and filling what they force.

Every cell of the identities is a count (tables 2 and 3), so an unknown cell is never negative:
an identity whose known side already exceeds the other cannot hold, whatever the unknowns are.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from operator import is_
from typing import cast

from gkcrawl.template.spec import CellRef, Identity

Number = Decimal
Cells = dict[CellRef, Number | None]
ZERO = Decimal(0)


class Conflict(Exception):
    """An identity cannot hold; ``index`` is its place in the template's identities."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


#: ``_is_null(v)`` is ``v is None`` as a C call (``None in values`` would compare each Decimal with
#: None, which _decimal answers through an isinstance(…, numbers.Rational)).
_is_null = partial(is_, None)


def known_sum(refs: tuple[CellRef, ...],
              values: list[Number | None]) -> tuple[Number, list[CellRef]]:
    """The sum of the known cells and the list of the open ones, in one pass."""
    known = ZERO
    open_refs: list[CellRef] = []
    for ref, val in zip(refs, values, strict=True):
        if val is None:
            open_refs.append(ref)
        else:
            known += val
    return known, open_refs


def can_hold(cells: Cells, ident: Identity) -> bool:
    """False when the identity fails on its known cells whatever its unknown cells hold."""
    lhs_known, lhs_open = known_sum(ident.lhs, [cells[r] for r in ident.lhs])
    rhs_known, rhs_open = known_sum(ident.rhs, [cells[r] for r in ident.rhs])
    if lhs_open and rhs_open:
        return True
    if lhs_open:
        return rhs_known >= lhs_known
    if rhs_open:
        return lhs_known >= rhs_known
    return lhs_known == rhs_known


def propagate(cells: Cells, identities: tuple[Identity, ...], skip: set[int],
              derived: dict[CellRef, Identity], strict: bool,
              closed: frozenset[CellRef] = frozenset()) -> None:
    """Fill cells that an identity pins down; raise Conflict (strict) when one cannot hold.

    An identity pins its open cells down when it has one (the difference), or when the open cells
    are all on one side and must add up to 0 (each is 0). An identity with an open cell in
    ``closed`` (the cells of rows whose values are still to be placed) fills nothing."""
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
                    raise Conflict(index)
                continue
            lhs_known, lhs_open = known_sum(ident.lhs, lhs)
            rhs_known, rhs_open = known_sum(ident.rhs, rhs)
            gap = lhs_known - rhs_known  # what the open rhs cells must add up to, minus open lhs
            if lhs_open and rhs_open:
                continue
            open_cells, need = (rhs_open, gap) if rhs_open else (lhs_open, -gap)
            if need < 0:
                if strict:
                    raise Conflict(index)
                continue
            if closed and not closed.isdisjoint(open_cells):
                continue
            if len(open_cells) == 1 or need == 0:
                for ref in open_cells:
                    cells[ref] = need if len(open_cells) == 1 else ZERO
                    derived[ref] = ident
                changed = True


def broken(cells: Cells, identities: tuple[Identity, ...], derived: dict[CellRef, Identity],
           closed: frozenset[CellRef] = frozenset()) -> tuple[set[int], Cells]:
    """Identities the printed numbers already break: they cannot guide placement or filling.

    Also the cells as the strict pass filled them (and, in ``derived``, by which identity)."""
    trial = dict(cells)
    found: set[int] = set()
    for _ in range(len(identities)):
        try:
            propagate(trial, identities, found, derived, strict=True, closed=closed)
            return found, trial
        except Conflict as conflict:
            found.add(conflict.index)
    return found, trial
