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

from ..template.spec import TEMPLATES, Template

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
        self.getters = [itemgetter(*i.ref_names) if len(i.ref_names) > 1
                        else _one(i.ref_names[0]) for i in self.identities]
        refs = dict.fromkeys(ref for i in self.identities for ref in i.refs)
        self.cells = tuple((".".join(ref), *ref) for ref in refs)
        # every identity's rule, name and cell names, and one getter of all their values
        self.rules = [i.rule for i in self.identities]
        self.names = [i.name for i in self.identities]
        self.keys = [CHECK_KEYS] * len(self.identities)
        self.ref_names = [n for i in self.identities for n in i.ref_names]
        self.all_values = itemgetter(*self.ref_names)

    def cell_values(self, report: dict[str, Any]) -> dict[str, Any]:
        """``table.row.column`` -> value, for every cell an identity adds."""
        return {name: report[table][row][col] for name, table, row, col in self.cells}


def _one(name: str) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    return lambda cells: (cells[name],)


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
        if ([tuple(c) for c in checks] != layout.keys or [c["rule"] for c in checks] != layout.rules
                or [c["name"] for c in checks] != layout.names
                or list(chain.from_iterable(c["values"] for c in checks)) != layout.ref_names):
            return report
        values = tuple(chain.from_iterable(c["values"].values() for c in checks))
        expected = layout.all_values(layout.cell_values(report))
        if values != expected or tuple(map(type, values)) != tuple(map(type, expected)):
            return report
        results = [[c["status"], c["lhs"], c["rhs"], c["uses_inferred"]] for c in checks]
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
