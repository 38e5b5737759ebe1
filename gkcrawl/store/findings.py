"""How a copy's findings are stored: the identity findings by reference to the report's checks.

The parser puts every identity check in ``report["checks"]`` (operands, sums, the cells'
values), and validation turns each into a finding with the same numbers
(``gkcrawl.quality.validation.identity_finding``). Stored in full, the findings repeated ~26 KB of the
report's ~32 KB, on every copy. When the identity findings are exactly those the checks give,
in order, they are stored as one marker and rebuilt when read; otherwise they are stored as
they are. Readers of the store see the same findings either way.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from gkcrawl.quality.validation import ERROR, Finding, identity_finding, identity_message

IDENTITY = "identity"
#: stands for ``[identity_finding(c).to_dict() for c in report["checks"]]``
FROM_CHECKS = {"check": IDENTITY, "from": "checks"}


def _from_checks(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [identity_finding(c).to_dict() for c in report.get("checks") or []]


#: the keys of a finding's dict (``Finding.to_dict``: its fields)
_KEYS = frozenset(f.name for f in fields(Finding))


def _given(identities: list[dict[str, Any]], checks: Any) -> bool:
    """``identities == _from_checks(report)``, compared field by field instead of building a
    finding and its dict for every check (they were a tenth of what dedup and the store cost
    a replay); anything but the parser's dicts is compared the long way."""
    if type(checks) is not list or len(checks) != len(identities):
        return identities == _from_checks({"checks": checks})
    for finding, check in zip(identities, checks):
        if type(check) is not dict or type(check.get("values")) is not dict:
            return identities == _from_checks({"checks": checks})
        if (finding.keys() != _KEYS or finding["rule"] != check["rule"]
                or finding["status"] != check["status"] or finding["severity"] != ERROR
                or finding["message"] != identity_message(check)
                or finding["values"] != check["values"]):
            return False
    return True


def pack(findings: list[dict[str, Any]], report: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings as stored: the identity ones as one marker when the checks give them."""
    identities = [f for f in findings if f.get("check") == IDENTITY]
    if not identities:
        return findings
    try:
        if not _given(identities, report.get("checks") or []):
            return findings
    except (KeyError, TypeError, AttributeError):  # checks not as the parser writes them
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
