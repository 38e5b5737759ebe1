"""URL canonicalisation, so a page is fetched once however it is linked.

w3lib's ``canonicalize_url`` sorts the query and normalises escapes; on top of that session ids
(``;jsessionid=…``, ``?sid=…``) and fragments are removed: portals stamp them on every link. A
``sid`` of digits only is a site id, not a session (Guangdong's gkmlpt API answers only with its
``sid=755031``), and stays.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

SESSION_PARAMS = frozenset({"jsessionid", "sid", "sessionid", "phpsessid", "aspsessionid",
                            "cfid", "cftoken", "session_id"})
#: A session parameter that is a site id when it is a number.
SITE_ID_PARAM = "sid"
_PATH_SESSION = re.compile(r";(jsessionid|sid|phpsessid)=[^/?#]*", re.IGNORECASE)


def canonical(url: str) -> str:
    parts = urlsplit(url)
    path = _PATH_SESSION.sub("", parts.path)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not _is_session(k, v)])
    return canonicalize_url(urlunsplit((parts.scheme, parts.netloc, path, query, "")))


def _is_session(name: str, value: str) -> bool:
    name = name.lower()
    return name in SESSION_PARAMS and not (name == SITE_ID_PARAM and value.isdigit())


def request_key(url: str, method: str = "GET", body: bytes = b"") -> str:
    """What makes two requests the same: the canonical URL, and for any other request than a
    plain GET its method and body too (a list's data endpoint answers each POSTed range at one
    URL). The spider's scheduling and a resumed crawl's archive look-up both key on it."""
    if method == "GET" and not body:
        return canonical(url)
    return f"{method} {canonical(url)} {hashlib.sha1(body).hexdigest()}"


#: The ports a portal's site answers on unless its registry row names others.
DEFAULT_PORTS: tuple[int, ...] = (80, 443)
_SCHEME_PORTS = {"http": 80, "https": 443}


def port_of(url: str) -> int | None:
    """The URL's port, the scheme's own when none is written."""
    parts = urlsplit(url)
    try:
        return parts.port or _SCHEME_PORTS.get(parts.scheme.lower())
    except ValueError:  # a port that is no number
        return None


def in_domains(url: str, domains: tuple[str, ...],
               ports: tuple[int, ...] = DEFAULT_PORTS) -> bool:
    """On one of ``domains`` (or a subdomain) and one of ``ports``: another port of a portal's
    host is another service (an admin console, a test instance), out of scope."""
    host = (urlsplit(url).hostname or "").lower()
    return port_of(url) in ports and any(host == d or host.endswith("." + d) for d in domains)
