"""The sample government portal (示例县人民政府) served on 127.0.0.1.

It is the realistic target of the crawl tests (no test touches the internet) and of ``gkcrawl
demo``: a TRS-style 政府信息公开 column, a Hanweb department column, a ``?page=N`` list,
HTML/PDF/DOCX reports, lookalikes, traps and broken pages, with the ground truth a crawl is
checked against.

    site = build_site()              # deterministic for a seed
    with serve(site) as base_url:    # background thread, clean shutdown
        ...

``python -m gkcrawl.demo.server`` serves it from a separate process.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: Imported on first use, so that ``python -m gkcrawl.demo.server`` does not find its own module
#: already imported by the package (runpy warns about that).
_EXPORTS = {"ExpectedReport": "site", "ResponseSpec": "site", "Site": "site", "build_site": "site",
            "serve": "server", "write_registry": "registry"}

__all__ = ["ExpectedReport", "ResponseSpec", "Site", "build_site", "serve", "write_registry"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
