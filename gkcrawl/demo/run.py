"""``gkcrawl demo``: the sample portal served on 127.0.0.1, crawled, its reports printed, its
archive verified. The whole flow in a minute, with no access to Chinese government sites.

The output directory starts empty every time. The portal plants faults a real one has (an
anti-bot challenge, a server error, a page slower than the timeout, deleted pages): the crawl's
log shows each of them, and the demo says which they are.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from gkcrawl.demo.registry import write_registry
from gkcrawl.demo.site import Site, build_site

#: Marks a directory the demo made, so that a later demo may empty it (and no other).
MARKER = ".gkcrawl-demo"
CRAWL_ID = "demo"
#: The portal is local: no politeness delay, a short timeout for its deliberately slow page.
SETTINGS = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False",
            "CONCURRENT_REQUESTS_PER_DOMAIN": "8", "DOWNLOAD_TIMEOUT": "3", "RETRY_TIMES": "1",
            "RETRY_BACKOFF_BASE": "0.2", "LOG_LEVEL": "WARNING"}
FAULTS = {404: "page deleted (HTTP 404)", 412: "anti-bot challenge (HTTP 412), not retried",
          500: "server error (HTTP 500), retried then given up"}


class DemoError(RuntimeError):
    """The demo cannot run; the message is the one line to print."""


def fresh_directory(out: Path) -> None:
    """Empty ``out`` if an earlier demo made it; refuse any other non-empty directory."""
    if out.exists():
        if (out / MARKER).exists():
            shutil.rmtree(out)
        elif any(out.iterdir()):
            raise DemoError(f"{out} is not empty and was not made by gkcrawl demo; "
                            "name another with --dir")
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by gkcrawl demo: emptied by the next one\n", encoding="utf-8")


def planted_faults(site: Site) -> list[str]:
    """One line per fault the sample portal plants, as the crawl's log shows it."""
    lines = [f"  {path}: {FAULTS.get(status, f'HTTP {status}')}"
             for path, status in sorted(site.errors.items())]
    lines += [f"  {path}: answers after {delay:g} s, past the download timeout"
              for path, delay in sorted(site.slow.items())]
    return lines


def main_demo(out: Path) -> int:
    try:
        fresh_directory(out)
    except DemoError as exc:
        print(f"gkcrawl demo: {exc}", file=sys.stderr)
        return 2
    server = subprocess.Popen([sys.executable, "-u", "-m", "gkcrawl.demo.server", "--port", "0"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        if not base_url.startswith("http://127.0.0.1:"):
            print("gkcrawl demo: the sample portal did not start", file=sys.stderr)
            return 1
        print(f"Sample portal: {base_url}/")
        print("It plants these faults on purpose; the crawl's log below reports each of them:")
        print("\n".join(planted_faults(build_site())))
        registry_csv = write_registry(out / "portals.csv", base_url)
        reports = out / "reports.jsonl"
        crawl = [sys.executable, "-m", "scrapy", "crawl", "portals",
                 "-a", f"portals={registry_csv}",
                 "-O", str(reports), "-s", f"ARCHIVE_DIR={out / 'archive'}",
                 "-s", f"CRAWL_ID={CRAWL_ID}"]
        for name, value in SETTINGS.items():
            crawl += ["-s", f"{name}={value}"]
        env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "gkcrawl.settings"}
        print("Crawling:", " ".join(crawl[2:]), flush=True)
        status = subprocess.run(crawl, env=env, check=False).returncode
    finally:
        server.kill()
        server.wait()
    if status != 0:
        print(f"gkcrawl demo: the crawl failed (exit {status})", file=sys.stderr)
        return status
    print_reports(reports)
    store = out / "archive" / "gkcrawl.sqlite3"
    archive = out / "archive" / CRAWL_ID
    print(f"\nWARC archive: {archive} "
          "(index.cdxj, summary.json, quarantine.jsonl beside the files)")
    print(f"Store: {store} -- try:\n"
          f"  gkcrawl stats --store {store} --registry {registry_csv} --html {out / 'stats.html'}\n"
          f"  gkcrawl export --format xlsx -o {out / 'reports.xlsx'} --store {store}")
    from gkcrawl.archive.verify import main_verify

    return main_verify([str(archive)])


def print_reports(reports: Path) -> None:
    """Each parsed report: year, organ, template, its identity checks, its URL."""
    found = [json.loads(line) for line in reports.read_text(encoding="utf-8").splitlines()]
    print(f"\n{len(found)} reports parsed -> {reports}")
    for report in sorted(found, key=lambda r: (r["organ"] or "", r["year"] or 0)):
        summary = {"pass": 0, "fail": 0, "uncertain": 0}
        for check in report["checks"]:
            summary[check["status"]] += 1
        print(f"  {report['year']}  {report['organ']:<28} {report['format']}  "
              f"identities {summary['pass']} pass / {summary['fail']} fail / "
              f"{summary['uncertain']} uncertain   {report['source_url']}")
