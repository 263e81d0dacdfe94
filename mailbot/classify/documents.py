"""Text out of attached documents, best effort and never raising.

.docx (python-docx, paragraphs and tables), .pdf (pypdf), .txt/.html, and
legacy Word/WPS/RTF through antiword or catdoc (Debian packages) with a
timeout; for OLE files they cannot read, the UTF-16 runs inside are used.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
import zipfile
import zlib
from html import unescape

from ..charsets import decode_bytes
from ..htmltext import html_to_text
from ..parse import Attachment

TOOL_TIMEOUT = 20  # seconds for antiword / catdoc
MAX_BYTES, MAX_CHARS, MAX_PDF_PAGES = 50 * 1024 * 1024, 200_000, 50  # reading limits
# python-docx reads every part and holds each XML element as objects (~600 bytes of memory
# per byte of a dense document.xml): a .docx whose XML parts inflate past MAX_XML in all, or
# whose parts past MAX_BYTES, is read only in part by the regex reader (a "docx bomb").
MAX_XML = 8 * 1024 * 1024
# A PDF's Flate streams can inflate ~1000x (a 1 MB file to 1 GB) and pypdf would hold each
# decoded stream and its parsed operators (~5x more): before pypdf reads a PDF, every Flate
# stream but images (never decoded for text) is inflated in steps and thrown away, counting
# bytes; past MAX_PDF_INFLATED in all, the PDF is not read for text (a "PDF bomb").
MAX_PDF_INFLATED = 16 * 1024 * 1024
_IMAGE = re.compile(rb"/Subtype\s*/Image\b")
_UTF16_RUN = re.compile(  # readable text: Chinese, its punctuation, printable ASCII
    r"[\u4e00-\u9fff\u3000-\u303f\uff01-\uff5e\u2014-\u201d\u2026 -~\r\n\t]{4,}")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def document_text(att: Attachment) -> str:
    """Text of a document attachment; "" for images, other files and any failure.

    The format is sniffed from the bytes, not the name (a ".wps" from WPS
    Office is often a .docx zip or an OLE file): .docx through python-docx
    (paragraphs and tables in document order; raw XML if python-docx refuses
    it), .odt from its XML, PDF through pypdf (first pages only), Word 97 /
    WPS OLE files and RTF through antiword or catdoc (subprocess with a
    timeout, when installed; for OLE files the raw UTF-16 text when that
    holds more Chinese), .txt/.html decoded.  Never raises.
    """
    try:
        data = att.payload
        if not data or len(data) > MAX_BYTES:
            return ""
        name = att.filename.lower().strip(" .")
        if data.startswith(b"PK\x03\x04"):
            text = _zip_text(data)
        elif b"%PDF-" in data[:1024]:
            text = _pdf_text(data)
        elif data.startswith((b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"{\\rtf")):
            text = _tool_text(data, rtf=data.startswith(b"{\\rtf"))
        elif att.content_type == "text/html" or name.endswith((".htm", ".html")):
            text = html_to_text(decode_bytes(data)[0])[0]
        elif att.content_type == "text/plain" or name.endswith((".txt", ".csv")):
            text = decode_bytes(data)[0]
        else:
            text = ""
        return text[:MAX_CHARS]
    except Exception:  # noqa: BLE001 - a broken document must never stop the mail
        return ""


def _zip_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sizes = {i.filename: i.file_size for i in z.infolist()}
        if "word/document.xml" in sizes:
            xml = sum(n for name, n in sizes.items() if name.endswith((".xml", ".rels")))
            if xml <= MAX_XML and sum(sizes.values()) <= MAX_BYTES:
                try:
                    return _docx_text(data)
                except Exception:  # noqa: BLE001, S110 - no rels, strict OOXML...: read the XML
                    pass
            return _xml_text(_head(z, "word/document.xml"), "w")
        if "content.xml" in sizes:  # OpenDocument (.odt)
            return _xml_text(_head(z, "content.xml"), "text", "table:table-cell")
    return ""


def _head(z: zipfile.ZipFile, name: str) -> bytes:
    """The first MAX_XML bytes of member *name*: never inflates a zip bomb further."""
    with z.open(name) as member:
        return member.read(MAX_XML)


def _docx_text(data: bytes) -> str:
    import docx
    from docx.table import Table

    def cell_text(cell) -> list[str]:
        lines = [p.text for p in cell.paragraphs]
        for table in cell.tables:
            lines += rows(table)
        return [x for x in lines if x.strip()]

    def rows(table) -> list[str]:
        out = []
        for row in table.rows:
            seen, cells = set(), []
            for cell in row.cells:
                if id(cell._tc) not in seen:  # merged cells repeat
                    seen.add(id(cell._tc))
                    cells.append(cell_text(cell))
            if len(cells) == 1:  # a one-cell "frame" table: keep its lines
                out += cells[0]
            else:
                out.append("\t".join(" ".join(c) for c in cells))
        return out

    lines = []
    for block in docx.Document(io.BytesIO(data)).iter_inner_content():
        lines += rows(block) if isinstance(block, Table) else [block.text]
    return "\n".join(lines)


def _xml_text(xml: bytes, ns: str, cell: str = "w:tc") -> str:
    """Crude text of WordprocessingML / ODF XML: paragraphs on lines, cells tab-separated."""
    text = xml.decode("utf-8", "replace")
    text = re.sub(rf"</{ns}:p>\s*(?=</{cell}>)", "", text)
    text = re.sub(rf"</{cell}>", "\t", text)
    text = re.sub(rf"</{ns}:p>|</(?:w:tr|table:table-row)>|<{ns}:(?:br|line-break)\b[^>]*>",
                  "\n", text)
    text = re.sub(rf"<{ns}:tab\b[^>]*>", "\t", text)
    return unescape(re.sub(r"<[^>]+>", "", text)).strip()


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    if pdf_inflated(data, MAX_PDF_INFLATED) > MAX_PDF_INFLATED:
        return ""
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        reader.decrypt("")
    return "\n".join(page.extract_text() or "" for page in reader.pages[:MAX_PDF_PAGES])


def pdf_inflated(data: bytes, limit: int) -> int:
    """Bytes the Flate streams of PDF *data* (images aside) inflate to, in all; counting
    stops once past *limit*.  Streams are inflated in 1 MB steps and never kept."""
    view, total = memoryview(data), 0
    for start, body in _streams(data):
        near = max(0, start - 4096)
        head = data.rfind(b"obj", near, start)  # the stream's dictionary follows it
        if _IMAGE.search(data, head if head >= 0 else near, start):
            continue
        total += _inflated(view, body, limit - total)
        if total > limit:
            break
    return total


def _streams(data: bytes):
    """(keyword offset, data offset) of each ``stream`` keyword followed by an end of
    line (``endstream`` aside): a plain search, ten times quicker than a regex on 1 MB."""
    pos = data.find(b"stream")
    while pos >= 0:
        after = pos + 6
        if data[max(0, pos - 3):pos] != b"end":
            eol = data[after:after + 2]
            if eol == b"\r\n":
                yield pos, after + 2
            elif eol[:1] in (b"\n", b"\r"):
                yield pos, after + 1
        pos = data.find(b"stream", after)


def _inflated(view: memoryview, start: int, limit: int) -> int:
    """Bytes the zlib stream at *start* of *view* inflates to (0 if none starts there),
    counted up to just past *limit*."""
    inflater, size, pos, step = zlib.decompressobj(), 0, start, 1 << 20
    try:
        while not inflater.eof and size <= limit:
            chunk = inflater.unconsumed_tail
            if not chunk:
                if pos >= len(view):
                    break
                chunk, pos = view[pos:pos + 65536], pos + 65536
            size += len(inflater.decompress(chunk, step))
    except zlib.error:
        pass  # not zlib data (uncompressed, DCT, ...) or damaged: what inflated counts
    return size


def _tool_text(data: bytes, rtf: bool) -> str:
    """Word 97 / WPS (OLE) or RTF through antiword, then catdoc; for OLE files
    the UTF-16 text runs of the raw file when that holds more Chinese."""
    commands = [] if rtf else [["antiword", "-m", "UTF-8.txt", "-w", "0"]]
    commands.append(["catdoc", "-d", "utf-8", "-w"])
    text = ""
    with tempfile.NamedTemporaryFile(suffix=".rtf" if rtf else ".doc") as f:
        f.write(data)
        f.flush()
        for cmd in (c for c in commands if shutil.which(c[0])):
            try:
                done = subprocess.run([*cmd, f.name], capture_output=True, timeout=TOOL_TIMEOUT,
                                      check=False, stdin=subprocess.DEVNULL)
            except (OSError, subprocess.SubprocessError):
                continue
            if done.returncode == 0 and done.stdout.strip():
                text = done.stdout.decode("utf-8", "replace")
                break
    if not rtf:  # what `strings -el` would show: Word keeps Chinese text as UTF-16LE
        wide = data[: len(data) // 2 * 2].decode("utf-16-le", "replace")
        runs = "\n".join(_UTF16_RUN.findall(wide))
        if len(_HAN.findall(runs)) > len(_HAN.findall(text)):
            text = runs.replace("\r", "\n")
    return text
