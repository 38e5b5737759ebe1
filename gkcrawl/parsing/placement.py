"""Rows that lost cells: where their printed values go.

Text copies drop empty cells, so a printed row can carry ``k`` values for ``n`` columns. The
values keep their order; a *placement* puts them into ``k`` of the ``n`` columns (C(n, k) ways)
and leaves the other cells *lost*. A lost cell was printed blank, and is read as 0. (A 总计
printed blank is the sum of its row, but a lost cell cannot say it was the 总计: a placement that
needs a lost 总计 to hold a sum is one a report breaking its own identities would look like too,
so it is not made.) Each short row so has a few *candidates*, the distinct rows of numbers its
placements give.

Which candidates go together is a small constraint search over the short rows. One row's
placement moves numbers between columns, so the column identities (1 and 2) judge the rows
jointly, not one by one. Every identity keeps the difference of its two sides over the cells
fixed so far; the rows are fixed one after another, the fewest candidates first, and a branch
ends as soon as the rows still to fix cannot bring some difference back to 0 (each can add no
less than the least of its candidates adds, no more than the most). Before the search, candidates
that fail that test against all other rows at once are dropped, until none is. Two branches that
leave every difference the same have the same completions, so the second is answered from
memory. At the last row every identity must hold, once what the identities force in rows the
document does not print is filled, and so must the number of applications the prose states
(共收到…申请 N 件; 未收到…申请 is 0) unless no combination meets it. Rows that share no identity
(table 1, table 3 and table 2 are apart) are searched apart.

A cell is filled when every candidate of its row that some combination uses gives it the same
value; other cells stay null, flagged. A search that takes more than :data:`MAX_SEARCH_STEPS`
steps gives up, flagged, and keeps what every remaining candidate of a row agrees on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import combinations
from math import comb

from gkcrawl.parsing.identities import ZERO, Cells, Conflict, Number, can_hold, propagate
from gkcrawl.parsing.mapper import PrintedRow
from gkcrawl.parsing.normalize import MONEY_UNITS, to_10k_yuan
from gkcrawl.parsing.prose import PROSE_CELLS
from gkcrawl.template.spec import CellRef, Identity, Template

#: Placements of one short row enumerated at most: every placement of table 3's line of 15
#: cells fits (C(15, 7) is the most there can be).
MAX_PLACEMENTS = comb(15, 7)
#: Candidates tried in the joint search at most (half a second of CPU, bench/cells.py), before it
#: gives up.
MAX_SEARCH_STEPS = 20000

#: The prose's figures that can tell placements apart (gkcrawl.parsing.prose): the applications
#: received (a total in the last column, which a placement cannot move) and the reviews and
#: suits of table 3 (whose 总计 are inside its one line of values).
PROSE_KEYS = ("applications_received", "admin_review", "litigation")


@dataclass(frozen=True)
class Candidate:
    """One way a short row's values can lie: the row's cells, and the cells left lost (blank)
    under every placement that gives these numbers."""

    cells: tuple[tuple[CellRef, Number], ...]
    lost: frozenset[CellRef]


@dataclass
class Placed:
    """What the search decided for the cells of the short rows."""

    #: the cells every candidate some combination uses agrees on
    values: dict[CellRef, Number] = field(default_factory=dict)
    #: of those, the cells no printed value goes to in any of them (blanks)
    lost: set[CellRef] = field(default_factory=set)
    #: the cells of rows no placement fits: the identities they are in do not hold as printed,
    #: so they must not fill them either
    unplaced: set[CellRef] = field(default_factory=set)
    flags: list[str] = field(default_factory=list)


def place(template: Template, cells: Cells, short: list[PrintedRow], broken: set[int],
          stated: dict[str, int]) -> Placed:
    """Decide the cells of the ``short`` rows against the known ``cells``; ``broken``: the
    identities the printed numbers break (not used), ``stated``: the totals the prose states."""
    out = Placed()
    options: dict[int, list[Candidate]] = {}
    for index, row in enumerate(short):
        if comb(len(row.refs), len(row.values)) > MAX_PLACEMENTS:
            out.flags.append(f"{row.name}: too many ways to place {len(row.values)} of "
                             f"{len(row.refs)} values; left null")
            continue
        found = [c for c in candidates(row, template.amount_cells)
                 if _fits(template, cells, c, broken)]
        if not found:
            out.flags.append(f"{row.name}: no placement of the printed values keeps the "
                             "identities; left null")
            out.unplaced.update(row.refs)
            continue
        options[index] = found
    for group in _apart(template, short, options, broken):
        _decide(template, cells, [options[i] for i in group], [short[i] for i in group],
                broken, stated, out)
    return out


def candidates(row: PrintedRow, amounts: frozenset[CellRef] = frozenset()) -> list[Candidate]:
    """Every placement of the row's printed values into its cells, as distinct rows of numbers:
    the cells no value goes to are 0, and so is a printed blank. An amount (``amounts``) is read
    in 万元; a value printed in 元 or 万元 goes to an amount cell only."""
    refs = row.refs
    width = len(refs)
    found: dict[tuple[Number, ...], set[int]] = {}
    for positions in combinations(range(width), len(row.values)):
        vec = [ZERO] * width
        lost = set(range(width)) - set(positions)
        for pos, val in zip(positions, row.values, strict=True):
            if val.number is None:
                lost.add(pos)
            elif refs[pos] in amounts:
                vec[pos] = to_10k_yuan(val) or ZERO
            elif val.unit in MONEY_UNITS:
                break
            else:
                vec[pos] = val.number
        else:
            key = tuple(vec)
            found[key] = found[key] & lost if key in found else lost
    return [Candidate(tuple(zip(refs, key, strict=True)), frozenset(refs[j] for j in lost))
            for key, lost in found.items()]


def _fits(template: Template, cells: Cells, cand: Candidate, broken: set[int]) -> bool:
    """The candidate agrees with the known cells and every identity it touches can still hold."""
    trial = dict(cells)
    for ref, val in cand.cells:
        if trial[ref] is not None and trial[ref] != val:
            return False
        trial[ref] = val
    touched = {i for ref, _ in cand.cells for i in template.identities_of.get(ref, ())}
    return all(can_hold(trial, template.identities[i]) for i in touched - broken)


def _apart(template: Template, short: list[PrintedRow], options: dict[int, list[Candidate]],
           broken: set[int]) -> Iterator[list[int]]:
    """The short rows in groups that share identities (each group is searched on its own)."""
    group_of = {i: i for i in options}

    def root(i: int) -> int:
        while group_of[i] != i:
            i = group_of[i]
        return i

    owner: dict[int, int] = {}  # identity -> a row touching it
    for i in options:
        for ref in short[i].refs:
            for ident in template.identities_of.get(ref, ()):
                if ident in broken:
                    continue
                if ident in owner:
                    group_of[root(i)] = root(owner[ident])
                else:
                    owner[ident] = i
    groups: dict[int, list[int]] = {}
    for i in options:
        groups.setdefault(root(i), []).append(i)
    yield from groups.values()


def _decide(template: Template, cells: Cells, options: list[list[Candidate]],
            rows: list[PrintedRow], broken: set[int], stated: dict[str, int],
            out: Placed) -> None:
    """Search one group of rows and keep what the candidates it can use agree on."""
    refs = {ref for row in rows for ref in row.refs}
    names = _names(rows)
    prose = {PROSE_CELLS[k]: v for k, v in stated.items()
             if k in PROSE_KEYS and not refs.isdisjoint(PROSE_CELLS[k])}
    search = _Search(template, cells, options, broken, prose)
    usable = search.run()
    if prose and usable is not None:
        said = ", ".join(f"{k} {v}" for k, v in stated.items() if PROSE_CELLS.get(k) in prose)
        if all(usable):
            out.flags.append(f"placement of {names} follows the figures the prose states "
                             f"({said})")
        else:
            out.flags.append(f"the figures the prose states ({said}) fit no placement of "
                             f"{names}; not used")
            search = _Search(template, cells, options, broken, {})
            usable = search.run()
    if usable is None:
        out.flags.append(f"placement search stopped after {MAX_SEARCH_STEPS} steps: {names} "
                         "keep what every placement of their own row agrees on")
        usable = [set(alive) for alive in search.alive]  # sound: the search only narrows them
    elif not all(usable):
        out.flags.append(f"no placement of {names} keeps the identities together; left null")
        out.unplaced.update(refs)
        return
    for cands, use in zip(options, usable, strict=True):
        _agree([cands[j] for j in use], out)


#: Rows named one by one in a flag at most; more are counted by table.
FLAG_ROWS = 3


def _names(rows: list[PrintedRow]) -> str:
    if len(rows) <= FLAG_ROWS:
        return ", ".join(r.name for r in rows)
    tables = sorted({r.table for r in rows})
    return f"{len(rows)} rows of {' and '.join(tables)}"


def _agree(cands: list[Candidate], out: Placed) -> None:
    """The cells every candidate gives the same number."""
    first = cands[0]
    for index, (ref, val) in enumerate(first.cells):
        if all(c.cells[index][1] == val for c in cands[1:]):
            out.values[ref] = val
            if all(ref in c.lost for c in cands):
                out.lost.add(ref)


class _Stop(Exception):
    """The search ran out of steps."""


#: A branch as the identities see it: the difference of each, and the values of the cells the
#: prose speaks of.
_Node = tuple[tuple[Number, ...], tuple[Number | None, ...]]
#: The prose's figures: the cells whose sum a figure states, and the figure.
_Prose = dict[tuple[CellRef, ...], int]


class _Search:
    """The constraint search of one group of short rows (see the module's docstring)."""

    def __init__(self, template: Template, cells: Cells, options: list[list[Candidate]],
                 broken: set[int], prose: _Prose) -> None:
        self.template, self.cells, self.options = template, cells, options
        self.broken, self.prose = broken, prose
        self.prose_cells = sorted({ref for refs in prose for ref in refs})
        live = [i for i in range(len(template.identities)) if i not in broken]
        self.identities = [template.identities[i] for i in live]
        # each cell's place in the identities: (identity, +1 on the left side or -1 on the right)
        number = {i: k for k, i in enumerate(live)}
        self.sides = {ref: [(number[i], 1 if ref in template.identities[i].lhs else -1)
                            for i in found if i in number]
                      for ref, found in template.identities_of.items()}
        short = {ref for cands in options for ref, _ in cands[0].cells}
        self.start: _Node = (tuple(_gap(ident, cells, short) for ident in self.identities),
                             tuple(cells[ref] for ref in self.prose_cells))
        # a side with a cell no row of the search fills (a row not printed) can take any sum
        self.open_left = [any(cells[r] is None and r not in short for r in i.lhs)
                          for i in self.identities]
        self.open_right = [any(cells[r] is None and r not in short for r in i.rhs)
                           for i in self.identities]
        # what each candidate adds to the difference of each identity it touches
        self.effects = [[self._effect(cand) for cand in cands] for cands in options]
        self.alive = self._narrow()
        self.order = sorted(range(len(options)), key=lambda i: len(self.alive[i]))
        self.low: list[list[Number]] = []
        self.high: list[list[Number]] = []
        self.usable: list[set[int]] = [set() for _ in options]
        self.memo: dict[tuple[int, _Node], bool] = {}
        self.steps = 0

    def run(self) -> list[set[int]] | None:
        """The candidates of each row some combination uses; None when out of steps."""
        if not all(self.alive):
            return self.usable  # a row none of whose candidates can be used: no combination
        # the least and the most the rows from each depth on can still add to each difference
        self.low = [[ZERO] * len(self.identities)]
        self.high = [[ZERO] * len(self.identities)]
        for row in reversed(self.order):
            least, most = self._range(row, self.alive[row])
            self.low.insert(0, [a + b for a, b in zip(least, self.low[0], strict=True)])
            self.high.insert(0, [a + b for a, b in zip(most, self.high[0], strict=True)])
        try:
            self._completes(0, self.start, ())
        except _Stop:
            return None
        return self.usable

    def _effect(self, cand: Candidate) -> dict[int, Number]:
        out: dict[int, Number] = {}
        for ref, val in cand.cells:
            for k, sign in self.sides.get(ref, ()):
                out[k] = out.get(k, ZERO) + sign * val
        return out

    def _range(self, row: int, alive: list[int]) -> tuple[list[Number], list[Number]]:
        """The least and the most the row's live candidates add to each difference."""
        least, most = [ZERO] * len(self.identities), [ZERO] * len(self.identities)
        for k in range(len(self.identities)):
            adds = [self.effects[row][j].get(k, ZERO) for j in alive]
            least[k], most[k] = min(adds), max(adds)
        return least, most

    def _reaches_zero(self, k: int, low: Number, high: Number) -> bool:
        """Whether the difference of identity ``k`` can end at 0, lying between low and high."""
        return (self.open_right[k] or low <= 0) and (self.open_left[k] or high >= 0)

    def _narrow(self) -> list[list[int]]:
        """Drop the candidates with which some difference cannot reach 0 whatever the other rows
        add, until none is dropped."""
        alive = [list(range(len(cands))) for cands in self.options]
        changed = True
        while changed:
            changed = False
            ranges = [self._range(row, alive[row]) for row in range(len(alive))]
            gaps = self.start[0]
            low = [sum((r[0][k] for r in ranges), gap) for k, gap in enumerate(gaps)]
            high = [sum((r[1][k] for r in ranges), gap) for k, gap in enumerate(gaps)]
            for row, (least, most) in enumerate(ranges):
                keep = [j for j in alive[row] if all(
                    self._reaches_zero(k, low[k] - least[k] + add, high[k] - most[k] + add)
                    for k, add in self.effects[row][j].items())]
                if not keep:
                    return [[] for _ in alive]  # no combination at all
                if len(keep) < len(alive[row]):
                    alive[row], changed = keep, True
        return alive

    def _completes(self, depth: int, node: _Node, chosen: tuple[Candidate, ...]) -> bool:
        gaps, _ = node
        if not all(self._reaches_zero(k, gap + self.low[depth][k], gap + self.high[depth][k])
                   for k, gap in enumerate(gaps)):
            return False
        known = self.memo.get((depth, node))
        if known is not None:
            return known
        if depth == len(self.order):
            found = self._holds(chosen)
        else:
            found = False
            row = self.order[depth]
            for j in self.alive[row]:
                self.steps += 1
                if self.steps > MAX_SEARCH_STEPS:
                    raise _Stop
                cand = self.options[row][j]
                if self._completes(depth + 1, self._then(node, row, j), (*chosen, cand)):
                    self.usable[row].add(j)
                    found = True
        self.memo[depth, node] = found
        return found

    def _then(self, node: _Node, row: int, j: int) -> _Node:
        gaps, prose = node
        moved = list(gaps)
        for k, add in self.effects[row][j].items():
            moved[k] += add
        values = dict(self.options[row][j].cells)
        return tuple(moved), tuple(values.get(ref, was)
                                   for ref, was in zip(self.prose_cells, prose, strict=True))

    def _holds(self, chosen: tuple[Candidate, ...]) -> bool:
        """Every identity holds once what they force is filled in, and so does the prose."""
        state = dict(self.cells)
        for cand in chosen:
            state.update(cand.cells)
        try:
            propagate(state, self.template.identities, self.broken, {}, strict=True)
        except Conflict:
            return False
        return all(any(state[r] is None for r in refs) or sum(state[r] or ZERO for r in refs) == val
                   for refs, val in self.prose.items())


def _gap(ident: Identity, cells: Cells, short: set[CellRef]) -> Number:
    """Left side minus right side over the known cells outside the short rows."""
    def side(refs: tuple[CellRef, ...]) -> Number:
        return sum((v for r in refs if r not in short and (v := cells[r]) is not None), ZERO)
    return side(ident.lhs) - side(ident.rhs)
