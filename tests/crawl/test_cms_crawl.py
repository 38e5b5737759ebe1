"""``scrapy crawl portals`` over a portal built from real CMS markup (tests/cms_portal.py): the
reports behind every discovery mechanism are reached, parsed and stored, the requests that
reached them (POSTs included) are archived, and a resumed crawl answers each from the archive.

One crawl per module (a subprocess, with a JOBDIR), then a second run on the same JOBDIR.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from gkcrawl.archive.reader import ArchivedExchange, iter_archive
from gkcrawl.store import open_store
from tests.cms_portal import (
    GKMLPT_OTHER,
    GKMLPT_REPORTS,
    HANWEB_PROXY,
    PLAIN,
    Hit,
    Portal,
    key,
    serve_portal,
)
from tests.crawling import ROOT

CRAWL_ID = "cms-crawl"
PORTAL_ID = "shifan"
SETTINGS = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False",
            "CONCURRENT_REQUESTS_PER_DOMAIN": "8", "RETRY_TIMES": "0", "LOG_LEVEL": "INFO",
            "CRAWL_ID": CRAWL_ID}
TIMEOUT = 300


@dataclass
class Run:
    items: list[dict]
    requests: list[Hit]
    log: str


@dataclass
class CmsCrawl:
    portal: Portal
    out: Path
    first: Run

    @property
    def crawl_dir(self) -> Path:
        return self.out / "archive" / CRAWL_ID

    def crawl(self) -> Run:
        """``scrapy crawl portals`` over the portal, with the module's JOBDIR and archive."""
        self.portal.requests.clear()
        args = [sys.executable, "-m", "scrapy", "crawl", "portals",
                "-a", f"portals={self.out / 'portals.csv'}", "-O", str(self.out / "reports.jsonl"),
                "-s", f"ARCHIVE_DIR={self.out / 'archive'}", "-s", f"JOBDIR={self.out / 'job'}"]
        for name, value in SETTINGS.items():
            args += ["-s", f"{name}={value}"]
        proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)
        assert proc.returncode == 0, proc.stderr[-3000:]
        lines = (self.out / "reports.jsonl").read_text("utf-8").splitlines()
        return Run([json.loads(line) for line in lines], list(self.portal.requests), proc.stderr)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return key(parts.path + (f"?{parts.query}" if parts.query else ""))


@pytest.fixture(scope="module")
def cms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CmsCrawl]:
    out = tmp_path_factory.mktemp("cms")
    with serve_portal() as portal:
        with (out / "portals.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id", "name", "start_url", "allowed_domains", "level"])
            writer.writerow([PORTAL_ID, "示范市人民政府", portal.url + "/",
                             urlsplit(portal.url).hostname, "city"])
        crawl = CmsCrawl(portal, out, Run([], [], ""))
        crawl.first = crawl.crawl()
        yield crawl


def test_every_report_behind_every_mechanism_is_found(cms: CmsCrawl) -> None:
    """The measure: reports found against reports reachable, per mechanism and in all."""
    found = {path_of(item["source_url"]): item for item in cms.first.items}
    reachable = Counter(e.mechanism for e in cms.portal.expected)
    reached = Counter(e.mechanism for e in cms.portal.expected if key(e.path) in found)
    figures = ", ".join(f"{m} {reached[m]}/{n}" for m, n in reachable.items())
    assert reached == reachable, figures
    assert sum(reached.values()) == len(cms.portal.expected) == 66, figures
    # more than plain links: the mechanisms other than <a href> hold all but 2 of them
    assert reachable[PLAIN] == 2 and len(reachable) == 16
    for expected in cms.portal.expected:
        item = found[key(expected.path)]
        truth = expected.report
        assert (item["organ"], item["year"], item["format"]) == (
            truth["organ"], truth["year"], truth["format"]), expected.path
        for table in ("active_disclosure", "applications", "review_litigation"):
            assert item[table] == truth[table], (expected.path, table)
    assert len(cms.first.items) == len(found) == len(cms.portal.expected)


def test_found_reports_are_stored(cms: CmsCrawl) -> None:
    store = open_store(str(cms.out / "archive" / "gkcrawl.sqlite3"))
    try:
        stored = {path_of(source.url) for source in store.sources()}
    finally:
        store.close()
    assert {key(e.path) for e in cms.portal.expected} <= stored


def test_attachments_fetched_as_visitors_of_their_page(cms: CmsCrawl) -> None:
    """Attachment servers that answer only with the page as Referer: every one answered."""
    attachments = {key(e.path): e.page for e in cms.portal.expected if e.page is not None}
    assert len(attachments) == 5
    asked = [hit for hit in cms.first.requests if key(hit.path) in attachments]
    assert asked and all(hit.status == 200 for hit in asked)
    assert {key(hit.path): hit.referer for hit in asked} == {
        path: cms.portal.url + page for path, page in attachments.items()}


def test_gkmlpt_columns_without_a_report_signal_are_not_asked(cms: CmsCrawl) -> None:
    asked = {urlsplit(hit.path).path for hit in cms.first.requests}
    assert f"/gkmlpt/api/all/{GKMLPT_REPORTS}" in asked
    assert f"/gkmlpt/api/all/{GKMLPT_OTHER}" not in asked  # 政策文件


def test_ranges_posted_with_their_forms_and_archived(cms: CmsCrawl) -> None:
    """Two Hanweb columns POST the same URLs with their own forms: each is asked once and
    archived with its body."""
    posts = [hit for hit in cms.first.requests if hit.method == "POST"]
    assert len(posts) == 3
    assert all(urlsplit(hit.path).path == HANWEB_PROXY and hit.status == 200 for hit in posts)
    sent = Counter((key(hit.path), dict(parse_qsl(hit.body.decode()))["columnid"])
                   for hit in posts)
    assert sent == Counter({
        (key(f"{HANWEB_PROXY}?startrecord=5&endrecord=8&perpage=2"), "5001"): 1,
        (key(f"{HANWEB_PROXY}?startrecord=9&endrecord=9&perpage=2"), "5001"): 1,
        (key(f"{HANWEB_PROXY}?startrecord=5&endrecord=8&perpage=2"), "5004"): 1})
    archived: list[ArchivedExchange] = [e for e in iter_archive([cms.crawl_dir])
                                        if e.method == "POST"]
    assert sorted((path_of(e.url), e.request_body) for e in archived) == sorted(
        (key(hit.path), hit.body) for hit in posts)
    assert all(e.status == 200 and e.metadata.get("role") == "report_list" for e in archived)
    # no page was asked twice; the pages past a TRS list's end answered 404 (both numberings
    # of a newer pager whose call does not say are tried)
    asked = Counter((hit.method, key(hit.path), hit.body) for hit in cms.first.requests)
    assert [request for request, n in asked.items() if n > 1] == []
    assert sorted(key(hit.path) for hit in cms.first.requests if hit.status >= 400) == [
        "/bmxxgk/bmnb/index_1.shtml", "/xzjd/nb/list_2.shtml"]


def test_a_resumed_crawl_answers_every_request_from_the_archive(cms: CmsCrawl) -> None:
    """The same JOBDIR again: each POST (same URL, other body), every page, robots.txt and the
    404s are answered from the archive; nothing reaches the server; every report is found
    again."""
    second = cms.crawl()
    assert f"Resuming crawl {CRAWL_ID}" in second.log
    assert second.requests == []
    assert {path_of(item["source_url"]) for item in second.items} == {
        key(e.path) for e in cms.portal.expected}
    stats = second.log[second.log.rindex("Dumping Scrapy stats"):]
    assert f"'resume/from_archive': {len(cms.first.requests)}," in stats
