"""Totals stated in the report's prose (共收到…申请X件, 行政复议X件), for prose-vs-table checks.

Only the plain statements are read; a sentence the patterns do not know yields nothing, which
the validation treats as "not stated" rather than as a disagreement.
"""

from __future__ import annotations

import re

from gkcrawl.template.spec import CellRef

_CLAUSE = r"[^。；;!！?？]{0,16}?"
PATTERNS: dict[str, re.Pattern[str]] = {
    "applications_received": re.compile(
        rf"(?:收到|受理|接收|接到|新收){_CLAUSE}(?:政府)?信息公开申请(?:共|合计|总数)?"
        r"(\d+)\s*(?:件|个|条|,|，)"),
    "applications_processed": re.compile(
        rf"(?:办理|办结|答复|处理){_CLAUSE}(?:政府)?信息公开申请(?:共|合计|总数)?"
        r"(\d+)\s*(?:件|个|条|,|，)"),
    "admin_review": re.compile(r"行政复议(?:案件|申请)?(?:共)?(\d+)\s*(?:件|起)"),
    "litigation": re.compile(r"行政诉讼(?:案件)?(?:共)?(\d+)\s*(?:件|起)"),
}
#: 没有/未/不存在 … 行政复议(和/、行政诉讼): both stated as zero.
#: (One lazy gap of up to 32 rather than two of 16: the same matches, without trying every split
#: of the gap at each 无/未 of the page.)
_NONE = re.compile(
    r"(?:没有|未|无|不存在)[^。；;!！?？]{0,32}?行政复议(?P<both>(?:和|、|及|或)行政诉)?")


#: 未收到/没有收到/尚未收到 … 信息 … 申请: no application for information was received (seed 003:
#: 尚未收到公民、法人或其他组织需要本机关主动公开以外的政府信息的申请); not one for review (复议).
_UNLESS_REVIEW = r"(?:(?!复议|诉讼)[^。；;!！?？])"
_NONE_RECEIVED = re.compile(
    rf"(?:未|没有|尚未)(?:收到|受理|接到|接收){_UNLESS_REVIEW}{{0,48}}?信息{_UNLESS_REVIEW}{{0,8}}?申请")


def stated_totals(text: str) -> dict[str, int]:
    """The totals the prose states, by key (absent when not stated)."""
    flat = "".join(text.split())  # re.sub(r"\s+", "", text), faster: \s is str.isspace
    found: dict[str, int] = {}
    for key, pattern in PATTERNS.items():
        match = pattern.search(flat)
        if match:
            found[key] = int(match.group(1))
    if "applications_received" not in found and _NONE_RECEIVED.search(flat):
        found["applications_received"] = 0
    none = _NONE.search(flat)
    if none:
        found.setdefault("admin_review", 0)
        if none.group("both"):
            found.setdefault("litigation", 0)
    return found


#: prose key -> the table cells whose sum it states
PROSE_CELLS: dict[str, tuple[CellRef, ...]] = {
    "applications_received": (("applications", "new_received", "total"),),
    "applications_processed": (("applications", "total_processed", "total"),),
    "admin_review": (("review_litigation", "admin_review", "total"),),
    "litigation": (("review_litigation", "litigation_direct", "total"),
                   ("review_litigation", "litigation_after_review", "total")),
}
