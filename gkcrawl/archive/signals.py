"""Custom Scrapy signals of the archive layer.

Send ``warc_metadata`` from a spider callback or pipeline to attach facts about a page (portal
id, page role, classifier verdict, referrer, depth) to the archived response, as a WARC
``metadata`` record concurrent to that response's record::

    self.crawler.signals.send_catch_log(
        warc_metadata, response=response, fields={"portal": "gd-gz", "role": "report"}
    )

A component that fetches outside Scrapy's downloader (a browser) hands each exchange to the
archive with ``warc_exchange``, and what it made of a page with ``warc_conversion``.
"""

#: kwargs: ``response`` (a Response archived by WarcArchiver), ``fields`` (mapping name → value),
#: and from a downloader middleware ``request`` (the response's own: it is not yet attached)
warc_metadata = object()

#: kwargs: ``exchange`` (a :class:`~gkcrawl.archive.writer.Exchange` fetched outside Scrapy's
#: downloader, by a browser); the archiver writes the request/response pair and answers with the
#: response record's pointer (in ``send_catch_log``'s results), None when it wrote nothing
warc_exchange = object()

#: kwargs: ``refers_to`` (the record id of an archived response), ``url``, ``body`` and
#: ``content_type`` of that response's content in another form (a page's rendered DOM): written as
#: a ``conversion`` record
warc_conversion = object()
