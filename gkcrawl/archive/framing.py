"""Low-level reading of ``.warc.gz`` files: gzip members and WARC record framing, as bytes.

warcio's ``ArchiveIterator`` silently stops at a truncated last gzip member (``warcio
check`` passes such a file) and gives up on the whole file at the first corrupt member.
This scanner walks the gzip members itself, so it can report exact member offsets and
lengths, flag a truncated or corrupt member, and resynchronise on the next intact member
so the rest of the file is still read.  Record and HTTP headers stay bytes until a caller
decides how to decode them.
"""

from __future__ import annotations

import mmap
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b\x08"
#: zlib window bits for "gzip wrapper only".
GZIP_WBITS = 16 + zlib.MAX_WBITS
READ_CHUNK = 1 << 20
#: Compressed bytes given to zlib at a time: at a member's end zlib copies what is left of them
#: (``unused_data``), so this stays near the size of a compressed record (a page is a few KB).
FEED = 1 << 12
#: Smaller reads for random access to one record (CDXJ offset lookups).
RANDOM_ACCESS_CHUNK = 1 << 16
WARC_MAGIC = b"WARC/"
RECORD_END = b"\r\n\r\n"
_HEAD_END = b"\r\n\r\n"
_CONTENT_LENGTH = re.compile(rb"\r\nContent-Length:[ \t]*(\d+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Member:
    """One gzip member: file offset and compressed length, decompressed data, any problem."""

    offset: int
    length: int
    data: bytes
    error: str | None = None
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class WarcRecord:
    """A WARC record with its headers decoded (UTF-8) and its block as raw bytes."""

    version: str
    headers: list[tuple[str, str]]
    block: bytes
    offset: int
    length: int
    records_in_member: int = 1

    def get(self, name: str) -> str | None:
        """First value of a WARC header, case-insensitively."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    @property
    def rec_type(self) -> str:
        return (self.get("WARC-Type") or "").lower()

    @property
    def record_id(self) -> str | None:
        return self.get("WARC-Record-ID")


@dataclass(frozen=True, slots=True)
class Damage:
    """A stretch of a file that could not be read as intact records."""

    offset: int
    length: int
    message: str
    truncated: bool = False


class FramingError(ValueError):
    """The decompressed member is not a well-framed WARC record."""


def _candidate_ok(fh: BinaryIO, offset: int) -> bool:
    """Does an intact gzip member decoding to ``WARC/...`` start here (a cut-off tail counts)?"""
    fh.seek(offset)
    inflater = zlib.decompressobj(wbits=GZIP_WBITS)
    head = b""
    try:
        while not inflater.eof:
            chunk = fh.read(READ_CHUNK)
            if not chunk:
                break
            out = inflater.decompress(chunk)
            if len(head) < len(WARC_MAGIC):
                head += out[: len(WARC_MAGIC)]
                if len(head) >= len(WARC_MAGIC) and not head.startswith(WARC_MAGIC):
                    return False
    except zlib.error:
        return False
    return head.startswith(WARC_MAGIC)


def _next_member_start(fh: BinaryIO, start: int) -> int | None:
    """Offset of the next intact-looking gzip member after ``start``."""
    search_from = start + 1
    overlap = len(GZIP_MAGIC) - 1
    while True:
        fh.seek(search_from)
        window = fh.read(READ_CHUNK)
        if len(window) < len(GZIP_MAGIC):
            return None
        index = window.find(GZIP_MAGIC)
        while index >= 0:
            candidate = search_from + index
            if _candidate_ok(fh, candidate):
                return candidate
            index = window.find(GZIP_MAGIC, index + 1)
        search_from += len(window) - overlap


def _starts_with_gzip(fh: BinaryIO) -> bool:
    fh.seek(0)
    return fh.read(len(GZIP_MAGIC)) == GZIP_MAGIC


def iter_members(fh: BinaryIO, chunk_size: int = READ_CHUNK) -> Iterator[Member]:
    """Yield every gzip member of a seekable binary file from its position, damaged ones too."""
    size = os.fstat(fh.fileno()).st_size
    pos = fh.tell()
    buffer, buffer_pos = memoryview(b""), pos  # bytes read from the file, from ``buffer_pos``
    while True:
        start = pos
        inflater = zlib.decompressobj(wbits=GZIP_WBITS)
        # the decompressed pieces, joined once at the end
        pieces: list[bytes] = []
        error: str | None = None
        while not inflater.eof:
            at = pos - buffer_pos
            if at >= len(buffer):
                fh.seek(pos)
                buffer, buffer_pos, at = memoryview(fh.read(chunk_size)), pos, 0
                if not buffer:
                    break
            # a slice at a time (FEED): zlib copies the rest of what it was given past a
            # member's end, and the rest of a whole read copied for every member of a few KB
            # would cost more than decompressing them
            chunk = buffer[at:at + FEED]
            try:
                pieces.append(inflater.decompress(chunk))
            except zlib.error as exc:
                error = str(exc)
                break
            pos += len(chunk)
        out = b"".join(pieces)
        if inflater.eof:
            pos -= len(inflater.unused_data)
            yield Member(start, pos - start, out)
            continue
        if error is None:
            if pos == start:  # the end of the file, between members
                return
            yield Member(start, pos - start, out,
                         "truncated gzip member (unexpected end of file)", truncated=True)
            return
        if start == 0 and not _starts_with_gzip(fh):
            error = "not gzip-compressed (expected one gzip member per record)"
        following = _next_member_start(fh, start)
        end = size if following is None else following
        yield Member(start, end - start, out, f"corrupt gzip member: {error}")
        if following is None:
            return
        pos = following


def parse_records(data: bytes, offset: int, length: int) -> list[WarcRecord]:
    """Split one member's decompressed bytes into WARC records; raise ``FramingError``."""
    records: list[tuple[str, list[tuple[str, str]], bytes]] = []
    pos = 0
    while pos < len(data):
        if not data.startswith(WARC_MAGIC, pos):
            where = "start of record" if not records else "after a record"
            raise FramingError(f"no WARC/ version line at {where}")
        end = data.find(_HEAD_END, pos)
        if end < 0:
            raise FramingError("WARC headers not terminated by an empty line")
        lines = data[pos:end].decode("utf-8", "replace").split("\r\n")
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise FramingError(f"malformed WARC header line {line[:80]!r}")
            headers.append((name.strip(), value.strip()))
        declared = next((v for k, v in headers if k.lower() == "content-length"), None)
        if declared is None or not declared.isdigit():
            raise FramingError(f"missing or invalid Content-Length: {declared!r}")
        block_start = end + len(_HEAD_END)
        block_end = block_start + int(declared)
        if block_end > len(data):
            raise FramingError(
                f"block shorter than Content-Length ({len(data) - block_start} < {declared})"
            )
        if not data.startswith(RECORD_END, block_end):
            raise FramingError("record not followed by CRLF CRLF (Content-Length wrong?)")
        records.append((lines[0].strip(), headers, data[block_start:block_end]))
        pos = block_end + len(RECORD_END)
    if not records:
        raise FramingError("empty gzip member")
    return [
        WarcRecord(version, headers, block, offset, length, len(records))
        for version, headers, block in records
    ]


def iter_file(path: str | Path, start: int = 0,
              stop: int | None = None) -> Iterator[WarcRecord | Damage]:
    """Records of one file in order; unreadable stretches come out as ``Damage``.

    A ``.warc.gz`` file is read a gzip member at a time; an uncompressed ``.warc`` file (as
    other tools write them) a record at a time, by its Content-Length. With ``start``/``stop``,
    only the gzip members that begin in ``[start, stop)``: a part of the file, whose first
    member is found as damage recovery finds the next member. Parts that meet end to end give
    every member once (an uncompressed file is read whole)."""
    with open(path, "rb") as fh:
        if is_plain(fh):
            if not start:
                yield from _plain_records(fh)
            return
        if start:
            first = _next_member_start(fh, start - 1)
            if first is None:
                return
            fh.seek(first)
        for member in iter_members(fh):
            if stop is not None and member.offset >= stop:
                return
            if member.error is not None:
                yield Damage(member.offset, member.length, member.error, member.truncated)
                continue
            try:
                records = parse_records(member.data, member.offset, member.length)
            except FramingError as exc:
                yield Damage(member.offset, member.length, f"bad record framing: {exc}")
                continue
            yield from records


def is_plain(fh: BinaryIO) -> bool:
    """An uncompressed WARC file: it starts with a version line, not a gzip member."""
    fh.seek(0)
    plain = fh.read(len(WARC_MAGIC)) == WARC_MAGIC
    fh.seek(0)
    return plain


def _plain_end(data: bytes | mmap.mmap, pos: int) -> int:
    """Where the uncompressed record starting at ``pos`` ends (after its CRLF CRLF)."""
    head_end = data.find(_HEAD_END, pos)
    if head_end < 0:
        raise FramingError("WARC headers not terminated by an empty line")
    declared = _CONTENT_LENGTH.search(bytes(data[pos:head_end]))
    if declared is None:
        raise FramingError("missing or invalid Content-Length")
    return head_end + len(_HEAD_END) + int(declared.group(1)) + len(RECORD_END)


def _plain_records(fh: BinaryIO) -> Iterator[WarcRecord | Damage]:
    """The records of an uncompressed WARC file; a stretch that does not frame is ``Damage``,
    and reading goes on at the next version line."""
    size = os.fstat(fh.fileno()).st_size
    if not size:
        return
    with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        pos = 0
        while pos < size:
            try:
                end = _plain_end(data, pos)
                if end > size:
                    raise FramingError("record cut short (unexpected end of file)")
                yield from parse_records(bytes(data[pos:end]), pos, end - pos)
            except FramingError as exc:
                following = data.find(b"\r\n" + WARC_MAGIC, pos + 1)
                end = size if following < 0 else following + 2
                yield Damage(pos, end - pos, f"bad record framing: {exc}",
                             truncated=following < 0)
            pos = end


def read_record_at(path: str | Path, offset: int) -> WarcRecord:
    """The (first) record of the gzip member at ``offset`` (the record itself in an
    uncompressed file); raise on any damage."""
    with open(path, "rb") as fh:
        if is_plain(fh):
            fh.seek(offset)
            head = fh.read(RANDOM_ACCESS_CHUNK)
            end = _plain_end(head, 0)
            fh.seek(offset)
            return parse_records(fh.read(end), offset, end)[0]
        fh.seek(offset)
        member = next(iter_members(fh, RANDOM_ACCESS_CHUNK), None)
    if member is None:
        raise FramingError(f"{path}: no gzip member at offset {offset}")
    if member.error:
        raise FramingError(f"{path} offset {offset}: {member.error}")
    return parse_records(member.data, member.offset, member.length)[0]
