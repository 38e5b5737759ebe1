"""Link scoring for the focused crawl: anchor text, title and URL, best first.

Scores are additive: a link to ``/zfxxgk/zfxxgknb/`` titled 政府信息公开年报 outranks one to
政务公开, which outranks the rest. A negative score means never follow (logins, English site,
sharing).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

#: (pattern, points) checked against the anchor text + title attribute.
TEXT_SIGNALS: tuple[tuple[re.Pattern[str], int], ...] = tuple(
    (re.compile(p), w) for p, w in (
        (r"信息公开(工作)?年(度报告|报)|公开年报|年度报告|工作年报", 40),
        (r"年报", 25),
        (r"政府信息公开|信息公开目录|法定主动公开", 12),
        (r"政务公开|信息公开", 8),
        (r"部门|乡镇|街道|区县|县区|市直|直属", 3),
        (r"下一页|下页|后页|尾页|更多|more", 3),
    )
)
#: URL slugs of report columns seen on portals.
REPORT_COLUMN_URL = re.compile(
    r"/(zfxxgk_?)?(zfxxgk)?nb/|/xxgknb|/gknb|/zfxxgknb|/bmxxgknb|/txxgknb|/nb/|/ndbg",
    re.IGNORECASE)
#: (pattern, points) checked against the URL path and query.
URL_SIGNALS: tuple[tuple[re.Pattern[str], int], ...] = (
    (REPORT_COLUMN_URL, 30),
    *((re.compile(p, re.IGNORECASE), w) for p, w in (
        (r"nb_?\d{4}|gknb\d{4}|\d{4}nb", 10),
        (r"zfxxgk|xxgk|zwgk|gkml|fdzdgknr", 8),
        (r"index_\d+\.|[?&]page=\d+|/col/col\d+", 2),
    )),
)
NEGATIVE = re.compile(
    r"english|登录|注册|login|logout|signin|邮箱|webmail|无障碍|长者|繁體|繁体|big5|打印|print|"
    r"分享|收藏|weibo|weixin|rss|纠错|sitemap|网站地图|投诉|留言|信箱|javascript:|mailto:",
    re.IGNORECASE,
)


def score_text(text: str) -> int:
    """The anchor text's share of a score: what a name alone says (a column of a tree whose
    URLs all look alike)."""
    return sum(w for p, w in TEXT_SIGNALS if p.search(text))


def score_link(url: str, text: str) -> int:
    """The link's score; negative for links never to follow."""
    parts = urlsplit(url)
    tail = parts.path.rsplit("/", 1)[-1] + "?" + parts.query
    if NEGATIVE.search(text) or NEGATIVE.search(tail) or parts.scheme not in ("http", "https"):
        return -1
    url_score = sum(w for p, w in URL_SIGNALS if p.search(url))
    return score_text(text) + url_score
