"""SQLite: the default store, a file next to the WARCs (WAL mode, busy timeout, foreign keys)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from gkcrawl.archive.sqlite_lock import is_busy, when_free
from gkcrawl.store.base import Store, StoreError
from gkcrawl.store.rows import dumps
from gkcrawl.store.schema import SQLITE

#: seconds a writer waits for another process's write transaction before giving up
BUSY_TIMEOUT = 60.0
#: WAL pages between automatic checkpoints (SQLite: 1,000). A stored copy with its report and
#: findings is ~25 pages, so the default checkpointed (and synced) every ~40 reports.
WAL_CHECKPOINT_PAGES = 10_000


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {d[0]: v for d, v in zip(cursor.description, row, strict=True)}


class SQLiteStore(Store):
    """Writes take the database lock at ``BEGIN IMMEDIATE``: one writer at a time, so
    ``lock_report`` has nothing to add. Readers are not blocked (WAL)."""

    dialect = SQLITE

    def __init__(self, path: str | Path, *, timeout: float = BUSY_TIMEOUT) -> None:
        super().__init__(str(path))
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        if sqlite3.sqlite_version_info < (3, 35):
            raise StoreError(f"SQLite {sqlite3.sqlite_version} is too old (3.35+ needed)")
        # isolation_level=None: no implicit BEGIN, transactions are ours (see _transaction);
        # timeout=0: no busy handler, a locked database is waited for in _exec (sqlite_lock)
        self._timeout = timeout
        self._closed = False
        self._savepoints = 0
        self._conn = sqlite3.connect(path, timeout=0, isolation_level=None,
                                     check_same_thread=False)
        self._conn.row_factory = _dict_row
        self._exec("PRAGMA journal_mode = WAL")
        self._exec("PRAGMA synchronous = NORMAL")
        self._exec(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
        self._exec("PRAGMA foreign_keys = ON")
        # statement journals in memory, not in a file created and deleted for every report
        self._exec("PRAGMA temp_store = MEMORY")

    def _exec(self, sql: str, params: Mapping[str, Any] | None = None) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, params or {})
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise
        # another connection holds the lock (gkcrawl.archive.sqlite_lock: short polls, not SQLite's
        # busy handler); counted for the run's stats
        start = time.monotonic()
        self.lock_waits += 1
        try:
            return when_free(lambda: self._conn.execute(sql, params or {}), self._timeout)
        finally:
            self.lock_wait_seconds += time.monotonic() - start

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        if not self._conn.in_transaction:
            self._exec("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._rollback()
                raise
            try:
                self._exec("COMMIT")
            except BaseException:
                self._rollback()
                raise
            return
        self._savepoints += 1
        name = f"gk_sp{self._savepoints}"
        self._conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                self._conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        else:
            self._conn.execute(f"RELEASE SAVEPOINT {name}")
        finally:
            self._savepoints -= 1

    def _rollback(self) -> None:
        """Roll back, unless the failure already ended the transaction."""
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def _lock_migrations(self) -> None:
        pass  # BEGIN IMMEDIATE already holds the write lock

    def lock_report(self, organ_key: str, year: int) -> None:
        self._require_transaction("lock_report")

    def _json_in(self, value: Any) -> str:
        return dumps(value)

    def _json_out(self, value: Any) -> Any:
        return orjson.loads(value) if isinstance(value, (str, bytes)) else value

    def _ts_in(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        return value.astimezone(UTC).isoformat(timespec="microseconds")

    def _ts_out(self, value: Any) -> datetime | None:
        if value is None:
            return None
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def _bool_in(self, value: bool) -> int:
        return int(value)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._conn.close()
