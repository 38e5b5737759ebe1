"""Crawl: archiving costs at most 15% of a crawl's speed; peak memory flat from 2,000 to 20,000.

    .venv/bin/python bench/crawl.py                          # --pages 2000,20000 --pairs 6
    .venv/bin/python bench/crawl.py --pages 2000 --pairs 8   # the archive's cost only
    .venv/bin/python bench/crawl.py --instructions   # callgrind, 200 and 400 pages (~6 min)
    .venv/bin/python bench/crawl.py --browser 200 --pairs 3  # the browser path's cost a page

Every run is ``scrapy crawl portals`` in its own process over a generated portal on 127.0.0.1
(bench/_portal.py, another process: N HTML pages, one in 20 an annual report that the pipelines
parse, validate and store), with the spider's bounds raised so that it fetches all N pages,
DOWNLOAD_DELAY 0, AutoThrottle off, 16 requests at a time: the crawl is CPU-bound, the worst
case for the archive's share. A run counts only if it fetched the N pages, every report came out
as an item and archiving wrote records exactly when on; otherwise the script exits with status 1.

* **Archive's cost** (target: at most ``MAX_OVERHEAD``): at the smallest N, ``--pairs`` pairs of
  runs with ``WARC_ENABLED`` True and False in ABBA order (on/off, off/on, ...: a machine that
  drifts favours neither), after one warm-up run. A pair's overhead is its pages/s off over its
  pages/s on, less 1 (pages/s from Scrapy's ``elapsed_time_seconds``, spider open to close); the
  median of the pairs is judged, and printed with their range. The same is printed for CPU ms a
  page (the crawler's CPU from spider open to close, ``bench/_probe.py``), which other jobs on
  the machine disturb less.
* **Archive's CPU a page**, for a network-bound crawl: the warm-up run and the larger runs time the
  archive's own code (``bench/_probe.py`` ArchiveTimers). At the project's politeness settings
  (DOWNLOAD_DELAY 0.5 s, 2 requests a domain, 32 in all) a process fetches at most ~32 pages/s,
  one page every ~31 ms; the script prints what the archive's CPU a page (its own code, and the
  on-off difference of the pairs) is of that.
* **Memory** (target: flat, peak RSS at the largest N at most ``FLAT_TOLERANCE`` x the peak at
  the smallest): the crawler's maximum resident set size (``/usr/bin/time -v``), archiving on:
  the median of the smallest N's pairs, one run at each larger N.
* ``--instructions``: instead, instructions counted by callgrind (which the machine's noise does
  not move) for crawls of two sizes, archiving on and off; the difference between the sizes over
  the difference in pages is the instructions a page, without start-up.
* ``--browser N``: instead, the cost of the browser path a page: ``--pairs`` ABBA pairs of crawls
  of N pages, every page fetched plainly, and every page rendered by headless Chromium
  (``render=browser``); pages/s, and the CPU a page of the crawler with the processes it started
  (Playwright's driver, Chromium: ``/usr/bin/time`` counts the children it waited for).

Before each run the script waits (``--quiet``, at most 60 s) for the machine to be idle.
Prints one line a run (pages/s, CPU ms a page, peak RSS, the archive's own CPU ms a page, and
``others``: CPU seconds processes other than the crawler and the portal used meanwhile), then
the verdicts.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Self
from urllib.request import urlopen

from _common import ROOT, busy_cpu_s, env, header, instructions, machine, wait_quiet
from _portal import Layout

from gkcrawl.crawl.registry import BROWSER
from gkcrawl.demo.registry import COLUMNS
from gkcrawl.settings import EXTENSIONS

MAX_OVERHEAD = 0.15
FLAT_TOLERANCE = 1.10
#: pages a second a process fetches at most at the project's politeness settings
POLITE_PAGES_PER_S = 32
PAGE_SLACK = 2  # a crawl must parse N pages, give or take this many
PORTAL_ID = "bench"
TIME = "/usr/bin/time"
CRAWL_SETTINGS = {
    "DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16", "LOG_LEVEL": "WARNING", "CRAWL_ID": "bench",
}
PROBE, TIMERS = "bench._probe.BenchProbe", "bench._probe.ArchiveTimers"


class PortalServer:
    """bench/_portal.py in a subprocess."""

    def __init__(self, pages: int, seed: int) -> None:
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "_portal.py"),
                                      "--pages", str(pages), "--seed", str(seed)],
                                     stdout=subprocess.PIPE, text=True, env=env())
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            self.stop()
            raise SystemExit(f"bench/_portal.py did not start (said {self.url!r})")

    def served(self) -> int:
        with urlopen(self.url + "/__stats__", timeout=10) as response:
            return json.loads(response.read())["requests"]

    def cpu_s(self) -> float:
        with open(f"/proc/{self.proc.pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def crawl_args(url: str, pages: int, warc: bool, out: Path, timers: bool,
               render: str = "") -> list[str]:
    """``-m scrapy crawl portals ...`` over the portal at ``url`` (after the interpreter)."""
    host = url.split("//", 1)[1].split(":", 1)[0]
    with (out / "portals.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=(*COLUMNS, "render"))
        writer.writeheader()
        writer.writerow({"id": PORTAL_ID, "name": "基准市人民政府", "start_url": url + "/",
                         "report_url": url + "/zfxxgk/gkml/index.html", "allowed_domains": host,
                         "region_code": "540199", "level": "city", "render": render})
    layout = Layout.of(pages)
    extensions = {**EXTENSIONS, PROBE: 900, **({TIMERS: -1000} if timers and warc else {})}
    settings = {**CRAWL_SETTINGS, "WARC_ENABLED": str(warc), "ARCHIVE_DIR": str(out / "archive"),
                "CRAWL_PAGE_BUDGET": str(2 * pages + 100),
                "CRAWL_MAX_LIST_PAGES": str(layout.lists + 10),
                "EXTENSIONS": json.dumps(extensions), "BENCH_PROBE_FILE": str(out / "probe.json")}
    args = ["-m", "scrapy", "crawl", "portals", "-a", f"portals={out / 'portals.csv'}",
            "-O", str(out / "reports.jsonl")]
    for name, value in settings.items():
        args += ["-s", f"{name}={value}"]
    return args


def run_crawl(server: PortalServer, pages: int, warc: bool, label: str,
              timers: bool = False, quiet: float = 0, render: str = "") -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix="gkcrawl-bench-"))
    try:
        wait_quiet(quiet)
        args = [TIME, "-v", "-o", str(out / "time.txt"), sys.executable,
                *crawl_args(server.url, pages, warc, out, timers, render)]
        served, busy, portal = server.served(), busy_cpu_s(), server.cpu_s()
        proc = subprocess.run(args, cwd=ROOT, env=env(), capture_output=True, text=True,
                              check=False)
        busy = busy_cpu_s() - busy - (server.cpu_s() - portal)
        served = server.served() - served
        if proc.returncode != 0 or not (out / "probe.json").exists():
            raise SystemExit(f"{label}: crawl failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        probe = json.loads((out / "probe.json").read_text("utf-8"))
        timing = {}
        for line in (out / "time.txt").read_text().splitlines():
            key, _, value = line.strip().rpartition(": ")
            timing[key] = value
        stats, samples = probe["stats"], probe["samples"]
        parsed = stats.get(f"portal/{PORTAL_ID}/pages", 0)
        cpu_s = float(timing["User time (seconds)"]) + float(timing["System time (seconds)"])
        r = {"label": label, "pages": pages, "warc": warc, "parsed": parsed, "served": served,
             "render": render, "pages_per_s": parsed / float(stats["elapsed_time_seconds"]),
             "cpu_ms": 1000 * (samples[-1]["cpu_s"] - samples[0]["cpu_s"]) / max(parsed, 1),
             "all_cpu_ms": 1000 * cpu_s / max(parsed, 1),
             "peak_rss_mib": int(timing["Maximum resident set size (kbytes)"]) / 1024,
             "others_cpu_s": max(0.0, busy - cpu_s), "items": stats.get("item_scraped_count", 0),
             "quarantined": stats.get("quarantine/items", 0),
             "errors": stats.get(f"portal/{PORTAL_ID}/errors", 0),
             "finish_reason": stats.get("finish_reason"),
             "warc_records": stats.get("warc/records", 0)}
        if probe["archive_cpu"]:  # [CPU s, calls] of each entry point
            r["archive_ms"] = 1000 * sum(s for s, _ in probe["archive_cpu"].values()) / parsed
            r["archive_cpu"] = probe["archive_cpu"]
        check(r, Layout.of(pages).reports)
        return r
    finally:
        shutil.rmtree(out, ignore_errors=True)


def check(r: dict[str, Any], reports: int) -> None:
    problems = []
    if r["finish_reason"] != "finished":
        problems.append(f"finish_reason {r['finish_reason']}")
    # a browser also asks for the pages' stylesheet
    if abs(r["parsed"] - r["pages"]) > PAGE_SLACK or not (
            r["served"] == r["pages"] + 1 or (r["render"] and r["served"] > r["pages"])):
        problems.append(f"parsed {r['parsed']} pages, {r['served']} requests served "
                        f"for {r['pages']} pages and robots.txt")
    if r["items"] != reports or r["quarantined"] or r["errors"]:
        problems.append(f"{r['items']} items, {r['quarantined']} quarantined, {r['errors']} "
                        f"fetch errors for {reports} report pages")
    if bool(r["warc_records"]) != r["warc"]:
        problems.append(f"archiving {'on' if r['warc'] else 'off'}, {r['warc_records']} records")
    if problems:
        raise SystemExit(f"bench/crawl.py: {r['label']}: " + "; ".join(problems))


def line(r: dict[str, Any]) -> str:
    own = f", archive's own {r['archive_ms']:.3f} CPU ms/page" if "archive_ms" in r else ""
    return (f"{r['label']:<22} {r['pages_per_s']:7.1f} pages/s  {r['cpu_ms']:5.2f} CPU ms/page  "
            f"peak RSS {r['peak_rss_mib']:6.1f} MiB  others {r['others_cpu_s']:4.1f} s{own}")


def bench(args: argparse.Namespace) -> dict[str, Any]:
    sizes = sorted(args.pages)
    runs: list[dict[str, Any]] = []
    pairs: list[dict[bool, dict[str, Any]]] = []

    def run(server: PortalServer, n: int, warc: bool, label: str,
            timers: bool = False) -> dict[str, Any]:
        r = run_crawl(server, n, warc, label, timers, args.quiet)
        print(line(r), file=sys.stderr, flush=True)
        runs.append(r)
        return r

    for n in sizes:
        with PortalServer(n, args.seed) as server:
            if n != sizes[0]:
                run(server, n, True, f"N={n} on", timers=True)
                continue
            run(server, n, True, f"N={n} warm-up", timers=True)
            for i in range(args.pairs):
                order = (True, False) if i % 2 == 0 else (False, True)
                pairs.append({warc: run(server, n, warc, f"N={n} {'on' if warc else 'off'} "
                                                         f"#{i + 1}") for warc in order})
    return summarize(runs, pairs, sizes)


def summarize(runs: list[dict[str, Any]], pairs: list[dict[bool, dict[str, Any]]],
              sizes: list[int]) -> dict[str, Any]:
    def med(rs: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in rs)

    on, off = [p[True] for p in pairs], [p[False] for p in pairs]
    # each pair compared within itself (its two runs a minute apart), then the median of pairs
    overheads = sorted(p[False]["pages_per_s"] / p[True]["pages_per_s"] - 1 for p in pairs)
    cpu_overheads = sorted(p[True]["cpu_ms"] / p[False]["cpu_ms"] - 1 for p in pairs)
    overhead = statistics.median(overheads)
    cpu_on, cpu_off = med(on, "cpu_ms"), med(off, "cpu_ms")
    own = statistics.median(r["archive_ms"] for r in runs if "archive_ms" in r)
    peaks = {n: med([r for r in runs if r["pages"] == n and r["warc"]
                     and "warm-up" not in r["label"]], "peak_rss_mib") for n in sizes}
    growth = peaks[sizes[-1]] / peaks[sizes[0]]
    page_ms = 1000 / POLITE_PAGES_PER_S
    return {
        "runs": runs, "machine": machine(),
        "speed": {"pages": sizes[0], "pairs": len(pairs), "pages_per_s_on": med(on, "pages_per_s"),
                  "pages_per_s_off": med(off, "pages_per_s"), "overhead": overhead,
                  "pair_overheads": overheads, "met": overhead <= MAX_OVERHEAD,
                  "cpu_ms_on": cpu_on, "cpu_ms_off": cpu_off,
                  "cpu_overhead": statistics.median(cpu_overheads)},
        "archive": {"own_ms": own, "difference_ms": cpu_on - cpu_off, "polite_page_ms": page_ms,
                    "own_share": own / page_ms, "difference_share": (cpu_on - cpu_off) / page_ms,
                    "crawl_share": cpu_off / page_ms},
        "memory": {"peak_rss_mib": peaks, "growth": growth,
                   "met": growth <= FLAT_TOLERANCE if len(sizes) > 1 else None},
    }


def print_result(result: dict[str, Any]) -> None:
    s, a, m = result["speed"], result["archive"], result["memory"]
    print(header(result["machine"]))
    for r in result["runs"]:
        print(line(r))
    lo, hi = s["pair_overheads"][0], s["pair_overheads"][-1]
    print(f"\narchive's cost, N={s['pages']}, {s['pairs']} ABBA pairs: {s['pages_per_s_on']:.1f} "
          f"pages/s on, {s['pages_per_s_off']:.1f} off (medians); median of the pairs "
          f"{100 * s['overhead']:.1f}% (target <= {100 * MAX_OVERHEAD:.0f}%: "
          f"{'met' if s['met'] else 'NOT met'}); pairs {100 * lo:.1f} to {100 * hi:.1f}%")
    print(f"CPU a page: {s['cpu_ms_on']:.2f} ms on, {s['cpu_ms_off']:.2f} off (medians); median "
          f"of the pairs {100 * s['cpu_overhead']:.1f}%")
    print(f"archive's CPU a page: {a['own_ms']:.3f} ms its own code, {a['difference_ms']:.3f} ms "
          f"on - off; at {POLITE_PAGES_PER_S} pages/s (a page every {a['polite_page_ms']:.1f} ms) "
          f"that is {100 * a['own_share']:.1f}% / {100 * a['difference_share']:.1f}% of one core "
          f"(the crawl without it: {100 * a['crawl_share']:.1f}%)")
    peaks = ", ".join(f"N={n}: {v:.1f} MiB" for n, v in m["peak_rss_mib"].items())
    verdict = "n/a" if m["met"] is None else "met" if m["met"] else "NOT met"
    print(f"peak RSS, archiving on: {peaks} -> x{m['growth']:.3f} "
          f"(target flat, <= x{FLAT_TOLERANCE:.2f}: {verdict})")


def browser_cost(args: argparse.Namespace) -> dict[str, Any]:
    """Crawls of N pages plainly and rendered (``render=browser``), in ABBA pairs."""
    n, runs = args.browser, []
    with PortalServer(n, args.seed) as server:
        for i in range(args.pairs):
            for render in ("", BROWSER) if i % 2 == 0 else (BROWSER, ""):
                r = run_crawl(server, n, True, f"N={n} {render or 'plain'} #{i + 1}",
                              quiet=args.quiet, render=render)
                print(line(r), f" all {r['all_cpu_ms']:6.2f} CPU ms/page", file=sys.stderr,
                      flush=True)
                runs.append(r)

    def med(render: str, key: str) -> float:
        return statistics.median(r[key] for r in runs if r["render"] == render)

    return {"runs": runs, "machine": machine(), "pages": n, "pairs": args.pairs,
            **{f"{name}_{key}": med(render, key) for name, render in (("plain", ""),
                                                                      ("browser", BROWSER))
               for key in ("pages_per_s", "all_cpu_ms", "peak_rss_mib")}}


def print_browser_cost(result: dict[str, Any]) -> None:
    print(header(result["machine"]))
    for r in result["runs"]:
        print(line(r), f" all {r['all_cpu_ms']:6.2f} CPU ms/page")
    plain, rendered = result["plain_all_cpu_ms"], result["browser_all_cpu_ms"]
    print(f"\nbrowser path, N={result['pages']}, {result['pairs']} ABBA pairs (medians): "
          f"{result['browser_pages_per_s']:.1f} pages/s rendered, "
          f"{result['plain_pages_per_s']:.1f} plain; CPU a page (crawler, driver, Chromium) "
          f"{rendered:.1f} ms rendered, {plain:.1f} ms plain (x{rendered / plain:.1f}); peak RSS "
          f"of the crawler {result['browser_peak_rss_mib']:.1f} MiB rendered, "
          f"{result['plain_peak_rss_mib']:.1f} MiB plain")


def count_instructions(sizes: list[int], seed: int) -> dict[str, Any]:
    """Instructions a page, archiving on and off, from callgrind crawls of two sizes."""
    small, large = sorted(sizes)[:2]

    def count(job: tuple[bool, int]) -> int:
        warc, n = job
        out = Path(tempfile.mkdtemp(prefix="gkcrawl-cg-"))
        try:
            with PortalServer(n, seed) as server:
                return instructions(crawl_args(server.url, n, warc, out, False), env=env())
        finally:
            shutil.rmtree(out, ignore_errors=True)

    jobs = [(warc, n) for warc in (True, False) for n in (small, large)]
    with ThreadPoolExecutor(2) as pool:  # two at a time: counts do not interfere
        done = dict(zip(jobs, pool.map(count, jobs), strict=True))
    per = {warc: (done[(warc, large)] - done[(warc, small)]) / (large - small)
           for warc in (True, False)}
    return {"pages": [small, large], "on": per[True], "off": per[False],
            "overhead": per[True] / per[False] - 1, "machine": machine()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=lambda s: [int(x) for x in s.split(",")],
                    default=[2000, 20000], help="portal sizes (default 2000,20000)")
    ap.add_argument("--pairs", type=int, default=6,
                    help="on/off pairs at the smallest size (default 6)")
    ap.add_argument("--quiet", type=float, default=60, metavar="S",
                    help="before each run, wait up to S seconds for other jobs to leave the CPUs")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--instructions", nargs="?", const="200,400", metavar="N,M",
                    help="count instructions (callgrind) of crawls of N and M pages instead")
    ap.add_argument("--browser", type=int, metavar="N",
                    help="measure the browser path's cost a page on crawls of N pages instead")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args(argv)
    if not args.instructions and not os.access(TIME, os.X_OK):
        raise SystemExit(f"{TIME} is needed for the peak RSS (apt-get install time)")
    if args.browser:
        result = browser_cost(args)
        if not args.json:
            print_browser_cost(result)
    elif args.instructions:
        result = count_instructions([int(n) for n in args.instructions.split(",")], args.seed)
        if not args.json:
            print(header(result["machine"]))
            print(f"instructions a page (pages {result['pages'][0]} to {result['pages'][1]}): "
                  f"{result['on'] / 1e6:.2f} M archiving on, {result['off'] / 1e6:.2f} M off -> "
                  f"{100 * result['overhead']:.1f}%, {(result['on'] - result['off']) / 1e6:.2f} M "
                  f"a page")
    else:
        result = bench(args)
        if not args.json:
            print_result(result)
    if args.json:
        print(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
