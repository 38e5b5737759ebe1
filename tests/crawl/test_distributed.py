"""Two workers share one crawl of the sample portal through a real Redis, storing into a real
PostgreSQL: every page fetched once in total, every report stored once."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from gkcrawl.archive.reader import iter_archive
from gkcrawl.crawl.distributed import run_keys
from gkcrawl.demo.registry import write_registry
from gkcrawl.demo.site import DEFAULT_SEED, build_site
from gkcrawl.store import open_store
from tests.conftest import PgSchema
from tests.crawling import ROOT
from tests.portal import PortalProcess

REDIS_URL = os.environ.get("GKCRAWL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
START_REDIS = ("redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' "
               "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log")
WORKERS = ("w1", "w2")


@pytest.fixture
def redis_server() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({exc}).\n"
                    f"Start it with:  {START_REDIS}", pytrace=False)
    return REDIS_URL


def test_two_workers_share_one_crawl(redis_server: str, pg_schema: PgSchema,
                                     tmp_path: Path) -> None:
    if pg_schema.error:
        pytest.fail(pg_schema.error, pytrace=False)
    store_url = pg_schema.fresh()
    run = f"dist-{secrets.token_hex(4)}"
    portal = PortalProcess("--port", "0", "--slow-delay", "3", "--trap-limit", "5")
    try:
        registry = tmp_path / "portals.csv"
        write_registry(registry, portal.url)
        env = {**os.environ, "GKCRAWL_REDIS_URL": redis_server}
        workers = [subprocess.Popen(
            [sys.executable, "-m", "scrapy", "crawl", "portals", "-a", f"portals={registry}",
             "-s", f"CRAWL_ID={run}", "-s", f"WORKER_ID={worker}", "-s", f"STORE_URL={store_url}",
             # one portal, so each worker takes few requests at a time (the engine pulls up to
             # CONCURRENT_REQUESTS from the shared queue) and goes slowly enough that the other,
             # which polls the queue every few seconds while idle, certainly gets work
             "-s", f"ARCHIVE_DIR={tmp_path / 'archive'}", "-s", "DOWNLOAD_DELAY=0.1",
             "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS=2",
             "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
             "-s", "DOWNLOAD_TIMEOUT=1.5", "-s", "RETRY_TIMES=0", "-s", "CRAWL_MAX_LIST_PAGES=5",
             "-s", "LOG_LEVEL=INFO"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for worker in WORKERS]
        logs = [w.communicate(timeout=300)[1] for w in workers]
        assert [w.returncode for w in workers] == [0, 0], "\n".join(log[-2000:] for log in logs)
        _, body = portal.get("/__hits__")
        hits: dict[str, int] = json.loads(body)
    finally:
        portal.stop()
        redis.Redis.from_url(redis_server).delete(*run_keys(run))

    site = build_site(DEFAULT_SEED)
    # every page fetched once in total (robots.txt is asked by each worker)
    twice = {p: n for p, n in hits.items() if n > 1 and p not in site.may_repeat | {"/robots.txt"}}
    assert twice == {}
    assert {r.path for r in site.reports} <= set(hits)
    # both workers worked, each into its own crawl directory
    per_worker = {w: [e.url for e in iter_archive([tmp_path / "archive" / f"{run}-{w}"])]
                  for w in WORKERS}
    assert all(len(urls) > 1 for urls in per_worker.values())
    # every report stored once, every document once, in the shared PostgreSQL store
    with open_store(store_url) as store:
        sources = store.sources()
        assert (sorted(s.url.removeprefix(portal.url) for s in sources)
                == sorted(r.path for r in site.reports))
        reports = list(store.reports())
        assert len(reports) == len({(r.organ, r.year) for r in site.reports})
        assert {r.crawl_id for r in sources} <= {f"{run}-{w}" for w in WORKERS}
