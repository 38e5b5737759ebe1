"""Regenerate gkcrawl/demo/site/: the pre-rendered PDF/DOCX attachments of the default seed.

The demo runs with the runtime dependencies only, and reportlab (which renders the PDFs) is a
test dependency, so the attachments the default site serves are committed as package data.
``manifest.json`` records which report each file prints; :func:`gkcrawl.demo.site.build_site`
uses a file only while it still prints the report the seed gives. Rerun after changing the site
plan, the report generator or the renderers (output is deterministic)::

    .venv/bin/python -m gkcrawl.demo.make_site
"""

from __future__ import annotations

import json
import sys

from gkcrawl.demo.site import (
    BLANK_TEMPLATE_NAME,
    DEFAULT_SEED,
    DOCX,
    MANIFEST_NAME,
    PDF,
    SITE_DIR,
    attachment_name,
    build_site,
    report_digest,
)


def main() -> int:
    site = build_site(DEFAULT_SEED, prerendered=False)
    SITE_DIR.mkdir(exist_ok=True)
    manifest: dict[str, str] = {}
    for expected in site.reports:
        if expected.kind in (PDF, DOCX) and expected.copy_of is None:
            name = attachment_name(expected.organ, expected.year, expected.kind)
            (SITE_DIR / name).write_bytes(site[expected.path].body)
            manifest[name] = report_digest(expected.report)
    keep = set(manifest) | {BLANK_TEMPLATE_NAME, MANIFEST_NAME}
    for stale in SITE_DIR.iterdir():
        if stale.suffix in (".pdf", ".docx") and stale.name not in keep:
            stale.unlink()
    (SITE_DIR / MANIFEST_NAME).write_text(
        json.dumps(dict(sorted(manifest.items())), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(manifest)} attachments to {SITE_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
