"""Dedup at scale: no two organs' reports made one, the time a report takes flat as the store grows.

    .venv/bin/python bench/dedup_scale.py        # --reports 5000,50000 --kinds zeros,typical

For each size N and each kind, N organs' reports of one year, plus a mirror copy of every
``MIRROR_EVERY``-th one whose organ name is garbled (mojibake, as mirror sites print it), go
through the dedup pipeline (``DedupPipeline.decide``: signature look-up, grouping, choice,
store) into a fresh SQLite store. The kinds:

* ``zeros``: mostly-zero tables, about ``NONZERO_CELLS`` non-zero cells, as townships that
  received few or no applications print them; their text is the template and boilerplate prose
  that townships copy from one another, with their own name, dates and numbers;
* ``typical``: the demo's random reports (most cells non-zero), with the same kind of prose.

Targets: every organ ends with its own report (reports = organs, no report holding another
organ's copy), every mirror joins its organ's report, and the CPU time a report takes in the
last ``CHUNK`` decisions is within ``FLAT`` of the first ``CHUNK`` (the store has grown N-fold
in between). The candidates the store returns to a look-up are counted too: they, not the
clock, show whether the look-up grows with the store. Prints one line per size and kind;
``--json`` everything.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import header, machine
from scrapy import Spider
from scrapy.utils.test import get_crawler

from gkcrawl.demo.render.reports import random_report
from gkcrawl.demo.render.text import render_text
from gkcrawl.items import ReportItem
from gkcrawl.parsing import extract_document
from gkcrawl.pipelines.dedup import DedupPipeline
from gkcrawl.quality.dedup import organ_key
from gkcrawl.quality.fingerprint import TABLE_KEYS, signature
from gkcrawl.store import store_for

#: Every how many organs a mirror copy with a garbled name is added.
MIRROR_EVERY = 50
#: Non-zero cells of a mostly-zero report.
NONZERO_CELLS = 18
#: Decisions timed at the start and at the end of a run.
CHUNK = 1000
#: Target: the last chunk's CPU time a report at most this many times the first's.
FLAT = 1.5
YEAR = 2023
#: Characters organ names are made of (a county's and a township's two characters each).
NAME_CHARS = "东南西北安平和兴隆福宁山河湖海江川清源长乐新城永泰华阳云龙凤金石桥塘"
PROSE = (
    "{organ}坚持以习近平新时代中国特色社会主义思想为指导，全面贯彻落实《中华人民共和国政府信息公开条例》。",
    "{year}年，{organ}通过政府网站主动公开政府信息{n}条，其中政策文件{m}条。",
    "{organ}共收到政府信息公开申请{k}件，均在法定期限内答复。",
    "本年度{organ}未收到政府信息公开申请，未发生行政复议和行政诉讼。",
    "{organ}召开政务公开专题会议{m}次，培训工作人员{n}人次。",
    "政务公开栏更新信息{n}期，发放宣传资料{m}份。",
    "{organ}主要负责人{m}次听取政务公开工作汇报，研究部署重点工作。",
    "存在的问题：公开内容不够全面，解读形式较为单一。",
    "下一步，{organ}将进一步规范公开流程，提升公开质量，做好{year1}年政务公开工作。",
    "本年度{organ}未收取信息处理费。",
    "{organ}在村（社区）公开栏公开惠民惠农补贴等信息{n}条。",
    "报告中所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。",
)


def organ_names(n: int, rng: random.Random) -> list[str]:
    """n distinct township names: county (2 characters) + 县 + township (2) + 镇/乡 + 人民政府."""
    names: set[str] = set()
    while len(names) < n:
        county = "".join(rng.sample(NAME_CHARS, 2))
        town = "".join(rng.sample(NAME_CHARS, 2))
        names.add(f"{county}县{town}{rng.choice('镇乡')}人民政府")
    return sorted(names)


def mostly_zero(report: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    cells = [(t, row, col) for t in TABLE_KEYS for row, cols in report[t].items() for col in cols]
    for t, row, col in cells:
        report[t][row][col] = 0
    for t, row, col in rng.sample(cells, NONZERO_CELLS):
        report[t][row][col] = rng.randint(1, 30)
    return report


def prose(organ: str, rng: random.Random) -> str:
    return "".join(rng.sample(PROSE, 7)).format(
        organ=organ, year=YEAR, year1=YEAR + 1, n=rng.randint(10, 900), m=rng.randint(1, 40),
        k=rng.randint(0, 20))


def item(report: dict[str, Any], text: str, url: str, n: int) -> ReportItem:
    fields = {k: report[k] for k in ("format", "year", "organ", "published", "title", *TABLE_KEYS)}
    return ReportItem(**fields, fingerprint=signature(text, report), source_url=url,
                      source_kind="html", portal="bench", crawl_id="bench", parser_version="1",
                      fetched_at="2024-02-01T08:00:00+00:00",
                      warc={"filename": "bench/x.warc.gz", "offset": n, "length": 1,
                            "record_id": f"<urn:uuid:{n:032x}>", "digest": f"sha1:{n}"})


def copies(n: int, kind: str, seed: int = 1) -> list[tuple[ReportItem, str]]:
    """(item, organ key it belongs to) of n organs' reports and their mirrors, in arrival order."""
    rng = random.Random(seed)
    out = []
    for i, organ in enumerate(organ_names(n, rng)):
        report = random_report(rng, "2021", YEAR, organ)
        if kind == "zeros":
            report = mostly_zero(report, rng)
        page = render_text(report) + b"\n" + prose(organ, rng).encode()
        text = extract_document(page, "text/plain").prose  # as the parse pipeline signs it
        key = organ_key(organ) or ""
        out.append((item(report, text, f"http://www.x{i}.gov.cn/gk/{YEAR}.html", len(out)), key))
        if i % MIRROR_EVERY == 0:
            garbled = organ.encode("utf-8").decode("gbk", errors="replace")
            mirrored = copy.deepcopy(report) | {"organ": garbled,
                                                "title": report["title"].replace(organ, garbled)}
            mirror_text = "香港免费图库资料大全\n" + text.replace(organ, garbled)
            out.append((item(mirrored, mirror_text, f"http://mirror.example.com/{i}.html",
                             len(out)), key))
    return out


def count_candidates(store: Any) -> list[int]:
    """The number of candidates the store returns to each look-up, in order (the work that
    would grow with the store if look-alike reports were all candidates)."""
    counts: list[int] = []
    look_up = store.similar_fingerprints

    def counted(*args: Any, **kwargs: Any) -> Any:
        found = look_up(*args, **kwargs)
        counts.append(len(found))
        return found

    store.similar_fingerprints = counted
    return counts


def run(n: int, kind: str) -> dict[str, Any]:
    docs = copies(n, kind)
    with tempfile.TemporaryDirectory() as tmp:
        crawler = get_crawler(Spider, {"STORE_PATH": str(Path(tmp) / "bench.sqlite3"),
                                       "LOG_LEVEL": "WARNING"})
        pipeline = DedupPipeline(crawler)
        store = store_for(crawler)
        candidates = count_candidates(store)
        times = []
        for doc, _ in docs:
            start = time.process_time()
            pipeline.decide(doc)
            times.append(time.process_time() - start)
        reports = {r.organ_key: r for r in store.reports()}
        sources = {s.url: s.organ_key for s in store.sources()}
        store.close()
    organs = {key for _, key in docs}
    misfiled = sum(sources[doc.source_url] != key for doc, key in docs)
    mirrors = [(doc, key) for doc, key in docs if "mirror" in doc.source_url]
    first, last = (sum(times[:CHUNK]) / CHUNK, sum(times[-CHUNK:]) / CHUNK)
    looked_at = (sum(candidates[:CHUNK]) / CHUNK, sum(candidates[-CHUNK:]) / CHUNK)
    return {"reports_wanted": n, "kind": kind, "copies": len(docs), "organs": len(organs),
            "reports": len(reports), "misfiled_copies": misfiled,
            "mirrors": len(mirrors),
            "mirrors_joined": sum(sources[d.source_url] == k for d, k in mirrors),
            "candidates_first": looked_at[0], "candidates_last": looked_at[1],
            "first_ms": first * 1e3, "last_ms": last * 1e3, "growth": last / first,
            "flat": last / first <= FLAT and misfiled == 0 and len(reports) == len(organs)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", default="5000,50000",
                        help="comma-separated store sizes (organs); default 5000,50000")
    parser.add_argument("--kinds", default="zeros,typical")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    m = machine()
    results = [run(int(n), kind) for n in args.reports.split(",")
               for kind in args.kinds.split(",")]
    if args.json:
        print(json.dumps({"machine": m, "results": results}, ensure_ascii=False, indent=1))
        return 0
    print(header(m))
    for r in results:
        print(f"{r['kind']:>8} {r['reports_wanted']:>6} organs: {r['reports']} reports, "
              f"{r['misfiled_copies']} copies misfiled, mirrors joined {r['mirrors_joined']}/"
              f"{r['mirrors']}; CPU a report {r['first_ms']:.2f} ms (first {CHUNK}) -> "
              f"{r['last_ms']:.2f} ms (last {CHUNK}), x{r['growth']:.2f}; candidates a report "
              f"{r['candidates_first']:.2f} -> {r['candidates_last']:.2f}"
              f" {'met' if r['flat'] else 'NOT MET'}")
    return 0 if all(r["flat"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
