"""PostgreSQL (psycopg 3): one database shared by crawl workers on several machines.

The connection runs in autocommit mode and every store operation opens its own short
transaction (``transaction()`` blocks group several), so a worker never sits "idle in
transaction" between items holding locks and an old snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from gkcrawl.store.base import Store
from gkcrawl.store.rows import dumps
from gkcrawl.store.schema import POSTGRES

#: pg_advisory_xact_lock key for migrations (any constant; "gkcrawl" in ASCII)
MIGRATION_LOCK = 0x676B637261776C
CONNECT_TIMEOUT = 10


@lru_cache(maxsize=256)
def to_pyformat(sql: str) -> str:
    """``:name`` -> ``%(name)s`` (``::type`` casts are left alone, literal ``%`` doubled)."""
    return re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", r"%(\1)s", sql.replace("%", "%%"))


def mask_password(target: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", target)


class PostgresStore(Store):
    dialect = POSTGRES

    def __init__(self, conninfo: str, *, connect_timeout: int = CONNECT_TIMEOUT) -> None:
        super().__init__(mask_password(conninfo))
        self._conn = psycopg.connect(conninfo, autocommit=True, row_factory=dict_row,
                                     connect_timeout=connect_timeout,
                                     application_name="gkcrawl")

    def _exec(self, sql: str, params: Mapping[str, Any] | None = None) -> psycopg.Cursor[Any]:
        if params:
            return self._conn.execute(to_pyformat(sql), params)
        return self._conn.execute(sql)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._conn.transaction():  # BEGIN/COMMIT outside, SAVEPOINT when nested
            yield

    def _lock_migrations(self) -> None:
        self._exec("SELECT pg_advisory_xact_lock(:key)", {"key": MIGRATION_LOCK})

    def lock_report(self, organ_key: str, year: int) -> None:
        self._require_transaction("lock_report")
        self._exec("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))",
                   {"key": f"gkcrawl.report\x1f{organ_key}\x1f{year}"})

    def _json_in(self, value: Any) -> Jsonb:
        return Jsonb(value, dumps=dumps)

    def _json_out(self, value: Any) -> Any:
        return value  # psycopg loads jsonb

    def _ts_in(self, value: datetime | None) -> datetime | None:
        return value

    def _ts_out(self, value: Any) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def _bool_in(self, value: bool) -> bool:
        return value

    @property
    def closed(self) -> bool:
        return self._conn.closed

    def close(self) -> None:
        if not self._conn.closed:
            self._conn.close()
