"""The panel's variables: one per quantity the templates count, harmonised across versions and
named so that every statistics tool takes the name as it is.

Derived from ``gkcrawl.template.spec``, never listed cell by cell:

- a cell whose keys (table, row, column) two template versions share means the same in both
  (the keys are the contract of docs/report-schema.md; printed labels vary) and fills one
  variable;
- :data:`EQUIVALENT_COLUMNS`: a column an older version names otherwise, on the rows both
  versions print it (2019's 本年新制作数量 ``new_made`` of 规章 and 规范性文件 counts what 2021's
  本年制发件数 ``issued`` counts);
- a row of one version whose label is the group of several rows of another (2019 prints one
  (六)其他处理 row, 2021 three rows under (六)其他处理): the variable holds the one row in the
  first version and the sum of the rows in the other (their own variables keep the rows);
- every other cell is its version's own and has a variable of its own.

A variable is named ``t<table>_<row>_<column>`` (``t2_new_np``): the table's number in the
report (1 主动公开, 2 申请, 3 复议诉讼) and the row and column keys shortened by
:data:`ABBREVIATIONS` (a key not listed is used as it is), so that names are short, ASCII,
unique and stable: a name changes only when that table or the template's keys do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from gkcrawl.template.spec import AMOUNT, TABLE_KEYS, TEMPLATES, CellRef, Row, Template

#: Short forms of row and column keys in variable names (keys not listed are used as they are).
ABBREVIATIONS: dict[str, str] = {
    # table 1 rows and columns
    "regulations": "reg", "normative_documents": "norm", "admin_licensing": "lic",
    "other_external_services": "othsvc", "admin_penalty": "pen", "admin_coercion": "coer",
    "admin_fees": "fees", "centralized_procurement": "procure",
    "decisions": "dec", "amount_10k_yuan": "amt10k", "new_published": "new_pub",
    "total_published": "tot_pub", "prev_year_items": "prev_items",
    # table 2 rows
    "new_received": "new", "carried_over": "prev", "disclosed": "discl",
    "partially_disclosed": "partial", "withheld_state_secret": "wh_secret",
    "withheld_prohibited_by_law": "wh_law", "withheld_three_safeties": "wh_safety",
    "withheld_third_party": "wh_3rdparty", "withheld_internal_affairs": "wh_internal",
    "withheld_process_info": "wh_process", "withheld_enforcement_files": "wh_enforce",
    "withheld_admin_query": "wh_query", "unavailable_not_held": "na_notheld",
    "unavailable_needs_creation": "na_create", "unavailable_unclear": "na_unclear",
    "not_processed_complaint": "rej_complaint", "not_processed_duplicate": "rej_duplicate",
    "not_processed_publication": "rej_pub", "not_processed_excessive": "rej_excessive",
    "not_processed_confirmation": "rej_confirm", "other_overdue_correction": "oth_correct",
    "other_overdue_fee": "oth_fee", "other_other": "oth_misc", "other_handling": "oth",
    "total_processed": "handled", "carried_forward": "next",
    # table 2 columns (applicants)
    "natural_person": "np", "commercial_enterprise": "firm", "research_institution": "research",
    "social_welfare_org": "ngo", "legal_service_org": "legal", "other_org": "other",
    "total": "tot",
    # table 3 rows
    "admin_review": "review", "litigation_direct": "suit_direct",
    "litigation_after_review": "suit_after",
}

#: (table, an older version's column key) -> the newer version's key of the same quantity,
#: where the keys differ: 2019's 本年新制作数量 and 2021's 本年制发件数 both count the documents the
#: organ issued that year. (对外公开总数量 and 现行有效件数 differ: all published vs in force.)
EQUIVALENT_COLUMNS: dict[tuple[str, str], str] = {("active_disclosure", "new_made"): "issued"}

#: How a version's cells fill a variable (the crosswalk's ``relation``).
SAME_KEY, EQUIVALENT, SUM, OWN = "same key", "equivalent", "sum", "own"
#: What a name must be: ASCII letters, digits and ``_``, not starting with a digit, at most
#: 32 characters (Stata's limit, the tightest of Stata, SPSS, SAS, R and pandas).
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")
#: Stata's limit on a variable label.
SHORT_LABEL_CHARS = 80
#: joins a row's group label and its own label (table 3 labels already use it)
LABEL_SEPARATOR = "·"
#: the unit of each cell kind, for the codebook
UNITS = {AMOUNT: "万元 (10,000 yuan)"}
COUNT_UNIT = "count"


@dataclass(frozen=True)
class Source:
    """What one template version puts in a variable: one cell, or the sum of several."""

    version: str
    cells: tuple[CellRef, ...]
    #: the version's own Chinese label of the cell(s): row · column
    label: str
    relation: str

    @property
    def keys(self) -> str:
        """``table.row.column`` of each cell, joined with `` + ``."""
        return " + ".join(".".join(ref) for ref in self.cells)


@dataclass(frozen=True)
class Variable:
    name: str
    kind: str
    #: the cell it is named after (the newest version's keys)
    table: str
    row: str
    column: str
    #: table title / row label / column label, of the newest version having it
    label: str
    #: the same in at most :data:`SHORT_LABEL_CHARS` characters (Stata variable labels)
    short_label: str
    #: one per template version having it, the newest first
    sources: tuple[Source, ...]

    @property
    def versions(self) -> tuple[str, ...]:
        return tuple(s.version for s in self.sources)

    @property
    def unit(self) -> str:
        return UNITS.get(self.kind, COUNT_UNIT)

    def source(self, version: str | None) -> Source | None:
        return next((s for s in self.sources if s.version == version), None)


# --- from the template ------------------------------------------------------------------------

def versions() -> list[Template]:
    """The template versions, the newest first."""
    return [TEMPLATES[v] for v in sorted(TEMPLATES, reverse=True)]


def row_label(row: Row) -> str:
    """The row's label with its group (``(三)不予公开·1.属于国家秘密``): "3.其他" alone is
    ambiguous."""
    return LABEL_SEPARATOR.join(part for part in (row.group, row.label) if part)


def table_number(table: str) -> int:
    """The table's number in the report: 1 主动公开, 2 申请, 3 复议诉讼 (report-schema.md)."""
    return TABLE_KEYS.index(table) + 1


def variable_name(table: str, row: str, column: str) -> str:
    short = ABBREVIATIONS.get
    return f"t{table_number(table)}_{short(row, row)}_{short(column, column)}"


def _merge_order(merged: list[Any], keys: Sequence[Any]) -> None:
    """Add ``keys`` to ``merged`` keeping both orders: a new key goes before the next of its
    followers already present (2019's 其他对外管理服务事项 lands before 行政处罚)."""
    present = set(merged)
    for i, key in enumerate(keys):
        if key in present:
            continue
        after = next((k for k in keys[i + 1:] if k in present), None)
        merged.insert(merged.index(after) if after is not None else len(merged), key)
        present.add(key)


def _canonical(ref: CellRef, templates: Iterable[Template]) -> CellRef:
    """The cell a version's cell is harmonised into: itself, or the equivalent column of a
    version that prints that row."""
    table, row, column = ref
    other = EQUIVALENT_COLUMNS.get((table, column))
    if other is not None and any((table, row, other) in t.cell_index for t in templates):
        return table, row, other
    return ref


def _label(template: Template, refs: Sequence[CellRef]) -> str:
    parts = []
    for table_key, row_key, column_key in refs:
        table = template.table(table_key)
        parts.append(f"{row_label(table.row(row_key))}{LABEL_SEPARATOR}"
                     f"{table.column(column_key).label}")
    return " + ".join(parts)


def _sums(template: Template, others: Sequence[Template]) -> dict[CellRef, tuple[CellRef, ...]]:
    """The cells of ``template`` that add up to another version's row it splits: the other's
    row label is the group of several of ``template``'s rows (its keys -> the cells summed)."""
    out: dict[CellRef, tuple[CellRef, ...]] = {}
    for table in template.tables:
        own = {r.key for r in table.rows}
        for other in others:
            for row in other.table(table.key).rows:
                parts = [r for r in table.rows if r.group == row.label]
                if row.key in own or not parts:
                    continue
                for column in other.table(table.key).row_columns(row):
                    cells = tuple((table.key, r.key, column) for r in parts
                                  if column in table.row_columns(r))
                    if cells:
                        out[(table.key, row.key, column)] = cells
    return out


@cache
def variables() -> tuple[Variable, ...]:
    """Every variable of the panel, in the order the templates print their cells (the newest
    version's order, older versions' own cells where they print them)."""
    templates = versions()
    order: list[CellRef] = []
    found: dict[CellRef, list[Source]] = {}
    for template in templates:
        others = [t for t in templates if t is not template]
        canonical = [_canonical(ref, templates) for ref in template.all_cells]
        _merge_order(order, canonical)
        for ref, key in zip(template.all_cells, canonical, strict=True):
            relation = SAME_KEY if key == ref else EQUIVALENT
            found.setdefault(key, []).append(
                Source(template.version, (ref,), _label(template, [ref]), relation))
        for key, cells in _sums(template, others).items():
            found.setdefault(key, []).append(
                Source(template.version, cells, _label(template, cells), SUM))
    return tuple(_variable(key, found[key], templates) for key in order)


def _variable(key: CellRef, sources: list[Source], templates: Sequence[Template]) -> Variable:
    by_version = {t.version: t for t in templates}
    kinds = {by_version[s.version].kind(ref) for s in sources for ref in s.cells}
    if len(kinds) != 1:
        raise ValueError(f"{'.'.join(key)} is harmonised across cells of kinds {sorted(kinds)}")
    if len(sources) == 1:
        sources = [Source(s.version, s.cells, s.label, OWN) for s in sources]
    newest = next(by_version[s.version] for s in sources if s.relation != SUM)
    table, row, column = key
    spec = newest.table(table)
    cell = f"{row_label(spec.row(row))} {spec.column(column).label}"
    short = f"表{table_number(table)} {cell}"
    if len(short) > SHORT_LABEL_CHARS:
        short = short[:SHORT_LABEL_CHARS - 1] + "…"
    return Variable(variable_name(*key), kinds.pop(), table, row, column,
                    f"{spec.title} / {row_label(spec.row(row))} / {spec.column(column).label}",
                    short, tuple(sources))


# --- values -----------------------------------------------------------------------------------

def cell_value(value: Any, kind: str) -> int | Decimal | None:
    """A cell as exported: counts as ``int``, amounts as exact ``Decimal`` (a stored float such as
    1234.5678 becomes Decimal('1234.5678'), not its binary expansion). A count that is not whole
    (the domain check flags those) stays a Decimal rather than being rounded."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    if kind != AMOUNT and number == number.to_integral_value():
        return int(number)
    return number


def report_cell(report: Mapping[str, Any], table: str, row: str, column: str) -> Any:
    return ((report.get(table) or {}).get(row) or {}).get(column)


@cache
def _plan(version: str | None) -> tuple[tuple[str, str, tuple[CellRef, ...]], ...]:
    """(name, kind, cells) of every variable for a report of ``version``; no cells where the
    version lacks the variable."""
    out = []
    for variable in variables():
        source = variable.source(version)
        out.append((variable.name, variable.kind, source.cells if source else ()))
    return tuple(out)


def panel_cells(report: Mapping[str, Any], version: str | None) -> dict[str, Any]:
    """Every variable's value for a report of template ``version`` (None where the version has
    no such cell; a sum is None when one of its cells is)."""
    out: dict[str, Any] = {}
    for name, kind, cells in _plan(version):
        if len(cells) == 1:
            out[name] = cell_value(report_cell(report, *cells[0]), kind)
            continue
        values = [cell_value(report_cell(report, *ref), kind) for ref in cells]
        out[name] = None if not values or None in values else cell_value(sum(values), kind)
    return out


# --- the crosswalk ----------------------------------------------------------------------------

CROSSWALK_COLUMNS = ("name", "version", "cells", "label", "relation")


def crosswalk() -> list[dict[str, str]]:
    """One row per variable and template version having it: which cells fill it, under which
    label, and how (same key, equivalent, sum, own)."""
    return [{"name": v.name, "version": s.version, "cells": s.keys, "label": s.label,
             "relation": s.relation} for v in variables() for s in v.sources]


def _listed(keys: Sequence[str], every: Sequence[str]) -> str:
    """``*`` for every key, ``a`` for one, ``{a,b}`` for several."""
    if list(keys) == list(every):
        return "*"
    return keys[0] if len(keys) == 1 else "{" + ",".join(keys) + "}"


def crosswalk_markdown() -> str:
    """The crosswalk as docs/exports.md prints it: one line for the variables of a row that every
    version fills alike (``t2_new_*``: every column; ``t1_reg_{repealed,in_force}``)."""
    header = ["variables", *(f"template {t.version}" for t in versions())]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    groups: list[tuple[tuple[Any, ...], list[Variable]]] = []
    for variable in variables():
        key = (variable.table, variable.row,
               tuple((s.version, tuple(r for _, r, _ in s.cells), s.relation)
                     for s in variable.sources))
        if groups and groups[-1][0] == key:
            groups[-1][1].append(variable)
        else:
            groups.append((key, [variable]))
    for _, group in groups:
        first = group[0]
        columns = TEMPLATES[first.versions[0]].table(first.table).column_keys
        prefix = variable_name(first.table, first.row, "")
        cells = []
        for template in versions():
            source = first.source(template.version)
            if source is None:
                cells.append("—")
                continue
            rows = " + ".join(r for _, r, _ in source.cells)
            rows = f"({rows})" if len(source.cells) > 1 else rows
            keys = [ref[2] for v in group for s in (v.source(template.version),) if s
                    for ref in s.cells[:1]]
            cells.append(f"{source.relation}: `{rows}.{_listed(keys, columns)}`")
        names = _listed([v.name[len(prefix):] for v in group],
                        [ABBREVIATIONS.get(c, c) for c in columns])
        lines.append(f"| `{prefix}{names}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)
