"""A report as an official-style HTML page: the template's tables with rowspan/colspan merges.

Options reproduce what portals do: Word-export markup (``<p><span>`` in cells, ``<br>`` inside
labels), ``&nbsp;`` in blank cells, header and data rows whose spans do not line up, blank 总计 on
detail rows, and a GBK page whose charset is declared only in ``<meta>``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from gkcrawl.demo.render.reports import Report, fmt, review_line
from gkcrawl.template.spec import TEMPLATES, Row, Table

Cell = tuple[str, int, int]  # text, rowspan, colspan
_OTHER = "(六)其他处理"


@dataclass(frozen=True)
class Style:
    word_export: bool = False  #: <p><span> inside cells, <br> inside long labels
    nbsp_blanks: bool = True  #: blank cells hold &nbsp; (else nothing)
    misaligned: bool = False  #: data rows carry an extra empty cell the header does not have
    blank_detail_totals: bool = False  #: 总计 left blank on detail rows of table 2
    encoding: str = "utf-8"  #: "gbk" writes a page whose charset is only in <meta>
    layout_table: bool = True  #: wrap the article in a layout table, as most portals do



#: Renderings met in the wild, one of each kind (the benchmarks cycle through them): plain, Word
#: export, GBK with the charset only in <meta>, misaligned rows, blank detail totals without a
#: layout table, and a GBK Word export.
STYLES = (
    Style(),
    Style(word_export=True),
    Style(encoding="gbk"),
    Style(misaligned=True, nbsp_blanks=False),
    Style(blank_detail_totals=True, layout_table=False),
    Style(word_export=True, encoding="gbk"),
)

def render_html(report: Report, style: Style = Style()) -> bytes:
    template = TEMPLATES[report["format"]]
    body = [
        f"<h1 class='title'>{html.escape(report['title'])}</h1>",
        (f"<div class='info'>发布机构：{html.escape(report['organ'])} "
         f"发布日期：{report.get('published') or ''}</div>"),
        "<div class='TRS_Editor'>",
        (f"<p>依据《中华人民共和国政府信息公开条例》，编制本报告。"
         f"本报告统计时限为{report['year']}年1月1日至{report['year']}年12月31日。</p>"),
        "<p>一、总体情况</p><p>（文字描述）</p>",
        "<p>二、主动公开政府信息情况</p>", _table(_active_rows(report, template), style),
        "<p>三、收到和处理政府信息公开申请情况</p>",
        _table(_application_rows(report, template, style), style),
        "<p>四、政府信息公开行政复议、行政诉讼情况</p>", _table(_review_rows(report), style),
        "<p>五、存在的主要问题及改进情况</p><p>（文字描述）</p>",
        "<p>六、其他需要报告的事项</p><p>无。</p>",
        f"<p style='text-align:right'>{html.escape(report['organ'])}</p>",
        f"<p style='text-align:right'>{_cn_date(report.get('published'))}</p>",
        "</div>",
    ]
    article = "\n".join(body)
    if style.layout_table:
        article = f"<table class='layout' width='100%'><tr><td>{article}</td></tr></table>"
    charset = "gbk" if style.encoding.lower() in ("gbk", "gb2312", "gb18030") else "utf-8"
    page = (
        "<!DOCTYPE html><html><head>"
        f"<meta http-equiv='Content-Type' content='text/html; charset={charset}'>"
        f"<meta name='ArticleTitle' content='{html.escape(report['title'])}'>"
        f"<meta name='PubDate' content='{report.get('published') or ''}'>"
        f"<meta name='ContentSource' content='{html.escape(report['organ'])}'>"
        "<meta name='ColumnName' content='政府信息公开年报'>"
        f"<title>{html.escape(report['title'])}</title></head><body>"
        "<div class='nav'>首页 &gt; 政府信息公开 &gt; 政府信息公开年报</div>"
        f"{article}<div class='footer'>主办单位：{html.escape(report['organ'])}</div></body></html>"
    )
    return page.encode(charset)


def _cn_date(iso: str | None) -> str:
    if not iso:
        return ""
    y, m, d = iso.split("-")
    return f"{y}年{int(m)}月{int(d)}日"


def _label(text: str, style: Style) -> str:
    text = html.escape(text)
    if style.word_export and len(text) > 8:
        half = len(text) // 2
        text = f"{text[:half]}<br/>{text[half:]}"
    if style.word_export:
        text = f"<p style='text-align:center'><span style='font-size:12px'>{text}</span></p>"
    return text


def _td(cell: Cell, style: Style, is_label: bool) -> str:
    text, rowspan, colspan = cell
    attrs = ((f" rowspan='{rowspan}'" if rowspan > 1 else "")
             + (f" colspan='{colspan}'" if colspan > 1 else ""))
    if is_label:
        inner = _label(text, style)
    elif text == "":
        inner = "&nbsp;" if style.nbsp_blanks else ""
    else:
        inner = f"<p><span>{text}</span></p>" if style.word_export else text
    return f"<td{attrs}>{inner}</td>"


def _table(rows: list[tuple[list[Cell], int]], style: Style) -> str:
    """rows: (cells, number of leading label cells)."""
    out = ["<table border='1' cellspacing='0' class='MsoNormalTable'>"]
    for cells, labels in rows:
        tds = [_td(c, style, i < labels) for i, c in enumerate(cells)]
        if style.misaligned and labels < len(cells):
            tds.append("<td></td>")
        out.append("<tr>" + "".join(tds) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _active_rows(report: Report, template: Table | object) -> list[tuple[list[Cell], int]]:
    table = TEMPLATES[report["format"]].table("active_disclosure")
    data = report["active_disclosure"]
    width = max(len(table.row_columns(r)) for r in table.rows) + 1
    groups = _active_groups(report["format"])
    out: list[tuple[list[Cell], int]] = []
    for heading, keys in groups:
        cols = table.row_columns(table.row(keys[0]))
        out.append(([(heading, 1, width)], 1))
        head = [("信息内容", 1, 1)] + [(table.column(c).label, 1, 1) for c in cols]
        head[-1] = (head[-1][0], 1, width - len(cols))
        out.append((head, len(head)))
        for key in keys:
            row = table.row(key)
            values = [(fmt(data[key][c]), 1, 1) for c in table.row_columns(row)]
            values[-1] = (values[-1][0], 1, width - len(values))
            out.append(([(row.label, 1, 1), *values], 1))
    return out


def _active_groups(version: str) -> list[tuple[str, list[str]]]:
    if version == "2021":
        return [("第二十条第（一）项", ["regulations", "normative_documents"]),
                ("第二十条第（五）项", ["admin_licensing"]),
                ("第二十条第（六）项", ["admin_penalty", "admin_coercion"]),
                ("第二十条第（八）项", ["admin_fees"])]
    return [("第二十条第（一）项", ["regulations", "normative_documents"]),
            ("第二十条第（五）项", ["admin_licensing", "other_external_services"]),
            ("第二十条第（六）项", ["admin_penalty", "admin_coercion"]),
            ("第二十条第（八）项", ["admin_fees"]),
            ("第二十条第（九）项", ["centralized_procurement"])]


def _application_rows(report: Report, template: object,
                      style: Style) -> list[tuple[list[Cell], int]]:
    table = TEMPLATES[report["format"]].table("applications")
    data = report["applications"]
    cols = [c.key for c in table.columns]
    out: list[tuple[list[Cell], int]] = [
        ([("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", 3, 3),
          ("申请人情况", 1, 7)], 2),
        ([("自然人", 2, 1), ("法人或其他组织", 1, 5), ("总计", 2, 1)], 3),
        ([("商业企业", 1, 1), ("科研机构", 1, 1), ("社会公益组织", 1, 1), ("法律服务机构", 1, 1),
          ("其他", 1, 1)], 5),
    ]
    leaves = [r for r in table.rows if r.leaf]
    groups: dict[str, list[Row]] = {}
    for row in leaves:
        groups.setdefault(row.group, []).append(row)

    def values(row: Row) -> list[Cell]:
        cells = [(fmt(data[row.key][c]), 1, 1) for c in cols]
        if style.blank_detail_totals and row.leaf:
            cells[-1] = ("", 1, 1)
        return cells

    for row in table.rows:
        if row.key in ("new_received", "carried_over"):
            out.append(([(row.label, 1, 3), *values(row)], 1))
        elif row.key == "disclosed":
            results = sum(1 for r in leaves) + 1  # the leaves and (七)总计
            out.append(([("三、本年度办理结果", results, 1), (row.label, 1, 2), *values(row)], 2))
        elif row.leaf and row.group.startswith("三、"):
            out.append(([(row.label, 1, 2), *values(row)], 1))
        elif row.leaf:
            members = groups[row.group]
            first = [(row.group, len(members), 1)] if row is members[0] else []
            out.append(([*first, (row.label, 1, 1), *values(row)], len(first) + 1))
        elif row.key == "total_processed":
            out.append(([(row.label, 1, 2), *values(row)], 1))
        else:
            out.append(([(row.label, 1, 3), *values(row)], 1))
    return out


def _review_rows(report: Report) -> list[tuple[list[Cell], int]]:
    results = [("结果维持", 1, 1), ("结果纠正", 1, 1), ("其他结果", 1, 1), ("尚未审结", 1, 1),
               ("总计", 1, 1)]
    return [
        ([("行政复议", 1, 5), ("行政诉讼", 1, 10)], 2),
        ([(t, 2, 1) for t, _, _ in results]
         + [("未经复议直接起诉", 1, 5), ("复议后起诉", 1, 5)], 7),
        (results + results, 10),
        ([(fmt(v), 1, 1) for v in review_line(report)], 0),
    ]
