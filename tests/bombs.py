"""Documents that cost far more to parse than their size says, built in milliseconds: a DOCX whose
``document.xml`` is hundreds of MB of zeros, a PDF with a Flate bomb, a PDF of a million text
operators, a DOCX of a million paragraphs (for the parsing limits' tests)."""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib

from gkcrawl.demo.render.docx import render_docx
from gkcrawl.demo.render.reports import random_report

MiB = 1 << 20
DOCUMENT_XML = "word/document.xml"
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#: zlib's fastest level that still compresses a run of zeros some 230 times
FAST_LEVEL = 3


def zlib_bomb(size: int, chunk: int = MiB) -> bytes:
    """A valid zlib stream of ``size`` (a multiple of ``chunk``) bytes of ``0``: one deflate block
    of a chunk, repeated (a full flush makes each copy stand alone), the end and the checksum.
    A gigabyte takes half a second (the checksum), not the seconds deflating it would."""
    zeros = b"0" * chunk
    raw = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = raw.compress(zeros) + raw.flush(zlib.Z_FULL_FLUSH)
    end = raw.flush()
    checksum = 1
    for _ in range(size // chunk):
        checksum = zlib.adler32(zeros, checksum)
    return b"\x78\xda" + block * (size // chunk) + end + struct.pack(">I", checksum)


def with_document_xml(xml_parts: list[bytes], level: int = FAST_LEVEL) -> bytes:
    """A rendered report DOCX whose ``word/document.xml`` is the concatenation of ``xml_parts``
    (written part by part: never held whole)."""
    source = zipfile.ZipFile(io.BytesIO(render_docx(random_report(random.Random(1)))))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as package:
        for entry in source.infolist():
            if entry.filename != DOCUMENT_XML:
                package.writestr(entry, source.read(entry))
        with package.open(DOCUMENT_XML, "w", force_zip64=True) as xml:
            for part in xml_parts:
                xml.write(part)
    return out.getvalue()


def docx_bomb(size: int = 300 * MiB) -> bytes:
    """A DOCX whose one paragraph is ``size`` bytes of zeros (a few MB compressed)."""
    head = f'<?xml version="1.0"?><w:document xmlns:w="{_W}"><w:body><w:p><w:r><w:t>'.encode()
    zeros = b"0" * MiB
    return with_document_xml([head, *(zeros for _ in range(size // MiB)),
                              b"</w:t></w:r></w:p></w:body></w:document>"])


def docx_of_paragraphs(n: int) -> bytes:
    """A DOCX of ``n`` short paragraphs: a few MB inflated, each paragraph a handful of XML
    elements, so python-docx's tree takes hundreds of MB (no inflation limit applies)."""
    head = f'<?xml version="1.0"?><w:document xmlns:w="{_W}"><w:body>'.encode()
    paragraphs = (b"".join(b"<w:p><w:r><w:t>%d</w:t></w:r></w:p>" % i
                           for i in range(start, min(n, start + 10_000)))
                  for start in range(0, n, 10_000))
    return with_document_xml([head, *paragraphs, b"</w:body></w:document>"],
                             level=zlib.Z_BEST_COMPRESSION)


def pdf(content: bytes, *, flate: bool = True) -> bytes:
    """A one-page PDF (Helvetica) whose page content stream is ``content`` (already
    Flate-compressed when ``flate``)."""
    stream_dict = b"/Length %d" % len(content) + (b" /Filter /FlateDecode" if flate else b"")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
         b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< " + stream_dict + b" >>\nstream\n" + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def pdf_bomb(size: int = 1024 * MiB) -> bytes:
    """A PDF whose content stream inflates to ``size`` bytes (about a MB on disk for a GiB)."""
    return pdf(zlib_bomb(size))


def pdf_of_operators(n: int = 1_000_000) -> bytes:
    """A PDF that shows ``n`` characters one text operator each (tens of KB compressed)."""
    content = b"BT /F1 1 Tf 10 800 Td " + b"(a) Tj " * n + b"ET"
    return pdf(zlib.compress(content, 9))
