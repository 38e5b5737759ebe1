"""Stata ``.dta`` exports, written by pandas' ``to_stata``: format 118 (Stata 14 and later), whose
names, labels and text are Unicode, with each variable's Chinese label and dates as ``%td``.

Stata has no decimal type: amounts are doubles (exact to 15 significant digits, far beyond a
万元 amount with six decimals). A Stata string cannot be missing: a missing text is ``""``. Counts
are Stata ``long`` where they fit, doubles otherwise (pandas chooses).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gkcrawl.outputs.export import (
    BOOLEAN,
    DATE,
    INTEGER,
    TEXT,
    Field,
    Output,
    Rows,
    binary_out,
)

#: the .dta format: 118 holds Unicode (117 and older hold Latin-1 only)
STATA_VERSION = 118
#: Stata's limits on a variable label and on the data set's label
STATA_LABEL_CHARS = 80
DATA_LABEL = "政府信息公开工作年度报告 (gkcrawl export)"
#: Stata's daily date format: days since 1960-01-01, shown as 20jan2020
DAILY = "td"


def _fit(label: str) -> str:
    return label if len(label) <= STATA_LABEL_CHARS else label[:STATA_LABEL_CHARS - 1] + "…"


def _label(field: Field) -> str:
    return _fit(field.variable.short_label if field.variable else field.label or field.name)


def _column(field: Field, values: list[Any]) -> Any:
    """One column as pandas holds it for ``to_stata``."""
    import pandas as pd

    if field.type == TEXT:  # a Stata string is never missing
        return pd.Series(["" if v is None else v for v in values], dtype=object)
    if field.type == DATE:
        return pd.to_datetime(pd.Series(values, dtype=object))
    if field.type == BOOLEAN:
        return pd.array(values, dtype="boolean")
    if field.type == INTEGER and all(v is None or isinstance(v, int) for v in values):
        return pd.array(values, dtype="Int64")
    # amounts, and a count column holding a count that is not whole (kept, not rounded)
    return pd.array([None if v is None else float(v) for v in values], dtype="Float64")


def write_dta(columns: Sequence[Field], rows: Rows, out: Output, layout: str) -> int:
    import pandas as pd

    values: dict[str, list[Any]] = {c.name: [] for c in columns}
    n = 0
    for row in rows():
        for c in columns:
            values[c.name].append(row[c.name])
        n += 1
    frame = pd.DataFrame({c.name: _column(c, values[c.name]) for c in columns})
    with binary_out(out, "dta") as sink:
        frame.to_stata(sink, write_index=False, version=STATA_VERSION,
                       convert_dates={c.name: DAILY for c in columns if c.type == DATE},
                       variable_labels={c.name: _label(c) for c in columns},
                       data_label=DATA_LABEL)
    return n
