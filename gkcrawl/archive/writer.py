"""WARC writer: byte-faithful request/response pairs, revisits, metadata, rotation, index.

Layout and conventions follow what Heritrix, warcprox and Browsertrix do (see
docs/research/warc-anchors.md): WARC/1.1, one gzip member per record, a ``warcinfo``
first in every file, ``.open`` while written and renamed on close, rotation checked before
each pair so a pair never straddles two files, and a new file (new serial and timestamp)
for every writer so nothing is ever appended to a file a crashed process left behind.

Request, response, revisit and metadata records are formatted here, not by warcio's record
builder: the records are the same as warcio's, byte for byte once decompressed (a test compares
them), at a fraction of the CPU time, which matters because archiving must cost at most 15% of
the crawl's speed. warcio still builds the warcinfo record (one per file).
"""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Self

import deflate
from warcio.recordloader import ArcWarcRecord
from warcio.warcwriter import WARCWriter

from gkcrawl import __version__
from gkcrawl.archive.cdxj import INDEX_NAME, IndexJournal, cdxj_line, merge_into_index
from gkcrawl.archive.digests import EMPTY_SHA1, DigestEntry, DigestStore, sha1_digest
from gkcrawl.archive.paths import OPEN_SUFFIX
from gkcrawl.archive.records import HeaderPairs, request_head, response_head, warc_protocol

WARC_VERSION = "1.1"
DEFAULT_PREFIX = "gkcrawl"
DEFAULT_MAX_SIZE = 1_000_000_000
SOFTWARE = f"gkcrawl/{__version__}"
WARC_FORMAT = "WARC File Format 1.1"
WARC_CONFORMS_TO = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
METADATA_CONTENT_TYPE = "application/warc-fields"
RESPONSE_CONTENT_TYPE = "application/http; msgtype=response"
REQUEST_CONTENT_TYPE = "application/http; msgtype=request"
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
#: The fastest level (warcio uses zlib's 9): on records of a few KB, zlib's level 9 cost about a
#: quarter of the archive's CPU per page (bench/crawl.py) for files about 5% smaller. Every record
#: is its own gzip member.
GZIP_LEVEL = 1
#: The deflate implementation: libdeflate (``deflate`` on PyPI), which writes a whole gzip member
#: in one call. On the bench's records its level 1 takes 16.5 µs against 36.7 for the standard
#: library's zlib at level 1, and its output is smaller, not larger (0.392 of the record against
#: 0.397); in the crawl the archive's own CPU fell from 0.38-0.40 to 0.34 ms a page
#: (docs/benchmarks.md, tenth session). Two faster deflates were tried before and dropped:
#: ISA-L's made whole crawls slower (fourth session), zlib-ng's level 1 made records 18% larger
#: (eighth session).
DEFLATE = "libdeflate"
_compress = deflate.gzip_compress
_VERSION_LINE = f"WARC/{WARC_VERSION}\r\n"
_RECORD_END = b"\r\n\r\n"
#: Lines of a record's head besides its named headers: version, Content-Type, -Length, blank.
_OWN_LINES = 4
UUID_BYTES = 16
#: A record's WARC headers, in order (Content-Type and Content-Length are added last).
WarcHeaders = list[tuple[str, str]]
#: Captures the writer's own digest store writes per transaction (see DigestStore).
DIGEST_BATCH = 64
#: ``WARC-Truncated`` value when the caller only says "truncated" without a reason.
TRUNCATED_UNSPECIFIED = "unspecified"
_SERIAL_RE = r"-\d{17}-(\d{5})-.*\.warc\.gz(?:\.open)?$"
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]")


def _utc(moment: datetime | None) -> datetime:
    """``moment`` in UTC (naive datetimes are taken as UTC already); now if None."""
    if moment is None:
        return datetime.now(timezone.utc)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def warc_date(moment: datetime | None = None) -> str:
    """WARC/1.1 date: UTC with microseconds (formatted by hand: ``strftime`` costs more, twice
    per archived exchange)."""
    m = _utc(moment)
    return (f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:"
            f"{m.second:02d}.{m.microsecond:06d}Z")


def timestamp17(moment: datetime | None = None) -> str:
    """``YYYYmmddHHMMSSfff`` (UTC, milliseconds) as used in WARC file names."""
    moment = _utc(moment)
    return moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"


def new_record_id() -> str:
    """Random (uuid4) record id; uuid1 would leak the MAC address. Formatted from the random
    bytes directly: ``uuid.uuid4()`` costs more, three times per archived exchange."""
    raw = bytearray(os.urandom(UUID_BYTES))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    h = raw.hex()
    return f"<urn:uuid:{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}>"


@dataclass(frozen=True, slots=True)
class WarcPointer:
    """Where a record landed; ``filename`` is relative to the archive root."""

    filename: str
    offset: int
    length: int
    record_id: str
    digest: str = ""
    is_revisit: bool = False
    request_record_id: str | None = None
    #: for a revisit: the original capture (its location, URI and date)
    original: DigestEntry | None = None
    #: the record's WARC-Date (when the exchange happened)
    date: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form, for ``request.meta["warc"]`` and items (``asdict`` would
        deep-copy every field of these immutable values, for every exchange)."""
        out = {name: getattr(self, name) for name in _POINTER_FIELDS}
        if self.original is not None:
            out["original"] = {name: getattr(self.original, name) for name in _ENTRY_FIELDS}
        return out


_POINTER_FIELDS = tuple(f.name for f in dataclass_fields(WarcPointer))
_ENTRY_FIELDS = tuple(f.name for f in dataclass_fields(DigestEntry))


class WarcWriter:
    """Writes WARC files for one crawl under ``<archive_root>/<crawl_id>/``.

    Raises on every failure; a failed pair write is rolled back (file truncated to where the
    pair began) so the file stays valid.
    """

    def __init__(
        self,
        archive_root: str | Path,
        crawl_id: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        max_size: int = DEFAULT_MAX_SIZE,
        warcinfo: Mapping[str, object] | None = None,
        digest_store: DigestStore | None = None,
        dedup: bool = True,
        hostname: str | None = None,
    ) -> None:
        if not crawl_id or "/" in crawl_id or crawl_id in {".", ".."}:
            raise ValueError(f"invalid crawl id {crawl_id!r}")
        self.archive_root = Path(archive_root)
        self.crawl_id = crawl_id
        self.crawl_dir = self.archive_root / crawl_id
        self.crawl_dir.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self.max_size = max_size
        self.hostname = hostname or socket.gethostname()
        self._name_host = _UNSAFE_IN_NAME.sub("_", self.hostname)
        self._warcinfo_fields = dict(warcinfo or {})
        self._owns_store = dedup and digest_store is None
        self.digest_store: DigestStore | None = None
        if dedup:
            self.digest_store = digest_store or DigestStore.in_archive(
                self.archive_root, batch=DIGEST_BATCH)
        self._builder = WARCWriter(None, gzip=True, warc_version=WARC_VERSION)
        self._serial = self._next_free_serial()
        self._fh: BinaryIO | None = None
        self._open_path: Path | None = None
        self._final_path: Path | None = None
        #: the current file's final name, and that name relative to the archive root
        self._final_name = self._final_relative = ""
        self._warcinfo_id = ""
        self._size = 0
        self._pairs_in_file = 0
        self._journal: IndexJournal | None = None
        self._closed = False
        self.files: list[Path] = []  #: final paths of every file this writer created
        self.records_written = 0
        self.revisits_written = 0
        self.bytes_written = 0

    # -- file management ------------------------------------------------------------------

    def _next_free_serial(self) -> int:
        pattern = re.compile(re.escape(self.prefix) + _SERIAL_RE)
        serials = [
            int(m.group(1)) for name in os.listdir(self.crawl_dir) if (m := pattern.match(name))
        ]
        return max(serials, default=-1) + 1

    @property
    def current_file(self) -> Path | None:
        """The ``.open`` file being written, if any."""
        return self._open_path

    def _open_next_file(self) -> None:
        while True:
            name = (
                f"{self.prefix}-{timestamp17()}-{self._serial:05d}-{self._name_host}.warc.gz"
            )
            final_path = self.crawl_dir / name
            open_path = self.crawl_dir / (name + OPEN_SUFFIX)
            self._serial += 1
            if final_path.exists():
                continue
            try:
                self._fh = open(open_path, "xb")  # noqa: SIM115 - closed in _finish_file
            except FileExistsError:  # another writer raced us to this serial
                continue
            break
        self._open_path, self._final_path = open_path, final_path
        self._final_name, self._final_relative = name, self._relative(final_path)
        self._size = self._pairs_in_file = 0
        self.files.append(final_path)
        record = self._builder.create_warcinfo_record(name, self._warcinfo_payload())
        self._warcinfo_id = record.rec_headers.get_header("WARC-Record-ID")
        data, _ = self._serialize([record])
        self._append(data)

    def _warcinfo_payload(self) -> dict[str, object]:
        info: dict[str, object] = {
            "software": SOFTWARE,
            "format": WARC_FORMAT,
            "conformsTo": WARC_CONFORMS_TO,
            "isPartOf": self.crawl_id,
            "hostname": self.hostname,
        }
        info.update(self._warcinfo_fields)
        return info

    def _finish_file(self) -> None:
        """Flush, fsync, close and rename ``.open`` to the final name."""
        fh, open_path, final_path = self._fh, self._open_path, self._final_path
        self._fh = self._open_path = self._final_path = None
        if fh is None or open_path is None or final_path is None:
            return
        try:
            fh.flush()
            os.fsync(fh.fileno())
        finally:
            fh.close()
        os.rename(open_path, final_path)

    def _relative(self, path: Path) -> str:
        return f"{self.crawl_id}/{path.name}"

    # -- serialisation --------------------------------------------------------------------

    @staticmethod
    def _serialize(records: list[ArcWarcRecord]) -> tuple[bytes, list[tuple[int, int]]]:
        """gzip members for ``records`` and each one's (offset, length) inside the result."""
        buffer = BytesIO()
        out = WARCWriter(buffer, gzip=True, warc_version=WARC_VERSION)
        spans = []
        for record in records:
            start = buffer.tell()
            out.write_record(record)
            spans.append((start, buffer.tell() - start))
        return buffer.getvalue(), spans

    @staticmethod
    def _record(headers: WarcHeaders, content_type: str, *blocks: bytes) -> bytes:
        """One uncompressed WARC record, as warcio's writer lays it out: the named headers, then
        Content-Type and Content-Length, a blank line, the block, two CRLFs."""
        length = sum(len(block) for block in blocks)
        head = "".join([_VERSION_LINE, *[f"{name}: {value}\r\n" for name, value in headers],
                        f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n\r\n"])
        # the version line, each header, the two added and the blank line end in our CRLFs: any
        # other CR or LF came in a value (a URL) and would break the record's framing
        lines = len(headers) + _OWN_LINES
        if head.count("\r") != lines or head.count("\n") != lines:
            bad = next((h for h in headers if "\r" in h[1] or "\n" in h[1]), headers[0])
            raise ValueError(f"invalid WARC header {bad[0]}: {bad[1]!r}")
        return b"".join([head.encode("utf-8"), *blocks, _RECORD_END])

    @staticmethod
    def _gzip(records: list[bytes]) -> tuple[bytes, list[tuple[int, int]]]:
        """One gzip member per record, concatenated, and each one's (offset, length)."""
        members = [_compress(record, GZIP_LEVEL) for record in records]
        spans, start = [], 0
        for member in members:
            spans.append((start, len(member)))
            start += len(member)
        return b"".join(members), spans

    def _append(self, data: bytes) -> int:
        """Write at the end of the current file; undo a partial write before re-raising."""
        if self._fh is None:
            raise RuntimeError("no WARC file open")
        start = self._size
        try:
            self._fh.write(data)
            self._fh.flush()
        except BaseException:
            self._rollback(start)
            raise
        self._size = start + len(data)
        self.bytes_written += len(data)
        return start

    def _rollback(self, start: int) -> None:
        fh = self._fh
        assert fh is not None
        try:
            fh.seek(start)
            fh.truncate(start)
        except OSError:
            # cannot repair: abandon this file as .open (verify will flag it) and move on
            if self._final_path in self.files:
                self.files.remove(self._final_path)
            self._fh = self._open_path = self._final_path = None
            fh.close()

    def _ensure_file(self) -> None:
        if self._closed:
            raise RuntimeError("WarcWriter is closed")
        if self._fh is None:
            self._open_next_file()

    # -- public API -----------------------------------------------------------------------

    def write_exchange(
        self,
        *,
        url: str,
        method: str = "GET",
        request_headers: HeaderPairs = (),
        request_body: bytes = b"",
        status: int,
        protocol: str | None = None,
        response_headers: HeaderPairs = (),
        response_body: bytes = b"",
        ip_address: str | None = None,
        fetch_date: datetime | None = None,
        truncated: bool | str | None = None,
    ) -> WarcPointer:
        """Write a response (or revisit) record and its request record, as one unit.

        ``response_body`` must be the body as received: still content-encoded, no chunking.
        ``truncated`` is True or a ``WARC-Truncated`` reason ("length", "disconnect"...).
        """
        self._ensure_file()
        date = warc_date(fetch_date)
        truncated_reason = TRUNCATED_UNSPECIFIED if truncated is True else (truncated or None)
        payload_digest = sha1_digest(response_body)
        store = self.digest_store
        dedupable = bool(response_body) and not truncated_reason and store is not None
        original = store.lookup(payload_digest) if store is not None and dedupable else None
        response_id, request_id = new_record_id(), new_record_id()

        pair = dict(
            url=url, method=method, request_headers=request_headers,
            request_body=request_body, status=status, protocol=protocol,
            response_headers=response_headers, response_body=response_body,
            ip_address=ip_address, date=date, truncated=truncated_reason,
            payload_digest=payload_digest, original=original,
            response_id=response_id, request_id=request_id,
        )
        data, spans = self._gzip(self._pair_records(**pair))
        if self._pairs_in_file and self._size + len(data) > self.max_size:
            self._finish_file()
            self._open_next_file()
            data, spans = self._gzip(self._pair_records(**pair))  # new WARC-Warcinfo-ID
        assert self._final_path is not None
        name, filename = self._final_name, self._final_relative
        base = self._append(data)
        self._pairs_in_file += 1
        self.records_written += 2
        offset, length = base + spans[0][0], spans[0][1]
        if original is not None:
            self.revisits_written += 1
        content_type = next(
            (v for k, v in response_headers if k.lower() == b"content-type"), None
        )
        self._index(cdxj_line(
            url=url, warc_date=date, status=status, digest=payload_digest, offset=offset,
            length=length, filename=name, content_type=content_type,
            is_revisit=original is not None,
        ))
        if store is not None and dedupable and original is None:
            store.add(
                payload_digest,
                DigestEntry(url, date, response_id, filename, offset, length),
            )
        return WarcPointer(
            filename=filename, offset=offset, length=length, record_id=response_id,
            digest=payload_digest, is_revisit=original is not None,
            request_record_id=request_id, original=original, date=date,
        )

    def _pair_records(
        self,
        *,
        url: str,
        method: str,
        request_headers: HeaderPairs,
        request_body: bytes,
        status: int,
        protocol: str | None,
        response_headers: HeaderPairs,
        response_body: bytes,
        ip_address: str | None,
        date: str,
        truncated: str | None,
        payload_digest: str,
        original: DigestEntry | None,
        response_id: str,
        request_id: str,
    ) -> list[bytes]:
        """The response (or revisit) record and its request record, uncompressed."""
        common: WarcHeaders = [("WARC-Date", date), ("WARC-Target-URI", url)]
        if ip_address:
            common.append(("WARC-IP-Address", ip_address))
        common.append(("WARC-Warcinfo-ID", self._warcinfo_id))
        if proto := warc_protocol(protocol):
            common.append(("WARC-Protocol", proto))

        response_block_head = response_head(status, protocol, response_headers)
        response_type = "response" if original is None else "revisit"
        warc_headers = [("WARC-Type", response_type), ("WARC-Record-ID", response_id), *common]
        if truncated:
            warc_headers.append(("WARC-Truncated", truncated))
        if original is None:
            block_digest = sha1_digest(response_block_head, response_body)
            warc_headers += [("WARC-Payload-Digest", payload_digest),
                             ("WARC-Block-Digest", block_digest)]
            response = self._record(warc_headers, RESPONSE_CONTENT_TYPE, response_block_head,
                                    response_body)
        else:
            warc_headers += [("WARC-Refers-To", original.record_id),
                             ("WARC-Block-Digest", sha1_digest(response_block_head)),
                             ("WARC-Profile", REVISIT_PROFILE),
                             ("WARC-Refers-To-Target-URI", original.uri),
                             ("WARC-Refers-To-Date", original.warc_date),
                             ("WARC-Payload-Digest", payload_digest)]
            response = self._record(warc_headers, RESPONSE_CONTENT_TYPE, response_block_head)

        request_block_head = request_head(method, url, protocol, request_headers,
                                          len(request_body))
        request = self._record(
            [("WARC-Type", "request"), ("WARC-Record-ID", request_id), *common,
             ("WARC-Concurrent-To", response_id),
             ("WARC-Payload-Digest", sha1_digest(request_body) if request_body else EMPTY_SHA1),
             ("WARC-Block-Digest", sha1_digest(request_block_head, request_body))],
            REQUEST_CONTENT_TYPE, request_block_head, request_body,
        )
        return [response, request]

    def write_metadata(
        self,
        concurrent_to: str,
        target_uri: str,
        fields: Mapping[str, object],
        *,
        date: datetime | None = None,
    ) -> WarcPointer:
        """A ``metadata`` record (``application/warc-fields``) about an archived response.

        Values that are not strings are written as JSON; line breaks become spaces.
        Metadata never triggers rotation, so it may sit after its response in the same file.
        """
        self._ensure_file()
        payload = encode_warc_fields(fields)
        record_id = new_record_id()
        digest = sha1_digest(payload)
        record = self._record(
            [("WARC-Type", "metadata"), ("WARC-Record-ID", record_id),
             ("WARC-Date", warc_date(date)), ("WARC-Target-URI", target_uri),
             ("WARC-Concurrent-To", concurrent_to), ("WARC-Warcinfo-ID", self._warcinfo_id),
             ("WARC-Payload-Digest", digest), ("WARC-Block-Digest", digest)],
            METADATA_CONTENT_TYPE, payload,
        )
        data, spans = self._gzip([record])
        assert self._final_path is not None
        filename = self._final_relative
        offset = self._append(data)
        self.records_written += 1
        return WarcPointer(filename, offset, spans[0][1], record_id)

    def _index(self, line: str) -> None:
        if self._journal is None:
            journal_path = self.crawl_dir / f".{INDEX_NAME}.{timestamp17()}-{os.getpid()}.part"
            self._journal = IndexJournal(journal_path)
        self._journal.append([line])

    def close(self) -> None:
        """Finish the current file, merge the index, release the store; idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self._finish_file()
            if self._journal is not None:
                self._journal.close()
                merge_into_index(self.crawl_dir / INDEX_NAME, self._journal.path)
        finally:
            if self._owns_store and self.digest_store is not None:
                self.digest_store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def encode_warc_fields(fields: Mapping[str, object]) -> bytes:
    """``name: value`` lines (UTF-8) for an ``application/warc-fields`` block."""
    lines = []
    for name, value in fields.items():
        if not name or ":" in name or "\r" in name or "\n" in name:
            raise ValueError(f"invalid warc-fields name {name!r}")
        if value is None:
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        text = " ".join(text.splitlines())
        lines.append(f"{name}: {text}\r\n")
    return "".join(lines).encode("utf-8")
