"""Payload digests and the persistent digest store behind revisit records.

The store maps a payload digest to where its first capture lives, so a PDF fetched again
(under another URL, after a resume, or in next year's crawl) becomes a small ``revisit``
record instead of a second copy.  It is one sqlite file in the archive root, shared by all
crawls and possibly by several crawler processes at once, hence WAL and a busy timeout.
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from dataclasses import astuple, dataclass
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Self

from gkcrawl.archive.sqlite_lock import when_free

#: File name of the store inside the archive root.
DIGEST_DB_NAME = "digests.sqlite3"
#: Seconds a writer waits for another process's write lock before failing.
BUSY_TIMEOUT_S = 60.0
DIGEST_ALGORITHM = "sha1"
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


def sha1_digest(data: bytes) -> str:
    """``sha1:<base32>``, the form wget, Heritrix, warcprox and warcio write and pywb matches."""
    return f"{DIGEST_ALGORITHM}:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


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


class DigestStore:
    """sqlite map payload digest → first capture; safe for concurrent processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # autocommit: every add() is its own short transaction, so locks are held briefly
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        # two processes opening a new store at once both turn it to WAL: SQLite refuses one of
        # them at once, without its busy handler (waiting could deadlock), so that one tries again
        for statement in ("PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", _SCHEMA):
            when_free(partial(db.execute, statement), BUSY_TIMEOUT_S)
        self._db: sqlite3.Connection | None = db

    @classmethod
    def in_archive(cls, archive_root: str | Path) -> DigestStore:
        """The store shared by every crawl under ``archive_root``."""
        return cls(Path(archive_root) / DIGEST_DB_NAME)

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError(f"digest store {self.path} is closed")
        return self._db

    def lookup(self, digest: str) -> DigestEntry | None:
        """The first capture with this payload digest, if any."""
        row = self._conn().execute(
            "SELECT uri, warc_date, record_id, filename, offset, length"
            " FROM payload_digests WHERE digest = ?",
            (digest,),
        ).fetchone()
        return DigestEntry(*row) if row else None

    def add(self, digest: str, entry: DigestEntry) -> bool:
        """Remember a capture; the first one wins (False when the digest was already known)."""
        cursor = self._conn().execute(_INSERT, (digest, *astuple(entry)))
        return cursor.rowcount == 1

    def __len__(self) -> int:
        return int(self._conn().execute("SELECT count(*) FROM payload_digests").fetchone()[0])

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._db is not None:
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
