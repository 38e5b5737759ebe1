"""Extract cells: a fetched document's bytes -> rows of cells (gkcrawl.parsing extractors).

PDF and DOCX extraction is slow, pure-Python work; it runs in a thread so downloads go on. HTML
and plain text take a millisecond or two: they are extracted in place, where handing them to a
thread and back would take longer than extracting them.
"""

from __future__ import annotations

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.threads import deferToThread

from gkcrawl import PARSER_VERSION
from gkcrawl.items import DocumentItem, QuarantineItem
from gkcrawl.parsing import Unreadable, extract_document
from gkcrawl.parsing.extract import decode
from gkcrawl.pipelines.base import Pipeline

#: Document kinds extracted on the reactor thread; the others go to a thread.
IN_PLACE = frozenset({decode.HTML, decode.TEXT})


class ExtractCellsPipeline(Pipeline):
    async def process_item(self, item: object) -> object:
        if not isinstance(item, DocumentItem) or item.document is not None:
            return item
        args = (item.body, item.content_type, item.url)
        try:
            if decode.sniff(*args) in IN_PLACE:
                item.document = extract_document(*args)
            else:
                item.document = await maybe_deferred_to_future(
                    deferToThread(extract_document, *args))
        except Unreadable as exc:
            self.stats.inc_value(f"extract/unreadable/{exc.code}")
            return quarantine(item, exc.code, exc.reason)
        self.stats.inc_value(f"extract/{item.document.kind}")
        return item


def quarantine(item: DocumentItem, code: str, reason: str,
               title: str | None = None) -> QuarantineItem:
    return QuarantineItem(url=item.url, code=code, reason=reason, portal=item.portal,
                          role=item.role, title=title, crawl_id=item.crawl_id,
                          fetched_at=item.fetched_at, warc=item.warc,
                          parser_version=PARSER_VERSION)
