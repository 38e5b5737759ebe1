"""What the crawler keeps per URL stays compact: the spider's ``seen`` and the dupefilter hold
8-byte hashes in a flat table (FingerprintSet), the start-up heap is frozen for the GC, and
Twisted's cancelled timers (two a download) are dropped within a tick instead of a timeout."""

from __future__ import annotations

import asyncio
import gc
import random
import re

import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from gkcrawl.crawl.summary import FreezeStartupHeap, GcThreshold, PurgeCancelledTimers
from gkcrawl.crawl.resume import INITIAL_SLOTS, MAX_LOAD, FingerprintSet, MemoryDupeFilter
from gkcrawl.spiders.portals import PortalsSpider

#: As many URLs as the bench's large crawl schedules.
MANY = 20_000


def urls(n: int, salt: str = "") -> list[str]:
    rng = random.Random(f"urls{salt}")
    return [f"http://www.example.gov.cn/zfxxgk/{i}/t{rng.randrange(10**9)}{salt}.html"
            for i in range(n)]


def test_fingerprint_set_is_a_set() -> None:
    seen = FingerprintSet()
    assert len(seen) == 0 and "http://a.gov.cn/" not in seen
    assert seen.add("http://a.gov.cn/") is True
    assert seen.add("http://a.gov.cn/") is False
    assert seen.add(b"\x01" * 20) is True and b"\x01" * 20 in seen
    assert "http://a.gov.cn/" in seen and "http://a.gov.cn/x" not in seen
    assert 42 not in seen  # not a str or bytes: never a member
    assert len(seen) == 2
    assert len(FingerprintSet(["a", "b", "a"])) == 2


def test_fingerprint_set_keeps_every_member_through_growth() -> None:
    members, others = urls(MANY), urls(MANY, salt="-other")
    seen = FingerprintSet()
    assert [seen.add(u) for u in members] == [True] * MANY
    assert len(seen) == MANY
    assert all(u in seen for u in members)
    assert not any(u in seen for u in others)
    assert not any(seen.add(u) for u in members)
    assert len(seen) == MANY


def test_fingerprint_set_memory_is_a_few_bytes_per_member() -> None:
    seen = FingerprintSet(urls(MANY))
    slots = INITIAL_SLOTS
    while slots * MAX_LOAD < MANY:
        slots *= 2
    assert seen.nbytes == 8 * slots == 262_144  # 32,768 slots: 13 bytes per URL
    assert seen.nbytes / MANY < 24


def test_fingerprint_set_rejects_a_bad_table_size() -> None:
    with pytest.raises(ValueError, match="power of two"):
        FingerprintSet(slots=1000)


def test_dupefilter_sees_canonical_duplicates() -> None:
    crawler = get_crawler(PortalsSpider)
    dupefilter = MemoryDupeFilter.from_crawler(crawler)
    assert dupefilter.request_seen(Request("http://a.gov.cn/list?b=2&a=1")) is False
    # same fingerprint: Scrapy canonicalizes the query order
    assert dupefilter.request_seen(Request("http://a.gov.cn/list?a=1&b=2")) is True
    assert dupefilter.request_seen(Request("http://a.gov.cn/list?a=1&b=3")) is False
    assert dupefilter.request_seen(Request("http://a.gov.cn/list", method="POST")) is False
    assert len(dupefilter.seen) == 3


def test_spider_schedules_each_canonical_url_once() -> None:
    crawler = get_crawler(PortalsSpider, {"GKCRAWL_PAGE_BUDGET": 3})
    spider = PortalsSpider.from_crawler(crawler, only="gov")
    assert isinstance(spider.seen, FingerprintSet)

    def request(url: str) -> Request | None:
        return spider._request(url, "gov", 1, "page", "https://www.gov.cn/", 100)

    first = request("https://www.gov.cn/zhengce/index.htm#top")
    assert first is not None and first.url == "https://www.gov.cn/zhengce/index.htm"
    assert request("https://www.gov.cn/zhengce/index.htm") is None  # same canonical URL
    assert request("https://elsewhere.cn/zhengce/") is None  # off the portal's domains
    assert request("https://www.gov.cn/a.htm") is not None
    assert request("https://www.gov.cn/b.htm") is not None
    assert request("https://www.gov.cn/c.htm") is None  # past the budget of 3
    assert len(spider.seen) == 3 and spider.scheduled["gov"] == 3
    assert crawler.stats.get_value("portal/gov/bounded/budget") == 1


def test_start_up_heap_frozen_while_the_spider_runs() -> None:
    assert gc.get_freeze_count() == 0
    extension = FreezeStartupHeap.from_crawler(get_crawler(PortalsSpider))
    try:
        extension.spider_opened()
        assert gc.get_freeze_count() > 0
    finally:
        extension.spider_closed()
    assert gc.get_freeze_count() == 0
    extension.spider_closed()  # a second close is harmless
    assert gc.get_freeze_count() == 0
    with pytest.raises(NotConfigured):
        FreezeStartupHeap.from_crawler(get_crawler(PortalsSpider, {"GC_FREEZE_STARTUP": False}))


def test_gc_threshold_set_while_the_spider_runs() -> None:
    python_own = gc.get_threshold()
    extension = GcThreshold.from_crawler(
        get_crawler(PortalsSpider, {"GC_THRESHOLD": [10_000, 10, 10]}))
    try:
        extension.spider_opened()
        assert gc.get_threshold() == (10_000, 10, 10)
    finally:
        extension.spider_closed()
    assert gc.get_threshold() == python_own
    with pytest.raises(NotConfigured):  # a crawl keeps Python's own
        GcThreshold.from_crawler(get_crawler(PortalsSpider))


@pytest.mark.parametrize(("given", "threshold"), [
    ("10000,10,10", (10_000, 10, 10)), (" 5000 ", (5_000,)), ("", None), ([], None)])
def test_gc_threshold_from_the_command_line(given: object, threshold: tuple | None) -> None:
    """``-s GC_THRESHOLD=10000,10,10`` as the list, ``-s GC_THRESHOLD=`` as Python's own."""
    crawler = get_crawler(PortalsSpider, {"GC_THRESHOLD": given})
    if threshold is None:
        with pytest.raises(NotConfigured):
            GcThreshold.from_crawler(crawler)
    else:
        assert GcThreshold.from_crawler(crawler).threshold == threshold


@pytest.mark.parametrize("given", ["[]", "1,2,3,4", "-1", "many"])
def test_a_gc_threshold_that_is_no_threshold_is_an_error(given: str) -> None:
    with pytest.raises(ValueError, match=r"GC_THRESHOLD: one to 3 integers.*" + re.escape(given)):
        GcThreshold.from_crawler(get_crawler(PortalsSpider, {"GC_THRESHOLD": given}))


def test_a_replay_raises_the_gc_threshold() -> None:
    from scrapy.settings import Settings

    from gkcrawl.spiders.replay import ReplaySpider

    settings = Settings({"GC_THRESHOLD": []})
    ReplaySpider.update_settings(settings)  # its custom_settings, as Scrapy applies them
    assert GcThreshold.from_crawler(get_crawler(ReplaySpider, settings.copy_to_dict())
                                    ).threshold == (10_000, 10, 10)


#: Downloads' timers cancelled in the test: ten times the 50 Twisted lets pile up before a purge.
CANCELLED = 500
TICK_S = 0.05


def _held_timers(reactor: object) -> int:
    """Delayed calls the reactor still holds, cancelled ones included (Twisted's own lists)."""
    return len(reactor._newTimedCalls) + len(reactor._pendingTimedCalls)  # type: ignore[attr-defined]


@deferred_f_from_coro_f
async def test_cancelled_twisted_timers_are_dropped_within_a_tick() -> None:
    from twisted.internet import reactor

    extension = PurgeCancelledTimers.from_crawler(
        get_crawler(PortalsSpider, {"TIMER_PURGE_SECONDS": TICK_S}))
    before = _held_timers(reactor)
    try:
        extension.spider_opened()
        for _ in range(CANCELLED):  # what downloads do with their DOWNLOAD_TIMEOUT
            reactor.callLater(60, lambda: None).cancel()  # type: ignore[attr-defined]
        assert _held_timers(reactor) >= before + CANCELLED  # held until a Twisted timer fires
        await asyncio.sleep(4 * TICK_S)  # asyncio's timer: a Twisted one would purge by itself
        assert _held_timers(reactor) < before + CANCELLED // 2
    finally:
        extension.spider_closed()
    assert extension.tick is None
    with pytest.raises(NotConfigured):
        PurgeCancelledTimers.from_crawler(get_crawler(PortalsSpider, {"TIMER_PURGE_SECONDS": 0}))
