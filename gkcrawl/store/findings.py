"""How a copy's findings are stored: the identity findings by reference to the report's checks.

The parser puts every identity check in ``report["checks"]`` (operands, sums, the cells'
values), and validation turns each into a finding with the same numbers
(``gkcrawl.validation.identity_finding``). Stored in full, the findings repeated ~26 KB of the
report's ~32 KB, on every copy. When the identity findings are exactly those the checks give,
in order, they are stored as one marker and rebuilt when read; otherwise they are stored as
they are. Readers of the store see the same findings either way.
"""

from __future__ import annotations

from typing import Any

from ..validation import identity_finding

IDENTITY = "identity"
#: stands for ``[identity_finding(c).to_dict() for c in report["checks"]]``
FROM_CHECKS = {"check": IDENTITY, "from": "checks"}


def _from_checks(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [identity_finding(c).to_dict() for c in report.get("checks") or []]


def pack(findings: list[dict[str, Any]], report: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings as stored: the identity ones as one marker when the checks give them."""
    identities = [f for f in findings if f.get("check") == IDENTITY]
    try:
        given = _from_checks(report) if identities else None
    except (KeyError, TypeError, AttributeError):  # checks not as the parser writes them
        return findings
    if identities != given:
        return findings
    first = next(i for i, f in enumerate(findings) if f.get("check") == IDENTITY)
    rest = [f for f in findings if f.get("check") != IDENTITY]
    return rest[:first] + [FROM_CHECKS] + rest[first:]


def unpack(stored: list[dict[str, Any]] | None, report: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The findings as validation gave them."""
    if not stored or FROM_CHECKS not in stored:
        return stored or []
    out: list[dict[str, Any]] = []
    for finding in stored:
        out += _from_checks(report or {}) if finding == FROM_CHECKS else [finding]
    return out
