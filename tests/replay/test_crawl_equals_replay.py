"""Crawl = replay: the archive of a crawl, replayed into a fresh store, gives the stored reports
the crawl gave (organ, year, cells) and the same copies of each; and after two incremental
crawls, a page whose bytes did not change is one copy, in the crawl and in the replay."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from gkcrawl.archive.reader import iter_archive
from gkcrawl.demo.render.reports import tables_of
from gkcrawl.store import open_store
from tests.crawling import CRAWL_SETTINGS, ROOT, Crawl, run_crawl

STORE = "gkcrawl.sqlite3"
#: the session's crawl (tests/crawling.py) and the incremental one after it
FIRST, SECOND = CRAWL_SETTINGS["CRAWL_ID"], "run-2"

#: (organ key, year) -> (organ, cells of the chosen copy, copies counted, copies stored)
Reports = dict[tuple[str, int], tuple[str | None, dict[str, Any], int, int]]


def stored_reports(store_path: Path) -> Reports:
    with open_store(store_path) as store:
        copies = Counter((s.organ_key, s.year) for s in store.sources())
        return {(r.organ_key, r.year): (r.organ, tables_of(r.report), r.n_sources,
                                        copies[r.organ_key, r.year])
                for r in store.reports()}


def replay(archive: Path, store: Path, *crawl_ids: str) -> None:
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "gkcrawl.settings"}
    proc = subprocess.run(
        [sys.executable, "-m", "gkcrawl.cli", "replay", *(str(archive / c) for c in crawl_ids),
         "--store", str(store), "--jobs", "2", "-s", f"ARCHIVE_DIR={archive}"],
        capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_a_replay_stores_what_the_crawl_stored(crawl: Crawl, tmp_path: Path) -> None:
    fresh = tmp_path / STORE
    replay(crawl.archive, fresh, crawl.crawl_dir.name)
    live, replayed = stored_reports(crawl.archive / STORE), stored_reports(fresh)
    assert replayed == live
    # every report of the portal, its copies (a re-publication, a mirror) counted once each
    assert len(live) == len({(r.organ, r.year) for r in crawl.site.reports})
    assert sum(n for _, _, n, _ in live.values()) == len(crawl.site.reports)
    assert all(counted == stored for _, _, counted, stored in live.values())


@pytest.fixture(scope="module")
def two_crawls(crawl: Crawl, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's crawl of the sample portal and a second, incremental one (the same bytes
    again) into a copy of its archive and store; the output directory."""
    out = tmp_path_factory.mktemp("incremental")
    shutil.copytree(crawl.archive, out / "archive")
    proc = run_crawl(crawl.base, out, "-s", f"CRAWL_ID={SECOND}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_two_incremental_crawls_count_an_unchanged_page_once(two_crawls: Path) -> None:
    archive = two_crawls / "archive"
    second = [e for e in iter_archive([archive / SECOND]) if e.metadata.get("role") == "report"]
    assert second and all(e.is_revisit for e in second)  # nothing changed on the portal
    live = stored_reports(archive / STORE)
    with open_store(archive / STORE) as store:
        assert store.run(SECOND).stats["incremental/not_reparsed"] >= len(second)
        assert {s.crawl_id for s in store.sources()} == {FIRST}
    assert all(counted == stored for _, _, counted, stored in live.values())


@pytest.fixture(scope="module")
def replayed(two_crawls: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store a replay of both crawls' archives makes."""
    fresh = tmp_path_factory.mktemp("replayed") / STORE
    replay(two_crawls / "archive", fresh, FIRST, SECOND)
    return fresh


def test_a_replay_of_two_incremental_crawls_stores_the_same_reports(
        two_crawls: Path, replayed: Path) -> None:
    live, again = stored_reports(two_crawls / "archive" / STORE), stored_reports(replayed)
    assert {k: v[:2] for k, v in again.items()} == {k: v[:2] for k, v in live.items()}


def test_a_replay_of_two_incremental_crawls_counts_an_unchanged_page_once(
        two_crawls: Path, replayed: Path) -> None:
    live, again = stored_reports(two_crawls / "archive" / STORE), stored_reports(replayed)
    assert {k: v[2:] for k, v in again.items()} == {k: v[2:] for k, v in live.items()}
