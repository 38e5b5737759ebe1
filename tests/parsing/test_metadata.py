"""Titles where real pages put them, and one organ under one name across a series of reports.

The pages are modelled on the detail pages of the two CMS families most portals run: TRS WCM
(article in ``div.TRS_Editor`` under a long menu, the portal's name as ``<title>``) and Hanweb
JCMS (layout tables, the article in ``div#zoom`` between ``<!--<$[信息内容]>begin-->`` markers,
the title as centred bold paragraphs in the body only).
"""

from __future__ import annotations

import pytest

from gkcrawl.parsing import _simplify, metadata, parse_document
from gkcrawl.parsing.extract.html import extract_html

#: a TRS portal's header: a menu longer than the first 200 lines of text
TRS_MENU = "".join(f'<li><a href="/col{i}/index.html">栏目{i}</a></li>' for i in range(260))


def trs_page(article: str, *, sidebar: str = "", title: str = "上海市人民政府") -> str:
    head = f"<title>{title}</title>" if title else ""
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f'{head}<meta name="SiteName" content="上海市人民政府">'
        '<meta name="ColumnName" content="政府信息公开年报"></head><body>'
        f'<div class="header"><ul class="nav">{TRS_MENU}</ul></div>'
        '<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/xxgk/">政府信息公开</a>'
        ' &gt; <a href="/xxgk/nb/">政府信息公开年报</a></div>'
        f'<div class="sidebar">{sidebar}</div>'
        '<div class="Article_content" id="ivs_content"><div class="TRS_Editor">'
        f'{article}<p>　　本报告根据《中华人民共和国政府信息公开条例》要求编制。</p></div></div>'
        '<div class="footer">主办：上海市人民政府办公厅</div></body></html>')


def hanweb_page(article: str) -> str:
    return (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        '</head><body><table width="1000" align="center"><tr><td>'
        '<table class="bt_content"><tr><td><!--<$[信息内容]>begin--><div id="zoom">'
        f'{article}<p>根据《中华人民共和国政府信息公开条例》，市科委编制了本报告。</p>'
        "</div><!--<$[信息内容]>end--></td></tr></table></td></tr></table></body></html>")


def centred_bold(*lines: str) -> str:
    return "".join(f'<p style="text-align: center;"><strong><span style="font-size: 22px;">'
                   f"{line}</span></strong></p>" for line in lines)


def metadata_of(html: str, url: str | None = None) -> metadata.Metadata:
    doc = extract_html(html)
    _simplify(doc)
    return metadata.extract(doc.text, doc.meta, url, doc.links)


@pytest.mark.parametrize(("article", "title"), [
    # organ first, one bold paragraph
    (centred_bold("上海市人民政府办公厅2019年政府信息公开工作年度报告"),
     "上海市人民政府办公厅2019年政府信息公开工作年度报告"),
    # year first
    (centred_bold("2019年上海市人民政府办公厅政府信息公开工作年度报告"),
     "2019年上海市人民政府办公厅政府信息公开工作年度报告"),
    # the organ on a line of its own, then the year and the rest
    (centred_bold("上海市人民政府办公厅", "2019年政府信息公开工作年度报告"),
     "上海市人民政府办公厅2019年政府信息公开工作年度报告"),
    # three lines
    (centred_bold("上海市人民政府办公厅", "2019年政府信息公开", "工作年度报告"),
     "上海市人民政府办公厅2019年政府信息公开工作年度报告"),
    # one paragraph broken with <br>, the year in a span of its own
    (('<p align="center"><b><span>2019</span>年上海市人民政府办公厅<br>'
      "政府信息公开工作年度报告</b></p>"),
     "2019年上海市人民政府办公厅政府信息公开工作年度报告"),
])
def test_a_trs_title_only_in_the_body_below_a_long_menu(article: str, title: str) -> None:
    md = metadata_of(trs_page(article))
    assert (md.title, md.year, md.organ) == (title, 2019, "上海市人民政府办公厅")
    assert (md.division_code, md.division_level) == ("310000", "province")


def test_a_page_without_a_title_element() -> None:
    md = metadata_of(trs_page(centred_bold("2019年上海市人民政府办公厅政府信息公开工作年度报告"),
                              title=""))
    assert (md.year, md.organ) == (2019, "上海市人民政府办公厅")


def test_links_to_other_years_reports_are_not_the_title() -> None:
    sidebar = ('<h3>相关阅读</h3><ul><li><a href="/nb/t20190130_1.html">2018年上海市人民政府办公厅'
               '政府信息公开工作年度报告</a></li><li><a href="/nb/t20180131_2.html">上海市人民政府'
               "办公厅2017年政府信息公开工作年度报告</a></li></ul>")
    md = metadata_of(trs_page(centred_bold("2019年上海市人民政府办公厅政府信息公开工作年度报告"),
                              sidebar=sidebar))
    assert (md.year, md.title) == (2019, "2019年上海市人民政府办公厅政府信息公开工作年度报告")


def test_a_hanweb_title_split_over_two_lines_with_an_abbreviated_organ() -> None:
    """The shape of the 上海市科委 report: 2024 年上海市科委政府信息公开 / 工作年度报告."""
    md = metadata_of(hanweb_page(centred_bold("2024 年上海市科委政府信息公开", "工作年度报告")))
    assert (md.title, md.year) == ("2024年上海市科委政府信息公开工作年度报告", 2024)
    assert (md.organ, md.organ_as_printed) == ("上海市科学技术委员会", "上海市科委")
    assert md.division_code == "310000"


@pytest.mark.parametrize(("printed", "organ"), [
    ("上海市发改委", "上海市发展和改革委员会"),
    ("开封市住建局", "开封市住房和城乡建设局"),
    ("兰考县人社局", "兰考县人力资源和社会保障局"),
    ("兰考县政府办", "兰考县人民政府办公室"),
])
def test_known_abbreviations_are_expanded_and_kept_as_printed(printed: str, organ: str) -> None:
    md = metadata_of(hanweb_page(centred_bold(f"{printed}2023年政府信息公开工作年度报告")))
    assert (md.organ, md.organ_as_printed) == (organ, printed)


def test_a_full_name_is_not_an_abbreviation() -> None:
    md = metadata_of(hanweb_page(centred_bold("兰考县人民政府2023年政府信息公开工作年度报告")))
    assert (md.organ, md.organ_as_printed) == ("兰考县人民政府", None)


def test_year_first_title_of_a_peoples_government() -> None:
    """2021年兰考县人民政府信息公开…: the organ is 兰考县人民政府, not 兰考县人民."""
    assert metadata.find_title("2021年兰考县人民政府信息公开工作年度报告") == metadata.TitleMatch(
        2021, "兰考县人民政府", 0, 22)
    # a title without an organ names none
    assert metadata.find_title("2023年度政府信息公开工作年度报告") is None


#: three years of one county's reports as its portal (TRS) publishes them: the title names the
#: government (organ first, then bare, then year first), the 来源 line and the signature its office
SERIES = {
    2019: "兰考县人民政府2019年政府信息公开工作年度报告",
    2020: "兰考县2020年政府信息公开工作年度报告",
    2021: "2021年兰考县人民政府政府信息公开工作年度报告",
}


def series_page(year: int) -> bytes:
    title = SERIES[year]
    return (
        f'<html><head><meta charset="utf-8"><meta name="ArticleTitle" content="{title}">'
        '<meta name="ContentSource" content="兰考县人民政府办公室"><title>兰考县人民政府</title>'
        f'</head><body><div class="title">{title}</div>'
        f"<div class='info'><span>来源：兰考县人民政府办公室</span><span>发布时间：{year + 1}-01-20"
        '</span></div><div class="TRS_Editor"><p>一、总体情况</p><p>（文字）</p>'
        '<p style="text-align:right">兰考县人民政府办公室</p>'
        f'<p style="text-align:right">{year + 1}年1月20日</p></div></body></html>').encode()


def test_a_series_of_one_government_comes_out_under_one_name() -> None:
    found = set()
    for year in SERIES:
        result = parse_document(series_page(year), "text/html",
                                f"http://www.lankao.gov.cn/xxgk/nb/{year}.html")
        assert result.title == SERIES[year]  # a report page without tables: not parsed further
        md = metadata_of(series_page(year).decode())
        assert md.year == year
        found.add((md.organ, md.publisher, md.division_code, md.division_level))
    assert found == {("兰考县人民政府", "兰考县人民政府办公室", "410225", "county")}


def test_the_office_reporting_on_itself_has_no_other_publisher() -> None:
    page = series_page(2021).decode().replace(SERIES[2021], "兰考县人民政府办公室2021年政府信息公开"
                                                            "工作年度报告")
    md = metadata_of(page)
    assert (md.organ, md.publisher) == ("兰考县人民政府办公室", None)


def test_a_district_is_named_with_its_city_a_county_is_not() -> None:
    """The shape of the 洪泽区 2023 report: 洪泽区人民政府 / 2023 年政府信息公开工作年度报告,
    compiled by 淮安市洪泽区人民政府办公室; its 2024 title prints 淮安市洪泽区人民政府."""
    text = "<p>本报告由淮安市洪泽区人民政府办公室根据《条例》要求编制。</p>"
    md = metadata_of(hanweb_page(centred_bold("洪泽区人民政府", "2023年政府信息公开工作年度报告")
                                 + text))
    assert (md.organ, md.publisher) == ("淮安市洪泽区人民政府", "淮安市洪泽区人民政府办公室")
    assert (md.division_code, md.division_level) == ("320813", "county")
    # whatever the text says: one name for every copy and year
    md = metadata_of(hanweb_page(centred_bold("洪泽区财政局2023年政府信息公开工作年度报告")))
    assert (md.organ, md.division_code) == ("淮安市洪泽区财政局", "320813")
    md = metadata_of(hanweb_page(centred_bold("兰考县人民政府2023年政府信息公开工作年度报告")
                                 + "<p>开封市兰考县人民政府办公室</p>"))
    assert (md.organ, md.division_code) == ("兰考县人民政府", "410225")


def test_a_misread_county_name_is_corrected_and_flagged() -> None:
    title = "淮安市洪择区人民政府2023年政府信息公开工作年度报告"
    md = metadata_of(hanweb_page(centred_bold(title)))
    assert (md.organ, md.division_code) == ("淮安市洪泽区人民政府", "320813")
    assert "organ region 洪择区 read as 洪泽区 (320813): one character differs" in md.flags


def test_a_name_of_two_districts_gets_the_one_the_text_names() -> None:
    title = centred_bold("朝阳区人民政府2023年政府信息公开工作年度报告")
    md = metadata_of(hanweb_page(title + "<p>长春市朝阳区政务公开工作稳步推进。</p>"))
    assert (md.organ, md.division_code) == ("长春市朝阳区人民政府", "220104")
    md = metadata_of(hanweb_page(title))
    assert md.division_code is None
    assert any("朝阳区 is one of 2 divisions (110105, 220104)" in f for f in md.flags)
