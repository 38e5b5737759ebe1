"""Nothing lost through a kill: ``gkcrawl crawl`` on a portal whose report lists answer 503
before they answer 200, its crawl process SIGKILLed once reports are archived, then
``gkcrawl crawl --resume``. Every report is stored, nothing archived with a final answer is
fetched again, and the archive passes gzip, warcio, ``gkcrawl verify`` and cdxj-indexer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from gkcrawl.archive.reader import ArchivedExchange, iter_archive
from gkcrawl.demo.registry import write_registry
from gkcrawl.demo.render.reports import tables_of
from gkcrawl.demo.site import DEFAULT_SEED, SERVICE_UNAVAILABLE, build_site
from gkcrawl.store import open_store
from tests.crawling import ROOT, check_archive
from tests.portal import PortalProcess

#: Each report list answers 503 this many times before it answers.
FLAKY = 1
#: The crawl process is killed once this many report documents were served.
KILL_AFTER_REPORTS = 6
WAIT_SECONDS = 120
SETTINGS = ["-s", "CONCURRENT_REQUESTS=2", "-s", "DOWNLOAD_DELAY=0.05",
            "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_TIMEOUT=1.5",
            "-s", f"RETRY_TIMES={FLAKY + 1}", "-s", "RETRY_BACKOFF_BASE=0.2",
            "-s", "CRAWL_MAX_LIST_PAGES=5", "-s", "WARC_MAX_SIZE=60000"]
#: Statuses that are not a final answer for a URL (retried, or fetched again on resume).
NOT_FINAL = {SERVICE_UNAVAILABLE, 500, 502, 504, 408, 429, 412}


def final(exchange: ArchivedExchange) -> bool:
    return exchange.status not in NOT_FINAL and not exchange.truncated


def served(portal: PortalProcess, reset: bool = False) -> dict[str, int]:
    _, body = portal.get("/__hits__?reset=1" if reset else "/__hits__")
    hits: dict[str, int] = json.loads(body)
    return hits


def gkcrawl_crawl(tmp_path: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "gkcrawl.cli", "crawl", "--jobs-dir", str(tmp_path / "crawls"),
            *args]


def crawl_process(wrapper: int) -> int:
    """The ``scrapy crawl`` process ``gkcrawl crawl`` started."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        children = Path(f"/proc/{wrapper}/task/{wrapper}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.05)
    raise AssertionError("gkcrawl crawl started no crawl process")


def test_a_killed_crawl_of_a_flaky_portal_resumes_and_loses_nothing(tmp_path: Path) -> None:
    site = build_site(DEFAULT_SEED)
    reports = {r.path for r in site.reports}
    portal = PortalProcess("--port", "0", "--slow-delay", "3", "--trap-limit", "5",
                           "--flaky-lists", str(FLAKY))
    try:
        registry = write_registry(tmp_path / "portals.csv", portal.url)
        first = subprocess.Popen(
            gkcrawl_crawl(tmp_path, "--", "-a", f"portals={registry}",
                          "-s", f"ARCHIVE_DIR={tmp_path / 'archive'}", *SETTINGS),
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        crawl = crawl_process(first.pid)
        deadline = time.monotonic() + WAIT_SECONDS
        while len(reports & set(served(portal))) < KILL_AFTER_REPORTS:
            assert first.poll() is None, "the crawl ended before it could be killed"
            assert time.monotonic() < deadline, "too few reports were served in time"
            time.sleep(0.05)
        os.killpg(crawl, signal.SIGKILL)  # the crawl leads a session of its own
        _, stderr = first.communicate(timeout=WAIT_SECONDS)
        (crawl_id,) = [p.name for p in (tmp_path / "crawls").iterdir()]
        assert first.returncode != 0 and f"--resume {crawl_id}" in stderr
        crawl_dir = tmp_path / "archive" / crawl_id
        before = list(iter_archive([crawl_dir]))  # the killed run's .open file included
        answered = {e.url.removeprefix(portal.url) for e in before if final(e)}
        assert list(crawl_dir.glob("*.warc.gz.open")) and answered & reports
        served(portal, reset=True)

        resumed = subprocess.run(gkcrawl_crawl(tmp_path, "--resume", crawl_id), cwd=ROOT,
                                 capture_output=True, text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert f"Resuming crawl {crawl_id}" in resumed.stderr
        fetched_again = set(served(portal)) & answered
        assert not fetched_again, fetched_again
    finally:
        portal.stop()

    exchanges = list(iter_archive([crawl_dir]))
    paths = [e.url.removeprefix(portal.url) for e in exchanges]
    # the lists were busy before they answered, in the archive as they came
    busy = {p for p, e in zip(paths, exchanges, strict=True) if e.status == SERVICE_UNAVAILABLE}
    assert busy and busy <= site.lists
    # one final answer per URL across both runs: nothing answered was fetched again
    finals = Counter(p for p, e in zip(paths, exchanges, strict=True) if final(e))
    assert {p: n for p, n in finals.items() if n > 1} == {}
    # every report of the portal is stored, with its organ, year and cells
    with open_store(tmp_path / "archive" / "gkcrawl.sqlite3") as store:
        sources = {s.url.removeprefix(portal.url): s for s in store.sources()}
        assert set(sources) == reports
        for expected in site.reports:
            report = sources[expected.path].report
            assert (report["organ"], report["year"]) == (expected.organ, expected.year)
            assert tables_of(report) == tables_of(expected.report), expected.path
        stored = {(r.organ_key, r.year) for r in store.reports()}
        assert len(stored) == len({(r.organ, r.year) for r in site.reports})
        assert store.run(crawl_id).starts == 2
    # the killed run's file was recovered and closed; every file and the index are whole
    check_archive(crawl_dir)
