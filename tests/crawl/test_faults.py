"""A crawl of the hostile portal (tests/faults.py): it completes, every report it reached is
stored or quarantined with its reason, every answer the server sent is in the WARC once, and
every fault is counted in the run summary (the log, summary.json, the runs table) by name.

One crawl per module, with small limits so that the faults cost seconds: a 3 s download
timeout, one retry, a 1 MiB DOWNLOAD_MAXSIZE.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gkcrawl.archive.reader import iter_archive
from gkcrawl.crawl.failures import CONNECTION_LOST, CUT_SHORT, TIMEOUT
from gkcrawl.crawl.summary import SUMMARY_FILE
from gkcrawl.demo.render.reports import tables_of
from gkcrawl.demo.server import running
from gkcrawl.store import open_store
from tests.crawling import ROOT, check_archive
from tests.faults import (
    COLUMN,
    FAILED,
    MAXSIZE,
    QUARANTINED,
    STORED,
    WARNSIZE,
    FaultServer,
    Page,
    build_pages,
)

CRAWL_ID = "faults"
PORTAL = "faults"
TIMEOUT_S = 3.0
SETTINGS = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False",
            "CONCURRENT_REQUESTS_PER_DOMAIN": "8", "DOWNLOAD_TIMEOUT": str(TIMEOUT_S),
            "RETRY_TIMES": "1", "RETRY_BACKOFF_BASE": "0.1", "DOWNLOAD_MAXSIZE": str(MAXSIZE),
            "DOWNLOAD_WARNSIZE": str(WARNSIZE), "CRAWL_ID": CRAWL_ID, "LOG_LEVEL": "INFO"}
#: What the crawl may take, faults included (the whole module stays well under a minute).
CRAWL_BUDGET_S = 45


@dataclass
class FaultCrawl:
    pages: list[Page]
    base: str
    proc: subprocess.CompletedProcess[str]
    archive: Path
    answered: Counter[str]  #: path -> answers the server sent in full

    @property
    def crawl_dir(self) -> Path:
        return self.archive / CRAWL_ID

    def path(self, url: str) -> str:
        return url.removeprefix(self.base)

    def expected(self, outcome: str) -> dict[str, Page]:
        return {p.path: p for p in self.pages if p.outcome == outcome}

    def summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = json.loads((self.crawl_dir / SUMMARY_FILE).read_text("utf-8"))
        return summary


@pytest.fixture(scope="module")
def fault_crawl(tmp_path_factory: pytest.TempPathFactory) -> FaultCrawl:
    out = tmp_path_factory.mktemp("faults")
    pages = build_pages()
    server = FaultServer(pages)
    with running(server) as base:
        registry = out / "portals.csv"
        registry.write_text("id,name,start_url,report_url,allowed_domains,region_code,level\n"
                            f"{PORTAL},示例县,{base}/,{base}{COLUMN},127.0.0.1,540199,county\n",
                            encoding="utf-8")
        args = [sys.executable, "-m", "scrapy", "crawl", "portals", "-a", f"portals={registry}",
                "-s", f"ARCHIVE_DIR={out / 'archive'}"]
        for name, value in SETTINGS.items():
            args += ["-s", f"{name}={value}"]
        proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True,
                              timeout=CRAWL_BUDGET_S)
    # the server has stopped: every handler is done and logged
    return FaultCrawl(pages, base, proc, out / "archive", server.answered())


def test_the_crawl_completes(fault_crawl: FaultCrawl) -> None:
    """Exit 0 (docs/operations.md): done, everything reached stored or quarantined."""
    assert fault_crawl.proc.returncode == 0, fault_crawl.proc.stderr[-3000:]
    assert fault_crawl.summary()["finish_reason"] == "finished"


def test_every_report_reached_is_stored_or_quarantined_with_its_reason(
        fault_crawl: FaultCrawl) -> None:
    stored, quarantined = fault_crawl.expected(STORED), fault_crawl.expected(QUARANTINED)
    with open_store(fault_crawl.archive / "gkcrawl.sqlite3") as store:
        sources = {fault_crawl.path(s.url): s for s in store.sources()}
        entries = {fault_crawl.path(q.url): q for q in store.quarantine()}
    # stored, with the true organ, year and every cell: the normal report and PDF, the page
    # that reset once, the slow drip, the GBK page served as UTF-8, the page behind a cookie
    # check, the broken markup
    assert set(sources) == set(stored)
    for path, page in stored.items():
        report = sources[path].report
        assert (report["organ"], report["year"]) == (page.report["organ"], page.report["year"])
        assert tables_of(report) == tables_of(page.report), path
    # quarantined with the reason: the truncated PDF
    assert set(entries) == set(quarantined)
    for path, page in quarantined.items():
        assert entries[path].code == page.why and entries[path].reason, path
    # never reached the pipelines: given up, each in the crawl log or archived as it came
    failed = fault_crawl.expected(FAILED)
    assert not (set(failed) & (set(sources) | set(entries)))


def test_every_answer_is_in_the_warc_once_per_fetch(fault_crawl: FaultCrawl) -> None:
    archived = Counter(fault_crawl.path(e.url) for e in iter_archive([fault_crawl.crawl_dir]))
    assert archived == fault_crawl.answered
    # the cookie check's 302 and the page it led back to; the loop's four redirects
    check = next(p.path for p in fault_crawl.pages if p.serve == "cookie_check")
    assert archived[check] == 2
    check_archive(fault_crawl.crawl_dir)


def test_fetches_that_got_no_answer_are_in_the_crawl_log(fault_crawl: FaultCrawl) -> None:
    logged = {fault_crawl.path(json.loads(line)["url"])
              for line in (fault_crawl.crawl_dir / "crawl.log.jsonl").read_text().splitlines()}
    given_up = {p.path for p in fault_crawl.pages if p.outcome == FAILED
                and p.serve in ("reset", "cut", "stall", "trickle", "huge", "huge_chunked")}
    # and the first attempt at the page that reset once (unless Twisted's connection pool
    # retried it itself: then Scrapy saw no failure)
    once = {p.path for p in fault_crawl.pages if p.serve == "reset_once"}
    assert given_up <= logged <= given_up | once


def test_every_fault_is_counted_by_name(fault_crawl: FaultCrawl) -> None:
    failed = Counter(p.why for p in fault_crawl.expected(FAILED).values())
    summary = fault_crawl.summary()
    portal = summary["portals"][PORTAL]
    assert portal["failed"] == failed
    assert portal["errors"] == failed.total()
    # a failed attempt retried: the reset (and the page that reset once, unless Twisted's
    # connection pool retried it itself), the cut PDF, the stall and the endless drip (and any
    # page a loaded machine served past the timeout once)
    retried = portal["retried"]
    assert retried[CUT_SHORT] == 1 and retried[CONNECTION_LOST] >= 1 and retried[TIMEOUT] >= 2
    assert portal["antibot"] == 1 and portal["charset_mismatch"] == 1
    quarantined = Counter(p.why for p in fault_crawl.expected(QUARANTINED).values())
    assert summary["quarantine"] == quarantined
    assert portal["reports"] == {"2022": len(fault_crawl.expected(STORED))}
    # the same counts in the runs table of the store, and in the summary the crawl logs
    with open_store(fault_crawl.archive / "gkcrawl.sqlite3") as store:
        stats = store.run(CRAWL_ID).stats
    assert {k.rsplit("/", 1)[1]: v for k, v in stats.items()
            if k.startswith(f"portal/{PORTAL}/failed/")} == failed
    logged = fault_crawl.proc.stderr
    assert "failed: " + ", ".join(f"{kind} {n}" for kind, n in sorted(failed.items())) in logged
    # the anti-bot challenge is marked in the archive, next to its record
    challenge = next(e for e in iter_archive([fault_crawl.crawl_dir]) if e.status == 412)
    assert challenge.metadata["role"] == "antibot-challenge"
