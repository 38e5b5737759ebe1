"""WarcWriter: byte-faithful records, revisits, rotation, naming, index, tool compatibility."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import sys
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from gkcrawl import __version__
from gkcrawl.archive.cdxj import INDEX_NAME
from gkcrawl.archive.framing import WarcRecord, iter_file
from gkcrawl.archive.reader import iter_archive
from gkcrawl.archive.recover import recover
from gkcrawl.archive.verify import verify
from gkcrawl.archive.writer import WarcWriter

GBK_DISPOSITION = 'attachment; filename="2023年度报告.pdf"'.encode("gbk")
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
PDF_HEADERS = [(b"Content-Type", b"application/pdf")]
BIN = Path(sys.executable).parent
WARCIO = BIN / "warcio"
CDXJ_INDEXER = BIN / "cdxj-indexer"
FETCHED = datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)

Factory = Callable[..., WarcWriter]


def sha1(data: bytes) -> str:
    """A WARC digest computed independently of gkcrawl.archive.digests."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def records(path: Path) -> list[WarcRecord]:
    items = list(iter_file(path))
    assert all(isinstance(i, WarcRecord) for i in items), items
    return items  # type: ignore[return-value]


def test_response_and_request_records_are_byte_faithful(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]]
) -> None:
    writer = make_writer()
    headers = [
        (b"Content-Type", b"application/octet-stream"),
        (b"Content-Disposition", GBK_DISPOSITION),
        (b"Set-Cookie", b"a=1; Path=/"),
        (b"Set-Cookie", b"b=2; Path=/"),
    ]
    pointer = writer.write_exchange(
        **sample_exchange(response_headers=headers, fetch_date=FETCHED, response_body=b"x")
    )
    writer.close()
    final = writer.files[0]
    raw = gzip.decompress(final.read_bytes())  # independent of our reader
    assert b"Content-Disposition: " + GBK_DISPOSITION + b"\r\n" in raw
    assert b"Set-Cookie: a=1; Path=/\r\nSet-Cookie: b=2; Path=/\r\n" in raw
    assert b"GET /zwgk/list?page=2&t=1 HTTP/1.1\r\nHost: www.example.gov.cn\r\n" in raw

    warcinfo, response, request = records(final)
    assert warcinfo.rec_type == "warcinfo" and warcinfo.version == "WARC/1.1"
    info = warcinfo.block.decode()
    assert f"software: gkcrawl/{__version__}\r\n" in info
    assert "isPartOf: crawl-a\r\n" in info and "robots: obey\r\n" in info
    assert "conformsTo: http://iipc.github.io/warc-specifications/" in info
    assert response.rec_type == "response"
    assert response.get("WARC-Date") == "2026-03-01T08:30:15.123456Z"
    assert response.get("WARC-IP-Address") == "127.0.0.1"
    assert response.get("WARC-Warcinfo-ID") == warcinfo.record_id
    assert response.get("WARC-Payload-Digest") == pointer.digest
    assert response.record_id == pointer.record_id
    assert request.get("WARC-Concurrent-To") == response.record_id
    assert request.get("WARC-Date") == response.get("WARC-Date")
    assert (pointer.offset, pointer.length) == (response.offset, response.length)
    assert pointer.filename == f"crawl-a/{final.name}"


def test_warcio_reads_the_raw_header_bytes(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]]
) -> None:
    writer = make_writer()
    writer.write_exchange(**sample_exchange(
        response_headers=[(b"Content-Disposition", GBK_DISPOSITION)]
    ))
    writer.close()
    with open(writer.files[0], "rb") as fh:
        blocks = [
            rec.raw_stream.read()
            for rec in ArchiveIterator(fh, no_record_parse=True)
            if rec.rec_type == "response"
        ]
    assert blocks[0].startswith(b"HTTP/1.1 200 OK\r\nContent-Disposition: " + GBK_DISPOSITION)


def test_identical_payload_becomes_revisit_and_reader_resolves_it(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]]
) -> None:
    writer = make_writer()
    first = writer.write_exchange(**sample_exchange(
        url="http://a.gov.cn/2023.pdf", response_headers=PDF_HEADERS, response_body=PDF,
        fetch_date=FETCHED,
    ))
    second = writer.write_exchange(**sample_exchange(
        url="http://b.gov.cn/copy.pdf", response_headers=PDF_HEADERS, response_body=PDF
    ))
    writer.close()
    assert not first.is_revisit and second.is_revisit
    assert second.original is not None
    assert second.original.record_id == first.record_id
    assert (second.original.filename, second.original.offset) == (first.filename, first.offset)

    revisit = next(r for r in records(writer.files[0]) if r.rec_type == "revisit")
    assert revisit.get("WARC-Profile") == (
        "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
    )
    assert revisit.get("WARC-Refers-To") == first.record_id
    assert revisit.get("WARC-Refers-To-Target-URI") == "http://a.gov.cn/2023.pdf"
    assert revisit.get("WARC-Refers-To-Date") == "2026-03-01T08:30:15.123456Z"
    assert revisit.get("WARC-Payload-Digest") == first.digest
    assert revisit.block == b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n\r\n"

    by_url = {e.url: e for e in iter_archive([writer.crawl_dir])}
    copy = by_url["http://b.gov.cn/copy.pdf"]
    assert copy.is_revisit and copy.body == PDF
    assert by_url["http://a.gov.cn/2023.pdf"].body == PDF


def test_empty_and_truncated_bodies_are_not_deduplicated(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]]
) -> None:
    writer = make_writer()
    pointers = [
        writer.write_exchange(**sample_exchange(status=304, response_body=b"")),
        writer.write_exchange(**sample_exchange(status=304, response_body=b"")),
        writer.write_exchange(**sample_exchange(response_body=PDF[:100], truncated="length")),
        writer.write_exchange(**sample_exchange(response_body=PDF[:100], truncated=True)),
    ]
    writer.close()
    assert not any(p.is_revisit for p in pointers)
    responses = [r for r in records(writer.files[0]) if r.rec_type == "response"]
    assert [r.get("WARC-Truncated") for r in responses] == [None, None, "length", "unspecified"]


def test_dedup_across_crawls_through_the_shared_store(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    old = make_writer("portals-2025")
    original = old.write_exchange(**sample_exchange(response_body=PDF))
    old.close()
    new = make_writer("portals-2026")
    again = new.write_exchange(**sample_exchange(response_body=PDF))
    new.close()
    assert again.is_revisit and again.original is not None
    assert again.original.filename == original.filename
    assert again.original.filename.startswith("portals-2025/")
    # reading only the new crawl resolves the body through <archive>/digests.sqlite3
    (exchange,) = iter_archive([tmp_path / "portals-2026"])
    assert exchange.body == PDF and exchange.original is not None
    assert exchange.original.path.parent.name == "portals-2025"


def test_metadata_record(make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]]
                         ) -> None:
    writer = make_writer()
    pointer = writer.write_exchange(**sample_exchange())
    meta = writer.write_metadata(
        pointer.record_id,
        "http://www.example.gov.cn/zwgk/list?page=2&t=1",
        {"portal": "gd-001", "role": "report", "verdict": {"score": 0.9},
         "referrer": "http://www.example.gov.cn/\nx", "depth": 2, "unset": None},
    )
    writer.close()
    record = records(writer.files[0])[-1]
    assert record.rec_type == "metadata" and record.record_id == meta.record_id
    assert (record.offset, record.length) == (meta.offset, meta.length)
    assert meta.filename == f"crawl-a/{writer.files[0].name}"
    assert record.get("Content-Type") == "application/warc-fields"
    assert record.get("WARC-Concurrent-To") == pointer.record_id
    assert record.block == (
        b'portal: gd-001\r\nrole: report\r\nverdict: {"score": 0.9}\r\n'
        b"referrer: http://www.example.gov.cn/ x\r\ndepth: 2\r\n"
    )


def test_conversion_record(make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]]
                           ) -> None:
    """A page's content in another form (a browser's DOM) refers to its response record."""
    writer = make_writer()
    pointer = writer.write_exchange(**sample_exchange())
    dom = "<html><body><a href='/nb/1.html'>年报</a></body></html>".encode()
    conversion = writer.write_conversion(pointer.record_id, "http://www.example.gov.cn/nb/", dom,
                                         "text/html; charset=utf-8")
    writer.close()
    record = records(writer.files[0])[-1]
    assert record.rec_type == "conversion" and record.record_id == conversion.record_id
    assert (record.offset, record.length) == (conversion.offset, conversion.length)
    assert record.get("WARC-Refers-To") == pointer.record_id
    assert record.get("Content-Type") == "text/html; charset=utf-8"
    assert record.block == dom and record.get("WARC-Block-Digest") == sha1(dom)
    assert verify([writer.files[0]]).ok


def test_rotation_keeps_pairs_together_and_starts_each_file_with_warcinfo(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]]
) -> None:
    max_size = 6000
    writer = make_writer(max_size=max_size, dedup=False)
    for n in range(12):
        writer.write_exchange(**sample_exchange(
            url=f"http://x.gov.cn/{n}", response_body=os.urandom(1500)
        ))
    assert writer.current_file is not None and writer.current_file.name.endswith(".open")
    writer.close()
    files = sorted(writer.crawl_dir.glob("*.warc.gz"))
    assert len(files) >= 3 and files == sorted(writer.files)
    assert not list(writer.crawl_dir.glob("*.open"))
    assert [f.name.split("-")[2] for f in files] == [f"{i:05d}" for i in range(len(files))]
    urls = []
    for path in files:
        recs = records(path)
        assert recs[0].rec_type == "warcinfo"
        assert all(r.get("WARC-Warcinfo-ID") == recs[0].record_id for r in recs[1:])
        pairs = recs[1:]
        assert [r.rec_type for r in pairs] == ["response", "request"] * (len(pairs) // 2)
        for response, request in zip(pairs[::2], pairs[1::2], strict=True):
            assert request.get("WARC-Concurrent-To") == response.record_id
            urls.append(response.get("WARC-Target-URI"))
        assert path.stat().st_size <= max_size
    assert urls == [f"http://x.gov.cn/{n}" for n in range(12)]


def test_new_writer_never_appends_to_a_crashed_file(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]],
    simulate_crash: Callable[[WarcWriter], Path],
) -> None:
    crashed = make_writer()
    crashed.write_exchange(**sample_exchange())
    left_behind = simulate_crash(crashed)
    size = left_behind.stat().st_size

    resumed = make_writer()  # closes what the crashed writer left, then writes a file of its own
    resumed.write_exchange(**sample_exchange())
    resumed.close()
    recovered = left_behind.with_name(left_behind.name.removesuffix(".open"))
    assert not left_behind.exists() and recovered.stat().st_size == size
    (new_file,) = resumed.files
    assert new_file.name.split("-")[2] == "00001"


def test_a_killed_writers_file_is_cut_to_its_last_whole_record_closed_and_indexed(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]],
    simulate_crash: Callable[[WarcWriter], Path],
) -> None:
    crashed = make_writer()
    pointers = [crashed.write_exchange(**sample_exchange(url=f"http://a.gov.cn/{n}.html"))
                for n in range(3)]
    left_behind = simulate_crash(crashed)
    whole = left_behind.stat().st_size
    with left_behind.open("ab") as fh:  # the record being written when the kill came
        fh.write(b"\x1f\x8b\x08\x00half a gzip member")
    (recovered,) = recover(left_behind.parent)
    assert recover(left_behind.parent) == []  # nothing left to do the second time
    assert recovered.path.name == left_behind.name.removesuffix(".open")
    assert recovered.records == 3 and recovered.cut_bytes == len(b"half a gzip member") + 4
    assert recovered.path.stat().st_size == whole and verify([recovered.path]).ok
    # every pointer the crashed writer handed out names a file that exists, at its record
    for pointer in pointers:
        assert (left_behind.parent.parent / pointer.filename).exists()
    index = (left_behind.parent / INDEX_NAME).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line.split(" ", 2)[2])["offset"] for line in index] == [
        str(p.offset) for p in sorted(pointers, key=lambda p: p.offset)]
    assert not list(left_behind.parent.glob(".index.cdxj.*.part"))


def test_a_live_writers_file_is_left_alone(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]],
) -> None:
    live = make_writer()
    live.write_exchange(**sample_exchange())
    assert live.current_file is not None
    assert recover(live.current_file.parent) == []
    assert live.current_file.exists()
    live.close()


def test_failed_write_is_rolled_back_and_raised(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writer = make_writer()
    writer.write_exchange(**sample_exchange())
    assert writer.current_file is not None
    size = writer.current_file.stat().st_size
    real_fh = writer._fh

    class FullDisk:
        def __init__(self, fh: Any) -> None:
            self._fh = fh

        def write(self, data: bytes) -> int:
            self._fh.write(data[: len(data) // 2])
            raise OSError(28, "No space left on device")

        def __getattr__(self, name: str) -> Any:
            return getattr(self._fh, name)

    writer._fh = FullDisk(real_fh)  # type: ignore[assignment]
    with pytest.raises(OSError, match="No space left"):
        writer.write_exchange(**sample_exchange(url="http://x.gov.cn/lost"))
    writer._fh = real_fh
    assert writer.current_file.stat().st_size == size
    writer.write_exchange(**sample_exchange(url="http://x.gov.cn/after"))
    writer.close()
    urls = [r.get("WARC-Target-URI") for r in records(writer.files[0])]
    assert "http://x.gov.cn/lost" not in urls and "http://x.gov.cn/after" in urls


def test_line_breaks_in_a_url_are_refused(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]]
) -> None:
    writer = make_writer()
    with pytest.raises(ValueError, match="WARC-Target-URI"):
        writer.write_exchange(**sample_exchange(url="http://x.gov.cn/\r\nWARC-Type: forged"))
    with pytest.raises(ValueError, match="invalid HTTP header"):
        writer.write_exchange(**sample_exchange(response_headers=[(b"X", b"a\r\nb: c")]))
    writer.close()
    assert [r.rec_type for r in records(writer.files[0])] == ["warcinfo"]


def test_close_is_idempotent_and_writing_after_close_raises(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]]
) -> None:
    with make_writer() as writer:
        writer.write_exchange(**sample_exchange())
    writer.close()
    with pytest.raises(RuntimeError, match="closed"):
        writer.write_exchange(**sample_exchange())
    assert writer.files[0].exists() and (writer.crawl_dir / INDEX_NAME).exists()
    assert not list(writer.crawl_dir.glob(".*part"))


def _mixed_crawl(make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]]
                 ) -> WarcWriter:
    writer = make_writer(max_size=5000)
    writer.write_exchange(**sample_exchange())
    writer.write_exchange(**sample_exchange(url="http://a.gov.cn/r.pdf",
                                            response_headers=PDF_HEADERS, response_body=PDF))
    writer.write_exchange(**sample_exchange(url="http://b.gov.cn/r.pdf",
                                            response_headers=PDF_HEADERS, response_body=PDF))
    writer.write_exchange(**sample_exchange(url="http://a.gov.cn/old", status=301,
                                            response_headers=[(b"Location", b"/new")],
                                            response_body=b""))
    writer.write_exchange(**sample_exchange(
        url="http://a.gov.cn/attach", response_body=b"x" * 3000,
        response_headers=[(b"content-type", b" Text/Plain ;charset=GBK"),
                          (b"Content-Disposition", GBK_DISPOSITION)],
    ))
    pointer = writer.write_exchange(
        **sample_exchange(url="http://a.gov.cn/search?q=%E5%B9%B4%E6%8A%A5&p=1")
    )
    writer.write_metadata(pointer.record_id, "http://a.gov.cn/search", {"role": "list"})
    writer.close()
    return writer


def test_index_equals_cdxj_indexer_sort(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]],
    tool: Callable[..., Any],
) -> None:
    writer = _mixed_crawl(make_writer, sample_exchange)
    assert len(writer.files) >= 2
    expected = tool(CDXJ_INDEXER, "--sort", *writer.files)
    assert expected.returncode == 0, expected.stderr
    ours = (writer.crawl_dir / INDEX_NAME).read_text(encoding="utf-8")
    assert ours == expected.stdout
    assert len(ours.splitlines()) == 6 and '"mime": "warc/revisit"' in ours


def test_index_merges_a_resumed_crawl(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]],
    tool: Callable[..., Any],
) -> None:
    for n in range(2):  # two runs of one crawl (stop, then resume)
        with make_writer() as writer:
            writer.write_exchange(**sample_exchange(url=f"http://x.gov.cn/{n}"))
    files = sorted(writer.crawl_dir.glob("*.warc.gz"))
    expected = tool(CDXJ_INDEXER, "--sort", *files)
    assert (writer.crawl_dir / INDEX_NAME).read_text() == expected.stdout
    assert len(expected.stdout.splitlines()) == 2


def test_gzip_and_warcio_check_pass(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]],
    tool: Callable[..., Any],
) -> None:
    writer = _mixed_crawl(make_writer, sample_exchange)
    gz = tool("gzip", "-t", *writer.files)
    assert gz.returncode == 0, gz.stderr
    check = tool(WARCIO, "check", "-v", *writer.files)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest failed" not in check.stdout
    assert check.stdout.count("digest pass") >= 10


def test_large_bodies_are_one_gzip_member_each_at_their_pointer(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]],
) -> None:
    """A body of megabytes, compressible or not, is one standard gzip member, found at its
    pointer."""
    incompressible = os.urandom(3 * 2**20)
    compressible = "政府信息公开工作年度报告".encode() * (2**19)
    writer = make_writer()
    bodies = {"http://a.gov.cn/scan.pdf": incompressible, "http://a.gov.cn/long.html": compressible}
    pointers = {url: writer.write_exchange(**sample_exchange(url=url, response_body=body))
                for url, body in bodies.items()}
    writer.close()
    raw = writer.files[0].read_bytes()
    for url, body in bodies.items():
        pointer = pointers[url]
        member = raw[pointer.offset:pointer.offset + pointer.length]
        inflate = zlib.decompressobj(zlib.MAX_WBITS | 16)
        record = inflate.decompress(member)
        assert inflate.eof and not inflate.unused_data  # exactly one member, whole
        assert record.endswith(body + b"\r\n\r\n")
        assert f"WARC-Target-URI: {url}\r\n".encode() in record
    assert pointers["http://a.gov.cn/scan.pdf"].length > len(incompressible)
    assert pointers["http://a.gov.cn/long.html"].length < len(compressible) // 50
    responses = [r for r in records(writer.files[0]) if r.rec_type == "response"]
    assert [(r.get("WARC-Target-URI"), r.offset, r.length) for r in responses] == [
        (url, pointers[url].offset, pointers[url].length) for url in bodies]
