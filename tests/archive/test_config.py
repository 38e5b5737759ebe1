"""Archive settings and the crawl id: configured, per distributed worker, kept by a JOBDIR."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

from scrapy import Spider
from scrapy.utils.test import get_crawler

from gkcrawl.archive import config
from gkcrawl.archive.config import ArchiveSettings, crawl_dir_for, crawl_id_for


class NamedSpider(Spider):
    name = "portals"


def test_defaults() -> None:
    settings = ArchiveSettings.from_crawler(get_crawler(NamedSpider))
    assert settings == ArchiveSettings(Path(config.ARCHIVE_DIR), config.WARC_ENABLED,
                                       config.WARC_MAX_SIZE, config.WARC_PREFIX,
                                       config.WARC_OPERATOR)


def test_configured_crawl_id_and_dir(tmp_path: Path) -> None:
    crawler = get_crawler(NamedSpider, {"CRAWL_ID": "run-1", "ARCHIVE_DIR": str(tmp_path)})
    assert crawl_id_for(crawler) == "run-1"
    assert crawl_dir_for(crawler) == tmp_path / "run-1"


def test_distributed_workers_archive_apart() -> None:
    named = get_crawler(NamedSpider, {"CRAWL_ID": "run", "REDIS_URL": "redis://127.0.0.1",
                                      "WORKER_ID": "w1"})
    assert crawl_id_for(named) == "run-w1"
    unnamed = get_crawler(NamedSpider, {"CRAWL_ID": "run", "REDIS_URL": "redis://127.0.0.1"})
    assert crawl_id_for(unnamed) == f"run-{socket.gethostname()}-{os.getpid()}"


def test_default_crawl_id_is_kept_by_the_jobdir(tmp_path: Path) -> None:
    jobdir = {"JOBDIR": str(tmp_path / "job")}
    first = get_crawler(NamedSpider, jobdir)
    first.spider = NamedSpider.from_crawler(first)
    crawl_id = crawl_id_for(first)
    assert re.fullmatch(r"portals-\d{8}T\d{6}Z", crawl_id)
    assert crawl_id_for(first) == crawl_id  # once per crawler
    resumed = get_crawler(NamedSpider, jobdir)
    assert crawl_id_for(resumed) == crawl_id
