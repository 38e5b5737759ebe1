"""Extract cells: a fetched document's bytes -> rows of cells (gkcrawl.parsing extractors).

PDF and DOCX extraction is slow, pure-Python work; it runs in a thread so downloads go on.
"""

from __future__ import annotations

from twisted.internet.threads import deferToThread
from scrapy.utils.defer import maybe_deferred_to_future

from ..items import DocumentItem, QuarantineItem
from .. import PARSER_VERSION
from ..parsing import Unreadable, extract_document
from .base import Pipeline


class ExtractCellsPipeline(Pipeline):
    async def process_item(self, item: object) -> object:
        if not isinstance(item, DocumentItem) or item.document is not None:
            return item
        try:
            item.document = await maybe_deferred_to_future(
                deferToThread(extract_document, item.body, item.content_type, item.url))
        except Unreadable as exc:
            self.stats.inc_value(f"extract/unreadable/{exc.code}")
            return quarantine(item, exc.code, exc.reason)
        self.stats.inc_value(f"extract/{item.document.kind}")
        return item


def quarantine(item: DocumentItem, code: str, reason: str, title: str | None = None) -> QuarantineItem:
    return QuarantineItem(url=item.url, code=code, reason=reason, portal=item.portal, role=item.role,
                          title=title, crawl_id=item.crawl_id, fetched_at=item.fetched_at,
                          warc=item.warc, parser_version=PARSER_VERSION)
