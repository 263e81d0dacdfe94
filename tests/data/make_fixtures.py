"""Write the byte-level mail fixtures used by tests/test_parse.py.

    python tests/data/make_fixtures.py            # hand-built client shapes
    python tests/data/make_fixtures.py --clients  # also re-run mutt, s-nail, mime-construct

The hand-built messages copy the header and MIME shapes that QQ Mail,
Foxmail, Outlook, Coremail (campus and 163) really send, byte for byte:
CRLF line ends, raw 8-bit GBK where those clients write it, gb2312 labels on
GBK/GB18030 text.  The ``--clients`` ones are written by the real Debian
programs (their Date and Message-ID change on every run).  Attachment bytes
come from the deterministic builders below, which the tests import to check
that payloads round-trip byte-identical.
"""

from __future__ import annotations

import base64
import binascii
import importlib.util
import io
import os
import quopri
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent


def _demo_mail():
    """scripts/demo_mail.py, whose payload builders the fixtures share (its TNEF writer)."""
    spec = importlib.util.spec_from_file_location("demo_mail",
                                                  HERE.parents[1] / "scripts" / "demo_mail.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tnef = _demo_mail().tnef


# ----------------------------------------------------------------- payloads
def jpeg(comment: str) -> bytes:
    """A valid 8x8 grey baseline JPEG whose COM segment holds ``comment``."""

    def seg(marker: int, body: bytes) -> bytes:
        return bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body

    return (b"\xff\xd8" + seg(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
            + seg(0xFE, comment.encode("utf-8"))
            + seg(0xDB, b"\x00" + bytes([1] * 64))
            + seg(0xC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00")
            + seg(0xC4, b"\x00" + bytes([1] + [0] * 15) + b"\x00")
            + seg(0xC4, b"\x10" + bytes([1] + [0] * 15) + b"\x00")
            + seg(0xDA, b"\x01\x01\x00\x00\x3f\x00") + b"\x3f\xff\xd9")


def png(rgb: tuple[int, int, int], size: int = 4) -> bytes:
    """A valid size x size RGB PNG of one colour (stored zlib: byte-stable)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 0)) + chunk(b"IEND", b""))


def docx(text: str) -> bytes:
    """A minimal WordprocessingML package (stored zip, fixed dates: byte-stable)."""
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
        'openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType='
        '"application/xml"/><Override PartName="/word/document.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        "word/document.xml": '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://'
        'schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>'
        f"{text}</w:t></w:r></w:p></w:body></w:document>",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for name, body in files.items():
            zf.writestr(zipfile.ZipInfo(name, (2024, 11, 20, 9, 0, 0)), body.encode("utf-8"))
    return out.getvalue()


def wps() -> bytes:
    """The start of a WPS Office (OLE2 compound file) document, 512 bytes."""
    head = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + b"\x3e\x00\x03\x00\xfe\xff\x09\x00"
    head += "WPS Office 博物馆接力行报名表".encode("utf-16-le")
    return head + b"\xff" * (512 - len(head))


def pdf() -> bytes:
    return (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")


TXT_GBK = "参会名单\r\n王喆 四川师范大学后勤党委\r\n朱镕 西南交通大学后勤保障处\r\n".encode("gb18030")

PAYLOADS: dict[str, bytes] = {
    "活动方案-四川师范大学.docx": docx("四川师范大学后勤党委 活动方案（博物馆接力行）"),
    "参观合影1.jpg": jpeg("参观合影1"),
    "参观合影2.jpg": jpeg("参观合影2"),
    "新闻稿-西南交通大学.docx": docx("【新闻】西南交通大学后勤参观校史馆"),
    "宣传海报（博物馆接力行）.pdf": pdf(),
    "博物馆接力行报名表（四川师范大学后勤党委）.wps": wps(),
    "logo.png": png((200, 30, 30)),
    "参会名单.txt": TXT_GBK,
    "成都大学后勤处活动方案.docx": docx("成都大学后勤处 活动方案（博物馆接力行）"),
}

# ------------------------------------------------------------------ helpers
GB = "gb18030"  # what every "gb2312"/"GBK"-labelled Chinese client really writes


def ew(text: str, label: str) -> str:
    """One RFC 2047 B-word; GB labels get GB18030 bytes, as the clients do."""
    codec = GB if label.lower() in ("gb2312", "gbk", "gb18030") else label
    return f"=?{label}?B?{base64.b64encode(text.encode(codec)).decode()}?="


def b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii").rstrip("\n")


def qp(text: str, codec: str) -> str:
    return quopri.encodestring(text.encode(codec).replace(b"\n", b"\r\n")).decode("ascii")


def crlf(*items: str | bytes) -> bytes:
    """Join header/body lines with CRLF; str items must be ASCII, bytes are raw."""
    out = []
    for item in items:
        raw = item.encode("ascii") if isinstance(item, str) else item
        out.extend(raw.replace(b"\r\n", b"\n").split(b"\n"))
    return b"\r\n".join(out) + b"\r\n"


# ----------------------------------------------------------------- messages
QQ_TEXT = ("王喆老师：\n您好！附件是我校后勤党委“博物馆接力行”活动方案，请查收。\n\n"
           "四川师范大学后勤党委\n王喆")
QQ_HTML = ('<div>王喆老师：</div><div>您好！附件是我校后勤党委“博物馆接力行”活动方案，请查收。</div>'
           '<div><br></div><div>四川师范大学后勤党委<br>王喆</div>')


def qqmail() -> bytes:
    name = "活动方案-四川师范大学.docx"
    outer = "----=_NextPart_6742F1A2_0B5C7E48_3D2F1A90"
    alt = "----=_NextPart_6742F1A2_0B5C7E48_1E2D3C4B"
    return crlf(
        "Received: from qq.com (unknown [127.0.0.1])\n\tby smtp.qq.com (ESMTP) with SMTP\n"
        "\tid ; Sun, 24 Nov 2024 11:44:34 +0800 (CST)",
        "X-QQ-mid: bizesmtp71t1732419874tq0x1y2z",
        "X-QQ-SSF: 00400000000000F0",
        "X-QQ-FEAT: 3+4bfJmLBnZsgWU1BJI8iHsfAnxTg2Xl",
        "X-QQ-GoodBg: 0",
        f'From: "{ew("王喆", "gb18030")}" <2860012345@qq.com>',
        f'To: "{ew("联络处", "gb18030")}" <contact@example.org>',
        f"Subject: {ew('四川师范大学后勤党委 活动方案（博物馆接力行）', 'gb18030')}",
        "Mime-Version: 1.0",
        f'Content-Type: multipart/mixed;\n\tboundary="{outer}"',
        "Content-Transfer-Encoding: 8Bit",
        "Date: Sun, 24 Nov 2024 11:44:34 +0800",
        "X-Priority: 3",
        "Message-ID: <tencent_5F1E3C0A8B7D2E4F6A9C1B3D5E7F9A0B1C08@qq.com>",
        "X-QQ-MIME: TCMime 1.0 by Tencent",
        "X-Mailer: QQMail 2.x",
        "X-QQ-Mailer: QQMail 2.x",
        "",
        "This is a multi-part message in MIME format.",
        "",
        f"--{outer}",
        f'Content-Type: multipart/alternative;\n\tboundary="{alt}"',
        "",
        f"--{alt}",
        'Content-Type: text/plain;\n\tcharset="gb18030"',
        "Content-Transfer-Encoding: base64",
        "",
        b64(QQ_TEXT.replace("\n", "\r\n").encode(GB)),
        "",
        f"--{alt}",
        'Content-Type: text/html;\n\tcharset="gb18030"',
        "Content-Transfer-Encoding: base64",
        "",
        b64(QQ_HTML.encode(GB)),
        "",
        f"--{alt}--",
        "",
        f"--{outer}",
        'Content-Type: application/octet-stream;\n\tcharset="gb18030";'
        f'\n\tname="{ew(name, "gb18030")}"',
        f'Content-Disposition: attachment; filename="{ew(name, "gb18030")}"',
        "Content-Transfer-Encoding: base64",
        "",
        b64(PAYLOADS[name]),
        "",
        f"--{outer}--",
        "",
    )


FOXMAIL_TEXT = ("您好：\n我们是四川师范大学后勤党委，联系人王喆，电话028-84760000。\n"
                "附件是上周参观的合影，请查收。\n\nwangzhe@sicnu.edu.cn")


def foxmail() -> bytes:
    name = "参观合影1.jpg"
    outer, alt = "----=_001_NextPart581204175310_=----", "----=_002_NextPart837624101512_=----"
    html = ("<html><head><meta http-equiv=\"content-type\" content=\"text/html; charset=GB2312\">"
            "<style>body { font-size: 10.5pt; }</style></head><body>\n"
            + "".join(f"<div>{line}</div>\n" for line in FOXMAIL_TEXT.split("\n"))
            + "</body></html>")
    return crlf(
        "Date: Mon, 25 Nov 2024 09:12:30 +0800",
        f'From: "{ew("王喆", "GB2312")}" <wangzhe@sicnu.edu.cn>',
        "To: contact <contact@example.org>",
        f"Subject: {ew('四川师范大学后勤党委 活动方案（博物馆接力行）', 'GB2312')}",
        "X-Priority: 3",
        "X-GUID: 5C3A9F2E-1B4D-4E6F-8A0B-2C3D4E5F6A7B",
        "X-Has-Attach: yes",
        "X-Mailer: Foxmail 7.2.25.228[cn]",
        "Mime-Version: 1.0",
        "Message-ID: <202411250912301234567@sicnu.edu.cn>",
        f'Content-Type: multipart/mixed;\n\tboundary="{outer}"',
        "",
        "This is a multi-part message in MIME format.",
        "",
        f"--{outer}",
        f'Content-Type: multipart/alternative;\n\tboundary="{alt}"',
        "",
        "",
        f"--{alt}",
        'Content-Type: text/plain;\n\tcharset="GB2312"',
        "Content-Transfer-Encoding: base64",
        "",
        b64(FOXMAIL_TEXT.replace("\n", "\r\n").encode(GB)),
        "",
        f"--{alt}",
        'Content-Type: text/html;\n\tcharset="GB2312"',
        "Content-Transfer-Encoding: quoted-printable",
        "",
        qp(html, GB),
        "",
        f"--{alt}--",
        "",
        f"--{outer}",
        b'Content-Type: image/jpeg;\n\tname="' + name.encode(GB) + b'"',
        "Content-Transfer-Encoding: base64",
        b'Content-Disposition: attachment;\n\tfilename="' + name.encode(GB) + b'"',
        "",
        b64(PAYLOADS[name]),
        "",
        f"--{outer}--",
        "",
        "",
    )


OUTLOOK_TEXT = "各位老师：\n附件为新闻稿和宣传海报，请审阅。\n\n朱镕\n西南交通大学后勤保障处"


def outlook() -> bytes:
    doc, poster = "新闻稿-西南交通大学.docx", "宣传海报（博物馆接力行）.pdf"
    outer = "----=_NextPart_000_0001_01DB4014.38A0B5A0"
    alt = "----=_NextPart_001_0002_01DB4014.38A0B5A0"
    html = ('<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>'
            '<meta http-equiv=Content-Type content="text/html; charset=gb2312">'
            "<!--[if gte mso 9]><xml><o:shapedefaults v:ext=\"edit\" spidmax=\"1026\" /></xml>"
            "<![endif]--></head><body lang=ZH-CN><div class=WordSection1>"
            + "".join(f"<p class=MsoNormal>{ln}<o:p></o:p></p>" for ln in OUTLOOK_TEXT.split("\n"))
            + "</div></body></html>")
    poster_utf8 = poster.encode("utf-8")  # Outlook folds long words; this split is mid-character
    cut = 10
    poster_words = (f"=?utf-8?B?{base64.b64encode(poster_utf8[:cut]).decode()}?=\n "
                    f"=?utf-8?B?{base64.b64encode(poster_utf8[cut:]).decode()}?=")
    return crlf(
        f'From: "{ew("朱镕", "gb2312")}" <zhurong@swjtu.edu.cn>',
        'To: "contact@example.org" <contact@example.org>',
        f"Subject: {ew('【新闻】西南交通大学后勤参观校史馆', 'gb2312')}",
        "Date: Tue, 26 Nov 2024 16:05:11 +0800",
        "Message-ID: <000001db3fd1$2a7c3e10$7f74ba30$@swjtu.edu.cn>",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed;\n\tboundary="{outer}"',
        "X-Mailer: Microsoft Outlook 16.0",
        "Thread-Index: AdtA0SmGn3Yq8bWkR1GqY9kXc0Zs0A==",
        "Content-Language: zh-cn",
        "",
        "This is a multipart message in MIME format.",
        "",
        f"--{outer}",
        f'Content-Type: multipart/alternative;\n\tboundary="{alt}"',
        "",
        "",
        f"--{alt}",
        'Content-Type: text/plain;\n\tcharset="gb2312"',
        "Content-Transfer-Encoding: base64",
        "",
        b64(OUTLOOK_TEXT.replace("\n", "\r\n").encode(GB)),
        "",
        f"--{alt}",
        'Content-Type: text/html;\n\tcharset="gb2312"',
        "Content-Transfer-Encoding: quoted-printable",
        "",
        qp(html, GB),
        "",
        f"--{alt}--",
        "",
        f"--{outer}",
        "Content-Type: application/vnd.openxmlformats-officedocument.wordprocessingml.document;"
        f'\n\tname="{ew(doc, "gb2312")}"',
        "Content-Transfer-Encoding: base64",
        f'Content-Disposition: attachment;\n\tfilename="{ew(doc, "utf-8")}"',
        "",
        b64(PAYLOADS[doc]),
        "",
        f"--{outer}",
        f'Content-Type: application/pdf;\n\tname="{poster_words}"',
        "Content-Transfer-Encoding: base64",
        f'Content-Disposition: attachment;\n\tfilename="{poster_words}"',
        "",
        b64(PAYLOADS[poster]),
        "",
        f"--{outer}--",
        "",
    )


OUTLOOK_RTF_TEXT = "王喆老师：\n附件是我校“博物馆接力行”活动方案和参观照片，请查收。\n西南交通大学后勤保障处 朱镕"


def outlook_tnef() -> bytes:
    """Outlook 2016 on Exchange, "rich text" format: the files only inside winmail.dat."""
    outer = "_000_SG2PR06MB3456A1B2C3D4E5F6A7B8C9D0SG2PR06MB3456apcp_"
    files = {"活动方案-四川师范大学.docx": PAYLOADS["活动方案-四川师范大学.docx"],
             "参观合影1.jpg": PAYLOADS["参观合影1.jpg"]}
    return crlf(
        f'From: {ew("朱镕", "gb2312")} <zhurong@swjtu.edu.cn>',
        "To: contact@example.org",
        f"Subject: {ew('活动方案（博物馆接力行）', 'gb2312')}",
        "Date: Wed, 27 Nov 2024 09:12:40 +0000",
        "Message-ID: <SG2PR06MB3456A1B2C3D4E5F6A7B8C9D0@SG2PR06MB3456.apcprd06.prod.outlook.com>",
        "X-MS-Has-Attach: yes",
        "X-MS-TNEF-Correlator: <SG2PR06MB3456A1B2C3D4E5F6A7B8C9D0@SG2PR06MB3456.apcprd06.prod.outlook.com>",
        f'Content-Type: multipart/mixed;\n\tboundary="{outer}"',
        "MIME-Version: 1.0",
        "",
        f"--{outer}",
        'Content-Type: text/plain; charset="gb2312"',
        "Content-Transfer-Encoding: base64",
        "",
        b64(OUTLOOK_RTF_TEXT.replace("\n", "\r\n").encode(GB)),
        "",
        f"--{outer}",
        'Content-Type: application/ms-tnef; name="winmail.dat"',
        'Content-Description: winmail.dat',
        'Content-Disposition: attachment; filename="winmail.dat"; size=2048;',
        "Content-Transfer-Encoding: base64",
        "",
        b64(tnef(files, OUTLOOK_RTF_TEXT)),
        "",
        f"--{outer}--",
        "",
    )


COREMAIL_TEXT = "您好，博物馆接力行报名表见附件（WPS格式）。\n李娜 四川师范大学后勤党委"


def coremail() -> bytes:
    name = "博物馆接力行报名表（四川师范大学后勤党委）.wps"
    pct = "".join(f"%{b:02X}" for b in name.encode("utf-8"))
    cut = pct.index("%", 40) + 3  # split inside a character: RFC 2231 joins before decoding
    boundary = "----=_Part_123456_789012345.1732674000000"
    return crlf(
        "Received: from lina$sicnu.edu.cn ( [10.1.2.3] ) by ajax-webmail-mail (Coremail) ;"
        "\n Wed, 27 Nov 2024 10:20:00 +0800 (GMT+08:00)",
        "X-Originating-IP: [10.1.2.3]",
        "Date: Wed, 27 Nov 2024 10:20:00 +0800 (GMT+08:00)",
        "X-CM-HeaderCharset: UTF-8",
        f"From: {ew('李娜', 'UTF-8')} <lina@sicnu.edu.cn>",
        "To: contact@example.org",
        f"Subject: {ew('博物馆接力行 报名表', 'UTF-8')}",
        "X-Priority: 3",
        "X-Mailer: Coremail Webmail Server Version XT5.0.13 build 20210104(3c8a0c3e)\n"
        " Copyright (c) 2002-2024 www.mailtech.cn sicnu",
        f'Content-Type: multipart/mixed;\n\tboundary="{boundary}"',
        "MIME-Version: 1.0",
        "Message-ID: <5c2e1a7b.1d2e.19364f3a8b2.Coremail.lina@sicnu.edu.cn>",
        "X-Coremail-Locale: zh_CN",
        "X-CM-TRANSID:AQAAfwDXr1AwzUZnQ2EAAA--.1234W",
        "X-CM-SenderInfo: polqfr1vlvk3hqlfgsyr1l0nq/",
        "X-Coremail-Antispam: 1Ur529EdanIXcx71UUUUU7vcSsGvfC2KfnxnUU==",
        "",
        f"--{boundary}",
        "Content-Type: text/plain; charset=UTF-8",
        "Content-Transfer-Encoding: base64",
        "",
        b64(COREMAIL_TEXT.replace("\n", "\r\n").encode("utf-8")),
        f"--{boundary}",
        "Content-Type: application/kswps; ",
        f"\tname*0*=UTF-8''{pct[:cut]};",
        f"\tname*1*={pct[cut:]}",
        "Content-Transfer-Encoding: base64",
        "Content-Disposition: attachment; ",
        f"\tfilename*0*=UTF-8''{pct[:cut]};",
        f"\tfilename*1*={pct[cut:]}",
        "",
        b64(PAYLOADS[name]),
        f"--{boundary}--",
        "",
    )


NETEASE_TEXT = "您好！\n参观合影见附件。\n\n刘䶮\n西南交通大学后勤保障处"


def netease163() -> bytes:
    name = "参观合影2.jpg"
    boundary = "----=_Part_456789_1234567890.1732753815000"
    return crlf(
        "Received: from liuyan_swjtu$163.com ( [120.1.2.3] ) by ajax-webmail-wmsvr-40-100"
        "\n (Coremail) ; Thu, 28 Nov 2024 08:30:15 +0800 (CST)",
        "X-Originating-IP: [120.1.2.3]",
        "Date: Thu, 28 Nov 2024 08:30:15 +0800 (CST)",
        f"From: {ew('刘䶮', 'GBK')} <liuyan_swjtu@163.com>",
        "To: contact@example.org",
        f"Subject: {ew('参观合影（刘䶮）', 'GBK')}",
        "X-Priority: 3",
        "X-Mailer: Coremail Webmail Server Version XT5.0.14 build 20240801(9da12a7b)\n"
        " Copyright (c) 2002-2024 www.mailtech.cn 163com",
        "X-NETEASE-REPLY: contact@example.org",
        f'Content-Type: multipart/mixed;\n\tboundary="{boundary}"',
        "MIME-Version: 1.0",
        "Message-ID: <6f1c2d3e.3a2b.1936a1b2c3d.Coremail.liuyan_swjtu@163.com>",
        "X-Coremail-Locale: zh_CN",
        "X-CM-TRANSID:ZCgvCgD3_7RHvEdnE2QcAA--.27961S2",
        "X-CM-SenderInfo: polxyd5tqvbpl1rwjqqrwthudrp/1tbiZRmn",
        "",
        f"--{boundary}",
        "Content-Type: text/plain; charset=GBK",
        "Content-Transfer-Encoding: base64",
        "",
        b64(NETEASE_TEXT.replace("\n", "\r\n").encode(GB)),
        f"--{boundary}",
        f'Content-Type: image/jpeg; name="{ew(name, "GBK")}"',
        "Content-Transfer-Encoding: base64",
        f'Content-Disposition: attachment; filename="{ew(name, "GBK")}"',
        "",
        b64(PAYLOADS[name]),
        f"--{boundary}--",
        "",
    )


def split_words() -> bytes:
    subject = "【新闻】西南交通大学后勤参观校史馆".encode()
    name = "王喆".encode(GB)
    return crlf(
        # the 2nd UTF-8 word starts inside a character; the name's 2nd byte is in a "gbk" word
        f"From: =?gb2312?B?{base64.b64encode(name[:3]).decode()}?=\n"
        f" =?gbk?B?{base64.b64encode(name[3:]).decode()}?= <wangzhe@sicnu.edu.cn>",
        "To: contact@example.org",
        f"Subject: =?utf-8?B?{base64.b64encode(subject[:7]).decode()}?=\n"
        f" =?UTF-8?B?{base64.b64encode(subject[7:20]).decode()}?=\n"
        f" =?utf-8?Q?{''.join(f'={b:02X}' for b in subject[20:])}?=",
        "Date: Fri, 29 Nov 2024 14:00:00 +0800",
        "Message-ID: <split-words-1@sicnu.edu.cn>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        "",
        "附件稍后补发。".encode(),
    )


RAW_GBK_TEXT = "各位好：\n报名表见附件。王喆、朱镕基两位老师负责联络。\n"


def raw8bit_gbk() -> bytes:
    name = "报名表-四川师范大学.doc"
    return crlf(
        b'From: "' + "王喆".encode(GB) + b'" <wangzhe@sicnu.edu.cn>',
        "To: contact@example.org",
        b"Subject: " + "回复：四川师范大学后勤党委 活动方案（博物馆接力行）".encode(GB),
        "Date: Sat, 30 Nov 2024 08:00:00 +0800",
        "Message-ID: <raw8bit-gbk-1@sicnu.edu.cn>",
        "MIME-Version: 1.0",
        "X-Mailer: Microsoft Outlook Express 6.00.2900.5931",
        'Content-Type: multipart/mixed; boundary="=_raw8bit_boundary"',
        "",
        "--=_raw8bit_boundary",
        "Content-Type: text/plain; charset=gb2312",
        "Content-Transfer-Encoding: 8bit",
        "",
        RAW_GBK_TEXT.encode(GB),
        "--=_raw8bit_boundary",
        b'Content-Type: application/msword; name="' + name.encode(GB) + b'"',
        b"Content-Disposition: attachment; filename=" + name.encode(GB),
        "Content-Transfer-Encoding: base64",
        "",
        b64(PAYLOADS["活动方案-四川师范大学.docx"]),
        "--=_raw8bit_boundary--",
    )


HTML_GBK = """<html><head><meta charset="gbk"><title>不应出现的标题</title>
<style>p { color: red; }</style><script>var x = "不应出现";</script></head>
<body><p>各位老师好：</p><p>活动报道已发布，请点击阅读：<a href="https://mp.weixin.qq.com/s/AbCdEfGhIjKlMnOpQrStUv">
四川师范大学后勤 | 博物馆接力行</a></p>
<div>视频：<a href='https://www.bilibili.com/video/BV1xK4y1C7aB?share_source=copy&amp;vd_source=1'>
B站</a>&nbsp;也可以 <a href="https://mp.weixin.qq.com/s/AbCdEfGhIjKlMnOpQrStUv">再次打开</a></div>
<table><tr><td>王喆</td><td>028-84760000</td></tr></table>
</body></html>"""


def html_only_gbk() -> bytes:
    return crlf(
        f"From: {ew('王喆', 'gbk')} <wangzhe@sicnu.edu.cn>",
        "To: contact@example.org",
        f"Subject: {ew('活动报道链接', 'gbk')}",
        "Date: Sun, 01 Dec 2024 20:00:00 +0800",
        "Message-ID: <html-only-gbk-1@sicnu.edu.cn>",
        "MIME-Version: 1.0",
        'Content-Type: text/html; charset="gbk"',
        "Content-Transfer-Encoding: base64",
        "",
        b64(HTML_GBK.replace("\n", "\r\n").encode(GB)),
    )


HTML_UTF8 = ('<div dir="ltr">链接如下：<br>公众号文章 <a href="https://mp.weixin.qq.com/s?__biz=MzA3&amp;'
             'mid=2650&amp;idx=1&amp;sn=8a9b#rd">点此</a><br>视频 <a href="https://b23.tv/Ab12Cd3">'
             "https://b23.tv/Ab12Cd3</a></div>")


def html_only_utf8() -> bytes:
    return crlf(
        f"From: {ew('李娜', 'utf-8')} <lina@sicnu.edu.cn>",
        "To: contact@example.org",
        "Subject: =?utf-8?Q?=E9=93=BE=E6=8E=A5?=",
        "Date: Sun, 01 Dec 2024 21:00:00 +0800",
        "MIME-Version: 1.0",
        "Content-Type: text/html; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        "",
        HTML_UTF8.encode("utf-8"),
    )


def related_inline() -> bytes:
    mixed, related, alt = "----=_mixed_1", "----=_related_2", "----=_alt_3"
    poster = "宣传海报（博物馆接力行）.pdf"
    return crlf(
        f"From: {ew('王喆', 'gb18030')} <2860012345@qq.com>",
        "To: contact@example.org",
        f"Subject: {ew('活动照片（正文内嵌）', 'gb18030')}",
        "Date: Mon, 02 Dec 2024 10:00:00 +0800",
        "Message-ID: <related-inline-1@qq.com>",
        "X-Mailer: QQMail 2.x",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{mixed}"',
        "",
        f"--{mixed}",
        f'Content-Type: multipart/related; type="multipart/alternative"; boundary="{related}"',
        "",
        f"--{related}",
        f'Content-Type: multipart/alternative; boundary="{alt}"',
        "",
        f"--{alt}",
        'Content-Type: text/plain; charset="gb18030"',
        "Content-Transfer-Encoding: base64",
        "",
        b64("照片见正文。".encode(GB)),
        f"--{alt}",
        'Content-Type: text/html; charset="gb18030"',
        "Content-Transfer-Encoding: base64",
        "",
        b64('<div>照片见正文。<img src="cid:logo@qq.com"><img src="cid:photo1@qq.com"></div>'.encode(GB)),
        f"--{alt}--",
        f"--{related}",
        "Content-Type: image/png",
        "Content-Transfer-Encoding: base64",
        "Content-ID: <logo@qq.com>",
        "",
        b64(PAYLOADS["logo.png"]),
        f"--{related}",
        f'Content-Type: image/jpeg; name="{ew("参观合影1.jpg", "gb18030")}"',
        "Content-Transfer-Encoding: base64",
        f'Content-Disposition: inline; filename="{ew("参观合影1.jpg", "gb18030")}"',
        "Content-ID: <photo1@qq.com>",
        "",
        b64(PAYLOADS["参观合影1.jpg"]),
        f"--{related}--",
        f"--{mixed}",
        f'Content-Type: application/pdf; name="{ew(poster, "gb18030")}"',
        "Content-Transfer-Encoding: base64",
        f'Content-Disposition: attachment; filename="{ew(poster, "gb18030")}"',
        "",
        b64(PAYLOADS[poster]),
        f"--{mixed}--",
    )


def forwarded() -> bytes:
    inner = foxmail()
    return crlf(
        f'From: "{ew("朱镕", "gb2312")}" <zhurong@swjtu.edu.cn>',
        "To: contact@example.org",
        f"Subject: {ew('转发: 四川师范大学后勤党委 活动方案（博物馆接力行）', 'gb2312')}",
        "Date: Tue, 03 Dec 2024 09:30:00 +0800",
        "Message-ID: <forwarded-1@swjtu.edu.cn>",
        "X-Mailer: Microsoft Outlook 16.0",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="----=_NextPart_000_0010_01DB4555.11111111"',
        "",
        "------=_NextPart_000_0010_01DB4555.11111111",
        'Content-Type: text/plain; charset="gb2312"',
        "Content-Transfer-Encoding: base64",
        "",
        b64("转发四川师范大学的活动方案，原邮件见附件。".encode(GB)),
        "",
        "------=_NextPart_000_0010_01DB4555.11111111",
        "Content-Type: message/rfc822",
        "Content-Disposition: attachment",
        "",
        inner.rstrip(b"\r\n"),
        "",
        "------=_NextPart_000_0010_01DB4555.11111111--",
    )


def text_attachment() -> bytes:
    name = "参会名单.txt"
    return crlf(
        f"From: {ew('朱镕', 'gbk')} <zhurong@swjtu.edu.cn>",
        "To: contact@example.org",
        f"Subject: {ew('参会名单', 'gbk')}",
        "Date: Wed, 04 Dec 2024 11:00:00 +0800",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="b1"',
        "",
        "--b1",
        "Content-Type: text/plain; charset=gbk",
        "Content-Transfer-Encoding: base64",
        "",
        b64("名单见附件。".encode(GB)),
        "--b1",
        f'Content-Type: text/plain; charset=gbk; name="{ew(name, "gbk")}"',
        "Content-Transfer-Encoding: base64",
        f'Content-Disposition: attachment; filename="{ew(name, "gbk")}"',
        "",
        b64(TXT_GBK),
        "--b1--",
    )


def garbage_headers() -> bytes:
    return crlf(
        "X-Junk: yes",
        "this line is not a header at all",
        b"Subject: \xff\xfe\x00broken " + "活动".encode(GB),
        "From: undisclosed-recipients:;",
        "To: ,,, <<>>",
        "Date: Fri, 29 Nov 2024 10:00:00",
        "",
        "正文还在。".encode(),
    )


def lf(*items: str | bytes) -> bytes:
    """Join lines with LF, as a mail saved to a .eml file on Linux or a Mac often is."""
    return crlf(*items).replace(b"\r\n", b"\n")


NJTC_DOC = "内江师范学院参观校史馆新闻稿.docx"
SWMU_JPG = "西南医科大学参观合影.jpg"
EXE_NAME = "新闻稿.docx.exe"
MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)  # a PE/DOS header


def saved_njtc() -> bytes:
    """A school's news mail as 163 Mail saves it to a .eml file (LF line ends)."""
    return lf(
        f'From: "{ew("内江师范学院后勤管理处", "utf-8")}" <njtc_hq@njtc.edu.cn>',
        "To: hqjjc@suse.edu.cn",
        f"Subject: {ew('内江师范学院后勤参观校史馆新闻稿', 'utf-8')}",
        "Date: Wed, 10 Jul 2024 10:00:00 +0800",
        "Message-ID: <eml-njtc-1@njtc.edu.cn>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="==njtc=="',
        "",
        "--==njtc==",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: base64",
        "",
        b64("王老师好，附件是我校新闻稿。\n内江师范学院后勤管理处\n".encode()),
        "--==njtc==",
        "Content-Type: application/octet-stream",
        "Content-Transfer-Encoding: base64",
        f"Content-Disposition: attachment; filename*=utf-8''{quote(NJTC_DOC)}",
        "",
        b64(docx("【新闻】内江师范学院后勤参观校史馆")),
        "--==njtc==--",
    )


def saved_swmu() -> bytes:
    """A school's news mail as Outlook saves it to a .eml file (CRLF line ends)."""
    return crlf(
        "Received: from mail.swmu.edu.cn (unknown [10.1.2.3])\n\tby mx.suse.edu.cn; "
        "Thu, 11 Jul 2024 09:00:00 +0800",
        f'From: "{ew("西南医科大学后勤管理处", "gb2312")}" <hqglc@swmu.edu.cn>',
        "To: <hqjjc@suse.edu.cn>",
        f"Subject: {ew('【新闻】西南医科大学后勤参观校史馆', 'gb2312')}",
        "Date: Thu, 11 Jul 2024 09:00:00 +0800",
        "Message-ID: <eml-swmu-1@swmu.edu.cn>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="----=_NextPart_swmu"',
        "",
        "------=_NextPart_swmu",
        'Content-Type: text/plain; charset="gb2312"',
        "Content-Transfer-Encoding: base64",
        "",
        b64("参观照片见附件。\r\n西南医科大学后勤管理处\r\n".encode(GB)),
        "",
        "------=_NextPart_swmu",
        f'Content-Type: image/jpeg; name="{ew(SWMU_JPG, "gb2312")}"',
        "Content-Transfer-Encoding: base64",
        f'Content-Disposition: attachment; filename="{ew(SWMU_JPG, "gb2312")}"',
        "",
        b64(jpeg("西南医科大学参观合影")),
        "",
        "------=_NextPart_swmu--",
    )


def saved_yibinu() -> bytes:
    """A school's one-part video-link mail, attached as text (CRLF line ends)."""
    return crlf(
        "From: hq_dangzhibu@yibinu.edu.cn",
        "To: hqjjc@suse.edu.cn",
        f"Subject: {ew('宜宾学院 视频链接', 'utf-8')}",
        "Date: Fri, 12 Jul 2024 16:00:00 +0800",
        "Message-ID: <eml-yibinu-1@yibinu.edu.cn>",
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: 8bit",
        "",
        "宜宾学院后勤参观校史馆视频：https://www.bilibili.com/video/BV1xx411c7mD".encode(),
    )


NOT_A_MAIL = "Subject: 汇总说明\r\nDate: 2024-07-15\r\n\r\n三所学校的邮件见附件。".encode()


def forwarded_eml_files() -> bytes:
    """A leader's bundle, the schools' mails attached as .eml files the ways clients do it
    (application/octet-stream, application/x-message, text/plain), and a note named .eml
    that is no mail."""
    def named(ctype: str, name: str, cte: str, body: str | bytes) -> tuple[str | bytes, ...]:
        return ("--b0", f'Content-Type: {ctype}; name="{ew(name, "gb18030")}"',
                f'Content-Disposition: attachment; filename="{ew(name, "gb18030")}"',
                f"Content-Transfer-Encoding: {cte}", "", body)
    return crlf(
        f'From: "{ew("王文娟", "gb18030")}" <hqjjc@suse.edu.cn>',
        "To: contact@example.org",
        f"Subject: {ew('转发：川南片区三校材料', 'gb18030')}",
        "Date: Mon, 15 Jul 2024 15:00:00 +0800",
        "Message-ID: <tencent_eml_bundle@suse.edu.cn>",
        "X-Mailer: QQMail 2.x",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="b0"',
        "",
        "--b0",
        'Content-Type: text/plain; charset="gb18030"',
        "Content-Transfer-Encoding: base64",
        "",
        b64("秘书处老师好，转发川南片区三所学校的邮件，请查收。\r\n".encode(GB)),
        *named("application/octet-stream", "内江师范学院新闻稿.eml", "base64", b64(saved_njtc())),
        *named("application/x-message", "西南医科大学新闻.EML", "base64", b64(saved_swmu())),
        *named('text/plain; charset="utf-8"', "宜宾学院视频.eml", "8bit", saved_yibinu()),
        *named('text/plain; charset="utf-8"', "备注.eml", "8bit", NOT_A_MAIL),
        "--b0--",
    )


def saved_with_exe() -> bytes:
    """A mail hiding an executable, saved to a .eml file (LF line ends)."""
    return lf(
        "From: x <x@163.com>",
        "To: hqjjc@suse.edu.cn",
        f"Subject: {ew('新闻稿', 'utf-8')}",
        "Date: Wed, 10 Jul 2024 10:00:00 +0800",
        "Message-ID: <eml-exe-1@163.com>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="==x=="',
        "",
        "--==x==",
        'Content-Type: text/plain; charset="utf-8"',
        "",
        "附件是新闻稿。".encode(),
        "--==x==",
        "Content-Type: application/octet-stream",
        "Content-Transfer-Encoding: base64",
        f"Content-Disposition: attachment; filename*=utf-8''{quote(EXE_NAME)}",
        "",
        b64(MZ),
        "--==x==--",
    )


def forwarded_eml_file_exe() -> bytes:
    name = "新闻稿.eml"
    return crlf(
        'From: "hq" <hq@swmu.edu.cn>',
        "To: contact@example.org",
        f"Subject: {ew('转：新闻稿', 'gb18030')}",
        "Date: Mon, 15 Jul 2024 15:00:00 +0800",
        "Message-ID: <eml-exe-outer@swmu.edu.cn>",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="b1"',
        "",
        "--b1",
        'Content-Type: text/plain; charset="gb18030"',
        "Content-Transfer-Encoding: base64",
        "",
        b64("转发新闻稿，请查收。\r\n".encode(GB)),
        "--b1",
        f'Content-Type: application/octet-stream; name="{ew(name, "gb18030")}"',
        f'Content-Disposition: attachment; filename="{ew(name, "gb18030")}"',
        "Content-Transfer-Encoding: base64",
        "",
        b64(saved_with_exe()),
        "--b1--",
    )


COREMAIL_BIG_URL = ("https://mail.xhu.edu.cn/coremail/common/nfFile.jsp?share_link="
                    "7C0F4E2A9B3D41E5A8F6C1D20B9E3A57&uid=houqin%40xhu.edu.cn")
COREMAIL_BIG_TEXT = ("王老师：\n您好！我校“博物馆接力行”宣传视频较大，以超大附件发送，请查收。\n\n"
                     "从Coremail邮件系统发来的超大附件\n\n"
                     "西华大学后勤博物馆接力行宣传片.mp4 (386.25M)\n"
                     f"下载链接：{COREMAIL_BIG_URL}\n有效期至2024-08-01 23:59\n\n"
                     "西华大学后勤保障处 陈静")
COREMAIL_BIG_HTML = (
    "<div>王老师：</div><div>您好！我校“博物馆接力行”宣传视频较大，以超大附件发送，请查收。</div><br>"
    '<div style="border:1px solid #dfe4ec;padding:8px"><div><b>从Coremail邮件系统发来的超大附件</b></div>'
    f'<div><a href="{COREMAIL_BIG_URL.replace("&", "&amp;")}" target="_blank">'
    "西华大学后勤博物馆接力行宣传片.mp4</a> (386.25M)</div>"
    "<div>有效期至2024-08-01 23:59</div></div><br><div>西华大学后勤保障处 陈静</div>")


def coremail_large() -> bytes:
    """A campus Coremail (XT5 webmail) mail whose video went as a 超大附件 share link."""
    boundary = "----=_Part_246810_135791113.1721178000000"
    return crlf(
        "Received: from houqin$xhu.edu.cn ( [10.8.1.20] ) by ajax-webmail-mail (Coremail) ;"
        "\n Wed, 17 Jul 2024 09:40:00 +0800 (GMT+08:00)",
        "Date: Wed, 17 Jul 2024 09:40:00 +0800 (GMT+08:00)",
        "X-CM-HeaderCharset: UTF-8",
        f"From: {ew('陈静', 'UTF-8')} <houqin@xhu.edu.cn>",
        "To: contact@example.org",
        f"Subject: {ew('西华大学 博物馆接力行宣传视频（超大附件）', 'UTF-8')}",
        "X-Priority: 3",
        "X-Mailer: Coremail Webmail Server Version XT5.0.13 build 20210104(3c8a0c3e)\n"
        " Copyright (c) 2002-2024 www.mailtech.cn xhu",
        f'Content-Type: multipart/alternative;\n\tboundary="{boundary}"',
        "MIME-Version: 1.0",
        "Message-ID: <3b9d2f4e.5a1c.190bf2e7c41.Coremail.houqin@xhu.edu.cn>",
        "X-Coremail-Locale: zh_CN",
        "X-CM-TRANSID:CgKowAD3_2fwH5dmAbcAAA--.2468W",
        "",
        f"--{boundary}",
        "Content-Type: text/plain; charset=UTF-8",
        "Content-Transfer-Encoding: base64",
        "",
        b64(COREMAIL_BIG_TEXT.replace("\n", "\r\n").encode("utf-8")),
        f"--{boundary}",
        "Content-Type: text/html; charset=UTF-8",
        "Content-Transfer-Encoding: base64",
        "",
        b64(COREMAIL_BIG_HTML.encode("utf-8")),
        f"--{boundary}--",
        "",
    )


MAIL_DROP_URL = ("https://www.icloud.com/attachment/?u=https%3A%2F%2Fcvws.icloud-content.com%2FB%2F"
                 "AYw1Qm3sPzR8kLxV0nT2bH5cJ9dE%2F%24%7Bf%7D%3Fo%3DAkF2nR8sT0vW%26v%3D1%26x%3D3"
                 "%26a%3DCAog7Hq&uk=N3pQ8rT1vX5zB7dF2hK4mA&f=IMG_4821.MOV&sz=612843520")
MAIL_DROP_TEXT = ("王老师好，我校参观校史馆的视频通过“邮件寄送”发送，请查收。\n\n"
                  f"IMG_4821.MOV\n{MAIL_DROP_URL}\n\n乐山师范学院后勤处 周敏\n\n发自我的iPhone")
MAIL_DROP_HTML = (
    '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>'
    '<body dir="auto"><div dir="ltr">王老师好，我校参观校史馆的视频通过“邮件寄送”发送，请查收。</div>'
    '<div dir="ltr"><br></div><div dir="ltr"><a href="'
    + MAIL_DROP_URL.replace("&", "&amp;") + '">IMG_4821.MOV</a></div><div dir="ltr"><br></div>'
    '<div dir="ltr">乐山师范学院后勤处 周敏</div><div dir="ltr"><br>发自我的iPhone</div></body></html>')


def mail_drop() -> bytes:
    """iPhone Mail with a Mail Drop link (the video stays in iCloud; the mail holds a link)."""
    boundary = "Apple-Mail-5E2B7C1A-93D4-4F0B-8A61-2C7D9E3F4B10"
    return crlf(
        f"From: {ew('周敏', 'utf-8')} <houqin@lsnu.edu.cn>",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "Content-Transfer-Encoding: 7bit",
        "Mime-Version: 1.0 (1.0)",
        f"Subject: {ew('乐山师范学院 参观校史馆视频', 'utf-8')}",
        "Date: Thu, 18 Jul 2024 16:05:12 +0800",
        "Message-Id: <8F3A2C71-4B9E-4D20-A5C6-1E7B9D3F2A48@lsnu.edu.cn>",
        "To: contact@example.org",
        "X-Mailer: iPhone Mail (21F90)",
        "",
        "",
        f"--{boundary}",
        "Content-Type: text/plain;",
        "\tcharset=utf-8",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        qp(MAIL_DROP_TEXT, "utf-8"),
        f"--{boundary}",
        "Content-Type: text/html;",
        "\tcharset=utf-8",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        qp(MAIL_DROP_HTML, "utf-8"),
        f"--{boundary}--",
    )


TRAD_TEXT = ("王老師您好：\n附件是我校後勤處參觀四川大學博物館的新聞稿，請查收。\n\n"
             "西南民族大學後勤處\n張麗 028-85522000")
TRAD_HTML = ("<div>王老師您好：</div><div>附件是我校後勤處參觀四川大學博物館的新聞稿，請查收。</div>"
             "<div><br></div><div>西南民族大學後勤處<br>張麗 028-85522000</div>")


def qqmail_traditional() -> bytes:
    """QQ Mail from a personal box, typed with a Traditional-character input method."""
    alt = "----=_NextPart_66A0B3C1_0D2E4F61_7A8B9C0D"
    return crlf(
        "Received: from qq.com (unknown [127.0.0.1])\n\tby smtp.qq.com (ESMTP) with SMTP\n"
        "\tid ; Wed, 24 Jul 2024 15:12:09 +0800 (CST)",
        "X-QQ-mid: bizesmtp33t1721805129ab3c4d5e",
        f'From: "{ew("張麗", "gb18030")}" <1829374650@qq.com>',
        f'To: "{ew("聯絡處", "gb18030")}" <contact@example.org>',
        f"Subject: {ew('博物館接力行新聞稿', 'gb18030')}",
        "Mime-Version: 1.0",
        f'Content-Type: multipart/alternative;\n\tboundary="{alt}"',
        "Content-Transfer-Encoding: 8Bit",
        "Date: Wed, 24 Jul 2024 15:12:09 +0800",
        "X-Priority: 3",
        "Message-ID: <tencent_2B4D6F8A0C1E3A5C7E9B1D3F5A7C9E0B2D06@qq.com>",
        "X-QQ-MIME: TCMime 1.0 by Tencent",
        "X-Mailer: QQMail 2.x",
        "X-QQ-Mailer: QQMail 2.x",
        "",
        "This is a multi-part message in MIME format.",
        "",
        f"--{alt}",
        'Content-Type: text/plain;\n\tcharset="gb18030"',
        "Content-Transfer-Encoding: base64",
        "",
        b64(TRAD_TEXT.replace("\n", "\r\n").encode(GB)),
        "",
        f"--{alt}",
        'Content-Type: text/html;\n\tcharset="gb18030"',
        "Content-Transfer-Encoding: base64",
        "",
        b64(TRAD_HTML.encode(GB)),
        "",
        f"--{alt}--",
        "",
    )


INVITE_TEXT = ("各位老师：\n诚邀贵单位参加西南交通大学后勤保障处“博物馆接力行”校史馆参观活动。\n"
               "时间：2024年7月26日 9:30-11:30\n地点：西南交通大学校史馆（犀浦校区）\n\n"
               "朱镕\n西南交通大学后勤保障处")
INVITE_LINES = (
    "BEGIN:VCALENDAR", "METHOD:REQUEST", "PRODID:Microsoft Exchange Server 2010", "VERSION:2.0",
    "BEGIN:VTIMEZONE", "TZID:China Standard Time", "BEGIN:STANDARD", "DTSTART:16010101T000000",
    "TZOFFSETFROM:+0800", "TZOFFSETTO:+0800", "END:STANDARD", "BEGIN:DAYLIGHT",
    "DTSTART:16010101T000000", "TZOFFSETFROM:+0800", "TZOFFSETTO:+0800", "END:DAYLIGHT",
    "END:VTIMEZONE", "BEGIN:VEVENT",
    "ORGANIZER;CN=朱镕:mailto:zhurong@swjtu.edu.cn",
    "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=contact@example.org:mailt",
    " o:contact@example.org",
    "DESCRIPTION;LANGUAGE=zh-CN:各位老师：\\n诚邀贵单位参加西南交通大学后勤保障处“博物馆接力行”校史馆参观活动。\\n",
    "UID:040000008200E00074C5B7101A82E00800000000D0F3A2B1C6D8DA01000000000000000010000000A1B2C3D4E5F60718293A4B5C6D7E8F90",
    "SUMMARY;LANGUAGE=zh-CN:博物馆接力行 校史馆参观活动邀请",
    "DTSTART;TZID=China Standard Time:20240726T093000",
    "DTEND;TZID=China Standard Time:20240726T113000",
    "CLASS:PUBLIC", "PRIORITY:5", "DTSTAMP:20240718T020512Z", "TRANSP:OPAQUE",
    "STATUS:CONFIRMED", "SEQUENCE:0", "LOCATION;LANGUAGE=zh-CN:西南交通大学校史馆（犀浦校区）",
    "X-MICROSOFT-CDO-APPT-SEQUENCE:0", "X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE",
    "X-MICROSOFT-CDO-INTENDEDSTATUS:BUSY", "X-MICROSOFT-CDO-ALLDAYEVENT:FALSE",
    "X-MICROSOFT-CDO-IMPORTANCE:1", "X-MICROSOFT-CDO-INSTTYPE:0",
    "X-MICROSOFT-DISALLOW-COUNTER:FALSE", "BEGIN:VALARM", "DESCRIPTION:REMINDER",
    "TRIGGER;RELATED=START:-PT15M", "ACTION:DISPLAY", "END:VALARM", "END:VEVENT",
    "END:VCALENDAR", "")
INVITE_ICS = "\r\n".join(INVITE_LINES)


def outlook_invite() -> bytes:
    """An Outlook (Exchange) meeting request: text, HTML and an unnamed text/calendar part."""
    alt = "_000_TYZPR06MB65674B2E9D1C3A7F0E5B8C2DA9F31TYZPR06MB6567apcp_"
    html = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
            '</head><body lang="ZH-CN"><div class="WordSection1">'
            + "".join(f'<p class="MsoNormal">{ln}<o:p></o:p></p>' for ln in INVITE_TEXT.split("\n"))
            + "</div></body></html>")
    return crlf(
        f'From: "{ew("朱镕", "gb2312")}" <zhurong@swjtu.edu.cn>',
        'To: "contact@example.org" <contact@example.org>',
        f"Subject: {ew('博物馆接力行 校史馆参观活动邀请', 'gb2312')}",
        f"Thread-Topic: {ew('博物馆接力行 校史馆参观活动邀请', 'gb2312')}",
        "Thread-Index: AdrYqk3W0Zs2mN8cTq6vL1pX9bYc4A==",
        "Date: Thu, 18 Jul 2024 02:05:12 +0000",
        "Message-ID: <TYZPR06MB65674B2E9D1C3A7F0E5B8C2DA9F31@TYZPR06MB6567.apcprd06.prod.outlook.com>",
        "Accept-Language: zh-CN, en-US",
        "Content-Language: zh-CN",
        "X-MS-Has-Attach:",
        "X-MS-TNEF-Correlator:",
        f'Content-Type: multipart/alternative;\n\tboundary="{alt}"',
        "MIME-Version: 1.0",
        "",
        f"--{alt}",
        'Content-Type: text/plain; charset="gb2312"',
        "Content-Transfer-Encoding: base64",
        "",
        b64(INVITE_TEXT.replace("\n", "\r\n").encode(GB)),
        "",
        f"--{alt}",
        'Content-Type: text/html; charset="gb2312"',
        "Content-Transfer-Encoding: base64",
        "",
        b64(html.encode(GB)),
        "",
        f"--{alt}",
        'Content-Type: text/calendar; charset="utf-8"; method=REQUEST',
        "Content-Transfer-Encoding: base64",
        "",
        b64(INVITE_ICS.encode("utf-8")),
        "",
        f"--{alt}--",
        "",
    )


BIG5_SUBJECT = "西南民族大學後勤處 活動方案（博物館接力行）"
BIG5_TEXT = ("各位老師好：\n附件是我校後勤處「博物館接力行」活動方案，請查收。\n"
             "學校：西南民族大學\n聯繫人：張麗 028-85522000\n")


def raw8bit_big5() -> bytes:
    """Outlook Express on a Traditional-Chinese Windows: raw Big5 headers, no charset."""
    return crlf(
        b'From: "' + "張麗".encode("big5") + b'" <zhangli2024@163.com>',
        "To: contact@example.org",
        b"Subject: " + BIG5_SUBJECT.encode("big5"),
        "Date: Mon, 22 Jul 2024 10:15:00 +0800",
        "Message-ID: <000a01dadbf1$3c2e5f40$6401a8c0@zhangli>",
        "MIME-Version: 1.0",
        "X-Mailer: Microsoft Outlook Express 6.00.2900.5512",
        "Content-Type: text/plain",
        "Content-Transfer-Encoding: 8bit",
        "",
        BIG5_TEXT.encode("big5"),
    )


def uuencoded(data: bytes) -> list[str]:
    """*data* as uuencode lines of 45 bytes, the way Outlook Express writes them."""
    return [binascii.b2a_uu(data[i:i + 45]).decode("ascii").rstrip("\n")
            for i in range(0, len(data), 45)] + ["`"]


def outlook_express_uu() -> bytes:
    """Outlook Express 6 with "send attachments as uuencode": no MIME parts, one 8-bit
    GB2312 text with the file inside it (its name raw 8-bit too)."""
    name = "成都大学后勤处活动方案.docx"
    return crlf(
        f'From: {ew("成都大学后勤处", "gb2312")} <hqc@cdu.edu.cn>',
        "To: <contact@example.org>",
        f"Subject: {ew('成都大学后勤处活动方案', 'gb2312')}",
        "Date: Tue, 2 Jul 2024 09:30:12 +0800",
        "Message-ID: <000801dacc1f$2b9a1c30$0201a8c0@hqc>",
        "MIME-Version: 1.0",
        'Content-Type: text/plain;\n\tcharset="gb2312"',
        "Content-Transfer-Encoding: 8bit",
        "X-Priority: 3",
        "X-Mailer: Microsoft Outlook Express 6.00.2900.5512",
        "",
        "秘书处老师：\n  您好！我处活动方案见附件。\n\n成都大学后勤处".encode(GB),
        "",
        f"begin 666 {name}".encode(GB),
        *uuencoded(PAYLOADS[name]),
        "end",
        "",
    )


BUILT = {
    "qqmail_gb18030_attachment.eml": qqmail,
    "foxmail_gb2312_raw8bit_filename.eml": foxmail,
    "outlook_rfc2047_in_params.eml": outlook,
    "coremail_rfc2231_continuation_wps.eml": coremail,
    "netease163_gbk_subject.eml": netease163,
    "split_encoded_words_midchar.eml": split_words,
    "raw8bit_gbk_subject_filename.eml": raw8bit_gbk,
    "html_only_gbk_links.eml": html_only_gbk,
    "html_only_utf8_links.eml": html_only_utf8,
    "related_inline_images.eml": related_inline,
    "forwarded_rfc822_with_attachment.eml": forwarded,
    "text_attachment_not_body.eml": text_attachment,
    "garbage_headers_no_from.eml": garbage_headers,
    "outlook_tnef_winmail_dat.eml": outlook_tnef,
    "forwarded_eml_files_bundle.eml": forwarded_eml_files,
    "forwarded_eml_file_hiding_exe.eml": forwarded_eml_file_exe,
    "coremail_large_attachment_link.eml": coremail_large,
    "iphone_mail_drop_link.eml": mail_drop,
    "qqmail_traditional_signature.eml": qqmail_traditional,
    "outlook_meeting_request.eml": outlook_invite,
    "raw8bit_big5_no_charset.eml": raw8bit_big5,
    "outlook_express_uuencode.eml": outlook_express_uu,
}


# ------------------------------------------------------------- real clients
BODY = "王喆老师好，附件是活动方案。\n"


def _client_mail(cmd: list[str] | list[bytes], files: dict[str, bytes], out_name: str,
                 stdin: str = "") -> None:
    """Run a real mail client in a scratch dir; its "sendmail" saves the message."""
    with tempfile.TemporaryDirectory() as tmp:
        saver = Path(tmp, "save.sh")
        saver.write_text(f'#!/bin/sh\ncat > "{tmp}/out.eml"\n')
        saver.chmod(0o755)
        for name, data in files.items():
            Path(tmp, name).write_bytes(data)
        env = {**os.environ, "LC_ALL": "C.UTF-8", "HOME": tmp, "SAVER": str(saver)}
        cmd = [c.replace("$SAVER", str(saver)) if isinstance(c, str) else c for c in cmd]
        proc = subprocess.run(cmd, cwd=tmp, env=env, input=stdin.encode(), capture_output=True,
                              check=True)
        data = Path(tmp, "out.eml").read_bytes() if Path(tmp, "out.eml").exists() else proc.stdout
        (HERE / out_name).write_bytes(data)


def real_clients() -> None:
    doc, jpg, pdf_name = "活动方案-四川师范大学.docx", "参观合影1.jpg", "宣传海报（博物馆接力行）.pdf"
    _client_mail(["mutt", "-n", "-F", "/dev/null", "-e",
                  ('set sendmail="$SAVER"; set charset=utf-8; set send_charset="gb18030"; '
                   'set from="wangzhe@sicnu.edu.cn"; set realname="王喆"; set use_from=yes; '
                   "set hostname=sicnu.edu.cn; set copy=no"),
                  "-s", "四川师范大学后勤党委 活动方案（博物馆接力行）", "-a", doc, "--",
                  "contact@example.org"], {doc: PAYLOADS[doc]}, "mutt_gb18030_rfc2231.eml", BODY)
    _client_mail(["s-nail", "-:/", "-S", "mta=$SAVER", "-r", "张三 <zhangsan@swjtu.edu.cn>",
                  "-S", "sendcharsets=utf-8", "-S", "hostname=swjtu.edu.cn",
                  "-s", "【新闻】西南交通大学后勤参观校史馆", "-a", jpg, "contact@example.org"],
                 {jpg: PAYLOADS[jpg]}, "snail_utf8_rfc2231.eml", BODY)
    _client_mail(["mime-construct", "--output", "--header",
                  "From: =?utf-8?B?5p2O5Zub?= <lisi@scu.edu.cn>", "--to", "contact@example.org",
                  "--subject", "回复：活动方案（博物馆接力行）", "--type", "text/plain; charset=utf-8",
                  "--encoding", "quoted-printable", "--string", BODY, "--type", "application/pdf",
                  "--attachment", pdf_name, "--file", pdf_name],
                 {pdf_name: PAYLOADS[pdf_name]}, "mime_construct_raw8bit_utf8.eml")
    subject = "【新闻】西南交通大学后勤参观校史馆".encode(GB)
    _client_mail([b"mime-construct", b"--output", b"--header",
                  b"From: " + "朱镕".encode(GB) + b" <zhurong@swjtu.edu.cn>",
                  b"--to", b"contact@example.org", b"--subject", subject,
                  b"--type", b"text/plain; charset=gb2312", b"--encoding", b"8bit",
                  b"--string", "报名表见附件，王喆。\n".encode(GB),
                  b"--attachment", "参会名单.txt".encode(GB), b"--type", b"text/plain; charset=gbk",
                  b"--file", b"list.txt"],
                 {"list.txt": TXT_GBK}, "mime_construct_raw8bit_gbk.eml")


def main(argv: list[str]) -> None:
    for name, build in BUILT.items():
        (HERE / name).write_bytes(build())
    if "--clients" in argv:
        real_clients()


if __name__ == "__main__":
    main(sys.argv[1:])
