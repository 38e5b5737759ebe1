"""``scrapy crawl portals`` against the sample portal served on 127.0.0.1, end to end.

One crawl per session (the ``crawl`` fixture: a subprocess, exactly as users run it), then one
test per acceptance item: every report found, nothing else classified as a report, no URL fetched
twice, bounds kept, and an archive that gzip, warcio, cdxj-indexer and ``gkcrawl verify``
accept.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter

from gkcrawl.archive.reader import ReadStats, iter_archive
from gkcrawl.crawl.failures import ROBOTS_FORBIDDEN, TIMEOUT, http_kind
from gkcrawl.demo.site import GBK_DISPOSITION
from tests.crawling import TRAP_LIMIT, Crawl, check_archive


def test_every_report_found_with_its_true_tables(crawl: Crawl) -> None:
    found = {crawl.path(item["source_url"]): item for item in crawl.items}
    expected = {r.path: r for r in crawl.site.reports}
    assert set(found) == set(expected)
    for path, truth in expected.items():
        item = found[path]
        assert ((item["organ"], item["year"], item["format"])
                == (truth.organ, truth.year, truth.format))
        for table in ("active_disclosure", "applications", "review_litigation"):
            assert item[table] == truth.report[table], (path, table)
        assert item["portal"] == "demo" and item["crawl_id"] == "test-crawl"
        assert item["warc"]["filename"].startswith("test-crawl/")


def test_nothing_else_is_classified_as_a_report(crawl: Crawl) -> None:
    roles = {}
    for exchange in iter_archive([crawl.crawl_dir]):
        if exchange.metadata:
            roles[crawl.path(exchange.url)] = exchange.metadata.get("role")
    report_paths = {r.path for r in crawl.site.reports if r.kind == "html"}
    assert {p for p, role in roles.items() if role == "report"} == report_paths
    for path in crawl.site.lookalikes & set(roles):
        assert roles[path] in ("lookalike", "other", "attachment"), path
    assert all(roles.get(p) != "report" for p in crawl.site.non_reports)
    # the lookalike notice and blank template were fetched but are not reports
    assert crawl.site.lookalikes & set(roles)


def test_no_url_fetched_twice(crawl: Crawl) -> None:
    twice = {p: n for p, n in crawl.hits.items() if n > 1 and p not in crawl.site.may_repeat}
    assert twice == {}
    # every page a bounded crawl should reach was reached (a focused crawl may leave the
    # attachment of a lookalike notice, the blank template, alone)
    missing = crawl.site.all_paths - set(crawl.hits)
    assert missing <= crawl.site.optional | crawl.site.lookalikes, missing


def test_crawl_stays_within_bounds(crawl: Crawl) -> None:
    fetched = set(crawl.hits)
    assert not fetched & crawl.site.out_of_bounds
    assert not fetched & crawl.site.disallowed  # robots.txt obeyed
    for path in fetched:
        trap = crawl.site.trap_of(path)
        if trap is not None:
            assert trap[1] <= TRAP_LIMIT, path
    assert not any(re.search(r";jsessionid=|[?&]sid=", p) for p in fetched)  # one canonical URL


def test_archive_passes_gzip_warcio_verify_and_cdxj(crawl: Crawl) -> None:
    check_archive(crawl.crawl_dir)


def test_every_fetch_archived_exactly_once_with_its_status(crawl: Crawl) -> None:
    stats = ReadStats()
    archived: Counter[str] = Counter()
    statuses: dict[str, set[int]] = {}
    for exchange in iter_archive([crawl.crawl_dir], stats=stats):
        path = crawl.path(exchange.url)
        archived[path] += 1
        statuses.setdefault(path, set()).add(exchange.status)
    # a fetch that timed out has no response to archive: it is in the crawl log instead
    timed_out = Counter(crawl.path(json.loads(line)["url"])
                        for line in (crawl.crawl_dir / "crawl.log.jsonl").read_text().splitlines())
    assert set(timed_out) == set(crawl.site.slow)
    assert archived + timed_out == Counter(crawl.hits)
    for path, status in crawl.site.errors.items():
        if path in crawl.hits:
            assert statuses[path] == {status}, path
    assert statuses["/robots.txt"] == {200}
    redirect = next(iter(crawl.site.redirects))
    assert statuses[redirect] == {crawl.site[redirect].status}


def test_gbk_disposition_and_cookies_archived_byte_faithfully(crawl: Crawl) -> None:
    path = next(p for p, spec in crawl.site.items()
                if spec.header("Content-Disposition") == GBK_DISPOSITION)
    spec = crawl.site[path]
    exchange = next(e for e in iter_archive([crawl.crawl_dir]) if crawl.path(e.url) == path)
    headers = [(k.lower(), v) for k, v in exchange.headers]
    assert (b"content-disposition", GBK_DISPOSITION) in headers
    assert [v for k, v in headers if k == b"set-cookie"] == spec.header_list("Set-Cookie")
    with exchange.location.path.open("rb") as warc:  # the raw record, as any WARC tool reads it
        warc.seek(exchange.location.offset)
        record = gzip.decompress(warc.read(exchange.location.length))
    assert b"Content-Disposition: " + GBK_DISPOSITION + b"\r\n" in record


def test_run_summary_per_portal(crawl: Crawl) -> None:
    summary = json.loads((crawl.crawl_dir / "summary.json").read_text("utf-8"))
    demo = summary["portals"]["demo"]
    by_year = Counter(str(item["year"]) for item in crawl.items)
    assert demo["reports"] == dict(by_year)
    assert demo["pages"] >= len(crawl.site.all_paths) - len(crawl.site.optional) - 5
    assert demo["antibot"] == 1 and demo["errors"] >= 2
    # each fetch given up, by what failed: the error pages reached, the slow page, the search
    # page robots.txt forbids (linked from the home page)
    failed = Counter(http_kind(status) for path, status in crawl.site.errors.items()
                     if path in crawl.hits)
    failed[TIMEOUT] = len(crawl.site.slow)
    failed[ROBOTS_FORBIDDEN] = 1
    assert demo["failed"] == failed
    assert summary["finish_reason"] == "finished" and summary["warc_write_errors"] == 0
    assert "Run summary" in crawl.log
