"""Each URL is scheduled once: the spider's canonical URLs, Scrapy's dupefilter without its
JOBDIR file."""

from __future__ import annotations

from scrapy import Request
from scrapy.utils.test import get_crawler

from gkcrawl.crawl.resume import MemoryDupeFilter
from gkcrawl.spiders.portals import PortalsSpider


def test_dupefilter_sees_canonical_duplicates() -> None:
    crawler = get_crawler(PortalsSpider)
    dupefilter = MemoryDupeFilter.from_crawler(crawler)
    assert dupefilter.request_seen(Request("http://a.gov.cn/list?b=2&a=1")) is False
    # same fingerprint: Scrapy canonicalizes the query order
    assert dupefilter.request_seen(Request("http://a.gov.cn/list?a=1&b=2")) is True
    assert dupefilter.request_seen(Request("http://a.gov.cn/list?a=1&b=3")) is False
    assert dupefilter.request_seen(Request("http://a.gov.cn/list", method="POST")) is False


def test_spider_schedules_each_canonical_url_once() -> None:
    crawler = get_crawler(PortalsSpider, {"CRAWL_PAGE_BUDGET": 3})
    spider = PortalsSpider.from_crawler(crawler, only="gov")

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
