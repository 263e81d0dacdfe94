"""spans: big bodies taken out before the MIME parse come back byte-exact, and the tree is
the same as without the reduction — over every fixture and the outside corpus."""

from __future__ import annotations

import base64
import mmap
import os
from pathlib import Path

import pytest

from mailbot import parse, spans
from mailbot.parse import ParseError, parse_message

DATA = Path(__file__).resolve().parent / "data"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus-outside"  # when beside the repo
SAMPLES = sorted(p for root in (DATA, CORPUS) if root.exists() for p in root.rglob("*")
                 if p.is_file() and p.suffix in (".eml", ".msg", ".txt", "") and p.stat().st_size
                 and p.name not in ("README.md", "MANIFEST.tsv", "LICENSES"))


def _view(p):
    """Everything a ParsedMessage says, except the notes (mail-parser's cross-check differs)."""
    return (p.message_id, p.sender, p.sender_name, p.reply_to, p.to, p.subject, p.date, p.text,
            p.html, p.hrefs, p.headers,
            [(a.filename, a.content_type, bytes(a.payload), a.inline, a.content_id)
             for a in p.attachments], [_view(f) for f in p.forwarded])


def _mail(body_b64: bytes, crlf: bool = True, extra: bytes = b"") -> bytes:
    nl = b"\r\n" if crlf else b"\n"
    lines = [b"From: a@scu.edu.cn", b"Subject: t", b"MIME-Version: 1.0",
             b'Content-Type: multipart/mixed; boundary="BB"', b"", b"preamble", b"--BB",
             b"Content-Type: text/plain; charset=utf-8", b"", "正文".encode(), b"--BB",
             b'Content-Type: video/mp4; name="v.mp4"', b"Content-Transfer-Encoding: base64",
             b"", *body_b64.splitlines(), b"--BB--", b""]
    return nl.join(lines).replace(b"preamble", b"preamble" + extra)


def test_reduction_keeps_every_fixture_and_corpus_mail_the_same(monkeypatch):
    least = 300 if CORPUS.is_dir() else 80  # the fixtures alone are 88 files
    assert len(SAMPLES) > least
    checked = 0
    for path in SAMPLES:
        raw = path.read_bytes()
        monkeypatch.setattr(spans, "MIN_SPAN", 10**12)
        try:
            plain = parse_message(raw)
        except ParseError:
            continue
        monkeypatch.setattr(spans, "MIN_SPAN", 64)
        reduced = parse_message(raw)
        assert _view(reduced) == _view(plain), path
        checked += 1
    assert checked > least * 0.9


def test_a_big_attachment_is_taken_out_and_restored_byte_exact():
    video = os.urandom(300_000)
    raw = _mail(base64.encodebytes(video))
    small, found = spans.reduce(raw)
    assert len(small) < 2000 and len(found.ranges) == 1
    assert found.restore(small) == raw
    att = parse_message(raw).attachments[0]
    assert (att.filename, bytes(att.payload)) == ("v.mp4", video)


def test_runs_the_parser_could_read_as_structure_stay():
    b64 = base64.encodebytes(os.urandom(60_000))
    with_colon = b64.replace(b"\n", b"\nX-Not: header\n", 1)
    bare_cr_boundary = b64[:40_000] + b"\r--BB\r" + b64[40_000:]
    for body in (with_colon, bare_cr_boundary):
        raw = _mail(body, crlf=False)
        small, found = spans.reduce(raw)
        assert all(b":" not in raw[s:e] and b"\r--" not in raw[s:e] for s, e in found.ranges)
    video = os.urandom(60_000)
    dashes = _mail(base64.encodebytes(video), extra=b" -" * 20_000)  # 20,000 dashes mid-line
    small, found = spans.reduce(dashes)
    assert found.restore(small) == dashes and len(small) < 2000
    assert bytes(parse_message(dashes).attachments[0].payload) == video


def test_lf_only_mail_and_blank_line_before_the_boundary():
    video = os.urandom(100_000)
    raw = _mail(base64.encodebytes(video) + b"\n\n", crlf=False)
    _small, found = spans.reduce(raw)
    assert len(found.ranges) == 1
    assert bytes(parse_message(raw).attachments[0].payload) == video


def test_spooled_mail_decodes_window_by_window_and_releases_pages(tmp_path, monkeypatch):
    monkeypatch.setattr(spans, "WINDOW", 65536)
    video = os.urandom(1_000_003)
    path = tmp_path / "m.eml"
    path.write_bytes(_mail(base64.encodebytes(video)))
    dropped: list[int] = []
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        parsed = parse.parse_message(mm, drop=dropped.append)
        att = parsed.attachments[0]
        assert bytes(att.payload) == video and isinstance(att.payload, bytearray)
        del parsed, att
    assert len(dropped) > 10 and max(dropped) > 1_000_000


def test_unclean_base64_falls_back_to_the_lenient_decoder(tmp_path, monkeypatch):
    monkeypatch.setattr(spans, "WINDOW", 65536)
    video = os.urandom(200_000)
    dirty = base64.encodebytes(video).replace(b"\n", b" \n", 50)  # blanks inside lines
    path = tmp_path / "m.eml"
    path.write_bytes(_mail(dirty))
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        found = spans.reduce(mm, drop=lambda _n: None)[1]
        assert found.decode_base64(*found.ranges[0]) is None
        assert bytes(parse_message(mm, drop=lambda _n: None).attachments[0].payload) == video


@pytest.mark.parametrize("text", ["", "\r\n\r\n", "not a mail at all"])
def test_not_a_mail_is_still_refused(text):
    with pytest.raises(ParseError):
        parse_message(text.encode())


@pytest.mark.parametrize("size", [3_000, 30_000, 400_000])
@pytest.mark.parametrize("mid_line", [False, True])
def test_a_body_sent_as_padded_pieces_one_after_another_decodes_whole(size, mid_line):
    """Some gateways and phone clients join base64 chunks as they are, each with its own
    padding, at a line's end or inside one; the stdlib stops at the first '=' and would file
    a cut file without a word, pybase64 (a large body) a garbled one."""
    pieces = [os.urandom(size + 1), os.urandom(size + 2), os.urandom(7)]
    body = b"".join(base64.encodebytes(p) for p in pieces)
    if mid_line:
        flat = b"".join(base64.b64encode(p) for p in pieces)
        body = b"".join(flat[i:i + 76] + b"\r\n" for i in range(0, len(flat), 76))
        assert any(b"=" in line.rstrip(b"=") for line in body.splitlines())
    assert body.count(b"=") >= 3
    assert parse_message(_mail(body)).attachments[0].payload == b"".join(pieces)


def test_padded_pieces_in_a_spooled_mail_decode_whole_too(tmp_path, monkeypatch):
    monkeypatch.setattr(spans, "WINDOW", 65536)
    pieces = [os.urandom(300_001), os.urandom(300_002)]
    path = tmp_path / "m.eml"
    path.write_bytes(_mail(b"".join(base64.encodebytes(p) for p in pieces)))
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        payload = parse_message(mm, drop=lambda _n: None).attachments[0].payload
        assert bytes(payload) == b"".join(pieces)
