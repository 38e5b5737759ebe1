"""Crawl throughput and memory: ``scrapy crawl portals`` over a large generated local portal.

    .venv/bin/python bench/crawl.py                          # --pages 2000,20000 --repeat 3
    .venv/bin/python bench/crawl.py --pages 2000 --repeat 6 --json
    .venv/bin/python bench/crawl.py --diagnose 6000          # tracemalloc growth, not timed
    .venv/bin/python bench/crawl.py --pages 2000 --repeat 6 --archive-timers  # + archive's own CPU

The portal (bench/_portal.py) runs in its own process, a threaded HTTP server rendering each page
from its path: a home page, a 信息公开目录 column of ``?page=N`` lists (50 links each) and the
articles they list, news-like pages of 3-5 KB, one in 20 a real annual report
(``render_html(random_report(...))``) that the item pipelines extract and parse. Exactly N HTML
pages are reachable (plus robots.txt), and the spider's bounds are raised so that it reaches all
of them: ``CRAWL_PAGE_BUDGET`` 2N+100, ``CRAWL_MAX_LIST_PAGES`` lists+10, hops as default.

Every run is a separate ``scrapy crawl portals`` subprocess (``-O`` a JSON-lines feed, archive in
a fresh temporary directory), with DOWNLOAD_DELAY 0, AutoThrottle off, CONCURRENT_REQUESTS 16 and
16 per domain, LOG_LEVEL WARNING, ROBOTSTXT_OBEY as in the project settings, and
MEMUSAGE_CHECK_INTERVAL_SECONDS 1 (so Scrapy's ``memusage/max`` is sampled every second, not
every minute). The bench extension bench/_probe.py samples RSS and queue lengths and hands the
final stats back.

* **pages/s** = pages parsed by the spider / Scrapy's ``elapsed_time_seconds`` (spider open to
  close; interpreter start-up and imports excluded). At the smallest N the crawl runs
  ``--repeat`` times with WARC_ENABLED True and False, interleaved (on/off, off/on, ...; use an
  even ``--repeat`` so that drift in the machine's speed cancels), after one untimed warm-up; the
  **median** of each is compared: overhead = pages/s off / pages/s on - 1 (the extra time
  archiving costs). Target: at most ``MAX_ARCHIVE_OVERHEAD``. The crawler is CPU-bound, so the
  same comparison is also made on its CPU time per page (spider open to close, from
  ``time.process_time()`` in the probe), which other jobs on the machine disturb much less than
  wall time: before each run the bench waits (up to ``QUIET_TIMEOUT`` s) for the machine to be
  idle, and it reports the CPU seconds other processes used during each run (``others``).
* ``--archive-timers``: the archive's own code is also timed in every crawl with archiving on
  (``bench/_probe.py`` ArchiveTimers), and its share of that crawl's CPU time reported. On a
  shared machine whose speed changes from one run to the next, this share, taken within each run,
  is steadier than the difference between two runs; it leaves out Scrapy's dispatch of the
  archive's signals and middleware calls, and garbage collection.
* **peak RSS** of the crawler process (``/usr/bin/time -v``, maximum resident set size; the
  portal server is another process), archiving on, at every N (median of the runs at the smallest
  N, one run at the others). Target: flat, i.e. peak RSS at the largest N at most
  ``FLAT_TOLERANCE`` x the peak at the smallest; with three sizes or more (``--pages
  2000,20000,40000``), also at most ``PLATEAU_TOLERANCE`` x the peak at the size before it.

A run counts only if the crawl finished, parsed exactly N pages, and every report page came out as
an item; otherwise the bench exits with status 1: a number about a crawl that did not happen is
not a result.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from _portal import Layout

from gkcrawl.demo.registry import COLUMNS
from gkcrawl.settings import EXTENSIONS

#: Archiving may cost at most this share of crawl speed (time with / time without - 1).
MAX_ARCHIVE_OVERHEAD = 0.15
#: "Flat": peak RSS at the largest N at most this multiple of the peak at the smallest N.
FLAT_TOLERANCE = 1.10
#: With three sizes or more, also: peak RSS at the largest N at most this multiple of the peak at
#: the size before it (the plateau: bounded caches and the allocator's pools fill during the
#: first ~15,000 pages, docs/benchmarks.md, Crawl; a leak would keep growing with N).
PLATEAU_TOLERANCE = 1.03
#: A crawl must parse exactly N pages, give or take this many.
PAGE_SLACK = 2
PORTAL_ID = "bench"
TIME = "/usr/bin/time"
CRAWL_SETTINGS = {
    "DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16", "LOG_LEVEL": "WARNING", "CRAWL_ID": "bench",
    "MEMUSAGE_CHECK_INTERVAL_SECONDS": "1",
}
PROBE = "bench._probe.BenchProbe"
#: ``--archive-timers``: times the archive's own code; first of all extensions (see _probe.py).
TIMERS = "bench._probe.ArchiveTimers"
#: Before each run wait (at most QUIET_TIMEOUT s) until the machine's CPU is less busy than this.
QUIET_BUSY, QUIET_TIMEOUT = 0.15, 60.0
#: A timed run during which other processes used more CPU than this share of its wall time
#: is flagged as contended (its pages/s says more about the other jobs than about the crawl).
CONTENDED_SHARE = 0.10


class BenchFailure(SystemExit):
    pass


class PortalServer:
    """bench/_portal.py in a subprocess."""

    def __init__(self, pages: int, seed: int) -> None:
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "_portal.py"),
                                      "--pages", str(pages), "--seed", str(seed)],
                                     stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            self.stop()
            raise BenchFailure(f"bench/_portal.py did not start (said {self.url!r})")

    def requests(self) -> dict[str, Any]:
        with urlopen(self.url + "/__stats__", timeout=10) as response:
            return json.loads(response.read())

    def cpu_seconds(self) -> float:
        return process_cpu(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def process_cpu(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far (/proc/stat)."""
    with open("/proc/stat", encoding="ascii") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / tick, sum(values[:8]) / tick


def wait_quiet(max_busy: float, timeout: float) -> float:
    """Wait until the machine is idle (CPU busy share < ``max_busy`` over one second) or
    ``timeout`` s have passed; returns the last busy share seen."""
    deadline = time.monotonic() + timeout
    while True:
        busy0, total0 = machine_cpu()
        time.sleep(1.0)
        busy1, total1 = machine_cpu()
        share = (busy1 - busy0) / max(total1 - total0, 1e-9)
        if share < max_busy or time.monotonic() > deadline:
            return share


def write_registry(path: Path, base: str) -> None:
    host = base.split("//", 1)[1].split(":", 1)[0]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerow({"id": PORTAL_ID, "name": "基准市人民政府", "start_url": base + "/",
                         "report_url": base + "/zfxxgk/gkml/index.html", "allowed_domains": host,
                         "region_code": "540199", "level": "city"})


def crawl_settings(layout: Layout, warc: bool, out: Path, extra: dict[str, str],
                   timers: bool = False) -> dict[str, str]:
    extensions = {**EXTENSIONS, PROBE: 900, **({TIMERS: -1000} if timers and warc else {})}
    return {
        **CRAWL_SETTINGS,
        "WARC_ENABLED": str(warc),
        "ARCHIVE_DIR": str(out / "archive"),
        "CRAWL_PAGE_BUDGET": str(2 * layout.pages + 100),
        "CRAWL_MAX_LIST_PAGES": str(layout.lists + 10),
        "EXTENSIONS": json.dumps(extensions),
        "BENCH_PROBE_FILE": str(out / "probe.json"),
        **extra,
    }


def parse_time_v(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for line in text.splitlines():
        key, _, value = line.strip().rpartition(": ")
        if key == "Maximum resident set size (kbytes)":
            out["maxrss_kb"] = int(value)
        elif key.startswith("Elapsed (wall clock) time"):
            parts = [float(p) for p in value.split(":")]
            out["wall_s"] = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
        elif key == "User time (seconds)":
            out["user_s"] = float(value)
        elif key == "System time (seconds)":
            out["sys_s"] = float(value)
        elif key == "Minor (reclaiming a frame) page faults":
            out["minor_faults"] = int(value)
        elif key == "Voluntary context switches":
            out["voluntary_switches"] = int(value)
    return out


def run_crawl(server: PortalServer, layout: Layout, warc: bool, *, label: str,
              extra: dict[str, str] | None = None, timeout: int = 1800,
              quiet_timeout: float = QUIET_TIMEOUT, timers: bool = False) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix="gkcrawl-bench-"))
    try:
        write_registry(out / "portals.csv", server.url)
        args = [sys.executable, "-m", "scrapy", "crawl", "portals", "-a",
                f"portals={out / 'portals.csv'}", "-O", str(out / "reports.jsonl")]
        for name, value in crawl_settings(layout, warc, out, extra or {}, timers).items():
            args += ["-s", f"{name}={value}"]
        use_time = os.access(TIME, os.X_OK)
        if use_time:
            args = [TIME, "-v", "-o", str(out / "time.txt"), *args]
        idle_share = wait_quiet(QUIET_BUSY, quiet_timeout)
        before = server.requests()["requests"]
        server_cpu0, (busy0, _) = server.cpu_seconds(), machine_cpu()
        start = time.perf_counter()
        proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                              check=False)
        wall = time.perf_counter() - start
        server_cpu, (busy1, _) = server.cpu_seconds() - server_cpu0, machine_cpu()
        served = server.requests()["requests"] - before
        if proc.returncode != 0 or not (out / "probe.json").exists():
            raise BenchFailure(f"{label}: crawl failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        probe = json.loads((out / "probe.json").read_text("utf-8"))
        timing = parse_time_v((out / "time.txt").read_text()) if use_time else {}
        stats = probe["stats"]
        samples = probe["samples"]
        pages = sum(v for k, v in stats.items() if k.startswith("portal/") and k.endswith("/pages"))
        elapsed = float(stats["elapsed_time_seconds"])
        crawl_cpu = samples[-1]["cpu_s"] - samples[0]["cpu_s"]  # spider open to close
        process_cpu_s = timing.get("user_s", 0) + timing.get("sys_s", 0)
        warc_files = sorted((out / "archive").rglob("*.warc.gz")) if warc else []
        result = {
            "label": label, "pages_expected": layout.pages, "warc": warc,
            "pages": pages, "served": served, "elapsed_s": round(elapsed, 2),
            "pages_per_s": round(pages / elapsed, 1),
            "wall_s": round(timing.get("wall_s", wall), 2),
            "cpu_s": round(process_cpu_s, 2),
            # the kernel's share: system calls and page faults (per page, for the archive's cost)
            "sys_s": timing.get("sys_s"), "minor_faults": timing.get("minor_faults"),
            "voluntary_switches": timing.get("voluntary_switches"),
            "cpu_ms_per_page": round(1000 * crawl_cpu / max(pages, 1), 2),
            "gc_s": samples[-1]["gc_s"], "gc_full": samples[-1]["gc_full"],
            "server_cpu_s": round(server_cpu, 2),
            # CPU the rest of the machine used meanwhile (other jobs): noise in the timing
            "others_cpu_s": round(max(busy1 - busy0 - process_cpu_s - server_cpu, 0.0), 1),
            "busy_before": round(idle_share, 2),
            "items": stats.get("item_scraped_count", 0), "reports_expected": layout.reports,
            "quarantined": stats.get("quarantine/items", 0),
            "errors": stats.get(f"portal/{PORTAL_ID}/errors", 0),
            "finish_reason": stats.get("finish_reason"),
            "peak_rss_mib": round(timing["maxrss_kb"] / 1024, 1) if "maxrss_kb" in timing else None,
            "peak_rss_source": "time -v" if use_time else "VmHWM",
            "memusage_max_mib": round(stats.get("memusage/max", 0) / 2**20, 1),
            "memusage_startup_mib": round(stats.get("memusage/startup", 0) / 2**20, 1),
            "max_scheduled_pending": max((s["scheduled_pending"] or 0) for s in samples),
            "max_live_requests": max(s["live_requests"] for s in samples),
            "warc_mib": round(sum(f.stat().st_size for f in warc_files) / 2**20, 1),
            "warc_records": stats.get("warc/records", 0),
            "bounded": {k.rsplit("/", 1)[1]: v for k, v in stats.items()
                        if k.startswith(f"portal/{PORTAL_ID}/bounded/")},
            "samples": samples,
        }
        if result["peak_rss_mib"] is None:
            result["peak_rss_mib"] = round(max(s["hwm_kb"] or 0 for s in samples) / 1024, 1)
        if "tracemalloc" in probe:
            result["tracemalloc"] = probe["tracemalloc"]
        if "archive_cpu" in probe:  # --archive-timers: the archive's own CPU in this crawl
            archive_s = sum(s for s, _ in probe["archive_cpu"].values())
            result["archive_cpu"] = probe["archive_cpu"]
            result["archive_ms_per_page"] = round(1000 * archive_s / max(pages, 1), 3)
            result["archive_share"] = round(archive_s / crawl_cpu, 4)
        check(result, warc)
        return result
    finally:
        shutil.rmtree(out, ignore_errors=True)


def check(r: dict[str, Any], warc: bool) -> None:
    problems = []
    if r["finish_reason"] != "finished":
        problems.append(f"finish_reason {r['finish_reason']}")
    if abs(r["pages"] - r["pages_expected"]) > PAGE_SLACK:
        problems.append(f"parsed {r['pages']} pages, the portal has {r['pages_expected']} "
                        f"(bounded: {r['bounded']})")
    if r["items"] != r["reports_expected"] or r["quarantined"]:
        problems.append(f"{r['items']} items ({r['quarantined']} quarantined), "
                        f"{r['reports_expected']} report pages")
    if r["errors"] or r["served"] != r["pages_expected"] + 1:
        problems.append(f"{r['errors']} fetch errors; the portal served {r['served']} requests "
                        f"for {r['pages_expected']} pages and robots.txt")
    if warc and not r["warc_records"]:
        problems.append("archiving on but no WARC records")
    if not warc and r["warc_records"]:
        problems.append("archiving off but WARC records written")
    if problems:
        raise BenchFailure(f"bench/crawl.py: {r['label']}: " + "; ".join(problems))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def brief(r: dict[str, Any]) -> str:
    archive = (f", archive's own code {r['archive_ms_per_page']} CPU ms/page "
               f"({100 * r['archive_share']:.1f}% of the crawl's CPU)" if "archive_share" in r else "")
    return (f"{r['label']}: {r['pages']} pages in {r['elapsed_s']} s = {r['pages_per_s']} pages/s, "
            f"{r['cpu_ms_per_page']} CPU ms/page (GC {r['gc_s']} s), others {r['others_cpu_s']} CPU s, "
            f"peak RSS {r['peak_rss_mib']} MiB, memusage/max {r['memusage_max_mib']} MiB, "
            f"max pending {r['max_scheduled_pending']}{archive}")


def bench(args: argparse.Namespace) -> dict[str, Any]:
    sizes = sorted(args.pages)
    runs: list[dict[str, Any]] = []
    for n in sizes:
        layout = Layout.of(n)
        server = PortalServer(n, args.seed)
        try:
            if n == sizes[0]:
                if args.warmup:
                    log(brief(run_crawl(server, layout, True, label=f"N={n} warm-up",
                                        quiet_timeout=args.quiet_timeout)))
                for i in range(args.repeat):
                    # on/off, then off/on: a machine that speeds up or slows down through the
                    # set (seen here: ~30% over ten runs) favours neither setting
                    for warc in (True, False) if i % 2 == 0 else (False, True):
                        r = run_crawl(server, layout, warc, quiet_timeout=args.quiet_timeout,
                                      label=f"N={n} warc={'on' if warc else 'off'} #{i + 1}",
                                      timers=args.archive_timers)
                        log(brief(r))
                        runs.append(r)
            else:
                for warc in ((True, False) if args.big_both else (True,)):
                    r = run_crawl(server, layout, warc, quiet_timeout=args.quiet_timeout,
                                  label=f"N={n} warc={'on' if warc else 'off'} #1")
                    log(brief(r))
                    runs.append(r)
        finally:
            server.stop()
    return summarize(runs, sizes, args)


def summarize(runs: list[dict[str, Any]], sizes: list[int], args: argparse.Namespace) -> dict[str, Any]:
    def pick(n: int, warc: bool, key: str) -> list[float]:
        return [r[key] for r in runs if r["pages_expected"] == n and r["warc"] == warc]

    small, large = sizes[0], sizes[-1]
    on, off = pick(small, True, "pages_per_s"), pick(small, False, "pages_per_s")
    med_on, med_off = statistics.median(on), statistics.median(off)
    overhead = med_off / med_on - 1
    cpu_on, cpu_off = (statistics.median(pick(small, True, "cpu_ms_per_page")),
                       statistics.median(pick(small, False, "cpu_ms_per_page")))
    peak = {n: statistics.median(pick(n, True, "peak_rss_mib")) for n in sizes}
    memusage = {n: statistics.median(pick(n, True, "memusage_max_mib")) for n in sizes}
    growth = peak[large] / peak[small]
    plateau = peak[large] / peak[sizes[-2]] if len(sizes) >= 3 else None
    # other jobs used more than a tenth of a CPU during a timed run: wall-clock numbers unreliable
    contended = [r["label"] for r in runs if r["pages_expected"] == small
                 and r["others_cpu_s"] > CONTENDED_SHARE * r["wall_s"]]
    # --archive-timers: the archive's own share of the crawl's CPU, each run against itself
    shares = [r["archive_share"] for r in runs if r["pages_expected"] == small and "archive_share" in r]
    timed = {"archive_ms_per_page": statistics.median(pick(small, True, "archive_ms_per_page")),
             "archive_share": statistics.median(shares),
             # what the crawl would cost without that code: share / (1 - share)
             "own_code_overhead": round(statistics.median(s / (1 - s) for s in shares), 4),
             } if shares else None
    return {
        "runs": [{k: v for k, v in r.items() if k != "samples"} for r in runs],
        "samples": {r["label"]: r["samples"] for r in runs if r["pages_expected"] == large},
        "speed": {"n": small, "statistic": "median", "repeat": args.repeat,
                  "pages_per_s_on": med_on, "pages_per_s_off": med_off,
                  "best_on": max(on), "best_off": max(off),
                  "overhead": round(overhead, 4), "target": MAX_ARCHIVE_OVERHEAD,
                  "cpu_ms_per_page_on": cpu_on, "cpu_ms_per_page_off": cpu_off,
                  "cpu_overhead": round(cpu_on / cpu_off - 1, 4),
                  "target_met": overhead <= MAX_ARCHIVE_OVERHEAD,
                  "cpu_target_met": cpu_on / cpu_off - 1 <= MAX_ARCHIVE_OVERHEAD,
                  "contended_runs": contended, "archive_timers": timed},
        "memory": {"peak_rss_mib": peak, "memusage_max_mib": memusage,
                   "growth": round(growth, 3), "tolerance": FLAT_TOLERANCE,
                   "target_met": growth <= FLAT_TOLERANCE if len(sizes) > 1 else None,
                   "plateau": round(plateau, 3) if plateau is not None else None,
                   "plateau_tolerance": PLATEAU_TOLERANCE,
                   "plateau_met": plateau <= PLATEAU_TOLERANCE if plateau is not None else None},
        "machine": machine(), "args": vars(args),
        "date": time.strftime("%Y-%m-%d"),
    }


def diagnose(args: argparse.Namespace) -> dict[str, Any]:
    """One crawl (archiving on) with tracemalloc: what grew between 10% and 100% of the URLs
    scheduled (the spider's ``seen``; the scheduler's queue is longest at 100%)."""
    n = args.diagnose
    layout = Layout.of(n)
    marks = f"{n // 10},{n}"
    server = PortalServer(n, args.seed)
    try:
        r = run_crawl(server, layout, True, label=f"N={n} tracemalloc",
                      extra={"BENCH_TRACEMALLOC_SEEN": marks, "BENCH_TRACEMALLOC_FRAMES": "12"})
    finally:
        server.stop()
    return {"run": {k: v for k, v in r.items() if k not in ("samples", "tracemalloc")},
            "samples": r["samples"], "tracemalloc": r.get("tracemalloc"), "machine": machine()}


def machine() -> dict[str, Any]:
    model = ram = None
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), None)
        with open("/proc/meminfo", encoding="utf-8") as f:
            kib = next(int(ln.split()[1]) for ln in f if ln.startswith("MemTotal"))
            ram = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    import scrapy
    import twisted

    try:
        commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, check=False,
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {"nproc": os.cpu_count(), "cpu": model or platform.processor(), "ram": ram,
            "python": platform.python_version(), "scrapy": scrapy.__version__,
            "twisted": twisted.__version__, "os": platform.platform(), "commit": commit}


def print_table(result: dict[str, Any]) -> None:
    m = result["machine"]
    print(f"# {m['cpu']}, {m['nproc']} CPUs, {m['ram']}, Python {m['python']}, Scrapy {m['scrapy']}, "
          f"commit {m['commit']}")
    head = (f"{'run':<22} {'pages':>6} {'secs':>7} {'pages/s':>8} {'CPU ms/p':>8} {'GC s':>5} "
            f"{'items':>5} {'peak RSS':>9} {'memusage':>9} {'pending':>8} {'WARC MiB':>8} {'others':>6}")
    print(head)
    print("-" * len(head))
    for r in result["runs"]:
        print(f"{r['label']:<22} {r['pages']:>6} {r['elapsed_s']:>7.1f} {r['pages_per_s']:>8.1f} "
              f"{r['cpu_ms_per_page']:>8.2f} {r['gc_s']:>5.1f} "
              f"{r['items']:>5} {r['peak_rss_mib']:>8.1f}M {r['memusage_max_mib']:>8.1f}M "
              f"{r['max_scheduled_pending']:>8} {r['warc_mib']:>8.1f} {r['others_cpu_s']:>6.1f}")
    s, mem = result["speed"], result["memory"]
    print(f"\nN={s['n']}, median of {s['repeat']}: {s['pages_per_s_on']:.1f} pages/s archiving on, "
          f"{s['pages_per_s_off']:.1f} off -> overhead {100 * s['overhead']:.1f}% "
          f"(target <= {100 * s['target']:.0f}%: {'met' if s['target_met'] else 'NOT met'}); "
          f"CPU {s['cpu_ms_per_page_on']:.2f} vs {s['cpu_ms_per_page_off']:.2f} ms/page -> "
          f"{100 * s['cpu_overhead']:.1f}%")
    if s["archive_timers"]:
        t = s["archive_timers"]
        print(f"archive's own code (--archive-timers), median: {t['archive_ms_per_page']:.3f} CPU "
              f"ms/page, {100 * t['archive_share']:.1f}% of the crawl's CPU -> "
              f"{100 * t['own_code_overhead']:.1f}% over the crawl without it (signal and "
              f"middleware dispatch and GC not included)")
    if s["contended_runs"]:
        print(f"WARNING: other jobs used the CPU during {len(s['contended_runs'])} timed runs "
              f"({', '.join(s['contended_runs'])}): the pages/s comparison is unreliable, "
              f"the CPU ms/page one less so")
    peaks = ", ".join(f"N={n}: {v:.1f} MiB" for n, v in mem["peak_rss_mib"].items())
    print(f"peak RSS, archiving on: {peaks} -> x{mem['growth']:.2f} "
          f"(target flat, <= x{mem['tolerance']:.2f}: "
          f"{'met' if mem['target_met'] else 'NOT met' if mem['target_met'] is False else 'n/a'})")
    if mem.get("plateau") is not None:
        last, before = list(mem["peak_rss_mib"])[-1], list(mem["peak_rss_mib"])[-2]
        print(f"plateau: N={last} against N={before}: x{mem['plateau']:.3f} "
              f"(<= x{mem['plateau_tolerance']:.2f}: {'met' if mem['plateau_met'] else 'NOT met'})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/crawl.py", description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=lambda s: [int(x) for x in s.split(",")],
                        default=[2000, 20000], help="portal sizes (default 2000,20000)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed runs per archiving setting at the smallest size (default 3)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-warmup", dest="warmup", action="store_false")
    parser.add_argument("--big-both", action="store_true",
                        help="at the larger sizes run archiving off too (default: on only)")
    parser.add_argument("--diagnose", type=int, metavar="N",
                        help="instead: one tracemalloc crawl of N pages: what grows from 10%% to 100%% "
                             "of the URLs scheduled")
    parser.add_argument("--quiet-timeout", type=float, default=QUIET_TIMEOUT,
                        help="seconds to wait before each run for other jobs to leave the CPU "
                             "(default %(default)s)")
    parser.add_argument("--archive-timers", action="store_true",
                        help="time the archive's own code in every crawl with archiving on "
                             "(bench/_probe.py ArchiveTimers): its share of the crawl's CPU")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    if not os.access(TIME, os.X_OK):
        log(f"{TIME} not found: peak RSS from the crawler's VmHWM (sampled every second)")
    result = diagnose(args) if args.diagnose else bench(args)
    if args.json or args.diagnose:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
