"""What the summary must show, counted straight from the store (not through
``gkcrawl.outputs.stats``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from gkcrawl.store import ReportRow, Store

#: the regions of the corpus's portals, by hand from the registry (see tests/export/corpus.py)
REGION_OF = {"xizang": "西藏自治区", "hainan": "海南省", "xinjiang": "新疆维吾尔自治区",
             "yunnan": "云南省", "guangdong": "广东省", "beijing": "北京市", "moe": "中央"}
UNKNOWN = "未知"


@dataclass
class Expected:
    total: int
    organs: int
    copies: int
    by_year: Counter[int]
    by_region: Counter[tuple[str, int]]
    #: organs found by (the region of the organ's latest report, year)
    by_organ_region: Counter[tuple[str, int]]
    by_portal: Counter[tuple[str, int]]
    #: organs found by (the portal of the organ's latest report, year)
    by_organ_portal: Counter[tuple[str, int]]
    checks: Counter[tuple[str, str]]
    reports_failing: Counter[str]
    quarantine: Counter[str]
    quarantine_resolved: int


def _region(report: ReportRow) -> str:
    return REGION_OF.get(report.report.get("portal") or "", UNKNOWN)


def _portal(report: ReportRow) -> str:
    return report.report.get("portal") or "(none)"


def expected(store: Store) -> Expected:
    reports = list(store.reports())
    latest = {r.organ_key: r for r in sorted(reports, key=lambda r: r.year)}
    entries = store.quarantine(include_resolved=True)
    return Expected(
        total=len(reports), organs=len({r.organ_key for r in reports}),
        copies=sum(r.n_sources for r in reports),
        by_year=Counter(r.year for r in reports),
        by_region=Counter((_region(r), r.year) for r in reports),
        by_organ_region=Counter((_region(latest[r.organ_key]), r.year) for r in reports),
        by_portal=Counter((_portal(r), r.year) for r in reports),
        by_organ_portal=Counter((_portal(latest[r.organ_key]), r.year) for r in reports),
        checks=Counter((c["rule"], c["status"]) for r in reports for c in r.report["checks"]),
        reports_failing=Counter(rule for r in reports
                                for rule in {c["rule"] for c in r.report["checks"]
                                             if c["status"] == "fail"}),
        quarantine=Counter(e.code for e in entries if e.resolved_at is None),
        quarantine_resolved=sum(e.resolved_at is not None for e in entries),
    )
