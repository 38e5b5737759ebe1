"""Archiving's cost in instructions: the same crawls as bench/crawl.py, counted by callgrind.

    .venv/bin/python bench/crawl_instructions.py                 # --pages 200,400 (~6 min)

On a virtual machine whose speed changes from one run to the next, pages/s and CPU ms/page of
sequential crawls differ by several points for the same code. ``valgrind --tool=callgrind``
counts the instructions a process executes (user space only), which repeat whatever else the
machine does. Each mode (archiving on, off) crawls the bench portal (bench/_portal.py, outside
valgrind) at two sizes with the settings of bench/crawl.py; the difference between the sizes
divided by the difference in pages is the instructions per page, without the start-up. The
overhead is on/off - 1 of those. It is not the target's measure (pages/s): instructions do not
show cache misses, system calls or I/O waits; bench/crawl.py measures those.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _callgrind import instructions as callgrind  # noqa: E402
from crawl import PortalServer, crawl_settings, write_registry  # noqa: E402
from _portal import Layout  # noqa: E402

SEED = 1


def instructions(pages: int, warc: bool) -> int:
    """Instructions executed by one ``scrapy crawl portals`` of a portal of ``pages`` pages."""
    server = PortalServer(pages, SEED)
    out = Path(tempfile.mkdtemp(prefix="gkcrawl-cg-"))
    try:
        write_registry(out / "portals.csv", server.url)
        args = ["-m", "scrapy", "crawl", "portals", "-a", f"portals={out / 'portals.csv'}",
                "-O", str(out / "reports.jsonl")]
        for name, value in crawl_settings(Layout.of(pages), warc, out, {}).items():
            args += ["-s", f"{name}={value}"]
        return callgrind(args, cwd=ROOT)
    finally:
        server.stop()
        shutil.rmtree(out, ignore_errors=True)


def per_page(sizes: tuple[int, int], warc: bool) -> float:
    small, large = sizes
    return (instructions(large, warc) - instructions(small, warc)) / (large - small)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", default="200,400", help="two portal sizes")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is needed (apt-get install valgrind)")
    small, large = sorted(int(p) for p in args.pages.split(","))
    with ThreadPoolExecutor(2) as pool:  # on and off side by side: counts do not interfere
        on, off = pool.map(lambda warc: per_page((small, large), warc), (True, False))
    result = {"pages": [small, large], "instructions_per_page_on": round(on),
              "instructions_per_page_off": round(off), "overhead": round(on / off - 1, 4)}
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"instructions per page: {on / 1e6:.2f} M archiving on, {off / 1e6:.2f} M off "
              f"-> archiving adds {100 * (on / off - 1):.1f}% (pages {small} to {large})")


if __name__ == "__main__":
    main()
