"""Replay: the archive stands in for the network, so the crawl's own chain re-parses it offline.

``archived_response`` turns an archived exchange (raw header bytes, body still content-encoded)
into the Response the downloader would have produced; ``ArchiveDecoder`` passes it through
Scrapy's own HttpCompressionMiddleware, which decodes it exactly as in a live crawl. The replay
spider does both itself and yields the items from ``start()``: sending every record through the
scheduler, the downloader and the spider middlewares cost more than parsing it
(docs/benchmarks.md, Replay). ``ArchiveResponseMiddleware`` still answers any request a replay
makes from the archive, and refuses the network.

``main_replay`` runs ``scrapy crawl replay`` over groups of WARC files in parallel processes (one
per core by default) and shows one progress bar with records per second.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Sequence

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes

from .archive.paths import expand_warc_paths
from .archive.reader import ArchivedExchange

EXCHANGE_KEY = "gk_exchange"
#: A line a replay process prints for the parent's progress bar.
PROGRESS_PREFIX = "@progress "
DONE_PREFIX = "@done "
PROGRESS_EVERY = 50

REPLAY_SETTINGS: dict[str, Any] = {
    # nothing touches the network (so nothing is retried), nothing is archived again
    "ROBOTSTXT_OBEY": False,
    "RETRY_ENABLED": False,
    "WARC_ENABLED": False,
    "COOKIES_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    # documents handed to the pipelines and not yet through them: enough to keep a PDF in the
    # extraction thread from stalling the HTML behind it, few enough to bound memory
    "REPLAY_ITEMS_IN_FLIGHT": 8,
    "DOWNLOADER_MIDDLEWARES": {"gkcrawl.replay.ArchiveResponseMiddleware": 950},
    # no network handlers at all: a request that got past the archive middleware could not be
    # sent, and not loading them spares the TLS set-up (a tenth of a replay's start-up)
    "DOWNLOAD_HANDLERS": {scheme: None for scheme in ("http", "https", "ftp", "s3", "data")},
}


def archived_response(exchange: ArchivedExchange, request: Request, *,
                      encoded_as_bytes: bool = False) -> Response:
    """The Response the downloader would have produced for the archived exchange: every header
    as archived (raw bytes, repeats kept), the body still content-encoded.

    With ``encoded_as_bytes``, a content-encoded body makes a plain Response: it is not text
    until HttpCompressionMiddleware decodes it (and picks the class then), and a TextResponse
    would guess the charset of the gzip bytes when the middleware copies it (2 ms a page)."""
    headers = Headers(exchange.headers)
    if encoded_as_bytes and b"Content-Encoding" in headers:
        cls: type[Response] = Response
    else:
        cls = responsetypes.from_args(headers=headers, url=exchange.url, body=exchange.body)
    return cls(url=exchange.url, status=exchange.status, headers=headers, body=exchange.body,
               request=request, protocol=exchange.protocol, flags=["replay"], ip_address=None)


class ArchiveDecoder:
    """Archived exchanges as decoded Responses, through Scrapy's HttpCompressionMiddleware (so
    Content-Encoding, DOWNLOAD_MAXSIZE and the httpcompression stats behave as in a live crawl)."""

    def __init__(self, crawler: Crawler) -> None:
        self.compression = (HttpCompressionMiddleware.from_crawler(crawler)
                            if crawler.settings.getbool("COMPRESSION_ENABLED") else None)

    def response(self, exchange: ArchivedExchange) -> Response:
        """Raises IgnoreRequest when the body cannot be decoded within DOWNLOAD_MAXSIZE."""
        request = Request(exchange.url, dont_filter=True, meta={EXCHANGE_KEY: exchange})
        response = archived_response(exchange, request,
                                     encoded_as_bytes=self.compression is not None)
        if self.compression is not None:
            response = self.compression.process_response(request, response)
        return response


class ArchiveResponseMiddleware:
    """Answers replay requests from the archive; any other request is refused (no network)."""

    def process_request(self, request: Request) -> Response:
        exchange = request.meta.get(EXCHANGE_KEY)
        if exchange is None:
            raise IgnoreRequest(f"replay: {request.url} is not from the archive (no network)")
        return archived_response(exchange, request)


def older_version(version: str | None, than: str) -> bool:
    """Parser versions compare as dotted integers (``"2" < "10"``); unknown is oldest."""
    def key(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in v.split(".") if p.isdigit())

    return version is None or key(version) < key(than)


def split_files(files: Sequence[Path], jobs: int) -> list[list[Path]]:
    """Groups of about equal size in bytes (largest first into the lightest group)."""
    groups: list[list[Path]] = [[] for _ in range(max(1, min(jobs, len(files))))]
    sizes = [0] * len(groups)
    for path in sorted(files, key=lambda p: p.stat().st_size, reverse=True):
        i = sizes.index(min(sizes))
        groups[i].append(path)
        sizes[i] += path.stat().st_size
    return [sorted(g) for g in groups if g]


def main_replay(paths: Sequence[str], *, jobs: int | None = None, store: str | None = None,
                reparse_older_than: str | None = None, extra_settings: Sequence[str] = ()) -> int:
    """``gkcrawl replay``: parallel ``scrapy crawl replay`` processes with one progress bar."""
    from tqdm import tqdm

    try:
        files = expand_warc_paths(paths)
    except FileNotFoundError as exc:
        print(f"gkcrawl replay: {exc}", file=sys.stderr)
        return 2
    groups = split_files(files, jobs or os.cpu_count() or 1)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "gkcrawl.settings"}
    procs = []
    for n, group in enumerate(groups):
        args = [sys.executable, "-m", "scrapy", "crawl", "replay",
                "-a", f"archive={os.pathsep.join(map(str, group))}",
                "-s", f"CRAWL_ID=replay-{stamp}-{n}", "-s", "REPLAY_PROGRESS=True",
                "-s", "LOG_LEVEL=WARNING"]
        if store:
            args += ["-s", f"{'STORE_URL' if '://' in store else 'STORE_PATH'}={store}"]
        if reparse_older_than:
            args += ["-a", f"reparse_older_than={reparse_older_than}"]
        for setting in extra_settings:
            args += ["-s", setting]
        procs.append(subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env))
    bar = tqdm(desc="replay", unit=" records", total=None, dynamic_ncols=True)
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def follow(stream: IO[str]) -> None:
        last = 0
        for line in stream:
            if line.startswith(PROGRESS_PREFIX):
                done = int(line[len(PROGRESS_PREFIX):])
                with lock:
                    bar.update(done - last)
                last = done
            elif line.startswith(DONE_PREFIX):
                with lock:
                    results.append(json.loads(line[len(DONE_PREFIX):]))

    readers = [threading.Thread(target=follow, args=(p.stdout,)) for p in procs]
    for reader in readers:
        reader.start()
    codes = [p.wait() for p in procs]
    for reader in readers:
        reader.join()
    bar.close()
    total = {k: sum(r.get(k, 0) for r in results) for k in
             ("records", "documents", "reports", "quarantined", "damaged", "read_errors")}
    print(f"replayed {len(files)} WARC files in {len(groups)} process(es): {total['records']} records, "
          f"{total['documents']} report documents -> {total['reports']} reports, "
          f"{total['quarantined']} quarantined; {total['damaged']} damaged records skipped",
          file=sys.stderr)
    return 0 if all(c == 0 for c in codes) else 1
