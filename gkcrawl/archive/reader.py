"""Read archived exchanges back for offline replay and re-parsing.

Headers come back as the raw byte pairs that were archived (warcio decodes them as UTF-8 or
Latin-1, which cannot be undone reliably for GBK values), bodies exactly as archived (still
content-encoded: let Scrapy's HttpCompressionMiddleware decode them as in the live crawl).
Revisits are resolved to the original payload, and each exchange carries the fields of its
``metadata`` record.  Damaged records are counted and reported, never fatal.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from gkcrawl.archive.digests import DIGEST_DB_NAME, DigestStore, digest_matches
from gkcrawl.archive.framing import Damage, FramingError, WarcRecord, iter_file, read_record_at
from gkcrawl.archive.paths import OPEN_SUFFIX, expand_warc_paths, is_open_file
from gkcrawl.archive.records import parse_http_head

HTTP_BLOCK_TYPE = "application/http"
EXCHANGE_TYPES = ("response", "revisit")
#: Bytes of exchanges waiting for their metadata record kept in memory; past this, an exchange
#: waits as its location and is read again when its turn comes (an archive without metadata
#: records, e.g. from another tool, is then read twice instead of held whole).
PENDING_BYTES = 64 << 20


@dataclass(frozen=True, slots=True)
class RecordLocation:
    """A record's gzip member: the file as found on disk, offset and compressed length."""

    path: Path
    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class ReadError:
    path: Path
    offset: int
    message: str


@dataclass
class ReadStats:
    """Counters filled while iterating; ``errors`` lists every problem met."""

    files: int = 0
    incomplete_files: int = 0
    records: int = 0
    exchanges: int = 0
    revisits_resolved: int = 0
    revisits_unresolved: int = 0
    damaged: int = 0
    errors: list[ReadError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ArchivedExchange:
    """One archived HTTP response (a revisit's body resolved from its original)."""

    url: str
    status: int
    protocol: str
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    #: as archived (content-encoded); None only for a revisit whose original was not found
    body: bytes | None
    warc_date: str
    record_id: str
    location: RecordLocation
    payload_digest: str | None
    ip_address: str | None
    warc_protocol: str | None
    truncated: str | None
    is_revisit: bool
    #: for a revisit: where the body was taken from
    original: RecordLocation | None
    metadata: dict[str, str]
    method: str | None
    request_headers: list[tuple[bytes, bytes]]
    #: the request's body as sent (a POST's form), empty for a GET
    request_body: bytes = b""


@dataclass
class _Catalogue:
    """What the first pass learns: metadata, requests and originals by id and digest."""

    metadata: dict[str, dict[str, str]] = field(default_factory=dict)
    requests: dict[str, tuple[str, list[tuple[bytes, bytes]], bytes]] = field(
        default_factory=dict)
    by_id: dict[str, RecordLocation] = field(default_factory=dict)
    by_digest: dict[str, RecordLocation] = field(default_factory=dict)


def parse_warc_fields(block: bytes) -> dict[str, str]:
    """``application/warc-fields`` → dict (a repeated name keeps its last value)."""
    fields: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip()] = value.strip()
    return fields


def _is_http(record: WarcRecord) -> bool:
    return (record.get("Content-Type") or "").startswith(HTTP_BLOCK_TYPE)


def _note(cat: _Catalogue, item: WarcRecord, path: Path) -> None:
    """What one record adds to the catalogue: its metadata fields, its request's method, headers
    and body, or its location as a possible original of later revisits."""
    concurrent_to = item.get("WARC-Concurrent-To")
    if item.rec_type == "metadata" and concurrent_to:
        cat.metadata.setdefault(concurrent_to, {}).update(parse_warc_fields(item.block))
    elif item.rec_type == "request" and concurrent_to and _is_http(item):
        head = parse_http_head(item.block)
        method = head.start_line.partition(b" ")[0].decode("ascii", "replace")
        cat.requests[concurrent_to] = (method, head.headers, item.block[head.body_offset:])
    elif item.rec_type == "response" and not item.get("WARC-Truncated"):
        location = RecordLocation(path, item.offset, item.length)
        if record_id := item.record_id:
            cat.by_id.setdefault(record_id, location)
        if digest := item.get("WARC-Payload-Digest"):
            cat.by_digest.setdefault(digest, location)


def _more_metadata(cat: _Catalogue, missing: set[str], more: Sequence[Part],
                   first: Path | None) -> None:
    """The metadata records of ``missing`` exchanges, from the files (or parts) ``more``.

    The live crawl writes a response's metadata record after the spider has seen the response,
    so other exchanges, and a rotation, may come in between: the record can land in a later
    file. ``more`` is read in order and only until every exchange has its metadata (reading all
    of it made each of N replay processes read the whole crawl)."""
    for path, start, stop in more:
        if not missing:
            break
        if first is not None and path < first:
            continue  # a metadata record never comes before its response
        for item in iter_file(path, start, stop):
            if isinstance(item, Damage) or item.rec_type != "metadata":
                continue
            concurrent_to = item.get("WARC-Concurrent-To")
            if concurrent_to in missing:
                cat.metadata.setdefault(concurrent_to, {}).update(parse_warc_fields(item.block))
                missing.discard(concurrent_to)
                if not missing:
                    break


class Part(NamedTuple):
    """Gzip members of ``path`` that begin in ``[start, stop)`` (``stop`` None: to the end)."""

    path: Path
    start: int = 0
    stop: int | None = None


def parts(files: Sequence[Path], part_bytes: int | None) -> list[Part]:
    """The files cut into parts of about ``part_bytes`` (whole files without it). A file still
    being written (``.open``) stays whole: its size, hence its parts, could differ between two
    readers."""
    out = []
    for path in files:
        if not part_bytes or is_open_file(path) or (size := path.stat().st_size) <= part_bytes:
            out.append(Part(path))
            continue
        out += [Part(path, start, min(start + part_bytes, size))
                for start in range(0, size, part_bytes)]
    return out


@dataclass(slots=True)
class _Pending:
    """An exchange read but not yet yielded: its metadata record comes after it."""

    location: RecordLocation
    record_id: str
    #: None once ``PENDING_BYTES`` are held: read again from ``location`` when its turn comes
    record: WarcRecord | None


class _RevisitResolver:
    """Finds a revisit's original: in the files being read, else through the DigestStore."""

    def __init__(
        self, cat: _Catalogue, store: DigestStore | None, archive_root: Path | None
    ) -> None:
        self._cat = cat
        self._store = store
        self._root = archive_root
        self._auto_stores: dict[Path, DigestStore | None] = {}

    def _store_for(self, path: Path) -> tuple[DigestStore, Path] | None:
        if self._store is not None:
            return self._store, self._root or self._store.path.parent
        root = path.resolve().parent.parent  # <archive_root>/<crawl_id>/<file>
        if root not in self._auto_stores:
            db = root / DIGEST_DB_NAME
            self._auto_stores[root] = DigestStore(db) if db.exists() else None
        store = self._auto_stores[root]
        return (store, root) if store is not None else None

    def locate(self, record: WarcRecord, path: Path) -> RecordLocation | None:
        refers_to = record.get("WARC-Refers-To")
        digest = record.get("WARC-Payload-Digest") or ""
        if refers_to and refers_to in self._cat.by_id:
            return self._cat.by_id[refers_to]
        if digest in self._cat.by_digest:
            return self._cat.by_digest[digest]
        found = self._store_for(path)
        if found is None:
            return None
        store, root = found
        entry = store.lookup(digest)
        if entry is None:
            return None
        for candidate in (root / entry.filename, root / (entry.filename + OPEN_SUFFIX)):
            if candidate.exists():
                return RecordLocation(candidate, entry.offset, entry.length)
        return None

    def close(self) -> None:
        for store in self._auto_stores.values():
            if store is not None:
                store.close()


def _original_body(location: RecordLocation, digest: str) -> bytes:
    record = read_record_at(location.path, location.offset)
    body = record.block[parse_http_head(record.block).body_offset :]
    if digest and not digest_matches(digest, body):
        raise FramingError(f"original at {location.path}:{location.offset} has another digest")
    return body


def iter_archive(
    paths: Iterable[str | Path],
    *,
    stats: ReadStats | None = None,
    on_error: Callable[[ReadError], None] | None = None,
    digest_store: DigestStore | None = None,
    archive_root: str | Path | None = None,
    context: Iterable[str | Path] = (),
    claim: Callable[[Part], bool] | None = None,
    part_bytes: int | None = None,
) -> Iterator[ArchivedExchange]:
    """Yield every response/revisit in files, directories or globs, in file order.

    One pass: an exchange is yielded once its metadata record (written after it, with its
    request record in between) has been read; originals of revisits are remembered as they go
    by. A revisit whose original is not among the records read is looked up in
    ``digest_store`` (default: ``digests.sqlite3`` of the archive root the file sits in), with
    filenames relative to ``archive_root``.

    ``context`` names more files (e.g. the rest of the crawl) read only for what belongs to the
    records of ``paths``: a metadata record written after a rotation lands in a later file.

    ``claim``, when given, is asked for each part of a file (``part_bytes``; whole files
    without it) just before it is read; a part it refuses (another replay process took it) is
    skipped, and read only as context.
    """
    stats = stats if stats is not None else ReadStats()
    files = expand_warc_paths(paths)
    own = {f.resolve() for f in files}
    extra = ([Part(p) for p in expand_warc_paths(context) if p.resolve() not in own]
             if context else [])
    skipped: dict[Path, Part] = {}  # the first part of each file that another process took
    cat = _Catalogue()
    resolver = _RevisitResolver(cat, digest_store, Path(archive_root) if archive_root else None)
    pending: deque[_Pending] = deque()
    held = 0
    first: Path | None = None  # the earliest file read

    def report(path: Path, offset: int, message: str) -> None:
        error = ReadError(path, offset, message)
        stats.errors.append(error)
        if on_error is not None:
            on_error(error)

    def flush(everything: bool) -> Iterator[ArchivedExchange]:
        """Yield pending exchanges in file order, while the first has its metadata (all of
        them with ``everything``)."""
        nonlocal held
        while pending and (everything or pending[0].record_id in cat.metadata):
            entry = pending.popleft()
            location, record = entry.location, entry.record
            if record is not None:
                held -= len(record.block)
            else:
                try:
                    record = read_record_at(location.path, location.offset)
                except (OSError, FramingError) as exc:
                    stats.damaged += 1
                    report(location.path, location.offset, f"unreadable on second read: {exc}")
                    continue
            try:
                exchange = _exchange(
                    record, location.path, cat=cat, resolver=resolver, stats=stats, report=report
                )
            except (ValueError, UnicodeDecodeError) as exc:
                stats.damaged += 1
                report(location.path, record.offset, f"unreadable HTTP block: {exc}")
                continue
            stats.exchanges += 1
            yield exchange

    try:
        # one pass: an exchange waits for its metadata record (written after it) before it is
        # yielded, so that no file is read twice
        searched: set[str] = set()
        read: set[Path] = set()
        for part in parts(files, part_bytes if claim is not None else None):
            path = part.path
            if claim is not None and not claim(part):
                # another process reads this part; the metadata of our last exchanges may be
                # near its start: look for it there once, so they need not wait for the end
                skipped.setdefault(path, part)
                missing = {p.record_id for p in pending
                           if p.record_id and p.record_id not in cat.metadata} - searched
                if missing:
                    searched |= missing
                    _more_metadata(cat, missing, [part], None)
                    yield from flush(everything=False)
                continue
            first = path if first is None or path < first else first
            if path not in read:
                read.add(path)
                stats.files += 1
                stats.incomplete_files += is_open_file(path)
            for item in iter_file(*part):
                if isinstance(item, Damage):
                    stats.damaged += 1
                    report(path, item.offset, item.message)
                    continue
                stats.records += 1
                _note(cat, item, path)
                if item.rec_type in EXCHANGE_TYPES and _is_http(item):
                    keep = held + len(item.block) <= PENDING_BYTES
                    held += len(item.block) if keep else 0
                    pending.append(_Pending(RecordLocation(path, item.offset, item.length),
                                            item.record_id or "", item if keep else None))
                elif item.rec_type == "metadata":
                    yield from flush(everything=False)
        missing = {p.record_id for p in pending if p.record_id and p.record_id not in cat.metadata}
        # from the first part others took of each file to its end (not once per part)
        _more_metadata(cat, missing, sorted([*extra, *(Part(p.path, p.start) for p in
                                                       skipped.values())]), first)
        yield from flush(everything=True)
    finally:
        resolver.close()


def _exchange(
    record: WarcRecord,
    path: Path,
    *,
    cat: _Catalogue,
    resolver: _RevisitResolver,
    stats: ReadStats,
    report: Callable[[Path, int, str], None],
) -> ArchivedExchange:
    head = parse_http_head(record.block)
    protocol, status, reason = head.status_parts()
    record_id = record.record_id or ""
    digest = record.get("WARC-Payload-Digest")
    is_revisit = record.rec_type == "revisit"
    body: bytes | None = record.block[head.body_offset :]
    original: RecordLocation | None = None
    if is_revisit:
        body = None
        original = resolver.locate(record, path)
        if original is None:
            report(path, record.offset, f"revisit original not found for {digest}")
        else:
            try:
                body = _original_body(original, digest or "")
            except (OSError, FramingError) as exc:
                report(path, record.offset, f"revisit original unreadable: {exc}")
        if body is None:
            stats.revisits_unresolved += 1
        else:
            stats.revisits_resolved += 1
    method, request_headers, request_body = cat.requests.get(record_id, (None, [], b""))
    return ArchivedExchange(
        url=record.get("WARC-Target-URI") or "",
        status=status,
        protocol=protocol,
        reason=reason,
        headers=head.headers,
        body=body,
        warc_date=record.get("WARC-Date") or "",
        record_id=record_id,
        location=RecordLocation(path, record.offset, record.length),
        payload_digest=digest,
        ip_address=record.get("WARC-IP-Address"),
        warc_protocol=record.get("WARC-Protocol"),
        truncated=record.get("WARC-Truncated"),
        is_revisit=is_revisit,
        original=original,
        metadata=cat.metadata.get(record_id, {}),
        method=method,
        request_headers=request_headers,
        request_body=request_body,
    )


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """An archived response read back from its location (for serving it again)."""

    protocol: str
    status: int
    headers: list[tuple[bytes, bytes]]
    #: as archived: still content-encoded
    body: bytes


def load_response(location: RecordLocation,
                  original: RecordLocation | None = None) -> StoredResponse:
    """The response archived at ``location``; a revisit takes its body from ``original``."""
    record = read_record_at(location.path, location.offset)
    head = parse_http_head(record.block)
    protocol, status, _reason = head.status_parts()
    body = record.block[head.body_offset:]
    if record.rec_type == "revisit":
        if original is None:
            raise FramingError(f"revisit at {location.path}:{location.offset} without its original")
        body = _original_body(original, record.get("WARC-Payload-Digest") or "")
    return StoredResponse(protocol, status, head.headers, body)
