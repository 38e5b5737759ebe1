"""Project sub-commands for ``scrapy`` (``COMMANDS_MODULE``)."""
