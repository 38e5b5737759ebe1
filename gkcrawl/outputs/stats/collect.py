"""What ``gkcrawl stats`` shows, gathered in one place: the store's reports, quarantine and runs,
the registry, and each run's archive index; the renderers only lay it out.

Coverage is measured against expectation. An organ is *known* when the registry lists it (a
portal's own organ: its name, under the dedup organ key) or any year of it is stored; a known
organ without a report for a year of the range is *missing* that year. The range is the years
the store's reports cover (first to last, gaps included) unless ``--years`` names one.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gkcrawl.archive.cdxj import INDEX_NAME, REVISIT_MIME
from gkcrawl.archive.config import CRAWL_LOG_NAME
from gkcrawl.crawl.failures import http_kind
from gkcrawl.crawl.registry import Portal
from gkcrawl.crawl.urls import in_domains
from gkcrawl.outputs.divisions import PROVINCE_NAMES, Division, division_names, division_of
from gkcrawl.outputs.variables import Variable, panel_cells, variables
from gkcrawl.quality.dedup import organ_key
from gkcrawl.store import ReportRow, RunRow, Store
from gkcrawl.store.rows import CROSS_YEAR
from gkcrawl.template.spec import TEMPLATES

STATUSES = ("pass", "fail", "uncertain")
#: a report's identity outcome: all checks pass / one fails / none fails but one is uncertain /
#: no checks at all (a legacy report without template tables)
OUTCOMES = ("pass", "fail", "uncertain", "unchecked")
#: region of the central government and the ministries (region code 100000 in the registry)
NATIONAL_REGION = "中央"
NATIONAL_CODE = "100000"
#: region of a report whose division is unknown (no code of its own, no registry portal)
UNKNOWN_REGION = "未知"
#: portal id shown for reports that do not record one
NO_PORTAL = "(none)"
#: the identity compared across years (carried over = last year's carried forward)
CROSS_YEAR_RULE = "5"
#: the marks of a value on an organ's page, from the report's ``inferred`` entries: printed
#: (no entry), a blank cell read as 0 (rule ``blank``), read by OCR (rule ``ocr``), or derived
#: (an identity rule, ``placement``); a value the report does not give is ``null``
PRINTED, BLANK, OCR, INFERRED, NULL = "printed", "blank", "ocr", "inferred", "null"
MARKS = (PRINTED, BLANK, OCR, INFERRED, NULL)
#: a year range as ``--years`` takes it: ``2019-2024`` or one year
YEAR_RANGE = re.compile(r"^\s*(\d{4})\s*(?:[-–]\s*(\d{4}))?\s*$")
#: statuses from this one on are fetch failures in an archive index
FIRST_ERROR_STATUS = 400
#: the crawl stats counted per portal: ``portal/<id>/<head>/<name>``
FAILED, RETRIED, BOUNDED = "failed", "retried", "bounded"


def parse_years(text: str) -> tuple[int, int]:
    """``2019-2024`` (or ``2021``) as (first, last); ValueError when it is no range."""
    found = YEAR_RANGE.match(text)
    if not found:
        raise ValueError(f"not a year range: {text!r} (e.g. 2019-2024)")
    first = int(found.group(1))
    last = int(found.group(2) or first)
    if last < first:
        raise ValueError(f"year range ends before it starts: {text!r}")
    return first, last


@dataclass(frozen=True)
class Pointer:
    """Archived bytes: the record at ``offset`` of ``warc_file`` (relative to the archive
    directory, as the store keeps it); ``url`` and ``timestamp`` (14 digits) make a replay URL."""

    warc_file: str
    offset: int
    url: str = ""
    timestamp: str = ""

    def __str__(self) -> str:
        return f"{self.warc_file}:{self.offset}"


def _timestamp(when: datetime | None) -> str:
    return when.astimezone(UTC).strftime("%Y%m%d%H%M%S") if when else ""


def _pointer(warc_file: str | None, offset: int | None, url: str | None = None,
             when: datetime | None = None) -> Pointer | None:
    if not warc_file or offset is None:
        return None
    return Pointer(warc_file, offset, url or "", _timestamp(when))


# --- the organs and their reports -------------------------------------------------------------

@dataclass(frozen=True)
class Value:
    """One variable of one report on an organ's page."""

    value: Any
    mark: str
    #: the rules of the report's ``inferred`` entries behind the value
    rules: tuple[str, ...] = ()


@dataclass
class OrganReport:
    year: int
    format: str
    n_sources: int
    pointer: Pointer | None
    source_url: str
    checks: dict[str, int]
    #: rules with a failing check, and how many checks of each fail
    failing: dict[str, int]
    #: columns of the cross-year identity that break against the year before
    cross_year: list[str]
    #: ``inferred`` entries by rule
    inferred: Counter[str]
    values: dict[str, Value]
    publisher: str = ""
    organ_as_printed: str = ""


@dataclass
class Organ:
    key: str
    name: str
    portal: str
    #: the province (中央, 未知): the heat map's row
    region: str
    #: province · city · county as far as known, and the code they are named from
    division: str
    code: str
    in_registry: bool
    reports: dict[int, OrganReport] = field(default_factory=dict)
    #: years of the range without a report
    missing: list[int] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        """The organ's section id on the page (organ keys are Chinese: a stable ASCII id)."""
        return "organ-" + self.key.encode("utf-8").hex()


@dataclass
class Cover:
    found: int = 0
    known: int = 0

    @property
    def share(self) -> float | None:
        return self.found / self.known if self.known else None


# --- why reports are missing ------------------------------------------------------------------

@dataclass(frozen=True)
class FetchFailure:
    """A fetch given up: an error answer archived (its pointer), or no answer at all."""

    crawl_id: str
    url: str
    kind: str
    pointer: Pointer | None = None
    message: str = ""


@dataclass(frozen=True)
class Quarantined:
    url: str
    code: str
    reason: str
    pointer: Pointer | None


@dataclass
class PortalHealth:
    """What the runs' stats say of one portal (summed over the runs in the store), and the
    failures and quarantined documents behind them."""

    pages: int = 0
    errors: int = 0
    antibot: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    retried: Counter[str] = field(default_factory=Counter)
    #: pages not followed: the crawl's bounds (``hops``, ``pagination``, ``budget``)
    bounded: Counter[str] = field(default_factory=Counter)
    quarantine: Counter[str] = field(default_factory=Counter)
    failures: list[FetchFailure] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)


# --- data quality -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Failing:
    """A report failing an identity rule: how many of the rule's checks fail."""

    organ_key: str
    organ: str
    year: int
    checks: int
    pointer: Pointer | None


@dataclass(frozen=True)
class CrossYearBreak:
    """Identity 5 broken between ``year - 1`` and ``year`` of one organ: a warning (the organ
    may have been merged or renamed, or a report restated)."""

    organ_key: str
    organ: str
    year: int
    columns: tuple[str, ...]
    message: str


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
    #: the range: every year from the first to the last (report years, or --years)
    years: list[int] = field(default_factory=list)
    years_given: bool = False
    by_year: dict[int, int] = field(default_factory=dict)
    by_format: dict[str, int] = field(default_factory=dict)
    #: portal id -> year -> reports; portals in registry order, unknown ones after
    by_portal: dict[str, dict[int, int]] = field(default_factory=dict)
    portal_names: dict[str, str] = field(default_factory=dict)
    portal_regions: dict[str, str] = field(default_factory=dict)
    #: registry portals without a single report
    portals_without_reports: list[str] = field(default_factory=list)
    #: every region shown (中央, the provinces in code order, then others) -> year -> reports
    by_region: dict[str, dict[int, int]] = field(default_factory=dict)
    #: region / portal -> year -> organs found of those known
    cover_region: dict[str, dict[int, Cover]] = field(default_factory=dict)
    cover_portal: dict[str, dict[int, Cover]] = field(default_factory=dict)
    #: known organs by region, then name
    organ_list: list[Organ] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    rules: list[RuleStats] = field(default_factory=list)
    #: identity rule -> the reports failing it
    failing: dict[str, list[Failing]] = field(default_factory=dict)
    cross_year: list[CrossYearBreak] = field(default_factory=list)
    #: ``inferred`` entries over all reports by rule, and the cells left null
    inferred: dict[str, int] = field(default_factory=dict)
    null_cells: int = 0
    #: validation findings: check -> status -> findings
    validation: dict[str, dict[str, int]] = field(default_factory=dict)
    #: open quarantine entries by code
    quarantine: dict[str, int] = field(default_factory=dict)
    quarantine_resolved: int = 0
    runs: list[RunRow] = field(default_factory=list)
    health: dict[str, PortalHealth] = field(default_factory=dict)
    #: where the archive indexes were read (None: no archive directory given or found)
    archive: Path | None = None

    @property
    def quarantine_open(self) -> int:
        return sum(self.quarantine.values())

    @property
    def missing(self) -> list[tuple[Organ, int]]:
        return [(organ, year) for organ in self.organ_list for year in organ.missing]

    def region_total(self, region: str) -> int:
        return sum(self.by_region.get(region, {}).values())

    def portal_total(self, portal: str) -> int:
        return sum(self.by_portal.get(portal, {}).values())


# --- collecting -------------------------------------------------------------------------------

def region_of(division: Division) -> str:
    """The province a division lies in, 中央 for the central government, else 未知."""
    if division.code == NATIONAL_CODE:
        return NATIONAL_REGION
    return division.province or UNKNOWN_REGION


def division_label(division: Division) -> str:
    """Province · city · county as far as they are named; 中央 or 未知 otherwise."""
    names = [n for n in division_names(division.code) if n]
    return " · ".join(names) if names else region_of(division)


def portal_region(portal: Portal | None) -> str:
    return region_of(division_of({}, portal))


def region_order() -> list[str]:
    """中央, the provinces in code order: the rows of the region tables, gaps included."""
    return [NATIONAL_REGION, *PROVINCE_NAMES.values()]


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


def _mark(rules: Sequence[str], value: Any) -> str:
    if value is None:
        return NULL
    if not rules:
        return PRINTED
    if OCR in rules:
        return OCR
    return BLANK if all(r == BLANK for r in rules) else INFERRED


def _values(report: Mapping[str, Any], version: str | None,
            inferred: Mapping[str, list[str]]) -> dict[str, Value]:
    """Every variable the report's version has, with its mark."""
    values = panel_cells(report, version)
    out: dict[str, Value] = {}
    for variable in variables():
        source = variable.source(version)
        if source is None:
            continue
        rules = tuple(r for ref in source.cells for r in inferred.get(".".join(ref), ()))
        value = values[variable.name]
        out[variable.name] = Value(value, _mark(rules, value), rules)
    return out


def _organ_report(row: ReportRow) -> OrganReport:
    report = row.report
    inferred: dict[str, list[str]] = defaultdict(list)
    for entry in report.get("inferred") or []:
        if isinstance(entry, Mapping):
            inferred[str(entry.get("cell"))].append(str(entry.get("rule")))
    checks: Counter[str] = Counter()
    failing: Counter[str] = Counter()
    for check in report.get("checks") or []:
        if isinstance(check, Mapping) and check.get("status") in STATUSES:
            checks[check["status"]] += 1
            if check["status"] == "fail":
                failing[str(check.get("rule"))] += 1
    breaks = [str((f.get("values") or {}).get("column") or "")
              for f in row.validation or [] if isinstance(f, Mapping)
              and f.get("check") == CROSS_YEAR and f.get("status") == "fail"]
    version = row.format or report.get("format")
    return OrganReport(
        year=row.year, format=str(version or ""), n_sources=row.n_sources,
        pointer=_pointer(row.warc_file, row.warc_offset, report.get("source_url"),
                         row.fetched_at),
        source_url=str(report.get("source_url") or ""),
        checks={s: checks[s] for s in STATUSES}, failing=dict(sorted(failing.items())),
        cross_year=breaks, inferred=Counter(r for rules in inferred.values() for r in rules),
        values=_values(report, version, inferred),
        publisher=str(report.get("publisher") or ""),
        organ_as_printed=str(report.get("organ_as_printed") or ""))


def _cross_year_message(row: ReportRow) -> str:
    return next((str(f.get("message") or "") for f in row.validation or []
                 if isinstance(f, Mapping) and f.get("check") == CROSS_YEAR
                 and f.get("status") == "fail" and (f.get("values") or {}).get("column")
                 == "total"), "")


@dataclass
class _Gatherer:
    """One pass over the reports, then the organs, coverage and health built from it."""

    stats: Stats
    portals: dict[str, Portal]
    organs: dict[str, Organ] = field(default_factory=dict)
    rules: dict[str, RuleStats] = field(default_factory=lambda: {
        rule: RuleStats(rule, name) for rule, name in rule_names().items()})
    by_portal: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    by_region: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    by_year: Counter[int] = field(default_factory=Counter)
    by_format: Counter[str] = field(default_factory=Counter)
    validation: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    inferred: Counter[str] = field(default_factory=Counter)

    def add(self, row: ReportRow) -> None:
        report, stats = row.report, self.stats
        stats.total_reports += 1
        stats.copies += row.n_sources
        self.by_year[row.year] += 1
        self.by_format[row.format or str(report.get("format") or "")] += 1
        portal_id = str(report.get("portal") or NO_PORTAL)
        division = division_of(report, self.portals.get(portal_id))
        self.by_portal[portal_id][row.year] += 1
        self.by_region[region_of(division)][row.year] += 1
        self._count_checks(report.get("checks") or [])
        for finding in row.validation or []:
            if isinstance(finding, Mapping):
                self.validation[str(finding.get("check"))][str(finding.get("status"))] += 1
        found = _organ_report(row)
        self.inferred.update(found.inferred)
        stats.null_cells += sum(1 for v in found.values.values() if v.mark == NULL)
        organ = self.organs.get(row.organ_key)
        name = row.organ or str(report.get("organ") or row.organ_key)
        if organ is None:
            organ = self.organs[row.organ_key] = Organ(
                row.organ_key, name, portal_id, region_of(division), division_label(division),
                division.code or "", in_registry=False)
        elif row.year >= max(organ.reports):  # the latest report names the organ
            organ.name, organ.portal = name, portal_id
            organ.region, organ.division = region_of(division), division_label(division)
            organ.code = division.code or ""
        organ.reports[row.year] = found
        pointer = found.pointer
        for rule, n in found.failing.items():
            stats.failing.setdefault(rule, []).append(
                Failing(row.organ_key, name, row.year, n, pointer))
        if found.cross_year:
            stats.cross_year.append(CrossYearBreak(row.organ_key, name, row.year,
                                                   tuple(found.cross_year),
                                                   _cross_year_message(row)))

    def _count_checks(self, checks: Sequence[Any]) -> None:
        per_rule: dict[str, list[str]] = defaultdict(list)
        for check in checks:
            if not isinstance(check, Mapping) or check.get("status") not in STATUSES:
                continue
            rule = str(check.get("rule"))
            if rule not in self.rules:
                self.rules[rule] = RuleStats(rule, str(check.get("name") or rule))
            self.rules[rule].checks[check["status"]] += 1
            per_rule[rule].append(check["status"])
        for rule, statuses in per_rule.items():
            self.rules[rule].reports[_worst(statuses)] += 1
        outcome = _worst(s for ss in per_rule.values() for s in ss) if per_rule else "unchecked"
        self.stats.outcomes[outcome] += 1

    def add_registry(self) -> None:
        """Each registry portal's own organ is known, with or without reports."""
        for portal in self.portals.values():
            key = organ_key(portal.name)
            if key is None:
                continue
            organ = self.organs.get(key)
            if organ is None:
                division = division_of({}, portal)
                self.organs[key] = Organ(key, portal.name, portal.id, region_of(division),
                                         division_label(division), division.code or "",
                                         in_registry=True)
            else:
                organ.in_registry = True

    def finish(self, years: tuple[int, int] | None) -> None:
        stats = self.stats
        stats.organs = sum(1 for o in self.organs.values() if o.reports)
        if years is not None:
            stats.years, stats.years_given = list(range(years[0], years[1] + 1)), True
        elif self.by_year:
            stats.years = list(range(min(self.by_year), max(self.by_year) + 1))
        stats.by_year = {y: self.by_year[y] for y in stats.years}
        stats.by_format = dict(sorted(self.by_format.items()))
        order = {pid: i for i, pid in enumerate(self.portals)}
        for pid in sorted(self.by_portal, key=lambda p: (order.get(p, len(order)), p)):
            stats.by_portal[pid] = {y: self.by_portal[pid][y] for y in stats.years}
        stats.portals_without_reports = [pid for pid in self.portals if pid not in self.by_portal]
        for pid in [*self.portals, *stats.by_portal]:
            stats.portal_names[pid] = self.portals[pid].name if pid in self.portals else ""
            stats.portal_regions[pid] = portal_region(self.portals.get(pid))
        regions = region_order()
        regions += sorted(r for r in self.by_region if r not in regions and r != UNKNOWN_REGION)
        regions += [UNKNOWN_REGION] if UNKNOWN_REGION in self.by_region else []
        stats.by_region = {r: {y: self.by_region[r][y] for y in stats.years} for r in regions}
        stats.rules = list(self.rules.values())
        stats.failing = dict(sorted(stats.failing.items()))
        stats.validation = {check: {s: counts[s] for s in STATUSES}
                            for check, counts in sorted(self.validation.items())}
        stats.inferred = dict(sorted(self.inferred.items(), key=lambda kv: (-kv[1], kv[0])))
        self._coverage(regions)

    def _coverage(self, regions: Sequence[str]) -> None:
        stats = self.stats
        rank = {r: i for i, r in enumerate(regions)}
        stats.organ_list = sorted(self.organs.values(),
                                  key=lambda o: (rank.get(o.region, len(rank)), o.division,
                                                 o.name, o.key))
        cover_region: dict[str, dict[int, Cover]] = {
            r: {y: Cover() for y in stats.years} for r in regions}
        cover_portal: dict[str, dict[int, Cover]] = {}
        for organ in stats.organ_list:
            organ.missing = [y for y in stats.years if y not in organ.reports]
            for cover in (cover_region.setdefault(organ.region, {y: Cover() for y in stats.years}),
                          cover_portal.setdefault(organ.portal,
                                                  {y: Cover() for y in stats.years})):
                for year, cell in cover.items():
                    cell.known += 1
                    cell.found += year in organ.reports
        stats.cover_region = cover_region
        order = {pid: i for i, pid in enumerate(self.portals)}
        stats.cover_portal = {p: cover_portal[p] for p in
                              sorted(cover_portal, key=lambda p: (order.get(p, len(order)), p))}


# --- the runs: stats and archive --------------------------------------------------------------

def portal_health(runs: Sequence[RunRow]) -> dict[str, PortalHealth]:
    """``portal/<id>/…`` stats of every run, summed per portal."""
    health: dict[str, PortalHealth] = defaultdict(PortalHealth)
    counters = {FAILED: "failed", RETRIED: "retried", BOUNDED: "bounded"}
    scalars = ("pages", "errors", "antibot")
    for run in runs:
        for key, value in (run.stats or {}).items():
            if not key.startswith("portal/") or not isinstance(value, int):
                continue
            portal, _, rest = key[len("portal/"):].partition("/")
            head, _, name = rest.partition("/")
            if head in scalars and not name:
                setattr(health[portal], head, getattr(health[portal], head) + value)
            elif head in counters and name:
                getattr(health[portal], counters[head])[name] += value
    return dict(health)


def _portal_of(url: str, portals: Sequence[Portal]) -> str:
    return next((p.id for p in portals if in_domains(url, p.allowed_domains, p.allowed_ports)),
                NO_PORTAL)


def _index_lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split(" ", 2)
            if len(parts) == 3:
                yield {**json.loads(parts[2]), "timestamp": parts[1]}


def archived_failures(archive: Path, crawl_id: str) -> Iterator[FetchFailure]:
    """The error answers a crawl archived (its ``index.cdxj``: one per URL and status, the
    first record), then the fetches that got no answer (its ``crawl.log.jsonl``: the last
    attempt of each URL)."""
    crawl_dir = archive / crawl_id
    index, log = crawl_dir / INDEX_NAME, crawl_dir / CRAWL_LOG_NAME
    seen: set[tuple[str, int]] = set()
    if index.is_file():
        for entry in _index_lines(index):
            status = int(entry.get("status") or 0)
            if status < FIRST_ERROR_STATUS or entry.get("mime") == REVISIT_MIME:
                continue
            if (entry["url"], status) in seen:
                continue
            seen.add((entry["url"], status))
            yield FetchFailure(crawl_id, entry["url"], http_kind(status), Pointer(
                f"{crawl_id}/{entry['filename']}", int(entry["offset"]), entry["url"],
                entry["timestamp"]))
    if log.is_file():
        last: dict[str, dict[str, Any]] = {}
        for line in log.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                last[entry["url"]] = entry
        for url, entry in last.items():
            kind = str(entry.get("error") or "").rpartition(".")[2]
            yield FetchFailure(crawl_id, url, kind, None, str(entry.get("message") or ""))


def _add_archive(stats: Stats, portals: Sequence[Portal], archive: Path | None) -> None:
    if archive is None or not archive.is_dir():
        return
    stats.archive = archive
    for run in stats.runs:
        for failure in archived_failures(archive, run.crawl_id):
            portal = _portal_of(failure.url, portals)
            stats.health.setdefault(portal, PortalHealth()).failures.append(failure)


def _add_quarantine(stats: Stats, store: Store) -> None:
    entries = store.quarantine(include_resolved=True)
    open_entries = [e for e in entries if e.resolved_at is None]
    stats.quarantine = dict(sorted(Counter(e.code for e in open_entries).items(),
                                   key=lambda kv: (-kv[1], kv[0])))
    stats.quarantine_resolved = len(entries) - len(open_entries)
    for entry in open_entries:
        health = stats.health.setdefault(entry.portal or NO_PORTAL, PortalHealth())
        health.quarantine[entry.code] += 1
        health.quarantined.append(Quarantined(
            entry.url, entry.code, entry.reason,
            _pointer(entry.warc_file, entry.warc_offset, entry.url, entry.fetched_at)))


def collect(store: Store, registry_portals: Sequence[Portal], *,
            years: tuple[int, int] | None = None, archive: Path | None = None) -> Stats:
    """Everything the summary shows: one pass over the reports, the registry's organs, the
    quarantine, the runs' stats and (when ``archive`` is a directory) each run's index."""
    stats = Stats(target=store.target, generated_at=datetime.now(UTC))
    gather = _Gatherer(stats, {p.id: p for p in registry_portals})
    for row in store.reports():
        gather.add(row)
    gather.add_registry()
    gather.finish(years)
    stats.runs = store.runs()
    stats.health = portal_health(stats.runs)
    _add_quarantine(stats, store)
    _add_archive(stats, registry_portals, archive)
    order = {pid: i for i, pid in enumerate(gather.portals)}
    stats.health = {p: stats.health[p] for p in
                    sorted(stats.health, key=lambda p: (order.get(p, len(order)), p))}
    return stats


def organ_variables(organ: Organ) -> list[Variable]:
    """The variables any of the organ's reports has, in the templates' order."""
    names = {name for report in organ.reports.values() for name in report.values}
    return [v for v in variables() if v.name in names]
