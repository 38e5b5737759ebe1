"""Waiting for another process's SQLite lock in short polls.

Both SQLite files of a crawl (the store and the archive's digest store) are shared by processes:
replay workers, crawl workers, a crawl and a replay. SQLite's busy handler sleeps 1, 2, 5, 10…
ms, and gives up at once, without its handler, where waiting could deadlock (two connections
both turning a new file to WAL, say). :func:`when_free` tries a statement again after 0.1 ms,
doubling up to 5 ms, until a timeout: two replay workers meet at a store's lock hundreds of
times a second, each holding it for well under 1 ms.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: First and longest pause between two tries of a statement the lock refused.
LOCK_RETRY_FIRST_S = 0.0001
LOCK_RETRY_MAX_S = 0.005
SQLITE_BUSY = 5


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY (and its extended codes): another connection holds the lock."""
    code = getattr(exc, "sqlite_errorcode", None)
    return "database is locked" in str(exc) if code is None else (code & 0xFF) == SQLITE_BUSY


def when_free(attempt: Callable[[], T], timeout: float) -> T:
    """``attempt()``, tried again while it fails with SQLITE_BUSY, for up to ``timeout`` s."""
    deadline = time.monotonic() + timeout
    pause = LOCK_RETRY_FIRST_S
    while True:
        try:
            return attempt()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(2 * pause, LOCK_RETRY_MAX_S)
