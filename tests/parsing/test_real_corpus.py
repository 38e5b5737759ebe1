"""The real reports of the shared corpus (``../shared/corpus/real``, see its README) parsed and
compared with their true values (``gold/*.json``, read by hand from each document): every cell,
the report year and template, the cells printed blank, the identities the print breaks. The
organ is another test's concern (tests/parsing/test_seeds.py and the metadata tests).

The text dumps in ``glued-text/`` run every table cell into the next: the parser must say it
cannot read those tables, never make up numbers. A missing corpus folder fails these tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gkcrawl.parsing import parse_document
from gkcrawl.template.spec import TABLE_KEYS
from tests.shared import CORPUS, shared

#: The documents with a gold entry (the corpus README lists them).
REPORTS = ("hongze-2023.pdf", "hongze-2024.pdf", "pingtan-2019.html", "pingtan-2020.html",
           "pingtan-2021.html", "stcsm-2024.md")
GLUED = tuple(f"pingtan-{year}.txt" for year in range(2019, 2026))


def gold(name: str) -> dict[str, Any]:
    path = shared(CORPUS / "gold" / f"{Path(name).stem}.json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def parse(path: Path) -> dict[str, Any]:
    result = parse_document(path.read_bytes(), None, path.name)
    assert result.ok, result
    return result.to_dict()


def test_every_gold_entry_is_tested() -> None:
    entries = {p.stem for p in shared(CORPUS / "gold").glob("*.json")}
    assert entries == {Path(name).stem for name in REPORTS}


@pytest.mark.parametrize("name", REPORTS)
def test_every_cell_as_printed(name: str) -> None:
    truth = gold(name)
    report = parse(shared(CORPUS / name))
    assert (report["format"], report["year"]) == (truth["format"], truth["year"])
    for table in TABLE_KEYS:
        wrong = {f"{row}.{col}": (report[table][row][col], want)
                 for row, cells in truth[table].items() for col, want in cells.items()
                 if report[table][row][col] != want}
        assert wrong == {}, table
    rules = {i["cell"]: i["rule"] for i in report["inferred"]}
    assert sorted(c for c, rule in rules.items() if rule == "blank") == sorted(
        truth["blank_cells"])
    for cell in truth.get("recovered_cells", []):  # a value printed out of its cell
        assert rules[cell] != "blank"
    failing = [c["name"] for c in report["checks"] if c["status"] == "fail"]
    assert len(failing) == truth["identity_violations"]
    assert not [c for c in report["checks"] if c["status"] == "uncertain"]


def test_shredded_table_rows_are_read_by_template_order() -> None:
    """stcsm-2024.md: table 2 rows printed without labels between labelled ones, table 1 rows
    as loose text, 结转下年度's 总计 printed empty with its value loose nearby."""
    report = parse(shared(CORPUS / "stcsm-2024.md"))
    flags = report["flags"]
    assert ("applications: 3 rows printed without labels read as unavailable_not_held, "
            "unavailable_needs_creation, unavailable_unclear (template order before "
            "not_processed_complaint)") in flags
    assert report["active_disclosure"]["admin_licensing"] == {"decisions": 97}
    forward = {i["cell"]: i for i in report["inferred"]}["applications.carried_forward.total"]
    assert forward["value"] == 1 and forward["rule"] in ("1", "3")  # both identities give 1
    assert forward["why"].startswith("printed blank; identity")


@pytest.mark.parametrize("name", GLUED)
def test_glued_tables_are_not_read(name: str) -> None:
    path = shared(CORPUS / "glued-text" / name)
    result = parse_document(path.read_bytes(), "text/plain", path.name)
    assert not result.ok
    assert result.code == "unreadable_tables"
    assert "cannot be told apart" in result.reason
