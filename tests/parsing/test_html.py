"""HTML pages: grid expansion, Word-export markup, blanks, misaligned spans, GBK, page types."""

from __future__ import annotations

from pathlib import Path

import pytest

from gkcrawl.parsing import _simplify, mapper, parse_document
from gkcrawl.parsing.extract.decode import decode_html
from gkcrawl.parsing.extract.html import extract_html
from gkcrawl.template.spec import TEMPLATES
from tests.parsing.test_seeds import parse_seed

FIXTURES = Path(__file__).parent.parent / "fixtures" / "html"


def tables(report: dict) -> dict:
    return {k: report[k] for k in ("active_disclosure", "applications", "review_litigation")}


def test_official_page_with_merges_blank_totals_and_word_markup() -> None:
    body = (FIXTURES / "official-2021.html").read_bytes()
    result = parse_document(body, "text/html", "http://www.wzs.gov.cn/zfxxgk/gknb/t20220129_1.html")
    report = result.to_dict()
    assert tables(report) == tables(parse_seed("001"))
    assert ((report["organ"], report["year"], report["published"])
            == ("五指山市人民政府办公室", 2021, "2022-01-29"))
    # 总计 was printed blank on every leaf row of table 2: each one recovered from its row
    # (identity 3)
    inferred = {i["cell"]: i for i in report["inferred"]}
    assert inferred["applications.disclosed.total"]["value"] == 13
    assert inferred["applications.disclosed.total"]["rule"] == "3"
    assert inferred["applications.disclosed.total"]["why"].startswith("printed blank")
    assert len(inferred) == 21  # the 21 leaf rows of the 2021 table 2
    assert all(c["status"] == "pass" for c in report["checks"])


def test_gbk_page_with_charset_only_in_meta() -> None:
    body = (FIXTURES / "gbk-2019.html").read_bytes()
    text, encoding = decode_html(body, "text/html")  # no charset in the header
    assert encoding in ("gb18030", "gbk")
    assert "工布江达县" in text
    report = parse_document(body, "text/html").to_dict()
    assert report["format"] == "2019"
    assert tables(report) == tables(parse_seed("004"))
    # the title names the county (工布江达县2020年…): the report is its government's; the office
    # that the page's ContentSource names published it
    assert (report["organ"], report["publisher"]) == ("工布江达县人民政府",
                                                      "工布江达县人民政府办公室")
    assert (report["division_code"], report["division_level"]) == ("540421", "county")


def test_grid_expansion_keeps_span_origins() -> None:
    doc = extract_html("""<table>
        <tr><td rowspan=2 colspan=2>A</td><td>b</td></tr>
        <tr><td>c</td></tr>
        <tr><td>d</td><td colspan=2>e</td></tr></table>""")
    grid = [[c.text for c in row.cells] for row in doc.rows]
    assert grid == [["A", "A", "b"], ["A", "A", "c"], ["d", "e", "e"]]
    first, second = doc.rows[0].cells, doc.rows[1].cells
    assert first[0].origin == first[1].origin == second[0].origin == second[1].origin
    assert [c.text for c in doc.rows[2].distinct()] == ["d", "e"]


def test_only_innermost_tables_are_grids() -> None:
    doc = extract_html("<table><tr><td><p>一、总体情况</p><table><tr><td>规章</td><td>1</td></tr>"
                       "</table></td></tr></table>")
    assert [(r.kind, r.texts) for r in doc.rows] == [("text", ["一、总体情况"]),
                                                    ("table", ["规章", "1"])]


ROW_2021 = "<tr><td colspan=3>{label}</td>{cells}</tr>"


def _page(rows: dict[str, list[str]]) -> bytes:
    """A minimal 2021 page with the given table-2 rows (label -> 7 cells, '' for blank)."""
    body = "".join(
        ROW_2021.format(label=label, cells="".join(f"<td>{c or '&nbsp;'}</td>" for c in cells))
        for label, cells in rows.items())
    return ("<html><head><title>某县2021年政府信息公开工作年度报告</title></head><body>"
            "<p>某县人民政府2021年政府信息公开工作年度报告</p>"
            "<p>三、收到和处理政府信息公开申请情况</p>"
            "<table><tr><td>本年制发件数</td></tr><tr><td colspan=3>申请人情况</td></tr>"
            f"{body}</table></body></html>").encode()


def test_blank_cells_are_zero_unless_an_identity_forces_another_value() -> None:
    report = parse_document(_page({
        "一、本年新收政府信息公开申请数量": ["3", "2", "", "", "", "", ""],  # 总计 blank: the sum
        "二、上年结转政府信息公开申请数量": ["", "", "", "", "", "", ""],  # blank: 0
        "(一)予以公开": ["1", "", "0", "0", "0", "0", "3"],  # the blank is what the row leaves
    })).to_dict()
    apps = report["applications"]
    assert apps["new_received"] == {
        "natural_person": 3, "commercial_enterprise": 2, "research_institution": 0,
        "social_welfare_org": 0, "legal_service_org": 0, "other_org": 0, "total": 5}
    assert set(apps["carried_over"].values()) == {0}
    assert apps["disclosed"]["commercial_enterprise"] == 2
    inferred = {i["cell"]: (i["value"], i["rule"], i["why"]) for i in report["inferred"]}
    assert inferred["applications.carried_over.natural_person"] == (0, "blank", "printed blank")
    assert inferred["applications.new_received.other_org"] == (0, "blank", "printed blank")
    assert inferred["applications.new_received.total"] == (
        5, "3", ("printed blank; identity 3: applications: total = sum of applicant columns "
                 "[new_received]"))
    assert inferred["applications.carried_over.total"][:2] == (0, "3")
    assert inferred["applications.disclosed.commercial_enterprise"][:2] == (2, "3")
    assert not any("left null" in f for f in report["flags"])


def test_a_blank_whose_zero_breaks_an_identity_stays_null() -> None:
    # the row prints 5 in 总计 and leaves two cells blank: 0 in both breaks identity 3, and
    # nothing says which one holds the 2
    report = parse_document(_page({
        "一、本年新收政府信息公开申请数量": ["3", "", "", "0", "0", "0", "5"],
    })).to_dict()
    new = report["applications"]["new_received"]
    assert new["commercial_enterprise"] is None and new["research_institution"] is None
    assert new["natural_person"] == 3 and new["total"] == 5
    cells = {i["cell"] for i in report["inferred"]}
    assert "applications.new_received.commercial_enterprise" not in cells
    assert ("2 blank cells left null: applications.new_received.commercial_enterprise, "
            "applications.new_received.research_institution") in report["flags"]


def test_strict_reading_keeps_blanks_null() -> None:
    page = _page({"一、本年新收政府信息公开申请数量": ["3", "", "", "", "", "", ""]})
    report = parse_document(page, strict=True).to_dict()
    new = report["applications"]["new_received"]
    assert new["natural_person"] == 3
    assert [k for k, v in new.items() if v is None] == [
        "commercial_enterprise", "research_institution", "social_welfare_org",
        "legal_service_org", "other_org", "total"]
    assert report["inferred"] == []
    assert any(f.startswith("strict reading: 6 blank cells left null") for f in report["flags"])


def test_numbers_are_read_by_grid_position_not_sequence() -> None:
    # a blank in the middle of a row must not shift the numbers after it
    report = parse_document(_page({
        "一、本年新收政府信息公开申请数量": ["5", "", "2", "0", "0", "0", "7"],
    })).to_dict()
    assert report["applications"]["new_received"]["research_institution"] == 2
    assert report["applications"]["new_received"]["commercial_enterprise"] == 0  # forced by the row


def test_amounts_in_yuan_become_10k_yuan_and_signs_are_kept() -> None:
    page = ("<html><body><p>某局2021年政府信息公开工作年度报告</p><table>"
            "<tr><td>信息内容</td><td>本年收费金额（单位：万元）</td></tr>"
            "<tr><td>行政事业性收费</td><td>251000元</td></tr></table></body></html>").encode()
    report = parse_document(page).to_dict()
    assert report["active_disclosure"]["admin_fees"]["amount_10k_yuan"] == 25.1


def test_lookalike_notice_is_not_a_report() -> None:
    page = ("<html><head>"
            "<title>关于做好2021年政府信息公开工作年度报告编制工作的通知</title></head><body>"
            "<p>关于做好2021年政府信息公开工作年度报告编制工作的通知</p>"
            "<p>各区县：请按照格式编制。</p>"
            "</body></html>").encode()
    result = parse_document(page, "text/html")
    assert not result.ok and result.code == "lookalike"


def test_report_page_without_tables_points_to_attachment() -> None:
    page = ("<html><body><h1>某市2022年政府信息公开工作年度报告</h1>"
            "<a href='nb.pdf'>附件：年度报告.pdf</a></body></html>").encode()
    result = parse_document(page, "text/html")
    assert not result.ok and result.code == "not_a_report"
    assert "template tables" in result.reason
    assert result.title == "某市2022年政府信息公开工作年度报告"


def test_legacy_report_is_recognised_and_flagged() -> None:
    page = ("<html><body><h1>舒兰市2016年政府信息公开工作年度报告</h1><p>一、概述</p>"
            "<p>二、主动公开政府信息情况</p><p>三、依申请公开政府信息情况</p>"
            "<table><tr><td>申请总数</td><td>12</td></tr></table>"
            "<p>四、因政府信息公开申请行政复议、提起行政诉讼的情况</p></body></html>").encode()
    report = parse_document(page, "text/html").to_dict()
    assert report["format"] == "legacy" and report["year"] == 2016
    assert (report["organ"], report["division_code"]) == ("舒兰市人民政府", "220283")
    assert report["applications"] is None
    assert any("legacy" in f for f in report["flags"])


def test_cell_text_in_document_order() -> None:
    # A tail after a nested element comes after that element's children, a line break stands for
    # br/p/div, the own text of script/select/button is left out but their children and tails are
    # not, and comments and processing instructions are left out but not their tails.
    doc = extract_html("<table><tr>"
                       "<td><b>X<span>Y</span>Z</b>W</td>"
                       "<td><p><span>第二十条<br/>第（一）项</span></p></td>"
                       "<td>a<script>s</script>b<button>c<i>d</i>e</button>f</td>"
                       "<td>g<!-- h -->i<?pi j?>k</td>"
                       "<td><select><option>o</option></select>p</td>"
                       "</tr></table>")
    assert doc.rows[0].texts == ["XYZW", "第二十条\n第（一）项", "abdef", "gik", "p"]
    assert "第二十条\n第（一）项" in doc.text


def test_rowspan_past_the_row_end_leaves_blank_cells_of_their_own() -> None:
    doc = extract_html("<table><tr><td>a</td><td>b</td><td rowspan=2>c</td></tr>"
                       "<tr><td>d</td></tr></table>")
    first, second = doc.rows[0].cells, doc.rows[1].cells
    assert [c.text for c in second] == ["d", "", "c"]
    assert second[2].origin == first[2].origin
    origins = [c.origin for row in doc.rows for c in row.cells]
    assert second[1].origin not in [*origins[:4], second[0].origin, second[2].origin]
    assert second[1].origin > second[0].origin  # drawn after the row's own cells


def test_colspan_over_a_carried_column_keeps_the_carry_for_the_next_row() -> None:
    doc = extract_html("<table><tr><td>x</td><td rowspan=3>A</td></tr>"
                       "<tr><td colspan=2>B</td><td>C</td></tr>"
                       "<tr><td>D</td><td>E</td></tr></table>")
    assert [r.texts for r in doc.rows] == [["x", "A"], ["B", "B", "C"], ["D", "A", "E"]]


def test_mirror_page_cells_lose_pinyin_and_traditional_script() -> None:
    # Document.text holds every cell, so the whole-text test finds the pinyin in a table cell
    page = ("<html><body><p>某縣人民政府2021年政府信息公開工作年度報告</p><table>"
            "<tr><td>規章</td><td>發(fā)佈</td><td>1</td></tr>"
            "<tr><td>行政許可</td><td>區(qū)域</td><td>2</td></tr></table>"
            "<p>本報告統計時限為2021年1月1日至2021年12月31日。</p></body></html>").encode()
    doc = extract_html(page.decode())
    _simplify(doc)
    assert [r.texts for r in doc.rows if r.kind == "table"] == [["规章", "发布", "1"],
                                                                  ["行政许可", "区域", "2"]]
    assert "mirror copy: pinyin annotations after characters (removed)" in doc.flags
    assert "traditional script converted to simplified" in doc.flags


def test_full_label_memos_are_emptied_and_refilled(monkeypatch: pytest.MonkeyPatch) -> None:
    """A long crawl meets ever new labels: the mapper's memos stay bounded and keep answering."""
    body = (FIXTURES / "official-2021.html").read_bytes()
    url = "http://www.wzs.gov.cn/zfxxgk/gknb/t20220129_1.html"
    expected = parse_document(body, "text/html", url).to_dict()
    monkeypatch.setattr(mapper, "MAX_MEMO", 5)
    memos = (TEMPLATES["2021"].context_cache, TEMPLATES["2021"].label_cache)
    for memo in memos:  # full of labels met long ago
        memo.clear()
        memo.update({f"old label {i}": None for i in range(5)})
    for _ in range(3):
        assert parse_document(body, "text/html", url).to_dict() == expected
        for memo in memos:
            assert 0 < len(memo) <= 5 and not any(str(key).startswith("old label") for key in memo)
