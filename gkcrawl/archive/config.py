"""The archive's settings (each default defined here, once) and the crawl id of a crawler."""

from __future__ import annotations

import os
import re
import socket
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

#: Root directory of the archive: one sub-directory per crawl, and the shared digest store.
ARCHIVE_DIR = "archive"
#: Whether to archive at all (the extension and both middlewares).
WARC_ENABLED = True
#: A WARC file is closed and a new one started before it would grow past this many bytes.
WARC_MAX_SIZE = 1_000_000_000
#: First part of every WARC file name.
WARC_PREFIX = "gkcrawl"
#: Who runs the crawl, for the ``operator`` field of each file's warcinfo record.
WARC_OPERATOR = ""
CRAWL_LOG_NAME = "crawl.log.jsonl"
CRAWL_ID_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
#: The file in JOBDIR that keeps the crawl id, so a resumed crawl writes to the same crawl dir.
JOBDIR_CRAWL_ID = "gkcrawl-crawl-id"

#: A crawl id names a directory under ARCHIVE_DIR: letters, digits, ``.``, ``_`` and ``-``,
#: starting with a letter or digit (no path separators, no ``..``).
CRAWL_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_UNSAFE_IN_ID = re.compile(r"[^A-Za-z0-9._-]")

_crawl_ids: weakref.WeakKeyDictionary[Crawler, str] = weakref.WeakKeyDictionary()


@dataclass(frozen=True, slots=True)
class ArchiveSettings:
    """The archive-related settings of one crawler."""

    archive_dir: Path
    enabled: bool
    max_size: int
    prefix: str
    operator: str

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveSettings:
        settings = crawler.settings
        return cls(
            archive_dir=Path(settings.get("ARCHIVE_DIR", ARCHIVE_DIR)),
            enabled=settings.getbool("WARC_ENABLED", WARC_ENABLED),
            max_size=settings.getint("WARC_MAX_SIZE", WARC_MAX_SIZE),
            prefix=settings.get("WARC_PREFIX", WARC_PREFIX),
            operator=settings.get("WARC_OPERATOR", WARC_OPERATOR),
        )


def worker_id(settings: BaseSettings) -> str:
    """``WORKER_ID``, or ``<hostname>-<pid>``: names one worker of a distributed run."""
    return settings.get("WORKER_ID") or f"{socket.gethostname()}-{os.getpid()}"


def check_crawl_id(crawl_id: str) -> str:
    """``crawl_id`` if it can name a directory under ARCHIVE_DIR; raise ValueError otherwise
    (``../x`` would write outside the archive)."""
    if not CRAWL_ID_PATTERN.fullmatch(crawl_id) or ".." in crawl_id:
        raise ValueError(f"invalid crawl id {crawl_id!r}: letters, digits, '.', '_' and '-' only, "
                         "starting with a letter or digit")
    return crawl_id


def crawl_id_for(crawler: Crawler) -> str:
    """The crawl directory's name, computed once per crawler.

    ``CRAWL_ID`` (with ``-<worker id>`` in a distributed run, ``REDIS_URL`` set: each worker
    archives into its own directory), else the id a resumed ``JOBDIR`` kept, else
    ``<spider name>-<UTC time>``.  Memoised so the extension (WARC files) and the crawl-log
    middleware agree on the crawl directory even though the default contains the time of the
    first call.
    """
    if crawler not in _crawl_ids:
        configured = crawler.settings.get("CRAWL_ID")
        jobdir = crawler.settings.get("JOBDIR")
        saved = Path(jobdir) / JOBDIR_CRAWL_ID if jobdir else None
        if configured and crawler.settings.get("REDIS_URL"):
            name = f"{configured}-{_UNSAFE_IN_ID.sub('_', worker_id(crawler.settings))}"
            _crawl_ids[crawler] = check_crawl_id(name)
        elif configured:
            _crawl_ids[crawler] = check_crawl_id(str(configured))
        elif saved is not None and saved.exists():
            _crawl_ids[crawler] = check_crawl_id(saved.read_text(encoding="utf-8").strip())
        else:
            name = crawler.spider.name if crawler.spider is not None else "crawl"
            stamp = datetime.now(UTC).strftime(CRAWL_ID_TIME_FORMAT)
            _crawl_ids[crawler] = f"{name}-{stamp}"
        if saved is not None and not saved.exists():
            saved.parent.mkdir(parents=True, exist_ok=True)
            saved.write_text(_crawl_ids[crawler] + "\n", encoding="utf-8")
    return _crawl_ids[crawler]


def crawl_dir_for(crawler: Crawler) -> Path:
    """``<ARCHIVE_DIR>/<crawl id>``."""
    return ArchiveSettings.from_crawler(crawler).archive_dir / crawl_id_for(crawler)
