"""``main_quarantine``: the quarantine list as an aligned table or as JSON Lines."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from gkcrawl.outputs.quarantine import _width, main_quarantine
from gkcrawl.store import QuarantineRow, Store
from tests.samples import quarantine_item


def fill(store: Store) -> None:
    store.upsert_quarantine(QuarantineRow.from_item(quarantine_item()))
    store.upsert_quarantine(QuarantineRow.from_item(quarantine_item(
        url="http://www.wzs.gov.cn/a.doc", record_id="<q2>", code="lookalike",
        reason="像报告\n但没有表格")))
    store.upsert_quarantine(QuarantineRow.from_item(quarantine_item(
        url="http://www.wzs.gov.cn/b.html", record_id=None, code="corrupt", reason="bad")))
    store.resolve_quarantine("http://www.wzs.gov.cn/a.doc", "<q2>", "sha1:<q2>")


def test_table(store: Store, target: str, capsys: pytest.CaptureFixture[str]) -> None:
    fill(store)
    assert main_quarantine(target, as_json=False) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split() == ["url", "code", "reason", "warc", "first_seen", "last_seen"]
    assert len(lines) == 3 and "2 quarantined documents" in err
    assert lines[1].startswith(
        "http://www.wzs.gov.cn/zwgk/ndbg/scan.pdf  scanned_pdf  PDF 无文字层")
    assert "crawl-a/gkcrawl-20240101000000000-00000-host.warc.gz@99" in lines[1]
    # columns line up on a terminal, CJK characters counting double
    assert _width(lines[1][:lines[1].index("crawl-a/")]) == lines[0].index("warc")
    assert lines[2].split()[:3] == ["http://www.wzs.gov.cn/b.html", "corrupt", "bad"]

    out_all = io.StringIO()
    assert main_quarantine(target, as_json=False, include_resolved=True, out=out_all) == 0
    assert "像报告 但没有表格" in out_all.getvalue()  # one line per entry


def test_json_lines(store: Store, target: str) -> None:
    fill(store)
    out = io.StringIO()
    assert main_quarantine(target, as_json=True, out=out) == 0
    entries = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["code"] for e in entries] == ["scanned_pdf", "corrupt"]
    first = entries[0]
    assert first["warc_file"] == "crawl-a/gkcrawl-20240101000000000-00000-host.warc.gz"
    assert first["warc_offset"] == 99 and first["record_id"].startswith("<urn:uuid:")
    assert first["first_seen"].endswith("Z") and first["resolved_at"] is None
    assert first["over_limit"] is None  # not a parsing limit's code
    assert entries[1]["warc_file"] is None


def test_empty_and_missing(target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                           store: Store) -> None:
    assert main_quarantine(target, as_json=False) == 0
    out, err = capsys.readouterr()
    assert out.split() == ["url", "code", "reason", "warc", "first_seen", "last_seen"]
    assert "0 quarantined documents" in err
    assert main_quarantine(tmp_path / "nowhere.sqlite3", as_json=False) == 1
    assert "no store at" in capsys.readouterr().err
    assert not (tmp_path / "nowhere.sqlite3").exists()
