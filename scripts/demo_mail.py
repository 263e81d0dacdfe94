#!/usr/bin/env python3
"""Send ~20 realistic sample submissions for the 2024 campaign to the local mail stack.

    eval "$(scripts/mailstack env)" && python scripts/demo_mail.py
    python scripts/demo_mail.py --write-dir /tmp/demo-eml     # write NN_<slug>.eml, send nothing

Each message is built by hand as RAW BYTES the way Chinese mail programs really send them
(Outlook, Foxmail, QQ, 163/126 and campus Coremail, Thunderbird, iPhone, Android), so legacy
encodings go over the wire: gb2312-labelled GBK, =?GBK?B?, QQ's gb18030 attachment names, raw
8-bit GBK / UTF-8 headers, RFC 2231 continuations.  Two auto-replies are included (to be ignored).
Standard library only.
"""
from __future__ import annotations

import argparse
import base64
import binascii
import io
import os
import quopri
import random
import smtplib
import ssl
import struct
import sys
import uuid
import zipfile
import zlib
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from pathlib import Path
from urllib.parse import quote

CST = timezone(timedelta(hours=8))
CRLF = b"\r\n"
CAMPAIGN = "“道中华之美 美后勤之道”四川高校博物馆（校史馆）@接力行"
CONTACT = "contact@scgxhq.test"  # the MAILSTACK_CONTACT default; used for --write-dir

# address | school | From display name | signature (sending unit) | venue | feature ("-" = default)
SCHOOL_TABLE = """
houqin@scu.edu.cn|四川大学|四川大学后勤保障部|四川大学后勤保障部党委|四川大学博物馆|馆藏民族文物、书画与自然标本丰富
hqdw@swjtu.edu.cn|西南交通大学|西南交大后勤党委|西南交通大学后勤党委|-|“饮水思源、爱国荣校”
hqgs@uestc.edu.cn|电子科技大学|电子科技大学后勤保障部|电子科技大学后勤保障部党总支|电子科技博物馆|系统展示电子信息科技发展历程
houqin@xhu.edu.cn|西华大学|西华大学后勤|西华大学后勤服务总公司党委|-|-
hqc@nsmc.edu.cn|川北医学院|川北医学院后勤管理处|川北医学院后勤管理处党总支|-|-
houqin@lsnu.edu.cn|乐山师范学院|乐山师院后勤|乐山师范学院后勤管理处|-|-
hq_dangzhibu@yibinu.edu.cn|宜宾学院|宜宾学院后勤党支部|宜宾学院后勤党支部|-|-
2894561730@qq.com|成都信息工程大学|小雨|成都信息工程大学后勤党总支|-|-
cdut_houqin@163.com|成都理工大学|cdut_houqin|成都理工大学后勤党支部|成都理工大学博物馆|恐龙化石与矿物岩石标本闻名
swpu_hq@126.com|西南石油大学|swpu_hq|西南石油大学后勤|-|与共和国石油工业同行
houqin@sicnu.edu.cn|四川师范大学|川师大后勤|四川师范大学后勤服务管理中心|-|-
hqc@cdu.edu.cn|成都大学|成都大学后勤处|成都大学后勤处党支部|-|“应城市而生、伴城市而兴”
hqjt@cdtu.edu.cn|成都工业学院|成工院后勤|成都工业学院后勤服务集团|-|-
hqjjc@cdutcm.edu.cn|成都中医药大学|成中医后勤基建处|成都中医药大学后勤基建处党支部|成都中医药大学博物馆|中医药传统文化底蕴深厚
hqbzc@mtc.edu.cn|绵阳师范学院|绵师后勤|绵阳师范学院后勤保障服务处|-|-
hqcyc@scvtc.edu.cn|四川职业技术学院|川职院后勤|四川职业技术学院后勤产业处|-|-
hqfw@sicau.edu.cn|四川农业大学|川农大后勤|四川农业大学后勤服务总公司|-|“川农大精神”
hqjjc@suse.edu.cn|四川轻化工大学|轻化工后勤基建处|四川轻化工大学后勤基建处|-|-
hqc@swust.edu.cn|西南科技大学|西南科大后勤处|西南科技大学后勤处党委|-|-
hqc@myvtc.edu.cn|绵阳职业技术学院|绵职院后勤处|绵阳职业技术学院后勤处党支部|-|-
"""
SCHOOLS = {a: (s, d, g, f"{s}校史馆" if v == "-" else v, "展陈学校办学历程" if f == "-" else f)
           for a, s, d, g, v, f in (row.split("|") for row in SCHOOL_TABLE.split())}

PLAN = """“道中华之美 美后勤之道”{school}博物馆（校史馆）@接力行活动方案
一、活动背景：为贯彻落实思政会《关于开展{campaign}的通知》（川高后思协〔2024〕2号）要求，\
结合{venue}{feature}的特色，组织后勤党员职工走进博物馆（校史馆），在参观学习中厚植家国情怀，\
将学习感悟转化为提升后勤保障服务水平的实际行动。
二、活动组织：{unit}
三、活动时间：{day}（星期{wd}）{t[0]}—{t[4]}
四、活动地点：{venue}
五、活动流程：1. {t[0]} 集合、签到；2. {t[1]}—{t[2]} 讲解员带领参观{venue}；\
3. {t[2]}—{t[3]} 座谈交流，党员代表分享学习感悟；4. {t[3]} 合影留念，活动结束。
六、活动联系人及电话：{contact}"""

NEWS = """{school}后勤开展“道中华之美 美后勤之道”博物馆（校史馆）@接力行活动
{day}下午，{unit}组织党员、职工及勤工助学学生{people}余人走进{venue}，开展{campaign}主题党日活动。
在讲解员的带领下，大家依次参观了各个展区，通过一件件珍贵的实物、一幅幅历史图片，\
深入了解学校的发展历程和办学成就，感受中华优秀传统文化的独特魅力。
参观结束后，大家纷纷表示，要把学习感悟转化为做好后勤保障服务的实际行动，\
以高质量党建推动后勤管理服务水平不断提升，为学校高质量发展贡献后勤力量。
（供稿：{unit}　摄影：{photographer}）"""


def cn_day(d, year=True):
    return f"{d.year}年{d.month}月{d.day}日" if year else f"{d.month}月{d.day}日"


def plan_text(addr, visit, contact, omit=()):
    school, _, unit, venue, feature = SCHOOLS[addr]
    start = datetime.fromisoformat(visit)
    t = [(start + timedelta(minutes=m)).strftime("%H:%M") for m in (0, 10, 70, 120, 130)]
    text = PLAN.format(school=school, campaign=CAMPAIGN, venue=venue, feature=feature, unit=unit,
                       day=cn_day(start), wd="一二三四五六日"[start.weekday()], t=t, contact=contact)
    return [line for line in text.split("\n") if not any(f"、{f}：" in line for f in omit)]


def news_text(addr, day, people, photographer):
    school, _, unit, venue, _ = SCHOOLS[addr]
    return NEWS.format(school=school, day=cn_day(datetime.fromisoformat(day), year=False),
                       unit=unit, people=people, venue=venue, campaign=CAMPAIGN,
                       photographer=photographer).split("\n")


def letter(addr, when, lines, greet):
    return "\n".join([greet, *("　　" + s if s else "" for s in lines), "", SCHOOLS[addr][2],
                      cn_day(datetime.fromisoformat(when))])


def ident(r, n, alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789"):
    return "".join(r.choice(alphabet) for _ in range(n))


# ---- tiny valid files -------------------------------------------------------------------------

def png(seed, w=48, h=32):
    base = [random.Random(seed).randrange(60, 200) for _ in range(3)]
    rows = b"".join(b"\x00" + bytes((base[c] + x * 2 + y * (c + 1)) % 256
                                    for x in range(w) for c in range(3)) for y in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


DC_BITS = bytes([0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0])   # standard luminance DC table
DC_CODES = ["00", "010", "011", "100", "101", "110", "1110", "11110", "111110", "1111110",
            "11111110", "111111110"]


def jpeg(seed, w=64, h=48):
    """Baseline YCbCr JPEG, one flat colour per 8x8 block (DC only; quant table of 1s)."""
    r, prev, bits = random.Random(seed), [0, 0, 0], []
    c0 = [r.randrange(40, 200) for _ in range(3)]
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
                bits.append(DC_CODES[s] + extra + "0")  # AC table holds only EOB, code "0"
    stream = "".join(bits) + "1" * (-len("".join(bits)) % 8)
    data = bytes(int(stream[i:i + 8], 2) for i in range(0, len(stream), 8))

    def seg(marker, payload):
        return b"\xff" + marker + struct.pack(">H", len(payload) + 2) + payload
    return (b"\xff\xd8" + seg(b"\xe0", b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
            + seg(b"\xfe", f"demo photo {seed}".encode()) + seg(b"\xdb", b"\x00" + b"\x01" * 64)
            + seg(b"\xc0", struct.pack(">BHHB", 8, h, w, 3) + b"\x01\x11\0\x02\x11\0\x03\x11\0")
            + seg(b"\xc4", b"\x00" + DC_BITS + bytes(range(12)))
            + seg(b"\xc4", b"\x10" + bytes([1] + [0] * 15) + b"\x00")
            + seg(b"\xda", b"\x03\x01\x00\x02\x00\x03\x00\x00\x3f\x00")
            + data.replace(b"\xff", b"\xff\x00") + b"\xff\xd9")


def pdf(lines):
    text = " ".join(f"({s.replace('(', '[').replace(')', ']')}) Tj T*" for s in lines)
    stream = f"BT /F1 12 Tf 16 TL 56 780 Td {text} ET".encode()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
             b" /Resources << /Font << /F1 5 0 R >> >> >>"),
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


OOXML = "http://schemas.openxmlformats.org/"
DOCX_PARTS = {
    "[Content_Types].xml": f'<Types xmlns="{OOXML}package/2006/content-types"><Default Extension='
    '"rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default '
    'Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"'
    "/></Types>",
    "_rels/.rels": f'<Relationships xmlns="{OOXML}package/2006/relationships"><Relationship '
    f'Id="rId1" Type="{OOXML}officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/>'
    "</Relationships>",
    "word/document.xml": f'<w:document xmlns:w="{OOXML}wordprocessingml/2006/main"><w:body>'
    "{}<w:sectPr/></w:body></w:document>",
}


def docx(paragraphs):
    body = "".join(f'<w:p><w:r><w:t xml:space="preserve">{escape(p, quote=False)}</w:t></w:r></w:p>'
                   for p in paragraphs)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, xml in DOCX_PARTS.items():
            xml = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + (
                xml.replace("{}", body) if name.startswith("word/") else xml)
            z.writestr(zipfile.ZipInfo(name, (2024, 7, 1, 9, 0, 0)), xml.encode(),
                       zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def tnef(files, body, codepage=936):
    """A TNEF container (winmail.dat) as Outlook on Exchange writes it for "rich text" mail:
    the OEM code page, the plain body and each file under an 8-bit title, all in the
    sender's code page (936: GBK), per [MS-OXTNEF]."""

    def attr(level: int, key: int, kind: int, data: bytes) -> bytes:
        return (struct.pack("<BHHI", level, key, kind, len(data)) + data
                + struct.pack("<H", sum(data) & 0xFFFF))

    codec = f"cp{codepage}"
    out = struct.pack("<IH", 0x223E9F78, 0x0001)
    out += attr(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))  # attTnefVersion
    out += attr(1, 0x9007, 0x0006, struct.pack("<II", codepage, 0))  # attOemCodepage
    out += attr(1, 0x8008, 0x0007, b"IPM.Microsoft Mail.Note\x00")  # attMessageClass
    out += attr(1, 0x800C, 0x0002, body.replace("\n", "\r\n").encode(codec))  # attBody
    for name, data in files.items():
        out += attr(2, 0x9002, 0x0006, struct.pack("<HIhhI", 1, 0xFFFFFFFF, -1, -1, 0))
        out += attr(2, 0x8010, 0x0001, name.encode(codec) + b"\x00")  # attAttachTitle
        out += attr(2, 0x800F, 0x0006, data)  # attAttachData
    return out


# ---- how each mail program encodes things -----------------------------------------------------
# subj / fname styles: "b" = RFC 2047 B-words (filenames inside quotes, Outlook/Coremail style),
# "raw" = 8-bit bytes in the codec,
# "qq" = QQ web (application/octet-stream; charset="gb18030"; name="=?gb18030?B?..?="),
# "rfc2231" = name="=?UTF-8?B?.." + filename*0*=UTF-8''..; filename*1*=.. (Thunderbird / Apple).
# Boundaries and headers are templates filled by rnd(); {n} = nesting level, outermost 1.

def client(label, codec, cte, subj, fname, alt, boundary, *headers):
    return {"label": label, "codec": codec, "cte": cte, "subj": subj, "fname": fname, "alt": alt,
            "boundary": boundary, "headers": headers}


CLIENTS = {
    "outlook": client("gb2312", "gbk", "base64", "b", "b", True,
                      "----=_NextPart_00{n0}_{hex4}_01DAC9A1.{hex8}",
                      "X-Mailer: Microsoft Outlook 16.0", "Content-Language: zh-cn",
                      "Thread-Index: {b64}"),
    "foxmail": client("GB2312", "gbk", "base64", "raw", "raw", True,
                      "----=_00{n}_NextPart123456789_=----", "X-Priority: 3", "X-GUID: {uuid}",
                      "X-Has-Attach: yes", "X-Mailer: Foxmail 7.2.25.228[cn]"),
    "qq": client("gb18030", "gb18030", "base64", "b", "qq", True,
                 "----=_NextPart_{hex8}_{hex8b}_{hex8c}", "X-QQ-MIME: TCMime 1.0 by Tencent",
                 "X-Mailer: QQMail 2.x", "X-QQ-Mailer: QQMail 2.x", "X-QQ-mid: xmqq{hex8b}{hex8}t{digits}"),
    "coremail": client("GBK", "gbk", "base64", "b", "b", True, "----=_Part_{digits}_{hex8}.{ms}",
                       "X-Priority: 3", "X-Originating-IP: [{ip}]",
                       "X-Mailer: Coremail Webmail Server Version XT5.0.13 dev by Coremail Inc",
                       "X-CM-TRANSID: {cm}--.{cm4}_0", "X-Coremail-Locale: zh_CN"),
    "netease": client("GBK", "gbk", "base64", "b", "b", True, "----=_Part_{digits}_{hex8}.{ms}",
                      "X-Priority: 3", "X-Mailer: Coremail Webmail Server Version XT5.0.14 build "
                      "20230109(dcb5de15) Copyright (c) 2002-2024 www.mailtech.cn 163com",
                      "X-CM-TRANSID: {cm}--.{cm4}_0", "X-NTES-SC: AL_Qu2{ident24}"),
    "thunderbird": client("UTF-8", "utf-8", "8bit", "b", "rfc2231", False, "------------{ident24}",
                          "User-Agent: Mozilla Thunderbird", "Content-Language: zh-CN"),
    "iphone": client("utf-8", "utf-8", "quoted-printable", "b", "rfc2231", True,
                     "Apple-Mail-{uuid}", "X-Mailer: iPhone Mail (21F90)"),
    "android": client("UTF-8", "utf-8", "8bit", "b", "raw", False, "--_com.android.email_{digits}",
                      "User-Agent: Android Mail"),
    "outlook-express": client("gb2312", "gbk", "8bit", "b", "b", False, "----=_NextPart_000_{hex4}",
                              "X-Priority: 3",
                              "X-Mailer: Microsoft Outlook Express 6.00.2900.5512"),
}
CTYPES = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
          "pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png",
          "eml": "message/rfc822", "dat": "application/ms-tnef"}


def rnd(r, n=1):
    h = [f"{r.getrandbits(32):08X}" for _ in range(3)]
    return {"n": n, "n0": n - 1, "hex4": h[0][:4], "hex8": h[0], "hex8b": h[1], "hex8c": h[2],
            "uuid": str(uuid.UUID(int=r.getrandbits(128))).upper(), "digits": r.randrange(10**9),
            "ms": 1719800000000 + r.randrange(10**10), "ip": f"10.{r.randrange(256)}.{n}.9",
            "b64": base64.b64encode(r.randbytes(22)).decode(), "ident24": ident(r, 24),
            "cm": ident(r, 22), "cm4": ident(r, 4)}


def ew(text, label, codec, maxlen=75):
    """RFC 2047 B-encoded words, split on character boundaries, folded."""
    words, cur, room = [], "", maxlen - len(f"=?{label}?B??=")
    for ch in text:
        if cur and len(base64.b64encode((cur + ch).encode(codec))) > room:
            words, cur = [*words, cur], ""
        cur += ch
    return "\r\n ".join(f"=?{label}?B?{base64.b64encode(w.encode(codec)).decode()}?="
                        for w in [*words, cur])


def rfc2231(param, value, chunk=42):
    segs = [""]
    for token in (quote(ch.encode("utf-8"), safe="") for ch in value):
        if segs[-1] and len(segs[-1]) + len(token) > chunk:
            segs.append("")
        segs[-1] += token
    return ";\r\n ".join(f"{param}*{i}*={'' if i else chr(39).join(['UTF-8', '', ''])}{s}"
                         for i, s in enumerate(segs))


def b64body(data):
    enc = base64.b64encode(data)
    return CRLF.join(enc[i:i + 76] for i in range(0, len(enc), 76)) + CRLF


class Builder:
    """One message's MIME parts as bytes. Header blocks are encoded with the client's codec, so
    only clients with a "raw" style may put non-ASCII into headers (checked in head())."""

    def __init__(self, cl, seed):
        self.cl, self.r, self.levels = cl, random.Random(seed), []

    def head(self, lines):
        block = "".join(line + "\r\n" for line in lines)
        if not block.isascii() and "raw" not in (self.cl["subj"], self.cl["fname"]):
            raise ValueError(f"non-ASCII header from a non-raw client: {block!r}")
        return block.encode(self.cl["codec"])

    def text(self, subtype, text):
        cl, data = self.cl, text.encode(self.cl["codec"])
        body = {"base64": lambda: b64body(data.replace(b"\n", CRLF)),
                "quoted-printable": lambda: quopri.encodestring(data).replace(b"\n", CRLF) + CRLF,
                "8bit": lambda: data.replace(b"\n", CRLF) + CRLF}[cl["cte"]]()
        return self.head([f'Content-Type: text/{subtype};\r\n\tcharset="{cl["label"]}"',
                          f"Content-Transfer-Encoding: {cl['cte']}", ""]) + body

    def multipart(self, subtype, parts):
        b = self.cl["boundary"].format(**rnd(self.r, self.levels.index(subtype) + 1)).encode()
        out = self.head([f'Content-Type: multipart/{subtype};\r\n\tboundary="{b.decode()}"', "",
                         "This is a multi-part message in MIME format.", ""])
        return out + b"".join(b"--" + b + CRLF + p + CRLF for p in parts) + b"--" + b + b"--" + CRLF

    def attachment(self, filename, data, cid=None):
        cl, ext = self.cl, filename.rsplit(".", 1)[-1].lower()
        ctype, disp = CTYPES[ext], "inline" if cid else "attachment"
        if ext == "dat":  # Outlook's winmail.dat: an ASCII name, written as is
            lines = [f'Content-Type: {ctype};\r\n\tname="{filename}"',
                     f'Content-Disposition: {disp};\r\n\tfilename="{filename}"']
        elif cl["fname"] == "qq" and ext != "eml":
            enc = ew(filename, "gb18030", "gb18030", maxlen=999)
            ctype = 'application/octet-stream;\r\n\tcharset="gb18030"'
            lines = [f'Content-Type: {ctype};\r\n\tname="{enc}"',
                     f'Content-Disposition: {disp}; filename="{enc}"']
        elif cl["fname"] == "raw":
            lines = [f'Content-Type: {ctype};\r\n\tname="{filename}"',
                     f'Content-Disposition: {disp};\r\n\tfilename="{filename}"']
        else:
            enc = ew(filename, cl["label"], cl["codec"], maxlen=999)
            param = (" " + rfc2231("filename", filename) if cl["fname"] == "rfc2231"
                     else f'\tfilename="{enc}"')
            lines = [f'Content-Type: {ctype};\r\n\tname="{enc}"',
                     f"Content-Disposition: {disp};\r\n" + param]
        lines += [f"Content-ID: <{cid}>"] if cid else []
        if ext == "eml":  # message/rfc822 must not be base64-encoded
            return self.head([*lines, "Content-Transfer-Encoding: 8bit", ""]) + data
        return self.head([*lines, "Content-Transfer-Encoding: base64", ""]) + b64body(data)


def build(spec, contact=CONTACT, seed=0) -> bytes:
    cl = {**CLIENTS[spec["client"]], **spec.get("override", {})}
    b, addr = Builder(cl, seed), spec["sender"]
    text, html, inline = spec.get("text"), spec.get("html"), spec.get("inline", [])
    if html is None and (cl["alt"] or inline):
        html = "".join(f"<div>{escape(line) or '<br>'}</div>" for line in text.split("\n"))
        html += "".join(f'<div><img src="cid:{cid}" width="640"></div>' for cid, _, _ in inline)
    if html is not None:
        html = (f'<html><head><meta http-equiv="Content-Type" content="text/html; '
                f'charset={cl["label"]}"></head><body>{html}</body></html>')
    atts = list(spec.get("attachments", []))
    for name, data in spec.get("uuencode", ()):  # Outlook Express: the file inside the text
        text += f"\n\nbegin 666 {name}\n" + "".join(
            binascii.b2a_uu(data[i:i + 45]).decode("ascii") for i in range(0, len(data), 45)) \
            + "`\nend\n"
    if spec.get("tnef"):  # Outlook "rich text": the files only inside winmail.dat
        atts.append(("winmail.dat", tnef(dict(spec["tnef"]), text or "")))
    alt = text is not None and html is not None
    for n, fwd in enumerate(spec.get("forwards", ()), 1):
        atts.append((fwd["subject"] + ".eml", build(fwd, fwd["to"], seed + 100 * n)))
    b.levels = [k for k, on in (("mixed", atts), ("related", inline), ("alternative", alt)) if on]
    body = b.text("html", html) if text is None else b.text("plain", text)
    if alt:
        body = b.multipart("alternative", [body, b.text("html", html)])
    if inline:
        body = b.multipart("related", [body] + [b.attachment(n, d, cid) for cid, n, d in inline])
    root = b.multipart("mixed", [body, *(b.attachment(n, d) for n, d in atts)]) if atts else body
    when = datetime.fromisoformat(spec["when"]).replace(tzinfo=CST, second=seed * 7 % 60)
    subject = spec["subject"]
    if cl["subj"] != "raw":
        subject = ew(subject, cl["label"], cl["codec"])
    return b.head([f"Date: {format_datetime(when)}",
                   f"From: {ew(SCHOOLS[addr][1], cl['label'], cl['codec'])} <{addr}>",
                   f"To: {ew(spec.get('to_name', '思政会秘书处'), cl['label'], cl['codec'])} <{contact}>",
                   f"Subject: {subject}", f"Message-ID: <{uuid.uuid4().hex}@{addr.split('@')[1]}>",
                   *spec.get("headers", []), *(h.format(**rnd(b.r)) for h in cl["headers"]),
                   "MIME-Version: 1.0"]) + root


# ---- the samples ------------------------------------------------------------------------------

def S(slug, sender, client, when, subject, lines=None, greet="思政会秘书处老师：", **kw):
    """One sample; *lines* become a letter body (greeting, indented lines, signature, date)."""
    if lines is not None:
        kw["text"] = letter(sender, when, lines, greet)
    return {"slug": slug, "sender": sender, "client": client, "when": when, "subject": subject,
            **kw}


R = random.Random(20240625)
WX = "-_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
NOTICE_REPLY = [f"{h}: <notice-2024-2@scgxhq.test>" for h in ("In-Reply-To", "References")]
SAMPLES = [
    # -- 活动方案 (plan): six template fields in the body, in a .docx, one incomplete, one PDF --
    S("plan-scu-body", "houqin@scu.edu.cn", "iphone", "2024-06-27 09:42",
      "【活动方案】四川大学后勤保障部“道中华之美 美后勤之道”博物馆接力行活动方案",
      ["您好！现将我部活动方案报送如下，请审阅。", "",
       *plan_text("houqin@scu.edu.cn", "2024-07-05 14:30", "王老师 028-85401236")]),
    S("plan-swjtu-docx-gb2312", "hqdw@swjtu.edu.cn", "coremail", "2024-07-02 16:08",
      "西南交通大学后勤党委“道中华之美 美后勤之道”活动方案（联系人：王喆）",   # 喆 is not in GB2312
      ["您好！附件为我校后勤党委校史馆参观活动方案，请审阅。", "联系人：王喆，电话 028-87600512。"],
      override={"label": "gb2312"},
      attachments=[("西南交通大学后勤党委活动方案.docx",
                    docx(plan_text("hqdw@swjtu.edu.cn", "2024-07-11 09:30", "王喆 028-87600512")))]),
    S("plan-uestc-docx-rfc2231", "hqgs@uestc.edu.cn", "thunderbird", "2024-07-09 10:21",
      "电子科技大学后勤保障部活动方案报送",
      ["您好！我部拟于7月18日组织党员职工参观电子科技博物馆，活动方案见附件。"],
      attachments=[("电子科技大学后勤保障部“道中华之美 美后勤之道”电子科技博物馆参观活动方案.docx",
                    docx(plan_text("hqgs@uestc.edu.cn", "2024-07-18 14:30", "陈老师 028-61831234")))]),
    S("plan-cdu-missing-contact", "hqc@cdu.edu.cn", "outlook", "2024-08-20 11:05",
      "成都大学后勤处“道中华之美 美后勤之道”接力行活动方案",
      ["您好！现报送我处活动方案如下：", "",
       *plan_text("hqc@cdu.edu.cn", "2024-08-29 14:00", "", omit=("活动联系人及电话",))]),
    S("plan-lsnu-pdf-utf8raw", "houqin@lsnu.edu.cn", "android", "2024-09-03 08:47",
      "乐山师范学院后勤活动方案(PDF)", ["老师好，附件是我校活动方案PDF版，请查收。"],
      attachments=[("乐山师范学院后勤“接力行”活动方案.pdf", pdf([
          "Leshan Normal University - Logistics Management Office",
          "Activity plan: university history museum relay visit, 2024",
          "Time: 2024-09-12 15:00-17:10", "Place: Leshan Normal University history museum",
          "Programme: sign-in, guided tour, discussion, group photo",
          "Contact: Mr. Luo, 0833-2276123"]))]),
    S("plan-swpu-126-gbk", "swpu_hq@126.com", "netease", "2024-09-10 20:16", "西南石油大学后勤-活动方案",
      ["您好！我们的活动方案如下：", "",
       *plan_text("swpu_hq@126.com", "2024-09-19 14:30", "何老师 028-83032145")]),
    S("plan-nsmc-outlook-winmail", "hqc@nsmc.edu.cn", "outlook", "2024-07-03 15:20",
      "川北医学院后勤管理处接力行活动方案", ["您好！我处接力行活动方案见附件，请审阅。"],
      tnef=[("川北医学院后勤管理处活动方案.docx",
             docx(plan_text("hqc@nsmc.edu.cn", "2024-07-12 09:30", "李老师 0817-3358123")))]),
    S("plan-yibinu-outlook-express-uuencode", "hq_dangzhibu@yibinu.edu.cn", "outlook-express",
      "2024-07-05 10:12", "宜宾学院后勤党支部接力行活动方案", ["您好！我支部活动方案见附件。"],
      uuencode=[("宜宾学院后勤党支部活动方案.docx",
                 docx(plan_text("hq_dangzhibu@yibinu.edu.cn", "2024-07-15 15:00", "邓老师 0831-3530123")))]),
    # -- 新闻 (news): documents, photos, inline images, a district leader's forward; a bundle --
    S("news-xhu-foxmail-rawgbk", "houqin@xhu.edu.cn", "foxmail", "2024-07-10 18:33",
      "西华大学后勤党委开展“道中华之美 美后勤之道”校史馆参观活动新闻稿",
      ["您好！我校后勤党委7月9日参观校史馆的新闻稿及照片见附件，请审阅。"],
      attachments=[("新闻稿-西华大学后勤党委参观校史馆.docx",
                    docx(news_text("houqin@xhu.edu.cn", "2024-07-09", 40, "刘洋"))),
                   ("活动照片1.jpg", jpeg(71)), ("活动照片2.jpg", jpeg(72))]),
    S("news-cuit-qq-gb18030", "2894561730@qq.com", "qq", "2024-07-18 21:05",
      "成信大后勤 校史馆参观新闻及照片",
      ["老师您好，附件是我们后勤党总支参观校史馆的新闻稿和现场照片，麻烦审核，谢谢！"],
      attachments=[("成都信息工程大学后勤党总支参观校史馆新闻.docx",
                    docx(news_text("2894561730@qq.com", "2024-07-17", 35, "赵敏"))),
                   ("现场照片.jpg", jpeg(81))]),
    S("news-cdut-163-inline", "cdut_houqin@163.com", "netease", "2024-07-25 16:40",
      "成都理工大学后勤党支部参观博物馆新闻稿",
      [*news_text("cdut_houqin@163.com", "2024-07-24", 50, "孙磊"), "", "（现场图片见正文）"],
      inline=[(f"part{i}.{R.getrandbits(32):08x}.cdut@163.com", f"IMG_20240724_15{i}212.jpg",
               jpeg(90 + i)) for i in (1, 2)]),
    S("news-nsmc-iphone-inline", "hqc@nsmc.edu.cn", "iphone", "2024-08-02 19:12",
      "川北医学院后勤管理处“接力行”活动新闻", news_text("hqc@nsmc.edu.cn", "2024-08-01", 30, "周琳"),
      greet="各位老师：", inline=[(f"{uuid.UUID(int=R.getrandbits(128))}@nsmc.edu.cn".upper(),
                                  f"IMG_02{i}1.JPG", jpeg(100 + i)) for i in (3, 4)]),
    S("news-cdutcm-outlook", "hqjjc@cdutcm.edu.cn", "outlook", "2024-07-05 10:30",
      "成都中医药大学后勤基建处参观博物馆新闻报送",      # gb2312 label, body has GBK-only 镕
      ["您好！现报送我处7月4日参观学校博物馆的新闻稿及照片（摄影：张镕），请审阅。"],
      attachments=[("新闻稿（成都中医药大学后勤基建处）.docx",
                    docx(news_text("hqjjc@cdutcm.edu.cn", "2024-07-04", 45, "张镕"))),
                   ("合影.jpg", jpeg(111)), ("参观现场.jpg", jpeg(112))]),
    S("news-sicau-coremail-png", "hqfw@sicau.edu.cn", "coremail", "2024-10-12 15:20",
      "四川农业大学后勤服务总公司新闻及图片", news_text("hqfw@sicau.edu.cn", "2024-10-10", 60, "马骁"),
      attachments=[(f"图片{i}.png", png(120 + i)) for i in (1, 2, 3)]),
    S("news-scu-iphone-docx", "houqin@scu.edu.cn", "iphone", "2024-07-16 12:03",
      "四川大学后勤保障部参观博物馆新闻稿", ["新闻稿及照片见附件，请审阅。"],
      attachments=[("四川大学后勤保障部参观博物馆新闻稿.docx",
                    docx(news_text("houqin@scu.edu.cn", "2024-07-05", 50, "黄蓉"))),
                   ("IMG_4512.JPG", jpeg(131))]),
    S("news-forward-suse-yibinu", "hqjjc@suse.edu.cn", "coremail", "2024-10-09 09:15",
      "转发：宜宾学院后勤党支部“接力行”参观校史馆新闻稿",
      ["您好！现将我片区宜宾学院后勤党支部报送的参观校史馆新闻稿（含照片）转发给您，原邮件见附件，请审阅。",
       "（川南片区组长单位）"],
      forwards=[S("inner", "hq_dangzhibu@yibinu.edu.cn", "coremail", "2024-10-08 17:50",
                "宜宾学院后勤党支部“接力行”参观校史馆新闻稿",
                ["您好！我支部参观校史馆的新闻稿如下，照片见附件。", "",
                 *news_text("hq_dangzhibu@yibinu.edu.cn", "2024-10-08", 25, "邓婷")],
                greet="川南片区组长单位老师：", to="hqjjc@suse.edu.cn", to_name="川南片区组长单位",
                attachments=[("宜宾学院后勤党支部参观校史馆.jpg", jpeg(141))])]),
    S("bundle-cdu-two-schools", "hqc@cdu.edu.cn", "outlook", "2024-09-28 10:12",
      "成都第二片区接力行材料汇总（西华大学、成都信息工程大学）",
      ["您好！现将我片区西华大学、成都信息工程大学报送的材料一并转发给您，原邮件见附件，请审阅。",
       "（成都第二片区组长单位）"],
      forwards=[S("inner", "houqin@xhu.edu.cn", "foxmail", "2024-09-26 16:05",
                  "西华大学后勤活动方案",
                  ["您好！附件为我校后勤活动方案，请审阅汇总。"], greet="成都第二片区组长单位老师：",
                  to="hqc@cdu.edu.cn", to_name="成都第二片区组长单位",
                  attachments=[("西华大学后勤活动方案.docx",
                                docx(plan_text("houqin@xhu.edu.cn", "2024-10-15 14:30",
                                               "刘老师 028-87720123")))]),
                S("inner", "2894561730@qq.com", "qq", "2024-09-27 20:41", "成信大后勤微信推文",
                  ["老师好，我们的微信推文发布了：",
                   "https://mp.weixin.qq.com/s/" + ident(R, 22, WX)],
                  greet="成都第二片区组长单位老师：", to="hqc@cdu.edu.cn",
                  to_name="成都第二片区组长单位")]),
    S("files-mtc-two-schools", "hqbzc@mtc.edu.cn", "coremail", "2024-07-22 09:40",
      "川北片区接力行材料（西南科技大学、绵阳职业技术学院）",
      ["您好！附件是我片区西南科技大学的新闻稿和照片、绵阳职业技术学院的活动方案，请审阅。",
       "（川北片区组长单位）"],
      attachments=[("西南科技大学后勤处党委参观校史馆新闻稿.docx",
                    docx(news_text("hqc@swust.edu.cn", "2024-07-18", 40, "李敏"))),
                   ("西南科技大学参观照片.jpg", jpeg(151)),
                   ("绵阳职业技术学院接力行活动方案.docx",
                    docx(plan_text("hqc@myvtc.edu.cn", "2024-08-06 09:00", "陈老师 0816-2579000")))]),
    # -- 视频 / 微信推文 (video): links only --
    S("video-mtc-wechat", "hqbzc@mtc.edu.cn", "coremail", "2024-09-12 10:08", "绵阳师范学院后勤微信推文链接",
      ["您好！我处展现2024年后勤新亮点新特色的微信推文已发布，链接如下：",
       "https://mp.weixin.qq.com/s/" + ident(R, 22, WX), "请审阅。"]),
    S("video-scvtc-bilibili", "hqcyc@scvtc.edu.cn", "iphone", "2024-09-18 17:26",
      "四川职业技术学院后勤2024新亮点视频（B站）",
      ["您好！我处视频已上传B站：",
       ("【道中华之美 美后勤之道｜四川职业技术学院后勤2024】 https://www.bilibili.com/video/BV1"
        f"{ident(R, 9)}/?share_source=copy_web"), "请审阅。"]),
    S("video-cdtu-douyin", "hqjt@cdtu.edu.cn", "android", "2024-09-22 21:41", "成都工业学院后勤服务集团抖音视频",
      ["老师好！我们的视频发在抖音上了：",
       ("7.94 复制打开抖音，看看【成工院后勤的作品】道中华之美 美后勤之道｜走进成都工业学院校史馆 # 后勤人 "
        f"https://v.douyin.com/i{ident(R, 7)}/ Kjc:/ 09/22 a@A.go ")]),
    S("video-cuit-qq-bigattach", "2894561730@qq.com", "qq", "2024-09-27 21:59", "成信大后勤视频（超大附件）",
      ["老师好，视频比较大，用超大附件发送，请在到期前下载。", "", "从QQ邮箱发来的超大附件", "",
       "成信大后勤2024新亮点新特色.mp4 (128.03M, 2024年10月27日 21:59 到期)",
       (f"进入下载页面：https://wx.mail.qq.com/ftn/download?func=3&key={R.getrandbits(160):040x}"
        f"&code={R.getrandbits(32):08x}&k={R.getrandbits(96):024x}")]),
    S("video-uestc-baidupan", "hqgs@uestc.edu.cn", "thunderbird", "2024-09-20 16:02",
      "电子科技大学后勤保障部2024亮点视频（百度网盘）",
      ["您好！视频文件较大，已上传百度网盘：",
       f"链接: https://pan.baidu.com/s/1{ident(R, 22, WX)}?pwd=h7qk 提取码: h7qk",
       "--来自百度网盘超级会员v5的分享"]),
    S("video-sicnu-html-only-gbk", "houqin@sicnu.edu.cn", "coremail", "2024-09-25 11:30",
      "四川师范大学后勤服务管理中心微信推文", override={"alt": False}, text=None,
      html=f"""<div>思政会秘书处老师：</div><div>　　您好！我中心展现2024年后勤新亮点新特色的\
微信推文：<a href="https://mp.weixin.qq.com/s?__biz=MzA3NjE2MDk3Mg==&amp;mid=2650\
{R.randrange(10**6):06d}&amp;idx=1&amp;sn={R.getrandbits(128):032x}&amp;chksm=\
{R.getrandbits(64):016x}#rd" target="_blank">道中华之美 美后勤之道｜走进四川师范大学校史馆</a>，\
请审阅。</div><div><br></div><div>四川师范大学后勤服务管理中心</div><div>2024年9月25日</div>"""),
    S("video-suse-leader-links", "hqjjc@suse.edu.cn", "coremail", "2024-09-26 15:20",
      "川南片区各校视频及微信推文汇总",
      ["您好！现将我片区各校展现2024年后勤新亮点新特色的视频及微信推文链接汇总报送如下：",
       "1. 宜宾学院：https://mp.weixin.qq.com/s/" + ident(R, 22, WX),
       "2. 西南医科大学：https://www.bilibili.com/video/BV1" + ident(R, 9),
       "3. 四川轻化工大学：https://mp.weixin.qq.com/s/" + ident(R, 22, WX), "请审阅。"]),
    # -- auto-replies (should be ignored): QQ style has no Auto-Submitted header --
    S("auto-qq-autoreply", "2894561730@qq.com", "qq", "2024-06-26 08:12",
      f"自动回复: 关于开展{CAMPAIGN}的通知", headers=["X-QQ-AUTO-REPLY: true", *NOTICE_REPLY],
      text="这是来自QQ邮箱的假期自动回复邮件。\n\n"
           "您好，我最近正在休假中，无法亲自回复您的邮件。我将在假期结束后，尽快给您回复。"),
    S("auto-lsnu-auto-submitted", "houqin@lsnu.edu.cn", "coremail", "2024-06-26 09:03",
      f"自动回复: 关于开展{CAMPAIGN}的通知", text="您好，您的来信已收到，我会尽快处理。（此为自动回复）",
      headers=["Auto-Submitted: auto-replied", "X-Auto-Response-Suppress: All", *NOTICE_REPLY]),
]

NEED = ["MAILSTACK_HOST", "MAILSTACK_SMTP_PORT", "MAILSTACK_CA_FILE", "MAILSTACK_PASSWORD",
        "MAILSTACK_CONTACT", "MAILSTACK_SCHOOLS", "MAILSTACK_LEADERS"]


def fail(msg, code):
    print(f"demo_mail: {msg}", file=sys.stderr)
    return code


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Send (or write) the demo submissions.")
    ap.add_argument("--write-dir", type=Path, metavar="DIR",
                    help="write DIR/NN_<slug>.eml instead of sending")
    args = ap.parse_args(argv)
    if args.write_dir:
        args.write_dir.mkdir(parents=True, exist_ok=True)
        for i, spec in enumerate(SAMPLES, 1):
            path = args.write_dir / f"{i:02d}_{spec['slug']}.eml"
            path.write_bytes(build(spec, seed=i))
            print(f"{path.name:<36} {spec['sender']:<28} {spec['subject']}")
        print(f"wrote {len(SAMPLES)} messages to {args.write_dir}")
        return 0
    env = os.environ
    if missing := [k for k in NEED if not env.get(k)]:
        return fail(f"missing environment variable(s): {' '.join(missing)}\n"
                    '  run: eval "$(scripts/mailstack env)"   (or use --write-dir DIR)', 2)
    users = set((env["MAILSTACK_SCHOOLS"] + " " + env["MAILSTACK_LEADERS"]).split())
    if unknown := sorted({s["sender"] for s in SAMPLES} - users):
        return fail(f"senders missing from MAILSTACK_SCHOOLS/LEADERS: {' '.join(unknown)}", 2)
    try:
        ctx = ssl.create_default_context(cafile=env["MAILSTACK_CA_FILE"])
        port = int(env["MAILSTACK_SMTP_PORT"])
    except (OSError, ValueError, ssl.SSLError) as e:
        return fail(f"bad MAILSTACK_CA_FILE or MAILSTACK_SMTP_PORT: {e}", 2)
    host, contact = env["MAILSTACK_HOST"], env["MAILSTACK_CONTACT"]
    for i, spec in enumerate(SAMPLES, 1):
        raw, sender = build(spec, contact, seed=i), spec["sender"]
        try:
            with smtplib.SMTP(host, port, timeout=30) as smtp:
                smtp.starttls(context=ctx)
                smtp.login(sender, env["MAILSTACK_PASSWORD"])
                smtp.sendmail(sender, [contact], raw)
        except (OSError, smtplib.SMTPException) as e:
            return fail(f"{i:02d}_{spec['slug']}: sending as {sender} via {host}:{port} "
                        f"failed: {e!r}\n  ({i - 1} of {len(SAMPLES)} sent)", 1)
        print(f"{i:02d} {sender:<28} {spec['subject']}")
    print(f"sent {len(SAMPLES)} messages to {contact}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
