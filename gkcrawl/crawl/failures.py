"""What went wrong with a fetch, in one word: the name under which the run summary counts it.

A crawl of government portals meets every way a server can fail; the summary says which, per
portal (``portal/<id>/failed/<kind>`` for a fetch given up, ``portal/<id>/retried/<kind>`` for
an attempt that was tried again), so that an operator sees "3 timeouts, 1 redirect loop" rather
than "4 errors". The exceptions below are raised by the crawl's own middlewares where Scrapy's
would say only "ignored".
"""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as tx
from twisted.web.client import ResponseNeverReceived

TIMEOUT = "timeout"
#: reset or closed before the answer was complete
CONNECTION_LOST = "connection_lost"
#: the body ended before its Content-Length (the connection dropped mid-body)
CUT_SHORT = "cut_short"
CONNECTION_REFUSED = "connection_refused"
#: no connection for another reason (no route, a connect timeout)
CONNECT_FAILED = "connect_failed"
DNS = "dns"
#: the body is larger than DOWNLOAD_MAXSIZE (said by its Content-Length, or found while reading)
TOO_LARGE = "too_large"
#: the body inflates past DOWNLOAD_MAXSIZE once decompressed (a gzip bomb)
TOO_LARGE_DECODED = "too_large_decoded"
REDIRECT_LOOP = "redirect_loop"
TOO_MANY_REDIRECTS = "too_many_redirects"
ROBOTS_FORBIDDEN = "robots_forbidden"
IGNORED = "ignored"
#: Scrapy's RobotsTxtMiddleware says so, and only so.
ROBOTS_MESSAGE = "Forbidden by robots.txt"


class RedirectLoop(IgnoreRequest):
    """A redirect chain came back to a URL it had already returned to."""


class TooManyRedirects(IgnoreRequest):
    """A redirect chain longer than REDIRECT_MAX_TIMES."""


class DecodedTooLarge(IgnoreRequest):
    """A body that inflates past DOWNLOAD_MAXSIZE once decompressed."""


#: Exception types by kind; the first that matches names the failure. Scrapy's own exceptions
#: wrap Twisted's in the HTTP/1.1 handler; the others' handlers may raise Twisted's.
_KINDS: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
    ((DownloadTimeoutError, tx.TimeoutError), TIMEOUT),
    ((ResponseDataLossError,), CUT_SHORT),
    ((DownloadConnectionRefusedError, tx.ConnectionRefusedError), CONNECTION_REFUSED),
    ((CannotResolveHostError, tx.DNSLookupError), DNS),
    ((tx.ConnectError,), CONNECT_FAILED),
    ((DownloadCancelledError,), TOO_LARGE),  # a crawl cancels a download only past its size
    ((DownloadFailedError, ResponseNeverReceived, tx.ConnectionLost, tx.ConnectionDone),
     CONNECTION_LOST),
    ((DecodedTooLarge,), TOO_LARGE_DECODED),
    ((RedirectLoop,), REDIRECT_LOOP),
    ((TooManyRedirects,), TOO_MANY_REDIRECTS),
)


def failure_kind(error: BaseException) -> str:
    """The name of what went wrong: a kind above, ``http_<status>`` for an error status, else
    the exception's class name."""
    if isinstance(error, HttpError):
        return http_kind(error.response.status)
    for types, kind in _KINDS:
        if isinstance(error, types):
            return kind
    if isinstance(error, IgnoreRequest):
        return ROBOTS_FORBIDDEN if str(error) == ROBOTS_MESSAGE else IGNORED
    return type(error).__name__


def http_kind(status: int) -> str:
    return f"http_{status}"
