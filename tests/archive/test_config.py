"""Archive settings and the crawl id: configured, per distributed worker, kept by a JOBDIR."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy import Spider
from scrapy.utils.test import get_crawler

from gkcrawl.archive import config
from gkcrawl.archive.config import ArchiveSettings, check_crawl_id, crawl_dir_for, crawl_id_for


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


@pytest.mark.parametrize("bad", ["../x", "a/b", "..", ".hidden", "x..y", "", "a b", "运行"])
def test_a_crawl_id_that_cannot_name_a_directory_is_refused(bad: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid crawl id"):
        check_crawl_id(bad)
    crawler = get_crawler(NamedSpider, {"CRAWL_ID": bad, "ARCHIVE_DIR": str(tmp_path)})
    if bad:  # an empty CRAWL_ID is no CRAWL_ID: the default one is made
        with pytest.raises(ValueError, match="invalid crawl id"):
            crawl_id_for(crawler)


def test_a_crawl_with_a_bad_crawl_id_stops_before_fetching(tmp_path: Path) -> None:
    """``scrapy crawl portals -s CRAWL_ID=../x``: one line, a non-zero exit, nothing written."""
    archive = tmp_path / "archive"
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "portals", "-s", "CRAWL_ID=../escaped",
         "-s", f"ARCHIVE_DIR={archive}"], cwd=Path(__file__).parents[2], capture_output=True,
        text=True, timeout=60, check=False)
    assert proc.returncode != 0
    assert "invalid crawl id '../escaped'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "escaped").exists() and not archive.exists()
