"""A store filled with real parses, for the export and stats tests.

The five seeds and the two HTML fixtures (two of them copies of other reports: one report, two
sources), and random reports of both template versions rendered as official pages and parsed back:
hostile organ names and titles (formula injection), negative 本年增/减, amounts with decimals,
nulls, identities broken on purpose, portals in and out of the registry, a legacy report without
tables; every copy with a WARC pointer, one with its own division; plus quarantine entries and
a run.
"""

from __future__ import annotations

import copy
import random
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from gkcrawl.demo.render.html import render_html
from gkcrawl.demo.render.reports import random_report
from gkcrawl.items import QuarantineItem
from gkcrawl.parsing import parse_document
from gkcrawl.pipelines.dedup import source_row
from gkcrawl.quality.validation import validate
from gkcrawl.store import QuarantineRow, ReportRow, SourceRow, Store
from tests.shared import seed_path

FIXTURES = Path(__file__).parent.parent / "fixtures"
EVIL_ORGAN = '=HYPERLINK("http://evil")'
MINUS_ORGAN = "-1+2"
DDE_TITLE = "@SUM(1+1)*cmd|' /C calc'!A0"
#: a binary float with no short exact expansion: the export must keep 0.1, not
#: 0.1000000000000000055…
TENTH = 0.1

#: 五指山市 (a county-level city of 海南省), the division of seed 001's organ
WZS_DIVISION = "469001"
#: the corpus's copies lie this many bytes apart in one WARC file
WARC_STEP = 1000

#: seed prefix -> (portal, url)
SEEDS = {
    "000": ("xizang", "http://www.xizang.gov.cn/zwgk/nb/2021.html"),
    "001": ("hainan", "http://www.wzs.gov.cn/zwgk/ndbg/2021.html"),
    "002": ("xinjiang", "http://www.xinjiang.gov.cn/gknb/2022.html"),
    "003": ("yunnan", "http://www.weixi.gov.cn/xxgk/nb/2021.html"),
    "004": ("xizang", "http://www.gongbujiangda.gov.cn/nb/2020.html"),
}
#: HTML fixture -> (portal, url); both are second copies of seed reports (004 and 001)
PAGES = {
    "gbk-2019.html": ("xizang", "http://www.linzhi.gov.cn/gbjd/nb/2020.html"),
    "official-2021.html": ("hainan", "http://www.hainan.gov.cn/wzs/ndbg/2021.html"),
}


@dataclass(frozen=True)
class Random:
    version: str
    year: int
    organ: str
    portal: str | None
    #: break identity 3 (a row total) or 4 (a table 3 total) before rendering
    break_rule: str = ""


RANDOM = (
    Random("2021", 2023, EVIL_ORGAN, "moe"),
    Random("2019", 2019, MINUS_ORGAN, "guangdong"),
    Random("2019", 2020, "海口市人力资源和社会保障局", "hainan", break_rule="3"),
    Random("2021", 2022, "维西傈僳族自治县教育体育局", "yunnan", break_rule="4"),
    Random("2021", 2021, "工布江达县人民政府办公室", "xizang"),
    Random("2019", 2020, "白济汛乡人民政府", None),
    Random("2021", 2024, "某县自然资源局", "nowhere"),
)

LEGACY = {
    "format": "legacy", "year": 2017, "organ": "北京市东城区人民政府", "published": "2018-03-20",
    "title": "北京市东城区2017年政府信息公开工作年度报告", "active_disclosure": None,
    "applications": None, "review_litigation": None, "inferred": [], "checks": [],
    "flags": ["free-form report before the national template"], "prose": {},
    "source_url": "http://www.bjdch.gov.cn/nb/2017.html", "source_kind": "html",
    "parser_version": "1", "portal": "beijing",
}

QUARANTINE = (
    ("http://www.xizang.gov.cn/nb/scan1.pdf", "scanned_pdf"),
    ("http://www.xizang.gov.cn/nb/scan2.pdf", "scanned_pdf"),
    ("http://www.hainan.gov.cn/nb/bad.doc", "corrupt"),
    ("http://www.hainan.gov.cn/nb/resolved.html", "lookalike"),
)


def _parse(body: bytes, content_type: str | None, url: str) -> dict[str, Any]:
    result = parse_document(body, content_type, url)
    assert result.ok, (url, result)
    return result.to_dict()


def _break(report: dict[str, Any], rule: str) -> None:
    if rule == "3":
        report["applications"]["new_received"]["total"] += 1
    elif rule == "4":
        report["review_litigation"]["admin_review"]["total"] += 2


def items() -> list[dict[str, Any]]:
    """Every report copy as a pipeline item (a dict), in storing order (a fresh copy)."""
    return copy.deepcopy(_items())


@cache
def _items() -> list[dict[str, Any]]:
    """Parsed once per session: parsing is most of the time a test takes to fill its store."""
    out: list[dict[str, Any]] = []
    for prefix, (portal, url) in SEEDS.items():
        path = seed_path(prefix)
        out.append({**_parse(path.read_bytes(), "text/plain", url), "portal": portal})
    for name, (portal, url) in PAGES.items():
        out.append({**_parse((FIXTURES / "html" / name).read_bytes(), "text/html", url),
                    "portal": portal})
    rng = random.Random(20240601)
    for i, spec in enumerate(RANDOM):
        report = random_report(rng, spec.version, year=spec.year, organ=spec.organ)
        _break(report, spec.break_rule)
        item = _parse(render_html(report), "text/html", f"http://www.example.gov.cn/r/{i}.html")
        out.append({**item, "portal": spec.portal})
    evil, minus = out[len(SEEDS) + len(PAGES)], out[len(SEEDS) + len(PAGES) + 1]
    minus["title"] = DDE_TITLE
    minus["flags"] = [*minus["flags"], "+ a flag that looks like a formula"]
    # decimals and nulls the parse of a clean page would not give
    evil["active_disclosure"]["admin_fees"]["amount_10k_yuan"] = TENTH
    evil["applications"]["carried_over"]["other_org"] = None
    evil["review_litigation"]["litigation_direct"]["pending"] = None
    # the organ's own division, as the parser reads it from the organ's name: it wins over the
    # region of the portal the report was found on
    out[1].update(division_code=WZS_DIVISION, division_level="county")
    out.append(dict(LEGACY))
    for n, item in enumerate(out):
        item.update(crawl_id="crawl-a", fetched_at="2024-02-01T08:00:00+00:00",
                    warc={"filename": "crawl-a/crawl-a-00000.warc.gz", "offset": n * WARC_STEP,
                          "length": WARC_STEP - 1, "record_id": f"<urn:uuid:{n:032x}>"})
    return out


def fill(store: Store) -> None:
    """Store every copy (validated like the pipeline does), one report per (organ, year), the
    quarantine entries and a finished run."""
    store.start_run("crawl-a", spider="portals", parser_version="1")
    groups: dict[tuple[str | None, int | None], list[SourceRow]] = defaultdict(list)
    for item in items():
        findings = [f.to_dict() for f in validate(item)]
        source = source_row({**item, "validation": findings})
        store.upsert_source(source)
        groups[(source.organ_key, source.year)].append(source)
    for sources in groups.values():
        store.upsert_report(ReportRow.from_source(sources[0], n_sources=len(sources)))
    for url, code in QUARANTINE:
        store.upsert_quarantine(QuarantineRow.from_item(QuarantineItem(
            url=url, code=code, reason=f"{code}: 无法解析", portal="xizang", role="attachment",
            crawl_id="crawl-a")))
    store.resolve_quarantine(QUARANTINE[-1][0], None)
    store.finish_run("crawl-a", finish_reason="finished", stats={"item_scraped_count": 14})
