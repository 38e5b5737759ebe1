"""What third-party conversions (PDF to Markdown, OCR) do to the tables, as in the real corpus's
stcsm-2024.md: notes inside number cells, page numbers among the cells, rows set loose as text,
rows printed without their labels, table 3's line spread over rows of any length. A value that
cannot be placed with confidence is null and flagged, never put in another cell."""

from __future__ import annotations

import random
from typing import Any

from gkcrawl.demo.render.reports import random_report, tables_of
from gkcrawl.demo.render.text import PIPE, STREAM, render_text
from gkcrawl.parsing import parse_document
from gkcrawl.parsing.normalize import page_footer, value

TITLE = "某市科学技术委员会2024年政府信息公开工作年度报告"
HEAD_2021 = ("| 信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |\n"
             "|---|---|---|---|\n")
#: the start of a 2021-template report: its title and a table 1 row (the header tells the version)
START = f"{TITLE}\n二、主动公开政府信息情况\n{HEAD_2021}| 规章 | 0 | 0 | 0 |\n"
APPLICANTS = ("| 申请人情况 | 自然人 | 商业企业 | 科研机构 | 社会公益组织 | 法律服务机构 | 其他 "
              "| 总计 |\n|---|---|---|---|---|---|---|---|\n")


def parse(text: str) -> dict[str, Any]:
    result = parse_document(text.encode(), "text/markdown")
    assert result.ok, result
    return result.to_dict()


def test_a_note_inside_a_number_cell_is_not_the_number() -> None:
    assert value("13（其中修订2件）").number == 13
    assert value("55 (含自然失效3件)").number == 55
    assert value("13件（其中修订2件）").number == 13
    assert value("（其中修订2件）") is None  # a note alone is no number
    report = parse(f"{TITLE}\n二、主动公开政府信息情况\n{HEAD_2021}"
                   "| 规章 | 0 | 0 | 0 |\n"
                   "| 规范性文件 | 13（其中修订2件） | 0 | 55（含自然失效3件） |\n")
    assert report["active_disclosure"]["normative_documents"] == {
        "issued": 13, "repealed": 0, "in_force": 55}


def report_2021(seed: int = 5) -> dict[str, Any]:
    return random_report(random.Random(seed), "2021")


def test_page_numbers_among_the_cells_are_dropped() -> None:
    assert page_footer("— 4 —") and page_footer("- 12 -") and page_footer("第 4 页 共 9 页")
    assert not page_footer("4") and not page_footer("—")
    report = report_2021()
    lines = render_text(report, STREAM).decode().split("\n\n")
    middle = lines.index("(四)无法提供")  # inside table 2, between two rows' values
    lines[middle - 1:middle - 1] = ["— 4 —"]
    lines[-8:-8] = ["第 5 页"]
    assert tables_of(parse("\n\n".join(lines))) == tables_of(report)
    pipe = render_text(report, PIPE).decode().splitlines()
    at = next(i for i, line in enumerate(pipe) if line.startswith("(七)总计"))
    pipe[at] = pipe[at].replace(" | ", " | — 5 — | ", 1)  # a page number as a cell of a row
    assert tables_of(parse("\n".join(pipe))) == tables_of(report)


def test_table_1_rows_set_loose_as_text_before_the_table() -> None:
    text = (f"{TITLE}\n一、主动公开政府信息情况\n第二十条第（一）项\n第二十条第（五）项\n"
            "信息内容本年处理决定数量\n行政许可 97\n第二十条第（六）项\n信息内容本年处理决定数量\n"
            "行政处罚 0\n行政强制 5\n第二十条第（八）项\n信息内容本年收费金额（单位：万元）\n"
            f"行政事业性收费 0.5\n## 表二：主动公开政府信息情况\n{HEAD_2021}"
            "| 规章 | 0 | 0 | 0 |\n| 规范性文件 | 13 | 0 | 55 |\n")
    assert parse(text)["active_disclosure"] == {
        "regulations": {"issued": 0, "repealed": 0, "in_force": 0},
        "normative_documents": {"issued": 13, "repealed": 0, "in_force": 55},
        "admin_licensing": {"decisions": 97}, "admin_penalty": {"decisions": 0},
        "admin_coercion": {"decisions": 5}, "admin_fees": {"amount_10k_yuan": 0.5}}


def rows(*cells: tuple[str, ...]) -> str:
    return "".join("| " + " | ".join(row) + " |\n" for row in cells)


ZEROS = ("0",) * 7


def test_rows_without_labels_between_labelled_rows() -> None:
    """As many unlabelled rows as the template has between two labelled rows: they are those
    rows, in template order; labels printed loose around them do not matter."""
    text = (f"{START}三、收到和处理政府信息公开申请情况\n{APPLICANTS}"
            + rows(("一、本年新收政府信息公开申请数量", "3", "0", "0", "0", "0", "0", "3"),
                   ("二、上年结转政府信息公开申请数量", *ZEROS),
                   ("(一)予以公开", "1", "0", "0", "0", "0", "0", "1"), ZEROS)
            + "\n（二）部分公开（区分处理的，只\n计这一情形）\n"
            + rows(("1.属于国家秘密", *ZEROS), ("2", "0", "0", "0", "0", "0", "2")))
    apps = parse(text)["applications"]
    assert apps["partially_disclosed"] == dict.fromkeys(apps["partially_disclosed"], 0)
    # one unlabelled row after 国家秘密 and no labelled row after it: not read
    assert apps["withheld_prohibited_by_law"]["natural_person"] is None


def test_unlabelled_rows_that_do_not_fit_the_gap_are_not_read() -> None:
    text = (f"{START}三、收到和处理政府信息公开申请情况\n{APPLICANTS}"
            + rows(("一、本年新收政府信息公开申请数量", "3", "0", "0", "0", "0", "0", "3"),
                   ("(一)予以公开", "1", "0", "0", "0", "0", "0", "1"),
                   ("1", "0", "0", "0", "0", "0", "1"), ("1", "0", "0", "0", "0", "0", "1"),
                   ("3.危及“三安全一稳定”", *ZEROS)))
    report = parse(text)
    apps = report["applications"]
    # two rows printed where the template has three ((二), (三)1 and (三)2): none is read (the
    # identities fill the columns the rows printed above leave at 0)
    for row in ("partially_disclosed", "withheld_state_secret", "withheld_prohibited_by_law"):
        assert apps[row]["natural_person"] is None and apps[row]["total"] is None
    assert ("applications: 2 rows printed without labels do not match the template rows "
            "around them; not read") in report["flags"]


def test_a_value_loose_beside_a_grid_table_is_not_a_row() -> None:
    text = (f"{START}三、收到和处理政府信息公开申请情况\n{APPLICANTS}"
            + rows(("一、本年新收政府信息公开申请数量", "3", "0", "0", "0", "0", "0", "3"),
                   ("(一)予以公开", "1", "0", "0", "0", "0", "0", "1"))
            + "\n3.其他\n1\n"  # a label and a number set loose: not the row (六)3
            + rows(("(七)总计", "3", "0", "0", "0", "0", "0", "3")))
    report = parse(text)
    other = report["applications"]["other_other"]
    assert other["natural_person"] is None and other["total"] is None
    assert ("applications.other_other: 1 values printed loose beside the grid table; not read"
            in report["flags"])


REVIEW_HEAD = ("四、政府信息公开行政复议、行政诉讼情况\n"
               "| 行政复议 | | | | | 行政诉讼 |\n"
               "| 结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 | 未经复议直接起诉 "
               "| 复议后起诉 |\n")


def test_table_3_spread_over_rows_of_any_length() -> None:
    text = (f"{START}{REVIEW_HEAD}"
            + rows(("1", "0", "0", "0", "1", "0"), ("0", "0", "0", "0"),
                   ("0", "2", "0", "0", "2")))
    review = parse(text)["review_litigation"]
    assert review == {
        "admin_review": {"upheld": 1, "corrected": 0, "other": 0, "pending": 0, "total": 1},
        "litigation_direct": dict.fromkeys(review["litigation_direct"], 0),
        "litigation_after_review": {"upheld": 0, "corrected": 2, "other": 0, "pending": 0,
                                    "total": 2}}


def test_table_3_that_lost_a_cell_is_placed_by_identity_4_never_shifted() -> None:
    """14 numbers for 15 cells: filled from the left, the 2 of 复议后起诉 would land in its
    结果维持 and its 总计 in 尚未审结. Identity 4 keeps each row's 总计 its sum: the totals are
    right, and what the lost cell leaves open is null."""
    text = (f"{START}{REVIEW_HEAD}"
            + rows(("1", "0", "0", "0", "1", "0"), ("0", "0", "0"), ("0", "2", "0", "0", "2")))
    report = parse(text)
    review = report["review_litigation"]
    assert [review[r]["total"] for r in review] == [1, 0, 2]
    truth = {"admin_review": (1, 0, 0, 0, 1), "litigation_direct": (0, 0, 0, 0, 0),
             "litigation_after_review": (0, 2, 0, 0, 2)}
    for row, cells in review.items():
        for got, want in zip(cells.values(), truth[row], strict=True):
            assert got is None or got == want
    assert any(f.startswith("review_litigation: 14 of 15 values printed") for f in report["flags"])
