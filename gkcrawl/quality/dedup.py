"""Deduplication rules: when two documents are the same report, and which copy wins.

The same report is met at several URLs, as a page and as its attachment, re-published with a
correction, and copied to mirror sites. Copies are grouped by (organ key, year) and, when the
organ is written differently, by near-identical content (``gkcrawl.quality.fingerprint``).
Within a group one copy is chosen: an official government domain beats a mirror, a complete
table beats a broken one, fewer failed identities beat more, and a later publication beats an
earlier one (corrections). Every copy stays a source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from gkcrawl.parsing.normalize import to_simplified
from gkcrawl.quality.fingerprint import TABLE_KEYS, cell_tokens
from gkcrawl.store.schema import CHOSEN, COPY, SUPERSEDED

#: Host suffixes of official government sites.
OFFICIAL_SUFFIXES = ("gov.cn",)

_STRIP = re.compile(r"[\s\W_]+", re.UNICODE)
# organ spelling variants, most specific first: the key keeps what tells organs apart
_ORGAN_VARIANTS = (
    (re.compile(r"人民政府"), "政府"),
    (re.compile(r"政府办公厅$"), "政府办公厅"),
    (re.compile(r"政府(办公室|办)$"), "政府办公室"),
    (re.compile(r"^中华人民共和国"), ""),
)


def organ_key(organ: str | None) -> str | None:
    """A key under which spellings of one organ meet: 工布江达县人民政府办公室 and
    工布江达县政府办 have one."""
    if not organ:
        return None
    key = _STRIP.sub("", to_simplified(organ))
    for pattern, replacement in _ORGAN_VARIANTS:
        key = pattern.sub(replacement, key)
    return key or None


#: An organ's key that reads as the name of an organ: Han characters ending in what organs are
#: called. Two such keys that differ are two organs, whatever their tables say.
_READABLE = re.compile(
    r"[\u4e00-\u9fff]{2,40}(政府|政府办公厅|政府办公室|办公厅|办公室|委员会|管理委员会|局|厅|委|办|署|"
    r"院|中心|乡|镇|街道办事处|街道|区|县|市|省)")


def readable_organ(key: str | None) -> bool:
    """The key (``organ_key``) names an organ as printed by itself, not a garbled or lost one
    (mojibake, a mirror's mangled name, none): copies under two readable keys are never one
    report."""
    return bool(key) and _READABLE.fullmatch(key or "") is not None


def is_official(url: str | None, extra_domains: Iterable[str] = ()) -> bool:
    """A government domain (``*.gov.cn``) or one of the registry's portal domains."""
    host = (urlsplit(url or "").hostname or "").lower()
    domains = (*OFFICIAL_SUFFIXES, *extra_domains)
    return any(host == d or host.endswith("." + d) for d in domains)


def is_mirror(report: dict[str, Any]) -> bool:
    """The parser flagged mirror signals (a spam header, pinyin after characters, …)."""
    return any(f.startswith("mirror copy") for f in report.get("flags") or [])


def is_official_copy(report: dict[str, Any], extra_domains: Iterable[str] = ()) -> bool:
    """Fetched from its portal's registry domains (``in_portal``) or from a government domain,
    and without mirror signals."""
    if is_mirror(report):
        return False
    return bool(report.get("in_portal")) or is_official(report.get("source_url"), extra_domains)


def completeness(report: dict[str, Any]) -> int:
    """Number of table cells with a value."""
    return sum(value is not None for key in TABLE_KEYS
               for row in (report.get(key) or {}).values() for value in row.values())


def failed_checks(report: dict[str, Any]) -> int:
    return sum(1 for c in report.get("checks") or [] if c.get("status") == "fail")


@dataclass
class Copy:
    """What the choice looks at for one stored copy of a report."""

    id: int
    url: str | None
    official: bool
    report: dict[str, Any]
    fetched_at: str | None = None

    def rank(self) -> tuple[bool, int, int, str, str, int]:
        return (self.official and not is_mirror(self.report), completeness(self.report),
                -failed_checks(self.report), self.report.get("published") or "",
                self.fetched_at or "", self.id)


def choose(copies: Sequence[Copy]) -> tuple[Copy, dict[int, str]]:
    """The winning copy and every copy's role: chosen, copy (same numbers), superseded."""
    winner = max(copies, key=Copy.rank)
    tables = cell_tokens(winner.report)
    roles = {}
    for c in copies:
        if c is winner:
            roles[c.id] = CHOSEN
        else:
            roles[c.id] = COPY if cell_tokens(c.report) == tables else SUPERSEDED
    return winner, roles
