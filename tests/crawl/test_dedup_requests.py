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


PROXY = "http://www.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=46&endrecord=90&perpage=15"


def form(column: str) -> tuple[tuple[str, str], ...]:
    return (("col", "1"), ("webid", "1"), ("columnid", column), ("unitid", "4985524"))


def test_posts_are_one_request_per_url_and_body() -> None:
    """Two Hanweb columns POST one range URL with their own forms: two requests, each once,
    with the JOBDIR set (its dupefilter file is not used) as without."""
    crawler = get_crawler(PortalsSpider, {"JOBDIR": "unused-by-the-dupefilter"})
    spider = PortalsSpider.from_crawler(crawler, only="gov")
    dupefilter = MemoryDupeFilter.from_crawler(crawler)

    def request(column: str) -> Request | None:
        return spider._request(PROXY, "gov", 1, "list", "https://www.gov.cn/col/", -1,
                               method="POST", form=form(column))

    first, second = request("1229"), request("1230")
    assert first is not None and second is not None
    assert (first.method, first.url) == ("POST", second.url)
    assert first.body == b"col=1&webid=1&columnid=1229&unitid=4985524"
    assert first.headers[b"Content-Type"].startswith(b"application/x-www-form-urlencoded")
    assert request("1229") is None  # the same URL and body again
    assert spider._request(PROXY, "gov", 1, "list", None, -1) is not None  # a GET is another
    assert [dupefilter.request_seen(r) for r in (first, second, first.replace())] == [
        False, False, True]
