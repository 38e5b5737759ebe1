"""Extract cells: a document's bytes -> rows of cells (:class:`~gkcrawl.parsing.document.Document`).

One extractor per rendering: HTML pages, plain-text copies, DOCX, PDF with a text layer, and legacy
``.doc``/``.wps`` through an external converter. :func:`extract_document` sniffs the kind from
the bytes and hands them to the right one; nothing here knows the report template.
"""

from __future__ import annotations

from gkcrawl.parsing.document import Document, Unreadable
from gkcrawl.parsing.extract import decode
from gkcrawl.parsing.extract.inflate import PARSE_MAX_INFLATED

MiB = 1 << 20
#: Larger inputs are refused before parsing: no real report page comes near these sizes.
MAX_BYTES = {decode.HTML: 20 * MiB, decode.TEXT: 20 * MiB, decode.PDF: 200 * MiB,
             decode.DOCX: 100 * MiB, decode.OLE2: 100 * MiB}


def extract_document(body: bytes, content_type: str | None = None, url: str | None = None, *,
                     max_inflated: int = PARSE_MAX_INFLATED) -> Document:
    """Bytes -> rows of cells (raises Unreadable with a one-line reason). A DOCX or PDF that
    would inflate past ``max_inflated`` bytes is refused before it is inflated."""
    kind = decode.sniff(body, content_type, url)
    if not body.strip():
        raise Unreadable("empty", "the document is empty", kind)
    if len(body) > MAX_BYTES[kind]:
        raise Unreadable("too_large", f"{kind} of {len(body) / MiB:.1f} MiB is over the "
                                      f"{MAX_BYTES[kind] // MiB} MiB limit", kind)
    try:
        return _extract(kind, body, content_type, url, max_inflated)
    except Unreadable as exc:
        exc.kind = exc.kind or kind
        raise


def _extract(kind: str, body: bytes, content_type: str | None, url: str | None,
             max_inflated: int) -> Document:
    if kind == decode.HTML:
        from gkcrawl.parsing.extract.html import extract_html

        text, _ = decode.decode_html(body, content_type, url)
        return extract_html(text)
    if kind == decode.PDF:
        from gkcrawl.parsing.extract.pdf import extract_pdf

        return extract_pdf(body, max_inflated)
    if kind == decode.DOCX:
        from gkcrawl.parsing.extract.docx import extract_docx

        return extract_docx(body, max_inflated)
    if kind == decode.OLE2:
        from gkcrawl.parsing.extract.legacy import extract_legacy

        suffix = ".wps" if (url or "").lower().split("?")[0].endswith(".wps") else ".doc"
        return extract_legacy(body, suffix, max_inflated)
    from gkcrawl.parsing.extract.text import extract_text

    return extract_text(decode.decode_text(body))
