"""URL canonicalisation, so a page is fetched once however it is linked.

w3lib's ``canonicalize_url`` sorts the query and normalises escapes; on top of that session ids
(``;jsessionid=…``, ``?sid=…``) and fragments are removed: portals stamp them on every link.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

SESSION_PARAMS = frozenset({"jsessionid", "sid", "sessionid", "phpsessid", "aspsessionid",
                            "cfid", "cftoken", "session_id"})
_PATH_SESSION = re.compile(r";(jsessionid|sid|phpsessid)=[^/?#]*", re.IGNORECASE)


def canonical(url: str) -> str:
    parts = urlsplit(url)
    path = _PATH_SESSION.sub("", parts.path)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if k.lower() not in SESSION_PARAMS])
    return canonicalize_url(urlunsplit((parts.scheme, parts.netloc, path, query, "")))


def in_domains(url: str, domains: tuple[str, ...]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in domains)
