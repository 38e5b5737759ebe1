"""verify(): catches what `warcio check` misses, reports unclosed files, prints a summary."""

from __future__ import annotations

import gzip
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gkcrawl.archive.verify import main_verify, verify
from gkcrawl.archive.writer import WarcPointer, WarcWriter

WARCIO = Path(sys.executable).parent / "warcio"
Factory = Callable[..., WarcWriter]


def _crawl(make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]]
           ) -> tuple[Path, WarcPointer, WarcPointer]:
    writer = make_writer()
    first = writer.write_exchange(**sample_exchange(url="http://x.gov.cn/1"))
    writer.write_exchange(**sample_exchange(url="http://x.gov.cn/2", response_body=b"B" * 500))
    writer.write_exchange(**sample_exchange(url="http://x.gov.cn/3", response_body=b"B" * 500))
    last = writer.write_metadata(first.record_id, "http://x.gov.cn/1", {"role": "report"})
    writer.close()
    return writer.files[0], first, last


def test_clean_file_is_ok(make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]],
                          capsys: pytest.CaptureFixture[str]) -> None:
    path, _, _ = _crawl(make_writer, sample_exchange)
    report = verify([path])
    assert report.ok and report.files[0].records == 8
    assert report.files[0].record_types["revisit"] == 1
    assert main_verify([str(path.parent)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "1 files, 8 records: all OK"


def test_truncated_last_member_is_caught_where_warcio_check_passes(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]], tmp_path: Path,
    tool: Callable[..., Any],
) -> None:
    path, _, last = _crawl(make_writer, sample_exchange)
    cut = tmp_path / "cut.warc.gz"
    data = path.read_bytes()
    cut.write_bytes(data[: len(data) - last.length // 2])  # half of the final metadata member
    assert tool(WARCIO, "check", cut).returncode == 0  # the trap from warc-anchors.md
    assert tool("gzip", "-t", cut).returncode != 0
    report = verify([cut])
    assert not report.ok
    (problem,) = report.files[0].errors
    assert problem.offset == last.offset and "truncated" in problem.message
    assert report.files[0].records == 7  # every complete record was still checked


def test_flipped_byte_and_digest_mismatch(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    path, first, _ = _crawl(make_writer, sample_exchange)
    data = bytearray(path.read_bytes())
    data[first.offset + first.length // 2] ^= 0x55
    bad = tmp_path / "flip.warc.gz"
    bad.write_bytes(bytes(data))
    report = verify([bad])
    assert [p.offset for p in report.files[0].errors] == [first.offset]
    assert report.files[0].records == 7


def test_payload_digest_is_recomputed(tmp_path: Path) -> None:
    body = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello"
    record = (
        b"WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:1>\r\n"
        b"WARC-Date: 2026-01-01T00:00:00Z\r\nWARC-Target-URI: http://x/\r\n"
        b"WARC-Payload-Digest: sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n"
        b"Content-Type: application/http; msgtype=response\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body + b"\r\n\r\n"
    )
    path = tmp_path / "hand.warc.gz"
    path.write_bytes(gzip.compress(record))
    (file_report,) = verify([path]).files
    assert [p.message for p in file_report.errors] == ["response: payload digest failed"]
    assert "first record is 'response', not warcinfo" in file_report.notes


def test_open_file_is_reported_incomplete(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]],
    simulate_crash: Callable[[WarcWriter], Path], capsys: pytest.CaptureFixture[str],
) -> None:
    writer = make_writer()
    writer.write_exchange(**sample_exchange())
    open_file = simulate_crash(writer)
    report = verify([writer.crawl_dir])
    (file_report,) = report.files
    assert file_report.incomplete and file_report.ok and not report.ok
    assert file_report.records == 3
    assert main_verify([str(open_file)]) == 1
    out = capsys.readouterr().out
    assert "INCOMPLETE" in out and "incomplete (crawl did not close it)" in out


def test_missing_path_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    assert main_verify([str(tmp_path / "nothing*.warc.gz")]) == 2
    assert "no WARC files" in capsys.readouterr().err


def test_glob_and_directory_arguments(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    path, _, _ = _crawl(make_writer, sample_exchange)
    shutil.copy(path, tmp_path / "copy.warc.gz")
    report = verify([str(tmp_path / "*.warc.gz"), path.parent, path])
    assert len(report.files) == 2 and report.ok
