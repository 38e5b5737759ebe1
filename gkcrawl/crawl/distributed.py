"""Distributed crawls: several ``scrapy crawl portals`` workers share one crawl through Redis.

Only imported when ``REDIS_URL`` is set (settings.py names these classes as strings). Built on
scrapy-redis 0.9.1, pinned in pyproject (its last release; it predates Scrapy 2.14). What had to
be adapted for Scrapy 2.19:

* its scheduler passes ``spider=`` to the stats collector and calls ``spider.log()``, both
  deprecated (warnings on every request): :class:`RedisScheduler` overrides those methods;
* its queue and dupefilter keys are per spider name, so the next run of ``portals`` would find the
  previous run's fingerprints and fetch nothing, and its default of flushing the keys when a
  worker closes would wipe the dupefilter under the workers still running: the keys here are per
  run (``gkcrawl:<CRAWL_ID>:requests`` / ``:dupefilter``), kept until the run is over
  (``SCHEDULER_PERSIST``), and a shared ``CRAWL_ID`` is required.

Each worker archives into its own crawl directory ``<CRAWL_ID>-<WORKER_ID>`` and all of them
store into one PostgreSQL database (``STORE_URL``), whose per-report lock keeps dedup decisions
from racing.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Self

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler

from gkcrawl.archive.config import worker_id

logger = logging.getLogger(__name__)


def run_keys(run: str) -> tuple[str, str]:
    """Redis keys of one distributed run: its request queue and its dupefilter."""
    return f"gkcrawl:{run}:requests", f"gkcrawl:{run}:dupefilter"


class RedisScheduler(Scheduler):  # type: ignore[misc]  # scrapy-redis is untyped
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        run = crawler.settings.get("CRAWL_ID")
        if not run:
            raise NotConfigured("a distributed crawl (REDIS_URL) needs -s CRAWL_ID=<run> shared "
                                "by its workers")
        scheduler: Self = super().from_crawler(crawler)
        scheduler.queue_key, scheduler.dupefilter_key = run_keys(run)
        scheduler.df = RFPDupeFilter(scheduler.server, key=scheduler.dupefilter_key,
                                     debug=crawler.settings.getbool("DUPEFILTER_DEBUG"))
        return scheduler

    def open(self, spider: Any) -> None:
        self.spider = spider
        self.queue = self._load_queue(spider)
        if self.flush_on_start:
            self.flush()
        if len(self.queue):
            logger.info("Joining distributed crawl %s: %d requests queued",
                        self.queue_key, len(self.queue))

    def _load_queue(self, spider: Any) -> Any:
        from scrapy.utils.misc import load_object

        return load_object(self.queue_cls)(server=self.server, spider=spider, key=self.queue_key,
                                           serializer=self.serializer)

    def enqueue_request(self, request: Request) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def next_request(self) -> Request | None:
        request: Request | None = self.queue.pop(self.idle_before_close)
        if request and self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request


#: A worker counts as busy for this long after its last response.
BUSY_SECONDS = 10.0
#: Busy marks are written at most this often.
MARK_EVERY = 1.0


class SharedRunIdle:
    """Extension: a worker with nothing to do stays open while another worker of the run is busy,
    because the links that worker finds may be queued for this one. The last idle worker closes.

    Without it a worker that joins a moment late finds the start requests already taken, sees an
    empty queue and closes, and the crawl runs on one worker.
    """

    def __init__(self, crawler: Crawler) -> None:
        import redis

        run = crawler.settings.get("CRAWL_ID")
        if not crawler.settings.get("REDIS_URL") or not run:
            raise NotConfigured("not a distributed run")
        self.server = redis.Redis.from_url(crawler.settings["REDIS_URL"])
        self.key = f"gkcrawl:{run}:busy"
        self.me = worker_id(crawler.settings)
        self.last_mark = 0.0
        # joining counts as busy: the first responses may not have arrived when another worker idles
        crawler.signals.connect(self.mark_busy, signal=signals.spider_opened)
        crawler.signals.connect(self.mark_busy, signal=signals.request_scheduled)
        crawler.signals.connect(self.mark_busy, signal=signals.response_received)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def mark_busy(self) -> None:
        now = time.time()
        if now - self.last_mark >= MARK_EVERY:
            self.server.hset(self.key, self.me, now)
            self.last_mark = now

    def spider_idle(self) -> None:
        now = time.time()
        self.server.hdel(self.key, self.me)
        marks = self.server.hgetall(self.key).items()
        others = {(w.decode() if isinstance(w, bytes) else w): float(t) for w, t in marks}
        busy = [w for w, t in others.items() if w != self.me and now - t < BUSY_SECONDS]
        if busy:
            logger.debug("Idle, staying open: %s still busy", ", ".join(busy))
            raise DontCloseSpider

    def spider_closed(self) -> None:
        self.server.hdel(self.key, self.me)
