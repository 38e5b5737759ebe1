"""The store's operations, written once; ``sqlite.py`` and ``postgres.py`` supply the dialect.

SQL here uses named parameters (``:name``) and only what SQLite ≥ 3.35 and PostgreSQL ≥ 11 both
accept (``INSERT … ON CONFLICT … DO UPDATE``, ``RETURNING``). Every upsert is one statement, so
it is atomic and safe when several crawl workers write into one PostgreSQL at once.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import fields
from datetime import datetime
from typing import Any, ClassVar, Protocol, Self

from gkcrawl.store.rows import (
    FetchRow,
    QuarantineRow,
    ReportRow,
    RunRow,
    SourceRow,
    json_safe,
    record_key,
    to_datetime,
    utcnow,
)
from gkcrawl.store.schema import MIGRATIONS, MIGRATIONS_TABLE, ROLES, TOKENS, Migration
from gkcrawl.template.spec import TABLE_KEYS

JSON_COLUMNS = frozenset({"stats", "fingerprint", "report", "validation", "cross_year"})
TS_COLUMNS = frozenset({"started_at", "finished_at", "fetched_at", "first_seen", "last_seen",
                        "updated_at", "resolved_at", "applied_at", "now"})
BOOL_COLUMNS = frozenset({"official"})

_WARC = ("record_id", "payload_digest", "warc_file", "warc_offset", "warc_length")
_PARSED = ("organ", "organ_key", "organ_readable", "division_code", "year", "format",
           "source_kind", "published", "official", "completeness", "fingerprint",
           "parser_version", "report", "validation")


def _upsert_sql(table: str, columns: Sequence[str], key: str, *, keep_first: Sequence[str] = (),
                prefer_new: Sequence[str] = (), overwrite: Sequence[str] = (),
                extra: Sequence[str] = (), returning: str | None = None) -> str:
    """``INSERT … ON CONFLICT (key) DO UPDATE``: ``keep_first`` columns keep a non-null stored
    value, ``prefer_new`` take a non-null new value, ``overwrite`` always take the new value."""
    sets = [f"{c} = COALESCE({table}.{c}, excluded.{c})" for c in keep_first]
    sets += [f"{c} = COALESCE(excluded.{c}, {table}.{c})" for c in prefer_new]
    sets += [f"{c} = excluded.{c}" for c in overwrite]
    sets += list(extra)
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
           f"VALUES ({', '.join(':' + c for c in columns)}) "
           f"ON CONFLICT ({key}) DO UPDATE SET {', '.join(sets)}")
    return sql + (f" RETURNING {returning}" if returning else "")


_SOURCE_COLUMNS = ("url", "record_key", *_WARC, "portal", "crawl_id", "fetched_at", *_PARSED,
                   "role", "first_seen", "last_seen")
UPSERT_SOURCE = _upsert_sql(
    "sources", _SOURCE_COLUMNS, "url, record_key",
    # the same bytes fetched again (or replayed) keep their first capture: the record that holds
    # them, not a later revisit record that points back to it
    keep_first=("portal", "crawl_id", "fetched_at", *_WARC),
    # a re-parse (parser upgrade) replaces what was parsed; ``role`` is left to set_source_role
    overwrite=(*_PARSED, "last_seen"),
    returning="id")

_REPORT_COLUMNS = ("organ_key", "year", "organ", "format", "source_id", "n_sources", "cross_year",
                   "parser_version", "updated_at")
UPSERT_REPORT = _upsert_sql("reports", _REPORT_COLUMNS, "organ_key, year",
                            overwrite=_REPORT_COLUMNS[2:])
#: a report row with its chosen copy's report, findings, WARC pointer and capture time (the
#: report row keeps only its own cross-year findings: ReportRow.from_stored puts them together)
SELECT_REPORTS = ("SELECT r.organ_key, r.year, r.organ, r.format, r.source_id, r.n_sources, "
                  "r.cross_year, r.parser_version, r.updated_at, s.report, s.validation, "
                  "s.warc_file, s.warc_offset, s.record_id, s.fetched_at "
                  "FROM reports r JOIN sources s ON s.id = r.source_id")

REPORT_TABLES = ("SELECT r.year, s.report FROM reports r JOIN sources s ON s.id = r.source_id "
                 "WHERE r.organ_key = :k AND r.year IN (:y, :other)")
SET_CROSS_YEAR = ("UPDATE reports SET cross_year = :cross_year, updated_at = :updated_at "
                  "WHERE organ_key = :k AND year = :y")

_QUARANTINE_COLUMNS = ("url", "record_key", *_WARC, "code", "reason", "portal", "role", "title",
                       "crawl_id", "fetched_at", "parser_version", "over_limit", "first_seen",
                       "last_seen")
UPSERT_QUARANTINE = _upsert_sql(
    "quarantine", _QUARANTINE_COLUMNS, "url, record_key",
    keep_first=("crawl_id", "fetched_at"),
    prefer_new=(*_WARC, "portal", "role", "title"),
    overwrite=("code", "reason", "parser_version", "over_limit", "last_seen"),
    # failing again after a success makes the entry open again
    extra=("resolved_at = NULL",),
    returning="id")

START_RUN = _upsert_sql(
    "runs", ("crawl_id", "spider", "started_at", "parser_version", "starts"), "crawl_id",
    keep_first=("started_at",), prefer_new=("spider", "parser_version"),
    extra=("finished_at = NULL", "finish_reason = NULL", "starts = runs.starts + 1"))

FINISH_RUN = _upsert_sql(
    "runs", ("crawl_id", "finished_at", "finish_reason", "stats"), "crawl_id",
    overwrite=("finished_at", "finish_reason"), prefer_new=("stats",))

_FETCH_COLUMNS = tuple(f.name for f in fields(FetchRow))
UPSERT_FETCH = _upsert_sql("fetches", _FETCH_COLUMNS, "url",
                           overwrite=tuple(c for c in _FETCH_COLUMNS if c != "url"))

#: the open entries of a record (its URL, and its WARC record id, payload digest or record key:
#: a resumed crawl knows the record id only) quarantined for a parsing limit
OVER_LIMIT = ("SELECT * FROM quarantine WHERE url = :url AND resolved_at IS NULL "
              "AND over_limit IS NOT NULL AND (record_id = :record_id OR payload_digest = :digest "
              "OR record_key = :key) ORDER BY last_seen DESC")
RESOLVE_QUARANTINE = ("UPDATE quarantine SET resolved_at = :now "
                      "WHERE url = :url AND record_key = :key AND resolved_at IS NULL")


class StoreError(RuntimeError):
    pass


class Cursor(Protocol):
    """A statement's result: sqlite3's and psycopg's cursors alike (rows as dicts)."""

    @property
    def rowcount(self) -> int: ...

    def fetchall(self) -> list[Any]: ...


class Store(abc.ABC):
    """Runs, sources, reports and quarantine entries in SQLite or PostgreSQL.

    One connection per object; use one object from one thread at a time. Every method is atomic
    on its own; ``transaction()`` groups several (nested blocks become savepoints; a method that
    writes one statement joins an open transaction as it is).
    """

    dialect: ClassVar[str]
    #: reports() fetches this many rows per query (keyset pagination: no cursor stays open)
    page_size: ClassVar[int] = 500

    def __init__(self, target: str) -> None:
        self.target = target
        self._depth = 0
        #: statements that had to wait for another process's lock, and the seconds waited (the
        #: SQLite store counts them; PostgreSQL's row locks are not counted); set before a
        #: subclass runs its first statement
        self.lock_waits = 0
        self.lock_wait_seconds = 0.0

    # --- dialect ---------------------------------------------------------------------------
    @abc.abstractmethod
    def _exec(self, sql: str, params: Mapping[str, Any] | None = None) -> Cursor:
        """Run one statement; the result has ``fetchall()`` (dicts) and ``rowcount``."""

    @abc.abstractmethod
    def _transaction(self) -> AbstractContextManager[None]: ...

    @abc.abstractmethod
    def _lock_migrations(self) -> None:
        """Inside the migration transaction: keep other processes out until it commits."""

    @abc.abstractmethod
    def lock_report(self, organ_key: str, year: int) -> None:
        """Inside ``transaction()``: hold (organ_key, year) until the transaction ends, so that
        two workers deciding the same report do so one after the other."""

    @abc.abstractmethod
    def _json_in(self, value: Any) -> Any: ...

    @abc.abstractmethod
    def _json_out(self, value: Any) -> Any: ...

    @abc.abstractmethod
    def _ts_in(self, value: datetime | None) -> Any: ...

    @abc.abstractmethod
    def _ts_out(self, value: Any) -> datetime | None: ...

    @abc.abstractmethod
    def _bool_in(self, value: bool) -> Any: ...

    @property
    @abc.abstractmethod
    def closed(self) -> bool: ...

    @abc.abstractmethod
    def close(self) -> None: ...

    # --- plumbing --------------------------------------------------------------------------
    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.target}>"

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @contextmanager
    def transaction(self) -> Iterator[Self]:
        """Commit on success, roll back on an exception; nested blocks are savepoints."""
        if self.closed:
            raise StoreError(f"{self!r} is closed")
        with self._transaction():
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1

    @contextmanager
    def _statement(self) -> Iterator[None]:
        """Around a method that runs one write statement: a transaction of its own when none is
        open, else nothing (one statement is atomic by itself, and its failure propagates to the
        open transaction)."""
        if self.in_transaction:
            yield
        else:
            with self.transaction():
                yield

    def _require_transaction(self, what: str) -> None:
        if not self.in_transaction:
            raise StoreError(f"{what} must be called inside store.transaction()")

    def _params(self, values: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for name, value in values.items():
            if name in JSON_COLUMNS and value is not None:
                out[name] = self._json_in(value)
            elif name in TS_COLUMNS:
                out[name] = self._ts_in(to_datetime(value))
            elif name in BOOL_COLUMNS:
                out[name] = self._bool_in(bool(value))
            else:
                out[name] = value
        return out

    def _decode(self, row: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for name, value in row.items():
            if name in JSON_COLUMNS and value is not None:
                out[name] = self._json_out(value)
            elif name in TS_COLUMNS:
                out[name] = self._ts_out(value)
            elif name in BOOL_COLUMNS:
                out[name] = bool(value)
            else:
                out[name] = value
        return out

    def _rows(self, cls: type[Any], sql: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        names = {f.name for f in fields(cls)}
        return [cls(**{k: v for k, v in self._decode(r).items() if k in names})
                for r in self._exec(sql, params).fetchall()]

    # --- migrations ------------------------------------------------------------------------
    def migrate(self, migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
        """Apply the migrations not applied yet, in one transaction; the versions applied."""
        applied: list[int] = []
        with self.transaction():
            self._lock_migrations()
            self._exec(MIGRATIONS_TABLE.format(**TOKENS[self.dialect]))
            done = {r["version"] for r in
                    self._exec("SELECT version FROM schema_migrations").fetchall()}
            for migration in sorted(migrations, key=lambda m: m.version):
                if migration.version in done:
                    continue
                for statement in migration.for_dialect(self.dialect):
                    self._exec(statement)
                self._exec("INSERT INTO schema_migrations (version, name, applied_at) "
                           "VALUES (:version, :name, :applied_at)",
                           self._params({"version": migration.version, "name": migration.name,
                                         "applied_at": utcnow()}))
                applied.append(migration.version)
        return applied

    def migrations(self) -> list[tuple[int, str, datetime | None]]:
        """The applied migrations: (version, name, applied_at)."""
        rows = self._exec("SELECT version, name, applied_at FROM schema_migrations "
                          "ORDER BY version").fetchall()
        return [(r["version"], r["name"], self._ts_out(r["applied_at"])) for r in rows]

    # --- runs ------------------------------------------------------------------------------
    def start_run(self, crawl_id: str, *, spider: str | None = None,
                  parser_version: str | None = None,
                  started_at: datetime | str | None = None) -> None:
        """Record a crawl (or replay) starting; a resumed crawl (same id) reopens its row."""
        with self.transaction():
            self._exec(START_RUN, self._params({
                "crawl_id": crawl_id, "spider": spider, "started_at": started_at or utcnow(),
                "parser_version": parser_version, "starts": 1}))

    def finish_run(self, crawl_id: str, *, finish_reason: str | None = None,
                   stats: Mapping[str, Any] | None = None,
                   finished_at: datetime | str | None = None) -> None:
        """Record a run ending, with its stats (made JSON-safe)."""
        with self.transaction():
            self._exec(FINISH_RUN, self._params({
                "crawl_id": crawl_id, "finished_at": finished_at or utcnow(),
                "finish_reason": finish_reason,
                "stats": json_safe(dict(stats)) if stats is not None else None}))

    def runs(self) -> list[RunRow]:
        """All runs, by start time (a run whose start was not recorded: by its finish time)."""
        return self._rows(RunRow, "SELECT * FROM runs "
                                  "ORDER BY COALESCE(started_at, finished_at), crawl_id")

    def run(self, crawl_id: str) -> RunRow | None:
        rows = self._rows(RunRow, "SELECT * FROM runs WHERE crawl_id = :id", {"id": crawl_id})
        return rows[0] if rows else None

    # --- sources ---------------------------------------------------------------------------
    def upsert_source(self, row: SourceRow) -> int:
        """Insert or update the copy (url, record); returns its id (also set on ``row``).

        Parsed fields and ``last_seen`` are replaced (a re-parse after a parser upgrade), the
        capture (crawl id, fetch time) and ``role`` are kept. An open quarantine entry for the
        same record is resolved: it parses now.
        """
        if row.role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, not {row.role!r}")
        now = utcnow()
        values = {c: getattr(row, c) for c in _SOURCE_COLUMNS
                  if c not in ("record_key", "first_seen", "last_seen")}
        values |= {"record_key": row.record_key, "first_seen": now, "last_seen": now}
        with self.transaction():
            source_id: int = self._exec(UPSERT_SOURCE, self._params(values)).fetchall()[0]["id"]
            self._exec(RESOLVE_QUARANTINE, self._params(
                {"now": now, "url": row.url, "key": row.record_key}))
            self._exec("DELETE FROM source_bands WHERE source_id = :id", {"id": source_id})
            if row.bands:
                self._insert_bands(source_id, row.bands)
        row.id = source_id
        return source_id

    def _band_query(self, columns: str, found: Sequence[str], year: int | None,
                    after_id: int | None, unreadable_only: bool = False
                    ) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {f"b{i}": b for i, b in enumerate(found)}
        sql = (f"SELECT {columns} FROM sources WHERE id IN (SELECT source_id FROM source_bands "
               f"WHERE band IN ({', '.join(':b' + str(i) for i in range(len(found)))}))")
        if year is not None:
            sql += " AND year = :year"
            params["year"] = year
        if after_id is not None:
            sql += " AND id > :after"
            params["after"] = after_id
        if unreadable_only:
            sql += " AND NOT organ_readable"
        return sql + " ORDER BY id", params

    def similar_fingerprints(self, bands: Sequence[str], *, year: int | None = None,
                             after_id: int | None = None, unreadable_only: bool = False
                             ) -> list[tuple[int, str | None, list[int] | None]]:
        """(id, organ key, fingerprint) of the copies stored under one of ``bands`` (LSH band
        keys), of ``year``, with an id above ``after_id`` and whose organ name is not readable
        when asked, oldest first: what dedup compares, without decoding whole reports."""
        sql, params = self._band_query("id, organ_key, fingerprint", bands, year, after_id,
                                       unreadable_only)
        return [(r["id"], r["organ_key"], self._json_out(r["fingerprint"]) if r["fingerprint"]
                 is not None else None) for r in self._exec(sql, params).fetchall()]

    def last_source_id(self) -> int:
        """The highest source id so far (0 for an empty store)."""
        return self._exec("SELECT max(id) AS id FROM sources").fetchall()[0]["id"] or 0

    def _insert_bands(self, source_id: int, found: Sequence[str]) -> None:
        self._exec("INSERT INTO source_bands (band, source_id) VALUES "
                   + ", ".join(f"(:b{i}, :id)" for i in range(len(found)))
                   + " ON CONFLICT DO NOTHING",
                   {"id": source_id, **{f"b{i}": b for i, b in enumerate(found)}})

    def sources(self, organ_key: str | None = None, year: int | None = None) -> list[SourceRow]:
        """Stored copies, oldest first; filtered by organ key and/or year when given."""
        where: list[str] = []
        params: dict[str, Any] = {}
        if organ_key is not None:
            where.append("organ_key = :organ_key")
            params["organ_key"] = organ_key
        if year is not None:
            where.append("year = :year")
            params["year"] = year
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        return self._rows(SourceRow, f"SELECT * FROM sources{clause} ORDER BY id", params)

    def source_ids(self, organ_key: str, year: int) -> list[int]:
        """Ids of the stored copies of (organ key, year), oldest first, without decoding them."""
        return [r["id"] for r in self._exec(
            "SELECT id FROM sources WHERE organ_key = :k AND year = :y ORDER BY id",
            {"k": organ_key, "y": year}).fetchall()]

    def source(self, source_id: int) -> SourceRow | None:
        rows = self._rows(SourceRow, "SELECT * FROM sources WHERE id = :id", {"id": source_id})
        return rows[0] if rows else None

    def move_group(self, organ_key: str, year: int, to_key: str | None) -> None:
        """Inside ``transaction()``: the copies of (organ_key, year) become copies of
        (to_key, year), whose report is decided anew; the report of (organ_key, year) goes."""
        self._require_transaction("move_group")
        self._exec("UPDATE sources SET organ_key = :to WHERE organ_key = :k AND year = :y",
                   {"to": to_key, "k": organ_key, "y": year})
        self._exec("DELETE FROM reports WHERE organ_key = :k AND year = :y",
                   {"k": organ_key, "y": year})

    def set_source_role(self, source_id: int, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, not {role!r}")
        with self._statement():
            cursor = self._exec("UPDATE sources SET role = :role WHERE id = :id",
                                {"role": role, "id": source_id})
            if cursor.rowcount == 0:
                raise LookupError(f"no source with id {source_id}")

    # --- reports ---------------------------------------------------------------------------
    def upsert_report(self, row: ReportRow) -> None:
        """Insert or replace the report of (organ_key, year).

        A report is the parse of its source (``row.source_id``): only what is its own is
        written, the source's report and findings are read back with it. Its own findings are
        the cross-year ones (identity 5 depends on the neighbouring years in the store)."""
        own = {"updated_at": utcnow(), "cross_year": row.cross_year()}
        values = {c: own[c] if c in own else getattr(row, c) for c in _REPORT_COLUMNS}
        with self._statement():
            self._exec(UPSERT_REPORT, self._params(values))

    def _reports(self, where: str, params: Mapping[str, Any]) -> list[ReportRow]:
        return [ReportRow.from_stored(self._decode(r)) for r in
                self._exec(f"{SELECT_REPORTS} {where}", params).fetchall()]

    def report(self, organ_key: str, year: int) -> ReportRow | None:
        rows = self._reports("WHERE r.organ_key = :k AND r.year = :y", {"k": organ_key, "y": year})
        return rows[0] if rows else None

    def report_tables(self, organ_key: str, year: int) -> dict[str, Any] | None:
        """The year and tables of the report of (organ_key, year), without its checks and
        findings: what the cross-year identity compares, read for every stored copy (a whole
        :meth:`report` rebuilds every finding of the neighbouring year's report)."""
        return self.neighbour_tables(organ_key, year, year)[0]

    def neighbour_tables(self, organ_key: str, before: int, after: int
                         ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """:meth:`report_tables` of the years ``before`` and ``after`` of one organ, in one
        query (dedup reads both years around every copy it stores)."""
        found = {r["year"]: r["report"] for r in self._exec(
            REPORT_TABLES, {"k": organ_key, "y": before, "other": after}).fetchall()}
        return self._tables(found.get(before)), self._tables(found.get(after))

    def _tables(self, stored: Any) -> dict[str, Any] | None:
        if stored is None:
            return None
        report = self._json_out(stored)
        return {key: report.get(key) for key in ("year", *TABLE_KEYS)}

    def set_cross_year(self, organ_key: str, year: int, cross_year: list[dict[str, Any]]) -> None:
        """Replace the cross-year findings of a stored report (its neighbour's year arrived)."""
        with self._statement():
            self._exec(SET_CROSS_YEAR, self._params(
                {"k": organ_key, "y": year, "cross_year": cross_year, "updated_at": utcnow()}))

    def reports(self) -> Iterator[ReportRow]:
        """All reports ordered by (organ_key, year), fetched a page at a time."""
        order = "ORDER BY r.organ_key, r.year LIMIT :n"
        page = self._reports(order, {"n": self.page_size})
        while page:
            yield from page
            if len(page) < self.page_size:
                return
            last = page[-1]
            page = self._reports(
                f"WHERE r.organ_key > :k OR (r.organ_key = :k AND r.year > :y) {order}",
                {"k": last.organ_key, "y": last.year, "n": self.page_size})

    # --- quarantine ------------------------------------------------------------------------
    def upsert_quarantine(self, row: QuarantineRow) -> int:
        """Insert or update the entry for (url, record); returns its id. Re-opens a resolved one."""
        now = utcnow()
        values = {c: getattr(row, c) for c in _QUARANTINE_COLUMNS
                  if c not in ("record_key", "first_seen", "last_seen")}
        values |= {"record_key": row.record_key, "first_seen": now, "last_seen": now}
        with self._statement():
            entry_id: int = self._exec(UPSERT_QUARANTINE, self._params(values)).fetchall()[0]["id"]
        row.id = entry_id
        return entry_id

    # --- fetches (incremental crawls) --------------------------------------------------------
    def record_fetch(self, row: FetchRow) -> None:
        """Remember the last good fetch of ``row.url`` (its validators and archive location)."""
        values = {c: getattr(row, c) for c in _FETCH_COLUMNS}
        values["fetched_at"] = row.fetched_at or utcnow()
        with self._statement():
            self._exec(UPSERT_FETCH, self._params(values))

    def has_fetches_besides(self, crawl_id: str) -> bool:
        """Whether another crawl recorded fetches (a first crawl has no validators to send)."""
        sql = "SELECT 1 AS x FROM fetches WHERE crawl_id IS NULL OR crawl_id <> :c LIMIT 1"
        return bool(self._exec(sql, {"c": crawl_id}).fetchall())

    def fetch(self, url: str) -> FetchRow | None:
        rows = self._rows(FetchRow, "SELECT * FROM fetches WHERE url = :url", {"url": url})
        return rows[0] if rows else None

    def quarantine(self, include_resolved: bool = False) -> list[QuarantineRow]:
        clause = "" if include_resolved else " WHERE resolved_at IS NULL"
        return self._rows(QuarantineRow,
                          f"SELECT * FROM quarantine{clause} ORDER BY first_seen, id")

    def over_limit(self, url: str, record_id: str | None,
                   payload_digest: str | None = None) -> list[QuarantineRow]:
        """The open quarantine entries of the record (``url`` and its WARC record id or payload
        digest) that went over a parsing limit, the latest first."""
        return self._rows(QuarantineRow, OVER_LIMIT, {
            "url": url, "record_id": record_id, "digest": payload_digest,
            "key": record_key(record_id, payload_digest)})

    def resolve_quarantine(self, url: str, record_id: str | None,
                           payload_digest: str | None = None) -> int:
        """Mark the entry of (url, record) resolved; the number of entries resolved (0 or 1)."""
        with self._statement():
            cursor = self._exec(RESOLVE_QUARANTINE, self._params(
                {"now": utcnow(), "url": url, "key": record_key(record_id, payload_digest)}))
            return cursor.rowcount
