"""Payload digests and the persistent digest store behind revisit records.

The store maps a payload digest to where its first capture lives, so a PDF fetched again
(under another URL, after a resume, or in next year's crawl) becomes a small ``revisit``
record instead of a second copy.  It is one sqlite file in the archive root, shared by all
crawls and possibly by several crawler processes at once, hence WAL and a busy timeout.

A crawl's writer adds its captures in batches (``batch``; one transaction each, and at close):
a commit for every response was one of the larger costs of archiving (about 25 us a page).
Until a batch is written only this process knows those digests, and a kill loses them: a later
copy of such a payload is then archived in full instead of as a revisit, nothing worse.
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from gkcrawl.archive.sqlite_lock import when_free

#: File name of the store inside the archive root.
DIGEST_DB_NAME = "digests.sqlite3"
#: Seconds a writer waits for another process's write lock before failing.
BUSY_TIMEOUT_S = 60.0
#: SQLite page cache of a digest store (SQLite's default: 2,000 KiB). Its reads are point look-ups
#: by payload digest, a leaf page each, so more cache only held a crawl's memory up: 2 MiB more
#: at 20,000 pages than at 2,000 (docs/benchmarks.md, Crawl).
CACHE_KIB = 256
DIGEST_ALGORITHM = "sha1"
#: A batched store writes its pending captures after this many seconds at the latest.
BATCH_SECONDS = 2.0
_INSERT = (
    "INSERT OR IGNORE INTO payload_digests"
    " (digest, uri, warc_date, record_id, filename, offset, length)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS payload_digests (
    digest      TEXT PRIMARY KEY,
    uri         TEXT NOT NULL,
    warc_date   TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    filename    TEXT NOT NULL,
    offset      INTEGER NOT NULL,
    length      INTEGER NOT NULL
)
"""


#: Base32 (RFC 4648) of every 10-bit group: a SHA-1 is 16 groups, 32 characters, no padding.
_B32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_B32_PAIRS = [a + b for a in _B32_ALPHABET for b in _B32_ALPHABET]
_PAIR_MASK = 0x3FF


def _b32_160(digest: bytes) -> str:
    """``base64.b32encode`` of a 20-byte digest, several times faster (it is pure Python; four
    or five digests are computed for every archived exchange). Each half of the digest is an
    80-bit number of 8 groups, spelled out: half the time of a loop over one 160-bit number."""
    t, m = _B32_PAIRS, _PAIR_MASK
    a = int.from_bytes(digest[:10], "big")
    b = int.from_bytes(digest[10:], "big")
    return "".join((
        t[a >> 70], t[a >> 60 & m], t[a >> 50 & m], t[a >> 40 & m],
        t[a >> 30 & m], t[a >> 20 & m], t[a >> 10 & m], t[a & m],
        t[b >> 70], t[b >> 60 & m], t[b >> 50 & m], t[b >> 40 & m],
        t[b >> 30 & m], t[b >> 20 & m], t[b >> 10 & m], t[b & m]))


def sha1_digest(data: bytes, *more: bytes) -> str:
    """``sha1:<base32>`` of ``data`` and then ``more`` (a block's head and payload, without
    joining them), the form wget, Heritrix, warcprox and warcio write and pywb matches."""
    sha1 = hashlib.sha1(data)
    for part in more:
        sha1.update(part)
    return f"{DIGEST_ALGORITHM}:" + _b32_160(sha1.digest())


#: The digest of an empty payload (every GET request's).
EMPTY_SHA1 = sha1_digest(b"")


def digest_matches(declared: str, data: bytes) -> bool:
    """Check a ``WARC-*-Digest`` value (any hashlib algorithm, base32/base16/base64)."""
    algorithm, sep, encoded = declared.strip().partition(":")
    if not sep:
        return False
    try:
        actual = hashlib.new(algorithm.lower().replace("-", ""), data).digest()
    except ValueError:
        return False
    candidates = {
        base64.b32encode(actual).decode("ascii").rstrip("="),
        actual.hex(),
        base64.b64encode(actual).decode("ascii").rstrip("="),
    }
    return encoded.rstrip("=") in candidates or encoded.lower() in candidates


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """Where the original capture of a payload lives (``filename`` relative to archive root)."""

    uri: str
    warc_date: str
    record_id: str
    filename: str
    offset: int
    length: int


def _row(digest: str, entry: DigestEntry) -> tuple[str, str, str, str, str, int, int]:
    return (digest, entry.uri, entry.warc_date, entry.record_id, entry.filename, entry.offset,
            entry.length)


class DigestStore:
    """sqlite map payload digest → first capture; safe for concurrent processes.

    ``batch`` > 0: :meth:`add` keeps up to that many captures pending (written by :meth:`flush`,
    when the batch is full, after ``BATCH_SECONDS``, and by :meth:`close`); :meth:`lookup` sees
    them at once.
    """

    def __init__(self, path: str | Path, *, batch: int = 0) -> None:
        self.path = Path(path)
        self.batch = batch
        self._pending: dict[str, DigestEntry] = {}
        self._flushed_at = time.monotonic()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # autocommit: every add() is its own short transaction, so locks are held briefly
        self._db: sqlite3.Connection | None = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None
        )
        self._db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        self._db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        # two processes opening a new store at once both turn it to WAL: SQLite refuses one of
        # them at once, without its busy handler (waiting could deadlock), so that one tries again
        for statement in ("PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", _SCHEMA):
            when_free(lambda statement=statement: self._db.execute(statement), BUSY_TIMEOUT_S)

    @classmethod
    def in_archive(cls, archive_root: str | Path, *, batch: int = 0) -> DigestStore:
        """The store shared by every crawl under ``archive_root``."""
        return cls(Path(archive_root) / DIGEST_DB_NAME, batch=batch)

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError(f"digest store {self.path} is closed")
        return self._db

    def lookup(self, digest: str) -> DigestEntry | None:
        """The first capture with this payload digest, if any."""
        pending = self._pending.get(digest)
        if pending is not None:
            return pending
        row = self._conn().execute(
            "SELECT uri, warc_date, record_id, filename, offset, length"
            " FROM payload_digests WHERE digest = ?",
            (digest,),
        ).fetchone()
        return DigestEntry(*row) if row else None

    def add(self, digest: str, entry: DigestEntry) -> bool:
        """Remember a capture; the first one wins (False when the digest was already known).

        Batched, "known" means pending in this process: the database keeps the first capture
        written when the batch is.
        """
        if self.batch <= 0:
            cursor = self._conn().execute(_INSERT, _row(digest, entry))
            return cursor.rowcount == 1
        self._conn()  # fail now on a closed store, not at the next flush
        if digest in self._pending:
            return False
        self._pending[digest] = entry
        if (len(self._pending) >= self.batch
                or time.monotonic() - self._flushed_at >= BATCH_SECONDS):
            self.flush()
        return True

    def flush(self) -> None:
        """Write the pending captures in one transaction."""
        self._flushed_at = time.monotonic()
        if not self._pending:
            return
        rows = [_row(digest, entry) for digest, entry in self._pending.items()]
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(_INSERT, rows)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        self._pending.clear()

    def __len__(self) -> int:
        self.flush()
        return int(self._conn().execute("SELECT count(*) FROM payload_digests").fetchone()[0])

    def close(self) -> None:
        """Write what is pending and close the connection (idempotent)."""
        if self._db is not None:
            try:
                self.flush()
            finally:
                self._db.close()
                self._db = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
