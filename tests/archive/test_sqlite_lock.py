"""A statement the SQLite lock refuses is tried again in short polls, up to a timeout."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gkcrawl.archive.digests import DigestStore
from gkcrawl.archive.sqlite_lock import is_busy, when_free
from gkcrawl.store import open_store


def test_busy_errors_are_tried_again_others_raise_at_once() -> None:
    calls: list[float] = []

    def locked_twice() -> str:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise sqlite3.OperationalError("database is locked")
        return "done"

    assert when_free(locked_twice, timeout=5) == "done" and len(calls) == 3
    assert calls[2] - calls[0] < 0.1  # polls of a fraction of a millisecond, not SQLite's 1 ms+

    def missing_table() -> None:
        calls.append(0.0)
        raise sqlite3.OperationalError("no such table: x")

    calls.clear()
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        when_free(missing_table, timeout=5)
    assert len(calls) == 1
    assert not is_busy(sqlite3.OperationalError("no such table: x"))


def test_gives_up_after_the_timeout() -> None:
    def always_locked() -> None:
        raise sqlite3.OperationalError("database is locked")

    start = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        when_free(always_locked, timeout=0.2)
    assert 0.2 <= time.monotonic() - start < 1


def _open_at_once(open_one: Callable[[Path], None], path: Path,
                  openers: int = 4) -> list[BaseException]:
    """``open_one(path)`` from several threads released together; the exceptions they raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(openers)

    def run() -> None:
        start.wait()
        try:
            open_one(path)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(openers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_processes_opening_a_new_digest_store_at_once_all_get_it(tmp_path: Path) -> None:
    """Turning a new file to WAL from two connections at once makes SQLite refuse one of them
    without its busy handler (a crawl worker failed so at start-up); both must open."""
    for attempt in range(20):
        path = tmp_path / f"{attempt}" / "digests.sqlite3"
        assert _open_at_once(lambda p: DigestStore(p).close(), path) == []


def test_processes_opening_a_new_store_at_once_all_get_it(tmp_path: Path) -> None:
    """Two replay workers open (and migrate) one new SQLite store at once: one of them waits for
    the other's lock from its very first statement, and must still open (it once lost an item:
    the waiting store had not set up its lock counters yet)."""
    for attempt in range(20):
        path = tmp_path / f"{attempt}" / "gkcrawl.sqlite3"
        assert _open_at_once(lambda p: open_store(p).close(), path) == []
