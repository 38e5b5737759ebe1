"""``gkcrawl stats``: what the store holds, for the people who decide where to crawl next.

Coverage (reports per portal and per region × year), how the identities (勾稽关系) fare, rule by
rule, the validation findings, what sits in quarantine and the runs. :func:`render_terminal` prints
aligned tables; :func:`render_html` writes one self-contained page (inline CSS and SVG, no script,
no network) whose every number is also text in an element with ``data-metric`` and ``data-*``
attributes, so that a test (or a scraper) can read it back.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape as html_escape
from pathlib import Path
from typing import Any, TextIO

from gkcrawl.crawl.registry import Portal
from gkcrawl.parsing.regions import PROVINCES
from gkcrawl.store import RunRow, Store, open_store
from gkcrawl.template.spec import TEMPLATES

EXIT_OK, EXIT_NO_STORE, EXIT_USAGE = 0, 1, 2

STATUSES = ("pass", "fail", "uncertain")
#: a report's identity outcome: all checks pass / one fails / none fails but one is uncertain /
#: no checks at all (a legacy report without template tables)
OUTCOMES = ("pass", "fail", "uncertain", "unchecked")
#: region of the central government and the ministries (region code 100000 in the registry)
NATIONAL_REGION = "中央"
#: region of a report whose portal is not in the registry or not recorded
UNKNOWN_REGION = "未知"
#: portal id shown for reports that do not record one
NO_PORTAL = "(none)"
#: GB/T 2260 codes: the first two digits name the province
PROVINCE_DIGITS = 2
NATIONAL_LEVEL = "national"

#: chart geometry (SVG user units)
BAR_WIDTH, BAR_GAP, CHART_HEIGHT, CHART_MARGIN = 44, 14, 220, 36
HBAR_HEIGHT, HBAR_GAP, HBAR_WIDTH, HBAR_LABEL = 20, 6, 520, 150
#: heat map colour (RGB) at the highest count; lighter shades below
HEAT_RGB = (31, 94, 168)
#: above this share of the maximum, heat map text turns white to stay readable
HEAT_DARK = 0.55


@dataclass
class RuleStats:
    """One identity rule over all reports: the individual checks and the reports they judge."""

    rule: str
    name: str
    checks: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    #: reports with a check of this rule, by outcome (fail wins over uncertain over pass)
    reports: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))

    @property
    def reports_checked(self) -> int:
        return sum(self.reports.values())

    @property
    def pass_rate(self) -> float | None:
        """Share of the reports checked whose every check of this rule passes."""
        checked = self.reports_checked
        return self.reports["pass"] / checked if checked else None


@dataclass
class Stats:
    target: str
    generated_at: datetime
    total_reports: int = 0
    organs: int = 0
    #: copies behind the reports (n_sources summed): mirrors and re-posts found
    copies: int = 0
    #: every year from the first to the last report year, gaps included
    years: list[int] = field(default_factory=list)
    by_year: dict[int, int] = field(default_factory=dict)
    by_format: dict[str, int] = field(default_factory=dict)
    #: portal id -> year -> reports; portals in registry order, unknown ones after
    by_portal: dict[str, dict[int, int]] = field(default_factory=dict)
    portal_names: dict[str, str] = field(default_factory=dict)
    portal_regions: dict[str, str] = field(default_factory=dict)
    #: registry portals without a single report
    portals_without_reports: list[str] = field(default_factory=list)
    #: every region shown (中央, the 31 provinces in PROVINCES order, then others) -> year -> n
    by_region: dict[str, dict[int, int]] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    rules: list[RuleStats] = field(default_factory=list)
    #: validation findings: check -> status -> findings
    validation: dict[str, dict[str, int]] = field(default_factory=dict)
    #: open quarantine entries by code
    quarantine: dict[str, int] = field(default_factory=dict)
    quarantine_resolved: int = 0
    runs: list[RunRow] = field(default_factory=list)

    @property
    def quarantine_open(self) -> int:
        return sum(self.quarantine.values())

    def region_total(self, region: str) -> int:
        return sum(self.by_region.get(region, {}).values())

    def portal_total(self, portal: str) -> int:
        return sum(self.by_portal.get(portal, {}).values())


# --- collecting -------------------------------------------------------------------------------

def region_names(portals: Iterable[Portal]) -> dict[str, str]:
    """Two-digit region prefix -> name: the registry's province-level portals give each
    province's code (their name starts with a PROVINCES name), the national portal 中央."""
    names: dict[str, str] = {}
    for portal in portals:
        prefix = portal.region_code[:PROVINCE_DIGITS]
        if not prefix:
            continue
        if portal.level == NATIONAL_LEVEL:
            names[prefix] = NATIONAL_REGION
            continue
        province = next((p for p in PROVINCES if portal.name.startswith(p.name)), None)
        if province is not None:
            names.setdefault(prefix, province.name)
    return names


def portal_region(portal: Portal | None, names: Mapping[str, str]) -> str:
    if portal is None or not portal.region_code:
        return UNKNOWN_REGION
    prefix = portal.region_code[:PROVINCE_DIGITS]
    return names.get(prefix, prefix.ljust(len(portal.region_code), "0"))


def rule_names() -> dict[str, str]:
    """Rule -> what it says, from the template's identities (their names less the column)."""
    names: dict[str, str] = {}
    for template in TEMPLATES.values():
        for identity in template.identities:
            names.setdefault(identity.rule, re.sub(r"\s*\[[^\]]*\]$", "", identity.name))
    return dict(sorted(names.items()))


def _worst(statuses: Iterable[str]) -> str:
    found = set(statuses)
    return "fail" if "fail" in found else "uncertain" if "uncertain" in found else "pass"


def collect(store: Store, registry_portals: Sequence[Portal]) -> Stats:
    """Everything the summary shows, in one pass over the reports."""
    stats = Stats(target=store.target, generated_at=datetime.now(UTC))
    portals = {p.id: p for p in registry_portals}
    names = region_names(registry_portals)
    rules = {rule: RuleStats(rule, name) for rule, name in rule_names().items()}
    by_portal: dict[str, Counter[int]] = defaultdict(Counter)
    by_region: dict[str, Counter[int]] = defaultdict(Counter)
    by_year: Counter[int] = Counter()
    by_format: Counter[str] = Counter()
    validation: dict[str, Counter[str]] = defaultdict(Counter)
    organs: set[str] = set()
    for row in store.reports():
        report = row.report
        stats.total_reports += 1
        stats.copies += row.n_sources
        organs.add(row.organ_key)
        by_year[row.year] += 1
        by_format[row.format or str(report.get("format") or "")] += 1
        portal_id = str(report.get("portal") or NO_PORTAL)
        by_portal[portal_id][row.year] += 1
        by_region[portal_region(portals.get(portal_id), names)][row.year] += 1
        _count_checks(report.get("checks") or [], rules, stats.outcomes)
        for finding in row.validation or []:
            if isinstance(finding, Mapping):
                validation[str(finding.get("check"))][str(finding.get("status"))] += 1
    stats.organs = len(organs)
    if by_year:
        stats.years = list(range(min(by_year), max(by_year) + 1))
    stats.by_year = {y: by_year[y] for y in stats.years}
    stats.by_format = dict(sorted(by_format.items()))
    order = {pid: i for i, pid in enumerate(portals)}
    for pid in sorted(by_portal, key=lambda p: (order.get(p, len(order)), p)):
        stats.by_portal[pid] = {y: by_portal[pid][y] for y in stats.years}
        stats.portal_names[pid] = portals[pid].name if pid in portals else ""
        stats.portal_regions[pid] = portal_region(portals.get(pid), names)
    stats.portals_without_reports = [pid for pid in portals if pid not in by_portal]
    regions = [NATIONAL_REGION, *(p.name for p in PROVINCES)]
    regions += sorted(r for r in by_region if r not in regions and r != UNKNOWN_REGION)
    regions += [UNKNOWN_REGION] if UNKNOWN_REGION in by_region else []
    stats.by_region = {r: {y: by_region[r][y] for y in stats.years} for r in regions}
    stats.rules = list(rules.values())
    stats.validation = {check: {s: counts[s] for s in STATUSES}
                        for check, counts in sorted(validation.items())}
    entries = store.quarantine(include_resolved=True)
    stats.quarantine = dict(sorted(Counter(e.code for e in entries if e.resolved_at is None)
                                   .items(), key=lambda kv: (-kv[1], kv[0])))
    stats.quarantine_resolved = sum(1 for e in entries if e.resolved_at is not None)
    stats.runs = store.runs()
    return stats


def _count_checks(checks: Sequence[Any], rules: dict[str, RuleStats],
                  outcomes: dict[str, int]) -> None:
    per_rule: dict[str, list[str]] = defaultdict(list)
    for check in checks:
        if not isinstance(check, Mapping) or check.get("status") not in STATUSES:
            continue
        rule = str(check.get("rule"))
        if rule not in rules:
            rules[rule] = RuleStats(rule, str(check.get("name") or rule))
        rules[rule].checks[check["status"]] += 1
        per_rule[rule].append(check["status"])
    for rule, statuses in per_rule.items():
        rules[rule].reports[_worst(statuses)] += 1
    outcome = _worst(s for ss in per_rule.values() for s in ss) if per_rule else "unchecked"
    outcomes[outcome] += 1


# --- terminal ---------------------------------------------------------------------------------

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


def _percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}%"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def _items(run: RunRow) -> Any:
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
                      [[r.rule, *r.checks.values(), *r.reports.values(), _percent(r.pass_rate),
                        r.name] for r in stats.rules]),
                "reports: " + ", ".join(f"{stats.outcomes[o]} {o}" for o in OUTCOMES), ""]
    if stats.validation:
        out += ["Validation findings by check",
                table(["check", *STATUSES],
                      [[c, *counts.values()] for c, counts in stats.validation.items()]), ""]
    out += ["Quarantine (open) by code",
            table(["code", "documents"], list(stats.quarantine.items())) if stats.quarantine
            else "none", ""]
    out += ["Runs",
            table(["crawl_id", "spider", "started", "finished", "reason", "starts", "items"],
                  [[r.crawl_id, r.spider or "", _when(r.started_at), _when(r.finished_at),
                    r.finish_reason or "", r.starts, _items(r)] for r in stats.runs])
            if stats.runs else "none"]
    return "\n".join(out) + "\n"


# --- HTML -------------------------------------------------------------------------------------

def _e(value: Any) -> str:
    return html_escape(str(value), quote=True)


def _attrs(metric: str, **dims: Any) -> str:
    parts = [f'data-metric="{_e(metric)}"']
    parts += [f'data-{name.replace("_", "-")}="{_e(v)}"' for name, v in dims.items()]
    return " ".join(parts)


def _num(tag: str, metric: str, value: Any, cls: str = "", style: str = "", **dims: Any) -> str:
    extra = (f' class="{cls}"' if cls else "") + (f' style="{style}"' if style else "")
    return f"<{tag} {_attrs(metric, **dims)}{extra}>{_e(value)}</{tag}>"


def _vbars(title: str, metric: str, dim: str, bars: Sequence[tuple[str, str, int]],
           colour: str) -> str:
    """A vertical bar chart of (key, tick label, count): the count above each bar, the tick
    below, the key in the count's ``data-<dim>``."""
    top = max([v for _, _, v in bars] + [1])
    width = CHART_MARGIN * 2 + len(bars) * (BAR_WIDTH + BAR_GAP)
    height = CHART_HEIGHT + CHART_MARGIN * 2
    base = CHART_MARGIN + CHART_HEIGHT
    parts = [(f'<svg class="chart" role="img" aria-label="{_e(title)}" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" '
             'xmlns="http://www.w3.org/2000/svg">'),
             (f'<line x1="{CHART_MARGIN - 4}" y1="{base}" x2="{width - CHART_MARGIN + 4}" '
             f'y2="{base}" class="axis"/>')]
    for i, (key, label, value) in enumerate(bars):
        x = CHART_MARGIN + i * (BAR_WIDTH + BAR_GAP)
        h = round(CHART_HEIGHT * value / top)
        mid = x + BAR_WIDTH / 2
        parts.append(f'<g><rect x="{x}" y="{base - h}" width="{BAR_WIDTH}" height="{h}" '
                     f'fill="{colour}"><title>{_e(label)}: {value}</title></rect>'
                     f'<text x="{mid}" y="{base - h - 6}" text-anchor="middle" '
                     f'{_attrs(metric, **{dim: key})}>{value}</text>'
                     f'<text x="{mid}" y="{base + 18}" text-anchor="middle" class="tick">'
                     f'{_e(label)}</text></g>')
    parts.append("</svg>")
    return f"<figure><figcaption>{_e(title)}</figcaption>{''.join(parts)}</figure>"


def _hbars(title: str, metric: str, dim: str, bars: Sequence[tuple[str, int]], colour: str) -> str:
    """A horizontal bar chart: label left, bar, count at its end."""
    top = max([v for _, v in bars] + [1])
    width = HBAR_LABEL + HBAR_WIDTH + CHART_MARGIN * 2
    height = CHART_MARGIN + len(bars) * (HBAR_HEIGHT + HBAR_GAP)
    parts = [(f'<svg class="chart" role="img" aria-label="{_e(title)}" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" '
             'xmlns="http://www.w3.org/2000/svg">')]
    for i, (label, value) in enumerate(bars):
        y = CHART_MARGIN / 2 + i * (HBAR_HEIGHT + HBAR_GAP)
        w = round(HBAR_WIDTH * value / top)
        mid = y + HBAR_HEIGHT * 0.72
        parts.append(f'<g><text x="{HBAR_LABEL - 8}" y="{mid}" text-anchor="end" class="tick">'
                     f'{_e(label)}</text><rect x="{HBAR_LABEL}" y="{y}" width="{w}" '
                     f'height="{HBAR_HEIGHT}" fill="{colour}"><title>{_e(label)}: {value}</title>'
                     f'</rect><text x="{HBAR_LABEL + w + 6}" y="{mid}" '
                     f'{_attrs(metric, **{dim: label})}>{value}</text></g>')
    parts.append("</svg>")
    return f"<figure><figcaption>{_e(title)}</figcaption>{''.join(parts)}</figure>"


def _heat_style(value: int, top: int) -> str:
    if not value:
        return ""
    share = value / top
    r, g, b = HEAT_RGB
    text = "color:#fff;" if share > HEAT_DARK else ""
    return f"background:rgba({r},{g},{b},{0.12 + 0.88 * share:.3f});{text}"


def _region_table(stats: Stats) -> str:
    top = max([v for counts in stats.by_region.values() for v in counts.values()] + [1])
    head = "".join(f"<th>{y}</th>" for y in stats.years)
    rows = []
    for region, counts in stats.by_region.items():
        cells = "".join(_num("td", "coverage-region", v, "heat" if v else "heat zero",
                             _heat_style(v, top),
                             region=region, year=y) for y, v in counts.items())
        region_total = _num("td", "coverage-region-total", stats.region_total(region), "total",
                            region=region)
        rows.append(f"<tr><th scope=\"row\">{_e(region)}</th>{cells}{region_total}</tr>")
    total = "".join(_num("td", "reports-by-year", v, "total", year=y)
                    for y, v in stats.by_year.items())
    return (f'<table class="heat"><thead><tr><th>地区 region</th>{head}<th>合计</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody><tfoot><tr><th>合计 total</th>{total}"
            f"{_num('td', 'reports-total', stats.total_reports, 'total')}</tr></tfoot></table>")


def _portal_table(stats: Stats) -> str:
    head = "".join(f"<th>{y}</th>" for y in stats.years)
    rows = []
    for pid, counts in stats.by_portal.items():
        cells = "".join(_num("td", "coverage-portal", v, "zero" if not v else "", portal=pid,
                             year=y)
                        for y, v in counts.items())
        portal_total = _num("td", "coverage-portal-total", stats.portal_total(pid), "total",
                            portal=pid)
        rows.append(f"<tr><th scope=\"row\"><code>{_e(pid)}</code></th>"
                    f"<td>{_e(stats.portal_names[pid])}</td>"
                    f"<td>{_e(stats.portal_regions[pid])}</td>"
                    f"{cells}{portal_total}</tr>")
    missing = ""
    if stats.portals_without_reports:
        missing = (f'<p class="note">Registry portals without reports 无报告的门户: '
                   f'{_num("span", "portals-without-reports", len(stats.portals_without_reports))}'
                   f" ({_e(', '.join(stats.portals_without_reports))})</p>")
    return (f"<table><thead><tr><th>portal</th><th>名称</th><th>地区</th>{head}<th>合计</th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table>{missing}")


def _rules_table(stats: Stats) -> str:
    rows = []
    for r in stats.rules:
        checks = "".join(_num("td", "identity-checks", r.checks[s], rule=r.rule, status=s)
                         for s in STATUSES)
        reports = "".join(_num("td", "identity-reports", r.reports[s], rule=r.rule, status=s)
                          for s in STATUSES)
        rate = _num("td", "identity-pass-rate", _percent(r.pass_rate), rule=r.rule)
        rows.append(f"<tr><th scope=\"row\">{_e(r.rule)}</th><td class=\"name\">{_e(r.name)}</td>"
                    f"{checks}{reports}{rate}</tr>")
    outcomes = " · ".join(f"{_num('span', 'report-outcome', stats.outcomes[o], status=o)} {o}"
                          for o in OUTCOMES)
    return ("<table><thead><tr><th rowspan=\"2\">rule</th><th rowspan=\"2\">identity</th>"
            "<th colspan=\"3\">checks 核对项</th><th colspan=\"3\">reports 报告</th>"
            "<th rowspan=\"2\">pass rate 通过率</th></tr><tr><th>pass</th><th>fail</th>"
            "<th>uncertain</th><th>pass</th><th>fail</th><th>uncertain</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table><p class=\"note\">Reports 报告: {outcomes}</p>")


def _small_tables(stats: Stats) -> str:
    formats = "".join(f"<tr><th scope=\"row\">{_e(f)}</th>"
                      f"{_num('td', 'reports-by-format', n, format=f)}</tr>"
                      for f, n in stats.by_format.items())
    validation = "".join(
        f"<tr><th scope=\"row\">{_e(c)}</th>"
        + "".join(_num("td", "validation", counts[s], check=c, status=s) for s in STATUSES)
        + "</tr>" for c, counts in stats.validation.items())
    quarantine = "".join(f"<tr><th scope=\"row\"><code>{_e(code)}</code></th>"
                         f"{_num('td', 'quarantine', n, code=code)}</tr>"
                         for code, n in stats.quarantine.items())
    runs = "".join(
        f"<tr data-run=\"{_e(r.crawl_id)}\"><th scope=\"row\"><code>{_e(r.crawl_id)}</code></th>"
        f"<td>{_e(r.spider or '')}</td><td>{_e(_when(r.started_at))}</td>"
        f"<td>{_e(_when(r.finished_at))}</td><td>{_e(r.finish_reason or '')}</td>"
        f"{_num('td', 'run-starts', r.starts, run=r.crawl_id)}"
        f"{_num('td', 'run-items', _items(r), run=r.crawl_id)}</tr>"
        for r in stats.runs)
    return (
        "<div class=\"row\"><section><h2>Template versions 模板版本</h2><table><thead><tr>"
        f"<th>format</th><th>reports</th></tr></thead><tbody>{formats}</tbody></table></section>"
        "<section><h2>Validation findings 校验结果</h2><table><thead><tr><th>check</th>"
        f"<th>pass</th><th>fail</th><th>uncertain</th></tr></thead><tbody>{validation}</tbody>"
        "</table></section><section><h2>Quarantine 隔离 (open)</h2><table><thead><tr>"
        f"<th>code</th><th>documents</th></tr></thead><tbody>{quarantine}</tbody></table>"
        f"<p class=\"note\">resolved 已解决: "
        f"{_num('span', 'quarantine-resolved', stats.quarantine_resolved, '')}</p></section></div>"
        "<section><h2>Runs 抓取批次</h2><table><thead><tr><th>crawl_id</th><th>spider</th>"
        "<th>started</th><th>finished</th><th>reason</th><th>starts</th><th>items</th></tr>"
        f"</thead><tbody>{runs}</tbody></table></section>")


_CSS = """
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;
margin:2rem auto;max-width:1180px;padding:0 1rem;color:#1d2430;background:#fff}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin:1.6rem 0 .5rem}
.meta{color:#5b6575;font-size:.9rem}
.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{border:1px solid #d8dee8;border-radius:6px;padding:.6rem 1rem;min-width:9rem}
.card span{display:block;font-size:1.6rem;font-weight:600}
.card small{color:#5b6575}
table{border-collapse:collapse;font-size:.85rem;margin:.3rem 0}
th,td{border:1px solid #d8dee8;padding:.2rem .45rem;text-align:left}
td[data-metric]{text-align:right;font-variant-numeric:tabular-nums}
thead th{background:#f2f5f9;text-align:center}tbody th,tfoot th{font-weight:500}
td.name{max-width:30rem}td.total{font-weight:600}
td.zero{color:#b4bcc8}table.heat td{min-width:2.6rem}
.row{display:flex;gap:2rem;flex-wrap:wrap}
figure{margin:.5rem 0 1rem}figcaption{font-weight:600;margin-bottom:.3rem}
svg text{font-size:12px;fill:#1d2430}svg .tick{fill:#5b6575}svg .axis{stroke:#8792a2}
.note{color:#5b6575;font-size:.85rem}
"""


def render_html(stats: Stats) -> str:
    """One self-contained page: inline CSS and SVG, no script, nothing fetched (the CSP says so)."""
    years = [(str(y), str(y), n) for y, n in stats.by_year.items()]
    regions = [(r, stats.region_total(r)) for r in stats.by_region if stats.region_total(r)]
    failures = [(r.rule, f"规则 {r.rule}", r.reports["fail"]) for r in stats.rules]
    span = f"{stats.years[0]}–{stats.years[-1]}" if stats.years else "–"
    cards = "".join(
        f'<div class="card"><span id="{key}">{_e(value)}</span><small>{_e(label)}</small></div>'
        for key, value, label in (
            ("total-reports", stats.total_reports, "reports 报告"),
            ("total-organs", stats.organs, "organs 机关"),
            ("total-copies", stats.copies, "copies 副本"),
            ("quarantine-open", stats.quarantine_open, "quarantined 隔离"),
            ("total-runs", len(stats.runs), "runs 批次")))
    body = [
        "<h1>政府信息公开工作年度报告 · gkcrawl statistics</h1>",
        (f'<p class="meta">Store <code>{_e(stats.target)}</code> · years {_e(span)} · generated '
        f"{_e(stats.generated_at.strftime('%Y-%m-%d %H:%M UTC'))}</p>"),
        f'<div class="cards">{cards}</div>',
        "<h2>Coverage 覆盖</h2>",
        '<div class="row">',
        _vbars("Reports by year 各年度报告数", "chart-reports-by-year", "year", years, "#1f5ea8"),
        _vbars("Reports failing each identity 勾稽关系不符的报告数", "chart-identity-failures",
               "rule", failures, "#c0392b"),
        "</div>",
        _hbars("Reports by region 各地区报告数", "chart-reports-by-region", "region", regions,
               "#2a8c82") if regions else "",
        "<h2>Region × year 地区 × 年度</h2>", _region_table(stats),
        "<h2>Portal × year 门户 × 年度</h2>", _portal_table(stats),
        "<h2>Identities 勾稽关系</h2>", _rules_table(stats),
        _small_tables(stats),
    ]
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; img-src data:\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>gkcrawl statistics</title>"
            f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n")


# --- command ----------------------------------------------------------------------------------

def main_stats(target: str | Path, html: Path | None = None, *,
               registry: str | Path | None = None, out: TextIO | None = None) -> int:
    """``gkcrawl stats [--html FILE]``: the tables on standard output, the page to ``html``."""
    from gkcrawl.crawl import registry as portal_registry
    from gkcrawl.outputs.export import store_missing

    out = out or sys.stdout
    if store_missing(target):
        print(f"no store at {target}", file=sys.stderr)
        return EXIT_NO_STORE
    try:
        portals = portal_registry.load(registry)
    except portal_registry.RegistryError as exc:
        print(f"gkcrawl stats: {exc}", file=sys.stderr)
        return EXIT_USAGE
    with open_store(target) as store:
        stats = collect(store, portals)
    out.write(render_terminal(stats))
    if html is not None:
        page = Path(html)
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(render_html(stats), encoding="utf-8")
        print(f"summary page -> {page}", file=sys.stderr)
    return EXIT_OK
