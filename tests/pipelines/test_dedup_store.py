"""Dedup through the real pipeline chain into SQLite and PostgreSQL: mirrors against official
copies, a page and its PDF attachment, a corrected re-publication, organs spelled differently,
idempotent re-runs, and the cross-year check when the earlier year arrives later."""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest
from scrapy import Spider
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from gkcrawl.demo.render.html import render_html
from gkcrawl.demo.render.pdf import render_pdf
from gkcrawl.demo.render.reports import random_report
from gkcrawl.items import DocumentItem
from gkcrawl.quality.dedup import organ_key
from gkcrawl.settings import ITEM_PIPELINES
from gkcrawl.store import Store, is_postgres_url
from tests.quality.test_dedup import official_copy, seed_text

pytestmark = pytest.mark.usefixtures("fast_engine")

SEEDS_MIRROR = {"000": "http://jsf24.com/zwgk/1.html",
                "002": "http://www.hk-tuku.example/2023/0130.html"}
SEEDS_OFFICIAL = {"000": "http://www.xizang.gov.cn/zwgk/xxgk/nb/202201/t20220112_1.html",
                  "002": "http://www.xinjiang.gov.cn/xinjiang/gknb/202301/t20230130_2.html"}


class ItemSpider(Spider):
    name = "items"

    async def start(self):  # type: ignore[override]
        for item in self.items:  # type: ignore[attr-defined]
            yield item


def document(url: str, body: bytes, ctype: str, n: int) -> DocumentItem:
    return DocumentItem(url=url, body=body, content_type=ctype, portal="test", role="report",
                        crawl_id="dedup-test",
                        warc={"filename": "dedup-test/x.warc.gz", "offset": n * 100, "length": 99,
                              "record_id": f"<urn:uuid:{n:032x}>", "digest": f"sha1:{n}"})


def html_document(path: str, report: dict[str, Any], n: int) -> DocumentItem:
    """A report rendered as a page of www.shixian.gov.cn."""
    return document(f"http://www.shixian.gov.cn/{path}", render_html(report), "text/html", n)


def seed_copies(prefix: str, n: int) -> list[DocumentItem]:
    """A seed as its mirror printed it and as the government site did (records n and n + 1)."""
    return [document(SEEDS_MIRROR[prefix], seed_text(prefix).encode(), "text/plain", n),
            document(SEEDS_OFFICIAL[prefix], official_copy(prefix).encode(), "text/plain", n + 1)]


async def run(target: str, tmp_path: Path, items: list[DocumentItem]) -> None:
    key = "STORE_URL" if is_postgres_url(target) else "STORE_PATH"
    crawler = get_crawler(ItemSpider, {key: target, "ARCHIVE_DIR": str(tmp_path / "archive"),
                                       "CRAWL_ID": "dedup-test", "ITEM_PIPELINES": ITEM_PIPELINES})
    await crawler.crawl_async(items=items)
    assert crawler.stats.get_value("quarantine/items") is None


def roles(store: Store, key: str, year: int) -> dict[str, str]:
    return {s.url: s.role for s in store.sources(key, year)}


@deferred_f_from_coro_f
async def test_seed_mirrors_lose_to_official_copies(store: Store, target: str,
                                                    tmp_path: Path) -> None:
    items = []
    for n, prefix in enumerate(("000", "002")):
        items += seed_copies(prefix, 2 * n)
    await run(target, tmp_path, items)
    for prefix, year, organ in (("000", 2021, "西藏自治区人民政府办公厅"),
                                ("002", 2022, "新疆维吾尔自治区人民政府办公厅")):
        key = organ_key(organ)
        report = store.report(key, year)
        assert report is not None and report.n_sources == 2
        chosen = store.source(report.source_id)
        assert chosen.url == SEEDS_OFFICIAL[prefix] and chosen.official
        assert roles(store, key, year) == {SEEDS_OFFICIAL[prefix]: "chosen",
                                           SEEDS_MIRROR[prefix]: "copy"}
    assert len(list(store.reports())) == 2


@deferred_f_from_coro_f
async def test_page_and_its_pdf_attachment_are_one_report(store: Store, target: str,
                                                           tmp_path: Path) -> None:
    report = random_report(random.Random(11), "2021", 2022, "示例县教育局")
    page = "http://www.shixian.gov.cn/bm/jyj/t20230120_1.html"
    pdf = "http://www.shixian.gov.cn/bm/jyj/P020230120.pdf"
    await run(target, tmp_path, [document(page, render_html(report), "text/html", 1),
                                 document(pdf, render_pdf(report), "application/pdf", 2)])
    key = organ_key("示例县教育局")
    stored = store.report(key, 2022)
    assert stored is not None and stored.n_sources == 2
    assert sorted(roles(store, key, 2022).values()) == ["chosen", "copy"]
    assert stored.report["applications"] == report["applications"]


@deferred_f_from_coro_f
async def test_corrected_republication_newer_wins_older_kept(store: Store, target: str,
                                                              tmp_path: Path) -> None:
    first = random_report(random.Random(5), "2021", 2021, "示例县财政局")
    first["published"] = "2022-01-20"
    corrected = copy.deepcopy(first)
    corrected["published"] = "2022-03-02"
    corrected["active_disclosure"]["normative_documents"]["in_force"] += 3
    old_url = "http://www.shixian.gov.cn/czj/t20220120_1.html"
    new_url = "http://www.shixian.gov.cn/czj/t20220302_9.html"
    await run(target, tmp_path, [document(old_url, render_html(first), "text/html", 1),
                                 document(new_url, render_html(corrected), "text/html", 2)])
    key = organ_key("示例县财政局")
    stored = store.report(key, 2021)
    assert store.source(stored.source_id).url == new_url
    assert stored.report["active_disclosure"]["normative_documents"]["in_force"] == \
        corrected["active_disclosure"]["normative_documents"]["in_force"]
    assert roles(store, key, 2021) == {new_url: "chosen", old_url: "superseded"}


@deferred_f_from_coro_f
async def test_organ_written_differently_meets_by_content_and_reruns_add_nothing(
        store: Store, target: str, tmp_path: Path) -> None:
    text = official_copy("000")
    renamed = text.replace("西藏自治区人民政府办公厅2021年", "自治区政府办公厅2021年", 1)
    items = [document(SEEDS_OFFICIAL["000"], text.encode(), "text/plain", 1),
             document("http://www.xizang.gov.cn/other/2.html", renamed.encode(), "text/plain", 2)]
    await run(target, tmp_path, items)
    await run(target, tmp_path, [copy.copy(i) for i in items])  # a second run, same records
    key = organ_key("西藏自治区人民政府办公厅")
    assert store.report(key, 2021).n_sources == 2
    assert len(store.sources()) == 2 and len(list(store.reports())) == 1


@deferred_f_from_coro_f
async def test_cross_year_checked_whichever_year_arrives_first(store: Store, target: str,
                                                                tmp_path: Path) -> None:
    organ = "示例县自然资源局"
    later = random_report(random.Random(21), "2021", 2022, organ)
    earlier = random_report(random.Random(22), "2021", 2021, organ)
    carried = earlier["applications"]["carried_forward"] = copy.deepcopy(
        later["applications"]["carried_over"])
    carried["natural_person"] += 1  # one column disagrees
    # keep 2021 internally consistent: the extra case was also received
    earlier["applications"]["carried_forward"]["total"] += 1
    earlier["applications"]["new_received"]["natural_person"] += 1
    earlier["applications"]["new_received"]["total"] += 1
    await run(target, tmp_path, [html_document("zrzyj/2022.html", later, 1)])
    await run(target, tmp_path, [html_document("zrzyj/2021.html", earlier, 2)])
    stored = store.report(organ_key(organ), 2022)
    cross: dict[str, Any] = {f["values"]["column"]: f["status"] for f in stored.validation
                             if f["check"] == "cross_year"}
    assert cross["natural_person"] == "fail" and cross["total"] == "fail"
    assert cross["commercial_enterprise"] == "pass"


@deferred_f_from_coro_f
async def test_the_only_copy_parsed_again_stays_the_chosen_one(
        store: Store, target: str, tmp_path: Path) -> None:
    """A replay over its own store: each report's only copy is decided again as written."""
    organ = "示例县教育局"
    item = document("http://www.shixian.gov.cn/jyj/2022.html",
                    render_html(random_report(random.Random(41), "2021", 2022, organ)),
                    "text/html", 1)
    await run(target, tmp_path, [copy.copy(item)])
    first = snapshot(store)
    key = organ_key(organ)
    (only,) = store.sources(key, 2022)
    store.set_source_role(only.id, "copy")  # whatever role it had is decided again
    await run(target, tmp_path, [copy.copy(item)])  # the same record once more
    assert snapshot(store) == first
    assert roles(store, key, 2022) == {item.url: "chosen"}
    assert store.report(key, 2022).n_sources == 1


def mixed_items() -> list[DocumentItem]:
    """Mirrors and official copies, two years of one organ (cross-year), a re-publication."""
    organ = "示例县自然资源局"
    later = random_report(random.Random(31), "2021", 2022, organ)
    earlier = random_report(random.Random(32), "2021", 2021, organ)
    earlier["applications"]["carried_forward"] = copy.deepcopy(
        later["applications"]["carried_over"])
    corrected = copy.deepcopy(later)
    corrected["published"] = "2023-03-02"
    corrected["active_disclosure"]["normative_documents"]["in_force"] += 2
    items = [html_document("zrzyj/2022.html", later, 1),
             html_document("zrzyj/2021.html", earlier, 2),
             html_document("zrzyj/2022-fix.html", corrected, 3)]
    for n, prefix in enumerate(("000", "002")):
        items += seed_copies(prefix, 10 + 2 * n)
    return items


def snapshot(store: Store) -> dict[str, Any]:
    return {"sources": sorted((s.url, s.role, s.organ_key, s.year) for s in store.sources()),
            "reports": [(r.organ_key, r.year, store.source(r.source_id).url, r.n_sources,
                         r.report["applications"], r.validation) for r in store.reports()]}


@deferred_f_from_coro_f
async def test_an_error_deciding_one_report_fails_that_report_alone(
        store: Store, target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each report is decided in its own transaction: one that fails half-way leaves nothing
    of itself in the store (its copy is rolled back) and is quarantined; the others go on."""
    from gkcrawl.store.base import Store as BaseStore

    upsert_report = BaseStore.upsert_report

    def failing(self: BaseStore, row: Any) -> None:
        if row.year == 2021 and row.organ == "示例县自然资源局":
            raise RuntimeError("disk full")
        upsert_report(self, row)

    monkeypatch.setattr(BaseStore, "upsert_report", failing)
    key = "STORE_URL" if is_postgres_url(target) else "STORE_PATH"
    crawler = get_crawler(ItemSpider, {
        key: target, "ARCHIVE_DIR": str(tmp_path / "a"), "CRAWL_ID": "dedup-test",
        "ITEM_PIPELINES": ITEM_PIPELINES,
        "EXTENSIONS": {"gkcrawl.pipelines.quarantine.PipelineErrorQuarantine": 25}})
    await crawler.crawl_async(items=mixed_items())
    assert crawler.stats.get_value("item_scraped_count") == 6
    assert crawler.stats.get_value("quarantine/pipeline_errors") == 1
    assert [q.url for q in store.quarantine()] == ["http://www.shixian.gov.cn/zrzyj/2021.html"]
    assert "disk full" in store.quarantine()[0].reason
    assert len(store.sources()) == 6 and len(list(store.reports())) == 3


def all_zero(report: dict[str, Any]) -> dict[str, Any]:
    """The report of an organ that received no application: every cell 0."""
    zeroed = copy.deepcopy(report)
    for table in ("active_disclosure", "applications", "review_litigation"):
        for cells in zeroed[table].values():
            for column in cells:
                cells[column] = 0
    return zeroed


@deferred_f_from_coro_f
async def test_organs_with_all_zero_tables_stay_apart(store: Store, target: str,
                                                      tmp_path: Path) -> None:
    """Townships that received no application print the same zeros: identical numbers never
    make two organs' reports one."""
    townships = ["东坝乡人民政府", "城关镇人民政府", "西山乡人民政府", "南河镇人民政府"]
    items = [html_document(f"xz/{n}/2022.html",
                           all_zero(random_report(random.Random(7), "2021", 2022, organ)), n)
             for n, organ in enumerate(townships)]
    await run(target, tmp_path, items)
    stored = {r.organ for r in store.reports()}
    assert stored == set(townships)


@pytest.mark.parametrize("mirror_first", [True, False])
@deferred_f_from_coro_f
async def test_a_mirror_with_a_garbled_organ_joins_the_official_copy(
        store: Store, target: str, tmp_path: Path, mirror_first: bool) -> None:
    organ = "示例县自然资源局"
    garbled = organ.encode("utf-8").decode("gbk", errors="replace")  # mojibake on a mirror
    report = random_report(random.Random(21), "2021", 2022, organ)
    mirrored = copy.deepcopy(report) | {"organ": garbled}
    official = html_document("zrzyj/2022.html", report, 1)
    mirror = document("http://mirror.example.com/a/2022.html", render_html(mirrored),
                      "text/html", 2)
    await run(target, tmp_path, [mirror, official] if mirror_first else [official, mirror])
    (stored,) = list(store.reports())
    assert (stored.organ_key, stored.n_sources) == (organ_key(organ), 2)
    assert store.source(stored.source_id).url == official.url
