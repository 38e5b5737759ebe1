"""Serve a :class:`~gkcrawl.demo.site.Site` on 127.0.0.1 exactly as specified.

Headers go out byte for byte (raw GBK values, repeated Set-Cookie), HTTP/1.1 keep-alive with
Content-Length, delays honoured. Requests are counted per path (query included) and the counts
are served at ``/__hits__`` as JSON (``/__hits__?reset=1`` also clears them), so a test can
assert that no URL was fetched twice; ``/__hits__`` itself is never counted. With
``--flaky-lists N`` the report list pages answer 503 to their first N requests (the counts
decide), so that a crawl meets a struggling server deterministically.

    python -m gkcrawl.demo.server [--port 0] [--seed 7] [--slow-delay 5] [--flaky-lists 0]

prints ``http://127.0.0.1:PORT`` as its first stdout line, then serves until killed.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from urllib.parse import parse_qs, urlsplit

from gkcrawl.demo.site import DEFAULT_SEED, SLOW_DELAY, TRAP_LIMIT, ResponseSpec, Site, build_site

HOST = "127.0.0.1"
HITS_PATH = "/__hits__"
#: Idle keep-alive connections are dropped after this many seconds.
IDLE_TIMEOUT = 30.0
#: serve_forever's poll interval: how fast a background server notices shutdown().
POLL_INTERVAL = 0.05


class LoopbackServer(ThreadingHTTPServer):
    """A threading HTTP server with hit counts and a prompt, clean shutdown: the base of the
    sample portal and of the test suite's other portals (their handlers subclass
    :class:`LoopbackHandler`)."""

    daemon_threads = True
    block_on_close = True  # server_close() joins handlers; close() unblocks them first

    def __init__(self, handler: type[LoopbackHandler], host: str = HOST, port: int = 0) -> None:
        self.stopping = threading.Event()
        self._hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        super().__init__((host, port), handler)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else host
        return f"http://{name}:{port}"

    def count(self, path: str) -> int:
        """Count a request for ``path``; how many there were, this one included."""
        with self._lock:
            self._hits[path] += 1
            return self._hits[path]

    def hits(self, reset: bool = False) -> dict[str, int]:
        with self._lock:
            counts = dict(self._hits)
            if reset:
                self._hits.clear()
        return counts

    # A TCP server's requests are sockets (the base classes also allow UDP's (data, socket)).
    def process_request(  # type: ignore[override]
            self, request: socket.socket, client_address: object) -> None:
        with self._lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self._lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: object, client_address: object) -> None:
        # a crawler that times out (the slow page) or drops a keep-alive connection is normal
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]

    def close(self) -> None:
        """Wake delayed handlers, cut open connections, close the socket, join the handlers."""
        self.stopping.set()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self.server_close()


class LoopbackHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, ``/__hits__``, and :meth:`send_spec` for a response as specified;
    a subclass answers every other request in :meth:`answer`."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT
    server: LoopbackServer

    def do_GET(self) -> None:
        self._route(with_body=True)

    def do_HEAD(self) -> None:
        self._route(with_body=False)

    def _route(self, with_body: bool) -> None:
        if urlsplit(self.path).path == HITS_PATH:
            self._send_hits(with_body)
        else:
            self.answer(with_body)

    def answer(self, with_body: bool) -> None:
        raise NotImplementedError

    def send_spec(self, response: ResponseSpec, with_body: bool) -> None:
        """Status, headers byte for byte, Content-Length and the body."""
        self.send_head(response, len(response.body))
        if with_body:
            self.wfile.write(response.body)

    def send_head(self, response: ResponseSpec, length: int | None) -> None:
        """Status and headers byte for byte, then ``Content-Length: length`` (None: chunked
        transfer coding, the body to come in chunks)."""
        self.send_response_only(response.status)
        for name, value in response.headers:
            # http.server writes header values as latin-1: raw bytes go out unchanged
            self.send_header(name.decode("latin-1"), value.decode("latin-1"))
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def _send_hits(self, with_body: bool) -> None:
        reset = parse_qs(urlsplit(self.path).query).get("reset", ["0"])[0] not in ("", "0")
        body = json.dumps(self.server.hits(reset), ensure_ascii=False, sort_keys=True).encode()
        self.send_response_only(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class DemoServer(LoopbackServer):
    """Serves one site; with ``flaky_lists`` its report list pages answer 503 to their first
    ``flaky_lists`` requests, as an overloaded CMS does (the count is per path and query)."""

    def __init__(self, site: Site, host: str = HOST, port: int = 0, *,
                 flaky_lists: int = 0) -> None:
        self.site = site
        self.flaky_lists = flaky_lists
        super().__init__(_Handler, host, port)


class _Handler(LoopbackHandler):
    server: DemoServer

    def answer(self, with_body: bool) -> None:
        seen = self.server.count(self.path)
        site = self.server.site
        response = site.get(self.path) or site.not_found
        if self.path in site.lists and seen <= self.server.flaky_lists:
            response = site.busy
        if response.delay and self.server.stopping.wait(response.delay):
            self.close_connection = True  # shutting down: no answer
            return
        self.send_spec(response, with_body)


@contextmanager
def running(server: LoopbackServer) -> Iterator[str]:
    """Serve from a background thread; yields the base URL (no trailing slash) and shuts down
    cleanly, even with keep-alive or delayed requests open."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL},
                              name=f"gkcrawl-{type(server).__name__}", daemon=True)
    thread.start()
    try:
        yield server.base_url
    finally:
        server.shutdown()
        server.close()
        thread.join()


@contextmanager
def serve(site: Site | None = None, host: str = HOST, port: int = 0) -> Iterator[str]:
    """Serve ``site`` (default: ``build_site()``) from a background thread (:func:`running`)."""
    with running(DemoServer(site if site is not None else build_site(), host, port)) as url:
        yield url


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gkcrawl.demo.server",
                                     description="Serve the gkcrawl sample government portal.")
    parser.add_argument("--host", default=HOST)
    parser.add_argument("--port", type=int, default=0, help="0: any free port (default)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--slow-delay", type=float, default=SLOW_DELAY,
                        help="seconds the slow page waits (default %(default)s)")
    parser.add_argument("--trap-limit", type=int, default=TRAP_LIMIT,
                        help="trap hops a bounded crawl may make (ground truth only)")
    parser.add_argument("--flaky-lists", type=int, default=0, metavar="N",
                        help="report list pages answer 503 to their first N requests "
                             "(default %(default)s)")
    args = parser.parse_args(argv)
    site = build_site(args.seed, slow_delay=args.slow_delay, trap_limit=args.trap_limit)
    server = DemoServer(site, args.host, args.port, flaky_lists=args.flaky_lists)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print(server.base_url, flush=True)
    try:
        server.serve_forever(poll_interval=POLL_INTERVAL)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
