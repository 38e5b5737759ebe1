"""What every pipeline of the project shares: the crawler, its stats, and ``from_crawler``."""

from __future__ import annotations

from typing import Self

from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector


class Pipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def stats(self) -> StatsCollector:
        return self.crawler.stats
