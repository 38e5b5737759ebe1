"""The store commands end to end through ``gkcrawl``: export, stats, quarantine."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from gkcrawl.outputs.export import fields, typed
from tests.crawling import Crawl


def gkcrawl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gkcrawl.cli", *args], capture_output=True,
                          text=True, timeout=120)


def test_export_stats_quarantine_commands(crawl: Crawl, tmp_path: Path) -> None:
    store = str(crawl.archive / "gkcrawl.sqlite3")
    wide = gkcrawl("export", "--format", "csv", "--store", store)
    assert wide.returncode == 0, wide.stderr
    rows = list(csv.DictReader(io.StringIO(wide.stdout.lstrip("\ufeff"))))
    # one row per organ and year: the mirror and the re-published PDF are copies, not reports
    assert len(rows) == len({(i["organ"], i["year"]) for i in crawl.items}) < len(crawl.items)
    jsonl = gkcrawl("export", "--format", "jsonl", "--layout", "long", "--store", store)
    first = json.loads(jsonl.stdout.splitlines()[0])
    assert {"table_label", "row_label", "column_label", "value"} <= first.keys()
    page = tmp_path / "stats.html"
    stats = gkcrawl("stats", "--store", store, "--html", str(page))
    assert stats.returncode == 0 and f"{len(rows)} reports" in stats.stdout
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    quarantine = gkcrawl("quarantine", "--store", store, "--json")
    assert quarantine.returncode == 0


def test_the_crawl_csv_feed_is_flat(crawl: Crawl) -> None:
    """``scrapy crawl portals -O reports.csv``: one panel row per report item, each with the
    WARC pointer of the response it was parsed from."""
    with (crawl.archive.parent / "reports.csv").open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == [field.name for field in fields("panel")]
        rows = [typed(r, "panel", "csv") for r in reader]
    assert [(r["source_url"], r["year"]) for r in rows] == \
        [(i["source_url"], i["year"]) for i in crawl.items]
    for row, item in zip(rows, crawl.items, strict=True):
        assert (row["warc_file"], row["warc_offset"], row["warc_record_id"]) == (
            item["warc"]["filename"], item["warc"]["offset"], item["warc"]["record_id"])
        total = item["applications"]["new_received"]["total"] if item["applications"] else None
        assert row["t2_new_tot"] == total


UNREACHABLE = "postgresql://postgres@127.0.0.1:1/gkcrawl"


@pytest.mark.parametrize("command", [("export", "--format", "csv"), ("stats",), ("quarantine",)])
def test_a_store_that_cannot_be_opened_is_one_line_and_exit_1(command: tuple[str, ...]) -> None:
    proc = gkcrawl(*command, "--store", UNREACHABLE)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert f"gkcrawl {command[0]}: cannot open the store {UNREACHABLE}" in proc.stderr


def test_a_crawl_without_its_store_stops_before_fetching(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "portals", "-a", "only=xizang",
         "-s", f"STORE_URL={UNREACHABLE}", "-s", f"ARCHIVE_DIR={tmp_path / 'archive'}"],
        cwd=Path(__file__).parents[1], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[-1].startswith(
        f"scrapy crawl portals: cannot open the store {UNREACHABLE}")
    assert "Traceback" not in proc.stderr and not (tmp_path / "archive").exists()
