"""WARC writer: byte-faithful request/response pairs, revisits, metadata, rotation, index.

Layout and conventions follow what Heritrix, warcprox and Browsertrix do (see
docs/research/warc-anchors.md): WARC/1.1, one gzip member per record, a ``warcinfo``
first in every file, ``.open`` while written and renamed on close, rotation checked before
each pair so a pair never straddles two files, and a new file (new serial and timestamp)
for every writer so nothing is ever appended to a file a crashed process left behind.
"""

from __future__ import annotations

import json
import os
import re
import socket
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from io import BytesIO
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO

from warcio.recordloader import ArcWarcRecord
from warcio.warcwriter import WARCWriter

from gkcrawl import __version__
from gkcrawl.archive.cdxj import INDEX_NAME, IndexJournal, cdxj_line, merge_into_index
from gkcrawl.archive.digests import DigestEntry, DigestStore, sha1_digest
from gkcrawl.archive.paths import OPEN_SUFFIX
from gkcrawl.archive.records import (
    HeaderPairs,
    build_request_head,
    build_response_head,
    warc_protocol,
)

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self needs Python 3.11

WARC_VERSION = "1.1"
DEFAULT_PREFIX = "gkcrawl"
DEFAULT_MAX_SIZE = 1_000_000_000
SOFTWARE = f"gkcrawl/{__version__}"
WARC_FORMAT = "WARC File Format 1.1"
WARC_CONFORMS_TO = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
METADATA_CONTENT_TYPE = "application/warc-fields"
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
    """WARC/1.1 date: UTC with microseconds."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def timestamp17(moment: datetime | None = None) -> str:
    """``YYYYmmddHHMMSSfff`` (UTC, milliseconds) as used in WARC file names."""
    moment = _utc(moment)
    return moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"


def new_record_id() -> str:
    """Random (uuid4) record id; uuid1 would leak the MAC address."""
    return f"<urn:uuid:{uuid.uuid4()}>"


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

        def build() -> list[ArcWarcRecord]:
            return self._pair_records(
                url=url, method=method, request_headers=request_headers,
                request_body=request_body, status=status, protocol=protocol,
                response_headers=response_headers, response_body=response_body,
                ip_address=ip_address, date=date, truncated=truncated_reason,
                payload_digest=payload_digest, original=original,
                response_id=response_id, request_id=request_id,
            )

        data, spans = self._serialize(build())
        if self._pairs_in_file and self._size + len(data) > self.max_size:
            self._finish_file()
            self._open_next_file()
            data, spans = self._serialize(build())  # new WARC-Warcinfo-ID
        assert self._final_path is not None
        final_path = self._final_path
        base = self._append(data)
        self._pairs_in_file += 1
        self.records_written += 2
        offset, length = base + spans[0][0], spans[0][1]
        filename = self._relative(final_path)
        if original is not None:
            self.revisits_written += 1
        content_type = next(
            (v for k, v in response_headers if k.lower() == b"content-type"), None
        )
        self._index(cdxj_line(
            url=url, warc_date=date, status=status, digest=payload_digest, offset=offset,
            length=length, filename=final_path.name, content_type=content_type,
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
    ) -> list[ArcWarcRecord]:
        common = {"WARC-Date": date, "WARC-Target-URI": url}
        if ip_address:
            common["WARC-IP-Address"] = ip_address
        common["WARC-Warcinfo-ID"] = self._warcinfo_id
        if proto := warc_protocol(protocol):
            common["WARC-Protocol"] = proto

        response_head = build_response_head(status, protocol, response_headers)
        response_fields = {"WARC-Type": "", "WARC-Record-ID": response_id, **common}
        if truncated:
            response_fields["WARC-Truncated"] = truncated
        if original is None:
            response_fields["WARC-Payload-Digest"] = payload_digest
            response_fields["WARC-Block-Digest"] = sha1_digest(
                response_head.headers_buff + response_body
            )
            response = self._builder.create_warc_record(
                url, "response", payload=BytesIO(response_body), length=len(response_body),
                http_headers=response_head, warc_headers_dict=response_fields,
            )
        else:
            response_fields["WARC-Refers-To"] = original.record_id
            response_fields["WARC-Block-Digest"] = sha1_digest(response_head.headers_buff)
            response = self._builder.create_revisit_record(
                url, payload_digest, original.uri, original.warc_date,
                http_headers=response_head, warc_headers_dict=response_fields,
            )

        request_head = build_request_head(
            method, url, protocol, request_headers, len(request_body)
        )
        request_fields = {
            "WARC-Type": "",
            "WARC-Record-ID": request_id,
            **common,
            "WARC-Concurrent-To": response_id,
            "WARC-Payload-Digest": sha1_digest(request_body),
            "WARC-Block-Digest": sha1_digest(request_head.headers_buff + request_body),
        }
        request = self._builder.create_warc_record(
            url, "request", payload=BytesIO(request_body), length=len(request_body),
            http_headers=request_head, warc_headers_dict=request_fields,
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
        record = self._builder.create_warc_record(
            target_uri, "metadata", payload=BytesIO(payload), length=len(payload),
            warc_content_type=METADATA_CONTENT_TYPE,
            warc_headers_dict={
                "WARC-Type": "",
                "WARC-Record-ID": record_id,
                "WARC-Date": warc_date(date),
                "WARC-Target-URI": target_uri,
                "WARC-Concurrent-To": concurrent_to,
                "WARC-Warcinfo-ID": self._warcinfo_id,
            },
        )
        data, spans = self._serialize([record])
        assert self._final_path is not None
        final_path = self._final_path
        offset = self._append(data)
        self.records_written += 1
        return WarcPointer(self._relative(final_path), offset, spans[0][1], record_id)

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
        if not name or any(c in name for c in ":\r\n"):
            raise ValueError(f"invalid warc-fields name {name!r}")
        if value is None:
            continue
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        text = " ".join(text.splitlines())
        lines.append(f"{name}: {text}\r\n")
    return "".join(lines).encode("utf-8")
