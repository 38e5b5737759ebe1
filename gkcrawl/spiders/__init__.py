"""The crawl's spiders: ``portals`` (discovery) and ``replay`` (the archive, offline)."""
