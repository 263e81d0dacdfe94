"""Text out of attached documents, best effort and never raising.

.docx (python-docx, paragraphs and tables), .pdf (pypdf), .txt/.html (also
Word's web pages and XML saved as .doc), RTF decoded here, and legacy
Word/WPS through antiword or catdoc (Debian packages) with a timeout; for OLE
files they cannot read, the UTF-16 runs inside are used.  :func:`read_document`
also tells a damaged file (cut off, corrupt) from one without text (a scan).
"""

from __future__ import annotations

import codecs
import email
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
MAX_RTF_TOKENS, MAX_RTF_DEPTH = 2_000_000, 256  # hostile RTF: bounded time and memory
MAX_MHT_HEADER = 64 * 1024  # the stdlib parser is quadratic in a header's length
# A PDF's Flate streams can inflate ~1000x (a 1 MB file to 1 GB) and pypdf would hold each
# decoded stream and its parsed operators (~5x more): before pypdf reads a PDF, every Flate
# stream but images (never decoded for text) is inflated in steps and thrown away, counting
# bytes; past MAX_PDF_INFLATED in all, the PDF is not read for text (a "PDF bomb").
MAX_PDF_INFLATED = 16 * 1024 * 1024
_IMAGE = re.compile(rb"/Subtype\s*/Image\b")
_UTF16_RUN = re.compile(  # readable text: Chinese, its punctuation, printable ASCII
    r"[\u4e00-\u9fff\u3000-\u303f\uff01-\uff5e\u2014-\u201d\u2026 -~\r\n\t]{4,}")
_HAN = re.compile(r"[\u4e00-\u9fff]")
# names of files meant to hold a document's text: any of these that cannot be read is damaged
DOCUMENT_EXTENSIONS = (".doc", ".docx", ".docm", ".dot", ".dotx", ".wps", ".wpt", ".rtf",
                       ".odt", ".pdf")
_META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_RTF_TOKEN = re.compile(r"\\([a-z]+)(-?\d{1,10})? ?|\\'([0-9a-f]{2})|\\(.)|([{}])|[\r\n]+"
                        r"|([^\\{}\r\n]+)", re.IGNORECASE | re.DOTALL)
_RTF_HIDDEN = frozenset((  # destinations holding no text of the document
    "fonttbl", "colortbl", "stylesheet", "info", "pict", "object", "listtable",
    "listoverridetable", "rsidtbl", "generator", "themedata", "colorschememapping", "datastore",
    "latentstyles", "xmlnstbl", "filetbl", "revtbl", "fldinst", "userprops"))
_RTF_CHARS = {"par": "\n", "line": "\n", "row": "\n", "sect": "\n", "page": "\n", "\n": "\n",
              "\r": "\n", "cell": "\t", "tab": "\t", "emdash": "—", "endash": "–", "bullet": "•",
              "lquote": "‘", "rquote": "’", "ldblquote": "“", "rdblquote": "”", "~": " ",
              "_": "-", "\\": "\\", "{": "{", "}": "}"}
_RTF_FONT = re.compile(r"\\f(\d{1,5})[^;{}]{0,200}?\\fcharset(\d{1,3})")  # bounded: linear
_FCHARSET = {128: "cp932", 129: "cp949", 134: "gb18030", 136: "big5", 161: "cp1253",
             162: "cp1254", 204: "cp1251", 238: "cp1250"}  # \fcharsetN -> codec


def document_text(att: Attachment) -> str:
    """Text of a document attachment; "" for images, other files and any failure
    (see :func:`read_document`)."""
    return read_document(att)[0]


def read_document(att: Attachment) -> tuple[str, bool]:
    """(text, damaged) of a document attachment; text "" for images, other files and
    any failure; *damaged* when a document could not be opened (cut off, corrupt), not
    when it opened without text (a scan) or is no document at all (a photo).

    The format is sniffed from the bytes, not the name (a ".wps" from WPS
    Office is often a .docx zip or an OLE file): .docx through python-docx
    (paragraphs and tables in document order; raw XML if python-docx refuses
    it), .odt from its XML, PDF through pypdf (first pages only), RTF by
    :func:`rtf_text`, Word 97 / WPS OLE files through antiword or catdoc
    (subprocess with a timeout, when installed; the raw UTF-16 text when that
    holds more Chinese), web pages (also Word's HTML, MHT and XML saved as .doc)
    and .txt decoded.  Never raises.
    """
    name = att.filename.lower().strip(" .")
    try:
        data = att.payload
        if len(data) > MAX_BYTES:
            return "", False
        text = _text(data, att.content_type, name)
    except Exception:  # noqa: BLE001 - a broken document must never stop the mail
        return "", True
    if text is None:  # a document's name on bytes of no known format (or none at all)
        return "", name.endswith(DOCUMENT_EXTENSIONS)
    return text[:MAX_CHARS], False


def _text(data: bytes, content_type: str, name: str) -> str | None:
    """Text of *data* by its format (sniffed), None when it has none known."""
    if data.startswith(b"PK\x03\x04"):
        return _zip_text(data)
    if b"%PDF-" in data[:1024]:
        return _pdf_text(data)
    if data.startswith(b"{\\rtf"):
        return rtf_text(data)
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _tool_text(data)
    html = content_type == "text/html" or name.endswith((".htm", ".html", ".mht", ".mhtml"))
    mht = name.endswith((".mht", ".mhtml", ".doc")) or content_type == "multipart/related"
    markup = _markup_text(data, html, mht) if data else None
    if markup is None and (content_type == "text/plain" or name.endswith((".txt", ".csv"))
                           or name.endswith(DOCUMENT_EXTENSIONS) and _plain(data)):
        return decode_bytes(data)[0]  # also a plan typed in Notepad and saved as .doc
    return markup


def _plain(data: bytes) -> bool:
    """Whether *data* reads as text: no NUL, no other control characters but line
    ends and tabs in its first 4 KB."""
    head = data[:4096]
    return bool(head) and not any(b < 32 and b not in (9, 10, 13, 12) for b in head)


def _markup_text(data: bytes, html: bool, mht: bool) -> str | None:
    """Text of a web page, web archive (MHT) or Word 2003 / flat ODF XML, sniffed from
    the first bytes whatever the name (Word saves them as ".doc" too); None for other
    bytes.  *html*: the content type or name says it is HTML; *mht*: the name may be a
    web archive's (.mht, .mhtml, .doc) — any other file starting like a mail is none."""
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0  # a UTF-8 byte order mark
    head = data[bom:bom + 2048].lstrip().lower()  # only the head: a video is no copy
    if not head.startswith(b"<") and not html and not \
            head.startswith((b"mime-version:", b"content-type:")):
        return None
    data = data[bom:] if bom else data
    if head.startswith((b"mime-version:", b"content-type:")):
        return _mht_text(data) if mht else None
    if head.startswith(b"<") and b"<w:worddocument" in head:
        return _xml_text(data[:MAX_XML], "w")
    if head.startswith(b"<") and b"<office:document" in head:
        return _xml_text(data[:MAX_XML], "text", "table:table-cell")
    if html or head.startswith(b"<") and (b"<html" in head or b"<!doctype html" in head):
        m = _META_CHARSET.search(data[:4096])
        return html_to_text(decode_bytes(data, m and m[1].decode("ascii"))[0])[0]
    return None


def _mht_text(data: bytes) -> str | None:
    """Text of the first web page (else plain text) part of an MHT web archive; None when
    its header block is not ended within :data:`MAX_MHT_HEADER` bytes (the stdlib parser
    takes time in the square of a header's length: a crafted one would stall the intake)."""
    end = min((i for i in (data.find(b"\r\n\r\n"), data.find(b"\n\n")) if i >= 0), default=-1)
    if not 0 <= end <= MAX_MHT_HEADER or any(len(line) > 4096 for line in data[:end].split(b"\n")):
        return None
    parts = [p for p in email.message_from_bytes(data).walk()
             if p.get_content_type() in ("text/html", "text/plain")]
    if not parts:
        return ""
    part = next((p for p in parts if p.get_content_type() == "text/html"), parts[0])
    text = decode_bytes(part.get_payload(decode=True) or b"", part.get_content_charset())[0]
    return html_to_text(text)[0] if part.get_content_type() == "text/html" else text


def _codec(codepage: int) -> str:
    """Python codec of Windows code page *codepage* (936: GB18030, a GBK superset)."""
    name = {936: "gb18030", 10000: "mac_roman"}.get(codepage, f"cp{codepage}")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "cp1252"


def rtf_text(data: bytes) -> str:
    """Text of an RTF document.  ``\\'xx`` bytes are joined and decoded in the code page
    of ``\\ansicpgN`` (Word/WPS write Chinese as GBK, ``\\ansicpg936``; default 1252) or
    of the font's ``\\fcharsetN``; ``\\uN`` characters are read and their ``\\ucN``
    fallback bytes skipped; font, colour and style tables, pictures and ``{\\*...}``
    destinations are left out; paragraphs end lines, table cells end with a tab."""
    rtf = data.decode("latin-1")
    at = rtf.find("{\\fonttbl")
    table = rtf[at:at + 65536] if at >= 0 else ""  # the font table, not the whole file
    fonts = {int(f): _FCHARSET[int(c)] for f, c in _RTF_FONT.findall(table) if int(c) in _FCHARSET}
    out: list[str] = []
    raw, stack, ansi = bytearray(), [], "cp1252"
    state = {"codec": ansi, "uc": 1, "hidden": False}  # of the current group
    skip, pos, deeper = 0, 0, 0  # fallback bytes to skip after a \uN; groups past the cap
    for _ in range(MAX_RTF_TOKENS):  # a real plan takes far fewer; a hostile file stops here
        if (m := _RTF_TOKEN.match(rtf, pos)) is None:
            break
        pos = m.end()
        word, arg, hexa, sym, brace, run = m.groups()
        if hexa is None and run is None:
            if not (word or sym or brace):
                continue  # a line break in the file: no text
            out.append(raw.decode(state["codec"], "replace"))
            raw.clear()
        if brace:
            if brace == "{" and len(stack) >= MAX_RTF_DEPTH:
                deeper += 1  # nested past any real document: the state is not saved again
            elif brace == "{":
                stack.append(dict(state))
            elif deeper:
                deeper -= 1
            elif stack:
                state = stack.pop()
            skip = 0
        elif word == "bin":
            pos += max(0, int(arg or 0))  # binary data
        elif state["hidden"]:
            continue
        elif hexa or run:
            chunk = bytes.fromhex(hexa) if hexa else run.encode("latin-1")
            raw += chunk[skip:]
            skip = max(0, skip - len(chunk))
        elif word == "u":
            out.append(chr(int(arg or 0) % 65536))
            skip = state["uc"]
        elif word == "uc":
            state["uc"] = int(arg or 0)
        elif word == "ansicpg":
            ansi = state["codec"] = _codec(int(arg or 1252))
        elif word == "f":
            state["codec"] = fonts.get(int(arg or 0), ansi)
        elif sym == "*" or word in _RTF_HIDDEN:
            state["hidden"] = True
        elif (word or sym) in _RTF_CHARS:
            out.append(_RTF_CHARS[word or sym])
    out.append(raw.decode(state["codec"], "replace"))
    return "".join(out).encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _zip_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sizes = {i.filename: i.file_size for i in z.infolist()}
        if "word/document.xml" in sizes:
            xml = sum(n for name, n in sizes.items() if name.endswith((".xml", ".rels")))
            if xml <= MAX_XML and sum(sizes.values()) <= MAX_BYTES:
                try:
                    return _docx_text(z.read("word/document.xml"))
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


_DOCX_LIFT = ("ins", "moveTo", "sdt", "sdtContent", "smartTag", "customXml")
_DOCX_DROP = ("del", "moveFrom", "sdtPr", "sdtEndPr", "smartTagPr", "customXmlPr")


def _docx_text(xml: bytes) -> str:
    """The text of a .docx's main part *xml*, read with python-docx's own element classes
    (opening the whole package as ``docx.Document`` does — every part, relationship and
    style — took half the time and is not needed for the text)."""
    from docx.document import Document
    from docx.oxml import parse_xml
    from docx.oxml.ns import qn
    from docx.table import Table
    from lxml import etree

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

    root = parse_xml(xml)
    # python-docx reads paragraphs and tables, runs and hyperlinks, as direct children only:
    # text typed with 修订 on (w:ins, w:moveTo), in content controls (w:sdt), smart tags
    # (a chsdate date) or custom XML is lifted into place; deleted text and properties go
    etree.strip_elements(root, *(qn(f"w:{t}") for t in _DOCX_DROP), with_tail=False)
    etree.strip_tags(root, *(qn(f"w:{t}") for t in _DOCX_LIFT))
    lines = []
    for block in Document(root, None).iter_inner_content():
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


def _tool_text(data: bytes) -> str:
    """Word 97 / WPS (OLE) through antiword, then catdoc; the UTF-16 text runs of
    the raw file when that holds more Chinese."""
    commands = [["antiword", "-m", "UTF-8.txt", "-w", "0"], ["catdoc", "-d", "utf-8", "-w"]]
    text = ""
    with tempfile.NamedTemporaryFile(suffix=".doc") as f:
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
    # what `strings -el` would show: Word keeps Chinese text as UTF-16LE
    wide = data[: len(data) // 2 * 2].decode("utf-16-le", "replace")
    runs = "\n".join(_UTF16_RUN.findall(wide))
    if len(_HAN.findall(runs)) > len(_HAN.findall(text)):
        text = runs.replace("\r", "\n")
    return text
