"""Downloader middlewares of the crawl (the archive's own live in gkcrawl/archive)."""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from .archive.signals import warc_metadata
from .discovery import META_KEY

logger = logging.getLogger(__name__)

#: 瑞数 (RiverSecurity) and similar WAFs answer the first request with 412 and a JS challenge.
CHALLENGE_STATUSES = frozenset({412})


class AntiBotMiddleware:
    """Record anti-bot challenges as such instead of retrying them blindly.

    The challenge response is archived like any other (the archive hooks the download itself);
    here it is counted per domain, marked in a WARC metadata record, and passed on so that
    HttpErrorMiddleware drops it: solving JavaScript challenges is out of scope.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.warned: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> "AntiBotMiddleware":
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status in CHALLENGE_STATUSES:
            domain = request.url.split("/")[2]
            stats = self.crawler.stats
            stats.inc_value(f"antibot/{response.status}")
            stats.inc_value(f"antibot/{response.status}/{domain}")
            portal = request.meta.get(META_KEY, {}).get("portal")
            if portal:
                stats.inc_value(f"portal/{portal}/antibot")
            if domain not in self.warned:
                self.warned.add(domain)
                logger.warning("Anti-bot challenge (HTTP %s) from %s; not retried",
                               response.status, domain)
            self.crawler.signals.send_catch_log(
                warc_metadata, response=response,
                fields={"role": "antibot-challenge", "portal": portal or "",
                        "status": str(response.status)})
        return response

