"""The store commands end to end through ``gkcrawl``: export, stats, quarantine."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

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
