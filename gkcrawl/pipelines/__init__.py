"""Item pipelines, one job each, in the order of ITEM_PIPELINES:
extract cells -> parse -> (validate -> dedup -> store) -> quarantine."""
