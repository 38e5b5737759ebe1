"""The CMS adapters on markup modelled on the families' real pages: what each one asks for."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

from parsel import Selector

from gkcrawl.crawl import cms

SITE = "http://www.shifan.gov.cn"


def found(adapter: cms.Adapter, url: str, html: str) -> list[cms.Found]:
    return list(adapter.links(url, html, Selector(text=html)))


def tail(url: str) -> str:
    parts = urlsplit(url)
    return parts.path.rsplit("/", 1)[-1] + (f"?{parts.query}" if parts.query else "")


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


# --- TRS -----------------------------------------------------------------------------------


def trs(url: str, call: str) -> list[str]:
    return [tail(f.url) for f in found(cms.TrsPager(), url, f"<script>{call}</script>")]


def test_trs_newer_pager_numbering_read_from_the_call() -> None:
    column = f"{SITE}/zfxxgk/zfxxgknb/"
    # a current page of 0 counts from 0: page 2 is index_1
    assert trs(column, "createPageHTML('page_div', 3, 0, 'index', 'shtml', 30);") == [
        "index.shtml", "index_1.shtml", "index_2.shtml"]
    # on index_2 with current 2, pages count from 1: page 2 is index_2
    assert trs(column + "index_2.shtml", "createPageHTML('page_div',3,2,'index','shtml',30);") == [
        "index.shtml", "index_2.shtml", "index_3.shtml"]
    # on list_1 with current 2, from 0 (list_1 is page 2)
    assert trs(column + "list_1.shtml", "createPageHTML('page_div', 3, 2, 'list', 'shtml', 30);"
               ) == ["list.shtml", "list_1.shtml", "list_2.shtml"]
    # page 1 with current 1 says nothing: both numberings, one request more than the pages
    assert trs(column, "createPageHTML('page_div', 2, 1, 'list', 'shtml', 12);") == [
        "list.shtml", "list_1.shtml", "list_2.shtml"]
    # the old call counts from 0 wherever it is
    assert trs(column + "index_1.html", 'createPageHTML(2, 1, "index", "html");') == [
        "index.html", "index_1.html"]


# --- Hanweb --------------------------------------------------------------------------------

RECORD = ("<record><![CDATA[\n<li><a href='/art/2023/1/{d}/art_5001_{n}.html' target='_blank' "
          "title='示范市{organ}2022年政府信息公开工作年度报告'>示范市{organ}2022年政府信息公开工作年度报告"
          "</a><span>2023-01-{d}</span></li>]]></record>")


def datastore(count: int, nextgroup: str = "", total: int | None = None) -> str:
    records = "\n".join(RECORD.format(d=10 + i, n=9000 + i, organ=f"第{i}局")
                        for i in range(count))
    head = f"<nextgroup><![CDATA[<a href=\"{nextgroup}\"></a>]]></nextgroup>" if nextgroup else ""
    total_tag = f"<totalrecord>{total}</totalrecord>" if total is not None else ""
    return f"<datastore>{head}{total_tag}<recordset>{records}</recordset></datastore>"


def test_hanweb_posts_the_ranges_with_the_form_the_script_names() -> None:
    page = (
        '<div id="38101"><script type="text/xml">' + datastore(4) + "</script></div>"
        "<script>$(document).ready(function(){ $('#38101').jpage({ dataStore: dataStore, "
        "totalRecord: 11, perPage: 2, groupSize: 2, barPosition: 'bottom', "
        "proxyUrl: '/module/web/jpage/dataproxy.jsp', ajaxParam: {col: 1, appid: 1, webid: 12, "
        "path: '/', columnid: 5001, sourceContentType: 1, unitid: '38101', "
        "webname: '示范市人民政府', permissiontype: 0} }); });</script>")
    links = found(cms.HanwebJpage(), f"{SITE}/col/col5001/index.html", page)
    assert [f.url for f in links if f.kind == cms.PAGE][:1] == [
        f"{SITE}/art/2023/1/10/art_5001_9000.html"]
    posts = [f for f in links if f.kind == cms.PAGINATION]
    assert [(f.method, tail(f.url)) for f in posts] == [
        ("POST", "dataproxy.jsp?startrecord=5&endrecord=8&perpage=2"),
        ("POST", "dataproxy.jsp?startrecord=9&endrecord=11&perpage=2")]
    assert posts[0].form == (("col", "1"), ("appid", "1"), ("webid", "12"), ("path", "/"),
                             ("columnid", "5001"), ("sourceContentType", "1"),
                             ("unitid", "38101"), ("webname", "示范市人民政府"),
                             ("permissiontype", "0"))


def test_hanweb_get_pages_from_the_nextgroup_link_and_from_its_answers() -> None:
    proxy = "/module/web/jpage/dataproxy.jsp?page=1&webid=12&path=/&columnid=5002&unitid=38102"
    page = ('<div id="38102"><script type="text/xml">' + datastore(3, proxy, total=8)
            + "</script></div><script>var perPage = 3;</script>")
    links = found(cms.HanwebJpage(), f"{SITE}/col/col5002/index.html", page)
    pages = [f.url for f in links if f.kind == cms.PAGINATION]
    assert [query(u)["page"] for u in pages] == ["2", "3"]
    assert all(query(u)["columnid"] == "5002" and u.startswith(f"{SITE}/module/web/jpage/")
               for u in pages)
    # the endpoint's answer (XML) gives its records and the pages after it
    answer = datastore(3, total=8)
    links = found(cms.HanwebJpage(), f"{SITE}{proxy.replace('page=1', 'page=2')}&perpage=3",
                  answer)
    assert len([f for f in links if f.kind == cms.PAGE]) == 3
    assert [query(f.url)["page"] for f in links if f.kind == cms.PAGINATION] == ["2", "3"]
    # without a total the nextgroup link is asked first: its answer tells
    bare = '<script type="text/xml">' + datastore(3, proxy) + "</script>"
    assert [(f.kind, tail(f.url)) for f in found(cms.HanwebJpage(), SITE + "/col/col5002/",
                                                 bare) if f.kind != cms.PAGE] == [
        (cms.PAGINATION, "dataproxy.jsp?page=1&webid=12&path=/&columnid=5002&unitid=38102")]


def test_hanweb_column_pages_by_unit_and_page_number() -> None:
    page = ('<div id="38103"><script type="text/xml">' + datastore(3, total=7)
            + "</script></div><script>$('#38103').jpage({perPage: 3});</script>")
    links = found(cms.HanwebJpage(), f"{SITE}/col/col5003/index.html", page)
    assert [tail(f.url) for f in links if f.kind == cms.PAGINATION] == [
        "index.html?uid=38103&pageNum=2", "index.html?uid=38103&pageNum=3"]


# --- LonSun --------------------------------------------------------------------------------

LONSUN_COLUMN = """<div id="xxgk_lmcon"></div>
<script type="text/javascript">
  var catId = '7000001';
  function getList(pageIndex) {
    Ls.ajax({
      url: "/site/label/8888?IsAjax=1&dataType=html&_=" + Math.random(),
      data: {
        labelName: "publicInfoList", siteId: 6600001, pageSize: 3, pageIndex: pageIndex,
        action: "list", isDate: true, dateFormat: "yyyy-MM-dd", length: 50,
        organId: "6600001", type: 4, catId: catId, cId: "", result: "暂无相关信息",
        file: "/c1/xxgk/publicInfoList_newest"
      }
    }).done(function (html) { $("#xxgk_lmcon").html(html); });
  }
  getList(1);
</script>"""


def test_lonsun_label_asked_with_the_scripts_parameters() -> None:
    (first,) = found(cms.LonsunLabel(), f"{SITE}/public/column/6600001?type=4&catId=7000001",
                     LONSUN_COLUMN)
    assert first.kind == cms.PAGINATION and first.url.startswith(f"{SITE}/site/label/8888?")
    params = query(first.url)
    assert params == {"IsAjax": "1", "dataType": "html", "labelName": "publicInfoList",
                      "siteId": "6600001", "pageSize": "3", "pageIndex": "1", "action": "list",
                      "isDate": "true", "dateFormat": "yyyy-MM-dd", "length": "50",
                      "organId": "6600001", "type": "4", "catId": "7000001",
                      "result": "暂无相关信息", "file": "/c1/xxgk/publicInfoList_newest"}
    # the fragment's pager gives the count
    fragment = ('<ul><li><a href="/public/6600001/8000001.html">甲</a></li></ul>'
                '<div class="pagination" id="page_public_info"></div>'
                "<script>Ls.pagination('#page_public_info', {pageCount: 3, pageIndex: 1});"
                "</script>")
    pages = found(cms.LonsunLabel(), first.url, fragment)
    assert [query(f.url)["pageIndex"] for f in pages] == ["2", "3"]
    # without a count, the next page while pages list links
    assert [query(f.url)["pageIndex"] for f in found(
        cms.LonsunLabel(), pages[0].url, '<a href="/public/6600001/8000004.html">乙</a>')] == ["3"]
    assert found(cms.LonsunLabel(), pages[1].url, "<p>暂无相关信息</p>") == []


def test_lonsun_page_with_several_labels() -> None:
    calls = "".join(
        f"<script>Ls.ajax({{url: '/site/label/{label}?IsAjax=1', data: {{labelName: '{name}', "
        f"catId: {cat}, pageSize: 8}}}});</script>"
        for label, name, cat in (("8888", "publicInfoList", 1), ("9999", "articleList", 2)))
    firsts = found(cms.LonsunLabel(), f"{SITE}/", calls)
    assert [(urlsplit(f.url).path, query(f.url)["labelName"], query(f.url)["catId"])
            for f in firsts] == [("/site/label/8888", "publicInfoList", "1"),
                                 ("/site/label/9999", "articleList", "2")]


# --- gkmlpt --------------------------------------------------------------------------------

GKMLPT_SHELL = """<!DOCTYPE html><html><head><title>政府信息公开</title></head><body>
<div id="app"></div>
<script>
window._CONFIG = {
  SID: '755999',
  SITE_NAME: '示范市人民政府',
  TREE: [{"id":2380,"name":"政策文件","post_count":12,"children":[]},
         {"id":2381,"name":"政府信息公开年报","post_count":5,"children":[
            {"id":2390,"name":"部门信息公开年报","post_count":2,"children":[]}]},
         {"id":2399,"name":"网上办事","jump_url":"http://www.shifan.gov.cn/bsfw/"}],
  SERVICE_AREA_ID: 440399
};
</script><script src="/gkmlpt/static/js/app.js"></script></body></html>"""


def test_gkmlpt_columns_from_the_config_tree() -> None:
    """Columns whose name has a report signal (their API URLs all look alike)."""
    links = found(cms.Gkmlpt(), f"{SITE}/gkmlpt/index", GKMLPT_SHELL)
    assert sorted((f.text, f.url) for f in links) == [
        ("政府信息公开年报", f"{SITE}/gkmlpt/api/all/2381?page=1&sid=755999"),
        ("部门信息公开年报", f"{SITE}/gkmlpt/api/all/2390?page=1&sid=755999")]
    assert all(f.kind == cms.PAGE for f in links)
    jump = GKMLPT_SHELL.replace('"name":"网上办事"', '"name":"部门年报"')
    assert ("部门年报", "http://www.shifan.gov.cn/bsfw/") in {
        (f.text, f.url) for f in found(cms.Gkmlpt(), f"{SITE}/gkmlpt/index", jump)}


def test_gkmlpt_api_answer_gives_articles_and_pages() -> None:
    answer = json.dumps({
        "articles": [{"id": 3001230 + i, "title": f"示范市第{i}局2022年政府信息公开工作年度报告",
                      "url": f"{SITE}/gkmlpt/content/3/3001/post_300123{i}.html#2381"}
                     for i in range(2)],
        "classify": {"id": 2381, "name": "政府信息公开年报", "post_count": 5}, "total": 5},
        ensure_ascii=False)
    url = f"{SITE}/gkmlpt/api/all/2381?page=1&sid=755999"
    links = found(cms.Gkmlpt(), url, answer)
    assert [(f.kind, tail(f.url)) for f in links] == [
        (cms.PAGE, "post_3001230.html"), (cms.PAGE, "post_3001231.html"),
        (cms.PAGINATION, "2381?page=2&sid=755999"), (cms.PAGINATION, "2381?page=3&sid=755999")]
    # later pages give their articles only
    assert [f.kind for f in found(cms.Gkmlpt(), url.replace("page=1", "page=2"), answer)] == [
        cms.PAGE, cms.PAGE]
    assert found(cms.Gkmlpt(), url, "<html>not json</html>") == []


# --- links in script and attributes, frames --------------------------------------------------


def test_links_in_script_attributes_and_frames() -> None:
    page = """<ul>
      <li onclick="window.open('/xxgk/nb/2022/t1.html','_blank','width=900')">甲局2022年年报</li>
      <li><a href="javascript:void(0)" onclick="location.href='../nb/t2.html'">乙局年报</a></li>
      <li><a href="javascript:openArticle('t3.html')">丙局年报</a></li>
      <li><a href="JavaScript:window.open('http://www.shifan.gov.cn/xxgk/t4.html')">丁局</a></li>
      <li data-href="/xxgk/nb/t5.html"><span>戊局年报</span></li>
      <li data-url="t6.html" title="己局年报"></li>
      <li><a href="javascript:void(0)" onclick="share('weibo'); return false;">分享</a></li>
      <li onclick="fontSize('16px')">大字</li>
    </ul>
    <iframe src="/xxgk/nb/list.html" title="年报列表"></iframe>
    <iframe src="about:blank"></iframe>"""
    links = found(cms.ScriptLinks(), f"{SITE}/xxgk/qt/index.html", page)
    assert [(f.kind, f.url.removeprefix(SITE), f.text) for f in links] == [
        (cms.PAGE, "/xxgk/nb/2022/t1.html", "甲局2022年年报"),
        (cms.PAGE, "/xxgk/nb/t2.html", "乙局年报"),
        (cms.PAGE, "/xxgk/qt/t3.html", "丙局年报"),
        (cms.PAGE, "/xxgk/t4.html", "丁局"),
        (cms.PAGE, "/xxgk/nb/t5.html", "戊局年报"),
        (cms.PAGE, "/xxgk/qt/t6.html", "己局年报"),
        (cms.FRAME, "/xxgk/nb/list.html", "年报列表")]
    frameset = '<frameset cols="20%,80%"><frame src="menu.html" name="menu"></frameset>'
    assert [(f.kind, tail(f.url), f.text) for f in found(
        cms.ScriptLinks(), f"{SITE}/xxgk/", frameset)] == [(cms.FRAME, "menu.html", "menu")]
