"""Turn one raw RFC 5322 message into plain, fully decoded dataclasses (:mod:`mailbot.parsed`).

Pure: no I/O, no database, no network.  Large bodies are first taken out
(:mod:`mailbot.spans`), the stdlib (compat32, as mail-parser uses) builds the
MIME tree of what is left, mail-parser reads the header as a cross-check
(:mod:`mailbot.mimefix`); every string is then decoded here from the raw
header and payload bytes, because mail-parser silently garbles what Chinese
clients send (gb2312 labels on GBK text, raw 8-bit GBK/UTF-8 subjects and
filenames, RFC 2047 inside quoted parameters).  What had to be recovered is
listed in :attr:`ParsedMessage.defects`.
"""

from __future__ import annotations

import mimetypes
import mmap
import re
from collections.abc import Callable
from datetime import datetime
from email.message import Message
from email.parser import BytesParser

from mailbot.charsets import (
    clean_text,
    decode_addresses,
    decode_bytes,
    decode_header_bytes,
    decode_param,
    header_params,
)
from mailbot.dates import mail_date
from mailbot.htmltext import html_to_text
from mailbot.mimefix import (
    HEADER_LINE,
    body_bytes,
    clamp_headers,
    defect_names,
    looks_like_mail,
    mailparser_notes,
    mailparser_view,
    repair_header_block,
    written_back,
)
from mailbot.parsed import Attachment, ParsedMessage, ParseError
from mailbot.spans import Spans, reduce
from mailbot.tnef import is_tnef, unpack
from mailbot.uudecode import take_uuencoded

__all__ = ["Attachment", "ParseError", "ParsedMessage", "forwarded_originals",
           "parse_message"]

MAX_FORWARD_DEPTH = 5  # nested message/rfc822 levels parsed into ``forwarded``
MAX_MIME_DEPTH = 40  # multipart nesting walked
_MAIL_FILE_TYPES = ("application/octet-stream", "application/x-message")
UNNAMED = {"text/calendar": "邀请.ics", "application/ics": "邀请.ics",  # an Outlook meeting request
           "text/vcard": "名片.vcf", "text/x-vcard": "名片.vcf"}  # names of body parts sent unnamed
_LEADING = re.compile(rb"[\r\n]*")
_NON_BLANK = re.compile(rb"[^ \t\r\n\f\v]")
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", re.IGNORECASE)


def parse_message(raw: bytes | mmap.mmap, drop: Callable[[int], None] | None = None
                  ) -> ParsedMessage:
    """Parse the raw bytes of one message (as fetched with IMAP ``BODY[]``).

    *raw* may be a read-only ``mmap`` of a spooled message, with *drop* to
    release its pages as they are read (see :mod:`mailbot.spans`).  Never
    raises anything but :class:`ParseError`, and raises that only when
    ``raw`` is not an email message at all: not bytes, empty, an Outlook
    .msg (OLE2) file, or no header block.  Malformed mail parses, with notes
    in ``defects``.
    """
    raw = bytes(raw) if isinstance(raw, (bytearray, memoryview)) else raw
    start = _start(raw)
    notes = ["input: leading blank lines or BOM skipped"] if start else []
    reduced, spans = reduce(raw, start, drop=drop)
    return _parse_bytes(repair_header_block(reduced, notes), notes, 0, spans)


def _start(raw) -> int:
    """Where the header block of *raw* starts (past a BOM and blank lines); ParseError when
    *raw* is not an email message at all."""
    if not isinstance(raw, (bytes, mmap.mmap)):
        kind = type(raw).__name__
        raise ParseError(f"不是有效的邮件：输入不是字节串 (expected bytes, got {kind})")
    start = _LEADING.match(raw, 3 if raw[:3] == b"\xef\xbb\xbf" else 0).end()
    if _NON_BLANK.search(raw, start) is None:
        raise ParseError("不是有效的邮件：内容为空 (empty input)")
    peek = raw[start:start + 65536]
    if peek.startswith(b"\xd0\xcf\x11\xe0"):
        raise ParseError("不是有效的邮件：这是 Outlook .msg (OLE2) 文件 (Outlook .msg file)")
    lines = peek.split(b"\n", 2)
    first = lines[1] if peek.startswith(b"From ") and len(lines) > 1 else lines[0]
    if not HEADER_LINE.match(first):
        raise ParseError("不是有效的邮件：没有邮件头 (no header block)")
    return start


def forwarded_originals(raw: bytes | mmap.mmap) -> tuple[bytes | None, ...]:
    """The mail forwarded in each message/rfc822 part of *raw*, or attached as a file —
    the ones :attr:`ParsedMessage.forwarded` lists, in that order — as a message of its own.

    A mail attached as a file, or a part sent base64- or quoted-printable-encoded, gives its
    decoded bytes, as sent;
    otherwise the header is written back as the parser read it (its folding may differ
    from the original's) and every body byte for byte; None stands for a part that
    cannot be written back at all.  *raw* is one :func:`parse_message` accepts (a
    ParseError otherwise)."""
    start = _start(raw)
    reduced, spans = reduce(raw, start)
    try:
        msg = BytesParser().parsebytes(repair_header_block(reduced, []))
    except Exception:  # noqa: BLE001 - RecursionError on absurd nesting: no parts
        return ()
    originals: list[bytes | None] = []
    crlf = b"\r\n" in raw[start:start + 65536]
    _Walk([], 0, spans, originals, "\r\n" if crlf else "\n").walk(msg)
    return tuple(originals)


def _parse_bytes(data: bytes, notes: list[str], depth: int, spans: Spans | None = None
                 ) -> ParsedMessage:
    """Build the MIME tree (stdlib compat32, as mail-parser does) of *data* — reduced
    first unless *spans* says it already is — cut absurd header fields, then take
    mail-parser's view of it (None if that fails) and convert it."""
    if spans is None:
        data, spans = reduce(data)
    try:
        msg = BytesParser().parsebytes(data)
    except Exception:  # noqa: BLE001 - RecursionError on absurd nesting
        notes.append("mime: structure unparseable; headers only")
        msg = BytesParser().parsebytes(data, headersonly=True)
    clamp_headers(msg, notes)
    return _build(msg, mailparser_view(msg, notes), notes, depth, spans)


def _raw_header(msg: Message, name: str) -> bytes | None:
    """Wire bytes of the first ``name`` header of ``msg`` (None if absent)."""
    for key, value in msg.raw_items():
        if key.lower() == name:
            return str(value).encode("utf-8", "surrogateescape")
    return None


def _text_header(msg: Message, name: str, hint: str | None, notes: list[str] | None = None) -> str:
    """Decoded, whitespace-normalised value of header ``name`` ("" if absent)."""
    raw = _raw_header(msg, name)
    if raw is None:
        return ""
    text, why = decode_header_bytes(raw, hint)
    if notes is not None:
        notes += [f"{name}: {n}" for n in why]
    return clean_text(text)


def _addresses(msg: Message, name: str, hint: str | None,
               notes: list[str]) -> list[tuple[str, str]]:
    """Addresses of header ``name``; recovery notes go to ``notes``."""
    pairs, why = decode_addresses(_raw_header(msg, name), hint)
    notes += [f"{name}: {n}" for n in why]
    return pairs


class _Walk:
    """Accumulates bodies, attachments and forwarded messages of one message; with
    *originals*, only the bytes of each forwarded message (see :func:`forwarded_originals`)."""

    def __init__(self, notes: list[str], depth: int, spans: Spans | None = None,
                 originals: list[bytes | None] | None = None, linesep: str = "\r\n") -> None:
        self.notes, self.depth, self.spans, self.originals = notes, depth, spans, originals
        self.linesep = linesep
        self.plain: list[str] = []
        self.html: list[str] = []
        self.attachments: list[Attachment] = []
        self.forwarded: list[ParsedMessage] = []
        self.hint: str | None = None

    def walk(self, part: Message, level: int = 0, related: bool = False) -> None:
        """Visit ``part`` and its children; a failing leaf is noted and skipped."""
        try:
            ctype = part.get_content_type()
        except Exception:  # noqa: BLE001 - stdlib chokes on some 8-bit Content-Types
            ctype = "application/octet-stream"
        ctype = ctype if re.fullmatch(r"[a-z0-9.+_-]+/[a-z0-9.+_-]+", ctype) else "text/plain"
        if ctype.startswith("multipart/") and isinstance(part.get_payload(), list):
            if level >= MAX_MIME_DEPTH:
                self.notes.append(f"mime: multipart nested over {MAX_MIME_DEPTH}; rest skipped")
                return
            for sub in part.get_payload():
                self.walk(sub, level + 1, ctype == "multipart/related")
            return
        try:
            if ctype in ("message/rfc822", "message/global") and self.depth < MAX_FORWARD_DEPTH \
                    and isinstance(part.get_payload(), list) and part.get_payload():
                self.forward(part)
            else:
                self.leaf(part, ctype, related)
        except Exception as exc:  # noqa: BLE001 - one broken part must not lose the rest
            self.notes.append(f"mime: {ctype} part skipped ({type(exc).__name__}: {exc})")

    def forward(self, part: Message) -> None:
        """Parse an attached message/rfc822 part into ``forwarded`` (or keep its bytes)."""
        inner = part.get_payload(0)
        cte = str(part.get("content-transfer-encoding", "")).strip().lower()
        if cte in ("base64", "quoted-printable"):  # forbidden by RFC 2046, sent anyway
            self.notes.append(f"forwarded: message/rfc822 part was {cte}-encoded")
            fake = Message()
            fake["content-transfer-encoding"] = cte
            fake.set_payload(inner.as_bytes().decode("ascii", "replace"))
            self.take(bytes(body_bytes(fake, self.spans)))
            return
        if self.originals is not None:
            try:
                data = written_back(inner, self.linesep)
            except Exception:  # noqa: BLE001 - a tree the generator cannot write: say None
                self.originals.append(None)
                return
            self.originals.append(self.spans.restore(data) if self.spans and
                                  self.spans.present(data) else data)
            return
        notes: list[str] = []
        clamp_headers(inner, notes)
        self.forwarded.append(_build(inner, mailparser_view(inner, notes), notes,
                                     self.depth + 1, self.spans))

    def take(self, data: bytes) -> None:
        """A forwarded mail's bytes, as sent: into ``originals`` as they are, or parsed into
        ``forwarded``."""
        if self.originals is not None:
            self.originals.append(data)
        else:
            self.forwarded.append(_parse_bytes(data, [], self.depth + 1))

    def leaf(self, part: Message, ctype: str, related: bool) -> None:
        """File a leaf part as body text (unnamed, not ``attachment``), as a forwarded mail
        (a mail attached as a file: see :func:`_may_be_mail`) or as an Attachment."""
        gaps: list[str] = []
        disposition, dparams = header_params(_raw_header(part, "content-disposition"), gaps)
        _, cparams = header_params(_raw_header(part, "content-type"), gaps)
        charset = cparams.get("charset")
        charset = charset if isinstance(charset, str) else None
        self.hint = self.hint or charset
        filename, why = "", []
        for value in (dparams.get("filename"), cparams.get("name")):
            if value and not filename:
                filename, why = decode_param(value, charset or self.hint)
        filename = clean_text(filename)
        tag = f"part {ctype}{' ' + repr(filename) if filename else ''}"
        self.notes += [f"{tag} filename: {n}" for n in why] + [f"{tag} {n}" for n in gaps]
        mailish = self.depth < MAX_FORWARD_DEPTH and _may_be_mail(ctype, filename)
        if self.originals is not None and not mailish:
            return
        payload = body_bytes(part, self.spans)
        says = filename.strip().lower().endswith(".eml") or ctype.startswith("message/")
        if mailish and looks_like_mail(payload, None if says else 65536):
            self.notes.append(f"forwarded: {tag} is a mail attached as a file")
            if isinstance(part.get_payload(), list):  # message/news etc.: parsed already
                self.forward(part)
            else:
                self.take(bytes(payload))
            return
        if self.originals is not None:
            return
        if ctype.startswith("multipart/"):
            self.notes.append(f"mime: {ctype} without usable boundary; read as text")
            ctype = "text/plain"
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            meta = _META_CHARSET.search(payload[:4096]) if ctype == "text/html" else None
            text, why = decode_bytes(payload, charset, meta and meta.group(1).decode())
            self.notes += [f"{tag} body: {n}" for n in why]
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            if ctype == "text/plain":
                text, files = take_uuencoded(text)
                self.notes += [f"uuencode: {name!r} taken out of the text" for name, _ in files]
                self.files(files)
            (self.plain if ctype == "text/plain" else self.html).append(text)
            return
        if is_tnef(ctype, filename, payload) and self.tnef(payload):
            return  # all of it taken out (else winmail.dat is listed too, below)
        filename = filename or UNNAMED.get(ctype, "")
        cid = str(part.get("content-id") or "").strip().strip("<>").strip() or None
        inline = disposition == "inline" or (
            disposition != "attachment" and bool(cid) and related and ctype.startswith("image/"))
        self.attachments.append(Attachment(filename, ctype, payload, inline, cid))

    def files(self, named: list[tuple[str, bytes]]) -> None:
        """Files taken out of a part (TNEF, uuencode) as attachments, typed by their names."""
        self.attachments += [Attachment(name, mimetypes.guess_type(name)[0] or
                                        "application/octet-stream", data, False, None)
                             for name, data in named]

    def tnef(self, payload: bytes) -> bool:
        """Outlook's winmail.dat: the files in it become attachments, its text the body when
        the mail has none; False when not all of it came out (winmail.dat is kept too)."""
        got = unpack(payload)
        self.notes += got.notes
        self.files(got.files)
        if got.text and not any(t.strip() for t in self.plain):
            self.plain.append(got.text)
        return got.complete


def _may_be_mail(ctype: str, filename: str) -> bool:
    """Whether a leaf part may be a mail attached as a file, as some clients forward or
    attach a saved mail instead of a message/rfc822 part: named .eml, or sent as
    application/octet-stream, application/x-message or message/*.  Only one whose content
    :func:`~mailbot.mimefix.looks_like_mail` is taken for a mail."""
    return filename.strip().lower().endswith(".eml") or ctype in _MAIL_FILE_TYPES \
        or ctype.startswith("message/")


def _date(msg: Message, mp, notes: list[str]) -> datetime | None:
    """Aware Date (:func:`mailbot.dates.mail_date`; mail-parser's lenient value next)."""
    received = [str(value) for key, value in msg.raw_items() if key.lower() == "received"]
    return mail_date(_text_header(msg, "date", None), received,
                     getattr(mp, "date", None) if mp is not None else None, notes)


def _build(msg: Message, mp, notes: list[str], depth: int,
           spans: Spans | None = None) -> ParsedMessage:
    """Convert a parsed MIME tree (and its mail-parser view, if any) into a ParsedMessage."""
    walk = _Walk(notes, depth, spans)
    try:
        walk.walk(msg)
    except Exception as exc:  # noqa: BLE001 - keep the headers when the body defeats us
        notes.append(f"mime: body walk failed ({type(exc).__name__}: {exc})")
    hint = walk.hint
    senders = _addresses(msg, "from", hint, notes)
    sender_name = senders[0][0] if senders else ""
    subject = _text_header(msg, "subject", hint, notes)
    if mp is not None:
        notes += mailparser_notes(mp, subject, sender_name)
    notes += [f"mime: {name}" for name in defect_names(msg)]
    headers: dict[str, str] = {}
    for key, value in msg.raw_items():
        if key.lower() not in headers and len(headers) < 500:
            raw = str(value).encode("utf-8", "surrogateescape")
            headers[key.lower()] = clean_text(decode_header_bytes(raw, hint)[0])
    mid = re.search(r"<([^<>\s]+)>", headers.get("message-id", ""))
    message_id = mid.group(1) if mid else headers.get("message-id", "").strip("<> ") or None
    html = "\n".join(walk.html)
    html_text, hrefs = html_to_text(html) if html else ("", ())
    text = "\n\n".join(t.strip("\n") for t in walk.plain if t.strip())
    reply_to = _addresses(msg, "reply-to", hint, notes)
    return ParsedMessage(
        message_id=message_id and message_id.replace(" ", ""),
        sender=senders[0][1] if senders else None,
        sender_name=sender_name,
        reply_to=reply_to[0][1] if reply_to else None,
        to=tuple(addr for _, addr in _addresses(msg, "to", hint, notes)),
        subject=subject,
        date=_date(msg, mp, notes),
        text=text or html_text,
        html=html,
        hrefs=hrefs,
        attachments=tuple(walk.attachments),
        forwarded=tuple(walk.forwarded),
        headers=headers,
        defects=tuple(dict.fromkeys(notes)),
    )
