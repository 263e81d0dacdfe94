"""Hostile mail for tests/test_hostile.py: builders, and the small inputs kept on disk.

    python tests/data/hostile/make_hostile.py     # rewrite the small .eml files beside this script

Small inputs (a few KB each) are stored here so a person can open them; the
big ones (10,000 parts, 1,000-deep nesting, a 1 MB header line, zip bombs, a
200 MB message) are only ever generated at test time, into the test's tmp_path,
by the ``write_*`` functions below, streaming to disk where they are large.
Every builder is deterministic: the same bytes on every run.
"""

from __future__ import annotations

import base64
import io
import struct
import urllib.parse
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
CRLF = b"\r\n"
SCHOOL_FROM = "四川大学后勤保障部 <houqin@scu.edu.cn>"  # scu.edu.cn is 四川大学's domain
TO = "contact@scgxhq.test"
DATE = "Mon, 08 Jul 2024 10:00:00 +0800"


# ------------------------------------------------------------------ building blocks
def _header(name: str, value: str | bytes) -> bytes:
    raw = value if isinstance(value, bytes) else value.encode("utf-8")
    return name.encode("ascii") + b": " + raw + CRLF


def head(subject: str | bytes, mid: str, sender: str = SCHOOL_FROM,
         extra: Iterable[tuple[str, str | bytes]] = ()) -> bytes:
    """The top header block (no Content-Type, no blank line)."""
    out = b""
    for name, value in extra:
        out += _header(name, value)
    out += _header("From", _encode_display(sender))
    out += _header("To", TO)
    out += _header("Subject", subject if isinstance(subject, bytes) else _ew(subject))
    out += _header("Date", DATE)
    out += _header("Message-ID", f"<{mid}@hostile.test>")
    out += _header("MIME-Version", "1.0")
    return out


def _ew(text: str) -> bytes:
    """*text* as one RFC 2047 B word when it is not ASCII."""
    if text.isascii():
        return text.encode("ascii")
    return b"=?utf-8?B?" + base64.b64encode(text.encode("utf-8")) + b"?="


def _encode_display(addr: str) -> bytes:
    name, _, rest = addr.partition(" <")
    if not rest:
        return addr.encode("ascii")
    return _ew(name) + b" <" + rest.encode("ascii")


def b64(data: bytes) -> bytes:
    enc = base64.b64encode(data)
    return CRLF.join(enc[i:i + 76] for i in range(0, len(enc), 76)) + CRLF


def text_part(text: str, ctype: str = "text/plain") -> bytes:
    return (_header("Content-Type", f"{ctype}; charset=utf-8")
            + _header("Content-Transfer-Encoding", "base64") + CRLF + b64(text.encode("utf-8")))


def file_part(disposition: bytes, payload: bytes, ctype: str = "application/octet-stream",
              name_param: bytes = b"") -> bytes:
    """An attachment part whose Content-Disposition value is given raw (hostile names)."""
    return (b"Content-Type: " + ctype.encode() + name_param + CRLF
            + b"Content-Disposition: " + disposition + CRLF
            + _header("Content-Transfer-Encoding", "base64") + CRLF + b64(payload))


def rfc2231(name: str) -> bytes:
    """``attachment; filename*=utf-8''...`` with every byte percent-encoded as needed."""
    return b"attachment; filename*=utf-8''" + urllib.parse.quote(name, safe="").encode("ascii")


def multipart(top: bytes, parts: Iterable[bytes], boundary: str = "=_hostile_boundary_",
              subtype: str = "mixed") -> bytes:
    b = boundary.encode("ascii")
    out = top + _header("Content-Type", f'multipart/{subtype}; boundary="{boundary}"') + CRLF
    out += b"This is a multi-part message in MIME format." + CRLF
    for part in parts:
        out += b"--" + b + CRLF + part
    return out + b"--" + b + b"--" + CRLF


def simple(top: bytes, text: str) -> bytes:
    return top + text_part(text)


# ------------------------------------------------------------------ payloads
def png_bytes(size: int = 2) -> bytes:
    """A valid tiny PNG (a harmless image)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + b"\x10\x80\xf0" * size for _ in range(size))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


MZ_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + \
    b"This program cannot be run in DOS mode.\r\r\n$" + b"\x00" * 64


def zip_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():  # a fixed date: the same bytes on every run
            z.writestr(zipfile.ZipInfo(name, (2024, 7, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


# ------------------------------------------------------------------ small inputs
def traversal_names(abs_target: str = "/etc/passwd") -> tuple[bytes, dict[str, str]]:
    """One mail from a known school whose attachments are named to escape the data dir.

    Returns (raw, {label: the decoded filename expected in the JSON listing}).
    *abs_target* is the absolute path one attachment is named after (a test passes
    a path inside its own tmp_path, so that a write there would be seen).
    """
    long_name = "活动方案" * 74 + "材料.docx"           # 303 characters, 894 UTF-8 bytes
    long_ascii = "a" * 295 + ".docx"                   # 300 characters
    names = {
        "dotdot": "../../etc/x",
        "dotdot_deep": "../../../../../../../../../../../../tmp/x.txt",
        "backslash": "..\\..\\win.ini",
        "absolute": abs_target,
        "nul": "新闻\x00稿.docx",
        "long_cjk": long_name,
        "long_ascii": long_ascii,
        "dots": "..",
        "encoded_word": "../../逃逸-ew.txt",
    }
    parts = [text_part("各位老师好，附件为我校活动材料，请查收。\n\n四川大学后勤保障部")]
    for i, (label, name) in enumerate(names.items()):
        payload = f"hostile attachment {i} {label}\n".encode()
        if label == "dotdot":       # plain quoted parameter, as most clients write it
            disp = b'attachment; filename="' + name.encode() + b'"'
        elif label == "backslash":  # quoted-string: each backslash escaped on the wire
            disp = b'attachment; filename="' + name.replace("\\", "\\\\").encode() + b'"'
        elif label == "encoded_word":  # RFC 2047 inside the quoted parameter (Outlook)
            disp = b'attachment; filename="' + _ew(name) + b'"'
        else:                        # RFC 2231, every byte percent-encoded (NUL as %00)
            disp = rfc2231(name)
        parts.append(file_part(disp, payload, "application/octet-stream"))
    expected = dict(names)
    expected["nul"] = names["nul"].replace("\x00", "")
    return multipart(head("活动材料（文件名测试）", "traversal"), parts), expected


def rtl_override() -> bytes:
    """A file whose U+202E makes "方案\u202excod.exe" display as "方案exe.docx"."""
    return multipart(head("活动方案", "rtl"), [
        text_part("附件为活动方案。\n四川大学"),
        file_part(rfc2231("活动方案\u202excod.exe"), MZ_EXE),
    ])


def broken_base64() -> bytes:
    """Body and attachment whose base64 is damaged: junk characters, lost padding,
    a line cut in the middle, a stray '=' in the middle, non-ASCII bytes."""
    good = base64.b64encode("活动方案：我校将于7月15日参观校史馆。\n四川大学".encode()).decode()
    body = (good[:10] + "!!**\t" + good[10:31] + "=" + good[31:-2] + "\xff\xfe").encode("latin-1")
    att = base64.b64encode(png_bytes()).decode()
    att_broken = (att[:7] + "\n" + att[7:20] + "@@@" + att[20:-1]).encode("ascii")
    return multipart(head("新闻稿（base64 损坏）", "b64"), [
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + body + CRLF,
        b'Content-Type: image/png; name="photo.png"\r\nContent-Disposition: attachment; '
        b'filename="photo.png"\r\nContent-Transfer-Encoding: base64\r\n\r\n' + att_broken + CRLF,
        (b'Content-Type: application/pdf; name="x.pdf"\r\nContent-Disposition: attachment; '
        b'filename="x.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n====\r\n=\r\nQ\r\n'),
        (b'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: BaSe64 \r\n\r\n'
        b'5paw6Ze7\r\n'),
    ])


def broken_quoted_printable() -> bytes:
    """Quoted-printable with bad escapes (=ZZ, =4), a trailing '=', a cut UTF-8
    sequence, overlong lines and raw 8-bit bytes."""
    body = ("=E6=B4=BB=E5=8A=A8=E6=96=B9=E6=A1=88 =ZZ bad =4 escape =\r\n"
            "soft=\r\nbreak =E6=B4 cut utf-8 " + "x" * 2000 + "\r\n").encode("ascii") + \
        b"raw \xe5\x9b\x9b\xe5\xb7\x9d\xe5\xa4\xa7\xe5\xad\xa6 bytes =\r\n"
    return multipart(head("活动方案（QP 损坏）", "qp"), [
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable"
        b"\r\n\r\n" + body,
        (b'Content-Type: text/plain; name="=?utf-8?Q?=E6=96=B0=E9=97=BB=ZZ.txt?="\r\n'
        b'Content-Disposition: attachment; filename="=?utf-8?Q?=E6=96=B0=E9=97=BB=ZZ.txt?="\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n=E6=96=B0=E9=97=BB=\r\n=Q=\r\n"),
    ])


def unknown_charsets() -> bytes:
    """Headers and bodies in charsets nobody knows, and Python codecs that are no charsets."""
    subject = b"=?x-unknown?B?" + base64.b64encode("活动方案".encode("gbk")) + b"?= " \
        b"=?foo?Q?=E6=96=B0=E9=97=BB?= =?base64?B?Zm9v?= =?rot13?Q?nop?="
    top = head(subject, "charset", sender="=?x-unknown?B?" +
               base64.b64encode("四川大学".encode("gbk")).decode() + "?= <houqin@scu.edu.cn>")
    return multipart(top, [
        b"Content-Type: text/plain; charset=foo\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + "各位老师好，附件为活动方案。".encode("gbk") + CRLF,
        b'Content-Type: text/html; charset="zlib"\r\n\r\n<p>zlib is a codec, not a charset</p>\r\n',
        b"Content-Type: text/plain; charset=utf-7\r\n\r\n+ZeBl+/-\r\n",
        b"Content-Type: application/octet-stream; name*=x-unknown''%BB%EE%B6%AF.txt\r\n"
        b"Content-Disposition: attachment; filename*=x-unknown'zh'%BB%EE%B6%AF.txt\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + b64(b"plain text file\n"),
    ])


def executable(filename: str, payload: bytes = MZ_EXE, ctype: str = "application/octet-stream",
               mid: str = "exe") -> bytes:
    """A school's mail with one dangerous attachment named *filename*."""
    return multipart(head("活动方案", mid), [
        text_part("附件为我校活动方案，请查收。\n四川大学后勤保障部"),
        file_part(rfc2231(filename), payload, ctype),
    ])


def disguised_executables() -> dict[str, bytes]:
    """The dangerous attachments that must put a mail in quarantine, by label."""
    lnk = b"L\x00\x00\x00\x01\x14\x02\x00" + b"\x00" * 68
    return {
        "double_extension": executable("活动方案.docx.exe", mid="exe-double"),
        "jpg_with_mz": executable("照片.jpg", MZ_EXE, "image/jpeg", mid="exe-jpg"),
        "zip_with_exe": executable("材料.zip", zip_of({"a.exe": MZ_EXE, "说明.txt": b"ok"}),
                                   "application/zip", mid="exe-zip"),
        "lnk": executable("新闻稿.lnk", lnk, mid="exe-lnk"),
        "scr": executable("照片.scr", MZ_EXE, mid="exe-scr"),
    }


def corrupt_zip() -> bytes:
    """A .zip whose deflate stream is damaged (zipfile raises zlib.error reading it)."""
    data = bytearray(zip_of({"新闻稿.txt": "新闻稿正文。".encode() * 100}))
    at = data.index("新闻稿.txt".encode()) + len("新闻稿.txt".encode())
    data[at:at + 3] = b"\xff\xff\xff"
    return multipart(head("新闻稿", "corrupt-zip"), [
        text_part("附件为新闻稿压缩包。\n四川大学"),
        file_part(rfc2231("新闻稿.zip"), bytes(data), "application/zip"),
    ])


XSS = "<script>alert('x')</script><img src=x onerror=alert(1)>"


def html_injection() -> bytes:
    """Markup in the subject, the display name, a filename and the HTML body."""
    top = head(f"活动方案{XSS}", "xss", sender=f"{XSS} <houqin@scu.edu.cn>")
    html = (f"<html><body><p>活动方案见附件</p>{XSS}<a href=\"javascript:alert(1)\">x</a>"
            "<svg onload=alert(2)></svg><p>四川大学</p></body></html>")
    return multipart(top, [
        text_part(f"活动方案见附件 {XSS}\n四川大学"),
        text_part(html, "text/html"),
        file_part(rfc2231(f"{XSS}.docx"), b"not really a docx\n"),
    ], subtype="mixed")


def spoofed_school(result: str = "fail") -> bytes:
    """A From at a known school's domain (scu.edu.cn: 四川大学) that the receiving
    server says failed DMARC/SPF (*result* "pass" gives the genuine control mail).
    The body and subject name no school, so only the domain could name one."""
    auth = (f"mx.qq.com; dmarc={result} (p=none dis=none) header.from=scu.edu.cn; "
            f"spf={result} (mx.qq.com: domain of houqin@scu.edu.cn does not designate "
            f"203.0.113.9 as permitted sender) smtp.mailfrom=houqin@scu.edu.cn; dkim=none")
    top = head("新闻稿投稿", f"spoof-{result}", sender="后勤 <houqin@scu.edu.cn>",
               extra=[("Authentication-Results", auth),
                      ("Received", "from evil.example (unknown [203.0.113.9]) by mx.qq.com")])
    return simple(top, "老师好，附件是我们的新闻稿，请查收。")


def nested_comments(depth: int = 5000) -> bytes:
    """From and To holding *depth* levels of nested RFC 5322 comments around the address
    (the stdlib's address parser recurses once per level); the body names the school."""
    nest = b"(" * depth + b"x" + b")" * depth
    top = (_header("From", b"houqin@scu.edu.cn " + nest) + _header("To", nest + b" " + TO.encode())
           + _header("Subject", _ew("新闻稿（嵌套注释）")) + _header("Date", DATE)
           + _header("Message-ID", "<nested-comments@hostile.test>") + _header("MIME-Version", "1.0"))
    return simple(top, "新闻稿见正文。\n四川大学后勤保障部")


SMALL = {
    "traversal_names.eml": lambda: traversal_names()[0],
    "rtl_override.eml": rtl_override,
    "broken_base64.eml": broken_base64,
    "broken_quoted_printable.eml": broken_quoted_printable,
    "unknown_charsets.eml": unknown_charsets,
    "html_injection.eml": html_injection,
    "corrupt_zip.eml": corrupt_zip,
    "spoofed_dmarc_fail.eml": lambda: spoofed_school("fail"),
    "nested_comments.eml": nested_comments,
    **{f"exe_{k}.eml": (lambda v=v: v) for k, v in disguised_executables().items()},
}


# ------------------------------------------------------------------ big inputs (test time)
def write_many_parts(path: Path, count: int = 10_000) -> Path:
    """A multipart/mixed with *count* parts: text bodies, tiny distinct attachments,
    nameless parts and parts without headers, in turn."""
    with path.open("wb") as f:
        f.write(head(f"{count} 个附件", "many-parts")
                + b'Content-Type: multipart/mixed; boundary="m"\r\n\r\n')
        for i in range(count):
            f.write(b"--m\r\n")
            kind = i % 4
            if kind == 0:
                f.write(b"Content-Type: text/plain; charset=utf-8\r\n\r\n" +
                        f"第 {i} 段\r\n".encode())
            elif kind == 1:
                f.write(f'Content-Type: text/plain; name="f{i}.txt"\r\n'
                        f'Content-Disposition: attachment; filename="f{i}.txt"\r\n\r\n'
                        f"file {i}\r\n".encode())
            elif kind == 2:
                f.write(b"Content-Type: application/octet-stream\r\n\r\nx\r\n")
            else:
                f.write(b"\r\nno headers at all\r\n")
        f.write(b"--m--\r\n")
    return path


def write_deep_nesting(path: Path, depth: int = 1000) -> Path:
    """multipart/mixed nested *depth* levels deep, one distinct boundary per level."""
    with path.open("wb") as f:
        f.write(head(f"嵌套 {depth} 层", "deep"))
        for i in range(depth):
            f.write(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'.encode())
        f.write(b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
                + "最里层的正文：活动方案\r\n".encode())
        for i in reversed(range(depth)):
            f.write(f"--b{i}--\r\n".encode())
    return path


def write_huge_header(path: Path, size: int = 1 << 20) -> Path:
    """A 1 MB single header line (no folding), plus a 1 MB Subject of encoded words."""
    word = b"=?utf-8?B?" + base64.b64encode("活动方案".encode()) + b"?= "
    subject = word * (size // len(word))
    with path.open("wb") as f:
        f.write(b"X-Long: " + b"A" * size + CRLF)
        f.write(head(subject, "huge-header"))
        f.write(text_part("正文。\n四川大学"))
    return path


def zero_stream_zip(inflated: int, name: str = "data.bin") -> bytes:
    """A zip with one deflated member of *inflated* zero bytes (~1/1000 of it compressed),
    built in 1 MB steps so the test itself never holds the inflated data."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        info = zipfile.ZipInfo(name, (2024, 7, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as m:
            block = bytes(1 << 20)
            for _ in range(inflated // len(block)):
                m.write(block)
    return buf.getvalue()


def nested_zip_bomb(levels: int = 3, fanout: int = 10, leaf_mb: int = 20) -> bytes:
    """42.zip-style: each level holds *fanout* copies of the level below; the leaves
    are *leaf_mb* MB of zeros (10 x 10 x 10 x 20 MB = 20 GB inflated by default)."""
    leaf = zero_stream_zip(leaf_mb << 20, "0.bin")
    level = leaf
    for depth in range(levels):
        level = zip_of({f"{depth}-{i}.zip": level for i in range(fanout)})
    return level


def docx_bomb(paragraphs: int = 1_500_000) -> bytes:
    """A valid .docx (python-docx opens it) whose word/document.xml inflates to
    *paragraphs* paragraphs (34 bytes each: 51 MB, under the 50 MiB document limit);
    python-docx would hold ~1 GB of objects for it."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
            'org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType'
            '="application/xml"/><Override PartName="/word/document.xml" ContentType="application'
            '/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'))
        z.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http:'
            '//schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="word/document.xml"/></Relationships>'))
        with z.open("word/document.xml", "w", force_zip64=True) as m:
            m.write(f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{w}"><w:body>'
                    .encode())
            chunk = b"<w:p><w:r><w:t>a</w:t></w:r></w:p>" * 10_000
            for _ in range(paragraphs // 10_000):
                m.write(chunk)
            m.write(b"</w:body></w:document>")
    return buf.getvalue()


def write_zip_bombs(path: Path, inflated_mb: int = 200) -> Path:
    """One mail with three bombs: a .zip of 200 MB of zeros, a 20 GB 42.zip-style
    nest, and a 活动方案.docx whose 51 MB of XML python-docx would take ~1 GB to hold."""
    flat = zero_stream_zip(inflated_mb << 20, "活动方案.docx")
    top = head("活动方案（压缩包）", "zip-bomb")
    raw = multipart(top, [
        text_part("附件为活动方案压缩包。\n四川大学"),
        file_part(rfc2231("活动方案.zip"), flat, "application/zip"),
        file_part(rfc2231("新闻图片.zip"), nested_zip_bomb(), "application/zip"),
        file_part(rfc2231("活动方案.docx"), docx_bomb(),
                  "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ])
    path.write_bytes(raw)
    return path


def write_huge_message(path: Path, size_mb: int = 200) -> Path:
    """A *size_mb* MB mail (one base64 attachment), written in 1 MB steps."""
    line = base64.b64encode(bytes(range(256)) * 3)[:76] + CRLF    # 78 bytes, valid base64
    block = line * ((1 << 20) // len(line) + 1)
    with path.open("wb") as f:
        f.write(head("新闻图片（超大附件）", "huge")
                + b'Content-Type: multipart/mixed; boundary="h"\r\n\r\n--h\r\n'
                + text_part("附件为新闻图片。\n四川大学") + b"--h\r\n"
                + b'Content-Type: image/jpeg; name="big.jpg"\r\nContent-Disposition: attachment;'
                b' filename="big.jpg"\r\nContent-Transfer-Encoding: base64\r\n\r\n')
        while f.tell() < size_mb << 20:
            f.write(block)
        f.write(b"--h--\r\n")
    return path


def main() -> None:
    for name, build in SMALL.items():
        (HERE / name).write_bytes(build())
        print(f"wrote {name}")


if __name__ == "__main__":
    main()
