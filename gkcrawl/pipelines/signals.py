"""Custom Scrapy signals of the pipelines (the archive's own is gkcrawl.archive.signals)."""

#: sent by a spider whose ``start()`` will yield no more items (the replay, at the end of its
#: archive): a pipeline holding items back to decide them together (dedup's batches) decides
#: them now instead of waiting for more that will not come. No kwargs.
items_exhausted = object()
