"""Random reports whose numbers satisfy every identity, for property tests, the demo portal and
benchmarks. A report here is the parser's output shape (canonical keys), without checks/flags."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from gkcrawl.template.spec import AMOUNT, SIGNED, TABLE_KEYS, TEMPLATES, Template

Report = dict[str, Any]

#: Most cells of a real report are 0; the rest are small.
ZERO_SHARE = 0.6
MAX_COUNT = 60
MAX_AMOUNT_10K = 5000
ORGANS = ("五指山市人民政府办公室", "工布江达县人民政府办公室", "白济汛乡人民政府",
          "西藏自治区人民政府办公厅", "海口市人力资源和社会保障局", "维西傈僳族自治县教育体育局")


def _count(rng: random.Random, high: int = MAX_COUNT) -> int:
    return 0 if rng.random() < ZERO_SHARE else rng.randint(1, high)


def random_report(rng: random.Random, version: str = "2021", year: int | None = None,
                  organ: str | None = None) -> Report:
    template = TEMPLATES[version]
    year = year or (rng.randint(2021, 2025) if version == "2021" else rng.randint(2019, 2020))
    organ = organ or rng.choice(ORGANS)
    report: Report = {
        "format": version, "year": year, "organ": organ,
        "published": f"{year + 1}-01-{rng.randint(10, 31):02d}",
        "title": f"{organ}{year}年政府信息公开工作年度报告",
    }
    report["active_disclosure"] = _active(rng, template)
    report["applications"] = _applications(rng, template)
    report["review_litigation"] = _review(rng, template)
    return report


def _active(rng: random.Random, template: Template) -> dict[str, dict[str, Any]]:
    table = template.table("active_disclosure")
    out: dict[str, dict[str, Any]] = {}
    for row in table.rows:
        cells: dict[str, Any] = {}
        for col in table.row_columns(row):
            kind = table.column(col).kind
            if kind == AMOUNT:
                cents = 0 if rng.random() < ZERO_SHARE else rng.randint(1, MAX_AMOUNT_10K * 10000)
                cells[col] = float(Decimal(cents) / 10000)
            elif kind == SIGNED:
                cells[col] = rng.randint(-30, 30)
            else:
                cells[col] = _count(rng, 2000)
        out[row.key] = cells
    return out


def _applications(rng: random.Random, template: Template) -> dict[str, dict[str, int]]:
    table = template.table("applications")
    parts = [c.key for c in table.columns if c.key != "total"]
    rows: dict[str, dict[str, int]] = {r.key: {} for r in table.rows}
    for col in parts:
        total = 0
        for row in table.rows:
            if row.leaf:
                rows[row.key][col] = _count(rng, 20 if col == "natural_person" else 3)
                total += rows[row.key][col]
        forward = _count(rng, 5)
        over = rng.randint(0, total + forward) if rng.random() > ZERO_SHARE else 0
        rows["total_processed"][col] = total
        rows["carried_forward"][col] = forward
        rows["carried_over"][col] = over
        rows["new_received"][col] = total + forward - over
    for cells in rows.values():
        cells["total"] = sum(cells[c] for c in parts)
    return {key: {c.key: rows[key][c.key] for c in table.columns} for key in rows}


def _review(rng: random.Random, template: Template) -> dict[str, dict[str, int]]:
    table = template.table("review_litigation")
    out: dict[str, dict[str, int]] = {}
    for row in table.rows:
        cells = {c: _count(rng, 5) for c in ("upheld", "corrected", "other", "pending")}
        cells["total"] = sum(cells.values())
        out[row.key] = cells
    return out


def printable(values: Report) -> Report:
    """A report known by its values alone (a gold file of the real corpus), with the title and
    publication date the renderers print."""
    title = f"{values['organ']}{values['year']}年政府信息公开工作年度报告"
    return {"published": None, "title": title, **values}


def lose_zeros(report: Report, rng: random.Random, share: float) -> Report:
    """A copy of ``report`` whose zero cells are each printed empty with probability ``share``;
    the text shapes where an empty cell leaves no trace then drop them (seeds 002 and 003)."""
    copy: Report = {**report}
    for key in TABLE_KEYS:
        copy[key] = {row: {col: None if val == 0 and rng.random() < share else val
                           for col, val in cells.items()}
                     for row, cells in report[key].items()}
    return copy


def compare(truth: Report, parsed: Report) -> tuple[int, int, int]:
    """How many cells of ``parsed`` are right, null and wrong against ``truth``."""
    right = null = wrong = 0
    for key in TABLE_KEYS:
        for row, cells in truth[key].items():
            got = (parsed.get(key) or {}).get(row) or {}
            for col, want in cells.items():
                value = got.get(col)
                if value is None:
                    null += 1
                elif value == want:
                    right += 1
                else:
                    wrong += 1
    return right, null, wrong


def tables_of(report: Report) -> dict[str, Any]:
    """The three tables of a report (what a parse must give back)."""
    return {k: report[k] for k in TABLE_KEYS}


def review_line(report: Report) -> list[Any]:
    """Table 3 as printed: one line of 15 numbers."""
    rows = ("admin_review", "litigation_direct", "litigation_after_review")
    cols = ("upheld", "corrected", "other", "pending", "total")
    return [report["review_litigation"][r][c] for r in rows for c in cols]


def fmt(value: Any) -> str:
    """A number as a report prints it, every digit of it (None: a blank cell)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value)
