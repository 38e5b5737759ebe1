"""``gkcrawl crawl``: each scheduled run gets its own crawl id, JOBDIR and WARC directory; the
same ones only with --resume, which then fetches nothing the run archived."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from gkcrawl.crawl.runs import ARGS_FILE
from gkcrawl.demo.registry import write_registry
from gkcrawl.demo.site import build_site
from tests.crawling import ROOT, failed_paths
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
        site = build_site()  # only what had failed: timed out, a 5xx, the anti-bot challenge
        failed = failed_paths(site)
        assert fetched <= failed
        assert gkcrawl_crawl(tmp_path, registry, "--resume", "nope").returncode == 2
    finally:
        portal.stop()


def test_sigterm_stops_the_crawl_and_resume_runs_it_again_with_its_arguments(
        tmp_path: Path) -> None:
    """systemd's stop: the crawl ends cleanly (no orphan), says how to resume; ``--resume``
    without arguments crawls the same registry into the same run."""
    portal = PortalProcess("--port", "0", "--slow-delay", "20")
    try:
        registry = tmp_path / "portals.csv"
        write_registry(registry, portal.url)
        jobs = tmp_path / "crawls"
        run = subprocess.Popen(
            [sys.executable, "-m", "gkcrawl.cli", "crawl", "--jobs-dir", str(jobs), "--",
             "-a", f"portals={registry}", "-s", f"ARCHIVE_DIR={tmp_path / 'archive'}", *FAST,
             "-s", "DOWNLOAD_TIMEOUT=30", "-s", "CONCURRENT_REQUESTS=1"],
            cwd=ROOT, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while len(json.loads(portal.get("/__hits__")[1])) < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
        run.send_signal(signal.SIGTERM)
        _, stderr = run.communicate(timeout=120)
        assert run.returncode != 0
        (crawl_id,) = [p.name for p in jobs.iterdir()]
        assert f"resume it with: gkcrawl crawl --jobs-dir {jobs} --resume {crawl_id}" in stderr
        alive = subprocess.run(["pgrep", "-f", f"CRAWL_ID={crawl_id}"], capture_output=True,
                               text=True, check=False)
        assert alive.stdout == ""  # the crawl stopped with its parent
        assert json.loads((jobs / crawl_id / ARGS_FILE).read_text())[:2] == [
            "-a", f"portals={registry}"]
        resumed = subprocess.run(
            [sys.executable, "-m", "gkcrawl.cli", "crawl", "--jobs-dir", str(jobs),
             "--resume", crawl_id, "--", "-s", "DOWNLOAD_TIMEOUT=1.5"],
            cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        assert f"Resuming crawl {crawl_id}" in resumed.stderr
        assert "xizang" not in resumed.stderr  # the run's own registry, not the shipped one
    finally:
        portal.stop()
