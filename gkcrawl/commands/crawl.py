"""``scrapy crawl`` for this project: a registry error, an unknown spider argument, a crawl id
that cannot name a directory or a portal to render with no browser installed is a usage error,
and a store that cannot be opened an error, each said in one line before anything is fetched; a
run that lost archive records or did not finish exits non-zero (Scrapy itself exits 0 on
both)."""

from __future__ import annotations

import argparse
import inspect
import sys
from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from gkcrawl.archive.config import check_crawl_id
from gkcrawl.crawl import browser, registry
from gkcrawl.store import StoreError, open_store, store_target

#: Exit statuses (docs/operations.md): the run did not finish or lost archive records; it
#: finished, but documents it reached are neither stored nor quarantined in the store.
EXIT_FAILED, EXIT_LOST = 1, 3
#: Finish reasons of a run that did its job.
GOOD_FINISH = ("finished", "closespider_itemcount", "closespider_pagecount", "closespider_timeout",
               "closespider_errorcount")


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError
        spargs = opts.spargs
        assert self.settings is not None
        crawl_id = self.settings.get("CRAWL_ID")
        if crawl_id:
            try:
                check_crawl_id(str(crawl_id))
            except ValueError as exc:
                raise UsageError(f"CRAWL_ID: {exc}", print_help=False) from None
        assert self.crawler_process
        try:
            spidercls = self.crawler_process.spider_loader.load(args[0])
        except KeyError:  # Scrapy says so itself below
            spidercls = None
        unknown = unknown_arguments(spidercls, spargs) if spidercls is not None else []
        if unknown:
            raise UsageError(f"unknown spider argument(s) for {args[0]}: {', '.join(unknown)}",
                             print_help=False)
        if args[0] == "portals":
            try:
                portals = registry.load(spargs.get("portals"), spargs.get("only"))
            except registry.RegistryError as exc:
                raise UsageError(str(exc), print_help=False) from None
            rendered = [p.id for p in portals if p.render == registry.BROWSER]
            if rendered:
                try:
                    browser.executable(self.settings)
                except browser.BrowserUnavailable as exc:
                    raise UsageError(f"{', '.join(rendered)}: render={registry.BROWSER}, but {exc}",
                                     print_help=False) from None
        try:  # opened (and migrated) once now, so that a crawl never starts without it
            open_store(store_target(self.settings)).close()
        except StoreError as exc:
            print(f"scrapy crawl {args[0]}: {exc}", file=sys.stderr)
            self.exitcode = 1
            return
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
            return
        stats = crawler.stats
        if (stats.get_value("warc/write_error", 0)
                or stats.get_value("finish_reason") not in GOOD_FINISH):
            self.exitcode = EXIT_FAILED
        elif stats.get_value("quarantine/unstored", 0):
            self.exitcode = EXIT_LOST  # documents neither stored nor quarantined in the store


def unknown_arguments(spidercls: type[Any], spargs: dict[str, str]) -> list[str]:
    """The ``-a`` arguments the spider does not take (a typo would otherwise be ignored);
    arguments starting with ``_`` are the scheduler's own (scrapyd's ``_job``)."""
    params = inspect.signature(spidercls.__init__).parameters.values()
    known = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return sorted(name for name in spargs if name not in known - {"self"}
                  and not name.startswith("_"))
