"""How a copy's report keeps its identity checks: the results only, the rest from the template.

The parser prints every identity of the template in ``report["checks"]``: its rule and name, its
status and sums, and the value of every cell it adds (``gkcrawl.parsing.report.checks``). The
names and cells are the template's, the values are the report's own tables: of a stored report's
~32 KB, ~28 KB were these repeats, written with every copy and read back with every neighbouring
year's report. When a report's checks are exactly what the template and its tables give, the
store keeps ``{"from": "template", "template": <digest>, "results": [[status, lhs, rhs,
uses_inferred], ...]}`` and rebuilds the list when the report is read; otherwise (checks from
elsewhere, a value that is not the table's) the checks are stored as they are. Readers of the
store see the same report either way.

The digest names the template's identities (rule, name, cells, in order): a report packed under
one definition is never rebuilt with another (a parser upgrade that changes the identities must
re-store or convert what it packed, and a stale row fails loudly instead of reading wrong).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from itertools import chain
from operator import itemgetter
from typing import Any

from gkcrawl.template.spec import TEMPLATES, Template

FROM = "template"
#: The keys of one check, as ``gkcrawl.parsing.report.checks`` writes them, in that order.
CHECK_KEYS = ("rule", "name", "status", "lhs", "rhs", "values", "uses_inferred")


class PackedChecksError(ValueError):
    """A stored report's checks were packed under another definition of its template."""


def _digest(template: Template) -> str:
    """Short digest of the template's identities: what a packed report needs to be rebuilt."""
    text = "\n".join(f"{i.rule}\t{i.name}\t{','.join(i.ref_names)}" for i in template.identities)
    return f"{template.version}:{hashlib.sha1(text.encode('utf-8')).hexdigest()[:16]}"


class _Layout:
    """A template's identities as getters: the values of each identity's cells, in order, from
    the report's cells by name (one C call per identity instead of a Python loop per cell)."""

    def __init__(self, template: Template) -> None:
        self.identities = template.identities
        self.digest = _digest(template)
        self.getters = [_getter(list(i.ref_names)) for i in self.identities]
        refs = dict.fromkeys(ref for i in self.identities for ref in i.refs)
        self.cells = tuple((".".join(ref), *ref) for ref in refs)
        # every identity's rule, name and cell names
        self.rules = [i.rule for i in self.identities]
        self.names = [i.name for i in self.identities]
        self.keys = [CHECK_KEYS] * len(self.identities)
        self.ref_names = [n for i in self.identities for n in i.ref_names]
        # the same values read from the tables without a dict of names: one getter per row
        # reads its cells, and the identities' cells (with repeats) are picked by position
        by_row: dict[tuple[str, str], list[str]] = {}
        for _, table, row, col in self.cells:
            by_row.setdefault((table, row), []).append(col)
        self.rows = [(table, row, _getter(cols)) for (table, row), cols in by_row.items()]
        position = {f"{table}.{row}.{col}": n for n, (table, row, col) in enumerate(
            (table, row, col) for (table, row), cols in by_row.items() for col in cols)}
        self.pick = _getter([position[name] for name in self.ref_names])

    def cell_values(self, report: dict[str, Any]) -> dict[str, Any]:
        """``table.row.column`` -> value, for every cell an identity adds."""
        return {name: report[table][row][col] for name, table, row, col in self.cells}

    def ref_values(self, report: dict[str, Any]) -> tuple[Any, ...]:
        """The value of every identity's every cell, in order (``ref_names``)."""
        return self.pick(list(chain.from_iterable(get(report[table][row])
                                                  for table, row, get in self.rows)))


def _one(name: str) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    return lambda cells: (cells[name],)


def _getter(keys: list[Any]) -> Callable[[Any], tuple[Any, ...]]:
    """``itemgetter`` that returns a tuple also for one key."""
    return itemgetter(*keys) if len(keys) > 1 else _one(keys[0])


_VALUES, _RULE, _NAME = itemgetter("values"), itemgetter("rule"), itemgetter("name")
_RESULT = itemgetter("status", "lhs", "rhs", "uses_inferred")
#: value types for which equal values are of equal types (1 == 1.0 == True: not these)
_PLAIN = frozenset({int, type(None)})


_LAYOUTS = {version: _Layout(template) for version, template in TEMPLATES.items()}


def pack(report: dict[str, Any]) -> dict[str, Any]:
    """The report as stored: a shallow copy with packed checks, or ``report`` itself."""
    checks = report.get("checks")
    layout = _LAYOUTS.get(report.get("format") or "")
    if not checks or not isinstance(checks, list) or layout is None:
        return report
    try:
        # the checks, compared as a whole with what the template and the tables give: the same
        # keys, rules, names and cell names in order, and values equal and of the same types
        # (1 == 1.0 == True in Python, but the report must read back as it was given)
        if (list(map(tuple, checks)) != layout.keys or list(map(_RULE, checks)) != layout.rules
                or list(map(_NAME, checks)) != layout.names):
            return report
        cells = list(map(_VALUES, checks))
        if list(chain.from_iterable(cells)) != layout.ref_names:
            return report
        values = tuple(chain.from_iterable(map(dict.values, cells)))
        expected = layout.ref_values(report)
        if values != expected:
            return report
        # equal values of types in _PLAIN on both sides are of equal types; else each is looked at
        if not (set(map(type, values)) <= _PLAIN and set(map(type, expected)) <= _PLAIN
                or tuple(map(type, values)) == tuple(map(type, expected))):
            return report
        results = list(map(list, map(_RESULT, checks)))
    except (KeyError, TypeError, AttributeError, IndexError):  # not as the parser writes them
        return report
    return {**report, "checks": {"from": FROM, "template": layout.digest, "results": results}}


def is_packed(checks: Any) -> bool:
    return isinstance(checks, dict) and checks.get("from") == FROM


def unpack(report: dict[str, Any]) -> dict[str, Any]:
    """The report as it was given to :func:`pack` (``report`` is changed in place)."""
    packed = report.get("checks")
    if not is_packed(packed):
        return report
    layout = _LAYOUTS.get(report.get("format") or "")
    if layout is None or packed.get("template") != layout.digest:
        raise PackedChecksError(
            f"the checks of a stored {report.get('format')!r} report were packed under template "
            f"{packed.get('template')!r}, this gkcrawl has {layout.digest if layout else 'none'}: "
            "re-store it (gkcrawl replay)")
    cells = layout.cell_values(report)
    report["checks"] = [
        {"rule": identity.rule, "name": identity.name, "status": status, "lhs": lhs, "rhs": rhs,
         "values": dict(zip(identity.ref_names, getter(cells))), "uses_inferred": uses_inferred}
        for identity, getter, (status, lhs, rhs, uses_inferred)
        in zip(layout.identities, layout.getters, packed["results"])]
    return report
