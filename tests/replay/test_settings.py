"""A replay archives nothing again: the archive's components are left out of its settings, not
disabled (Scrapy warns about a disabled component on every run), and WARC_ENABLED stays the
crawl's own setting."""

from __future__ import annotations

from scrapy.crawler import Crawler, CrawlerRunner
from scrapy.settings import Settings
from scrapy.utils.conf import build_component_list

from gkcrawl.archive import ARCHIVE_DOWNLOADER_MIDDLEWARES, ARCHIVE_EXTENSIONS
from gkcrawl.archive.config import WARC_ENABLED
from gkcrawl.spiders.replay import ReplaySpider


def test_a_replay_leaves_the_archive_components_out() -> None:
    project = Settings()
    project.setmodule("gkcrawl.settings", priority="project")
    # as ``scrapy crawl replay`` makes it: the project's settings merged into the crawler's
    crawler = CrawlerRunner(project).create_crawler(Crawler(ReplaySpider, project))
    settings = crawler.settings
    extensions = build_component_list(settings.getwithbase("EXTENSIONS"))
    middlewares = build_component_list(settings.getwithbase("DOWNLOADER_MIDDLEWARES"))
    assert not set(ARCHIVE_EXTENSIONS) & set(extensions)
    assert not set(ARCHIVE_DOWNLOADER_MIDDLEWARES) & set(middlewares)
    assert "gkcrawl.pipelines.quarantine.PipelineErrorQuarantine" in extensions
    assert "gkcrawl.replay.responses.ArchiveResponseMiddleware" in middlewares
    assert settings.getbool("WARC_ENABLED", WARC_ENABLED)  # not turned off
    assert "gkcrawl.archive.extension.WarcArchiver" in build_component_list(
        project.getwithbase("EXTENSIONS"))  # the crawl's own settings are untouched
