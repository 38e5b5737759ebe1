"""The store API against both backends: migrations, idempotent upserts, runs, quarantine,
transactions and the per-report lock that serialises concurrent dedup decisions."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gkcrawl.store import (
    MIGRATIONS,
    Migration,
    QuarantineRow,
    ReportRow,
    SourceRow,
    Store,
    StoreError,
    open_store,
)
from gkcrawl.store.schema import POSTGRES, SQLITE
from gkcrawl.store.sqlite import SQLiteStore
from tests.samples import WZS, quarantine_item, report_item


def source(role: str = "copy", **kwargs: Any) -> SourceRow:
    return SourceRow.from_item(report_item(**kwargs), role=role)


def run_threads(*targets: Callable[[], Any]) -> list[Any]:
    """Run each callable in its own thread; re-raise the first exception."""
    results: list[Any] = [None] * len(targets)
    errors: list[BaseException] = []

    def wrap(i: int, fn: Callable[[], Any]) -> None:
        try:
            results[i] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(i, fn)) for i, fn in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    if errors:
        raise errors[0]
    return results


def count(store: Store, table: str) -> int:
    return store._exec(f"SELECT COUNT(*) AS n FROM {table}").fetchall()[0]["n"]


# --- opening and migrations ----------------------------------------------------------------

def test_open_store_picks_the_backend(target: str) -> None:
    with open_store(target) as store:
        assert store.dialect == (POSTGRES if target.startswith("postgresql://") else SQLITE)
        assert [v for v, _, _ in store.migrations()] == [m.version for m in MIGRATIONS]
    if store.dialect == SQLITE:
        assert Path(target).is_file()  # parent directories were created
        assert store.closed


def test_sqlite_pragmas(tmp_path: Path) -> None:
    with open_store(tmp_path / "a" / "b" / "s.sqlite3") as store:
        assert store._exec("PRAGMA journal_mode").fetchall()[0]["journal_mode"] == "wal"
        assert store._exec("PRAGMA foreign_keys").fetchall()[0]["foreign_keys"] == 1
        # no SQLite busy handler (its first sleep is 1 ms): the store waits for the lock itself
        assert store._exec("PRAGMA busy_timeout").fetchall()[0]["timeout"] == 0


def _hold_lock(path: Path, seconds: float, held: threading.Event) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    held.set()
    time.sleep(seconds)
    other.execute("COMMIT")
    other.close()


def test_sqlite_waits_for_another_writer_then_writes(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    with open_store(path) as store:
        held = threading.Event()
        holder = threading.Thread(target=_hold_lock, args=(path, 0.2, held))
        holder.start()
        held.wait(5)
        start = time.monotonic()
        store.start_run("waited")  # BEGIN IMMEDIATE refused until the other commits
        waited = time.monotonic() - start
        holder.join()
        assert 0.15 < waited < 2 and store.run("waited") is not None
        assert store.lock_waits == 1 and 0.15 < store.lock_wait_seconds <= waited


def test_sqlite_gives_up_after_its_timeout(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    open_store(path).close()
    held = threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(path, 1.0, held))
    holder.start()
    held.wait(5)
    try:
        with SQLiteStore(path, timeout=0.2) as store, pytest.raises(sqlite3.OperationalError,
                                                                   match="locked"):
            store.start_run("refused")
    finally:
        holder.join()


VERSIONS = [m.version for m in MIGRATIONS]
NEXT = VERSIONS[-1] + 1


def test_migrate_applies_once(make_store: Callable[..., Store]) -> None:
    store = make_store(migrate=False)
    assert store.migrate() == VERSIONS
    assert store.migrate() == []
    extra = Migration(NEXT, "add a note", statements=("ALTER TABLE reports ADD COLUMN note TEXT",))
    assert store.migrate([*MIGRATIONS, extra]) == [NEXT]
    assert store.migrate([*MIGRATIONS, extra]) == []
    assert [(v, n) for v, n, _ in store.migrations()] == [
        *((m.version, m.name) for m in MIGRATIONS), (NEXT, "add a note")]
    assert all(isinstance(t, datetime) and t.tzinfo for _, _, t in store.migrations())


def test_failed_migration_rolls_back_entirely(make_store: Callable[..., Store]) -> None:
    store = make_store()
    good = Migration(NEXT, "good", statements=("CREATE TABLE extra_a (x INTEGER)",))
    bad = Migration(NEXT + 1, "bad",
                    statements=("CREATE TABLE extra_b (x INTEGER)", "NOT SQL AT ALL"))
    # sqlite3 and psycopg raise different classes, with the same words
    with pytest.raises(Exception, match="syntax error"):
        store.migrate([*MIGRATIONS, good, bad])
    assert [v for v, _, _ in store.migrations()] == VERSIONS
    assert store.migrate([*MIGRATIONS, good]) == [NEXT]  # extra_a was rolled back with the rest


def test_concurrent_migrations(make_store: Callable[..., Store]) -> None:
    workers = [make_store(migrate=False) for _ in range(3)]
    barrier = threading.Barrier(len(workers))

    def migrate(store: Store) -> list[int]:
        barrier.wait()
        return store.migrate()

    results = run_threads(*[lambda s=s: migrate(s) for s in workers])
    assert sorted(v for r in results for v in r) == VERSIONS
    assert [v for v, _, _ in workers[0].migrations()] == VERSIONS


# --- sources -------------------------------------------------------------------------------

def test_same_source_twice_is_one_row(store: Store) -> None:
    first = SourceRow.from_item(report_item(), role="chosen", official=True, completeness=10)
    first_id = store.upsert_source(first)
    time.sleep(0.01)
    again = SourceRow.from_item(report_item(), official=True, completeness=10)
    assert store.upsert_source(again) == first_id == again.id
    [row] = store.sources()
    assert row.id == first_id
    assert row.role == "chosen"  # roles are left to set_source_role
    assert row.first_seen is not None and row.last_seen is not None
    assert row.last_seen > row.first_seen
    assert row.record_id == "<urn:uuid:00000000-0000-4000-8000-000000000001>"
    assert (row.warc_file, row.warc_offset, row.warc_length) == (
        "crawl-a/gkcrawl-20240101000000000-00000-host.warc.gz", 1234, 5678)
    assert row.fetched_at == datetime(2024, 2, 1, 8, tzinfo=UTC)
    assert row.organ_key == WZS and row.year == 2023 and row.official is True
    assert row.completeness == 10


def test_reparse_updates_parsed_fields(store: Store) -> None:
    store.upsert_source(source())
    reparsed = SourceRow.from_item(
        report_item(year=2022, new_received=40, parser_version="2", crawl_id="replay-b",
                    fingerprint=[7, 1, 2**40],
                    validation=[{"rule": "carry_over", "status": "fail"}]), completeness=9)
    store.upsert_source(reparsed)
    [row] = store.sources()
    assert row.year == 2022 and row.parser_version == "2"
    assert row.report["applications"]["new_received"]["total"] == 40
    assert row.fingerprint == [7, 1, 2**40]
    assert row.validation == [{"rule": "carry_over", "status": "fail"}]
    assert row.official is False and row.completeness == 9
    assert row.crawl_id == "crawl-a"  # the capture is the first crawl's; a replay does not move it
    assert row.report["crawl_id"] == "replay-b"


def test_report_json_round_trips(store: Store) -> None:
    item = report_item()
    store.upsert_source(SourceRow.from_item(item))
    [row] = store.sources()
    assert row.report["organ"] == "五指山市人民政府办公室"
    assert row.report["active_disclosure"]["admin_fees"]["amount_10k_yuan"] == 12.5
    assert row.report["active_disclosure"]["regulations"]["repealed"] is None
    assert row.report["inferred"][0]["rule"] == 3 and row.report["flags"] == ["组织 flag"]
    assert "warc" not in row.report


def test_the_organ_fields_are_kept(store: Store) -> None:
    """The division code has a column (reports of a region); the rest of the organ's fields are
    in the report, as the title and publication date are."""
    item = report_item(organ="上海市科学技术委员会", organ_as_printed="上海市科委",
                       publisher="上海市科学技术委员会办公室", division_code="310000",
                       division_level="province")
    store.upsert_source(SourceRow.from_item(item))
    [row] = store.sources()
    assert row.division_code == "310000"
    assert {k: row.report[k] for k in ("organ_as_printed", "publisher", "division_level")} == {
        "organ_as_printed": "上海市科委", "publisher": "上海市科学技术委员会办公室",
        "division_level": "province"}
    found = store._exec("SELECT organ FROM sources WHERE division_code = :c AND year = :y",
                        {"c": "310000", "y": 2023}).fetchall()
    assert [r["organ"] for r in found] == ["上海市科学技术委员会"]


def test_source_keys_without_record_id(store: Store) -> None:
    by_digest = source(record_id=None, digest="sha1:BBBB")
    unarchived = source(url="http://example.org/mirror.html", record_id=None, digest=None)
    for row in (by_digest, unarchived, source(record_id=None, digest="sha1:BBBB"),
                source(url="http://example.org/mirror.html", record_id=None, digest=None)):
        store.upsert_source(row)
    assert len(store.sources()) == 2
    # other bytes at the same URL (a corrected re-publication) are another copy
    store.upsert_source(source(record_id="<urn:uuid:other>"))
    assert len(store.sources()) == 3


def test_same_bytes_fetched_again_are_one_copy(store: Store) -> None:
    """An incremental run or a replay meets the same bytes under another WARC record: the copy
    stays one, with its first capture (the record that holds the bytes) and the latest parse."""
    first = store.upsert_source(source(record_id="<urn:uuid:first>", digest="sha1:SAME"))
    again = source(record_id="<urn:uuid:revisit>", digest="sha1:SAME", crawl_id="crawl-b",
                   parser_version="2")
    again.warc_offset = 777
    assert store.upsert_source(again) == first
    [row] = store.sources()
    assert (row.record_id, row.warc_offset, row.crawl_id) == ("<urn:uuid:first>", 1234, "crawl-a")
    assert row.parser_version == "2"
    # the same bytes at another URL are another copy (a mirror, an attachment)
    store.upsert_source(source(url="http://mirror.example.com/a.html", digest="sha1:SAME"))
    assert len(store.sources()) == 2


def test_sources_filter_and_roles(store: Store) -> None:
    a = store.upsert_source(source())
    b = store.upsert_source(source(url="http://mirror.example.com/a.html", record_id="<r2>"))
    c = store.upsert_source(source(organ="琼中县人民政府", record_id="<r3>"))
    store.upsert_source(source(year=2022, record_id="<r4>"))
    assert [s.id for s in store.sources(WZS, 2023)] == [a, b]
    assert [s.id for s in store.sources(organ_key="琼中县政府")] == [c]
    assert len(store.sources(year=2022)) == 1 and len(store.sources()) == 4
    assert store.sources("nobody") == []
    store.set_source_role(b, "superseded")
    assert store.source(b).role == "superseded"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="role"):
        store.set_source_role(a, "best")
    with pytest.raises(LookupError):
        store.set_source_role(10_000, "copy")
    assert store.source(10_000) is None


# --- reports -------------------------------------------------------------------------------

def test_report_upsert(store: Store) -> None:
    row = source()
    store.upsert_source(row)
    store.upsert_report(ReportRow.from_source(row))
    store.upsert_report(ReportRow.from_source(row))
    assert count(store, "reports") == 1
    got = store.report(WZS, 2023)
    assert got is not None and got.source_id == row.id and got.n_sources == 1
    assert got.report["format"] == "2021" and got.updated_at is not None

    other = source(url="http://mirror.example.com/a.html", record_id="<r2>", new_received=13)
    store.upsert_source(other)
    store.upsert_report(ReportRow.from_source(other, n_sources=2))
    got = store.report(WZS, 2023)
    assert got is not None and got.source_id == other.id and got.n_sources == 2
    assert got.report["applications"]["new_received"]["total"] == 13
    assert store.report(WZS, 2022) is None


def test_reports_ordered_and_paged(store: Store) -> None:
    keys = [("b", 2021), ("a", 2023), ("a", 2021), ("c", 2020), ("b", 2019)]
    for i, (organ, year) in enumerate(keys):
        row = source(organ=organ, year=year, record_id=f"<r{i}>")
        store.upsert_source(row)
        store.upsert_report(ReportRow.from_source(row))
    store.page_size = 2  # type: ignore[misc]
    assert [(r.organ_key, r.year) for r in store.reports()] == sorted(keys)


def test_report_tables_of_one_year_and_of_the_neighbouring_years(store: Store) -> None:
    for year, received in ((2021, 11), (2023, 13)):
        row = source(year=year, record_id=f"<r{year}>", new_received=received)
        store.upsert_source(row)
        store.upsert_report(ReportRow.from_source(row))
    other = source(organ="另一个单位", year=2021, record_id="<other>", new_received=99)
    store.upsert_source(other)
    store.upsert_report(ReportRow.from_source(other))

    def received(tables: dict[str, Any] | None) -> tuple[int, int] | None:
        if tables is None:
            return None
        assert "checks" not in tables and "validation" not in tables  # the tables only
        return tables["year"], tables["applications"]["new_received"]["total"]

    assert received(store.report_tables(WZS, 2021)) == (2021, 11)
    assert store.report_tables(WZS, 2022) is None
    before, after = store.neighbour_tables(WZS, 2021, 2023)
    assert (received(before), received(after)) == ((2021, 11), (2023, 13))
    before, after = store.neighbour_tables(WZS, 2022, 2024)
    assert (before, received(after)) == (None, None)
    before, after = store.neighbour_tables(WZS, 2020, 2022)
    assert (before, after) == (None, None)


def test_report_needs_an_existing_source(store: Store) -> None:
    row = ReportRow(organ_key="x", year=2023, source_id=424242, report={})
    # sqlite3 and psycopg raise different classes, with the same words
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        store.upsert_report(row)
    assert count(store, "reports") == 0


# --- quarantine ----------------------------------------------------------------------------

def test_quarantine_upsert_list_resolve(store: Store) -> None:
    first = QuarantineRow.from_item(quarantine_item())
    qid = store.upsert_quarantine(first)
    assert store.upsert_quarantine(QuarantineRow.from_item(
        quarantine_item(code="lookalike", reason="no tables"))) == qid
    store.upsert_quarantine(QuarantineRow.from_item(quarantine_item(
        url="http://www.wzs.gov.cn/zwgk/ndbg/other.doc", record_id="<q2>")))
    [a, b] = store.quarantine()
    assert a.id == qid and a.code == "lookalike" and a.reason == "no tables"
    assert a.warc_file and a.warc_offset == 99 and a.record_id and a.title == "2023年度报告"
    assert a.first_seen is not None and a.last_seen is not None and a.resolved_at is None

    assert store.resolve_quarantine(a.url, a.record_id, a.payload_digest) == 1
    assert store.resolve_quarantine(a.url, a.record_id, a.payload_digest) == 0
    assert [q.id for q in store.quarantine()] == [b.id]
    [ra, _] = store.quarantine(include_resolved=True)
    assert ra.resolved_at is not None

    # failing again re-opens it
    store.upsert_quarantine(QuarantineRow.from_item(quarantine_item()))
    assert len(store.quarantine()) == 2


def test_a_successful_parse_resolves_the_quarantine_entry(store: Store) -> None:
    url, record_id = "http://www.wzs.gov.cn/zwgk/ndbg/2023.html", "<urn:uuid:same>"
    store.upsert_quarantine(QuarantineRow.from_item(quarantine_item(url, record_id=record_id)))
    store.upsert_source(source(url=url, record_id="<urn:uuid:another-capture>"))
    assert len(store.quarantine()) == 1  # another record of the URL does not count
    store.upsert_source(source(url=url, record_id=record_id))
    assert store.quarantine() == []


def test_entries_over_a_parsing_limit_by_record_or_payload(store: Store) -> None:
    url = "http://www.wzs.gov.cn/zwgk/ndbg/slow.pdf"
    item = quarantine_item(url, record_id="<urn:uuid:slow>", code="parse_timeout",
                           reason="parsing took longer than the PARSE_TIME_LIMIT of 60 s")
    item.over_limit = 60.0
    store.upsert_quarantine(QuarantineRow.from_item(item))
    store.upsert_quarantine(QuarantineRow.from_item(quarantine_item(url, record_id="<other>")))
    [entry] = store.over_limit(url, "<urn:uuid:slow>", "sha1:<urn:uuid:slow>")
    assert (entry.code, entry.over_limit, entry.record_id) == ("parse_timeout", 60.0,
                                                               "<urn:uuid:slow>")
    # the record id alone (a resumed crawl's pointer), another capture of the same payload
    assert store.over_limit(url, "<urn:uuid:slow>") == [entry]
    assert store.over_limit(url, "<new>", "sha1:<urn:uuid:slow>") == [entry]
    # the entry without a limit is not one
    assert store.over_limit(url, "<new>", "sha1:OTHER") == []
    assert store.over_limit(url, "<other>") == []
    assert store.over_limit(url + "?x", "<urn:uuid:slow>") == []
    store.resolve_quarantine(url, "<urn:uuid:slow>", "sha1:<urn:uuid:slow>")  # parsed since
    assert store.over_limit(url, "<urn:uuid:slow>") == []


# --- runs ----------------------------------------------------------------------------------

def test_runs_start_finish_resume(store: Store) -> None:
    store.start_run("crawl-a", spider="portals", parser_version="1")
    [run] = store.runs()
    assert run.spider == "portals" and run.started_at and run.finished_at is None
    assert run.starts == 1
    start = datetime(2024, 1, 1, tzinfo=UTC)
    store.finish_run("crawl-a", finish_reason="shutdown",
                     stats={"start_time": start, "item_scraped_count": 3, "elapsed": 1.5})
    run = store.run("crawl-a")
    assert run is not None and run.finish_reason == "shutdown" and run.finished_at
    assert run.stats == {"start_time": "2024-01-01T00:00:00+00:00", "item_scraped_count": 3,
                         "elapsed": 1.5}

    started = run.started_at
    store.start_run("crawl-a", spider="portals", parser_version="2")  # resumed (JOBDIR)
    run = store.run("crawl-a")
    assert run is not None and len(store.runs()) == 1
    assert run.starts == 2 and run.started_at == started and run.parser_version == "2"
    assert run.finished_at is None and run.finish_reason is None
    store.finish_run("crawl-a", finish_reason="finished", stats={"item_scraped_count": 5})
    run = store.run("crawl-a")
    assert run is not None and run.finish_reason == "finished"
    assert run.stats == {"item_scraped_count": 5}

    store.finish_run("crawl-b", finish_reason="finished")  # start never recorded
    assert [r.crawl_id for r in store.runs()] == ["crawl-a", "crawl-b"]
    assert store.run("crawl-b").starts == 0  # type: ignore[union-attr]


# --- transactions and concurrency ----------------------------------------------------------

def test_transaction_rolls_back_on_error(store: Store) -> None:
    # the whole body of the transaction is what raises
    with pytest.raises(RuntimeError, match="boom"), store.transaction():  # noqa: PT012
        row = source()
        store.upsert_source(row)
        store.upsert_report(ReportRow.from_source(row))
        store.upsert_quarantine(QuarantineRow.from_item(quarantine_item()))
        raise RuntimeError("boom")
    assert [count(store, t) for t in ("sources", "reports", "quarantine")] == [0, 0, 0]
    assert not store.in_transaction
    store.upsert_source(source())  # the connection is usable afterwards
    assert count(store, "sources") == 1


def test_nested_transaction_is_a_savepoint(store: Store) -> None:
    with store.transaction():
        store.upsert_source(source())
        # the whole body of the savepoint is what raises
        with pytest.raises(ValueError, match="inner"), store.transaction():  # noqa: PT012
            store.upsert_source(source(record_id="<inner>"))
            raise ValueError("inner")
        store.upsert_source(source(record_id="<after>"))
    assert sorted(s.record_id or "" for s in store.sources()) == [
        "<after>", "<urn:uuid:00000000-0000-4000-8000-000000000001>"]


def test_one_statement_methods_join_an_open_transaction_without_a_savepoint(
        tmp_path: Path) -> None:
    """A method that writes one statement needs no savepoint of its own inside a transaction
    (two more statements per call); one that writes several still takes one. (SQLite: its
    trace callback lists the statements.)"""
    store = open_store(str(tmp_path / "trace.sqlite3"))
    statements: list[str] = []
    row = source()
    with store.transaction():
        store._conn.set_trace_callback(statements.append)  # type: ignore[attr-defined]
        store.upsert_source(row)
        store.upsert_report(ReportRow.from_source(row))
        store.set_source_role(row.id or 0, "chosen")
        store._conn.set_trace_callback(None)  # type: ignore[attr-defined]
    savepoints = [s for s in statements if s.startswith("SAVEPOINT")]
    assert len(savepoints) == 1  # upsert_source's: it writes several statements
    assert store.report(WZS, 2023) is not None and store.source(row.id or 0).role == "chosen"
    store.close()


def test_lock_report_needs_a_transaction(store: Store) -> None:
    with pytest.raises(StoreError, match="transaction"):
        store.lock_report("x", 2023)


def test_lock_report_serialises_concurrent_deciders(make_store: Callable[..., Store]) -> None:
    """Two workers read the copies of (organ, year), think, then write the report: with the
    lock the second sees the first's copy, so n_sources ends at 2 and one copy is chosen."""
    workers = [make_store(), make_store()]
    barrier = threading.Barrier(2)
    organ = WZS

    def decide(store: Store, record_id: str) -> float:
        barrier.wait()
        with store.transaction():
            store.lock_report(organ, 2023)
            locked_at = time.monotonic()
            seen = store.sources(organ, 2023)
            time.sleep(0.3)  # deciding
            row = source(record_id=record_id, role="chosen")
            store.upsert_source(row)
            for other in seen:
                store.set_source_role(other.id, "copy")  # type: ignore[arg-type]
            store.upsert_report(ReportRow.from_source(row, n_sources=len(seen) + 1))
        return locked_at

    t1, t2 = run_threads(lambda: decide(workers[0], "<w1>"), lambda: decide(workers[1], "<w2>"))
    assert abs(t1 - t2) >= 0.25  # the second got the lock after the first committed
    report = workers[0].report(organ, 2023)
    assert report is not None and report.n_sources == 2
    roles = sorted(s.role for s in workers[0].sources(organ, 2023))
    assert roles == ["chosen", "copy"]


def test_concurrent_upserts_do_not_duplicate(make_store: Callable[..., Store]) -> None:
    workers = [make_store() for _ in range(3)]
    barrier = threading.Barrier(len(workers))

    def work(store: Store) -> None:
        barrier.wait()
        for i in range(15):
            store.upsert_source(source(record_id=f"<r{i}>"))
            store.upsert_quarantine(QuarantineRow.from_item(quarantine_item(record_id=f"<q{i}>")))

    run_threads(*[lambda s=s: work(s) for s in workers])
    assert count(workers[0], "sources") == 15 and count(workers[0], "quarantine") == 15


# --- what the validate and dedup pipelines put on the item ----------------------------------

def test_item_fields_from_the_pipelines(store: Store) -> None:
    """The store writes what the pipelines computed: the item's organ key, signature and
    findings, and what dedup says of the copy."""
    item = report_item(organ_key="custom-key", validation=[{"check": "identity", "status": "fail"}],
                       fingerprint=[1, 2, 3], dedup={"role": "copy"})
    row = SourceRow.from_item(item, official=True, completeness=7, bands=["v0:ab"])
    assert (row.organ_key, row.validation, row.fingerprint) == (
        "custom-key", [{"check": "identity", "status": "fail"}], [1, 2, 3])
    assert (row.official, row.completeness, row.bands) == (True, 7, ["v0:ab"])
    assert not {"warc", "fingerprint", "dedup", "validation"} & set(row.report)
    store.upsert_source(row)
    [got] = store.sources("custom-key")
    assert got.validation == row.validation and got.fingerprint == [1, 2, 3]
    assert got.official is True and got.completeness == 7
    assert SourceRow.from_item(item, organ_key="k2").organ_key == "k2"


def test_copies_are_looked_up_by_their_bands(store: Store) -> None:
    def stored(bands: list[str], **kwargs: Any) -> int:
        return store.upsert_source(SourceRow.from_item(
            report_item(fingerprint=[len(bands)], **kwargs), bands=bands))

    a = stored(["v0:aa", "v1:bb"])
    b = stored(["v1:bb", "v2:cc"], url="http://mirror.example.com/x.html", record_id="<m>",
               organ="五指山市政府办")
    stored(["v0:aa"], record_id="<o>", year=2022)
    stored([], record_id="<none>")  # no bands: never a candidate
    found = store.similar_fingerprints(["v0:aa", "v2:cc"], year=2023)
    assert found == [(a, WZS, [2]), (b, "五指山市政府办公室", [2])]
    assert store.similar_fingerprints(["v0:aa", "v2:cc"], year=2023, after_id=a) == found[1:]
    assert len(store.similar_fingerprints(["v0:aa"])) == 2  # of every year
    assert store.similar_fingerprints(["t0:00"]) == []
    # a re-parse with other bands moves the copy
    stored(["v9:zz"])
    assert [i for i, _, _ in store.similar_fingerprints(["v0:aa", "v1:bb"], year=2023)] == [b]


CROSS = {"check": "cross_year", "rule": "5", "status": "fail", "severity": "warning",
         "message": "carried_over 2023 [total] = 3, carried_forward 2022 = 4",
         "values": {"carried_over": 3, "carried_forward_previous": 4, "column": "total"}}


def test_a_report_is_its_source_with_its_own_cross_year_findings(store: Store) -> None:
    """The report row keeps only identity 5 (which depends on the neighbouring years); the
    report and the other findings are read from the chosen source."""
    row = source()
    row.validation = [{"check": "domain", "rule": "non_negative_integers", "status": "pass"},
                      {"check": "cross_year", "rule": "5", "status": "uncertain"}]
    store.upsert_source(row)
    report = ReportRow.from_source(row)
    report.validation = [row.validation[0], CROSS]
    store.upsert_report(report)
    got = store.report(WZS, 2023)
    assert got is not None and got.validation == [row.validation[0], CROSS]
    assert got.report == row.report
    stored = store._exec("SELECT * FROM reports").fetchall()[0]
    assert "report" not in stored and "validation" not in stored
    assert store._json_out(stored["cross_year"]) == [CROSS]


def test_json_safe_and_dumps_give_plain_json() -> None:
    from decimal import Decimal

    from gkcrawl.store.rows import dumps, json_safe

    value = {"nan": float("nan"), "inf": float("inf"), 3: Decimal("1.5"), "set": {"组织"},
             "when": datetime(2024, 2, 1, 8, tzinfo=UTC), "big": 2**70}
    assert json_safe(value) == {"nan": None, "inf": None, "3": 1.5, "set": ["组织"],
                                "when": "2024-02-01T08:00:00+00:00", "big": 2**70}
    assert dumps({"组织": 12.5, "when": datetime(2024, 2, 1, 8, tzinfo=UTC)}) == (
        '{"组织":12.5,"when":"2024-02-01T08:00:00+00:00"}')
    with pytest.raises(ValueError, match="Out of range float"):
        dumps({"big": 2**70, "nan": float("nan")})  # what the store writes has no NaN left
