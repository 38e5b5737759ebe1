"""A crawl of the sample portal, run once per session (``scrapy crawl portals`` in a subprocess)
and shared by the crawl and replay tests; what every crawl's archive must pass."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from gkcrawl.archive.cdxj import INDEX_NAME
from gkcrawl.demo.registry import write_registry
from gkcrawl.demo.site import Site

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


def run_crawl(base: str, out: Path, *extra: str, timeout: int = 300,
              python: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """``scrapy crawl portals`` of the sample portal served at ``base``, into ``out``;
    ``python`` are options of the interpreter (``-X importtime``)."""
    registry = out / "portals.csv"
    write_registry(registry, base)
    args = [sys.executable, *python, "-m", "scrapy", "crawl", "portals",
            "-a", f"portals={registry}", "-O", str(out / "reports.jsonl"),
            "-O", str(out / "reports.csv"),
            "-s", f"ARCHIVE_DIR={out / 'archive'}"]
    for name, value in CRAWL_SETTINGS.items():
        args += ["-s", f"{name}={value}"]
    return subprocess.run([*args, *extra], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def check_archive(crawl_dir: Path) -> None:
    """Every WARC file of the crawl is closed and whole (``gzip -t``, ``warcio check``),
    ``gkcrawl verify`` passes the directory, and ``index.cdxj`` is what ``cdxj-indexer --sort``
    makes of the files: a line for every response and revisit record, none more."""
    files = sorted(crawl_dir.glob("*.warc.gz"))
    assert files and not list(crawl_dir.glob("*.open")), sorted(crawl_dir.iterdir())
    for path in files:
        assert subprocess.run(["gzip", "-t", str(path)]).returncode == 0, path
        check = subprocess.run([str(BIN / "warcio"), "check", str(path)], capture_output=True,
                               text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    verify = subprocess.run([sys.executable, "-m", "gkcrawl.cli", "verify", str(crawl_dir)],
                            capture_output=True, text=True, cwd=ROOT)
    assert verify.returncode == 0 and "all OK" in verify.stdout, verify.stdout + verify.stderr
    index = subprocess.run([str(BIN / "cdxj-indexer"), "--sort", *(p.name for p in files)],
                           capture_output=True, text=True, cwd=crawl_dir)
    assert index.returncode == 0, index.stderr
    ours = (crawl_dir / INDEX_NAME).read_text(encoding="utf-8").splitlines()
    assert ours == [line for line in index.stdout.splitlines() if line.strip()]


def failed_paths(site: Site) -> set[str]:
    """Paths whose answer was a failure (a 5xx, the anti-bot challenge, a timeout): a resumed
    crawl asks for them again."""
    return {p for p, status in site.errors.items() if status in (412, 500)} | set(site.slow)
