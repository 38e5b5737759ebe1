"""``gkcrawl stats --html``: one self-contained page (inline CSS and SVG, no script, nothing
fetched) laid out from :class:`~gkcrawl.outputs.stats.collect.Stats`.

Every number is text in an element with ``data-metric`` and ``data-*`` attributes, so that a
test (or a scraper) can read it back. The sections answer, in order: what is covered and what is
missing (the region × year heat map, the missing organ-years), why (fetch failures, anti-bot
blocks, pages not followed, quarantine, each with its WARC pointer), how good the data is
(identities, cross-year breaks, inferred cells, template versions), and each organ's reports
side by side.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from html import escape as html_escape
from typing import Any

from gkcrawl.outputs.stats.collect import (
    MARKS,
    NULL,
    OUTCOMES,
    STATUSES,
    Cover,
    Organ,
    Pointer,
    Stats,
    organ_variables,
)
from gkcrawl.outputs.stats.terminal import percent, run_items, when

#: chart geometry (SVG user units)
BAR_WIDTH, BAR_GAP, CHART_HEIGHT, CHART_MARGIN = 44, 14, 220, 36
HBAR_HEIGHT, HBAR_GAP, HBAR_WIDTH, HBAR_LABEL = 20, 6, 520, 150
#: heat map colour: the hue runs from red (no known organ found that year) through yellow to
#: green (all found), at one saturation and lightness so that the text stays readable
HEAT_HUE_NONE, HEAT_HUE_ALL, HEAT_SATURATION, HEAT_LIGHTNESS = 0, 120, 65, 78
#: the replay URL of a pointer under ``--replay-url`` (pywb and wayback: ``id_`` = the bytes as
#: archived, without rewriting)
REPLAY_URL = "{prefix}{timestamp}id_/{url}"
#: the shell command that prints a pointer's record (warcio is installed with gkcrawl)
EXTRACT_COMMAND = "warcio extract --payload {archive}/{warc_file} {offset}"


def _e(value: Any) -> str:
    return html_escape(str(value), quote=True)


def _attrs(metric: str, **dims: Any) -> str:
    parts = [f'data-metric="{_e(metric)}"']
    parts += [f'data-{name.replace("_", "-")}="{_e(v)}"' for name, v in dims.items()]
    return " ".join(parts)


def _num(tag: str, metric: str, value: Any, cls: str = "", style: str = "", **dims: Any) -> str:
    extra = (f' class="{cls}"' if cls else "") + (f' style="{style}"' if style else "")
    return f"<{tag} {_attrs(metric, **dims)}{extra}>{_e(value)}</{tag}>"


def _vbars(title: str, metric: str, dim: str, bars: Sequence[tuple[str, str, int]],
           colour: str) -> str:
    """A vertical bar chart of (key, tick label, count): the count above each bar, the tick
    below, the key in the count's ``data-<dim>``."""
    top = max([v for _, _, v in bars] + [1])
    width = CHART_MARGIN * 2 + len(bars) * (BAR_WIDTH + BAR_GAP)
    height = CHART_HEIGHT + CHART_MARGIN * 2
    base = CHART_MARGIN + CHART_HEIGHT
    parts = [(f'<svg class="chart" role="img" aria-label="{_e(title)}" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" '
             'xmlns="http://www.w3.org/2000/svg">'),
             (f'<line x1="{CHART_MARGIN - 4}" y1="{base}" x2="{width - CHART_MARGIN + 4}" '
             f'y2="{base}" class="axis"/>')]
    for i, (key, label, value) in enumerate(bars):
        x = CHART_MARGIN + i * (BAR_WIDTH + BAR_GAP)
        h = round(CHART_HEIGHT * value / top)
        mid = x + BAR_WIDTH / 2
        parts.append(f'<g><rect x="{x}" y="{base - h}" width="{BAR_WIDTH}" height="{h}" '
                     f'fill="{colour}"><title>{_e(label)}: {value}</title></rect>'
                     f'<text x="{mid}" y="{base - h - 6}" text-anchor="middle" '
                     f'{_attrs(metric, **{dim: key})}>{value}</text>'
                     f'<text x="{mid}" y="{base + 18}" text-anchor="middle" class="tick">'
                     f'{_e(label)}</text></g>')
    parts.append("</svg>")
    return f"<figure><figcaption>{_e(title)}</figcaption>{''.join(parts)}</figure>"


def _hbars(title: str, metric: str, dim: str, bars: Sequence[tuple[str, int]], colour: str) -> str:
    """A horizontal bar chart: label left, bar, count at its end."""
    top = max([v for _, v in bars] + [1])
    width = HBAR_LABEL + HBAR_WIDTH + CHART_MARGIN * 2
    height = CHART_MARGIN + len(bars) * (HBAR_HEIGHT + HBAR_GAP)
    parts = [(f'<svg class="chart" role="img" aria-label="{_e(title)}" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" '
             'xmlns="http://www.w3.org/2000/svg">')]
    for i, (label, value) in enumerate(bars):
        y = CHART_MARGIN / 2 + i * (HBAR_HEIGHT + HBAR_GAP)
        w = round(HBAR_WIDTH * value / top)
        mid = y + HBAR_HEIGHT * 0.72
        parts.append(f'<g><text x="{HBAR_LABEL - 8}" y="{mid}" text-anchor="end" class="tick">'
                     f'{_e(label)}</text><rect x="{HBAR_LABEL}" y="{y}" width="{w}" '
                     f'height="{HBAR_HEIGHT}" fill="{colour}"><title>{_e(label)}: {value}</title>'
                     f'</rect><text x="{HBAR_LABEL + w + 6}" y="{mid}" '
                     f'{_attrs(metric, **{dim: label})}>{value}</text></g>')
    parts.append("</svg>")
    return f"<figure><figcaption>{_e(title)}</figcaption>{''.join(parts)}</figure>"




def _rules_table(stats: Stats) -> str:
    rows = []
    for r in stats.rules:
        checks = "".join(_num("td", "identity-checks", r.checks[s], rule=r.rule, status=s)
                         for s in STATUSES)
        reports = "".join(_num("td", "identity-reports", r.reports[s], rule=r.rule, status=s)
                          for s in STATUSES)
        rate = _num("td", "identity-pass-rate", percent(r.pass_rate), rule=r.rule)
        rows.append(f"<tr><th scope=\"row\">{_e(r.rule)}</th><td class=\"name\">{_e(r.name)}</td>"
                    f"{checks}{reports}{rate}</tr>")
    outcomes = " · ".join(f"{_num('span', 'report-outcome', stats.outcomes[o], status=o)} {o}"
                          for o in OUTCOMES)
    return ("<table><thead><tr><th rowspan=\"2\">rule</th><th rowspan=\"2\">identity</th>"
            "<th colspan=\"3\">checks 核对项</th><th colspan=\"3\">reports 报告</th>"
            "<th rowspan=\"2\">pass rate 通过率</th></tr><tr><th>pass</th><th>fail</th>"
            "<th>uncertain</th><th>pass</th><th>fail</th><th>uncertain</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table><p class=\"note\">Reports 报告: {outcomes}</p>")


def _small_tables(stats: Stats) -> str:
    formats = "".join(f"<tr><th scope=\"row\">{_e(f)}</th>"
                      f"{_num('td', 'reports-by-format', n, format=f)}</tr>"
                      for f, n in stats.by_format.items())
    validation = "".join(
        f"<tr><th scope=\"row\">{_e(c)}</th>"
        + "".join(_num("td", "validation", counts[s], check=c, status=s) for s in STATUSES)
        + "</tr>" for c, counts in stats.validation.items())
    quarantine = "".join(f"<tr><th scope=\"row\"><code>{_e(code)}</code></th>"
                         f"{_num('td', 'quarantine', n, code=code)}</tr>"
                         for code, n in stats.quarantine.items())
    runs = "".join(
        f"<tr data-run=\"{_e(r.crawl_id)}\"><th scope=\"row\"><code>{_e(r.crawl_id)}</code></th>"
        f"<td>{_e(r.spider or '')}</td><td>{_e(when(r.started_at))}</td>"
        f"<td>{_e(when(r.finished_at))}</td><td>{_e(r.finish_reason or '')}</td>"
        f"{_num('td', 'run-starts', r.starts, run=r.crawl_id)}"
        f"{_num('td', 'run-items', run_items(r), run=r.crawl_id)}</tr>"
        for r in stats.runs)
    return (
        "<div class=\"row\"><section><h2>Template versions 模板版本</h2><table><thead><tr>"
        f"<th>format</th><th>reports</th></tr></thead><tbody>{formats}</tbody></table></section>"
        "<section><h2>Validation findings 校验结果</h2><table><thead><tr><th>check</th>"
        f"<th>pass</th><th>fail</th><th>uncertain</th></tr></thead><tbody>{validation}</tbody>"
        "</table></section><section><h2>Quarantine 隔离 (open)</h2><table><thead><tr>"
        f"<th>code</th><th>documents</th></tr></thead><tbody>{quarantine}</tbody></table>"
        f"<p class=\"note\">resolved 已解决: "
        f"{_num('span', 'quarantine-resolved', stats.quarantine_resolved, '')}</p></section></div>"
        "<section><h2>Runs 抓取批次</h2><table><thead><tr><th>crawl_id</th><th>spider</th>"
        "<th>started</th><th>finished</th><th>reason</th><th>starts</th><th>items</th></tr>"
        f"</thead><tbody>{runs}</tbody></table></section>")



_CSS = """
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;
margin:2rem auto;max-width:1180px;padding:0 1rem;color:#1d2430;background:#fff}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.1rem;margin:1.6rem 0 .5rem}
.meta{color:#5b6575;font-size:.9rem}
.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{border:1px solid #d8dee8;border-radius:6px;padding:.6rem 1rem;min-width:9rem}
.card span{display:block;font-size:1.6rem;font-weight:600}
.card small{color:#5b6575}
table{border-collapse:collapse;font-size:.85rem;margin:.3rem 0}
th,td{border:1px solid #d8dee8;padding:.2rem .45rem;text-align:left}
td[data-metric]{text-align:right;font-variant-numeric:tabular-nums}
thead th{background:#f2f5f9;text-align:center}tbody th,tfoot th{font-weight:500}
td.name{max-width:30rem}td.total{font-weight:600}
td.zero{color:#b4bcc8}table.heat td{min-width:2.6rem}
.row{display:flex;gap:2rem;flex-wrap:wrap}
figure{margin:.5rem 0 1rem}figcaption{font-weight:600;margin-bottom:.3rem}
svg text{font-size:12px;fill:#1d2430}svg .tick{fill:#5b6575}svg .axis{stroke:#8792a2}
.note{color:#5b6575;font-size:.85rem}
"""



_CSS += """
table.heat td{min-width:3.4rem;text-align:center}td.none{color:#b4bcc8}
.warn{color:#9a5b00}ul.plain{margin:.2rem 0;padding-left:1.2rem;font-size:.85rem}
code.ptr{font-size:.78rem;color:#39475c}
details.organ{border:1px solid #d8dee8;border-radius:6px;margin:.4rem 0;padding:.3rem .6rem}
details.organ summary{cursor:pointer;font-weight:600}
td.v-blank{color:#7a8594;font-style:italic}td.v-inferred{background:#fff1d6}
td.v-ocr{background:#efe4fb}td.v-null{color:#b4bcc8}.delta{color:#5b6575;font-size:.75rem}
.legend span{display:inline-block;padding:0 .4rem;margin-right:.3rem;border:1px solid #d8dee8}
"""


class Page:
    """The page's parts that depend on the command's options (the pointers' form)."""

    def __init__(self, stats: Stats, replay_url: str | None = None) -> None:
        self.stats = stats
        self.replay_url = replay_url

    # --- small parts ---------------------------------------------------------------------
    def pointer(self, pointer: Pointer | None) -> str:
        """A WARC pointer: ``file:offset`` (the title is the command that prints the record),
        a link to the replay of the record under ``--replay-url``."""
        if pointer is None:
            return '<span class="note">not archived</span>'
        archive = self.stats.archive if self.stats.archive is not None else "ARCHIVE_DIR"
        command = EXTRACT_COMMAND.format(archive=archive, warc_file=pointer.warc_file,
                                         offset=pointer.offset)
        text = (f'<code class="ptr" data-warc-file="{_e(pointer.warc_file)}" '
                f'data-warc-offset="{pointer.offset}" title="{_e(command)}">{_e(pointer)}</code>')
        if self.replay_url and pointer.url and pointer.timestamp:
            link = REPLAY_URL.format(prefix=self.replay_url, timestamp=pointer.timestamp,
                                     url=pointer.url)
            text += f' <a href="{_e(link)}">replay</a>'
        return text

    def organ_link(self, organ: Organ) -> str:
        return f'<a href="#{organ.anchor}">{_e(organ.name)}</a>'

    # --- 1. coverage -----------------------------------------------------------------------
    def heat_map(self) -> str:
        """Region × year: organs found of those known, coloured by the share found."""
        stats = self.stats
        head = "".join(f"<th>{y}</th>" for y in stats.years)
        rows = []
        for region, years in stats.cover_region.items():
            if not any(c.known for c in years.values()):
                continue
            cells = "".join(_cover_cell("region", c, region=region, year=y)
                            for y, c in years.items())
            rows.append(f'<tr><th scope="row">{_e(region)}</th>{cells}</tr>')
        empty = [r for r, years in stats.cover_region.items()
                 if not any(c.known for c in years.values())]
        note = (f'<p class="note">No organ known in {_num("span", "regions-unknown", len(empty))}'
                f" regions 无已知机关的地区: {_e(' '.join(empty))}</p>" if empty else "")
        total = "".join(_num("td", "reports-by-year", v, "total", year=y)
                        for y, v in stats.by_year.items())
        return (f'<table class="heat"><thead><tr><th>地区 region</th>{head}</tr></thead>'
                f"<tbody>{''.join(rows)}</tbody><tfoot><tr><th>reports 报告</th>{total}</tr>"
                f"</tfoot></table>{note}")

    def portal_table(self) -> str:
        stats = self.stats
        head = "".join(f"<th>{y}</th>" for y in stats.years)
        rows = []
        for pid, years in stats.cover_portal.items():
            cells = "".join(_cover_cell("portal", c, portal=pid, year=y)
                            for y, c in years.items())
            total = _num("td", "coverage-portal-total", stats.portal_total(pid), "total",
                         portal=pid)
            rows.append(f'<tr><th scope="row"><code>{_e(pid)}</code></th>'
                        f"<td>{_e(stats.portal_names.get(pid, ''))}</td>"
                        f"<td>{_e(stats.portal_regions.get(pid, ''))}</td>{cells}{total}</tr>")
        return (f"<table class=\"heat\"><thead><tr><th>portal</th><th>名称</th><th>地区</th>{head}"
                f"<th>reports</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")

    def missing(self) -> str:
        """The known organs without a report for a year of the range, with those years."""
        stats = self.stats
        rows = []
        for organ in stats.organ_list:
            if not organ.missing:
                continue
            years = " ".join(_num("span", "missing", y, organ=organ.key, year=y)
                             for y in organ.missing)
            source = "registry" if organ.in_registry else "store"
            rows.append(f"<tr><td>{self.organ_link(organ)}</td><td>{_e(organ.division)}</td>"
                        f"<td><code>{_e(organ.portal)}</code></td><td>{source}</td>"
                        f"<td>{years}</td></tr>")
        if not rows:
            return '<p class="note">No organ-year of the range is missing.</p>'
        return ("<table><thead><tr><th>organ 机关</th><th>region 地区</th><th>portal</th>"
                "<th>known from</th><th>years missing 缺失年度</th></tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>")

    # --- 2. why missing ----------------------------------------------------------------------
    def health(self) -> str:
        stats = self.stats
        if not stats.health:
            return '<p class="note">No run recorded portal stats.</p>'
        rows = []
        for pid, h in stats.health.items():
            rows.append(
                f'<tr><th scope="row"><code>{_e(pid)}</code></th>'
                f"{_num('td', 'pages', h.pages, portal=pid)}"
                f"{_num('td', 'errors', h.errors, portal=pid)}"
                f"{_num('td', 'antibot', h.antibot, portal=pid)}"
                f"<td>{_kinds('failed', pid, h.failed)}</td>"
                f"<td>{_kinds('retried', pid, h.retried)}</td>"
                f"<td>{_kinds('bounded', pid, h.bounded)}</td>"
                f"<td>{_kinds('quarantined', pid, h.quarantine)}</td></tr>")
        table = ("<table><thead><tr><th>portal</th><th>pages 页面</th><th>errors 错误</th>"
                 "<th>412 anti-bot 反爬</th><th>given up 放弃 (by kind)</th>"
                 "<th>retried 重试</th><th>not followed 未抓取 (bound)</th>"
                 "<th>quarantined 隔离 (reason)</th></tr></thead>"
                 f"<tbody>{''.join(rows)}</tbody></table>")
        return table + self.failures() + self.quarantined()

    def failures(self) -> str:
        rows = [f'<tr data-portal="{_e(pid)}"><td><code>{_e(pid)}</code></td>'
                f"{_num('td', 'failure', f.kind, portal=pid, url=f.url)}"
                f'<td class="name">{_e(f.url)}</td><td>{self.pointer(f.pointer)}'
                f"{' ' + _e(f.message) if f.message else ''}</td></tr>"
                for pid, h in self.stats.health.items() for f in h.failures]
        if not rows:
            where = (f"in {_e(self.stats.archive)}" if self.stats.archive is not None
                     else "(no archive directory: --archive)")
            return f'<p class="note">No failed fetch in the runs\' archive indexes {where}.</p>'
        return ("<h3>Failed fetches 抓取失败 (archive index and crawl log)</h3><table><thead><tr>"
                "<th>portal</th><th>kind</th><th>URL</th><th>archived answer (WARC:offset)</th>"
                f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")

    def quarantined(self) -> str:
        rows = [f'<tr><td><code>{_e(pid)}</code></td>'
                f"{_num('td', 'quarantined-document', q.code, portal=pid, url=q.url)}"
                f'<td class="name">{_e(q.url)}<br><span class="note">{_e(q.reason)}</span></td>'
                f"<td>{self.pointer(q.pointer)}</td></tr>"
                for pid, h in self.stats.health.items() for q in h.quarantined]
        if not rows:
            return ""
        return ("<h3>Quarantined documents 隔离文档 (open)</h3><table><thead><tr><th>portal</th>"
                "<th>reason</th><th>URL</th><th>archived (WARC:offset)</th></tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>")

    # --- 3. data quality ---------------------------------------------------------------------
    def failing(self) -> str:
        parts = []
        for rule, reports in self.stats.failing.items():
            items = "".join(
                f"<li>{self._organ_ref(f.organ_key, f.organ)} {f.year}: "
                + _num("span", "failing-checks", f.checks, rule=rule, organ=f.organ_key,
                       year=f.year)
                + f" checks fail · {self.pointer(f.pointer)}</li>" for f in reports)
            parts.append(f"<h3>Rule {_e(rule)}: "
                         f"{_num('span', 'failing-reports', len(reports), rule=rule)} reports</h3>"
                         f'<ul class="plain">{items}</ul>')
        return "".join(parts) or '<p class="note">No report fails an identity.</p>'

    def cross_year(self) -> str:
        breaks = self.stats.cross_year
        if not breaks:
            return '<p class="note">No cross-year break.</p>'
        items = "".join(
            f'<li class="warn">{self._organ_ref(b.organ_key, b.organ)} {b.year - 1}→{b.year}: '
            + _num("span", "cross-year-columns", len(b.columns), organ=b.organ_key, year=b.year)
            + f" columns break ({_e(', '.join(b.columns))})"
            + (f" · {_e(b.message)}" if b.message else "") + "</li>" for b in breaks)
        return ('<p class="note">Warnings: carried over ≠ last year\'s carried forward. The '
                "organ may have been merged or renamed, or a year's report restated. "
                f"{_num('span', 'cross-year-breaks', len(breaks))} organ-years.</p>"
                f'<ul class="plain">{items}</ul>')

    def cells(self) -> str:
        stats = self.stats
        rows = "".join(f'<tr><th scope="row"><code>{_e(rule)}</code></th>'
                       f"{_num('td', 'inferred', n, rule=rule)}</tr>"
                       for rule, n in stats.inferred.items())
        return ("<table><thead><tr><th>inferred rule 推断规则</th><th>cells</th></tr></thead>"
                f"<tbody>{rows}</tbody><tfoot><tr><th>null 空 (not given)</th>"
                f"{_num('td', 'null-cells', stats.null_cells)}</tr></tfoot></table>"
                '<p class="note"><code>blank</code>: printed blank, read as 0; '
                "<code>placement</code>: a short row's values placed by the identities; "
                "<code>1</code>–<code>4</code>: derived by that identity; <code>ocr</code>: read "
                "by OCR.</p>")

    def _organ_ref(self, key: str, name: str) -> str:
        organ = next((o for o in self.stats.organ_list if o.key == key), None)
        return self.organ_link(organ) if organ is not None else _e(name)

    # --- 4. one organ ------------------------------------------------------------------------
    def organ(self, organ: Organ) -> str:
        """The organ's reports side by side: each variable's value, its change from the year
        before and its mark; each year's WARC pointer and checks."""
        years = sorted(organ.reports)
        found = len([y for y in self.stats.years if y in organ.reports])
        summary = (f"{_e(organ.name)} <span class=\"note\">{_e(organ.division)} · "
                   f"<code>{_e(organ.portal)}</code> · {found}/{len(self.stats.years)} years"
                   f"{' · missing ' + ' '.join(map(str, organ.missing)) if organ.missing else ''}"
                   "</span>")
        if not years:
            return (f'<details class="organ" id="{organ.anchor}"><summary>{summary}</summary>'
                    '<p class="note">No report stored.</p></details>')
        head = "".join(f"<th colspan=\"2\">{y}</th>" for y in years)
        shown = [organ.reports[y] for y in years]
        meta = [f'<tr><th scope="row">{label}</th>'
                + "".join(f'<td colspan="2">{cell}</td>' for cell in cells) + "</tr>"
                for label, cells in (
                    ("template 模板", [_e(r.format) for r in shown]),
                    ("checks pass/fail/uncertain",
                     ["/".join(str(r.checks[s]) for s in STATUSES) for r in shown]),
                    ("copies 副本", [_e(r.n_sources) for r in shown]),
                    ("archived 存档", [self.pointer(r.pointer) for r in shown]),
                    ("as printed / publisher",
                     [_e(" / ".join(x for x in (r.organ_as_printed, r.publisher) if x))
                      for r in shown]))]
        rows = []
        for variable in organ_variables(organ):
            cells, previous = [], None
            for year in years:
                value = organ.reports[year].values.get(variable.name)
                if value is None:
                    cells.append('<td colspan="2"></td>')
                    previous = None
                    continue
                text = "—" if value.value is None else value.value
                title = f' title="{_e(", ".join(value.rules))}"' if value.rules else ""
                cells.append(f'<td class="v-{value.mark}"{title} data-year="{year}" '
                             f'data-variable="{variable.name}" data-mark="{value.mark}">'
                             f"{_e(text)}</td>"
                             f'<td class="delta">{_e(_change(previous, value.value))}</td>')
                previous = value.value
            rows.append(f'<tr><th scope="row"><code>{variable.name}</code></th>'
                        f'<td class="name">{_e(variable.short_label)}</td>{"".join(cells)}</tr>')
        return (f'<details class="organ" id="{organ.anchor}"><summary>{summary}</summary>'
                f"<table><thead><tr><th>variable</th><th>label</th>{head}</tr></thead>"
                f"<tbody>{''.join(meta)}{''.join(rows)}</tbody></table></details>")


def _change(before: Any, after: Any) -> str:
    """The change from the year before (Δ), empty when either year lacks the value."""
    if before is None or after is None:
        return ""
    delta = Decimal(str(after)) - Decimal(str(before))
    return f"{delta:+}" if delta else "±0"


def _cover_style(cover: Cover) -> str:
    share = cover.share
    if share is None:
        return ""
    hue = HEAT_HUE_NONE + (HEAT_HUE_ALL - HEAT_HUE_NONE) * share
    return f"background:hsl({hue:.0f},{HEAT_SATURATION}%,{HEAT_LIGHTNESS}%)"


def _cover_cell(kind: str, cover: Cover, **dims: Any) -> str:
    """``found/known`` of one cell of the heat map, each number readable on its own."""
    if not cover.known:
        return '<td class="none">–</td>'
    return (f'<td style="{_cover_style(cover)}" title="{cover.found} of {cover.known} organs">'
            f"{_num('span', f'coverage-{kind}', cover.found, **dims)}/"
            f"{_num('span', f'known-{kind}', cover.known, **dims)}</td>")


def _kinds(metric: str, portal: str, counts: Iterable[tuple[str, int]] | Any) -> str:
    items = sorted(dict(counts).items())
    return " · ".join(f"{_e(k)} {_num('span', metric, n, portal=portal, kind=k)}"
                      for k, n in items) or '<span class="note">–</span>'


def _legend() -> str:
    marks = {"printed": "printed 印出", "blank": "blank → 0 空白", "ocr": "OCR 识别",
             "inferred": "inferred 推断", NULL: "— null 未给出"}
    return ('<p class="legend note">' + "".join(
        f'<span class="v-{m}">{_e(marks[m])}</span>' for m in MARKS)
        + " Δ: change from the year before.</p>")


def render_html(stats: Stats, replay_url: str | None = None) -> str:
    """One self-contained page: inline CSS and SVG, no script, nothing fetched (the CSP says so);
    the only links are to its own sections, and to a replay service under ``replay_url``."""
    page = Page(stats, replay_url)
    years = [(str(y), str(y), n) for y, n in stats.by_year.items()]
    regions = [(r, stats.region_total(r)) for r in stats.by_region if stats.region_total(r)]
    failures = [(r.rule, f"规则 {r.rule}", r.reports["fail"]) for r in stats.rules]
    span = f"{stats.years[0]}–{stats.years[-1]}" if stats.years else "–"
    given = "given" if stats.years_given else "the years the store's reports cover"
    missing = len(stats.missing)
    cards = "".join(
        f'<div class="card"><span id="{key}">{_e(value)}</span><small>{_e(label)}</small></div>'
        for key, value, label in (
            ("total-reports", stats.total_reports, "reports 报告"),
            ("total-organs", stats.organs, "organs found 机关"),
            ("known-organs", len(stats.organ_list), "organs known 已知机关"),
            ("missing-organ-years", missing, "organ-years missing 缺失"),
            ("total-copies", stats.copies, "copies 副本"),
            ("failed-fetches", sum(sum(h.failed.values()) for h in stats.health.values()),
             "fetches given up 抓取失败"),
            ("antibot-blocks", sum(h.antibot for h in stats.health.values()), "412 anti-bot"),
            ("quarantine-open", stats.quarantine_open, "quarantined 隔离"),
            ("total-runs", len(stats.runs), "runs 批次")))
    organs = "".join(page.organ(o) for o in stats.organ_list)
    body = [
        "<h1>政府信息公开工作年度报告 · gkcrawl statistics</h1>",
        (f'<p class="meta">Store <code>{_e(stats.target)}</code> · years {_e(span)} ({given}) · '
         f"generated {_e(stats.generated_at.strftime('%Y-%m-%d %H:%M UTC'))}</p>"),
        f'<div class="cards">{cards}</div>',
        "<h2>1. Coverage against expectation 覆盖</h2>",
        ('<p class="note">An organ is known when the registry lists it (a portal\'s own organ) or '
         "a year of it is stored; each cell is organs found / known, green when all are found, "
         "red when none is.</p>"),
        "<h3>Region × year 地区 × 年度</h3>", page.heat_map(),
        "<h3>Portal × year 门户 × 年度</h3>", page.portal_table(),
        f"<h3>Missing organ-years 缺失 ({missing})</h3>", page.missing(),
        '<div class="row">',
        _vbars("Reports by year 各年度报告数", "chart-reports-by-year", "year", years, "#1f5ea8"),
        _hbars("Reports by region 各地区报告数", "chart-reports-by-region", "region", regions,
               "#2a8c82") if regions else "",
        "</div>",
        "<h2>2. Why reports are missing 缺失原因</h2>",
        ('<p class="note">Per portal, over all runs in the store. A pointer is a WARC file '
         "(relative to the archive directory) and the record's offset: its title is the command "
         "that prints the record.</p>"),
        page.health(),
        "<h2>3. Data quality 数据质量</h2>",
        "<h3>Identities 勾稽关系</h3>", _rules_table(stats),
        _vbars("Reports failing each identity 勾稽关系不符的报告数", "chart-identity-failures",
               "rule", failures, "#c0392b") if stats.failing else "",
        "<h3>Reports failing an identity 不符的报告</h3>", page.failing(),
        "<h3>Cross-year breaks (identity 5) 跨年度不衔接</h3>", page.cross_year(),
        '<div class="row"><section><h3>Inferred and null cells 推断与空值</h3>',
        page.cells(), "</section></div>",
        _small_tables(stats),
        "<h2>4. Organs 机关</h2>", _legend(), organs,
    ]
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; img-src data:\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>gkcrawl statistics</title>"
            f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n")
