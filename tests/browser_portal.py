"""A portal whose report columns exist only in the browser, served on 127.0.0.1 by the CMS
portal's server (tests/cms_portal.py): each column page holds an empty list that its script
fills from a JSON endpoint; the detail pages and attachments are plain.

* ``/xxgk/ndbg/index.html`` (the URL says report column): ``fetch`` asks ``/api/ndbg/list?page=N``
  page after page; the JSON comes gzip-encoded; one report is a PDF attachment, served only to
  a visitor of its page.
* ``/bmgk/list.html`` (only its name says so: the link to it, its title): an XMLHttpRequest
  POSTs ``col=7&page=1&size=10`` to ``/api/bmgk/query``, which answers only that form.

    with serve_portal(build) as portal:
        portal.url, portal.expected, portal.requests
"""

from __future__ import annotations

import gzip
import json

from tests.cms_portal import (
    BAD_REQUEST,
    HTML_TYPE,
    JSON_TYPE,
    OK,
    Answer,
    Expected,
    Portal,
    key,
    page_html,
)

FETCH, XHR = "fetch-json", "xhr-post-json"
FETCH_COLUMN, FETCH_API = "/xxgk/ndbg/index.html", "/api/ndbg/list"
XHR_COLUMN, XHR_API = "/bmgk/list.html", "/api/bmgk/query"
XHR_FORM = {"col": "7", "page": "1", "size": "10"}
FETCH_REPORTS, FETCH_PDFS, XHR_REPORTS = 5, 1, 3
PER_PAGE = 3
#: the script both columns share: an item is a link in a list row
SHOW = ("function show(list, items) { items.forEach(function (item) { "
        "var row = document.createElement(list.tagName === 'TBODY' ? 'tr' : 'li'); "
        "var a = document.createElement('a'); a.href = item.url; a.textContent = item.title; "
        "row.appendChild(a); list.appendChild(row); }); }")
FETCH_SCRIPT = (SHOW + " function load(page) { fetch('" + FETCH_API + "?page=' + page)"
                ".then(function (r) { return r.json(); }).then(function (data) { "
                "show(document.getElementById('list'), data.items); "
                "if (page < data.pages) { load(page + 1); } }); } load(1);")
XHR_SCRIPT = (SHOW + " var xhr = new XMLHttpRequest(); xhr.open('POST', '" + XHR_API + "'); "
              "xhr.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded'); "
              "xhr.onload = function () { show(document.getElementById('rows'), "
              "JSON.parse(xhr.responseText).rows); }; "
              "xhr.send('" + "&".join(f"{k}={v}" for k, v in XHR_FORM.items()) + "');")


def _items(entries: list[Expected]) -> list[dict[str, str]]:
    return [{"title": e.report["title"], "url": e.page or e.path} for e in entries]


def build(portal: Portal) -> Portal:
    """The home page, the two script-built columns, their endpoints and reports."""
    fetched = [portal.pdf_report(f"/xxgk/ndbg/art/{n}.html", f"/xxgk/ndbg/art/P0{n}.pdf",
                                 f"P0{n}.pdf", FETCH) for n in range(FETCH_PDFS)]
    fetched += [portal.html_report(f"/xxgk/ndbg/art/{portal.article_id()}.html", FETCH)
                for _ in range(FETCH_REPORTS - FETCH_PDFS)]
    posted = [portal.html_report(f"/bmgk/art/{portal.article_id()}.html", XHR)
              for _ in range(XHR_REPORTS)]
    pages = [fetched[i:i + PER_PAGE] for i in range(0, len(fetched), PER_PAGE)]

    def list_api(method: str, params: dict[str, str]) -> Answer:
        number = int(params.get("page") or 0)
        if method != "GET" or not 1 <= number <= len(pages):
            return Answer(BAD_REQUEST, JSON_TYPE, b'{"error": "page"}')
        body = json.dumps({"pages": len(pages), "items": _items(pages[number - 1])},
                          ensure_ascii=False).encode()
        return Answer(OK, JSON_TYPE, gzip.compress(body), headers=(("Content-Encoding", "gzip"),))

    def query_api(method: str, params: dict[str, str]) -> Answer:
        if method != "POST" or params != XHR_FORM:
            return Answer(BAD_REQUEST, JSON_TYPE, b'{"error": "form"}')
        return Answer(OK, JSON_TYPE, json.dumps({"rows": _items(posted)}).encode())

    portal.endpoints[FETCH_API] = list_api
    portal.endpoints[XHR_API] = query_api
    portal.pages[key(FETCH_COLUMN)] = Answer(OK, HTML_TYPE, page_html(
        "信息公开", "<div class='list-box'><ul id='list' class='list'></ul></div>"
        f"<script>{FETCH_SCRIPT}</script>"))
    portal.pages[key(XHR_COLUMN)] = Answer(OK, HTML_TYPE, page_html(
        "部门信息公开年报", "<table class='table'><tbody id='rows'></tbody></table>"
        f"<script>{XHR_SCRIPT}</script>"))
    portal.pages[key("/")] = Answer(OK, HTML_TYPE, page_html("首页", (
        f"<ul class='nav'><li><a href='{FETCH_COLUMN}'>信息公开</a></li>"
        f"<li><a href='{XHR_COLUMN}'>部门信息公开年报</a></li></ul>")))
    portal.pages[key("/robots.txt")] = Answer(OK, "text/plain", b"User-agent: *\nDisallow:\n")
    return portal
