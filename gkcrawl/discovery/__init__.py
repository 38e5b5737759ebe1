"""Finding annual reports on a portal without per-site code: link scoring, CMS pagination
adapters, and the classifier that says what a fetched page is."""
