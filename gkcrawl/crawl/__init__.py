"""Finding annual reports on a portal without per-site code: link scoring, CMS pagination
adapters, and the classifier that says what a fetched page is."""

#: request.meta key of the crawl's own bookkeeping (portal, hops, role, referrer, list)
META_KEY = "gk"
