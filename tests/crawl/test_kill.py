"""A crawl killed with SIGKILL midway leaves valid closed WARC files and one recognisable
``.warc.gz.open`` file whose complete records can still be read."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from gkcrawl.archive.reader import ReadStats, iter_archive
from gkcrawl.archive.verify import verify
from gkcrawl.demo.registry import write_registry
from tests.portal import PortalProcess

ROOT = Path(__file__).parents[2]
#: Small files so that several are closed (rotated) before the kill.
WARC_MAX_SIZE = 40_000
CLOSED_BEFORE_KILL = 2
WAIT_SECONDS = 90


def test_sigkill_midway(tmp_path: Path) -> None:
    portal = PortalProcess("--port", "0", "--slow-delay", "1")
    try:
        registry = tmp_path / "portals.csv"
        write_registry(registry, portal.url)
        crawl_dir = tmp_path / "archive" / "killed"
        crawl = subprocess.Popen(
            [sys.executable, "-m", "scrapy", "crawl", "portals", "-a", f"portals={registry}",
             "-s", f"ARCHIVE_DIR={tmp_path / 'archive'}", "-s", "CRAWL_ID=killed",
             "-s", f"WARC_MAX_SIZE={WARC_MAX_SIZE}", "-s", "CONCURRENT_REQUESTS=1",
             "-s", "DOWNLOAD_DELAY=0.2", "-s", "AUTOTHROTTLE_ENABLED=False",
             "-s", "LOG_LEVEL=WARNING"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + WAIT_SECONDS
        while len(list(crawl_dir.glob("*.warc.gz"))) < CLOSED_BEFORE_KILL:
            assert crawl.poll() is None, "the crawl ended before it could be killed"
            assert time.monotonic() < deadline, "no WARC file was rotated in time"
            time.sleep(0.1)
        os.kill(crawl.pid, signal.SIGKILL)
        crawl.wait()
    finally:
        portal.stop()

    closed = sorted(crawl_dir.glob("*.warc.gz"))
    opened = sorted(crawl_dir.glob("*.warc.gz.open"))
    assert len(closed) >= CLOSED_BEFORE_KILL and len(opened) == 1
    for path in closed:
        assert subprocess.run(["gzip", "-t", str(path)]).returncode == 0
    report = verify(closed)
    assert report.ok, report.lines()
    incomplete = verify(opened)
    assert not incomplete.ok and incomplete.files[0].incomplete
    stats = ReadStats()
    records = list(iter_archive(opened, stats=stats))
    assert records, "the complete records of the open file must stay readable"
    assert all(r.status and r.url.startswith(portal.url) for r in records)
