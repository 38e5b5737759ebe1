"""A crawl of the sample portal, run once per session (``scrapy crawl portals`` in a subprocess)
and shared by the crawl and replay tests."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from gkcrawl.demo.registry import write_registry
from gkcrawl.demo.site import Site
from tests.portal import PortalProcess

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
#: The portal's slow page answers after SLOW s; the crawl gives up after TIMEOUT s.
SLOW, TIMEOUT = 4.0, 1.5
TRAP_LIMIT = 5
CRAWL_SETTINGS = {
    "DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
    "DOWNLOAD_TIMEOUT": str(TIMEOUT), "RETRY_TIMES": "1", "CRAWL_MAX_LIST_PAGES": str(TRAP_LIMIT),
    "LOG_LEVEL": "INFO", "CRAWL_ID": "test-crawl", "RETRY_BACKOFF_BASE": "0.2",
    # several WARC files, so that replay has files to share between processes
    "WARC_MAX_SIZE": "120000",
}


@dataclass
class Crawl:
    site: Site
    base: str
    archive: Path
    crawl_dir: Path
    items: list[dict]
    hits: dict[str, int]
    log: str

    def path(self, url: str) -> str:
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")


def run_crawl(portal: PortalProcess, out: Path, *extra: str,
              timeout: int = 300) -> subprocess.CompletedProcess[str]:
    registry = out / "portals.csv"
    write_registry(registry, portal.url)
    args = [sys.executable, "-m", "scrapy", "crawl", "portals", "-a", f"portals={registry}",
            "-O", str(out / "reports.jsonl"), "-O", str(out / "reports.csv"),
            "-s", f"ARCHIVE_DIR={out / 'archive'}"]
    for name, value in CRAWL_SETTINGS.items():
        args += ["-s", f"{name}={value}"]
    return subprocess.run([*args, *extra], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def failed_paths(site: Site) -> set[str]:
    """Paths whose answer was a failure (a 5xx, the anti-bot challenge, a timeout): a resumed
    crawl asks for them again."""
    return {p for p, status in site.errors.items() if status in (412, 500)} | set(site.slow)
