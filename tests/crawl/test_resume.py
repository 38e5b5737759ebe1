"""Resume: a crawl killed with SIGKILL and restarted with the same JOBDIR finishes without
fetching again what it archived, the killed run's WARC file is recovered, and the store and the
archive stay consistent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from gkcrawl.archive.cdxj import INDEX_NAME
from gkcrawl.archive.reader import RecordLocation, iter_archive, load_response
from gkcrawl.archive.verify import verify
from gkcrawl.demo.registry import write_registry
from gkcrawl.demo.site import DEFAULT_SEED, build_site
from gkcrawl.store import open_store
from tests.crawling import ROOT, failed_paths
from tests.portal import PortalProcess

#: Kill the first run once this many pages were served.
KILL_AFTER = 40
WAIT_SECONDS = 90


def command(registry: Path, tmp_path: Path) -> list[str]:
    return [sys.executable, "-m", "scrapy", "crawl", "portals", "-a", f"portals={registry}",
            "-s", f"JOBDIR={tmp_path / 'job'}", "-s", f"ARCHIVE_DIR={tmp_path / 'archive'}",
            "-s", "CONCURRENT_REQUESTS=2", "-s", "DOWNLOAD_DELAY=0.05",
            "-s", "AUTOTHROTTLE_ENABLED=False",
            "-s", "DOWNLOAD_TIMEOUT=1.5", "-s", "RETRY_TIMES=0", "-s", "CRAWL_MAX_LIST_PAGES=5",
            "-s", "WARC_MAX_SIZE=60000", "-s", "LOG_LEVEL=INFO"]


def served(portal: PortalProcess) -> dict[str, int]:
    import json

    _, body = portal.get("/__hits__")
    return json.loads(body)


def test_resume_after_sigkill(tmp_path: Path) -> None:
    portal = PortalProcess("--port", "0", "--slow-delay", "3", "--trap-limit", "5")
    try:
        registry = tmp_path / "portals.csv"
        write_registry(registry, portal.url)
        first = subprocess.Popen(command(registry, tmp_path), cwd=ROOT,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + WAIT_SECONDS
        while sum(served(portal).values()) < KILL_AFTER:
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        crawl_id = (tmp_path / "job" / "gkcrawl-crawl-id").read_text().strip()
        crawl_dir = tmp_path / "archive" / crawl_id
        archived_before = {e.url.removeprefix(portal.url) for e in iter_archive([crawl_dir])}
        assert len(list(crawl_dir.glob("*.warc.gz.open"))) == 1 and archived_before
        portal.get("/__hits__?reset=1")

        second = subprocess.run(command(registry, tmp_path), cwd=ROOT, capture_output=True,
                                text=True, timeout=300)
        assert second.returncode == 0, second.stderr[-3000:]
        assert f"Resuming crawl {crawl_id}" in second.stderr
        fetched_again = set(served(portal)) & archived_before
        # robots.txt is asked once per run; what failed (a 5xx, the anti-bot challenge, a
        # timeout) is asked again; nothing that was answered is
        site = build_site(DEFAULT_SEED)
        failed = failed_paths(site)
        assert fetched_again <= {"/robots.txt"} | failed, fetched_again
    finally:
        portal.stop()

    # the archive: the killed run's file was cut to its last whole record and closed, every
    # file verifies, and the index holds every response and revisit record
    assert not list(crawl_dir.glob("*.warc.gz.open"))
    assert verify([crawl_dir]).ok
    index = (crawl_dir / INDEX_NAME).read_text(encoding="utf-8").splitlines()
    exchanges = list(iter_archive([crawl_dir]))
    assert len(index) == len(exchanges)
    # every report was found across the two runs, each document archived once
    urls = [e.url.removeprefix(portal.url) for e in iter_archive([crawl_dir])]
    assert {r.path for r in site.reports} <= set(urls)
    repeated = {u for u in urls if urls.count(u) > 1} - site.may_repeat - failed - {"/robots.txt"}
    assert not repeated
    # the store and the archive agree: every stored copy points at its archived bytes
    with open_store(tmp_path / "archive" / "gkcrawl.sqlite3") as store:
        sources = store.sources()
        assert {s.url.removeprefix(portal.url) for s in sources} == {r.path for r in site.reports}
        for source in sources:
            path = tmp_path / "archive" / source.warc_file  # a file that exists, closed
            stored = load_response(RecordLocation(path, source.warc_offset, source.warc_length),
                                   _original(crawl_dir, source.url))
            assert stored.status == 200
        assert store.run(crawl_id).starts == 2


def _original(crawl_dir: Path, url: str) -> RecordLocation | None:
    revisits = (e for e in iter_archive([crawl_dir]) if e.url == url and e.is_revisit)
    return next((e.original for e in revisits), None)
