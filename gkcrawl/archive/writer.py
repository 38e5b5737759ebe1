"""WARC writer: byte-faithful request/response pairs, revisits, metadata, rotation, index.

Layout and conventions follow what Heritrix, warcprox and Browsertrix do: WARC/1.1, one gzip
member per record, a ``warcinfo`` first in every file, ``.open`` while written and renamed on
close, rotation checked before each pair so a pair never straddles two files, and a new file
(new serial and timestamp) for every writer so nothing is ever appended to a file a crashed
process left behind.  warcio builds, digests and compresses the records; the HTTP heads are
handed to it as raw bytes (:class:`~gkcrawl.archive.records.RawHttpHeaders`).
"""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Self

from warcio.recordloader import ArcWarcRecord
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from gkcrawl import __version__
from gkcrawl.archive.cdxj import INDEX_NAME, IndexJournal, cdxj_line, merge_into_index
from gkcrawl.archive.config import WARC_MAX_SIZE, WARC_PREFIX, check_crawl_id
from gkcrawl.archive.digests import DigestEntry, DigestStore, sha1_digest
from gkcrawl.archive.paths import OPEN_SUFFIX
from gkcrawl.archive.records import HeaderPairs, request_head, response_head
from gkcrawl.archive.recover import lock_exclusively, recover

WARC_VERSION = "1.1"
SOFTWARE = f"gkcrawl/{__version__}"
WARC_FORMAT = "WARC File Format 1.1"
WARC_CONFORMS_TO = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
#: ``WARC-Truncated`` value when the caller only says "truncated" without a reason.
TRUNCATED_UNSPECIFIED = "unspecified"
_SERIAL_RE = r"-\d{17}-(\d{5})-.*\.warc\.gz(?:\.open)?$"
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]")


def _utc(moment: datetime | None) -> datetime:
    """``moment`` in UTC (naive datetimes are taken as UTC already); now if None."""
    if moment is None:
        return datetime.now(UTC)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def warc_date(moment: datetime | None = None) -> str:
    """WARC/1.1 date: UTC with microseconds, as warcio writes it."""
    date: str = datetime_to_iso_date(_utc(moment).replace(tzinfo=None), use_micros=True)
    return date


def timestamp17(moment: datetime | None = None) -> str:
    """``YYYYmmddHHMMSSfff`` (UTC, milliseconds) as used in WARC file names."""
    return _utc(moment).strftime("%Y%m%d%H%M%S%f")[:17]


def _one_line(name: str, value: str) -> str:
    """A WARC header value: a CR or LF in it (in a URL) would break the record's framing."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"invalid WARC header {name}: {value!r}")
    return value


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
        """Plain JSON-able form, for ``request.meta["warc"]`` and items."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Exchange:
    """A request and its response as fetched: what :meth:`WarcWriter.write_exchange` archives,
    in one value (a fetch made outside Scrapy's downloader is handed over as one)."""

    url: str
    status: int
    method: str = "GET"
    request_headers: HeaderPairs = ()
    request_body: bytes = b""
    protocol: str | None = None
    response_headers: HeaderPairs = ()
    response_body: bytes = b""
    ip_address: str | None = None
    fetch_date: datetime | None = None
    truncated: bool | str | None = None

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of :meth:`WarcWriter.write_exchange`."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


class WarcWriter:
    """Writes WARC files for one crawl under ``<archive_root>/<crawl_id>/``.

    Raises on every failure; a failed write is rolled back (file truncated to where the
    records began) so the file stays valid.
    """

    def __init__(
        self,
        archive_root: str | Path,
        crawl_id: str,
        *,
        prefix: str = WARC_PREFIX,
        max_size: int = WARC_MAX_SIZE,
        warcinfo: Mapping[str, object] | None = None,
        digest_store: DigestStore | None = None,
        dedup: bool = True,
        hostname: str | None = None,
    ) -> None:
        check_crawl_id(crawl_id)
        self.archive_root = Path(archive_root)
        self.crawl_id = crawl_id
        self.crawl_dir = self.archive_root / crawl_id
        self.crawl_dir.mkdir(parents=True, exist_ok=True)
        recover(self.crawl_dir)  # what a killed writer of this crawl left, closed first
        self.prefix = prefix
        self.max_size = max_size
        self.hostname = hostname or socket.gethostname()
        self._name_host = _UNSAFE_IN_NAME.sub("_", self.hostname)
        self._warcinfo_fields = dict(warcinfo or {})
        self._owns_store = dedup and digest_store is None
        self.digest_store: DigestStore | None = None
        if dedup:
            self.digest_store = digest_store or DigestStore.in_archive(self.archive_root)
        self._builder = WARCWriter(None, gzip=True, warc_version=WARC_VERSION)
        self._serial = self._next_free_serial()
        self._fh: BinaryIO | None = None
        self._open_path: Path | None = None
        self._final_path: Path | None = None
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
            name = f"{self.prefix}-{timestamp17()}-{self._serial:05d}-{self._name_host}.warc.gz"
            final_path = self.crawl_dir / name
            open_path = self.crawl_dir / (name + OPEN_SUFFIX)
            self._serial += 1
            if final_path.exists():
                continue
            try:
                self._fh = open(open_path, "xb")  # noqa: SIM115 - closed in _finish_file
            except FileExistsError:  # another writer raced us to this serial
                continue
            # held while the file is written: a file nobody holds is a killed writer's (recover)
            lock_exclusively(self._fh.fileno())
            break
        self._open_path, self._final_path = open_path, final_path
        self._size = self._pairs_in_file = 0
        self.files.append(final_path)
        record = self._builder.create_warcinfo_record(name, self._warcinfo_payload())
        self._warcinfo_id = _record_id(record)
        self._append(self._serialize([record])[0])

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

    def _current_name(self) -> str:
        """The current file's final name, relative to the archive root."""
        assert self._final_path is not None
        return f"{self.crawl_id}/{self._final_path.name}"

    # -- writing --------------------------------------------------------------------------

    @staticmethod
    def _serialize(records: list[ArcWarcRecord]) -> tuple[bytes, list[tuple[int, int]]]:
        """The records as gzip members, one each, and each one's (offset, length) in them."""
        buffer = BytesIO()
        out = WARCWriter(buffer, gzip=True, warc_version=WARC_VERSION)
        spans = []
        for record in records:
            start = buffer.tell()
            out.write_record(record)
            spans.append((start, buffer.tell() - start))
        return buffer.getvalue(), spans

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
        A body already archived (same payload digest, in the digest store) is written as a
        revisit record pointing at its first capture.
        """
        self._ensure_file()
        date = warc_date(fetch_date)
        reason = TRUNCATED_UNSPECIFIED if truncated is True else (truncated or None)
        digest = sha1_digest(response_body)
        store = self.digest_store
        dedupable = store is not None and bool(response_body) and not reason
        original = store.lookup(digest) if store is not None and dedupable else None
        response_http = response_head(status, protocol, response_headers)
        request_http = request_head(method, url, protocol, request_headers, len(request_body))
        common = {"WARC-Target-URI": _one_line("WARC-Target-URI", url), "WARC-Date": date,
                  "WARC-IP-Address": ip_address,
                  "WARC-Protocol": protocol.lower() if protocol else None}

        def build() -> list[ArcWarcRecord]:
            fields = {**common, "WARC-Warcinfo-ID": self._warcinfo_id}
            if original is None:
                response = self._builder.create_warc_record(
                    url, "response", payload=BytesIO(response_body), length=len(response_body),
                    http_headers=response_http,
                    warc_headers_dict=_present({"WARC-Type": "response", **fields,
                                                "WARC-Truncated": reason,
                                                "WARC-Payload-Digest": digest}))
            else:
                response = self._builder.create_revisit_record(
                    url, digest, original.uri, original.warc_date, http_headers=response_http,
                    warc_headers_dict=_present({"WARC-Type": "revisit", **fields,
                                                "WARC-Refers-To": original.record_id}))
            request = self._builder.create_warc_record(
                url, "request", payload=BytesIO(request_body), length=len(request_body),
                http_headers=request_http,
                warc_headers_dict=_present({"WARC-Type": "request", **fields,
                                            "WARC-Concurrent-To": _record_id(response)}))
            return [response, request]

        records = build()
        data, spans = self._serialize(records)
        if self._pairs_in_file and self._size + len(data) > self.max_size:
            self._finish_file()
            self._open_next_file()
            records = build()  # naming the new file's warcinfo record
            data, spans = self._serialize(records)
        base = self._append(data)
        self._pairs_in_file += 1
        self.records_written += len(records)

        response_id, filename = _record_id(records[0]), self._current_name()
        offset, length = base + spans[0][0], spans[0][1]
        content_type = next(
            (v for k, v in response_headers if k.lower() == b"content-type"), None
        )
        self._index(cdxj_line(
            url=url, warc_date=date, status=status, digest=digest, offset=offset,
            length=length, filename=filename.rpartition("/")[2], content_type=content_type,
            is_revisit=original is not None,
        ))
        if original is not None:
            self.revisits_written += 1
        elif store is not None and dedupable:
            store.add(digest, DigestEntry(url, date, response_id, filename, offset, length))
        return WarcPointer(
            filename=filename, offset=offset, length=length, record_id=response_id,
            digest=digest, is_revisit=original is not None,
            request_record_id=_record_id(records[1]), original=original, date=date,
        )

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
        return self._write_about("metadata", target_uri, encode_warc_fields(fields),
                                 {"WARC-Concurrent-To": concurrent_to}, date)

    def write_conversion(
        self,
        refers_to: str,
        target_uri: str,
        body: bytes,
        content_type: str,
        *,
        date: datetime | None = None,
    ) -> WarcPointer:
        """A ``conversion`` record: the content of an archived response in another form (a
        page as a browser rendered it, its DOM serialised), ``WARC-Refers-To`` that response.
        Like metadata, it never triggers rotation."""
        return self._write_about("conversion", target_uri, body,
                                 {"WARC-Refers-To": refers_to, "Content-Type": content_type},
                                 date)

    def _write_about(self, rec_type: str, target_uri: str, payload: bytes,
                     related: Mapping[str, str], date: datetime | None) -> WarcPointer:
        """A record about an archived response (``related`` names it), in the current file."""
        self._ensure_file()
        record = self._builder.create_warc_record(
            _one_line("WARC-Target-URI", target_uri), rec_type, payload=BytesIO(payload),
            length=len(payload),
            warc_headers_dict={"WARC-Type": rec_type, "WARC-Target-URI": target_uri,
                               "WARC-Date": warc_date(date), **related,
                               "WARC-Warcinfo-ID": self._warcinfo_id})
        data, spans = self._serialize([record])
        filename = self._current_name()
        offset = self._append(data)
        self.records_written += 1
        return WarcPointer(filename, offset, spans[0][1], _record_id(record))

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


def _record_id(record: ArcWarcRecord) -> str:
    return str(record.rec_headers.get_header("WARC-Record-ID"))


def _present(fields: Mapping[str, str | None]) -> dict[str, str]:
    """The WARC headers that have a value."""
    return {name: value for name, value in fields.items() if value}


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
