"""The national report template, as data.

One :class:`Template` per version (国办公开办函〔2019〕60号 and 〔2021〕30号). Each table lists its
rows, each row its columns, and each *printed row* says which cells a line of the printed table
carries and how its label is recognised. The identities (勾稽关系) are derived from the same data,
so parser, inference, validation and exports all read one source. Keys are the contract of
``docs/report-schema.md``; labels are the official ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

#: Cell kinds: a non-negative count, a signed change (2019 本年增/减), an amount in 万元.
COUNT, SIGNED, AMOUNT = "count", "signed", "amount"

CellRef = tuple[str, str, str]  # (table key, row key, column key)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = COUNT


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    #: regular expressions searched in the normalised label (see parsing.normalize.label)
    match: tuple[str, ...]
    #: column keys of this row (table 1 rows differ; tables 2 and 3 share the table's columns)
    columns: tuple[str, ...] = ()
    #: group label printed in a spanning cell to the left (三、本年度办理结果 / (三)不予公开 …)
    group: str = ""
    #: a leaf of 三、本年度办理结果: summed by identity 2
    leaf: bool = False

    @cached_property
    def patterns(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p) for p in self.match)


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    #: regular expressions that, found in a label, say "we are in this table now"
    context: tuple[str, ...]
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    #: True when all rows are printed as one line of values (table 3: 15 numbers)
    single_line: bool = False

    def row(self, key: str) -> Row:
        return next(r for r in self.rows if r.key == key)

    @cached_property
    def context_patterns(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p) for p in self.context)

    def row_columns(self, row: Row) -> tuple[str, ...]:
        return row.columns or self.column_keys

    @cached_property
    def column_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)

    def row_refs(self, row: Row) -> tuple[CellRef, ...]:
        """The cells of one row, in column order."""
        refs = self._row_refs.get(row.key)
        if refs is None:
            refs = tuple((self.key, row.key, c) for c in self.row_columns(row))
            self._row_refs[row.key] = refs
        return refs

    @cached_property
    def _row_refs(self) -> dict[str, tuple[CellRef, ...]]:
        return {}

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def cells(self) -> list[CellRef]:
        return [(self.key, r.key, c) for r in self.rows for c in self.row_columns(r)]


@dataclass(frozen=True)
class Identity:
    """``sum(lhs) == sum(rhs)``, one instance of a rule of report-schema.md §Identities."""

    rule: str  # "1".."4"
    name: str
    lhs: tuple[CellRef, ...]
    rhs: tuple[CellRef, ...]

    @cached_property
    def refs(self) -> tuple[CellRef, ...]:
        """lhs then rhs."""
        return self.lhs + self.rhs

    @cached_property
    def ref_names(self) -> tuple[str, ...]:
        """``table.row.column`` of each of :attr:`refs`."""
        return tuple(".".join(r) for r in self.refs)


@dataclass(frozen=True)
class Template:
    version: str
    notice: str
    #: regular expressions on normalised labels that betray this version
    signatures: tuple[str, ...]
    tables: tuple[Table, ...]
    identities: tuple[Identity, ...] = field(default=())

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def kind(self, ref: CellRef) -> str:
        return self._kinds[ref[0], ref[2]]

    @cached_property
    def signature_patterns(self) -> tuple[re.Pattern[str], ...]:
        """Signatures compiled for one search over newline-joined labels (labels hold no \\n)."""
        return tuple(re.compile(p, re.MULTILINE) for p in self.signatures)

    @cached_property
    def label_cache(self) -> dict[tuple[str | None, ...], tuple[Row | None, Table | None]]:
        """Memo of row lookups (mapper._match); labels repeat across every report."""
        return {}

    @cached_property
    def context_cache(self) -> dict[str, Table | None]:
        """Memo of normalised label -> the table it says we are in (mapper._context_of)."""
        return {}

    @cached_property
    def _kinds(self) -> dict[tuple[str, str], str]:
        return {(t.key, c.key): c.kind for t in self.tables for c in t.columns}

    @cached_property
    def amount_cells(self) -> frozenset[CellRef]:
        """The cells of kind AMOUNT: the parser asks for every cell of every report, and a set
        lookup is much cheaper than :meth:`kind`."""
        return frozenset(ref for ref in self.all_cells if self.kind(ref) == AMOUNT)

    def cells(self) -> list[CellRef]:
        return list(self.all_cells)

    @cached_property
    def all_cells(self) -> tuple[CellRef, ...]:
        return tuple(ref for t in self.tables for ref in t.cells())

    @cached_property
    def totals(self) -> dict[CellRef, tuple[tuple[CellRef, ...], ...]]:
        """Each 总计 cell (the one cell on the left of identities 2-4) and the parts it sums:
        a 总计 printed blank is the sum of its parts, not 0."""
        out: dict[CellRef, list[tuple[CellRef, ...]]] = {}
        for ident in self.identities:
            if len(ident.lhs) == 1:
                out.setdefault(ident.lhs[0], []).append(ident.rhs)
        return {ref: tuple(parts) for ref, parts in out.items()}

    @cached_property
    def identities_of(self) -> dict[CellRef, tuple[int, ...]]:
        """The indexes (in :attr:`identities`) of the identities each cell takes part in."""
        out: dict[CellRef, list[int]] = {}
        for index, ident in enumerate(self.identities):
            for ref in ident.refs:
                out.setdefault(ref, []).append(index)
        return {ref: tuple(found) for ref, found in out.items()}

    @cached_property
    def cell_index(self) -> dict[CellRef, int]:
        """Position of each cell in :attr:`all_cells` (to list a few cells in template order)."""
        return {ref: i for i, ref in enumerate(self.all_cells)}


# --- table 1: 主动公开政府信息情况 ------------------------------------------------------------

_T1_CONTEXT = (r"主动公开政府信息情况", r"^第二十条第\(一\)项", r"^信息内容$")

ACTIVE_2021 = Table(
    key="active_disclosure",
    title="二、主动公开政府信息情况",
    context=_T1_CONTEXT,
    columns=(
        Column("issued", "本年制发件数"),
        Column("repealed", "本年废止件数"),
        Column("in_force", "现行有效件数"),
        Column("decisions", "本年处理决定数量"),
        Column("amount_10k_yuan", "本年收费金额(单位:万元)", AMOUNT),
    ),
    rows=(
        Row("regulations", "规章", (r"^规章$",), ("issued", "repealed", "in_force")),
        Row("normative_documents", "行政规范性文件", (r"^(行政)?规范性文件$",),
            ("issued", "repealed", "in_force")),
        Row("admin_licensing", "行政许可", (r"^行政许可$",), ("decisions",)),
        Row("admin_penalty", "行政处罚", (r"^行政处罚$",), ("decisions",)),
        Row("admin_coercion", "行政强制", (r"^行政强制$",), ("decisions",)),
        Row("admin_fees", "行政事业性收费", (r"^行政事业性收费$",), ("amount_10k_yuan",)),
    ),
)

_ITEMS_2019 = ("prev_year_items", "change", "decisions")

ACTIVE_2019 = Table(
    key="active_disclosure",
    title="二、主动公开政府信息情况",
    context=_T1_CONTEXT,
    columns=(
        Column("new_made", "本年新制作数量"),
        Column("new_published", "本年新公开数量"),
        Column("total_published", "对外公开总数量"),
        Column("prev_year_items", "上一年项目数量"),
        Column("change", "本年增/减", SIGNED),
        Column("decisions", "处理决定数量"),
        Column("projects", "采购项目数量"),
        Column("amount_10k_yuan", "采购总金额", AMOUNT),
    ),
    rows=(
        Row("regulations", "规章", (r"^规章$",), ("new_made", "new_published", "total_published")),
        Row("normative_documents", "规范性文件", (r"^(行政)?规范性文件$",),
            ("new_made", "new_published", "total_published")),
        Row("admin_licensing", "行政许可", (r"^行政许可$",), _ITEMS_2019),
        Row("other_external_services", "其他对外管理服务事项", (r"^其他对外管理服务事项$",),
            _ITEMS_2019),
        Row("admin_penalty", "行政处罚", (r"^行政处罚$",), _ITEMS_2019),
        Row("admin_coercion", "行政强制", (r"^行政强制$",), _ITEMS_2019),
        Row("admin_fees", "行政事业性收费", (r"^行政事业性收费$",), ("prev_year_items", "change")),
        Row("centralized_procurement", "政府集中采购", (r"^政府集中采购$",),
            ("projects", "amount_10k_yuan")),
    ),
)

# --- table 2: 收到和处理政府信息公开申请情况 ----------------------------------------------------

APPLICANT_COLUMNS = (
    Column("natural_person", "自然人"),
    Column("commercial_enterprise", "商业企业"),
    Column("research_institution", "科研机构"),
    Column("social_welfare_org", "社会公益组织"),
    Column("legal_service_org", "法律服务机构"),
    Column("other_org", "其他"),
    Column("total", "总计"),
)

_RESULTS = "三、本年度办理结果"
_WITHHELD = "(三)不予公开"
_UNAVAILABLE = "(四)无法提供"
_NOT_PROCESSED = "(五)不予处理"
_OTHER = "(六)其他处理"


def _leaf(key: str, label: str, match: str, group: str = _RESULTS) -> Row:
    return Row(key, label, (match,), group=group, leaf=True)


_T2_HEAD = (
    Row("new_received", "一、本年新收政府信息公开申请数量", (r"本年新收",)),
    Row("carried_over", "二、上年结转政府信息公开申请数量", (r"上年结转",)),
    _leaf("disclosed", "(一)予以公开", r"予以公开"),
    _leaf("partially_disclosed", "(二)部分公开(区分处理的,只计这一情形,不计其他情形)", r"部分公开"),
    _leaf("withheld_state_secret", "1.属于国家秘密", r"国家秘密", _WITHHELD),
    _leaf("withheld_prohibited_by_law", "2.其他法律行政法规禁止公开", r"禁止公开", _WITHHELD),
    _leaf("withheld_three_safeties", "3.危及“三安全一稳定”", r"三安全一稳定", _WITHHELD),
    _leaf("withheld_third_party", "4.保护第三方合法权益", r"第三方合法权益", _WITHHELD),
    _leaf("withheld_internal_affairs", "5.属于三类内部事务信息", r"内部事务", _WITHHELD),
    _leaf("withheld_process_info", "6.属于四类过程性信息", r"过程性信息", _WITHHELD),
    _leaf("withheld_enforcement_files", "7.属于行政执法案卷", r"行政执法案卷", _WITHHELD),
    _leaf("withheld_admin_query", "8.属于行政查询事项", r"行政查询", _WITHHELD),
    _leaf("unavailable_not_held", "1.本机关不掌握相关政府信息", r"不掌握", _UNAVAILABLE),
    _leaf("unavailable_needs_creation", "2.没有现成信息需要另行制作", r"另行制作", _UNAVAILABLE),
    _leaf("unavailable_unclear", "3.补正后申请内容仍不明确", r"仍不明确", _UNAVAILABLE),
    _leaf("not_processed_complaint", "1.信访举报投诉类申请", r"信访|举报投诉", _NOT_PROCESSED),
    _leaf("not_processed_duplicate", "2.重复申请", r"重复申请", _NOT_PROCESSED),
    _leaf("not_processed_publication", "3.要求提供公开出版物", r"公开出版物", _NOT_PROCESSED),
    _leaf("not_processed_excessive", "4.无正当理由大量反复申请", r"大量反复", _NOT_PROCESSED),
    _leaf("not_processed_confirmation", "5.要求行政机关确认或重新出具已获取信息",
          r"重新出具|确认或重新", _NOT_PROCESSED),
)

_T2_TAIL = (
    Row("total_processed", "(七)总计", (r"^(\(七\))?总计$",)),
    Row("carried_forward", "四、结转下年度继续办理", (r"结转下年度",)),
)

_T2_CONTEXT = (r"收到和处理政府信息公开申请", r"申请人情况", r"^自然人$", r"勾稽关系")


def _applications(other_rows: tuple[Row, ...]) -> Table:
    return Table(
        key="applications",
        title="三、收到和处理政府信息公开申请情况",
        context=_T2_CONTEXT,
        columns=APPLICANT_COLUMNS,
        rows=_T2_HEAD + other_rows + _T2_TAIL,
    )


APPLICATIONS_2021 = _applications((
    _leaf("other_overdue_correction",
          "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
          r"逾期不补正", _OTHER),
    _leaf("other_overdue_fee",
          "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
          r"收费通知|缴纳费用", _OTHER),
    _leaf("other_other", "3.其他", r"^3\.其他$", _OTHER),
))

APPLICATIONS_2019 = _applications((
    _leaf("other_handling", "(六)其他处理", r"^(\(六\))?其他处理$"),
))

# --- table 3: 政府信息公开行政复议、行政诉讼情况 --------------------------------------------------

REVIEW = Table(
    key="review_litigation",
    title="四、政府信息公开行政复议、行政诉讼情况",
    context=(r"行政复议、行政诉讼情况", r"^行政复议$", r"^未经复议直接起诉$", r"^复议后起诉$",
             r"^尚未审结$"),
    columns=(
        Column("upheld", "结果维持"),
        Column("corrected", "结果纠正"),
        Column("other", "其他结果"),
        Column("pending", "尚未审结"),
        Column("total", "总计"),
    ),
    rows=(
        Row("admin_review", "行政复议", ()),
        Row("litigation_direct", "行政诉讼·未经复议直接起诉", ()),
        Row("litigation_after_review", "行政诉讼·复议后起诉", ()),
    ),
    single_line=True,
)


# --- identities ---------------------------------------------------------------------------------


def _identities(tables: tuple[Table, ...]) -> tuple[Identity, ...]:
    apps = next(t for t in tables if t.key == "applications")
    review = next(t for t in tables if t.key == "review_litigation")
    a, r = apps.key, review.key
    leaves = [row.key for row in apps.rows if row.leaf]
    parts = [c.key for c in apps.columns if c.key != "total"]
    out: list[Identity] = []
    for col in (c.key for c in apps.columns):
        balance = "new_received + carried_over = total_processed + carried_forward"
        out.append(Identity("1", f"applications: {balance} [{col}]",
                            ((a, "new_received", col), (a, "carried_over", col)),
                            ((a, "total_processed", col), (a, "carried_forward", col))))
        out.append(Identity("2", f"applications: total_processed = sum of results [{col}]",
                            ((a, "total_processed", col),),
                            tuple((a, leaf, col) for leaf in leaves)))
    out.extend(Identity("3", f"applications: total = sum of applicant columns [{row.key}]",
                        ((a, row.key, "total"),), tuple((a, row.key, p) for p in parts))
               for row in apps.rows)
    out.extend(Identity(
        "4", f"review_litigation: total = upheld + corrected + other + pending [{row.key}]",
        ((r, row.key, "total"),),
        tuple((r, row.key, c) for c in ("upheld", "corrected", "other", "pending")))
        for row in review.rows)
    return tuple(out)


def _template(version: str, notice: str, signatures: tuple[str, ...],
              tables: tuple[Table, ...]) -> Template:
    return Template(version, notice, signatures, tables, _identities(tables))


TEMPLATE_2021 = _template(
    "2021", "国办公开办函〔2021〕30号",
    (r"本年制发件数", r"本年废止件数", r"现行有效件数", r"本年收费金额", r"逾期不补正"),
    (ACTIVE_2021, APPLICATIONS_2021, REVIEW),
)

TEMPLATE_2019 = _template(
    "2019", "国办公开办函〔2019〕60号",
    (r"本年新制作数量", r"本年新公开数量", r"对外公开总数量", r"上一年项目数量", r"本年增/减",
     r"其他对外管理服务事项", r"政府集中采购", r"采购总金额", r"^\(六\)其他处理$"),
    (ACTIVE_2019, APPLICATIONS_2019, REVIEW),
)

TEMPLATES: dict[str, Template] = {"2019": TEMPLATE_2019, "2021": TEMPLATE_2021}

#: Report year -> the template version it should use (flag a mismatch, never force it).
def expected_format(year: int | None) -> str | None:
    if year is None:
        return None
    if year <= 2018:
        return "legacy"
    return "2019" if year <= 2020 else "2021"


TABLE_KEYS = ("active_disclosure", "applications", "review_litigation")
