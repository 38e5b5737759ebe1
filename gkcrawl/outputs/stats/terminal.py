"""``gkcrawl stats`` on standard output: aligned tables, one section per question."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from gkcrawl.outputs.stats.collect import OUTCOMES, STATUSES, Stats
from gkcrawl.store import RunRow

#: organs listed with their missing years; the page lists them all
MISSING_ROWS = 40


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cell(text: str, width: int, right: bool) -> str:
    pad = " " * (width - _width(text))
    return pad + text if right else text + pad


#: a cell a terminal table right-aligns: a count, a rate, or the dash of "no rate"
_NUMERIC = re.compile(r"^(-?\d+(\.\d+)?%?|–)$")


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Aligned columns (CJK characters count double); numeric columns right-aligned."""
    cells = [[str(c) for c in header]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(header))]
    right = [bool(rows) and all(not r[i] or _NUMERIC.match(r[i]) for r in cells[1:])
             for i in range(len(header))]
    return "\n".join(
        "  ".join(_cell(c, w, a) for c, w, a in zip(r, widths, right, strict=True)).rstrip()
        for r in cells)


def percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def run_items(run: RunRow) -> Any:
    return (run.stats or {}).get("item_scraped_count", "")


def render_terminal(stats: Stats) -> str:
    """Plain aligned tables, one section per question."""
    years = stats.years
    out = [f"gkcrawl stats: {stats.target}",
           f"{stats.total_reports} reports of {stats.organs} organs ({stats.copies} copies), "
           + (f"years {years[0]}-{years[-1]}" if years else "no years")
           + f"; quarantine {stats.quarantine_open} open ({stats.quarantine_resolved} resolved); "
           + f"{len(stats.runs)} run{'s' if len(stats.runs) != 1 else ''}", ""]
    if stats.total_reports:
        out += ["Reports by year and template",
                table(["", *map(str, years), "total"],
                      [["reports", *stats.by_year.values(), stats.total_reports]]),
                table(["format", "reports"], list(stats.by_format.items())), ""]
        out += ["Coverage by portal and year",
                table(["portal", "name", "region", *map(str, years), "total"],
                      [[p, stats.portal_names[p], stats.portal_regions[p], *counts.values(),
                        stats.portal_total(p)] for p, counts in stats.by_portal.items()])]
        if stats.portals_without_reports:
            out.append(f"registry portals without reports: {len(stats.portals_without_reports)} "
                       f"({', '.join(stats.portals_without_reports)})")
        shown = [r for r in stats.by_region if stats.region_total(r)]
        empty = [r for r in stats.by_region if not stats.region_total(r)]
        out += ["", "Coverage by region and year",
                table(["region", *map(str, years), "total"],
                      [[r, *stats.by_region[r].values(), stats.region_total(r)] for r in shown])]
        if empty:
            out.append(f"regions without reports: {len(empty)} ({' '.join(empty)})")
        out += ["", ("Identities (勾稽关系) by rule: checks, and reports whose checks of the rule "
                "all pass / one fails / are uncertain"),
                table(["rule", "checks pass", "fail", "uncertain", "reports pass", "fail",
                       "uncertain", "pass rate", "identity"],
                      [[r.rule, *r.checks.values(), *r.reports.values(), percent(r.pass_rate),
                        r.name] for r in stats.rules]),
                "reports: " + ", ".join(f"{stats.outcomes[o]} {o}" for o in OUTCOMES), ""]
    if stats.validation:
        out += ["Validation findings by check",
                table(["check", *STATUSES],
                      [[c, *counts.values()] for c, counts in stats.validation.items()]), ""]
    out += ["Quarantine (open) by code",
            table(["code", "documents"], list(stats.quarantine.items())) if stats.quarantine
            else "none", ""]
    out += _missing(stats)
    out += _health(stats)
    out += ["Runs",
            table(["crawl_id", "spider", "started", "finished", "reason", "starts", "items"],
                  [[r.crawl_id, r.spider or "", when(r.started_at), when(r.finished_at),
                    r.finish_reason or "", r.starts, run_items(r)] for r in stats.runs])
            if stats.runs else "none"]
    return "\n".join(out) + "\n"


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items())) or "-"


def _missing(stats: Stats) -> list[str]:
    """Known organs without a report for a year of the range."""
    missing = stats.missing
    if not stats.years:
        return []
    out = [(f"Missing organ-years ({stats.years[0]}-{stats.years[-1]}): {len(missing)} of "
            f"{len(stats.organ_list) * len(stats.years)} expected")]
    organs = [o for o in stats.organ_list if o.missing]
    if organs:
        out.append(table(["region", "organ", "portal", "years missing"],
                         [[o.division, o.name, o.portal, " ".join(map(str, o.missing))]
                          for o in organs[:MISSING_ROWS]]))
    if len(organs) > MISSING_ROWS:
        out.append(f"... and {len(organs) - MISSING_ROWS} more organs (all on the --html page)")
    return [*out, ""]


def _health(stats: Stats) -> list[str]:
    """Per portal: fetches given up and retried by kind, anti-bot blocks, pages not followed,
    documents quarantined."""
    if not stats.health:
        return []
    rows = [[p, h.pages, h.errors, h.antibot, _counts(h.failed), _counts(h.retried),
             _counts(h.bounded), _counts(h.quarantine)] for p, h in stats.health.items()]
    return ["Fetch health by portal (all runs)",
            table(["portal", "pages", "errors", "412", "failed", "retried", "not followed",
                   "quarantined"], rows), ""]
