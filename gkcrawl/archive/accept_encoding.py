"""Ask servers only for codings every WARC tool can decode.

Scrapy ≥2.18 sends ``Accept-Encoding: gzip, deflate, br, zstd``; warcio cannot decode br
(brotli/brotlipy API clash) or zstd, and pywb replays zstd as garbage.  This middleware sets
the header before ``HttpCompressionMiddleware`` (590), whose ``process_request`` only does
``setdefault``; ``process_request`` runs from low to high numbers, hence 585.
"""

from __future__ import annotations

from scrapy import Request

ARCHIVE_ACCEPT_ENCODING = b"gzip, deflate"
#: Order number in DOWNLOADER_MIDDLEWARES: lower than HttpCompressionMiddleware's 590.
ACCEPT_ENCODING_MIDDLEWARE_ORDER = 585
_UNARCHIVABLE = (b"br", b"zstd")
#: The header's name as Scrapy's ``Headers`` keeps it (``normkey``: title case).
_HEADER = b"Accept-Encoding"


class ArchiveAcceptEncodingMiddleware:
    """Set ``Accept-Encoding: gzip, deflate``; strip br/zstd from an explicit value."""

    def process_request(self, request: Request) -> None:
        # Scrapy's Headers is a dict of normalised names to lists of values: read it as such
        # (``headers.get`` normalises the name and the default for every request)
        values = dict.get(request.headers, _HEADER)
        current = values[-1] if values else None
        if current is None:
            request.headers[_HEADER] = ARCHIVE_ACCEPT_ENCODING
            return
        codings = [c.strip() for c in current.split(b",")]
        if any(c.split(b";")[0].strip().lower() in _UNARCHIVABLE for c in codings):
            kept = [c for c in codings if c.split(b";")[0].strip().lower() not in _UNARCHIVABLE]
            request.headers[b"Accept-Encoding"] = b", ".join(kept) or ARCHIVE_ACCEPT_ENCODING
