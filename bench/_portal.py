"""A large generated portal for bench/crawl.py: N pages, generated per request from the path.

    .venv/bin/python bench/_portal.py --pages 20000 [--seed 1] [--port 0]

prints ``http://127.0.0.1:PORT`` as its first stdout line, then serves until killed (SIGTERM).

The site is what the ``portals`` spider really crawls end to end, and exactly ``pages`` HTML pages
of it are reachable (robots.txt aside):

* ``/`` the home page (the registry's ``start_url``), linking the column, and the three other
  columns of its navigation bar (新闻中心, 办事服务, 互动交流: short pages the spider fetches at
  one hop and goes no further);
* ``/zfxxgk/gkml/index.html`` the 信息公开目录 column (the registry's ``report_url``) and its
  ``index.html?page=2 .. L`` list pages, ``PER_LIST`` articles each, with a 首页/上一页/numbers/
  下一页/尾页 pager (the spider's Pager adapter follows it; one list root, so
  ``CRAWL_MAX_LIST_PAGES`` must be at least L);
* ``/zfxxgk/gkml/<year>/art_<i>.html`` the articles: news-like pages of 3-5 KB with the portal
  chrome, a few paragraphs and three related links (more work for the dupe filters); every
  ``REPORT_EVERY``-th is a real annual report rendered with
  :func:`gkcrawl.demo.render.html.render_html` (``random_report``), so the parse pipeline
  does real work and every one of them must come out as a parsed item; each organ (街道, 乡镇,
  管委会) publishes one a year, 2019-2025, as on a real portal.

Nothing is held per page: a page is rendered from its path and the seed on each request (only
the last few report pages are cached). ``/__stats__`` answers ``{"requests": n, "by_kind": ..}``
(never counted itself).
"""

from __future__ import annotations

import argparse
import functools
import html
import json
import random
import re
import signal
import sys
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType

from gkcrawl.demo.render.html import render_html
from gkcrawl.demo.render.reports import random_report

HOST = "127.0.0.1"
PER_LIST = 50
#: One article in this many is an annual report (5%).
REPORT_EVERY = 20
#: Article index i is a report when i % REPORT_EVERY == REPORT_OFFSET.
REPORT_OFFSET = 7
COLUMN_DIR = "/zfxxgk/gkml/"
COLUMN = COLUMN_DIR + "index.html"
STATS_PATH = "/__stats__"
SITE_NAME = "基准市人民政府"
ROBOTS = b"User-agent: *\nDisallow: /admin/\nDisallow: /search\n"
YEARS = (2025, 2024, 2023, 2022, 2021)
_ARTICLE = re.compile(r"^/zfxxgk/gkml/(\d{4})/art_(\d+)\.html$")
_LIST = re.compile(r"^/zfxxgk/gkml/index\.html(?:\?page=(\d+))?$")

# vocabulary of the news-like pages: no word the spider's scorer treats as a report or negative
_ORGS = ("基准市交通运输局", "基准市水利局", "基准市农业农村局", "基准市应急管理局",
         "基准市文化和旅游局", "基准市住房和城乡建设局", "基准市生态环境局", "基准市商务局",
         "城南街道办事处", "河西镇人民政府")
_ACTS = ("召开", "开展", "部署", "举办", "推进", "组织", "完成", "启动")
_TOPICS = ("安全生产工作会议", "防汛抗旱应急演练", "农村人居环境整治行动", "营商环境优化专题培训",
           "秋季森林防火检查", "重点项目建设调度会", "城乡供水保障工作", "文明城市创建推进会",
           "高标准农田建设验收", "消费帮扶产品展销活动", "道路交通隐患排查", "春季植树造林活动")
_PHRASES = ("会议强调，要进一步提高思想认识，压实工作责任，确保各项任务落到实处。",
            "各乡镇、各部门要结合实际，细化工作方案，明确时间节点，抓好督促落实。",
            "活动现场，工作人员向群众发放宣传资料，并耐心解答群众关心的问题。",
            "下一步，将持续加强统筹协调，建立健全长效机制，推动工作提质增效。",
            "此次活动共组织干部职工参加，进一步增强了干部群众的参与意识。",
            "据了解，今年以来全市累计完成投资，较去年同期有明显增长。",
            "与会人员围绕重点工作进行了深入交流，并就下一阶段任务作了安排。",
            "检查组一行深入现场，详细了解工作进展情况，对发现的问题当场督促整改。")
NAV_COLUMNS = {"/xwzx/index.html": "新闻中心", "/bsfw/index.html": "办事服务",
               "/hdjl/index.html": "互动交流"}
#: Report k belongs to organ k // len(REPORT_YEARS) and year REPORT_YEARS[k % 7]: every organ of
#: the portal publishes one report a year, so no (organ, year) has two copies (dedup does no
#: copy-choosing work a real portal would not cause).
REPORT_YEARS = (2019, 2020, 2021, 2022, 2023, 2024, 2025)
_PLACES = ("东风", "红旗", "新华", "胜利", "光明", "和平", "团结", "幸福", "建设", "解放",
           "前进", "向阳", "长青", "振兴", "兴隆", "太平", "永安", "长乐", "安宁", "富民",
           "金山", "银河", "青龙", "白马", "龙泉", "凤凰", "石桥", "柳林", "松涛", "梅岭",
           "桃源", "杏花", "荷塘", "竹园", "枫林", "柏树", "清河", "北湖", "南山", "西岭")
_KINDS = ("街道办事处", "镇人民政府", "乡人民政府", "管理委员会")
_NAV = (("首页", "/"), ("政府信息公开", COLUMN),
        *((label, path) for path, label in NAV_COLUMNS.items()))


@dataclass(frozen=True)
class Layout:
    """How ``pages`` split into the home page, the other nav columns, L list pages and A articles
    (1 + len(NAV_COLUMNS) + L + A == pages)."""

    pages: int
    lists: int
    articles: int

    @classmethod
    def of(cls, pages: int) -> Layout:
        fixed = 1 + len(NAV_COLUMNS)
        if pages < fixed + 2:
            raise ValueError(f"a portal needs at least {fixed + 2} pages")
        lists = 1
        while lists * PER_LIST < pages - fixed - lists:
            lists += 1
        return cls(pages, lists, pages - fixed - lists)

    @property
    def reports(self) -> int:
        return sum(1 for i in range(self.articles) if is_report(i))


def is_report(i: int) -> bool:
    return i % REPORT_EVERY == REPORT_OFFSET


class Portal:
    """path -> (status, content type, body), rendered on demand."""

    def __init__(self, pages: int, seed: int = 1) -> None:
        self.layout = Layout.of(pages)
        self.seed = seed

    # --- paths ----------------------------------------------------------------------------

    def year_of(self, i: int) -> int:
        return YEARS[i * len(YEARS) // self.layout.articles]

    def article_path(self, i: int) -> str:
        return f"{COLUMN_DIR}{self.year_of(i)}/art_{i}.html"

    @staticmethod
    def list_path(page: int) -> str:
        return COLUMN if page == 1 else f"{COLUMN}?page={page}"

    # --- content --------------------------------------------------------------------------

    def _rng(self, kind: str, i: int) -> random.Random:
        return random.Random(f"{self.seed}:{kind}:{i}")

    def title(self, i: int) -> str:
        if is_report(i):
            return self.report(i)["title"]
        rng = self._rng("title", i)
        return f"{rng.choice(_ORGS)}{rng.choice(_ACTS)}{rng.choice(_TOPICS)}（第{i + 1}期）"

    def date(self, i: int) -> str:
        rng = self._rng("date", i)
        return f"{self.year_of(i)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"

    def report(self, i: int) -> dict:
        return _report(self.seed, i)

    def get(self, path: str) -> tuple[int, str, bytes]:
        if path == "/robots.txt":
            return 200, "text/plain", ROBOTS
        if path == "/":
            return 200, "text/html; charset=utf-8", self.home().encode()
        if path in NAV_COLUMNS:
            label = NAV_COLUMNS[path]
            main = f'<h2>{label}</h2><p>本栏目内容正在建设中。</p>'
            return 200, "text/html; charset=utf-8", self._page(label, label, main).encode()
        if match := _LIST.match(path):
            page = int(match[1] or 1)
            if 1 <= page <= self.layout.lists and not (match[1] and page == 1):
                return 200, "text/html; charset=utf-8", self.list_page(page).encode()
        elif match := _ARTICLE.match(path):
            i = int(match[2])
            if 0 <= i < self.layout.articles and self.year_of(i) == int(match[1]):
                if is_report(i):
                    return 200, "text/html; charset=utf-8", _report_page(self.seed, i)
                return 200, "text/html; charset=utf-8", self.article(i).encode()
        return 404, "text/html; charset=utf-8", b"<html><body><h1>404</h1></body></html>"

    def _page(self, title: str, crumbs: str, main: str) -> str:
        nav = "".join(f'<li><a href="{href}">{label}</a></li>' for label, href in _NAV)
        return (
            '<!DOCTYPE html>\n<html lang="zh-CN"><head>'
            '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
            f'<meta name="SiteName" content="{SITE_NAME}">'
            '<meta name="ColumnName" content="信息公开目录">'
            f"<title>{html.escape(title)}_{SITE_NAME}</title>"
            '<link rel="stylesheet" href="/css/style.css"></head>\n<body>\n'
            f'<div class="top"><div class="logo">{SITE_NAME}</div></div>\n'
            f'<ul class="nav">{nav}</ul>\n'
            f'<div class="crumb">当前位置：<a href="/">首页</a> &gt; {crumbs}</div>\n'
            f'<div class="main">\n{main}\n</div>\n'
            f'<div class="footer"><p>主办单位：{SITE_NAME}办公室　网站标识码：9999990001</p>'
            "<p>技术支持：基准市大数据中心</p></div>\n</body></html>\n")

    def home(self) -> str:
        latest = "\n".join(
            f'<li><a href="{self.article_path(i)}">{html.escape(self.title(i))}</a></li>'
            for i in range(min(8, self.layout.articles)))
        main = (f'<div class="block"><h3><a href="{COLUMN}">信息公开目录</a></h3>'
                f'<ul>{latest}</ul></div>')
        return self._page(SITE_NAME, "首页", main)

    def list_page(self, page: int) -> str:
        first = (page - 1) * PER_LIST
        items = "\n".join(
            f'<li><a href="{self.article_path(i)}" target="_blank" '
            f'title="{html.escape(self.title(i))}">'
            f"{html.escape(self.title(i))}</a><span>{self.date(i)}</span></li>"
            for i in range(first, min(first + PER_LIST, self.layout.articles)))
        last = self.layout.lists
        pager = ['<a href="index.html">首页</a>']
        if page > 1:
            previous = "index.html" if page == 2 else f"index.html?page={page - 1}"
            pager.append(f'<a href="{previous}">上一页</a>')
        pager.extend(
            f"<span>{k}</span>" if k == page else
            f'<a href="{"index.html" if k == 1 else f"index.html?page={k}"}">{k}</a>'
            for k in range(max(1, page - 4), min(last, page + 5) + 1))
        if page < last:
            pager.append(f'<a href="index.html?page={page + 1}">下一页</a>')
        pager.append(f'<a href="index.html?page={last}">尾页</a>' if last > 1 else "")
        main = (f'<ul class="list">\n{items}\n</ul>\n<div class="pager">{" ".join(pager)}'
                f"<span>共{last}页</span></div>")
        return self._page(f"信息公开目录 第{page}页", "信息公开目录", main)

    def article(self, i: int) -> str:
        rng = self._rng("body", i)
        title = self.title(i)
        paragraphs = "\n".join(
            "<p>" + "".join(rng.choice(_PHRASES) for _ in range(rng.randint(2, 4))) + "</p>"
            for _ in range(rng.randint(5, 9)))
        related = [j for j in (i - 1, i + 1, i + 2) if 0 <= j < self.layout.articles]
        links = "".join(
            f'<li><a href="{self.article_path(j)}">{html.escape(self.title(j))}</a></li>'
            for j in related)
        main = (f'<h1 class="title">{html.escape(title)}</h1>\n'
                f'<div class="info">发布时间：{self.date(i)}　来源：{SITE_NAME}办公室</div>\n'
                f'<div class="TRS_Editor">\n{paragraphs}\n</div>\n'
                f'<div class="related"><h4>相关文章</h4><ul>{links}</ul></div>')
        return self._page(title, f'<a href="{COLUMN}">信息公开目录</a>', main)


def report_organ(k: int) -> str:
    place = _PLACES[k % len(_PLACES)]
    kind = _KINDS[k // len(_PLACES) % len(_KINDS)]
    extra = "" if k < len(_PLACES) * len(_KINDS) else _PLACES[k // (len(_PLACES) * len(_KINDS)) - 1]
    return f"基准市{extra}{place}{kind}"


@functools.lru_cache(maxsize=64)
def _report(seed: int, i: int) -> dict:
    k = i // REPORT_EVERY
    year = REPORT_YEARS[k % len(REPORT_YEARS)]
    rng = random.Random(f"{seed}:report:{i}")
    return random_report(rng, "2019" if year < 2021 else "2021", year=year,
                         organ=report_organ(k // len(REPORT_YEARS)))


@functools.lru_cache(maxsize=64)
def _report_page(seed: int, i: int) -> bytes:
    return render_html(_report(seed, i))


# --- server -----------------------------------------------------------------------------------


class PortalServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, portal: Portal, host: str = HOST, port: int = 0) -> None:
        self.portal = portal
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        super().__init__((host, port), _Handler)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60
    disable_nagle_algorithm = True
    server: PortalServer

    def do_GET(self) -> None:
        if self.path.startswith(STATS_PATH):
            with self.server.lock:
                counts = dict(self.server.counts)
            body = json.dumps({"requests": sum(counts.values()), "by_kind": counts}).encode()
            self._send(200, "application/json", body)
            return
        status, ctype, body = self.server.portal.get(self.path)
        article = _ARTICLE.match(self.path)
        kind = ("robots" if self.path == "/robots.txt" else str(status) if status != 200
                else "report" if article and is_report(int(article[2])) else "page")
        with self.server.lock:
            self.server.counts[kind] += 1
        self._send(status, ctype, body)

    def _send(self, status: int, ctype: str, body: bytes) -> None:
        # one write per response: head and body together (no Nagle/delayed-ACK stalls)
        head = (f"HTTP/1.1 {status} {'OK' if status == 200 else 'Not Found'}\r\n"
                f"Server: nginx\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n")
        self.wfile.write(head.encode("latin-1") + body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/_portal.py", description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = PortalServer(Portal(args.pages, args.seed), HOST, args.port)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print(server.base_url, flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
