"""Frictionless data packages: the export as CSV data files in a directory, with a
``datapackage.json`` (Tabular Data Package) that describes each file: its table schema gives
every field's type, Chinese title and description, so that R's and Python's ``frictionless``
(and any Table Schema reader) load the columns typed and labelled.

The package's CSV files are data files: UTF-8 without a BOM and text as it is (no formula
escape). Open the XLSX export, not these, in a spreadsheet.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gkcrawl import __version__
from gkcrawl.outputs.export import (
    BOOLEAN,
    CODEBOOK_COLUMNS,
    DATE,
    DECIMAL,
    INTEGER,
    NUMBER,
    TEXT,
    ExportError,
    Field,
    Output,
    Rows,
    codebook,
    fractional,
    target_path,
    write_csv,
)
from gkcrawl.outputs.variables import CROSSWALK_COLUMNS, crosswalk

DESCRIPTOR = "datapackage.json"
PACKAGE_NAME = "gkcrawl-reports"
PACKAGE_TITLE = "政府信息公开工作年度报告 (government information disclosure annual reports)"
PROFILE, RESOURCE_PROFILE = "tabular-data-package", "tabular-data-resource"
#: field types -> Table Schema types
SCHEMA_TYPES = {TEXT: "string", INTEGER: "integer", DECIMAL: "number", NUMBER: "number",
                BOOLEAN: "boolean", DATE: "date"}
#: the fields that identify a row of each layout
PRIMARY_KEYS = {"panel": ("organ_key", "year"),
                "long": ("organ_key", "year", "table", "row", "column")}
TITLES = {"panel": "报告 (one row per organ and year)",
          "long": "单元格 (one row per report, table, row and column)",
          "codebook": "变量说明 (codebook)",
          "crosswalk": "模板对照 (crosswalk of template versions)"}
#: how the CSV files are written (csv.writer's defaults, CRLF line ends)
DIALECT = {"delimiter": ",", "lineTerminator": "\r\n", "quoteChar": '"', "doubleQuote": True,
           "header": True}
ENCODING = "utf-8"
HASH = "sha256"


def _schema_field(field: Field, fractional_columns: set[str]) -> dict[str, Any]:
    kind = SCHEMA_TYPES[field.type]
    if field.type == INTEGER and field.name in fractional_columns:
        kind = "number"  # a count that is not whole is kept as it is, not rounded
    out: dict[str, Any] = {"name": field.name, "type": kind}
    if field.label:
        out["title"] = field.label
    if field.description:
        out["description"] = field.description
    if field.type == BOOLEAN:
        out |= {"trueValues": ["true"], "falseValues": ["false"]}
    return out


def _schema(columns: Sequence[Field], fractional_columns: set[str],
            primary_key: Sequence[str] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"fields": [_schema_field(f, fractional_columns) for f in columns],
                              "missingValues": [""]}
    if primary_key:
        schema["primaryKey"] = list(primary_key)
    return schema


def _digest(path: Path) -> str:
    digest = hashlib.new(HASH)
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            digest.update(block)
    return f"{HASH}:{digest.hexdigest()}"


def _resource(name: str, path: Path, schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": name, "path": path.name, "profile": RESOURCE_PROFILE, "title": TITLES[name],
            "format": "csv", "mediatype": "text/csv", "encoding": ENCODING, "dialect": DIALECT,
            "bytes": path.stat().st_size, "hash": _digest(path), "schema": schema}


def _table(directory: Path, name: str, keys: Sequence[str],
           entries: Callable[[], list[dict[str, str]]]) -> dict[str, Any]:
    """A small text table (codebook, crosswalk) as a resource of its own."""
    columns = [Field(k, TEXT) for k in keys]
    path = directory / f"{name}.csv"

    def rows() -> Iterator[dict[str, Any]]:
        return iter(entries())

    write_csv(columns, rows, path, encoding=ENCODING, text=str)
    return _resource(name, path, _schema(columns, set()))


def write_datapackage(columns: Sequence[Field], rows: Rows, out: Output, layout: str) -> int:
    """The ``layout`` data, its codebook (and for the panel the crosswalk) as CSV files in the
    directory ``out``, and the descriptor last: a package without it was not finished."""
    if not isinstance(out, (str, Path)):
        raise ExportError("a data package is a directory of files: give --output DIR")
    directory = Path(out)
    data = directory / f"{layout}.csv"
    n = write_csv(columns, rows, data, encoding=ENCODING, text=str)
    found, _ = fractional(columns, rows)
    resources = [_resource(layout, data, _schema(columns, found, PRIMARY_KEYS[layout])),
                 _table(directory, "codebook", CODEBOOK_COLUMNS, lambda: codebook(layout))]
    if layout == "panel":
        resources.append(_table(directory, "crosswalk", CROSSWALK_COLUMNS, crosswalk))
    descriptor = {
        "profile": PROFILE, "name": PACKAGE_NAME, "title": PACKAGE_TITLE,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "description": f"Exported by gkcrawl {__version__} (gkcrawl export --format datapackage)",
        "resources": resources,
    }
    with target_path(directory / DESCRIPTOR) as part:
        part.write_text(json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n",
                        encoding=ENCODING)
    return n
