"""``gkcrawl crawl``: each scheduled run gets its own crawl id, JOBDIR and WARC directory; the
same ones only with --resume, which then fetches nothing the run archived."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from gkcrawl.demo.registry import write_registry
from tests.crawling import ROOT
from tests.portal import PortalProcess

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_TIMEOUT=1.5",
        "-s", "RETRY_TIMES=0", "-s", "CRAWL_MAX_LIST_PAGES=5",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]


def gkcrawl_crawl(tmp_path: Path, registry: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gkcrawl.cli", "crawl", "--jobs-dir", str(tmp_path / "crawls"),
         *args, "--", "-a", f"portals={registry}", "-s", f"ARCHIVE_DIR={tmp_path / 'archive'}",
         *FAST],
        cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_each_run_its_own_id_jobdir_and_warc_dir(tmp_path: Path) -> None:
    portal = PortalProcess("--port", "0", "--slow-delay", "2")
    try:
        registry = tmp_path / "portals.csv"
        write_registry(registry, portal.url)
        first = gkcrawl_crawl(tmp_path, registry)
        assert first.returncode == 0, first.stderr[-2000:]
        time.sleep(1.1)  # run ids are stamped to the second
        second = gkcrawl_crawl(tmp_path, registry)
        assert second.returncode == 0, second.stderr[-2000:]
        runs = sorted(p.name for p in (tmp_path / "crawls").iterdir())
        assert len(runs) == 2
        for run in runs:
            assert (tmp_path / "crawls" / run / "gkcrawl-crawl-id").read_text().strip() == run
            assert list((tmp_path / "archive" / run).glob("*.warc.gz"))
        portal.get("/__hits__?reset=1")
        resumed = gkcrawl_crawl(tmp_path, registry, "--resume", runs[0])
        assert resumed.returncode == 0 and f"Resuming crawl {runs[0]}" in resumed.stderr
        _, body = portal.get("/__hits__")
        fetched = {p for p in json.loads(body) if p != "/robots.txt"}
        assert fetched <= {"/xwzx/202312/t20231228_20775.html"}  # only what had timed out
        assert gkcrawl_crawl(tmp_path, registry, "--resume", "nope").returncode == 2
    finally:
        portal.stop()
