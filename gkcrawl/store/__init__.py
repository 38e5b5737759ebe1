"""The store: runs, report copies (sources), reports and quarantine entries in a database.

SQLite by default (``STORE_PATH``, default ``<ARCHIVE_DIR>/gkcrawl.sqlite3``, next to the WARCs);
PostgreSQL when ``STORE_URL`` is set (``postgresql://…``), for crawl workers on several machines
writing into one database. Both get the same schema through the same migrations
(``schema.py``), applied when a store is opened. Upserts are keyed on (url, WARC record), so a
crawl or a replay run twice never duplicates a row.

Components of one crawl share one connection: ``store_for(crawler)`` opens it on first use and
closes it when the engine stops.
"""

from __future__ import annotations

import logging
import sqlite3
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gkcrawl.archive.config import ARCHIVE_DIR
from gkcrawl.store.base import Store, StoreError
from gkcrawl.store.rows import (
    FetchRow,
    QuarantineRow,
    ReportRow,
    RunRow,
    SourceRow,
    json_safe,
    record_key,
)
from gkcrawl.store.schema import MIGRATIONS, ROLES, Migration

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

__all__ = [
    "MIGRATIONS",
    "ROLES",
    "STORE_FILENAME",
    "FetchRow",
    "Migration",
    "QuarantineRow",
    "ReportRow",
    "RunRow",
    "SourceRow",
    "Store",
    "StoreError",
    "close_store_for",
    "is_postgres_url",
    "json_safe",
    "open_store",
    "record_key",
    "store_for",
    "store_target",
]

logger = logging.getLogger(__name__)

STORE_FILENAME = "gkcrawl.sqlite3"
_PG_SCHEMES = ("postgresql://", "postgres://")

_stores: weakref.WeakKeyDictionary[Crawler, Store] = weakref.WeakKeyDictionary()


def is_postgres_url(target: str | Path) -> bool:
    return isinstance(target, str) and target.lower().startswith(_PG_SCHEMES)


def open_store(target: str | Path, *, migrate: bool = True) -> Store:
    """A ``postgresql://``/``postgres://`` URL opens PostgreSQL, anything else is a SQLite file
    (its parent directories are created). Missing migrations are applied unless ``migrate`` is
    false. A store that cannot be opened raises StoreError, whose message is one line naming
    the store and the reason."""
    errors: tuple[type[Exception], ...]
    if is_postgres_url(target):
        import psycopg

        from gkcrawl.store.postgres import PostgresStore, mask_password

        shown, errors = mask_password(str(target)), (psycopg.Error,)
    else:
        from gkcrawl.store.sqlite import SQLiteStore

        shown, errors = str(target), (sqlite3.Error, OSError)
    try:
        store: Store = (PostgresStore(str(target)) if is_postgres_url(target)
                        else SQLiteStore(target))
    except errors as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(f"cannot open the store {shown}: {reason}") from exc
    if migrate:
        try:
            applied = store.migrate()
        except BaseException:
            store.close()
            raise
        if applied:
            logger.info("store %s: applied migrations %s", store.target, applied)
    return store


def store_target(settings: BaseSettings) -> str:
    """``STORE_URL`` if set, else ``STORE_PATH``, else ``<ARCHIVE_DIR>/gkcrawl.sqlite3``."""
    url = settings.get("STORE_URL")
    if url:
        return str(url)
    path = settings.get("STORE_PATH")
    if path:
        return str(path)
    return str(Path(settings.get("ARCHIVE_DIR") or ARCHIVE_DIR) / STORE_FILENAME)


def store_for(crawler: Crawler) -> Store:
    """The store of ``crawler``, opened (and migrated) on first use, shared by every component
    of the crawl, closed when the engine stops."""
    store = _stores.get(crawler)
    if store is None or store.closed:
        store = open_store(store_target(crawler.settings))
        _stores[crawler] = store
        logger.info("store: %s", store.target)
        from scrapy import signals

        ref = weakref.ref(crawler)

        def close_store(**_: Any) -> None:
            owner = ref()
            if owner is not None:
                close_store_for(owner)

        crawler.signals.connect(close_store, signal=signals.engine_stopped, weak=False)
    return store


def close_store_for(crawler: Crawler) -> None:
    store = _stores.pop(crawler, None)
    if store is not None:
        store.close()
