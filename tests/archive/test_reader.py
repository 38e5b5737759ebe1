"""iter_archive(): raw headers, bodies as archived, metadata, revisits, damage tolerance."""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gkcrawl.archive.reader import Part, ReadError, ReadStats, iter_archive, parts
from gkcrawl.archive.writer import WarcWriter

GBK_DISPOSITION = 'attachment; filename="2023年度报告.pdf"'.encode("gbk")
HTML = "<title>2023年政府信息公开工作年度报告</title>".encode()
Factory = Callable[..., WarcWriter]


def test_exchange_fields_are_raw(make_writer: Factory,
                                 sample_exchange: Callable[..., dict[str, Any]]) -> None:
    writer = make_writer()
    encoded = gzip.compress(HTML, mtime=0)
    headers = [(b"Content-Type", b"text/html"), (b"Content-Encoding", b"gzip"),
               (b"Content-Disposition", GBK_DISPOSITION),
               (b"Set-Cookie", b"a=1"), (b"Set-Cookie", b"b=2")]
    pointer = writer.write_exchange(**sample_exchange(
        response_headers=headers, response_body=encoded, protocol="HTTP/1.0"
    ))
    writer.close()
    (exchange,) = iter_archive([writer.crawl_dir])
    assert exchange.headers == headers
    assert exchange.body == encoded  # still content-encoded
    assert (exchange.status, exchange.protocol, exchange.reason) == (200, "HTTP/1.0", b"OK")
    assert exchange.url == "http://www.example.gov.cn/zwgk/list?page=2&t=1"
    assert exchange.record_id == pointer.record_id and exchange.ip_address == "127.0.0.1"
    assert (exchange.location.offset, exchange.location.length) == (pointer.offset,
                                                                    pointer.length)
    assert exchange.method == "GET" and exchange.request_body == b""
    assert (b"Accept-Encoding", b"gzip, deflate") in exchange.request_headers


def test_a_posts_body_is_read_back(make_writer: Factory,
                                   sample_exchange: Callable[..., dict[str, Any]]) -> None:
    writer = make_writer()
    form = "columnid=5001&webname=示范市人民政府".encode()
    writer.write_exchange(**sample_exchange(method="POST", request_body=form))
    writer.close()
    (exchange,) = iter_archive([writer.crawl_dir])
    assert (exchange.method, exchange.request_body) == ("POST", form)
    assert (b"Content-Length", str(len(form)).encode()) in exchange.request_headers


def test_metadata_is_matched_even_in_a_later_file(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]]
) -> None:
    writer = make_writer(max_size=3000, dedup=False)
    pointer = writer.write_exchange(**sample_exchange(url="http://x.gov.cn/report"))
    writer.write_exchange(
        **sample_exchange(url="http://x.gov.cn/big", response_body=os.urandom(4000))
    )
    writer.write_metadata(pointer.record_id, "http://x.gov.cn/report",
                          {"portal": "gd-001", "role": "report", "depth": 3})
    writer.close()
    assert len(writer.files) == 2
    by_url = {e.url: e for e in iter_archive([str(writer.crawl_dir / "*.warc.gz")])}
    assert by_url["http://x.gov.cn/report"].metadata == {
        "portal": "gd-001", "role": "report", "depth": "3"
    }
    assert by_url["http://x.gov.cn/big"].metadata == {}


def _three_files(make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]]
                 ) -> WarcWriter:
    writer = make_writer(max_size=1, dedup=False)  # one pair per file
    for n in range(3):
        writer.write_exchange(**sample_exchange(url=f"http://x.gov.cn/{n}",
                                                response_body=bytes([n]) * 2000))
    writer.close()
    return writer


def test_flipped_byte_in_a_middle_record_skips_only_that_record(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]]
) -> None:
    writer = make_writer(dedup=False)
    pointers = [
        writer.write_exchange(**sample_exchange(url=f"http://x.gov.cn/{n}",
                                                response_body=bytes([n]) * 2000))
        for n in range(5)
    ]
    writer.close()
    path = writer.files[0]
    data = bytearray(path.read_bytes())
    data[pointers[2].offset + pointers[2].length // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    seen: list[ReadError] = []
    stats = ReadStats()
    urls = [e.url for e in iter_archive([path], stats=stats, on_error=seen.append)]
    assert urls == ["http://x.gov.cn/0", "http://x.gov.cn/1", "http://x.gov.cn/3",
                    "http://x.gov.cn/4"]
    assert stats.damaged == 1 and seen == stats.errors
    assert seen[0].offset == pointers[2].offset and "corrupt gzip member" in seen[0].message


def test_truncated_file_does_not_stop_other_files(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]]
) -> None:
    writer = _three_files(make_writer, sample_exchange)
    first = writer.files[0]
    first.write_bytes(first.read_bytes()[:-300])  # cut into the first file's request record
    stats = ReadStats()
    urls = [e.url for e in iter_archive(writer.files, stats=stats)]
    assert urls == ["http://x.gov.cn/0", "http://x.gov.cn/1", "http://x.gov.cn/2"]
    assert stats.files == 3 and stats.damaged == 1 and stats.exchanges == 3
    assert "truncated" in stats.errors[0].message


def test_unresolvable_revisit_is_reported(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    writer = make_writer()
    writer.write_exchange(**sample_exchange(url="http://x.gov.cn/a.pdf", response_body=b"P" * 99))
    writer.write_exchange(**sample_exchange(url="http://x.gov.cn/b.pdf", response_body=b"P" * 99))
    writer.close()
    original = writer.files[0]
    (tmp_path / "digests.sqlite3").unlink()  # neither the file nor the store knows the original
    lonely = tmp_path / "elsewhere" / "crawl" / "x.warc.gz"
    lonely.parent.mkdir(parents=True)
    data = original.read_bytes()
    revisit_offset = next(e.location.offset for e in iter_archive([original]) if e.is_revisit)
    lonely.write_bytes(data[revisit_offset:])  # the revisit and its request only
    stats = ReadStats()
    exchanges = list(iter_archive([lonely], stats=stats))
    assert [e.is_revisit for e in exchanges] == [True]
    assert exchanges[0].body is None and stats.revisits_unresolved == 1
    assert "original not found" in stats.errors[0].message


def test_context_gives_metadata_written_into_a_later_file(
        make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]],
        monkeypatch: Any) -> None:
    """The live crawl writes a response's metadata after the spider saw it, so other exchanges
    and a rotation can come in between. A file replayed on its own (``gkcrawl replay --jobs N``
    splits a crawl by file) still gets it from ``context``, which is read only as far as needed."""
    from gkcrawl.archive import reader

    writer = make_writer(max_size=1)  # every exchange opens a new file
    urls = [f"http://www.example.gov.cn/{n}.html" for n in range(3)]
    ids = [writer.write_exchange(**sample_exchange(url=urls[0])).record_id,
           writer.write_exchange(**sample_exchange(url=urls[1])).record_id]
    writer.write_metadata(ids[0], urls[0], {"role": "report-0"})  # lands in the second file
    ids.append(writer.write_exchange(**sample_exchange(url=urls[2])).record_id)
    writer.write_metadata(ids[1], urls[1], {"role": "report-1"})  # in the third
    writer.write_metadata(ids[2], urls[2], {"role": "report-2"})
    writer.close()
    files = sorted(writer.crawl_dir.glob("*.warc.gz"))
    assert len(files) == 3
    assert [e.metadata for e in iter_archive([files[0]])] == [{}]  # not in its own file
    read: dict[str, int] = {}
    real = reader.iter_file

    def counting(path: Path, *part: Any) -> Any:
        for item in real(path, *part):
            read[path.name] = read.get(path.name, 0) + 1
            yield item

    monkeypatch.setattr(reader, "iter_file", counting)
    roles = [e.metadata.get("role") for f in files
             for e in iter_archive([f], context=[writer.crawl_dir])]
    assert roles == ["report-0", "report-1", "report-2"]
    read.clear()
    list(iter_archive([files[0]], context=[writer.crawl_dir]))
    assert files[2].name not in read  # found in the second file: the third is not opened


def test_one_pass_keeps_file_order_and_reads_again_past_the_memory_cap(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]], monkeypatch: Any
) -> None:
    """Exchanges wait for their metadata record in memory up to PENDING_BYTES; past it they
    wait as locations and are read again: the same exchanges, in file order, either way."""
    from gkcrawl.archive import reader

    writer = make_writer(dedup=False)
    urls = [f"http://www.example.gov.cn/{n}.html" for n in range(5)]
    ids = [writer.write_exchange(**sample_exchange(url=u, response_body=u.encode() * 50)).record_id
           for u in urls]
    # the metadata of the first exchange comes last
    for record_id, url in reversed(list(zip(ids, urls, strict=True))):
        writer.write_metadata(record_id, url, {"role": url[-6:]})
    writer.close()

    def read() -> list[tuple[str, bytes | None, str | None]]:
        return [(e.url, e.body, e.metadata.get("role")) for e in iter_archive([writer.crawl_dir])]

    in_memory = read()
    assert [u for u, _, _ in in_memory] == urls
    assert [r for _, _, r in in_memory] == [u[-6:] for u in urls]
    assert all(body == url.encode() * 50 for url, body, _ in in_memory)
    reads: list[int] = []
    real = reader.read_record_at
    monkeypatch.setattr(reader, "PENDING_BYTES", 4000)  # two exchanges of ~1.8 KB
    monkeypatch.setattr(reader, "read_record_at",
                        lambda path, offset: reads.append(offset) or real(path, offset))
    assert read() == in_memory
    assert 0 < len(reads) < len(urls)


def test_claim_reads_only_the_claimed_files_and_finds_metadata_in_the_others(
        make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]]) -> None:
    """Two replay processes share a crawl file by file (``claim``): each yields the exchanges of
    its own files, with the metadata records that a rotation put into a file the other took."""
    writer = make_writer(max_size=1)  # every exchange opens a new file
    urls = [f"http://www.example.gov.cn/{n}.html" for n in range(4)]
    ids = []
    for n, url in enumerate(urls):
        ids.append(writer.write_exchange(**sample_exchange(url=url)).record_id)
        if n:  # each exchange's metadata lands in the next exchange's file
            writer.write_metadata(ids[n - 1], urls[n - 1], {"role": f"report-{n - 1}"})
    writer.write_metadata(ids[-1], urls[-1], {"role": "report-3"})
    writer.close()
    files = sorted(writer.crawl_dir.glob("*.warc.gz"))
    assert len(files) == 4
    taken: set[Path] = set()

    def claimer(mine: set[int]) -> Callable[[Part], bool]:
        def claim(part: Part) -> bool:
            if files.index(part.path) in mine:
                taken.add(part.path)
                return True
            return False
        return claim

    first = [(e.url, e.metadata.get("role")) for e in iter_archive(files, claim=claimer({0, 2}))]
    second = [(e.url, e.metadata.get("role")) for e in iter_archive(files, claim=claimer({1, 3}))]
    assert first == [(urls[0], "report-0"), (urls[2], "report-2")]
    assert second == [(urls[1], "report-1"), (urls[3], "report-3")]
    assert taken == set(files)


def test_parts_of_a_file_give_every_exchange_once_to_one_of_the_processes(
        make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]]) -> None:
    """``gkcrawl replay --jobs N`` shares one large file by parts of ``part_bytes``: each part
    starts at the first gzip member at or after its offset, so every exchange is read once,
    with its metadata even when that record begins in a part the other process took."""
    writer = make_writer()  # one file
    urls = [f"http://www.example.gov.cn/{n}.html" for n in range(40)]
    for n, url in enumerate(urls):
        exchange = sample_exchange(url=url, response_body=url.encode() * 40)
        record_id = writer.write_exchange(**exchange).record_id
        writer.write_metadata(record_id, url, {"role": f"report-{n}"})
    writer.close()
    [path] = sorted(writer.crawl_dir.glob("*.warc.gz"))
    size = path.stat().st_size
    cut = parts([path], 997)  # an odd size: part boundaries fall inside members
    assert len(cut) > 10 and cut[0] == Part(path, 0, 997) and cut[-1].stop == size
    assert parts([path], size) == [Part(path)]
    got: dict[str, str | None] = {}
    for mine in (0, 1):
        for exchange in iter_archive([path], part_bytes=997,
                                     claim=lambda part, mine=mine: cut.index(part) % 2 == mine):
            assert exchange.url not in got
            got[exchange.url] = exchange.metadata.get("role")
    assert got == {url: f"report-{n}" for n, url in enumerate(urls)}


def test_records_larger_than_zlibs_feed_read_whole_and_damage_found_inside_them(
    make_writer: Factory, sample_exchange: Callable[..., dict[str, Any]]
) -> None:
    from gkcrawl.archive.framing import FEED

    bodies = [os.urandom(7 * FEED + 123), b"small", os.urandom(3 * FEED), os.urandom(5 * FEED)]
    writer = make_writer(dedup=False)
    pointers = [writer.write_exchange(**sample_exchange(url=f"http://x.gov.cn/{n}",
                                                        response_body=body))
                for n, body in enumerate(bodies)]
    writer.close()
    path = writer.files[0]
    read = {e.url: e for e in iter_archive([path])}
    assert [read[f"http://x.gov.cn/{n}"].body for n in range(4)] == bodies
    assert [(read[f"http://x.gov.cn/{n}"].location.offset,
             read[f"http://x.gov.cn/{n}"].location.length) for n in range(4)] == [
        (p.offset, p.length) for p in pointers]
    data = bytearray(path.read_bytes())
    data[pointers[2].offset + 2 * FEED + 7] ^= 0xFF  # in the big member's third slice
    cut = pointers[3].offset + 4 * FEED  # the file ends inside the last big member
    path.write_bytes(bytes(data[:cut]))
    stats = ReadStats()
    urls = [e.url for e in iter_archive([path], stats=stats)]
    assert urls == ["http://x.gov.cn/0", "http://x.gov.cn/1"]
    assert [e.offset for e in stats.errors] == [pointers[2].offset, pointers[3].offset]
    assert "corrupt gzip member" in stats.errors[0].message
    assert "truncated" in stats.errors[1].message


def test_an_uncompressed_warc_file_is_read_a_record_at_a_time(tmp_path: Path) -> None:
    """``.warc`` as other tools write it; a record cut short at the end is damage, counted."""
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from gkcrawl.archive.reader import load_response

    path = tmp_path / "other-tool.warc"
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=False)
        for n in range(4):
            head = StatusAndHeaders("200 OK", [("Content-Type", "text/html")],
                                    protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                f"http://a.gov.cn/{n}.html", "response", payload=BytesIO(b"<p>%d</p>" % n),
                http_headers=head))
    whole = path.read_bytes()
    stats = ReadStats()
    exchanges = list(iter_archive([tmp_path], stats=stats))
    assert [e.url for e in exchanges] == [f"http://a.gov.cn/{n}.html" for n in range(4)]
    assert load_response(exchanges[2].location).body == b"<p>2</p>"
    path.write_bytes(whole[:-40])  # the last record cut short
    stats = ReadStats()
    assert len(list(iter_archive([path], stats=stats))) == 3 and stats.damaged == 1
