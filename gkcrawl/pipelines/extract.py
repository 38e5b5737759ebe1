"""Extract and parse: a fetched document's bytes -> its parse (gkcrawl.parsing).

HTML and plain text, a millisecond or two each, are parsed in place. PDF, DOCX and legacy Word
files are parsed in the crawl's parse pool (:class:`~gkcrawl.parsing.pool.ParsePool`), worker
processes under PARSE_TIME_LIMIT, PARSE_MEMORY_LIMIT and PARSE_MAX_INFLATED, while downloads go
on. A record the store already holds as quarantined for one of these limits, at the same or a
higher value (a resumed crawl, a replay), is quarantined again without being parsed; a replay
with a raised limit parses it again.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from typing import Self, TypeVar

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.utils.asyncio import is_asyncio_available, run_in_thread
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from gkcrawl import PARSER_VERSION
from gkcrawl.items import DocumentItem, QuarantineItem
from gkcrawl.parsing.pool import ParsePool
from gkcrawl.parsing.regions import divisions
from gkcrawl.pipelines.base import Pipeline
from gkcrawl.store import QuarantineRow, store_for

T = TypeVar("T")


class ExtractCellsPipeline(Pipeline):
    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.pool = ParsePool.from_settings(crawler.settings)
        # HTML is parsed on the reactor. The division list takes a second to read: read it as
        # the crawl starts, not on the first report while other responses wait (and time out).
        divisions()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.pool.close, signal=signals.engine_stopped)
        return pipeline

    async def process_item(self, item: object) -> object:
        if not isinstance(item, DocumentItem) or item.parsed is not None:
            return item
        args = (item.body, item.content_type, item.url)
        if not self.pool.in_place(*args):
            known = self._over_limit(item)
            if known is not None:  # parsed before under these limits (or lower): not again
                self.stats.inc_value("parse/over_limit_known")
                if item.warc is not None and not item.warc.get("digest"):
                    # a resumed crawl's pointer names the record only: the entry stays one row
                    item.warc = {**item.warc, "digest": known.payload_digest}
                return quarantine(item, known.code, known.reason, known.title, known.over_limit)
            self.stats.inc_value("parse/pool/documents")
            if not self.pool.started:  # (the fork server takes a second or more to start)
                await run_in_thread(self.pool.start)
        item.parsed = await wait_for(self.pool.submit(*args))
        kind = item.parsed.result.source_kind
        if kind:
            self.stats.inc_value(f"extract/{kind}")
        return item

    def _over_limit(self, item: DocumentItem) -> QuarantineRow | None:
        """The stored entry of the item's record that went over a limit no higher than ours."""
        warc = item.warc or {}
        for entry in store_for(self.crawler).over_limit(item.url, warc.get("record_id"),
                                                        warc.get("digest")):
            if self.pool.limits.would_stop(entry.code, entry.over_limit):
                return entry
        return None


async def wait_for(future: Future[T]) -> T:
    """The result of a concurrent future, awaited on the crawl's event loop: asyncio's, or else
    the Twisted reactor's."""
    if is_asyncio_available():
        return await asyncio.wrap_future(future)
    from twisted.internet import reactor

    done: Deferred[T] = Deferred()
    future.add_done_callback(lambda f: reactor.callFromThread(done.callback, f.result()))
    return await maybe_deferred_to_future(done)


def quarantine(item: DocumentItem, code: str, reason: str, title: str | None = None,
               over_limit: float | None = None) -> QuarantineItem:
    return QuarantineItem(url=item.url, code=code, reason=reason, portal=item.portal,
                          role=item.role, title=title, crawl_id=item.crawl_id,
                          fetched_at=item.fetched_at, warc=item.warc,
                          parser_version=PARSER_VERSION, over_limit=over_limit)
