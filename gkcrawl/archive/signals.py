"""Custom Scrapy signal of the archive layer.

Send it from a spider callback or pipeline to attach facts about a page (portal id, page
role, classifier verdict, referrer, depth) to the archived response, as a WARC ``metadata``
record concurrent to that response's record::

    self.crawler.signals.send_catch_log(
        warc_metadata, response=response, fields={"portal": "gd-gz", "role": "report"}
    )
"""

#: kwargs: ``response`` (a Response archived by WarcArchiver), ``fields`` (mapping name → value),
#: and from a downloader middleware ``request`` (the response's own: it is not yet attached)
warc_metadata = object()
