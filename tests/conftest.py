"""Shared fixtures. Stores: one fixture, two backends: every test using ``store`` or
``make_store`` runs against SQLite and a real PostgreSQL.

PostgreSQL comes from ``GKCRAWL_TEST_PG_URL`` (default below). The session gets its own schema
(``gk_test_<random>``, via ``search_path``), emptied before each test and dropped at the end, so
parallel runs on one server do not collide. If the server is not reachable the PostgreSQL tests
fail (they never skip, and fail in the test call, not as setup errors) and say what to start.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
import pytest

from gkcrawl.store import Store, open_store

if TYPE_CHECKING:
    from tests.crawling import Crawl

PG_URL = os.environ.get("GKCRAWL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
START_PG = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


def with_search_path(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    options = " ".join([v for k, v in query if k == "options"] + [f"-csearch_path={schema}"])
    query = [(k, v) for k, v in query if k != "options"] + [("options", options)]
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


class PgSchema:
    """The session's schema on the test server; ``fresh()`` empties it and returns its URL."""

    def __init__(self) -> None:
        self.name = f"gk_test_{secrets.token_hex(5)}"
        self.url = with_search_path(PG_URL, self.name)
        self.error: str | None = None
        self._admin: psycopg.Connection[Any] | None = None
        try:
            self._admin = psycopg.connect(PG_URL, autocommit=True, connect_timeout=5)
        except psycopg.OperationalError as exc:
            self.error = (f"PostgreSQL is not reachable at {PG_URL}: {str(exc).strip()}\n"
                          f"Start it with:  {START_PG}\n"
                          f"(or point GKCRAWL_TEST_PG_URL at a server)")

    def fresh(self) -> str:
        assert self._admin is not None
        self._admin.execute(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')
        self._admin.execute(f'CREATE SCHEMA "{self.name}"')
        return self.url

    def drop(self) -> None:
        if self._admin is not None:
            self._admin.execute(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')
            self._admin.close()


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[PgSchema]:
    schema = PgSchema()
    yield schema
    schema.drop()


PG_DOWN = pytest.StashKey[str]()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> None:
    error = pyfuncitem.stash.get(PG_DOWN, None)
    if error:
        pytest.fail(error, pytrace=False)


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a store lives: a SQLite file under a not-yet-existing directory, or a PG URL."""
    if request.param == "sqlite":
        return str(tmp_path / "archive" / "gkcrawl.sqlite3")
    schema: PgSchema = request.getfixturevalue("pg_schema")
    if schema.error:  # the test fails when called (pytest_pyfunc_call), store fixtures stand by
        request.node.stash[PG_DOWN] = schema.error
        return schema.url
    return schema.fresh()


@pytest.fixture
def make_store(request: pytest.FixtureRequest, target: str) -> Iterator[Callable[..., Store]]:
    """Opens stores on the test's database (several: one per simulated worker)."""
    stores: list[Store] = []

    def make(*, migrate: bool = True) -> Store:
        store = open_store(target, migrate=migrate)
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


@pytest.fixture
def store(request: pytest.FixtureRequest, make_store: Callable[..., Store]) -> Store | None:
    if PG_DOWN in request.node.stash:
        return None
    return make_store()


@pytest.fixture
def fast_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process crawls that only pass items through pipelines end when the engine's idle
    heartbeat (5 s) next ticks; a short one keeps such tests fast without changing behaviour."""
    from scrapy.core.engine import ExecutionEngine

    monkeypatch.setattr(ExecutionEngine, "_SLOT_HEARTBEAT_INTERVAL", 0.1)


@pytest.fixture(scope="session")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawl]:
    """``scrapy crawl portals`` over the sample portal, once per session."""
    import json

    from gkcrawl.demo.site import DEFAULT_SEED, build_site
    from tests.crawling import SLOW, TRAP_LIMIT, Crawl, run_crawl
    from tests.portal import PortalProcess

    portal = PortalProcess("--port", "0", "--seed", str(DEFAULT_SEED), "--slow-delay", str(SLOW),
                           "--trap-limit", str(TRAP_LIMIT))
    try:
        out = tmp_path_factory.mktemp("crawl")
        proc = run_crawl(portal.url, out)
        assert proc.returncode == 0, proc.stderr[-3000:]
        _, body = portal.get("/__hits__")
        lines = (out / "reports.jsonl").read_text("utf-8").splitlines()
        items = [json.loads(line) for line in lines]
        yield Crawl(build_site(DEFAULT_SEED, slow_delay=SLOW, trap_limit=TRAP_LIMIT), portal.url,
                    out / "archive", out / "archive" / "test-crawl", items, json.loads(body),
                    proc.stderr)
    finally:
        portal.stop()
