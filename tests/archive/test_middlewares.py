"""The archive's downloader middlewares (the crawl log is exercised in test_extension)."""

from __future__ import annotations

from scrapy import Request

from gkcrawl.archive.middlewares import ARCHIVE_ACCEPT_ENCODING, ArchiveAcceptEncodingMiddleware


def test_accept_encoding_middleware_strips_unarchivable_codings() -> None:
    middleware = ArchiveAcceptEncodingMiddleware()
    plain = Request("http://x.gov.cn/")
    middleware.process_request(plain)
    assert plain.headers.getlist("Accept-Encoding") == [ARCHIVE_ACCEPT_ENCODING]
    explicit = Request("http://x.gov.cn/", headers={"Accept-Encoding": "br, gzip;q=0.5, zstd"})
    middleware.process_request(explicit)
    assert explicit.headers.getlist("Accept-Encoding") == [b"gzip;q=0.5"]
    identity = Request("http://x.gov.cn/", headers={"Accept-Encoding": "identity"})
    middleware.process_request(identity)
    assert identity.headers.getlist("Accept-Encoding") == [b"identity"]
    only_br = Request("http://x.gov.cn/", headers={"Accept-Encoding": "br"})
    middleware.process_request(only_br)
    assert only_br.headers.getlist("Accept-Encoding") == [ARCHIVE_ACCEPT_ENCODING]
    # whatever case the header was set in; an empty one is absent
    lower = Request("http://x.gov.cn/", headers={"accept-encoding": "zstd, deflate"})
    middleware.process_request(lower)
    assert lower.headers.getlist("ACCEPT-ENCODING") == [b"deflate"]
    empty = Request("http://x.gov.cn/")
    empty.headers.setlist("Accept-Encoding", [])
    middleware.process_request(empty)
    assert empty.headers.getlist("Accept-Encoding") == [ARCHIVE_ACCEPT_ENCODING]
