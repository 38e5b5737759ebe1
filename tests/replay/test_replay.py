"""Replay: crawl -> store A; empty the store; replay the archive -> store B; A == B. Broken
records are reported and skipped; --reparse-older-than re-parses only older copies."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from gkcrawl import PARSER_VERSION
from gkcrawl.archive.reader import iter_archive
from gkcrawl.replay.jobs import EXIT_FAILED, EXIT_LOST
from gkcrawl.store import open_store
from tests.crawling import ROOT, Crawl

STORE = "gkcrawl.sqlite3"


def snapshot(store_path: Path) -> dict[str, Any]:
    """What a researcher gets from the store: the reports and every stored copy."""
    with open_store(store_path) as store:
        reports = [(r.organ_key, r.year, r.n_sources, r.format, r.report, r.validation,
                    store.source(r.source_id).url) for r in store.reports()]
        sources = sorted((s.url, s.record_id, s.role, s.official, s.crawl_id, s.organ_key,
                          s.year, s.warc_file, s.warc_offset, s.report == s.report)
                         for s in store.sources())
    return {"reports": reports, "sources": sources}


def copy_archive(crawl: Crawl, target: Path) -> Path:
    """The crawl's archive without its store (an empty store for the replay)."""
    shutil.copytree(crawl.archive, target, ignore=shutil.ignore_patterns(f"{STORE}*"))
    return target


def replay(archive: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "gkcrawl.settings"}
    return subprocess.run(
        [sys.executable, "-m", "gkcrawl.cli", "replay", str(archive / "test-crawl"),
         "--store", str(archive / STORE), "-s", f"ARCHIVE_DIR={archive}", *args],
        capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)


def test_replay_gives_what_the_crawl_gave(crawl: Crawl, tmp_path: Path) -> None:
    archive = copy_archive(crawl, tmp_path / "archive")
    assert not (archive / STORE).exists()
    # two processes sharing the files in parts of 4 KB (a few records each)
    proc = replay(archive, "--jobs", "2", "-s", "REPLAY_PART_BYTES=4096")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "in 2 process(es)" in proc.stderr and "records/s" in proc.stderr
    assert "Disabled" not in proc.stderr  # no component of the crawl disables itself
    exchanges = sum(1 for _ in iter_archive(sorted((archive / "test-crawl").glob("*.warc.gz"))))
    assert f": {exchanges} records, " in proc.stderr  # each read once, by one of the processes
    live, replayed = snapshot(crawl.archive / STORE), snapshot(archive / STORE)
    assert len(live["reports"]) >= len({(i["organ"], i["year"]) for i in crawl.items}) - 1
    assert replayed == live


def test_broken_records_are_reported_and_the_rest_read(crawl: Crawl, tmp_path: Path) -> None:
    archive = copy_archive(crawl, tmp_path / "archive")
    files = sorted((archive / "test-crawl").glob("*.warc.gz"))
    assert len(files) >= 3
    # flip a byte inside the gzip member of a report's record; cut the last file short
    pointer = next(i["warc"] for i in crawl.items if i["warc"]["filename"].endswith(files[0].name))
    data = bytearray(files[0].read_bytes())
    data[pointer["offset"] + pointer["length"] // 2] ^= 0xFF
    files[0].write_bytes(bytes(data))
    files[-1].write_bytes(files[-1].read_bytes()[:-300])
    proc = replay(archive, "--jobs", "1")
    assert proc.returncode == EXIT_LOST, proc.stderr[-3000:]  # done, but something was lost
    summary, last = proc.stderr.strip().splitlines()[-2:]
    damaged = int(summary.split(";")[1].split()[0])
    assert damaged >= 2
    assert last == (f"gkcrawl replay: {damaged} damaged records could not be read: what they "
                    "held is not in the store")
    with open_store(archive / STORE) as store:
        replayed = {s.url for s in store.sources()}
    broken_url = next(i["source_url"] for i in crawl.items if i["warc"] == pointer)
    assert broken_url not in replayed
    assert len(replayed) >= len(crawl.items) - 2  # everything else was read
    assert gzip.decompress(files[1].read_bytes())  # the untouched files are intact


def test_a_replay_that_reads_nothing_fails(tmp_path: Path) -> None:
    crawl_dir = tmp_path / "archive" / "test-crawl"
    crawl_dir.mkdir(parents=True)
    (crawl_dir / "junk.warc.gz").write_bytes(b"not a WARC file at all" * 100)
    proc = replay(tmp_path / "archive", "--jobs", "1")
    assert proc.returncode == EXIT_FAILED
    assert proc.stderr.strip().splitlines()[-1] == (
        "gkcrawl replay: no WARC record could be read from 1 files")


def test_uncompressed_warc_files_are_replayed(crawl: Crawl, tmp_path: Path) -> None:
    """Other tools write ``.warc`` files, a record after another, uncompressed."""
    archive = copy_archive(crawl, tmp_path / "archive")
    files = sorted((archive / "test-crawl").glob("*.warc.gz"))
    for path in files:
        path.with_suffix("").write_bytes(gzip.decompress(path.read_bytes()))
        path.unlink()
    proc = replay(archive, "--jobs", "1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open_store(archive / STORE) as store:
        assert {s.url for s in store.sources()} == {i["source_url"] for i in crawl.items}


def test_reparse_older_than(crawl: Crawl, tmp_path: Path) -> None:
    archive = copy_archive(crawl, tmp_path / "archive")
    assert replay(archive, "--jobs", "1").returncode == 0
    again = replay(archive, "--jobs", "1", "--reparse-older-than", PARSER_VERSION)
    assert again.returncode == 0
    assert "0 report documents" in again.stderr  # every copy was parsed by this parser version
    newer = replay(archive, "--jobs", "1", "--reparse-older-than", str(int(PARSER_VERSION) + 1))
    documents = int(newer.stderr.split(" report documents")[0].rsplit(" ", 1)[1])
    assert documents == len(crawl.items)
    assert json.loads(json.dumps(snapshot(archive / STORE))) == json.loads(
        json.dumps(snapshot(crawl.archive / STORE)))
