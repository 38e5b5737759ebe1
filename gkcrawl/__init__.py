"""gkcrawl: crawl, archive and parse China's government information disclosure annual reports."""

__version__ = "0.1.0"

#: Bumped whenever a change to the parser can change a parsed value; every stored report records it
#: so that ``gkcrawl replay --reparse-older-than`` knows what to redo.
PARSER_VERSION = "2"
