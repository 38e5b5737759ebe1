"""WARC archive layer: write every fetched exchange byte-faithfully, verify, read back.

Modules: ``records`` (HTTP heads as raw bytes), ``digests`` (payload digests, revisit
store), ``writer`` (WARC files, rotation, index), ``cdxj`` (index lines), ``framing``
(gzip members and record framing when reading), ``verify`` (integrity report), ``reader``
(exchanges for replay), ``extension`` and ``middlewares`` (Scrapy components), ``signals``
(``warc_metadata``, ``warc_exchange``, ``warc_conversion``), ``config`` (settings, crawl id).
"""

#: Components to merge into the project settings to archive a crawl.
ARCHIVE_EXTENSIONS = {"gkcrawl.archive.extension.WarcArchiver": 0}
ARCHIVE_DOWNLOADER_MIDDLEWARES = {
    # before HttpCompressionMiddleware (590) sets its default Accept-Encoding
    "gkcrawl.archive.middlewares.ArchiveAcceptEncodingMiddleware": 585,
    # before RetryMiddleware (550) sees the exception: one line per failed attempt
    "gkcrawl.archive.middlewares.CrawlLogMiddleware": 950,
}
