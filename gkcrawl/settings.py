"""Scrapy settings for gkcrawl: the values the project changes from Scrapy's defaults, each
with its reason, and the project's components.

gkcrawl's own settings (ARCHIVE_DIR, WARC_*, STORE_*, CRAWL_*, REPLAY_*, …) have their default
defined once, beside the component that reads them, and are all listed in docs/settings.md. Any
of the settings in ``FROM_ENVIRONMENT`` is also read from ``GKCRAWL_<NAME>``, so that scheduled
runs configure a crawl without editing code.
"""

import os

from gkcrawl import __version__
from gkcrawl.archive import ARCHIVE_DOWNLOADER_MIDDLEWARES, ARCHIVE_EXTENSIONS
from gkcrawl.items import REPORT_EXPORT_FIELDS

BOT_NAME = "gkcrawl"
SPIDER_MODULES = ["gkcrawl.spiders"]
NEWSPIDER_MODULE = "gkcrawl.spiders"
# scrapyd loads the project without our sub-commands (kingfisher-collect does the same)
if os.getenv("SCRAPY_PROJECT") is None:
    COMMANDS_MODULE = "gkcrawl.commands"

# --- identity and politeness ----------------------------------------------------------------
# Government portals get a crawler that names itself and where to read about it. An operator
# running a public crawl sets GKCRAWL_USER_AGENT to name themselves and a contact.
USER_AGENT = f"gkcrawl/{__version__} (+https://github.com/gkcrawl/gkcrawl; annual-report archiver)"
ROBOTSTXT_OBEY = True
# Many portals, each fetched gently: wide overall, narrow per domain.
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# 5xx and timeouts are retried with growing delays (RETRY_BACKOFF_BASE: 2 s, 4 s, 8 s;
# gkcrawl.crawl.middlewares.BackoffRetryMiddleware replaces Scrapy's RetryMiddleware, which
# retries at once); Retry-After is honoured.
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
DOWNLOAD_TIMEOUT = 60
# Reports are PDFs of a few MB; anything past this is not a report and wastes the archive.
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024
# Meta-refresh shells are followed (scrapy's MetaRefreshMiddleware), and so are long redirect
# chains.
METAREFRESH_ENABLED = True
METAREFRESH_MAXDELAY = 30
REDIRECT_MAX_TIMES = 10
COOKIES_ENABLED = True
# The JOBDIR dupefilter file is not trustworthy after a SIGKILL; the archive is
# (gkcrawl.crawl.resume).
DUPEFILTER_CLASS = "gkcrawl.crawl.resume.MemoryDupeFilter"
SCHEDULER = "gkcrawl.crawl.resume.ArchiveResumeScheduler"

# --- safety -------------------------------------------------------------------------------
# No telnet console and no remote-control HTTP server (on by default since Scrapy 2.19).
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# --- archive --------------------------------------------------------------------------------
# Every response is written to WARC as it comes off the wire (gkcrawl/archive); requests ask for
# gzip/deflate only, so warcio and pywb can replay what we archive (br/zstd break both).
EXTENSIONS = {**ARCHIVE_EXTENSIONS, "gkcrawl.crawl.summary.PortalSummary": 10,
              "gkcrawl.pipelines.quarantine.PipelineErrorQuarantine": 25}
DOWNLOADER_MIDDLEWARES = {
    **ARCHIVE_DOWNLOADER_MIDDLEWARES,
    # resumed and incremental crawls: the archive answers what it already holds
    "gkcrawl.crawl.resume.ArchiveLookupMiddleware": 900,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    # the public suffix list from tldextract's snapshot, never downloaded
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
    "gkcrawl.crawl.middlewares.OfflineSuffixCookiesMiddleware": 700,
    "gkcrawl.crawl.middlewares.BackoffRetryMiddleware": 550,
    # sees responses before the retry middleware (550); 412 is not a retry code: counted, not
    # retried
    "gkcrawl.crawl.middlewares.AntiBotMiddleware": 560,
    # Scrapy's redirects and decompression (same places), with what goes wrong named: a redirect
    # chain may come back to a URL once (a WAF's cookie check), twice is a loop; a gzip bomb
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "gkcrawl.crawl.middlewares.ChainRedirectMiddleware": 600,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "gkcrawl.crawl.middlewares.ChainMetaRefreshMiddleware": 580,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "gkcrawl.crawl.middlewares.BoundedDecompressionMiddleware": 590,
}

# --- the browser ------------------------------------------------------------------------------
# Pages whose report list is built by script (a portal with render=browser in the registry, or a
# report column whose markup shows it) are rendered by headless Chromium through scrapy-playwright
# (gkcrawl/crawl/browser.py), with the system's chromium (BROWSER_EXECUTABLE). The handler is
# Scrapy's HTTP/1.1 one until a page is to be rendered: a crawl that renders nothing imports no
# Playwright and starts no browser.
DOWNLOAD_HANDLERS = dict.fromkeys(("http", "https"), "gkcrawl.crawl.browser.BrowserDownloadHandler")
# A rendered page costs a CPU for a moment and ~50 MB: a few at a time, whatever
# CONCURRENT_REQUESTS is.
PLAYWRIGHT_MAX_PAGES_PER_CONTEXT = 4
# A page and its load within the download timeout (Playwright counts milliseconds).
PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT = DOWNLOAD_TIMEOUT * 1000
# Images, media and fonts are never asked for: a list needs none of them.
PLAYWRIGHT_ABORT_REQUEST = "gkcrawl.crawl.browser.skip_resource"

# --- pipelines: extract cells -> parse -> validate -> dedup (stores the copies) -> store
# -> quarantine
ITEM_PIPELINES = {
    "gkcrawl.pipelines.extract.ExtractCellsPipeline": 100,
    "gkcrawl.pipelines.parse.ParsePipeline": 200,
    "gkcrawl.pipelines.validate.ValidatePipeline": 300,
    "gkcrawl.pipelines.dedup.DedupPipeline": 400,
    "gkcrawl.pipelines.store.StorePipeline": 800,
    "gkcrawl.pipelines.quarantine.QuarantinePipeline": 900,
}

# --- output ---------------------------------------------------------------------------------
FEED_EXPORT_ENCODING = "utf-8"
FEED_EXPORT_FIELDS = REPORT_EXPORT_FIELDS
# A CSV cell holds one value: -O reports.csv writes each report as its panel row (flat, short
# names, as gkcrawl export); JSON Lines keeps the tables nested.
FEED_EXPORTERS = {"csv": "gkcrawl.outputs.feeds.PanelCsvItemExporter"}
LOG_LEVEL = "INFO"

# --- from the environment --------------------------------------------------------------------
# GKCRAWL_<NAME> sets <NAME>: where the archive and the store are, who runs the crawl, the
# distributed run's queue, whether the parser keeps blank and lost cells null. The store is
# SQLite next to the WARC files unless STORE_URL names a PostgreSQL database (gkcrawl/store).
FROM_ENVIRONMENT = ("ARCHIVE_DIR", "STORE_URL", "STORE_PATH", "WARC_OPERATOR", "USER_AGENT",
                    "LOG_LEVEL", "REDIS_URL", "WORKER_ID", "PARSE_STRICT_BLANKS")
globals().update({name: value for name in FROM_ENVIRONMENT
                  if (value := os.getenv(f"GKCRAWL_{name}"))})

# --- distributed crawls ----------------------------------------------------------------------
# With REDIS_URL set, workers share one crawl (gkcrawl/crawl/distributed.py, scrapy-redis): give
# them the same CRAWL_ID, a STORE_URL on PostgreSQL, and (optionally) a WORKER_ID each. Without it
# nothing of scrapy-redis is imported.
if globals().get("REDIS_URL"):
    SCHEDULER = "gkcrawl.crawl.distributed.RedisScheduler"
    DUPEFILTER_CLASS = "scrapy_redis.dupefilter.RFPDupeFilter"
    # the keys are per run; a worker that finishes first must not flush them under the others
    SCHEDULER_PERSIST = True
    # an idle worker waits while another is busy: new links may be queued for it
    EXTENSIONS["gkcrawl.crawl.distributed.SharedRunIdle"] = 20
