"""A report as the text copies found on mirrors and in scraped datasets (the seeds' shapes)."""

from __future__ import annotations

from gkcrawl.demo.render.html import Style, _active_rows, _application_rows, _review_rows
from gkcrawl.demo.render.reports import Report

PIPE, CELL_LINES, TABS, STREAM, SPACED = "pipe", "cell-lines", "tabs", "stream", "spaced"
STYLES = (PIPE, CELL_LINES, TABS, STREAM, SPACED)
#: The shapes in which an empty cell leaves no trace (one cell per line, cells between spaces):
#: a row whose cells were printed empty comes out short.
LOSSY_STYLES = (STREAM, SPACED)


def render_text(report: Report, style: str = PIPE) -> bytes:
    sections = [
        ("二、主动公开政府信息情况", _active_rows(report, None)),
        ("三、收到和处理政府信息公开申请情况", _application_rows(report, None, Style())),
        ("四、政府信息公开行政复议、行政诉讼情况", _review_rows(report)),
    ]
    lines = [report["title"], f"发布日期：{report.get('published') or ''}",
             "依据《中华人民共和国政府信息公开条例》，编制本报告。", "一、总体情况", "（文字描述）"]
    for heading, rows in sections:
        lines.append(heading)
        for cells, _labels in rows:
            texts = [text for text, _, _ in cells]
            lines.extend(_row(texts, style))
    lines += ["五、存在的主要问题及改进情况", "（文字描述）", "六、其他需要报告的事项", "无。",
              report["organ"]]
    sep = "\n\n" if style == STREAM else "\n"
    return sep.join(lines).encode("utf-8")


def _row(texts: list[str], style: str) -> list[str]:
    if style == PIPE:  # a row whose first cell is empty starts with its border: | | 2 | 0 |
        return [("| " if texts and not texts[0] else "") + " | ".join(texts) + " |"]
    if style == CELL_LINES:
        return [f"{t} |" for t in texts if t]
    if style == TABS:
        return [f"\t{t}" for t in texts] + [""]
    if style == SPACED:
        return [" ".join(t for t in texts if t)]
    return [t for t in texts if t]
