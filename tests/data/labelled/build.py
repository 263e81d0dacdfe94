"""Labelled evaluation set: realistic raw mails for the 2024 “接力行” campaign, with answers.

    /work/main/.venv/bin/python tests/data/labelled/build.py          # write NN_<slug>.eml + labels.toml
    /work/main/.venv/bin/python tests/data/labelled/build.py --check  # only verify what is on disk

Every message is written byte for byte the way the Chinese mail programs send it (QQ Mail web,
Foxmail, Outlook, campus Coremail, 163/126, Apple Mail / iPhone, Thunderbird, Android, Exchange),
following scripts/demo_mail.py and tests/data/make_fixtures.py: CRLF line ends, gb2312 labels on
GBK bytes, raw 8-bit GBK headers from Foxmail, QQ's gb18030 attachment names, RFC 2231
continuations, RFC 2047 words inside Outlook's parameters.

labels.toml holds, per file, what a careful secretariat clerk would decide:
  school        official full name as in /work/shared/data/sichuan_schools.toml ("" = cannot tell)
  kinds         subset of plan/news/video (in that order) the sender itself delivers in this mail
  status        ignored / quarantined win; otherwise accepted (school known) or needs_school
  links         the deliverable links a clerk would record (not signature homepages, not links
                inside quoted notices); url exactly as the mail gives it (HTML entities decoded,
                trailing full-width punctuation excluded)
  plan_missing  template fields absent from a plan
  note          why the mail is hard

Deterministic: no clock, no uuid4; every token comes from sha256 of a fixed key, python-docx
packages are re-zipped with fixed timestamps.  Standard library + python-docx only.
"""

from __future__ import annotations

import base64
import email
import hashlib
import html as htmllib
import io
import json
import quopri
import re
import struct
import sys
import tomllib
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import policy
from email.utils import format_datetime
from html import escape
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
SCHOOLS_TOML = Path("/work/shared/data/sichuan_schools.toml")
CST = timezone(timedelta(hours=8))
CRLF = b"\r\n"
CONTACT = "344523819@qq.com"                    # the notice's 联系邮箱
SECRETARIAT = "思政会秘书处"
CAMPAIGN = "“道中华之美 美后勤之道”四川高校博物馆（校史馆）@接力行"
NOTICE_TITLE = f"关于开展{CAMPAIGN}的通知"
KINDS = ("plan", "news", "video")
FIELDS = ("活动背景", "活动组织", "活动时间", "活动地点", "活动流程", "活动联系人及电话")
PLATFORMS = ("wechat_article", "wechat_channels", "bilibili", "douyin", "kuaishou",
             "tencent_video", "weibo", "youku", "qq_large_attachment",
             "netease_large_attachment", "baidu_pan", "other")
PUBLIC = ("qq.com", "foxmail.com", "163.com", "126.com", "yeah.net", "sina.com", "139.com")


# ================================================================ deterministic tokens
def tok(key: str, n: int, alphabet: str = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
                                             "23456789") -> str:
    out, i = "", 0
    while len(out) < n:
        for b in hashlib.sha256(f"{key}/{i}".encode()).digest():
            out += alphabet[b % len(alphabet)]
        i += 1
    return out[:n]


def hexs(key: str, n: int) -> str:
    return tok(key, n, "0123456789abcdef")


def digits(key: str, n: int) -> str:
    return tok(key, n, "0123456789")


WX = "-_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


# ================================================================ attachment payloads
DC_BITS = bytes([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
DC_CODES = ["00", "010", "011", "100", "101", "110", "1110", "11110", "111110", "1111110",
            "11111110", "111111110"]


def jpeg(key: str, w: int = 64, h: int = 48) -> bytes:
    """Baseline YCbCr JPEG, one flat colour per 8x8 block (DC only), like scripts/demo_mail.py."""
    seed = hashlib.sha256(key.encode()).digest()
    prev, bits = [0, 0, 0], []
    c0 = [40 + seed[i] % 160 for i in range(3)]
    for by in range(h // 8):
        for bx in range(w // 8):
            R, G, B = ((c0[i] + bx * 9 * (i + 1) - by * 7) % 256 for i in range(3))
            for i, v in enumerate((0.299 * R + 0.587 * G + 0.114 * B,
                                   128 - 0.168736 * R - 0.331264 * G + 0.5 * B,
                                   128 + 0.5 * R - 0.418688 * G - 0.081312 * B)):
                dc = 8 * (round(v) - 128)
                diff, prev[i] = dc - prev[i], dc
                s = abs(diff).bit_length()
                extra = format(diff if diff >= 0 else diff + (1 << s) - 1, f"0{s}b") if s else ""
                bits.append(DC_CODES[s] + extra + "0")
    stream = "".join(bits)
    stream += "1" * (-len(stream) % 8)
    data = bytes(int(stream[i:i + 8], 2) for i in range(0, len(stream), 8))

    def seg(marker: bytes, payload: bytes) -> bytes:
        return b"\xff" + marker + struct.pack(">H", len(payload) + 2) + payload
    exif = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00"   # empty big-endian IFD, like a phone
    return (b"\xff\xd8" + seg(b"\xe1", exif) + seg(b"\xfe", f"IMG {key}".encode())
            + seg(b"\xdb", b"\x00" + b"\x01" * 64)
            + seg(b"\xc0", struct.pack(">BHHB", 8, h, w, 3) + b"\x01\x11\0\x02\x11\0\x03\x11\0")
            + seg(b"\xc4", b"\x00" + DC_BITS + bytes(range(12)))
            + seg(b"\xc4", b"\x10" + bytes([1] + [0] * 15) + b"\x00")
            + seg(b"\xda", b"\x03\x01\x00\x02\x00\x03\x00\x00\x3f\x00")
            + data.replace(b"\xff", b"\xff\x00") + b"\xff\xd9")


def png(key: str, w: int = 40, h: int = 30) -> bytes:
    seed = hashlib.sha256(key.encode()).digest()
    rows = b"".join(b"\x00" + bytes((seed[c] + x * 3 + y * (c + 1)) % 256
                                    for x in range(w) for c in range(3)) for y in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def _rezip(data: bytes) -> bytes:
    """python-docx stamps zip entries with the current time: re-zip with a fixed one."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, (2024, 7, 1, 9, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, src.read(info.filename))
    return out.getvalue()


def docx(title: str | None = None, paragraphs: list[str] = (), table: list[tuple[str, str]] = (),
         after: list[str] = (), pictures: list[bytes] = (), author: str = "Administrator") -> bytes:
    """A real .docx via python-docx: title, paragraphs, an optional 2-column table, pictures."""
    import docx as pydocx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = pydocx.Document()
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = "宋体", Pt(12)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    if title:
        for line in title.split("\n"):
            p = doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = p.add_run(line)
            run.bold, run.font.size = True, Pt(16)
    for text in paragraphs:
        doc.add_paragraph(text)
    if table:
        t = doc.add_table(rows=0, cols=2)
        t.style = "Table Grid"
        for k, v in table:
            cells = t.add_row().cells
            cells[0].text, cells[1].text = k, v
            cells[0].width, cells[1].width = Cm(3.5), Cm(12.5)
    for text in after:
        doc.add_paragraph(text)
    for pic in pictures:
        doc.add_picture(io.BytesIO(pic), width=Cm(12))
    cp = doc.core_properties
    cp.author = cp.last_modified_by = author
    cp.title, cp.comments, cp.revision = title.split("\n")[0] if title else "", "", 3
    cp.created = datetime(2024, 6, 28, 9, 0, 0)
    cp.modified = datetime(2024, 7, 1, 9, 0, 0)
    buf = io.BytesIO()
    doc.save(buf)
    return _rezip(buf.getvalue())


def pdf_cn(lines: list[str], width: int = 38) -> bytes:
    """A one-page PDF with Chinese text (STSong-Light, UniGB-UCS2-H, with a ToUnicode CMap),
    the shape WPS/Word 'export as PDF' of a plain document reduces to."""
    wrapped = []
    for line in lines:
        while len(line) > width:
            wrapped.append(line[:width])
            line = "　　" + line[width:]
        wrapped.append(line)
    ops = " ".join(f"<{s.encode('utf-16-be').hex().upper()}> Tj T*" for s in wrapped)
    content = f"BT /F1 12 Tf 18 TL 50 790 Td {ops} ET".encode("ascii")
    ranges = [f"<{h:02X}00> <{h:02X}FF> <{h:02X}00>" for h in range(256)]
    blocks = "\n".join(f"{len(ranges[i:i + 100])} beginbfrange\n" + "\n".join(ranges[i:i + 100])
                       + "\nendbfrange" for i in range(0, 256, 100))
    cmap = ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n"
            "<0000> <FFFF>\nendcodespacerange\n" + blocks + "\nendcmap\n"
            "CMapName currentdict /CMap defineresource pop\nend\nend").encode("ascii")
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>"),
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
            (b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H"
            b" /DescendantFonts [6 0 R] /ToUnicode 8 0 R >>"),
            (b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo"
            b" << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 7 0 R"
            b" /DW 1000 >>"),
            (b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox"
            b" [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880"
            b" /StemV 93 >>"),
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(cmap), cmap),
            (b"<< /Producer (WPS Office) /Creator (WPS \xce\xc4\xd7\xd6) /CreationDate"
            b" (D:20240710093000+08'00') >>")]
    out, offsets = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n"), []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += (b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objs) + 1, len(objs), xref))
    return bytes(out)


def wps(text: str) -> bytes:
    """A valid OLE2 compound file (what .wps is) whose WordDocument stream holds UTF-16LE text.
    Layout: header, FAT sector 0, directory sector 1, stream in sectors 2..9 (4096 bytes)."""
    free, end, fatsect, nostream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    body = text.encode("utf-16-le")[:4096]
    body += b"\x00" * (4096 - len(body))
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
              + struct.pack("<I", 0) + struct.pack("<I", free) * 108)
    fat = [fatsect, end, *range(3, 10), end] + [free] * (128 - 10)

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        raw = (name.encode("utf-16-le") + b"\x00\x00") if name else b""
        return (raw.ljust(64, b"\x00") + struct.pack("<HBB", len(raw), kind, 1)
                + struct.pack("<III", nostream, nostream, child) + bytes(16) + bytes(4)
                + bytes(16) + struct.pack("<IQ", start, size))
    dirs = (entry("Root Entry", 5, 1, end, 0) + entry("WordDocument", 2, nostream, 2, 4096)
            + entry("", 0, nostream, 0, 0) * 2)
    return header + struct.pack("<128I", *fat) + dirs + body


def exe_stub(key: str) -> bytes:
    """MZ/PE header of a Windows executable (not runnable, but unmistakably an .exe)."""
    dos = bytearray(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8" + bytes(43))
    dos[0x3C:0x40] = struct.pack("<I", 0x80)
    dos += b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21"
    dos += b"This program cannot be run in DOS mode.\r\r\n$" + bytes(7)
    dos = dos.ljust(0x80, b"\x00") + b"PE\x00\x00" + struct.pack("<HH", 0x14C, 3)
    return bytes(dos) + hashlib.sha256(key.encode()).digest() * 28


def p7m(key: str) -> bytes:
    """An S/MIME enveloped-data blob (DER header, then ciphertext-looking bytes)."""
    body = b"".join(hashlib.sha256(f"{key}{i}".encode()).digest() for i in range(40))
    head = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x03\xa0\x82"
    inner = head + struct.pack(">H", len(body)) + body
    return b"\x30\x82" + struct.pack(">H", len(inner)) + inner


# ================================================================ encodings
def ew(text: str, label: str, codec: str | None = None, maxlen: int = 75) -> str:
    """RFC 2047 B-encoded words split on character boundaries, folded with CRLF SP."""
    codec = codec or label
    words, cur, room = [], "", maxlen - len(f"=?{label}?B??=")
    for ch in text:
        if cur and len(base64.b64encode((cur + ch).encode(codec))) > room:
            words.append(cur)
            cur = ""
        cur += ch
    words.append(cur)
    return "\r\n ".join(f"=?{label}?B?{base64.b64encode(w.encode(codec)).decode()}?="
                        for w in words)


def rfc2231(param: str, value: str, chunk: int = 48, charset: str = "UTF-8") -> str:
    pct = [quote(ch.encode("utf-8"), safe="") for ch in value]
    segs = [""]
    for t in pct:
        if segs[-1] and len(segs[-1]) + len(t) > chunk:
            segs.append("")
        segs[-1] += t
    if len(segs) == 1:
        return f"{param}*={charset}''{segs[0]}"
    return ";\r\n ".join(f"{param}*{i}*={charset + chr(39) * 2 if i == 0 else ''}{s}"
                         for i, s in enumerate(segs))


def b64body(data: bytes) -> bytes:
    enc = base64.b64encode(data)
    return CRLF.join(enc[i:i + 76] for i in range(0, len(enc), 76)) + CRLF


def qpbody(data: bytes) -> bytes:
    return quopri.encodestring(data).replace(b"\n", CRLF) + CRLF


# ================================================================ clients
@dataclass
class Client:
    name: str
    label: str            # charset label written on text parts
    codec: str            # codec actually used for the bytes
    cte: str              # text transfer encoding: base64 / quoted-printable / 8bit
    alt: bool             # text/plain + text/html alternative
    fname: str            # attachment name style: b / raw / qq / rfc2231 / apple
    hdr: str              # header style: b / raw
    html_cte: str = ""    # transfer encoding of the html part (default: cte)
    quote_name: bool = True
    extra: tuple = ()
    date_suffix: str = ""


CLIENTS = {
    "qq": Client("qq", "gb18030", "gb18030", "base64", True, "qq", "b", extra=(
        "X-Priority: 3", "X-QQ-MIME: TCMime 1.0 by Tencent", "X-Mailer: QQMail 2.x",
        "X-QQ-Mailer: QQMail 2.x")),
    "foxmail": Client("foxmail", "GB2312", "gbk", "base64", True, "raw", "raw",
                      html_cte="quoted-printable", extra=(
                          "X-Priority: 3", "X-GUID: {GUID}", "X-Has-Attach: {HASATT}",
                          "X-Mailer: Foxmail 7.2.25.228[cn]")),
    "outlook": Client("outlook", "gb2312", "gbk", "base64", True, "b", "b",
                      html_cte="quoted-printable", extra=(
                          "X-Mailer: Microsoft Outlook 16.0", "Thread-Index: {TI}",
                          "Content-Language: zh-cn")),
    "coremail": Client("coremail", "UTF-8", "utf-8", "base64", True, "b", "b",
                       quote_name=False, date_suffix=" (GMT+08:00)", extra=(
                           "X-Priority: 3", "X-Originating-IP: [{IP}]",
                           ("X-Mailer: Coremail Webmail Server Version XT5.0.13 build 20230627"
                           "(4d0ea9f2)\r\n Copyright (c) 2002-2024 www.mailtech.cn {CMTAG}"),
                           "X-CM-TRANSID: {CMID}--.{CM4}S2", "X-Coremail-Locale: zh_CN",
                           "X-CM-SenderInfo: {CMSI}/")),
    "netease": Client("netease", "GBK", "gbk", "base64", True, "b", "b", quote_name=False,
                      date_suffix=" (CST)", extra=(
                          "X-Priority: 3", "X-Originating-IP: [{IP}]",
                          ("X-Mailer: Coremail Webmail Server Version XT5.0.14 build 20240801"
                          "(9da12a7b)\r\n Copyright (c) 2002-2024 www.mailtech.cn {CMTAG}"),
                          "X-NTES-SC: AL_Qu2{NTES}", "X-CM-TRANSID: {CMID}--.{CM4}S2",
                          "X-Coremail-Locale: zh_CN")),
    "iphone": Client("iphone", "utf-8", "utf-8", "quoted-printable", True, "apple", "b",
                     quote_name=False, extra=("X-Mailer: iPhone Mail (21F90)",)),
    "applemail": Client("applemail", "utf-8", "utf-8", "quoted-printable", True, "apple", "b",
                        quote_name=False, extra=("X-Mailer: Apple Mail (2.3774.600.62)",)),
    "thunderbird": Client("thunderbird", "UTF-8", "utf-8", "8bit", False, "rfc2231", "b",
                          quote_name=False, extra=("User-Agent: Mozilla Thunderbird",
                                                   "Content-Language: zh-CN")),
    "android": Client("android", "UTF-8", "utf-8", "8bit", False, "raw", "raw",
                      quote_name=False, extra=("X-Mailer: NetEase Mail Master Android-7.19.3",)),
    "exchange": Client("exchange", "gb2312", "gbk", "base64", False, "b", "b", extra=(
        "Thread-Topic: {TOPIC}", "Thread-Index: {TI}", "Content-Language: zh-CN",
        "X-MS-Has-Attach:", "X-MS-TNEF-Correlator:", "X-MS-Exchange-Organization-AuthAs: Internal",
        "X-MS-Exchange-Organization-AuthSource: EXCH01.{DOMAIN}")),
}

CTYPES = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "doc": "application/msword", "pdf": "application/pdf", "jpg": "image/jpeg",
          "jpeg": "image/jpeg", "png": "image/png", "wps": "application/kswps",
          "exe": "application/x-msdownload", "scr": "application/octet-stream",
          "p7m": "application/pkcs7-mime; smime-type=enveloped-data"}

URL_RE = re.compile(r"https?://[!#-;=?-~]+")   # ASCII only: stops at full-width punctuation


@dataclass
class Mail:
    """One message. Attachments: (filename, bytes); inline: (cid, filename, bytes)."""
    client: str
    sender: str
    name: str
    subject: str
    when: str
    text: str | None = None
    html: str | None = None
    attachments: list = field(default_factory=list)
    inline: list = field(default_factory=list)
    rfc822: list = field(default_factory=list)       # (filename, Mail)
    to: list = field(default_factory=lambda: [(SECRETARIAT, CONTACT)])
    cc: list = field(default_factory=list)
    headers: list = field(default_factory=list)
    msgid: str | None = None
    label: str | None = None          # override the client's charset label (gb2312 -> GBK bytes)
    fname: str | None = None          # override the client's attachment-name style
    smime: bytes | None = None        # whole body is an S/MIME enveloped blob
    received: bool = True


class Writer:
    def __init__(self, mail: Mail, key: str):
        self.m, self.key = mail, key
        c = CLIENTS[mail.client]
        if mail.label:
            low = mail.label.lower()
            codec = "gbk" if low in ("gb2312", "gbk") else "gb18030" if low == "gb18030" \
                else "utf-8"
            c = Client(**{**c.__dict__, "label": mail.label, "codec": codec})
        if mail.fname:
            c = Client(**{**c.__dict__, "fname": mail.fname})
        self.c, self.nb = c, 0

    # --- low level --------------------------------------------------------------------
    def head(self, lines: list[str | bytes]) -> bytes:
        out = b""
        for line in lines:
            if isinstance(line, bytes):
                out += line + CRLF
            elif line.isascii():
                out += line.encode("ascii") + CRLF
            else:
                if self.c.hdr != "raw" and self.c.fname != "raw":
                    raise ValueError(f"non-ASCII header from {self.c.name}: {line!r}")
                out += line.encode(self.c.codec) + CRLF
        return out

    def hword(self, text: str) -> str:
        """A header phrase: raw text for raw clients, else RFC 2047 words."""
        if text.isascii() or self.c.hdr == "raw":
            return text
        return ew(text, self.c.label, self.c.codec)

    def addr(self, name: str, address: str) -> str:
        if not name:
            return address
        word = self.hword(name)
        if self.c.quote_name or word == name:
            return f'"{word}" <{address}>'
        return f"{word} <{address}>"

    def boundary(self) -> str:
        """Parts are built inside out: count down so the outermost multipart is number 1."""
        self.nb -= 1
        k, n = f"{self.key}/b{self.nb}", self.nb
        return {
            "qq": f"----=_NextPart_{hexs(k, 8)}_{hexs(k + 'x', 8)}_{hexs(k + 'y', 8)}".upper()
                  .replace("NEXTPART", "NextPart"),
            "foxmail": f"----=_{n:03d}_NextPart{digits(k, 12)}_=----",
            "outlook": f"----=_NextPart_{n - 1:03d}_{hexs(k, 4).upper()}_01DAD3B2."
                       f"{hexs(k + 'x', 8).upper()}",
            "exchange": f"_{n - 1:03d}_{tok(k, 20, B58)}EXCH01_",
            "coremail": f"----=_Part_{digits(k, 6)}_{digits(k + 'x', 9)}.{1719800000000 + n}",
            "netease": f"----=_Part_{digits(k, 6)}_{digits(k + 'x', 9)}.{1719800000000 + n}",
            "iphone": f"Apple-Mail-{self.uuid(k)}",
            "applemail": f"Apple-Mail=_{self.uuid(k)}",
            "thunderbird": f"------------{tok(k, 24, B58)}",
            "android": f"--_com.netease.mail_{digits(k, 13)}",
        }[self.c.name]

    @staticmethod
    def uuid(k: str) -> str:
        h = hexs(k, 32).upper()
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-A{h[17:20]}-{h[20:]}"

    # --- parts ------------------------------------------------------------------------
    def text_part(self, subtype: str, text: str) -> bytes:
        c = self.c
        cte = c.html_cte if (subtype == "html" and c.html_cte) else c.cte
        data = text.encode(c.codec)
        if cte == "base64":
            body = b64body(data.replace(b"\n", CRLF))
        elif cte == "quoted-printable":
            body = qpbody(data)
        else:
            body = data.replace(b"\n", CRLF) + CRLF
        extra = "; format=flowed" if c.name == "thunderbird" and subtype == "plain" else ""
        if c.name in ("coremail", "netease", "thunderbird", "android"):
            ct = f"Content-Type: text/{subtype}; charset={c.label}{extra}"
        else:
            ct = f'Content-Type: text/{subtype};\r\n\tcharset="{c.label}"'
        return self.head([ct, f"Content-Transfer-Encoding: {cte}", ""]) + body

    def multipart(self, subtype: str, parts: list[bytes], params: str = "") -> bytes:
        b = self.boundary()
        out = self.head([f'Content-Type: multipart/{subtype};{params}\r\n\tboundary="{b}"', ""])
        if self.c.name in ("qq", "foxmail", "thunderbird"):
            out += b"This is a multi-part message in MIME format." + CRLF + CRLF
        elif self.c.name in ("outlook", "exchange"):
            out += b"This is a multipart message in MIME format." + CRLF + CRLF
        for p in parts:
            out += b"--" + b.encode() + CRLF + p + CRLF
        return out + b"--" + b.encode() + b"--" + CRLF

    def attachment(self, filename: str, data: bytes, cid: str | None = None,
                   ctype: str | None = None) -> bytes:
        c = self.c
        ext = filename.rsplit(".", 1)[-1].lower()
        ctype = ctype or CTYPES.get(ext, "application/octet-stream")
        disp = "inline" if cid else "attachment"
        if filename.isascii():   # every client writes plain ASCII names as they are
            lines = [f'Content-Type: {ctype};\r\n\tname="{filename}"',
                     f'Content-Disposition: {disp};\r\n\tfilename="{filename}"']
        elif c.fname == "qq":
            enc = ew(filename, "gb18030", "gb18030", maxlen=999)
            lines = [(f'Content-Type: application/octet-stream;\r\n\tcharset="gb18030";'
                     f'\r\n\tname="{enc}"'), f'Content-Disposition: {disp}; filename="{enc}"']
            if ext in ("jpg", "png") and cid:
                lines[0] = f'Content-Type: {ctype};\r\n\tname="{enc}"'
        elif c.fname == "raw":
            lines = [f'Content-Type: {ctype};\r\n\tname="{filename}"',
                     f'Content-Disposition: {disp};\r\n\tfilename="{filename}"']
        elif c.fname == "rfc2231":
            lines = [f'Content-Type: {ctype};\r\n name="{ew(filename, "UTF-8", "utf-8", 999)}"',
                     f"Content-Disposition: {disp};\r\n " + rfc2231("filename", filename)]
        elif c.fname == "apple":
            lines = [f"Content-Disposition: {disp};\r\n\t"
                     + rfc2231("filename", filename, charset="utf-8").replace("\r\n ", "\r\n\t"),
                     (f'Content-Type: {ctype};\r\n\tx-unix-mode=0644;\r\n\t'
                     f'name="{ew(filename, "utf-8", "utf-8", 999)}"')]
        else:   # "b": Outlook / Coremail / 163: RFC 2047 words inside quoted parameters
            enc = ew(filename, c.label, c.codec, maxlen=999 if c.name != "outlook" else 75)
            lines = [f'Content-Type: {ctype};\r\n\tname="{enc}"',
                     f'Content-Disposition: {disp};\r\n\tfilename="{enc}"']
        if cid:
            lines.append(f"Content-ID: <{cid}>")
        return self.head([*lines, "Content-Transfer-Encoding: base64", ""]) + b64body(data)

    def message_part(self, filename: str, inner: bytes) -> bytes:
        enc = self.hword(filename) if self.c.fname != "raw" else filename
        return self.head([f'Content-Type: message/rfc822;\r\n\tname="{enc}"',
                          "Content-Transfer-Encoding: 8bit",
                          f'Content-Disposition: attachment;\r\n\tfilename="{enc}"', ""]) + inner

    # --- html rendering of a text body, per client ----------------------------------
    def to_html(self, text: str) -> str:
        def line(s: str) -> str:
            out, pos = "", 0
            for mt in URL_RE.finditer(s):
                out += escape(s[pos:mt.start()])
                u = escape(mt.group())
                out += f'<a href="{u}" target="_blank">{u}</a>' if self.c.name != "outlook" \
                    else f'<a href="{u}">{u}</a>'
                pos = mt.end()
            out += escape(s[pos:])
            return out.replace("　", "&nbsp;&nbsp;&nbsp;&nbsp;") or "<br>"
        lines = text.split("\n")
        imgs = "".join(f'<div><img src="cid:{cid}" width="640" style="max-width:100%"></div>'
                       for cid, _, _ in self.m.inline)
        n = self.c.name
        if n == "qq":
            body = "".join(f"<div>{line(s)}</div>" for s in lines) + imgs
            return ('<meta http-equiv="Content-Type" content="text/html; charset=GB18030">'
                    + body)
        if n == "foxmail":
            body = "".join(f"<div><span></span>{line(s)}</div>\r\n" for s in lines) + imgs
            return ('<html><head><meta http-equiv="content-type" content="text/html; '
                    'charset=GB2312"><style>body { line-height: 1.5; }body { font-size: 14px; '
                    'font-family: \'Microsoft YaHei UI\'; color: rgb(0, 0, 0); line-height: 1.5; }'
                    f'</style></head><body>\r\n{body}</body></html>')
        if n == "outlook":
            body = "".join(f"<p class=MsoNormal><span lang=EN-US>{line(s)}</span>"
                           "<o:p></o:p></p>\r\n" for s in lines) + imgs
            return ('<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-'
                    'microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word">'
                    '<head><meta http-equiv=Content-Type content="text/html; charset=gb2312">'
                    '<meta name=Generator content="Microsoft Word 15 (filtered medium)"></head>'
                    f'<body lang=ZH-CN link="#0563C1" vlink="#954F72" style=\'word-wrap:break-word'
                    f'\'><div class=WordSection1>\r\n{body}</div></body></html>')
        if n in ("coremail", "netease"):
            body = "<br>".join(line(s) for s in lines)
            return ('<div style="line-height:1.7;color:#000000;font-size:14px;font-family:Arial">'
                    f"{body}</div>{imgs}<br><br><span title=\"neteasefooter\"><p>&nbsp;</p></span>")
        body = "".join(f"<div>{line(s)}</div>" for s in lines) + imgs
        return ('<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8">'
                f'</head><body dir="auto">{body}</body></html>')

    # --- whole message ----------------------------------------------------------------
    def build(self) -> bytes:
        m, c = self.m, self.c
        text, html = m.text, m.html
        if html is None and text is not None and (c.alt or m.inline):
            html = self.to_html(text)
        if m.smime is not None:
            return self.headers(True) + self.head([
                ('Content-Type: application/pkcs7-mime;\r\n\tsmime-type=enveloped-data;'
                '\r\n\tname="smime.p7m"'), "Content-Transfer-Encoding: base64",
                'Content-Disposition: attachment;\r\n\tfilename="smime.p7m"', ""]) \
                + b64body(m.smime)
        if text is None and html is None:
            raise ValueError("empty mail")
        self.nb = 1 + (text is not None and html is not None) + bool(m.inline) \
            + bool(m.attachments or m.rfc822)
        if text is not None and html is not None:
            body = self.multipart("alternative", [self.text_part("plain", text),
                                                  self.text_part("html", html)])
        elif text is not None:
            body = self.text_part("plain", text)
        else:
            body = self.text_part("html", html)
        if m.inline:
            body = self.multipart("related", [body] + [self.attachment(f, d, cid)
                                                       for cid, f, d in m.inline],
                                  params=' type="multipart/alternative";' if text and html
                                  else "")
        parts = [self.attachment(*a) for a in m.attachments]
        parts += [self.message_part(f, render(inner, f"{self.key}/fwd{i}"))
                  for i, (f, inner) in enumerate(m.rfc822)]
        root = self.multipart("mixed", [body, *parts]) if parts else body
        return self.headers(bool(parts)) + root

    def headers(self, has_att: bool) -> bytes:
        m, c, k = self.m, self.c, self.key
        dt = datetime.fromisoformat(m.when).replace(tzinfo=CST)
        date = format_datetime(dt) + c.date_suffix
        _user, domain = m.sender.split("@")
        msgid = m.msgid or {
            "qq": f"tencent_{hexs(k, 36).upper()}@qq.com",
            "foxmail": f"{dt:%Y%m%d%H%M%S}{digits(k, 8)}@{domain}",
            "outlook": f"000001dad3b2${hexs(k, 8)}${hexs(k + 'y', 8)}$@{domain}",
            "exchange": f"{tok(k, 30, B58).upper()}@EXCH01.{domain}",
            "coremail": f"{hexs(k, 8)}.{hexs(k + 'a', 4)}.{hexs(k + 'b', 11)}.Coremail.{m.sender}",
            "netease": f"{hexs(k, 8)}.{hexs(k + 'a', 4)}.{hexs(k + 'b', 11)}.Coremail.{m.sender}",
            "iphone": f"{self.uuid(k)}@{domain}",
            "applemail": f"{self.uuid(k)}@{domain}",
            "thunderbird": f"{self.uuid(k).lower()}@{domain}",
            "android": f"{tok(k, 16, B58)}.{digits(k, 13)}@{domain}",
        }[c.name]
        fill = {"GUID": self.uuid(k + "g"), "HASATT": "yes" if has_att else "no",
                "TI": base64.b64encode(hashlib.sha256(k.encode()).digest()[:22]).decode(),
                "IP": f"10.{int(digits(k, 2))}.{int(digits(k + 'i', 2))}.{int(digits(k + 'j', 2))}",
                "CMTAG": "163com" if domain == "163.com" else "126com" if domain == "126.com"
                else domain.split(".")[0],
                "CMID": tok(k, 22, B58), "CM4": tok(k + "4", 5, B58), "NTES": tok(k, 40, B58),
                "CMSI": tok(k + "si", 24, "abcdefghijklmnopqrstuvwxyz0123456789"),
                "DOMAIN": domain, "TOPIC": ""}
        if c.name == "exchange":
            fill["TOPIC"] = self.hword(re.sub(r"^自动答复: ", "", m.subject))
        lines: list[str | bytes] = []
        if m.received:
            helo = {"qq.com": "out203-205-221-205.mail.qq.com", "foxmail.com":
                    "out162-62-57-64.mail.qq.com", "163.com": "m16.mail.163.com",
                    "126.com": "m15-112.126.com"}.get(
                domain, domain if domain.startswith("mail.") else f"mail.{domain}")
            lines.append(f"Received: from {helo} (unknown [{fill['IP'].replace('10.', '202.', 1)}])"
                         f"\r\n\tby newxmmxszc{int(digits(k, 1)) + 1}-{digits(k + 'r', 1)}.qq.com"
                         f" (NewMX) with SMTP id {hexs(k, 8).upper()}\r\n\tfor <{CONTACT}>; "
                         f"{format_datetime(dt + timedelta(seconds=3))}")
        from_name = self.addr(m.name, m.sender)
        to = ", ".join(self.addr(n, a) for n, a in m.to)
        subject = self.hword(m.subject)
        std = [f"Date: {date}", f"From: {from_name}", f"To: {to}"]
        if m.cc:
            std.append("Cc: " + ", ".join(self.addr(n, a) for n, a in m.cc))
        std += [f"Subject: {subject}", f"Message-ID: <{msgid}>"]
        if c.name == "qq":   # QQ web writes From/To/Subject, then Mime-Version, then Date
            std = std[1:-1] + ["Mime-Version: 1.0", std[0], std[-1]]
            lines += std + [*m.headers, *(h.format(**fill) for h in c.extra)]
        else:
            lines += std + [*m.headers, *(h.format(**fill) for h in c.extra), "MIME-Version: 1.0"]
        return self.head(lines)


def render(mail: Mail, key: str) -> bytes:
    return Writer(mail, key).build()



# ================================================================ campaign texts
WD = "一二三四五六日"
NUMS = "一二三四五六七八"


def cn_date(d: str, year: bool = True) -> str:
    t = datetime.fromisoformat(d)
    return f"{t.year}年{t.month}月{t.day}日" if year else f"{t.month}月{t.day}日"


def plan(org: str, venue: str, visit: str, contact: str, *, omit=(), host: str | None = None,
         feature: str = "展陈学校办学历程与育人成果", people: int = 40,
         title: str | None = None) -> list[str]:
    """The notice's six-field template filled in the way schools did (renumbered on omissions)."""
    start = datetime.fromisoformat(visit)
    t = [(start + timedelta(minutes=m)).strftime("%H:%M") for m in (0, 15, 75, 120, 135)]
    gather = f"在学校行政楼前集合乘车前往{host}" if host else f"在{venue}门口集合"
    values = {
        "活动背景": f"为深入贯彻落实思政会《{NOTICE_TITLE}》（川高后思协〔2024〕2号）要求，"
                    f"结合{venue}{feature}的特色，组织后勤党员、职工及勤工助学学生走进{venue}，"
                    "在参观学习中坚定文化自信、厚植家国情怀，并将学习感悟转化为提升后勤保障服务水平的"
                    "实际行动。",
        "活动组织": org,
        "活动时间": f"{cn_date(visit)}（星期{WD[start.weekday()]}）{t[0]}—{t[4]}",
        "活动地点": venue,
        "活动流程": f"1. {t[0]} {gather}、签到，强调安全注意事项；2. {t[1]}—{t[2]} "
                    f"讲解员带领参观{venue}；3. {t[2]}—{t[3]} 座谈交流，党员代表分享学习感悟；"
                    f"4. {t[3]} 合影留念，活动结束。预计参加人数{people}人。",
        "活动联系人及电话": contact,
    }
    out = [title or f"“道中华之美 美后勤之道”{venue}@接力行活动方案"]
    for f in FIELDS:
        if f not in omit:
            out.append(f"{NUMS[len(out) - 1]}、{f}：{values[f]}")
    return out


def rows(lines: list[str]) -> list[tuple[str, str]]:
    return [tuple(s.split("、", 1)[1].split("：", 1)) for s in lines[1:]]


def news(unit: str, day: str, venue: str, people: int, photographer: str,
         title: str | None = None) -> list[str]:
    d = cn_date(day, year=False)
    return [
        title or f"{unit}开展“道中华之美 美后勤之道”{venue}@接力行主题党日活动",
        (f"{d}下午，{unit}组织党员、职工及勤工助学学生{people}余人走进{venue}，开展“道中华之美 "
        "美后勤之道”四川高校博物馆（校史馆）@接力行主题党日活动。"),
        ("在讲解员的带领下，大家依次参观了各个展区，通过一件件珍贵的实物、一幅幅历史图片，"
        "深入了解了学校的发展历程和办学成就，感受到中华优秀传统文化的独特魅力。"),
        ("参观结束后，大家在座谈中纷纷表示，要把学习感悟转化为做好后勤保障服务的实际行动，"
        "以高质量党建推动后勤管理服务水平不断提升，为学校高质量发展贡献后勤力量。"),
        f"（供稿：{unit}　摄影：{photographer}）",
    ]


def newsdoc(lines: list[str], pics: list[bytes] = (), author: str = "Administrator") -> bytes:
    return docx(lines[0], lines[1:], pictures=pics, author=author)


def letter(greet: str, lines: list[str], sign: list[str], when: str | None = None) -> str:
    plain = ("一", "二", "三", "四", "五", "六", "“", "http", "【")
    body = [greet, *("　　" + s if s and not s.startswith(plain) else s for s in lines), ""]
    body += sign
    if when:
        body.append(cn_date(when))
    return "\n".join(body)


NOTICE_QUOTE = [
    "各会员单位：",
    "　　现将《" + NOTICE_TITLE + "》（川高后思协〔2024〕2号）及活动方案模板发给你们，"
    "请结合实际认真组织实施。",
    "　　1.开展活动前将活动方案（模板附后）分别在片区及思政联盟微信群发布。",
    ("　　2.“七.一”后，将参观新闻图片及文档发给片区组长，片区汇总后报思政会秘书处，"
    "秘书处将发布在思政会网站。"),
    ("　　3.“十.一”前，将学习感悟转化为实际行动，把展现2024年后勤新亮点新特色的视频或微信推文"
    "（含链接地址）发片区组长，片区汇总后报思政会秘书处，秘书处将在思政会网站及年会上展播。"),
    "附件：活动方案模板",
    "“道中华之美 美后勤之道”四川xx高校博物馆（校史馆）@接力行活动",
    "一、活动背景：根据本校博物馆（校史馆）特色，结合通知要求来介绍。",
    "二、活动组织：xx高校后勤党委（或党总支）",
    "三、活动时间：",
    "四、活动地点：",
    "五、活动流程：",
    "六、活动联系人及电话：",
    "",
    "四川省高校后勤协会思想政治工作委员会秘书处",
    "联系人：贺健 028-85707118　曾海蓉 028-85700909",
]
NOTICE_MSGID = "tencent_8E3F5A2B7C914D6E0A1B2C3D4E5F60718209@qq.com"
NOTICE_REPLY = [f"In-Reply-To: <{NOTICE_MSGID}>", f"References: <{NOTICE_MSGID}>"]
REMIND_SUBJECT = "关于报送“接力行”活动新闻及视频材料的提醒"
REMIND_MSGID = "tencent_1C2D3E4F5A6B7C8D9E0F1A2B3C4D5E6F7A08@qq.com"
REMIND_REPLY = [f"In-Reply-To: <{REMIND_MSGID}>", f"References: <{REMIND_MSGID}>"]


# ================================================================ link makers
def wx_short(k: str) -> str:
    return "https://mp.weixin.qq.com/s/" + tok(k, 22, WX)


def wx_long(k: str) -> str:
    return (f"https://mp.weixin.qq.com/s?__biz=Mz{tok(k, 10, B58)}==&mid=2247{digits(k, 6)}"
            f"&idx=1&sn={hexs(k, 32)}&chksm={hexs(k + 'c', 24)}#rd")


def bili(k: str) -> str:
    return f"https://www.bilibili.com/video/BV1{tok(k, 9, B58)}"


def b23(k: str) -> str:
    return f"https://b23.tv/{tok(k, 7, B58)}"


def douyin(k: str) -> str:
    return f"https://v.douyin.com/i{tok(k, 7, B58)}/"


def sph(k: str) -> str:
    return f"https://weixin.qq.com/sph/A{tok(k, 8, B58)}"


def kuaishou(k: str) -> str:
    return f"https://v.kuaishou.com/{tok(k, 6, B58)}"


def txv(k: str) -> str:
    return f"https://v.qq.com/x/page/{tok(k, 11, 'abcdefghijklmnopqrstuvwxyz0123456789')}.html"


def weibo(k: str) -> str:
    return f"https://video.weibo.com/show?fid=1034:50{digits(k, 14)}"


def youku(k: str) -> str:
    return f"https://v.youku.com/v_show/id_XNjQ{tok(k, 9, B58)}==.html"


def qq_ftn(k: str) -> str:
    return (f"https://wx.mail.qq.com/ftn/download?func=3&key={hexs(k, 40)}"
            f"&code={hexs(k + 'c', 8)}&k={hexs(k + 'k', 24)}")


def ne_ftn(k: str) -> str:
    return ("https://mail.163.com/large-attachment-download/index.html?p=X-NETEASE-HUGE-ATTACHMENT"
            f"&file={tok(k, 40, WX[2:])}&title={tok(k + 't', 12, WX[2:])}")


def pan(k: str) -> str:
    return f"https://pan.baidu.com/s/1{tok(k, 22, WX)}"


LK = {  # every deliverable link, shared by mail text and labels
    "swust_wx": wx_short("swust"), "swust_bili": bili("swust"),
    "cdutcm_wx": wx_long("cdutcm"), "suse_bili": bili("suse"), "suse_wx": wx_short("suse"),
    "cwnu_wx": wx_short("cwnu"), "swjtu_site": "https://hqbzb.swjtu.edu.cn/info/1012/3456.htm",
    "swufe_wx": wx_short("swufe"), "cdnu_wx": wx_long("cdnu"), "scpolicec_sph": sph("scpolicec"),
    "uestc_bili": bili("uestc") + "/?share_source=copy_web&vd_source=" + hexs("uestc-vd", 32),
    "xhu_b23": b23("xhu"), "cdtu_dy": douyin("cdtu"), "scun_ks": kuaishou("scun"),
    "swun_txv": txv("swun"), "cuit_wb": weibo("cuit"), "sctu_yk": youku("sctu"),
    "cdut_ftn": qq_ftn("cdut"), "nsmc_ftn": ne_ftn("nsmc"), "abtu_pan": pan("abtu"),
    "scvtc_wx": wx_short("scvtc"), "scvtc_sph": sph("scvtc"), "scvtc_bili": bili("scvtc"),
    "scvtc_dy": douyin("scvtc"), "anon_wx": wx_short("anon163"), "swjtu_wx": wx_long("swjtu"),
    "scu_list": "https://hqbzb.scu.edu.cn/info/1021/5678.htm", "njtc_bili": bili("njtc"),
}


# ================================================================ the mails
ENTRIES: list[tuple[str, dict, object]] = []


def label(school="", kinds=(), status=None, links=(), plan_missing=()) -> dict:
    """What a clerk records for one submission; status defaults to the rule."""
    return {"school": school, "kinds": list(kinds),
            "status": status or ("accepted" if school else "needs_school"),
            "links": [{"url": LK[u], "platform": p} for u, p in links],
            "plan_missing": list(plan_missing)}


def entry(slug, school="", kinds=(), status=None, links=(), plan_missing=(), note="", parts=(),
          credits=()):
    """Register a builder; status defaults to the rule (accepted / needs_school); *parts*
    (:func:`label` dicts) label the mails a bundle forwards, each a submission of its own;
    *credits* (school, kinds, filenames, plan_missing) the files a district leader attaches
    for its schools."""
    def deco(fn):
        ENTRIES.append((slug, {**label(school, kinds, status, links, plan_missing),
                               "note": note, "parts": list(parts), "credits": list(credits)}, fn))
        return fn
    return deco


SEC = "思政会秘书处老师："


# ---------------------------------------------------------------- plans
@entry("scu_plan_body_iphone", "四川大学", ["plan"],
       note="campus domain; the six template fields typed into the body on an iPhone (QP UTF-8); "
            "district leader in Cc")
def _():
    body = plan("四川大学后勤保障部党委", "四川大学博物馆", "2024-07-05 14:30",
                "王老师 028-85401236", feature="馆藏民族文物、书画与自然标本丰富")
    return Mail("iphone", "houqin@scu.edu.cn", "四川大学后勤保障部",
                "【活动方案】四川大学后勤保障部“道中华之美 美后勤之道”博物馆接力行活动方案",
                "2024-06-27 09:42:17",
                text=letter(SEC, ["您好！现将我部活动方案报送如下，请审阅。", "", *body],
                            ["四川大学后勤保障部党委"], "2024-06-27") + "\n\n发自我的iPhone",
                cc=[("四川师范大学后勤服务管理中心", "houqin@sicnu.edu.cn")])


@entry("swjtu_plan_docx_gb2312_zhe", "西南交通大学", ["plan"],
       note="Coremail labels subject, From and body gb2312 but writes the GBK-only 喆; plan only "
            "in a python-docx paragraph document")
def _():
    lines = plan("西南交通大学后勤党委", "西南交通大学校史馆", "2024-07-11 09:30",
                 "王喆 028-87600512", feature="“饮水思源、爱国荣校”的精神传承")
    return Mail("coremail", "hqdw@swjtu.edu.cn", "王喆",
                "西南交通大学后勤党委“道中华之美 美后勤之道”活动方案（联系人：王喆）",
                "2024-07-02 16:08:40", label="gb2312",
                text=letter("您好！", ["附件为我校后勤党委校史馆参观活动方案，请审阅。",
                                       "联系人：王喆，电话 028-87600512。"],
                            ["西南交通大学后勤党委", "王喆"]),
                attachments=[("西南交通大学后勤党委活动方案.docx",
                              docx(lines[0], lines[1:], author="王喆"))])


@entry("sicau_plan_docx_table_outlook", "四川农业大学", ["plan"],
       note="plan laid out as a 2-column Word table (field | content); Outlook folds the long "
            "gb2312 RFC 2047 filename inside quoted name=/filename= parameters")
def _():
    lines = plan("四川农业大学后勤服务总公司党委", "四川农业大学校史馆", "2024-07-09 14:30",
                 "刘丹 028-86290902", feature="“川农大精神”的形成与传承")
    return Mail("outlook", "hqfwgs@sicau.edu.cn", "四川农业大学后勤服务总公司",
                "四川农业大学后勤服务总公司“接力行”活动方案（表格版）", "2024-07-01 10:26:05",
                text=letter("贺老师、曾老师：", [("您好！附件是我公司党委参观校史馆的活动方案（表格形式），"
                                                "请审阅。")],
                            ["刘丹", "四川农业大学后勤服务总公司", "电话：028-86290902"]),
                attachments=[("四川农业大学后勤服务总公司“道中华之美 美后勤之道”校史馆参观活动方案.docx",
                              docx(lines[0], ["（表格版）"], table=rows(lines),
                                   after=["注：请做好应急预案，保障安全。"], author="刘丹"))])


@entry("lsnu_plan_pdf_thunderbird", "乐山师范学院", ["plan"],
       note="plan only as a Chinese PDF (CID font + ToUnicode); Thunderbird RFC 2231 filename "
            "continuations")
def _():
    lines = plan("乐山师范学院后勤管理处党总支", "乐山师范学院校史馆", "2024-09-12 15:00",
                 "罗老师 0833-2276123")
    return Mail("thunderbird", "hqglc@lsnu.edu.cn", "乐山师范学院后勤管理处",
                "乐山师范学院后勤管理处活动方案（PDF）", "2024-09-03 08:47:52",
                text="老师好，附件是我处活动方案PDF版，请查收。\n\n-- \n乐山师范学院后勤管理处\n"
                     "罗老师 0833-2276123\n",
                attachments=[("乐山师范学院后勤管理处“道中华之美 美后勤之道”校史馆@接力行活动方案.pdf",
                              pdf_cn(lines))])


@entry("yibinu_plan_wps_rfc2231", "宜宾学院", ["plan"],
       note="plan only in a .wps (OLE2) file whose name comes as RFC 2231 continuations from "
            "campus Coremail; the body says so")
def _():
    lines = plan("宜宾学院后勤党支部", "宜宾学院校史馆", "2024-07-12 15:00", "邓婷 0831-3531162")
    return Mail("coremail", "hqdzb@yibinu.edu.cn", "宜宾学院后勤党支部",
                "宜宾学院后勤党支部“接力行”活动方案", "2024-07-03 09:58:21", fname="rfc2231",
                text=letter("您好！", [("我支部“接力行”活动方案见附件（WPS文档），请审阅。"
                                       "如打不开请告知，我们再发Word版。")],
                            ["宜宾学院后勤党支部", "邓婷 0831-3531162"]),
                attachments=[("宜宾学院后勤党支部“道中华之美 美后勤之道”接力行活动方案.wps",
                              wps("\r".join(lines)))])


@entry("cdu_plan_missing_contact_outlook", "成都大学", ["plan"],
       plan_missing=["活动联系人及电话"],
       note="plan in the body without 活动联系人及电话 (renumbered to five items); the signature "
            "carries the unit's homepage, which is not a deliverable link")
def _():
    body = plan("成都大学后勤处党支部", "成都大学校史馆", "2024-08-29 14:00", "",
                omit=("活动联系人及电话",), feature="“应城市而生、伴城市而兴”的办学历程")
    return Mail("outlook", "hqc@cdu.edu.cn", "成都大学后勤处",
                "成都大学后勤处“道中华之美 美后勤之道”接力行活动方案", "2024-08-20 11:05:31",
                text=letter("贺老师：", ["您好！现报送我处活动方案如下：", "", *body],
                            ["成都大学后勤处党支部", "http://hqc.cdu.edu.cn/"]))


@entry("swmu_plan_docx_missing_two_foxmail", "西南医科大学", ["plan"],
       plan_missing=["活动背景", "活动流程"],
       note="Foxmail raw 8-bit GBK subject/From/filename; the draft plan lacks 活动背景 and "
            "活动流程 (body says the programme is still being arranged)")
def _():
    lines = plan("西南医科大学后勤管理处党总支", "西南医科大学校史馆", "2024-09-20 14:30",
                 "何老师 0830-3160173", omit=("活动背景", "活动流程"))
    return Mail("foxmail", "hqglc@swmu.edu.cn", "西南医科大学后勤管理处",
                "西南医科大学后勤管理处接力行活动方案（初稿）", "2024-09-06 17:12:09",
                text=letter("您好！", ["附件为我处活动方案初稿，活动流程还在与校史馆对接，确定后再补充，请先审阅。"],
                            ["", "", "hqglc@swmu.edu.cn"]),
                attachments=[("西南医科大学后勤管理处活动方案（初稿）.docx",
                              docx(lines[0], lines[1:]))],
                cc=[("川南片区组长", "hqjjc@suse.edu.cn")])


@entry("sasu_plan_qq_signature_only", "四川文理学院", ["plan"],
       note="personal QQ address with a nickname; the plan never names the school - only the "
            "signature at the very end does")
def _():
    body = plan("后勤处党支部", "校史馆", "2024-07-10 09:00", "张敏 0818-2790315")
    return Mail("qq", "2319847560@qq.com", "晴天", "“道中华之美 美后勤之道”接力行活动方案",
                "2024-07-01 21:33:48",
                text=letter("老师您好！", ["我们的活动方案如下，请审阅：", "", *body],
                            ["四川文理学院后勤处", "张敏"]))


@entry("sicnu_plan_163_alias_subject", "四川师范大学", ["plan"],
       note="163 address, generic attachment name and a plan without the school's name; only the "
            "subject says 川师 (alias) + 后勤服务管理中心")
def _():
    lines = plan("后勤服务管理中心党总支", "校史馆", "2024-07-08 14:30", "李老师 028-84760585")
    return Mail("netease", "lily_hq2024@163.com", "lily", "川师后勤服务管理中心—接力行活动方案",
                "2024-06-30 20:41:02", text="老师好，方案见附件，请查收。谢谢！",
                attachments=[("活动方案.docx", docx(lines[0], lines[1:], author="lily"))])


@entry("swpu_plan_126_filename", "西南石油大学", ["plan"],
       note="126 address, subject '活动方案', body without a name: the school is only in the "
            "attachment filename")
def _():
    lines = plan("后勤党委", "校史馆", "2024-09-19 14:30", "何老师 028-83032145",
                 feature="“与共和国石油工业同行”的办学历程")
    return Mail("netease", "swpuhq_dw@126.com", "swpuhq_dw", "活动方案", "2024-09-10 20:16:44",
                text="您好，附件是我们的活动方案，请查收。谢谢！\n\n后勤党委办公室",
                attachments=[("西南石油大学后勤党委“接力行”活动方案.docx", docx(lines[0], lines[1:]))])


@entry("njtc_plan_visit_scu_museum", "内江师范学院", ["plan"],
       note="a school visiting ANOTHER school's museum: subject and plan are full of 四川大学 / "
            "四川大学博物馆, the sender is 内江师范学院")
def _():
    body = plan("内江师范学院后勤党总支", "四川大学博物馆", "2024-07-19 09:30",
                "陈老师 0832-2341052", host="四川大学",
                feature="馆藏民族文物、书画与自然标本丰富",
                title="“道中华之美 美后勤之道”内江师范学院后勤党总支赴四川大学博物馆@接力行活动方案")
    return Mail("coremail", "hqdzz@njtc.edu.cn", "内江师范学院后勤党总支",
                "内江师范学院后勤党总支赴四川大学博物馆参观学习活动方案", "2024-07-08 15:40:27",
                text=letter(SEC, [("您好！我党总支拟组织党员赴四川大学博物馆参观学习，已与四川大学后勤保障部"
                                  "联系，对方同意接待。活动方案如下："), "", *body],
                            ["内江师范学院后勤党总支", "陈老师 0832-2341052"]),
                cc=[("川南片区组长", "hqjjc@suse.edu.cn")])


@entry("cdutcm_plan_126_alias_table", "成都中医药大学", ["plan"], plan_missing=["活动地点"],
       note="126 address signed with the alias 成中医; table-layout .docx without the 活动地点 row "
            "(body: place still to be confirmed)")
def _():
    lines = plan("成都中医药大学后勤基建处党支部", "成都中医药大学博物馆", "2024-07-15 14:00",
                 "杨菲 028-61800315", omit=("活动地点",), feature="中医药传统文化底蕴深厚")
    return Mail("netease", "cdutcm_hqjj@126.com", "成中医后勤基建处", "成中医后勤基建处 接力行活动方案",
                "2024-07-04 11:18:36",
                text=letter("贺老师好！", ["我处活动方案见附件，活动地点待与博物馆确认后补报。"],
                            ["成中医后勤基建处党支部"]),
                attachments=[("接力行活动方案.docx", docx(lines[0], table=rows(lines)))])


@entry("mtc_plan_qq_html_table", "绵阳师范学院", ["plan"],
       note="plan pasted from Word as an HTML <table> into QQ Mail; the text/plain alternative "
            "QQ derives has field names and values on separate lines without '一、…：'")
def _():
    lines = plan("绵阳师范学院后勤保障服务处党总支", "绵阳师范学院校史馆", "2024-07-17 14:30",
                 "朱怡灵 18784016186")
    cells = rows(lines)
    td = 'style="border:1px solid #000;padding:4px 8px"'
    table = "".join(f"<tr><td {td} width=\"120\"><b>{escape(k)}</b></td><td {td}>{escape(v)}</td></tr>"
                    for k, v in cells)
    html = ('<meta http-equiv="Content-Type" content="text/html; charset=GB18030">'
            "<div>贺老师、曾老师：</div><div>&nbsp; &nbsp; 您好！我处活动方案如下，请审阅。</div><div><br></div>"
            f'<div style="text-align:center"><b>{escape(lines[0])}</b></div>'
            f'<table border="1" cellspacing="0" style="border-collapse:collapse">{table}</table>'
            "<div><br></div><div>朱怡灵</div><div>绵阳师范学院后勤保障服务处</div>")
    text = "\n".join(["贺老师、曾老师：", "    您好！我处活动方案如下，请审阅。", "", lines[0],
                      *(x for kv in cells for x in kv), "", "朱怡灵", "绵阳师范学院后勤保障服务处"])
    return Mail("qq", "1278456390@qq.com", "朱怡灵", "绵阳师范学院后勤保障服务处“接力行”活动方案",
                "2024-07-05 16:20:37", text=text, html=html)


# ---------------------------------------------------------------- news, cross visits, forwards
@entry("cdsu_news_qq_visit_swun", "成都体育学院", ["news"],
       note="QQ personal sender; news about visiting 西南民族大学民族博物馆 (the HOST is named in "
            "subject, body and filename); the sender's school is only in the signature and the docx")
def _():
    lines = news("成都体育学院后勤处党支部", "2024-07-12", "西南民族大学民族博物馆", 30, "李红")
    return Mail("qq", "1503928471@qq.com", "阳光", "参观西南民族大学民族博物馆新闻稿及照片",
                "2024-07-15 10:02:11",
                text=letter("老师您好！", [("我们后勤处组织党员职工参观了西南民族大学民族博物馆，新闻稿和照片见附件，"
                                          "请审阅。"), "感谢西南民族大学后勤处的热情接待！"],
                            ["成都体育学院后勤处党支部", "李红"]),
                attachments=[("参观西南民族大学民族博物馆新闻稿.docx", newsdoc(lines)),
                             *[(f"IMG_20240712_15{i:02d}31.jpg", jpeg(f"cdsu{i}")) for i in (3, 7, 12)]])


@entry("suse_fwd_rfc822_pzhu_news", "攀枝花学院", ["news"],
       note="川南 district leader forwards as attachment (message/rfc822): the ORIGINAL sender "
            "攀枝花学院 is the school, not the forwarding 四川轻化工大学")
def _():
    lines = news("攀枝花学院后勤管理处", "2024-10-08", "攀枝花学院校史馆", 25, "邓婷")
    inner = Mail("coremail", "hqglc@pzhu.edu.cn", "攀枝花学院后勤管理处",
                 "攀枝花学院后勤管理处“接力行”参观校史馆新闻稿", "2024-10-08 17:50:12",
                 to=[("川南片区组长单位", "hqjjc@suse.edu.cn")], received=False,
                 text=letter("王老师：", ["您好！我处参观校史馆的新闻稿及照片见附件，请审阅汇总。"],
                             ["攀枝花学院后勤管理处"]),
                 attachments=[("攀枝花学院后勤管理处参观校史馆新闻稿.docx", newsdoc(lines)),
                              ("参观照片1.jpg", jpeg("pzhu1")), ("参观照片2.jpg", jpeg("pzhu2"))])
    return Mail("coremail", "hqjjc@suse.edu.cn", "四川轻化工大学后勤基建处",
                "转发：攀枝花学院后勤管理处“接力行”参观校史馆新闻稿", "2024-10-09 09:15:40", label="GBK",
                text=letter("贺老师：", [("您好！现将我片区攀枝花学院后勤管理处报送的参观校史馆新闻稿（含照片）转发给您，"
                                        "原邮件见附件，请审阅。")],
                            ["王文娟", "四川轻化工大学后勤基建处（川南片区组长单位）"]),
                rfc822=[("攀枝花学院后勤管理处“接力行”参观校史馆新闻稿.eml", inner)])


@entry("mtc_qq_inline_fwd_swust_video", "西南科技大学", ["video"],
       links=[("swust_wx", "wechat_article"), ("swust_bili", "bilibili")],
       note="川北 leader forwards from a personal QQ box with QQ's inline '原始邮件 / 发件人:' block; "
            "the school is the original sender 西南科技大学")
def _():
    orig = [
        "------------------ 原始邮件 ------------------",
        "发件人: \"西南科大后勤\" <hqjt@swust.edu.cn>;",
        "发送时间: 2024年9月12日(星期四) 上午10:08",
        "收件人: \"朱怡灵\"<1278456390@qq.com>;",
        "", "主题: 西南科技大学后勤2024亮点推文及视频链接", "",
        "朱老师好！",
        "　　我校后勤展现2024年新亮点新特色的微信推文和视频链接如下：",
        f"　　推文：{LK['swust_wx']}",
        f"　　视频（B站）：{LK['swust_bili']}",
        "西南科技大学后勤服务集团党委",
    ]
    return Mail("qq", "1278456390@qq.com", "朱怡灵", "转发：西南科技大学后勤2024亮点推文及视频链接",
                "2024-09-13 08:51:26",
                text=letter("贺老师、曾老师：", ["您好！转发川北片区西南科技大学后勤的推文和视频链接，请审阅。"],
                            ["朱怡灵", "绵阳师范学院后勤保障服务处（川北片区组长单位）", "18784016186",
                             "", "", ""]) + "\n" + "\n".join(orig))


@entry("cdtu_foxmail_fwd_jcxy_plan", "成都锦城学院", ["plan"],
       note="成都第三片区 leader forwards with Foxmail's inline block (发件人：/发送时间：, full-width "
            "colons) in raw 8-bit GBK; the plan belongs to 成都锦城学院")
def _():
    body = plan("成都锦城学院后勤党总支", "成都锦城学院校史馆", "2024-07-10 14:30",
                "周老师 028-87580123")
    quoted = ["", "", "", "hqjt@cdtu.edu.cn", "　",
              "发件人： 锦城学院后勤", "发送时间： 2024-07-02 09:16", "收件人： hqjt@cdtu.edu.cn",
              "主题： 成都锦城学院后勤党总支“接力行”活动方案",
              "王老师好！", "我院后勤党总支活动方案如下，请审阅：", *body, "成都锦城学院后勤党总支"]
    return Mail("foxmail", "hqjt@cdtu.edu.cn", "王娟", "转发: 成都锦城学院后勤党总支“接力行”活动方案",
                "2024-07-02 15:20:03",
                text=letter("贺老师：", ["您好！转发成都第三片区成都锦城学院的活动方案，请审阅。"],
                            ["王娟", "成都工业学院后勤服务集团"]) + "\n" + "\n".join(quoted),
                attachments=[("成都锦城学院后勤党总支活动方案.docx", docx(body[0], body[1:]))])


OUTLOOK_FWD = ("发件人: 广安职院后勤 <gazy_houqin@163.com> \n发送时间: 2024年10月8日 17:50\n"
               "收件人: hqcyc@scvtc.edu.cn\n主题: 广安职业技术学院后勤处“接力行”活动新闻\n\n"
               "杨老师好！附件是我院后勤处参观校史馆的新闻稿和照片，请审阅汇总。\n广安职业技术学院后勤处")


@entry("scvtc_outlook_fwd_gazy_news", "广安职业技术学院", ["news"],
       note="川东 leader forwards in Outlook with the inline '发件人: / 发送时间: / 主题:' header; "
            "original from a 163 box of 广安职业技术学院 (no campus domain in the directory)")
def _():
    lines = news("广安职业技术学院后勤处", "2024-09-27", "广安职业技术学院校史馆", 35, "陈思")
    return Mail("outlook", "hqcyc@scvtc.edu.cn", "杨凌云", "转发: 广安职业技术学院后勤处“接力行”活动新闻",
                "2024-10-09 10:30:44",
                text=letter("贺老师：", ["您好！转发川东片区广安职业技术学院的参观新闻及照片，请审阅。"],
                            ["杨凌云", "四川职业技术学院后勤产业处（川东片区组长单位）"]) + "\n\n" + OUTLOOK_FWD,
                attachments=[("广安职业技术学院后勤处参观校史馆新闻稿.docx", newsdoc(lines)),
                             *[(f"微信图片_2024092716{i}.jpg", jpeg(f"gazy{i}")) for i in (12, 13, 15)]])


@entry("cafuc_plan_and_news", "中国民用航空飞行学院", ["plan", "news"],
       note="two deliverables at once: a late plan (附件1) and the news (附件2-5); display name "
            "uses the alias 中飞院")
def _():
    p = plan("中国民用航空飞行学院后勤管理处党委", "中国民用航空飞行学院校史馆", "2024-07-16 09:00",
             "孙老师 0838-5183210", feature="民航飞行人才培养的光辉历程")
    n = news("中国民用航空飞行学院后勤管理处", "2024-07-16", "学院校史馆", 45, "孙老师")
    return Mail("coremail", "hqglc@cafuc.edu.cn", "中飞院后勤管理处",
                "中国民用航空飞行学院后勤管理处 活动方案及新闻稿", "2024-07-18 16:44:02",
                text=letter("您好！", ["1. 补报我处“接力行”活动方案（见附件1）；",
                                       "2. 7月16日活动已开展，新闻稿及照片见附件2—5。", "请审阅。"],
                            ["中国民用航空飞行学院后勤管理处"]),
                attachments=[("附件1：活动方案.docx", docx(p[0], p[1:])),
                             ("附件2：新闻稿.docx", newsdoc(n)),
                             *[(f"附件{i}：现场照片.jpg", jpeg(f"cafuc{i}")) for i in (3, 4, 5)]])


@entry("cdutcm_news_video_outlook_rong", "成都中医药大学", ["news", "video"],
       links=[("cdutcm_wx", "wechat_article")],
       note="Outlook gb2312 label with GBK-only 镕 in body and filename; news docx with an embedded "
            "photo plus a long __biz WeChat article URL in plain text")
def _():
    n = news("成都中医药大学后勤基建处", "2024-07-04", "成都中医药大学博物馆", 45, "张镕")
    return Mail("outlook", "hqjjc@cdutcm.edu.cn", "成都中医药大学后勤基建处",
                "成都中医药大学后勤基建处参观博物馆新闻及推文", "2024-07-05 10:30:12",
                text=letter("您好！", ["现报送我处7月4日参观学校博物馆的新闻稿及照片（摄影：张镕），请审阅。",
                                       "同时我处推文已在学校后勤公众号发布：", LK["cdutcm_wx"]],
                            ["杨菲", "成都中医药大学后勤基建处"]),
                attachments=[("新闻稿（摄影张镕）.docx", newsdoc(n, [jpeg("cdutcm0", 96, 64)])),
                             ("合影.jpg", jpeg("cdutcm1")), ("参观现场.jpg", jpeg("cdutcm2"))])


@entry("suse_plan_news_video", "四川轻化工大学", ["plan", "news", "video"],
       links=[("suse_bili", "bilibili"), ("suse_wx", "wechat_article")],
       note="a district LEADER sending its OWN material: all three kinds in one mail (plan docx, "
            "news docx + 4 photos, Bilibili + WeChat links)")
def _():
    p = plan("四川轻化工大学后勤基建处党总支", "四川轻化工大学校史馆", "2024-07-09 14:30",
             "王文娟 0813-5506099")
    n = news("四川轻化工大学后勤基建处", "2024-07-09", "四川轻化工大学校史馆", 50, "刘洋")
    return Mail("coremail", "hqjjc@suse.edu.cn", "四川轻化工大学后勤基建处",
                "四川轻化工大学后勤基建处 接力行材料汇总（方案、新闻、视频）", "2024-09-27 16:02:37",
                label="GBK",
                text=letter("贺老师：", ["您好！现将我处“接力行”全部材料一并报送：",
                                        "1. 活动方案（附件）；", "2. 新闻稿及照片4张（附件）；",
                                        "3. 视频（B站）：" + LK["suse_bili"],
                                        "　 推文：" + LK["suse_wx"], "请审阅。"],
                            ["王文娟", "四川轻化工大学后勤基建处"]),
                attachments=[("四川轻化工大学后勤基建处活动方案.docx", docx(p[0], p[1:])),
                             ("四川轻化工大学后勤基建处新闻稿.docx", newsdoc(n)),
                             *[(f"DSC0{i}.JPG", jpeg(f"suse{i}")) for i in (4417, 4421, 4430, 4452)]])


@entry("cwnu_plan_body_video_wechat", "西华师范大学", ["plan", "video"],
       links=[("cwnu_wx", "wechat_article")],
       note="plan (in the body, sent late) and the WeChat article in the same mail")
def _():
    body = plan("西华师范大学后勤党委", "西华师范大学校史馆", "2024-09-05 15:00",
                "吴老师 0817-2568021")
    return Mail("coremail", "hqdw@cwnu.edu.cn", "西华师范大学后勤党委",
                "西华师范大学后勤党委接力行活动方案及推文链接", "2024-09-18 11:22:48",
                text=letter(SEC, ["您好！补报我委活动方案，并报送活动推文链接：", "", "（一）活动方案", *body,
                                  "", "（二）微信推文", LK["cwnu_wx"]],
                            ["西华师范大学后勤党委"]))


@entry("swjtu_news_photos_site_link", "西南交通大学", ["news"],
       links=[("swjtu_site", "other")],
       note="news given as a link to the school's own website (platform other, not a video) plus "
            "4 photos with RFC 2231 names")
def _():
    return Mail("thunderbird", "hqbzb@swjtu.edu.cn", "西南交通大学后勤保障部",
                "西南交通大学后勤保障部参观校史馆新闻（网站链接+照片）", "2024-07-17 09:12:55",
                text=letter("您好！", ["我部参观校史馆的新闻已在学校后勤保障部网站发布：",
                                       LK["swjtu_site"], "现场照片见附件（4张），请审阅。"],
                            ["西南交通大学后勤保障部"]),
                attachments=[(f"西南交通大学后勤保障部参观校史馆现场照片{i}.jpg", jpeg(f"swjtu{i}"))
                             for i in range(1, 5)])


@entry("cdut_news_163_inline_images", "成都理工大学", ["news"],
       note="163 personal box; news text in a GBK body with two inline images (multipart/related, "
            "cid:) and no attachment")
def _():
    n = news("成都理工大学后勤党支部", "2024-07-24", "成都理工大学博物馆", 50, "孙磊")
    return Mail("netease", "cdut_houqin@163.com", "cdut_houqin", "成都理工大学后勤党支部参观博物馆新闻稿",
                "2024-07-25 16:40:03",
                text="\n".join([*n, "", "（现场图片见正文）", "", "成都理工大学后勤党支部"]),
                inline=[(f"part{i}.{hexs('cdutcid' + str(i), 8)}$cdut_houqin@163.com",
                         f"IMG_20240724_15{i}212.jpg", jpeg(f"cdut{i}")) for i in (1, 2)])


@entry("scitc_news_foxmail_raw_gbk", "四川信息职业技术学院", ["news"],
       note="Foxmail raw 8-bit GBK subject, From and six attachment names (docx + 5 jpg)")
def _():
    n = news("四川信息职业技术学院后勤处", "2024-07-11", "四川信息职业技术学院校史馆", 40, "何静")
    return Mail("foxmail", "houqin@scitc.com.cn", "川信后勤",
                "四川信息职业技术学院后勤处开展“道中华之美 美后勤之道”校史馆参观活动新闻稿",
                "2024-07-12 18:33:26",
                text=letter("您好！", ["新闻稿及照片见附件，请审阅。"], ["", "", "houqin@scitc.com.cn"]),
                attachments=[("新闻稿-四川信息职业技术学院后勤处参观校史馆.docx", newsdoc(n)),
                             *[(f"活动照片{i}.jpg", jpeg(f"scitc{i}")) for i in range(1, 6)]],
                cc=[("朱怡灵", "hqbzc@mtc.edu.cn")])


@entry("sicnu_news_apple_rfc2231", "四川师范大学", ["news"],
       note="Apple Mail: QP UTF-8 body, RFC 2231 filename*0*= continuations for a long docx name, "
            "three IMG_xxxx.JPG")
def _():
    n = news("四川师范大学后勤服务管理中心", "2024-07-08", "四川师范大学校史馆", 60, "朱寒野")
    return Mail("applemail", "hqfwzx@sicnu.edu.cn", "四川师范大学后勤服务管理中心",
                "四川师范大学后勤服务管理中心“接力行”新闻稿", "2024-07-09 17:05:44",
                text=letter("贺老师好！", ["我中心7月8日参观校史馆的新闻稿与照片见附件。"],
                            ["朱寒野", "四川师范大学后勤服务管理中心"]),
                attachments=[("四川师范大学后勤服务管理中心“道中华之美 美后勤之道”校史馆参观活动新闻稿.docx",
                              newsdoc(n)),
                             *[(f"IMG_30{i}.JPG", jpeg(f"sicnu{i}")) for i in (21, 24, 38)]])


@entry("sicau_alias_news_163", "四川农业大学", ["news"],
       note="163 box 'chuannong_hq'; only the alias 川农 (+ its unit 后勤服务总公司) identifies the "
            "school; the news docx itself names no school")
def _():
    n = news("后勤服务总公司党委", "2024-07-10", "校史馆", 40, "马骁",
             title="后勤服务总公司党委开展“接力行”参观校史馆活动")
    return Mail("netease", "chuannong_hq@163.com", "川农后勤", "川农后勤 参观校史馆新闻照片",
                "2024-07-11 09:47:19",
                text=letter("老师好，", ["附件是7月10日参观校史馆的照片和新闻稿。"],
                            ["川农后勤服务总公司 党支部"]),
                attachments=[("新闻稿.docx", newsdoc(n)), ("1.jpg", jpeg("sicau1")),
                             ("2.jpg", jpeg("sicau2"))])


# ---------------------------------------------------------------- videos and links
@entry("swufe_video_wechat_fullwidth", "西南财经大学", ["video"],
       links=[("swufe_wx", "wechat_article")],
       note="WeChat article link immediately followed by a full-width comma '，请审阅'")
def _():
    return Mail("coremail", "hqzx@swufe.edu.cn", "西南财经大学后勤服务中心", "西南财经大学后勤2024亮点推文",
                "2024-09-12 10:08:33", label="GBK",
                text=letter("您好！", [(f"我中心展现2024年后勤新亮点新特色的微信推文已发布，链接：{LK['swufe_wx']}，"
                                       "请审阅。谢谢！")], ["西南财经大学后勤服务中心"]))


@entry("cdnu_video_html_only", "成都师范学院", ["video"], links=[("cdnu_wx", "wechat_article")],
       note="HTML-only mail; the long __biz WeChat URL exists only in <a href> (&amp; escaped), the "
            "visible text is the article title")
def _():
    href = escape(LK["cdnu_wx"])
    html = ('<div style="line-height:1.7;color:#000000;font-size:14px;font-family:Arial">'
            "<div>思政会秘书处老师：</div><div>&nbsp;&nbsp;&nbsp;&nbsp;您好！我处展现2024年后勤新亮点新特色的微信推文："
            f'<a href="{href}" target="_blank">道中华之美 美后勤之道｜走进成都师范学院校史馆</a>，请审阅。'
            "</div><div><br></div><div>成都师范学院后勤管理处</div><div>2024年9月25日</div></div>")
    return Mail("coremail", "hqglc@cdnu.edu.cn", "成都师范学院后勤管理处", "成都师范学院后勤管理处微信推文",
                "2024-09-25 11:30:02", html=html)


@entry("scpolicec_video_channels", "四川警察学院", ["video"],
       links=[("scpolicec_sph", "wechat_channels")],
       note="WeChat Channels (视频号) link weixin.qq.com/sph/...")
def _():
    return Mail("coremail", "hqc@scpolicec.edu.cn", "四川警察学院后勤处", "四川警察学院后勤处视频号作品链接",
                "2024-09-23 15:17:40",
                text=letter("您好！", ["我院后勤展现2024年新亮点的视频已在微信视频号“四川警察学院后勤”发布：",
                                       LK["scpolicec_sph"], "（请在微信内打开）"], ["四川警察学院后勤处"]))


@entry("uestc_video_bilibili_std", "电子科技大学", ["video"],
       links=[("uestc_bili", "bilibili")],
       note="student sub-domain std.uestc.edu.cn (勤工助学 student on behalf of the department); "
            "Bilibili share text with query string")
def _():
    return Mail("thunderbird", "202322080123@std.uestc.edu.cn", "张同学",
                "电子科技大学后勤保障部2024亮点视频（B站链接）", "2024-09-20 16:02:18",
                text=letter("老师您好，", ["我是电子科技大学后勤保障部勤工助学学生张同学，受部门老师委托报送我部视频：",
                                          "【道中华之美 美后勤之道｜电子科技大学后勤2024】 " + LK["uestc_bili"],
                                          "如有问题请联系陈老师 028-61831234。"], ["张同学"]))


@entry("xhu_video_b23_mail_subdomain", "西华大学", ["video"], links=[("xhu_b23", "bilibili")],
       note="sender on the mail.xhu.edu.cn sub-domain; b23.tv short link inside full-width "
            "parentheses '（链接：...）' and again in the share text")
def _():
    return Mail("coremail", "houqin@mail.xhu.edu.cn", "西华大学后勤", "西华大学后勤2024新亮点视频",
                "2024-09-26 09:41:55",
                text=letter("您好！", [f"我校后勤视频已上传B站（链接：{LK['xhu_b23']}），请审阅。", "",
                                       f"【道中华之美 美后勤之道｜西华大学后勤2024新亮点-哔哩哔哩】 {LK['xhu_b23']}"],
                            ["西华大学后勤服务总公司党委"]))


@entry("cdtu_video_douyin_163_chenggong", "成都工业学院", ["video"], links=[("cdtu_dy", "douyin")],
       note="163 box; Douyin share text; signed '成工后勤服务集团 王娟' - 成工 is not in the alias "
            "list, but 后勤服务集团 + 王娟 (the notice's contact) make it 成都工业学院")
def _():
    return Mail("netease", "cdtu_hqjt@163.com", "hqjt", "抖音视频链接", "2024-09-22 21:41:09",
                text=letter("贺老师好！", ["我们的视频发在抖音上了：",
                                          ("7.94 复制打开抖音，看看【成工后勤的作品】道中华之美 美后勤之道｜走进校史馆 "
                                          f"# 后勤人 # 接力行 {LK['cdtu_dy']} Kjc:/ 09/22 a@A.go ")],
                            ["成工后勤服务集团 王娟"]))


@entry("scun_video_kuaishou", "四川民族学院", ["video"], links=[("scun_ks", "kuaishou")],
       note="Android client with raw 8-bit UTF-8 headers; Kuaishou share text")
def _():
    return Mail("android", "hqc@scun.edu.cn", "四川民族学院后勤处", "四川民族学院后勤处快手视频",
                "2024-09-24 19:06:30",
                text=letter("老师好！", ["我们的视频发在快手了：",
                                        (f"{LK['scun_ks']} 道中华之美 美后勤之道｜四川民族学院后勤2024 "
                                        "\"该作品在快手被播放过1,286次，点击链接，打开【快手】直接观看！\"")],
                            ["四川民族学院后勤处"]))


@entry("swun_video_tencent", "西南民族大学", ["video"], links=[("swun_txv", "tencent_video")],
       note="Tencent Video page link")
def _():
    return Mail("coremail", "hqc@swun.edu.cn", "西南民族大学后勤处", "西南民族大学后勤处2024亮点视频",
                "2024-09-19 14:25:51",
                text=letter("您好！", ["我处视频已上传腾讯视频：", LK["swun_txv"], "请审阅。"],
                            ["西南民族大学后勤处"]))


@entry("cuit_video_weibo_former_name", "成都信息工程大学", ["video"], links=[("cuit_wb", "weibo")],
       note="QQ nickname sender signing with the FORMER name 成都信息工程学院; Weibo video link")
def _():
    return Mail("qq", "2894561730@qq.com", "小雨", "视频链接（微博）", "2024-09-27 21:59:14",
                text=letter("老师好，", [f"我们后勤的视频发在学校官方微博上了：{LK['cuit_wb']}"],
                            ["成都信息工程学院后勤党总支", "赵敏"]))


@entry("sctu_video_youku", "四川旅游学院", ["video"], links=[("sctu_yk", "youku")],
       note="Youku link")
def _():
    return Mail("coremail", "hqglc@sctu.edu.cn", "四川旅游学院后勤管理处", "四川旅游学院后勤管理处视频（优酷）",
                "2024-09-28 10:11:05",
                text=letter("您好！", ["我处视频已发布在优酷：", LK["sctu_yk"], "请审阅，谢谢！"],
                            ["四川旅游学院后勤管理处"]))


@entry("cdut_video_qq_large_attachment", "成都理工大学", ["video"],
       links=[("cdut_ftn", "qq_large_attachment")],
       note="QQ 超大附件 block (name, size, expiry, ftn download link) from a QQ box signed with the "
            "alias 成理")
def _():
    return Mail("qq", "3056721894@qq.com", "成理后勤-孙磊", "视频（超大附件）", "2024-09-26 16:35:20",
                text=letter("老师好，", ["视频文件较大，用超大附件发送，请在到期前下载。"],
                            ["成理后勤党支部 孙磊"]) + "\n\n\n\n" + "\n".join([
                    "从QQ邮箱发来的超大附件", "",
                    "成理后勤2024新亮点新特色.mp4 (356.18M, 2024年10月26日 16:35 到期)",
                    f"进入下载页面：{LK['cdut_ftn']}"]))


@entry("nsmc_video_163_large_attachment", "川北医学院", ["video"],
       links=[("nsmc_ftn", "netease_large_attachment")],
       note="163 超大附件 block (name, size, expiry, large-attachment-download link)")
def _():
    return Mail("netease", "nsmc_hqglc@163.com", "川北医学院后勤管理处", "川北医学院后勤管理处2024亮点视频",
                "2024-09-18 09:12:36",
                text=letter("您好！", ["视频文件较大，以超大附件发送，请查收。"], ["川北医学院后勤管理处 周琳"])
                + "\n\n" + "\n".join(["从网易163邮箱发来的超大附件",
                                      "川北医学院后勤2024新亮点.mp4 (512.40M, 2024年10月18日 9:12 到期)",
                                      f"下载: {LK['nsmc_ftn']}"]))


@entry("abtu_video_baidupan_code", "阿坝师范学院", ["video"], links=[("abtu_pan", "baidu_pan")],
       note="Baidu Pan share without ?pwd= in the URL; the 提取码 is on the next line after a "
            "full-width colon")
def _():
    return Mail("coremail", "hqglc@abtu.edu.cn", "阿坝师范学院后勤管理处", "阿坝师范学院后勤视频（百度网盘）",
                "2024-09-29 17:48:10",
                text=letter("您好！", ["视频文件较大，已上传百度网盘：", f"链接：{LK['abtu_pan']} ",
                                       "提取码：8k3d", "--来自百度网盘超级会员v4的分享"],
                            ["阿坝师范学院后勤管理处"]))


@entry("scvtc_video_multi_platform", "四川职业技术学院", ["video"],
       links=[("scvtc_wx", "wechat_article"), ("scvtc_sph", "wechat_channels"),
              ("scvtc_bili", "bilibili"), ("scvtc_dy", "douyin")],
       note="one video published on four platforms: WeChat article, Channels, Bilibili, Douyin")
def _():
    return Mail("applemail", "hqcyc@scvtc.edu.cn", "四川职业技术学院后勤产业处",
                "四川职业技术学院后勤产业处2024新亮点视频及推文", "2024-09-20 11:03:27",
                text=letter("贺老师：", ["您好！我处视频及推文已在以下平台发布：",
                                        f"推文：{LK['scvtc_wx']}", f"视频号：{LK['scvtc_sph']}",
                                        f"B站：{LK['scvtc_bili']}", f"抖音：{LK['scvtc_dy']}"],
                            ["杨凌云", "四川职业技术学院后勤产业处"]))


@entry("swjtu_alias_qq_video", "西南交通大学", ["video"], links=[("swjtu_wx", "wechat_article")],
       note="QQ box signed with the alias 西南交大; long __biz WeChat URL in plain text")
def _():
    return Mail("qq", "1092837465@qq.com", "刘老师", "推文链接", "2024-09-21 08:56:40",
                text=letter("贺老师好！", ["我们的推文链接：", LK["swjtu_wx"], "请审阅，谢谢！"],
                            ["西南交大后勤保障部 刘老师"]))


# ---------------------------------------------------------------- replies and questions
def outlook_quote() -> list[str]:
    return ["", "发件人: 思政会秘书处 <344523819@qq.com> ", "发送时间: 2024年6月25日 16:30",
            "收件人: 各会员单位", f"主题: {NOTICE_TITLE}", "", *NOTICE_QUOTE]


def coremail_quote(sender: str, when: str, to: str, subject: str, lines: list[str]) -> list[str]:
    return ["", "", "> -----原始邮件-----", f"> 发件人: \"思政会秘书处\" <{sender}>",
            f"> 发送时间: {when}", f"> 收件人: {to}", f"> 主题: {subject}", ">",
            *(f"> {s}" if s else ">" for s in lines)]


@entry("cuit_reply_notice_plan", "成都信息工程大学", ["plan"],
       note="reply to the notice: the quoted notice mentions 新闻/视频/推文 and the six empty "
            "template fields; only the attached plan is the sender's own")
def _():
    lines = plan("成都信息工程大学后勤党总支", "成都信息工程大学校史馆", "2024-07-04 14:30",
                 "赵敏 028-85966012", feature="“气象报国”的办学传统")
    return Mail("outlook", "hqdzz@cuit.edu.cn", "成都信息工程大学后勤党总支", f"回复: {NOTICE_TITLE}",
                "2024-06-28 09:20:45", headers=NOTICE_REPLY,
                text=letter("贺老师：", ["您好！我校后勤党总支活动方案见附件，请审阅。"],
                            ["赵敏", "成都信息工程大学后勤党总支"]) + "\n" + "\n".join(outlook_quote()),
                attachments=[("成都信息工程大学后勤党总支活动方案.docx", docx(lines[0], table=rows(lines)))])


@entry("xcc_reply_notice_question", "西昌学院", [],
       note="question only ('请问模板在哪里下载？') in a reply that quotes the whole notice incl. "
            "the empty template: kinds [] but accepted (school known)")
def _():
    return Mail("coremail", "hqc@xcc.edu.cn", "西昌学院后勤处", f"Re: {NOTICE_TITLE}",
                "2024-06-26 10:05:38", headers=NOTICE_REPLY,
                text=letter("老师您好，", ["请问模板在哪里下载？附件里好像没有看到模板。"],
                            ["西昌学院后勤处 吉老师"]) + "\n" + "\n".join(coremail_quote(
                                CONTACT, "2024-06-25 16:30:12 (星期二)", "各会员单位", NOTICE_TITLE,
                                NOTICE_QUOTE)))


@entry("yibinu_reply_receipt_news", "宜宾学院", ["news"],
       note="reply to the secretariat's receipt for the plan: the quote mentions 活动方案/视频/推文; "
            "only the news (docx + photos) is new; district leader in Cc")
def _():
    n = news("宜宾学院后勤党支部", "2024-07-12", "宜宾学院校史馆", 25, "邓婷")
    subj = "回执：宜宾学院“接力行”活动方案已收到"
    return Mail("coremail", "hqdzb@yibinu.edu.cn", "宜宾学院后勤党支部", f"Re: {subj}",
                "2024-07-15 08:37:12", cc=[("川南片区组长", "hqjjc@suse.edu.cn")],
                headers=["In-Reply-To: <tencent_3A4B5C6D7E8F9A0B1C2D3E4F5A6B7C8D9E01@qq.com>"],
                text=letter("您好！", ["现报送我支部7月12日参观校史馆的新闻稿和照片，请审阅。"],
                            ["宜宾学院后勤党支部 邓婷"]) + "\n" + "\n".join(coremail_quote(
                                CONTACT, "2024-07-03 10:12:33 (星期三)", "hqdzb@yibinu.edu.cn", subj,
                                ["宜宾学院后勤党支部：",
                                 "你校“接力行”活动方案已收到（2024年7月3日），感谢支持！",
                                 "请于“七.一”后报送参观新闻图片及文档，“十.一”前报送视频或微信推文（含链接地址）。",
                                 "", "四川省高校后勤协会思政会秘书处"])),
                attachments=[("宜宾学院后勤党支部参观校史馆新闻稿.docx", newsdoc(n)),
                             ("合影.jpg", jpeg("yibinu1")), ("参观.jpg", jpeg("yibinu2"))])


@entry("cdu_video_promise_nothing", "成都大学", [],
       note="announces that the video will come later and mentions 推文 - nothing is delivered "
            "(kinds [], accepted)")
def _():
    return Mail("outlook", "hqc@cdu.edu.cn", "成都大学后勤处", "成都大学后勤处视频报送时间说明",
                "2024-09-23 14:48:19",
                text=letter("贺老师：", ["您好！我处视频还在剪辑中，预计9月底前报送，届时将同时发送微信推文链接。特此说明。"],
                            ["唐勇", "成都大学后勤处"]))


@entry("qq_question_unknown", "", [],
       note="QQ nickname, no signature: a question about the video format - nobody can tell the "
            "school (needs_school, kinds [])")
def _():
    return Mail("qq", "916273548@qq.com", "A静", "咨询", "2024-08-30 12:14:57",
                text="老师您好，请问视频需要多长时间？横屏还是竖屏？微信推文可以用学校公众号发的吗？谢谢！")


@entry("qq_news_no_school", "", ["news"],
       note="news docx + photos from a QQ box signed '后勤 小李'; neither text, docx nor filenames "
            "name a school")
def _():
    n = news("后勤党支部", "2024-07-19", "校史馆", 30, "小李",
             title="后勤党支部开展“道中华之美 美后勤之道”参观校史馆活动")
    return Mail("qq", "1846203957@qq.com", "小李", "新闻稿和照片", "2024-07-22 17:26:31",
                text=letter("老师好，", ["这是我们参观校史馆的照片和新闻稿，请查收。"], ["后勤 小李"]),
                attachments=[("新闻稿.docx", newsdoc(n)),
                             *[(f"{i}.jpg", jpeg(f"anonqq{i}")) for i in (1, 2, 3)]])


@entry("netease_video_no_school", "", ["video"], links=[("anon_wx", "wechat_article")],
       note="bare WeChat link from an anonymous 163 box: a video deliverable whose school "
            "cannot be told from the mail")
def _():
    return Mail("netease", "hqdzb2024@163.com", "hqdzb2024", "推文链接", "2024-09-29 20:03:44",
                text=f"您好，推文链接：{LK['anon_wx']} 请查收。")


# ---------------------------------------------------------------- to be ignored
@entry("auto_qq_holiday_reply", "", [], status="ignored",
       note="QQ holiday auto-reply: X-QQ-AUTO-REPLY: true, no Auto-Submitted; quotes the "
            "secretariat's reminder subject")
def _():
    return Mail("qq", "2650318794@qq.com", "刘老师", f"自动回复: {REMIND_SUBJECT}", "2024-09-14 09:00:03",
                headers=["X-QQ-AUTO-REPLY: true", *REMIND_REPLY],
                text="这是来自QQ邮箱的假期自动回复邮件。\n　\n您好，我最近正在休假中，无法亲自回复您的邮件。"
                     "我将在假期结束后，尽快给您回复。")


@entry("auto_exchange_out_of_office", "西南财经大学", [], status="ignored",
       note="Exchange out-of-office ('自动答复:', Auto-Submitted: auto-generated, "
            "X-Auto-Response-Suppress: All) from a campus address: school known but ignored")
def _():
    return Mail("exchange", "zhangli@swufe.edu.cn", "张丽", f"自动答复: {REMIND_SUBJECT}",
                "2024-09-14 09:00:41",
                headers=["Auto-Submitted: auto-generated", "X-Auto-Response-Suppress: All",
                         *REMIND_REPLY, "X-MS-Exchange-Inbox-Rules-Loop: zhangli@swufe.edu.cn"],
                text="您好！\n我于9月14日至9月22日休假，期间无法及时回复邮件。急事请致电后勤服务中心办公室。\n谢谢！\n\n张丽")


@entry("auto_coremail_auto_replied", "乐山师范学院", [], status="ignored",
       note="Coremail auto-reply with Auto-Submitted: auto-replied and subject '自动回复:'")
def _():
    return Mail("coremail", "hqglc@lsnu.edu.cn", "乐山师范学院后勤管理处", f"自动回复: {REMIND_SUBJECT}",
                "2024-09-14 09:01:12", headers=["Auto-Submitted: auto-replied", *REMIND_REPLY],
                text="您好，您的来信已收到，我会尽快处理。（此为自动回复）")


def bounce() -> bytes:
    """A Postfix-style DSN (multipart/report) returning the secretariat's receipt."""
    b = "8A1C62E0F3.1726278001/smtp.qq.com"
    receipt = "\r\n".join([
        f"From: =?UTF-8?B?{base64.b64encode(SECRETARIAT.encode()).decode()}?= <{CONTACT}>",
        "To: hq_office@cafuc.edu.cn",
        "Subject: =?UTF-8?B?" + base64.b64encode(
            "回执：中国民用航空飞行学院“接力行”活动方案及新闻稿已收到".encode()).decode() + "?=",
        "Date: Sat, 14 Sep 2024 09:40:00 +0800", "Message-ID: <receipt-0917-cafuc@qq.com>",
        "MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8",
        "Content-Transfer-Encoding: base64", "",
        b64body("中国民用航空飞行学院后勤管理处：\r\n你校“接力行”活动方案及新闻稿（含照片3张）已收到，感谢支持！\r\n"
                "请于“十.一”前报送视频或微信推文（含链接地址）。\r\n\r\n四川省高校后勤协会思政会秘书处\r\n"
                .encode()).decode().rstrip("\r\n")])
    lines = [
        ("Received: from smtp.qq.com by newxmmxszc3-1.qq.com (NewMX) with SMTP id 0;\r\n"
        "\tSat, 14 Sep 2024 09:40:02 +0800"),
        "Return-Path: <>",
        "Date: Sat, 14 Sep 2024 09:40:01 +0800 (CST)",
        "From: Mail Delivery System <MAILER-DAEMON@qq.com>",
        "Subject: Undelivered Mail Returned to Sender",
        f"To: {CONTACT}",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="{b}"',
        "Content-Transfer-Encoding: 8bit",
        "Message-Id: <20240914014001.8A1C62E0F3@smtp.qq.com>",
        "",
        "This is a MIME-encapsulated message.",
        "",
        f"--{b}",
        "Content-Description: Notification",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        "",
        "This is the mail system at host smtp.qq.com.",
        "",
        "I'm sorry to have to inform you that your message could not",
        "be delivered to one or more recipients. It's attached below.",
        "",
        "抱歉，您的邮件无法投递到以下收件人，原邮件附在后面。",
        "",
        "<hq_office@cafuc.edu.cn>: host mx.cafuc.edu.cn[202.115.160.25] said: 550 5.1.1",
        "    <hq_office@cafuc.edu.cn>: Recipient address rejected: User unknown (in reply",
        "    to RCPT TO command)",
        "",
        f"--{b}",
        "Content-Description: Delivery report",
        "Content-Type: message/delivery-status",
        "",
        "Reporting-MTA: dns; smtp.qq.com",
        "X-Postfix-Queue-ID: 8A1C62E0F3",
        f"X-Postfix-Sender: rfc822; {CONTACT}",
        "Arrival-Date: Sat, 14 Sep 2024 09:40:00 +0800 (CST)",
        "",
        "Final-Recipient: rfc822; hq_office@cafuc.edu.cn",
        "Original-Recipient: rfc822;hq_office@cafuc.edu.cn",
        "Action: failed",
        "Status: 5.1.1",
        "Remote-MTA: dns; mx.cafuc.edu.cn",
        "Diagnostic-Code: smtp; 550 5.1.1 <hq_office@cafuc.edu.cn>: Recipient address",
        "    rejected: User unknown",
        "",
        f"--{b}",
        "Content-Description: Undelivered Message",
        "Content-Type: message/rfc822",
        "Content-Transfer-Encoding: 8bit",
        "",
        receipt,
        "",
        f"--{b}--",
        "",
    ]
    return "\r\n".join(lines).encode("utf-8")


@entry("bounce_mailer_daemon", "", [], status="ignored",
       note="multipart/report DSN from MAILER-DAEMON for the secretariat's own receipt to "
            "中飞院; the returned receipt mentions 活动方案/新闻稿/视频 - nothing was submitted")
def _():
    return bounce()


@entry("list_scu_newsletter", "四川大学", [], status="ignored",
       note="campus newsletter (List-Id, List-Unsubscribe, Precedence: bulk) that reports the "
            "school's own 接力行 visit with a link - list mail, not a submission")
def _():
    return Mail("coremail", "hqjb@scu.edu.cn", "四川大学后勤保障部", "【川大后勤简报】2024年第8期",
                "2024-08-05 08:00:00", to=[("川大后勤简报订阅者", "hqjb@scu.edu.cn")],
                headers=["List-Id: =?UTF-8?B?" + base64.b64encode("川大后勤简报".encode()).decode()
                         + "?= <hqjb.list.scu.edu.cn>",
                         "List-Unsubscribe: <mailto:hqjb-unsubscribe@scu.edu.cn>",
                         "Precedence: bulk", "X-Mailing-List: hqjb@scu.edu.cn"],
                text="\n".join(["【川大后勤简报】2024年第8期（总第96期）", "",
                                "■ 后勤保障部党委开展“道中华之美 美后勤之道”参观博物馆活动",
                                "7月5日下午，后勤保障部党委组织党员职工50余人参观四川大学博物馆……",
                                f"阅读全文：{LK['scu_list']}", "",
                                "■ 暑期校园维修改造工程有序推进", "■ 江安校区新食堂试运行", "",
                                "—— 您收到此邮件是因为您订阅了川大后勤简报。退订请回复“退订”。"]))


# ---------------------------------------------------------------- to be quarantined
@entry("quarantine_docx_exe", "四川警察学院", [], status="quarantined",
       note="'活动方案.docx.exe' (MZ/PE bytes) from a QQ box - quarantined although the "
            "signature names the school; kinds [] since the 'plan' is an executable")
def _():
    return Mail("qq", "3317094526@qq.com", "平安", "活动方案", "2024-07-06 23:12:48",
                text=letter("老师好，", ["活动方案见附件。"], ["四川警察学院后勤处"]),
                attachments=[("活动方案.docx.exe", exe_stub("exe1"))])


@entry("quarantine_jpg_scr", "", [], status="quarantined",
       note="'新闻照片.jpg.scr' (an executable screensaver with MZ bytes) from an anonymous 163 box")
def _():
    return Mail("netease", "hq_photos2024@163.com", "hq_photos2024", "新闻照片", "2024-08-12 02:14:09",
                text="照片见附件", attachments=[("新闻照片.jpg.scr", exe_stub("scr1"))])


@entry("quarantine_smime_unreadable", "西南石油大学", [], status="quarantined",
       note="S/MIME-encrypted Outlook mail (application/pkcs7-mime): only the subject is readable, "
            "so nothing can be checked")
def _():
    return Mail("outlook", "hqdw@swpu.edu.cn", "西南石油大学后勤党委",
                "西南石油大学后勤党委“接力行”参观新闻稿", "2024-07-20 10:40:16", smime=p7m("swpu"))


@entry("suse_bundle_three_schools", "四川轻化工大学", [],
       parts=[label("宜宾学院", ["news"]),
              label("西南医科大学", ["plan"], plan_missing=["活动流程"]),
              label("内江师范学院", ["video"], links=[("njtc_bili", "bilibili")])],
       note="川南 leader passes on three schools' mails at once, each forwarded as an attachment "
            "(Foxmail 作为附件转发): every original is a submission of its own school; the "
            "bundle's cover note delivers nothing itself")
def _():
    wrote = [("宜宾学院后勤党委", "hq_dangzhibu@yibinu.edu.cn", "宜宾学院后勤党委参观校史馆新闻稿",
              "2024-07-08 16:20:05"),
             ("西南医科大学后勤管理处", "hqglc@swmu.edu.cn", "西南医科大学后勤管理处接力行活动方案",
              "2024-07-09 10:02:44"),
             ("内江师范学院后勤处 张老师", "2291736655@qq.com", "内江师范学院后勤处接力行视频",
              "2024-09-25 18:40:09")]
    lines = news("宜宾学院后勤党委", "2024-07-05", "宜宾学院校史馆", 35, "周婷")
    first = Mail("coremail", wrote[0][1], wrote[0][0], wrote[0][2], wrote[0][3],
                 to=[("川南片区组长单位", "hqjjc@suse.edu.cn")], received=False,
                 text=letter("王老师：", ["您好！我校后勤党委参观校史馆的新闻稿和照片见附件，请审阅汇总。"],
                             ["宜宾学院后勤党委"]),
                 attachments=[("宜宾学院后勤党委参观校史馆新闻稿.docx", newsdoc(lines)),
                              ("校史馆参观1.jpg", jpeg("yibinu1")), ("校史馆参观2.jpg", jpeg("yibinu2"))])
    plan_lines = plan("西南医科大学后勤管理处党总支", "西南医科大学校史馆", "2024-07-18 14:30",
                      "何老师 0830-3160173", omit=("活动流程",))
    second = Mail("foxmail", wrote[1][1], wrote[1][0], wrote[1][2], wrote[1][3],
                  to=[("川南片区组长单位", "hqjjc@suse.edu.cn")], received=False,
                  text=letter("您好！", ["附件为我处接力行活动方案，请审阅。"], ["西南医科大学后勤管理处"]),
                  attachments=[("西南医科大学后勤管理处接力行活动方案.docx",
                                docx(plan_lines[0], plan_lines[1:]))])
    third = Mail("qq", wrote[2][1], wrote[2][0], wrote[2][2], wrote[2][3],
                 to=[("川南片区组长单位", "hqjjc@suse.edu.cn")], received=False,
                 text=letter("王老师好：", ["我处2024年后勤新亮点视频已发布在哔哩哔哩，链接如下：",
                                       LK["njtc_bili"]], ["内江师范学院后勤处", "张老师"]))
    return Mail("foxmail", "hqjjc@suse.edu.cn", "四川轻化工大学后勤基建处",
                "川南片区接力行材料汇总（宜宾学院、西南医科大学、内江师范学院）", "2024-09-27 09:30:12",
                text=letter("贺老师：", [("您好！现将我片区宜宾学院、西南医科大学、内江师范学院报送的材料"
                                        "一并转发给您，三封原邮件见附件，请审阅。")],
                            ["王文娟", "四川轻化工大学后勤基建处（川南片区组长单位）"]),
                rfc822=[(f"{subject}.eml", mail) for (_, _, subject, _), mail
                        in zip(wrote, (first, second, third))])


@entry("suse_leader_attaches_schools_files", "四川轻化工大学", [],
       credits=[("宜宾学院", ["news"], ["宜宾学院后勤党委参观校史馆新闻稿.docx", "宜宾学院参观照片.jpg"], []),
                ("西南医科大学", ["plan"], ["西南医科大学后勤管理处接力行活动方案.docx"], ["活动流程"])],
       note="川南 leader attaches two schools' files to a mail of its own (not forwarding their "
            "mails): each file named after a school is credited to it; the leader's own words "
            "deliver nothing")
def _():
    lines = news("宜宾学院后勤党委", "2024-07-05", "宜宾学院校史馆", 35, "周婷")
    plan_lines = plan("西南医科大学后勤管理处党总支", "西南医科大学校史馆", "2024-07-18 14:30",
                      "何老师 0830-3160173", omit=("活动流程",))
    return Mail("coremail", "hqjjc@suse.edu.cn", "四川轻化工大学后勤基建处",
                "川南片区接力行材料（宜宾学院、西南医科大学）", "2024-07-20 15:02:37",
                text=letter("贺老师：", [("您好！附件是我片区宜宾学院的新闻稿和照片、西南医科大学的活动方案，"
                                         "请查收。")],
                            ["王文娟", "四川轻化工大学后勤基建处（川南片区组长单位）"]),
                attachments=[("宜宾学院后勤党委参观校史馆新闻稿.docx", newsdoc(lines)),
                             ("宜宾学院参观照片.jpg", jpeg("suse-yibinu1")),
                             ("西南医科大学后勤管理处接力行活动方案.docx",
                              docx(plan_lines[0], plan_lines[1:]))])


# ================================================================ writing and checking
def build_all() -> list[tuple[str, bytes, dict]]:
    out = []
    for i, (slug, label, fn) in enumerate(ENTRIES, 1):
        res = fn()
        raw = res if isinstance(res, bytes) else render(res, f"labelled/{slug}")
        out.append((f"{i:02d}_{slug}.eml", raw, label))
    return out


def toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def labels_toml(items: list[tuple[str, bytes, dict]]) -> str:
    out = ["# Labels for tests/data/labelled/*.eml - generated by build.py, do not edit by hand.",
           ("# status: accepted | needs_school | ignored | quarantined; kinds in plan/news/video "
           "order;"), "# links: deliverable links a clerk would record.", ""]
    for name, _, lab in items:
        links = ", ".join(f"{{ url = {toml_str(x['url'])}, platform = {toml_str(x['platform'])} }}"
                          for x in lab["links"])
        out += ["[[mail]]", f"file = {toml_str(name)}", f"school = {toml_str(lab['school'])}",
                f"kinds = [{', '.join(toml_str(k) for k in lab['kinds'])}]",
                f"status = {toml_str(lab['status'])}", f"links = [{links}]",
                f"plan_missing = [{', '.join(toml_str(k) for k in lab['plan_missing'])}]",
                f"note = {toml_str(lab['note'])}", ""]
        for part in lab["parts"]:
            links = ", ".join(f"{{ url = {toml_str(x['url'])}, platform = "
                              f"{toml_str(x['platform'])} }}" for x in part["links"])
            out += ["[[mail.parts]]", f"school = {toml_str(part['school'])}",
                    f"kinds = [{', '.join(toml_str(k) for k in part['kinds'])}]",
                    f"status = {toml_str(part['status'])}", f"links = [{links}]",
                    f"plan_missing = [{', '.join(toml_str(k) for k in part['plan_missing'])}]",
                    ""]
        for school, kinds, files, missing in lab["credits"]:
            out += ["[[mail.credits]]", f"school = {toml_str(school)}",
                    f"kinds = [{', '.join(toml_str(k) for k in kinds)}]",
                    f"files = [{', '.join(toml_str(f) for f in files)}]",
                    f"plan_missing = [{', '.join(toml_str(k) for k in missing)}]", ""]
    return "\n".join(out)


def texts(msg) -> list[str]:
    """All decoded text/plain + text/html, nested messages included (HTML entities decoded)."""
    out = []
    for part in msg.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            t = part.get_content()
            out.append(htmllib.unescape(t) if part.get_content_subtype() == "html" else t)
    return out


def check(items: list[tuple[str, bytes, dict]]) -> list[str]:
    schools = tomllib.loads(SCHOOLS_TOML.read_text("utf-8"))["school"]
    by_name = {s["name"]: s for s in schools}
    domains = {d: s["name"] for s in schools for d in s.get("domains", [])}
    problems = []
    for name, raw, lab in items:
        try:
            msg = email.message_from_bytes(raw, policy=policy.default)
            for part in msg.walk():
                for v in part.values():
                    str(v)
                part.get_filename()
                if part.get_content_maintype() == "text":
                    part.get_content()
                elif not part.is_multipart() and part.get_content_type() != "message/rfc822":
                    part.get_payload(decode=True)
            if msg.defects:
                problems.append(f"{name}: defects {msg.defects}")
        except Exception as e:  # noqa: BLE001
            problems.append(f"{name}: parse error {e!r}")
            continue
        addr = msg["from"].addresses[0].addr_spec.lower()
        dom = addr.split("@")[1]
        campus = next((s for d, s in domains.items() if dom == d or dom.endswith("." + d)), None)
        if dom not in PUBLIC and campus is None:
            problems.append(f"{name}: sender domain {dom} neither public nor in the directory")
        if lab["school"] and lab["school"] not in by_name:
            problems.append(f"{name}: unknown school {lab['school']}")
        body = "\n".join(texts(msg))
        for link in lab["links"]:
            if link["url"] not in body:
                problems.append(f"{name}: link not in mail {link['url']}")
            if link["platform"] not in PLATFORMS:
                problems.append(f"{name}: bad platform {link['platform']}")
        if list(lab["kinds"]) != [k for k in KINDS if k in lab["kinds"]]:
            problems.append(f"{name}: kinds out of order")
        if lab["plan_missing"] and "plan" not in lab["kinds"]:
            problems.append(f"{name}: plan_missing without plan")
        if any(f not in FIELDS for f in lab["plan_missing"]):
            problems.append(f"{name}: unknown template field")
        want = lab["status"] if lab["status"] in ("ignored", "quarantined") else (
            "accepted" if lab["school"] else "needs_school")
        if lab["status"] != want:
            problems.append(f"{name}: status {lab['status']} breaks the rule ({want})")
    return problems


def payload_checks(items) -> list[str]:
    """Plans/news inside .docx/.pdf are readable and hold what the label says."""
    import docx as pydocx
    problems = []
    for name, raw, lab in items:
        msg = email.message_from_bytes(raw, policy=policy.default)
        for part in msg.walk():
            fn = part.get_filename() or ""
            data = part.get_payload(decode=True) if not part.is_multipart() else None
            if fn.endswith(".docx"):
                d = pydocx.Document(io.BytesIO(data))
                text = "\n".join([p.text for p in d.paragraphs]
                                 + [c.text for t in d.tables for r in t.rows for c in r.cells])
                if "方案" in fn and "plan" in lab["kinds"]:
                    miss = [f for f in FIELDS if f not in text]
                    if miss != lab["plan_missing"]:
                        problems.append(f"{name}: {fn} lacks {miss}, label {lab['plan_missing']}")
            elif fn.endswith(".wps"):
                text = data[1536:].decode("utf-16-le", "ignore")
                if any(f not in text for f in FIELDS):
                    problems.append(f"{name}: wps text incomplete")
            elif fn.endswith(".pdf"):
                try:
                    import pypdf
                except ImportError:
                    continue
                text = pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()
                if any(f not in text for f in FIELDS):
                    problems.append(f"{name}: pdf text incomplete: {text[:80]!r}")
    return problems


def district_of(school: dict) -> str:
    return school.get("district") or school.get("district_guess") or f"({school['city']})"


def summary(items) -> None:
    schools = {s["name"]: s for s in tomllib.loads(SCHOOLS_TOML.read_text("utf-8"))["school"]}
    print(f"{'file':<44} {'school':<14} {'kinds':<18} {'status':<13} links")
    for name, _, lab in items:
        print(f"{name:<44} {lab['school'] or '-':<14} {','.join(lab['kinds']) or '-':<18} "
              f"{lab['status']:<13} {len(lab['links'])}")
    from collections import Counter
    st = Counter(lab["status"] for _, _, lab in items)
    kinds = Counter(",".join(lab["kinds"]) or "[]" for _, _, lab in items)
    plats = Counter(x["platform"] for _, _, lab in items for x in lab["links"])
    named = sorted({lab["school"] for _, _, lab in items if lab["school"]})
    dist = Counter(district_of(schools[s]) for s in named)
    print(f"\n{len(items)} mails; status {dict(st)}")
    print(f"kinds {dict(kinds)}")
    print(f"platforms {dict(plats)}")
    print(f"{len(named)} schools; by district {dict(dist)}")


def main(argv: list[str]) -> int:
    items = build_all()
    again = build_all()
    assert [r for _, r, _ in items] == [r for _, r, _ in again], "build is not deterministic"
    if "--check" in argv:
        disk = [(p.name, p.read_bytes()) for p in sorted(HERE.glob("*.eml"))]
        if disk != [(n, r) for n, r, _ in items]:
            print("files on disk differ from build.py output", file=sys.stderr)
            return 1
        if (HERE / "labels.toml").read_text("utf-8") != labels_toml(items):
            print("labels.toml differs from build.py output", file=sys.stderr)
            return 1
    else:
        for old in HERE.glob("*.eml"):
            old.unlink()
        for name, raw, _ in items:
            (HERE / name).write_bytes(raw)
        (HERE / "labels.toml").write_text(labels_toml(items), "utf-8")
    loaded = tomllib.loads((HERE / "labels.toml").read_text("utf-8"))["mail"]
    assert [m["file"] for m in loaded] == [n for n, _, _ in items]
    problems = check(items) + payload_checks(items)
    summary(items)
    for p in problems:
        print("PROBLEM:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
