"""What every pipeline of the project shares: the crawler, its stats, and ``from_crawler``."""

from __future__ import annotations

from typing import Self

from scrapy.crawler import Crawler


class Pipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def stats(self):  # noqa: ANN201 - scrapy's StatsCollector
        return self.crawler.stats
