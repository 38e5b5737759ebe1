"""Link scoring, CMS adapters, URL canonicalisation and the page classifier, on saved snippets."""

from __future__ import annotations

import random

from parsel import Selector

from gkcrawl.crawl import cms
from gkcrawl.crawl.classify import (
    LOOKALIKE_ROLE,
    OTHER,
    REPORT,
    REPORT_LIST,
    REPORT_PAGE,
    Verdict,
    classify_html,
)
from gkcrawl.crawl.links import score_link
from gkcrawl.crawl.urls import canonical
from gkcrawl.demo.render.html import render_html
from gkcrawl.demo.render.reports import random_report

BASE = "http://www.example.gov.cn/zfxxgk/zfxxgknb/index.html"


def test_scores_rank_report_columns_first() -> None:
    column = score_link("http://x.gov.cn/zfxxgk/zfxxgknb/", "政府信息公开年报")
    disclosure = score_link("http://x.gov.cn/zfxxgk/", "政府信息公开")
    news = score_link("http://x.gov.cn/xwzx/", "新闻中心")
    assert column > disclosure > news == 0
    assert score_link("http://x.gov.cn/en/index.html", "English") < 0
    assert score_link("http://x.gov.cn/login.jsp", "用户登录") < 0
    assert score_link("mailto:a@b.cn", "联系我们") < 0


def test_trs_pager_pages_from_create_page_html() -> None:
    html = '<script>var countPage = 4;createPageHTML(countPage, 0, "index", "html");</script>'
    found = cms.TrsPager().links(BASE, html, Selector(text=html))
    assert [f.url for f in found] == [
        "http://www.example.gov.cn/zfxxgk/zfxxgknb/index.html",
        "http://www.example.gov.cn/zfxxgk/zfxxgknb/index_1.html",
        "http://www.example.gov.cn/zfxxgk/zfxxgknb/index_2.html",
        "http://www.example.gov.cn/zfxxgk/zfxxgknb/index_3.html"]
    # the newer call on page 1 does not say whether page 2 is index_1 or index_2: both are asked
    newer = "<script>createPageHTML('page_div', 3, 1, 'index', 'shtml', 42);</script>"
    found = cms.TrsPager().links(BASE, newer, Selector(text=newer))
    assert [f.url.rsplit("/", 1)[1] for f in found] == [
        "index.shtml", "index_1.shtml", "index_2.shtml", "index_3.shtml"]


def test_hanweb_records_inside_xml_script() -> None:
    html = ('<script type="text/xml"><datastore><recordset>'
            '<record><![CDATA[<li><a href="/art/2022/1/20/art_1234_567.html" title="x">'
            "某局2021年政府信息公开工作年度报告</a></li>]]></record>"
            '</recordset></datastore></script>')
    found = list(cms.HanwebJpage().links("http://www.example.gov.cn/col/col1234/index.html",
                                           html, Selector(text=html)))
    assert found == [cms.Found("http://www.example.gov.cn/art/2022/1/20/art_1234_567.html",
                               "某局2021年政府信息公开工作年度报告", cms.PAGE)]


def test_script_redirect_shell_and_pager_links() -> None:
    shell = '<html><script>window.location.replace("../real/index.html");</script></html>'
    assert [f.url for f in cms.ScriptRedirect().links(BASE, shell, Selector(text=shell))] == [
        "http://www.example.gov.cn/zfxxgk/real/index.html"]
    pager = ('<a href="list.html?page=2">下一页</a><a href="about.html">关于</a>'
             '<a href="index_5.html">尾页</a>')
    links = cms.Pager().links(BASE, pager, Selector(text=pager))
    assert [(f.url.rsplit("/", 1)[1], f.kind) for f in links] == [
        ("list.html?page=2", cms.PAGINATION), ("index_5.html", cms.PAGINATION)]


def test_canonical_url_drops_session_ids_and_fragments() -> None:
    assert canonical("http://a.gov.cn/x/list.html;jsessionid=AB12?page=2&sid=9f3c2a#top") == \
        "http://a.gov.cn/x/list.html?page=2"
    # a number is a site id (gkmlpt's API answers nothing without it), not a session
    assert canonical("http://a.gov.cn/gkmlpt/api/all/2381?page=1&sid=755031") == \
        "http://a.gov.cn/gkmlpt/api/all/2381?page=1&sid=755031"
    assert canonical("http://a.gov.cn/x?b=2&a=1") == canonical("http://a.gov.cn/x?a=1&b=2")


def classify(html: str | bytes, url: str = BASE) -> str:
    text = html.decode("utf-8") if isinstance(html, bytes) else html
    sel = Selector(text=text)
    links = [(a.attrib["href"], "".join(a.css("::text").getall())) for a in sel.css("a[href]")]
    return classify_html(url, text, sel, links).role


def test_classifier_roles() -> None:
    report = render_html(random_report(random.Random(3)))
    assert classify(report) == REPORT
    page = ("<html><head><title>某县2022年政府信息公开工作年度报告</title></head><body>"
            "<a href='P020230120.pdf'>某县2022年政府信息公开工作年度报告.pdf</a></body></html>")
    assert classify(page) == REPORT_PAGE
    listing = ("<html><body><a href='t1.html'>甲县2021年政府信息公开工作年度报告</a>"
               "<a href='t2.html'>乙局2021年政府信息公开年度报告</a></body></html>")
    assert classify(listing, "http://x.gov.cn/news/") == REPORT_LIST
    notice = ("<html><head>"
              "<title>关于做好2022年政府信息公开工作年度报告编制工作的通知</title></head>"
              "<body><p>各单位：请于1月31日前报送年度报告。</p></body></html>")
    assert classify(notice) == LOOKALIKE_ROLE
    assert classify("<html><head><title>首页</title></head><body>欢迎</body></html>") == OTHER


def verdict_of(html: str) -> Verdict:
    sel = Selector(text=html)
    links = [(a.attrib["href"], "".join(a.css("::text").getall())) for a in sel.css("a[href]")]
    return classify_html("http://www.shanghai.gov.cn/nw12344/20200115/abc.html", html, sel, links)


CHROME = ('<html><head><title>上海市人民政府</title></head><body><div class="nav">'
          '<a href="/a.html">关于我们</a><a href="/b.html">通知公告</a></div>{}</body></html>')
TABLE_HEADERS = "<table><tr><td>本年新收政府信息公开申请数量</td><td>0</td></tr></table>"


def test_a_year_first_title_in_a_styled_paragraph_is_a_report() -> None:
    html = CHROME.format('<p style="text-align:center"><strong>2019年上海市人民政府办公厅政府信息'
                         '公开工作年度报告</strong></p>' + TABLE_HEADERS)
    verdict = verdict_of(html)
    assert (verdict.role, verdict.year, verdict.organ) == (REPORT, 2019, "上海市人民政府办公厅")


def test_a_title_split_over_two_lines_is_found() -> None:
    html = CHROME.format("<p>2024 年上海市科委政府信息公开</p><p>工作年度报告</p>" + TABLE_HEADERS)
    verdict = verdict_of(html)
    assert (verdict.role, verdict.year, verdict.organ) == (REPORT, 2024, "上海市科委")


def test_a_title_split_over_three_lines_is_found() -> None:
    html = CHROME.format("<p><strong>上海市人民政府办公厅</strong></p><p><strong>2019年政府信息公开"
                         "</strong></p><p><strong>工作年度报告</strong></p>" + TABLE_HEADERS)
    verdict = verdict_of(html)
    assert (verdict.role, verdict.year, verdict.organ) == (REPORT, 2019, "上海市人民政府办公厅")


def test_signals_without_a_title_still_send_the_page_to_the_parser() -> None:
    assert classify(CHROME.format("<p>一、总体情况</p>" + TABLE_HEADERS)) == REPORT
    named = verdict_of(CHROME.format("<p>现公布本机关2023年政府信息公开工作年度报告全文。</p>"))
    assert named.role == REPORT
    # a link to a report is not a signal of the page that holds it
    news = verdict_of(CHROME.format('<p>近日发布</p><a href="/nb.html">2023年区政府信息公开工作年度'
                                  "报告</a>"))
    assert news.role == OTHER


def test_a_gbk_page_served_as_utf8_is_read_by_its_meta() -> None:
    from scrapy.http import HtmlResponse

    from gkcrawl.parsing import parse_document
    from gkcrawl.spiders.portals import _page_text

    html = CHROME.format("<p>2019年上海市人民政府办公厅政府信息公开工作年度报告</p>"
                         + TABLE_HEADERS)
    body = html.replace("<head>", '<head><meta charset="gbk">').encode("gbk")
    url = "http://www.shanghai.gov.cn/nw12344/20200115/abc.html"
    response = HtmlResponse(url, body=body, headers={"Content-Type": "text/html; charset=utf-8"})
    text, sel, overruled = _page_text(response)
    assert "上海市人民政府办公厅" in text and overruled
    verdict = classify_html(url, text, sel, [])
    assert (verdict.role, verdict.year) == (REPORT, 2019)
    parsed = parse_document(body, "text/html; charset=utf-8", url)
    assert parsed.title == "2019年上海市人民政府办公厅政府信息公开工作年度报告"


def test_a_page_cut_inside_its_meta_tag_is_read() -> None:
    """w3lib's encoding detector panics on it (a BaseException from Rust), in Scrapy's
    ``response.text`` too: the spider reads the page as the parser decodes it."""
    from scrapy.http import HtmlResponse

    from gkcrawl.spiders.portals import _page_text

    response = HtmlResponse("http://www.example.gov.cn/a.html",
                            body=b"<!DOCTYPE html><html><head><meta",
                            headers={"Content-Type": "text/html"})
    text, _sel, overruled = _page_text(response)
    assert text == "<!DOCTYPE html><html><head><meta" and not overruled
