"""Bytes -> text, and what kind of document the bytes are.

Older government sites serve GBK/GB2312 with the charset only in a ``<meta>`` tag, error pages
claim iso-8859-1, and attachments come without a useful Content-Type. w3lib resolves HTML the way
browsers do (header, BOM, meta; gb2312/gbk read as gb18030); charset-normalizer is the last resort.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes
from w3lib.encoding import html_body_declared_encoding, html_to_unicode, to_unicode

from gkcrawl.parsing.document import Unreadable

HTML, TEXT, PDF, DOCX, OLE2 = "html", "text", "pdf", "docx", "ole2"

_PDF_MAGIC = b"%PDF-"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SNIFF_BYTES = 2048
_HTML_HINT = re.compile(rb"<(!doctype\s+html|html|head|body|table|meta|div|p)[\s>/]", re.IGNORECASE)
#: Share of control characters above which decoded "text" is binary garbage.
MAX_CONTROL_SHARE = 0.02
_FALLBACK = "gb18030"
#: What a decoder puts where bytes are not of the encoding it was told.
REPLACEMENT = "\ufffd"


def sniff(body: bytes, content_type: str | None = None, url: str | None = None) -> str:
    """The document kind, from the bytes first and the declared type and URL second."""
    head = body[:_SNIFF_BYTES].lstrip()
    if head.startswith(_PDF_MAGIC) or _PDF_MAGIC in body[:1024]:
        return PDF
    if head.startswith(_ZIP_MAGIC):
        return DOCX
    if head.startswith(_OLE2_MAGIC):
        return OLE2
    ctype = (content_type or "").lower()
    if "html" in ctype:
        return HTML
    if ctype.startswith("text/plain"):
        return TEXT  # a declared plain text is read as text, whatever the URL's suffix
    if _HTML_HINT.search(head):
        return HTML
    path = (url or "").lower().split("?")[0]
    if path.endswith((".html", ".htm", ".shtml", ".jhtml")):
        return HTML
    return TEXT


def decode_html(body: bytes, content_type: str | None = None,
                url: str | None = None) -> tuple[str, str]:
    """(text, encoding) of an HTML page, found as a browser finds it (w3lib): BOM, header,
    ``<meta>``, valid UTF-8, then a guess from the bytes with the URL's top-level domain as a
    hint (``.cn``: GB18030)."""
    encoding, text = _html_to_unicode(content_type, body, url)
    if REPLACEMENT in text:
        # a header that names a charset the body is not in (a GBK page served as UTF-8): the
        # page's own <meta> is believed when it decodes the body with fewer losses
        declared = html_body_declared_encoding(body)
        if declared and codec_name(declared) != codec_name(encoding):
            other = to_unicode(body, declared)
            if other.count(REPLACEMENT) < text.count(REPLACEMENT):
                return other, declared
    return text, encoding


def _html_to_unicode(content_type: str | None, body: bytes, url: str | None) -> tuple[str, str]:
    """w3lib's ``html_to_unicode``; UTF-8, else GB18030, where its encoding detector fails.

    The detector (frostwork, in Rust) panics on some truncated ``<meta`` tags, and pyo3 raises
    the panic as a ``BaseException``, which no parser's ``except Exception`` would catch."""
    try:
        return html_to_unicode(content_type, body, url=url)
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException:  # noqa: BLE001 - pyo3's PanicException (see above)
        for encoding in ("utf-8", _FALLBACK):
            try:
                return encoding, body.decode(encoding)
            except UnicodeDecodeError:
                continue
        return _FALLBACK, body.decode(_FALLBACK, errors="replace")


def decode_text(body: bytes) -> str:
    """Plain text of unknown encoding; raise Unreadable for binary garbage."""
    for encoding in ("utf-8-sig", _FALLBACK):
        try:
            text = body.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        guess = _detect(body)
        text = body.decode(guess or _FALLBACK, errors="replace")
    controls = sum(1 for ch in text if ch < " " and ch not in "\t\r\n\f")
    if text and controls / len(text) > MAX_CONTROL_SHARE:
        raise Unreadable("not_a_report", "binary data, not a document this parser reads")
    return text


def _detect(body: bytes) -> str | None:
    best = from_bytes(body[:65536]).best()
    return best.encoding if best else None


def codec_name(encoding: str) -> str:
    """The codec's own name, so that two spellings of one encoding compare equal."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return encoding.lower()
