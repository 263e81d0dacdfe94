"""Small hardening fixes, each pinned by a test that failed before it.

Address headers that break the stdlib parser, C1 controls / line separators / bidi
overrides in the subjects a receipt echoes, garbled Message-ID fields, and a PDF whose
content stream inflates to a gigabyte.
"""

from __future__ import annotations

import dataclasses
import email
import struct
import subprocess
import sys
import zlib
from email import policy

import pytest
from conftest import ROOT, pdf_file

from mailbot.charsets import decode_addresses
from mailbot.compose import safe_subject
from mailbot.fingerprint import peek_message_id


@pytest.mark.parametrize("raw", [
    b"a@b.cn " + b"(" * 5000 + b"x" + b")" * 5000,          # RecursionError in the stdlib
    b"(" * 5000 + b"<houqin@scu.edu.cn>",                     # unbalanced
    b"=?utf-8?B?" + b"(" * 3000 + b"?= <a@b.cn>",
    "四川大学 <houqin@scu.edu.cn>",                            # str instead of bytes
    bytearray(b"x <a@b.cn>"), b"\xff\xfe\x00<>,,;;::\"", b"", b"\r\n" * 100,
])
def test_decode_addresses_never_raises(raw):
    pairs, notes = decode_addresses(raw)
    assert isinstance(pairs, list) and isinstance(notes, list)
    if b"@" in (raw.encode() if isinstance(raw, str) else bytes(raw)):
        assert pairs and "@" in pairs[0][1]


def test_decode_addresses_finds_the_address_behind_deep_comments():
    pairs, notes = decode_addresses(b"(" * 5000 + b")" * 5000 + b" houqin@SCU.edu.cn")
    assert pairs == [("", "houqin@scu.edu.cn")]
    assert any("pattern" in n for n in notes)


HOSTILE_SUBJECT = "活动\x85方案\u2029新闻\u202e稿\x9b\u2066附件\u2069\u2028\x07"


def test_safe_subject_drops_c1_controls_separators_and_bidi_overrides():
    assert safe_subject(HOSTILE_SUBJECT) == "活动 方案 新闻稿 附件"
    assert safe_subject("a\tb\x00c =?utf-8?q?x?=") == "a b c =\u200b?utf-8?q?x?="


def test_receipt_echoes_a_hostile_subject_cleanly(tmp_path):
    from mailbot import config, db
    from mailbot.desk import build_desk
    from mailbot.models import OutboxMail
    from mailbot.pipeline import process
    cfg = config.load(ROOT / "config.example.toml")
    cfg = dataclasses.replace(cfg, storage=dataclasses.replace(
        cfg.storage, data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'd.db'}"))
    raw = (b"From: a <lina@sicnu.edu.cn>\r\nTo: contact@scgxhq.test\r\nSubject: "
           + HOSTILE_SUBJECT.encode() + b"\r\nDate: Mon, 08 Jul 2024 10:00:00 +0800\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n\r\n\xe6\xb4\xbb\xe5\x8a\xa8\xe6\x96\xb9"
           b"\xe6\xa1\x88\r\n")
    engine = db.connect(cfg.storage.database_url)
    it = process(engine, build_desk(cfg, send_receipts=True), raw, "test")
    assert "\u202e" in it.message.subject  # stored as sent; only the receipt cleans it
    with db.transaction(engine) as s:
        (row,) = s.query(OutboxMail).all()
        mail = email.message_from_bytes(row.raw, policy=policy.default)
    subject = str(mail["Subject"])
    text = mail.get_body(("plain",)).get_content() + mail.get_body(("html",)).get_content()
    for bad in "\x85\u2028\u2029\u202e\u2066\u2069\x9b":
        assert bad not in subject and bad not in text, repr(bad)
    assert subject.endswith("活动 方案 新闻稿附件") and "《活动 方案 新闻稿附件》" in text


@pytest.mark.parametrize(("value", "expected"), [
    (b"<a@b.cn>", "a@b.cn"),
    (b"=?gb2312?B?2KfZhNmD2YQg?=  <tencent_FEF3@qq.com>", "tencent_FEF3@qq.com"),
    (b"<x@y.cn> (added by postmaster@y.cn)", "x@y.cn"),
    (b"(comment) <c@d.cn> trailing", "c@d.cn"),
    (b"\r\n <folded@e.cn>", "folded@e.cn"),
    (b"bare@f.cn", "bare@f.cn"),
    (b"", None), (b"<>", None),
])
def test_peek_message_id_takes_only_the_angle_token(value, expected):
    raw = b"From: a@b.cn\r\nMessage-ID: " + value + b"\r\nSubject: x\r\n\r\nbody\r\n"
    assert peek_message_id(raw) == expected


def pdf_bomb(inflated_mb: int = 1024, line: bytes = b"BT /F1 12 Tf 72 720 Td (a) Tj ET\n"
             ) -> bytes:
    """A valid one-page PDF whose Flate content stream (text-showing operators, *line*
    repeated) inflates to about *inflated_mb* MB: 1 GB from ~3 MB."""
    block = line * ((1 << 20) // len(line))
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate, framed by hand below
    first, again = (packer.compress(block) + packer.flush(zlib.Z_SYNC_FLUSH) for _ in range(2))
    check = 1  # once the window holds the repeated text, every block compresses the same
    for _ in range(inflated_mb):
        check = zlib.adler32(block, check)
    stream = (b"\x78\xda" + first + again * (inflated_mb - 1) + packer.flush()
              + struct.pack(">I", check))
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources"
             b" << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>"),
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream)]
    return pdf_file(objs, b"%PDF-1.4\n")


_EXTRACT = """
import resource, sys, time
from pathlib import Path
from mailbot.classify.documents import document_text
from mailbot.parse import Attachment
data = Path(sys.argv[1]).read_bytes()
started = time.monotonic()
text = document_text(Attachment("活动方案.pdf", "application/pdf", data, False, None))
print(len(text), time.monotonic() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _extract(path) -> tuple[int, float, float]:
    """document_text(PDF at *path*) in a fresh process: (characters, seconds, peak RSS MB)."""
    out = subprocess.run([sys.executable, "-c", _EXTRACT, str(path)], capture_output=True,
                         text=True, check=True, cwd=ROOT, timeout=300).stdout.split()
    return int(out[0]), float(out[1]), int(out[2]) / 1024


@pytest.mark.parametrize("inflated_mb", [1024, 70])
def test_pdf_decompression_bomb_is_never_inflated(tmp_path, inflated_mb):
    # Before the cap pypdf decoded the stream: the 1 GB one up to pypdf's own 75 MB limit
    # (~150 MB more memory), the 70 MB one (under that limit) parsed for 6 s in 380 MB.
    normal, bomb = tmp_path / "normal.pdf", tmp_path / "bomb.pdf"
    normal.write_bytes(pdf_bomb(1))
    bomb.write_bytes(pdf_bomb(inflated_mb))
    assert bomb.stat().st_size < 4 << 20
    chars, _, base_peak = _extract(normal)
    assert chars > 10_000  # the same extraction reads 1 MB of the same operators
    chars, seconds, peak = _extract(bomb)
    assert chars == 0 and seconds < 5 and peak < base_peak + 40, (seconds, peak, base_peak)


@pytest.mark.parametrize("name", ["王烜", "李誠", "園丁"])
def test_a_raw_gbk_name_ending_a_character_in_at_or_backslash_is_kept(name):
    """烜 is GBK 9F 40, 誠 D5 5C: their second byte is "@" or "\\" in ASCII."""
    for raw in (b'"' + name.encode("gbk") + b'" <hq@sicnu.edu.cn>',
                name.encode("gbk") + b" <hq@sicnu.edu.cn>"):
        pairs, _ = decode_addresses(raw)
        assert pairs == [(name, "hq@sicnu.edu.cn")]


def test_a_utf8_address_is_left_alone():
    raw = "用户@例子.cn, 王 <x@y.cn>".encode()
    assert decode_addresses(raw)[0] == [("", "用户@例子.cn"), ("王", "x@y.cn")]
