"""Repairs and cross-checks around the stdlib MIME parse (used by :mod:`mailbot.parse`).

Header-block damage that would end the headers early, absurdly long fields
(the stdlib's parameter and RFC 2047 parsers are quadratic), mail-parser's
reading of the header as a cross-check, the defects the stdlib noted, a leaf's body bytes
decoded where the stdlib would lose some, and writing a parsed message back with its bodies
as kept (a forwarded mail as a mail of its own).
Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import io
import quopri
import re
import unicodedata
from email.errors import InvalidBase64LengthDefect
from email.generator import BytesGenerator
from email.message import Message

import mailparser

from .spans import Spans

MAX_FIELD = 65536  # characters kept of one header field (see clamp_headers)
HEADER_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")
_WS = re.compile(r"[ \t\r\n]+")
_B64_NOT = re.compile(rb"[^A-Za-z0-9+/=]+")
_B64_PIECE = re.compile(rb"[A-Za-z0-9+/]+=*")
_PAD_THEN_DATA = re.compile(rb"=[A-Za-z0-9+/]")
_SNIFF = 65536  # bytes of an attached file searched for a mail's header block
_MAIL_FIELDS = frozenset({b"date", b"subject", b"message-id", b"mime-version", b"received", b"to"})
_UNFOLD = re.compile(rb"\r?\n(?=[ \t])")
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_CROSS_CHECKED = frozenset({"subject", "from", "date"})  # what mail-parser is asked about


def repair_header_block(data: bytes, notes: list[str]) -> bytes:
    """Fix header-block damage that makes the stdlib end the headers early.

    ``Name  : value`` (obsolete syntax) loses the blanks before the colon; a
    line that is no header field is dropped when a field or a continuation
    line follows it.  Otherwise the stdlib turns the rest of the headers
    (From, Subject, Content-Type...) into body text.
    """
    blank = re.search(rb"\n\r?\n", data)
    end = blank.start() + 1 if blank else len(data)
    lines, out, before = data[:end].splitlines(keepends=True), [], len(notes)
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else b""
        if (i == 0 and line.startswith(b"From ")) or line[:1] in b" \t":
            out.append(line)
        elif m := HEADER_LINE.match(line):
            if m.group(0)[-2:-1] in b" \t":
                notes.append("header: blanks before ':' removed")
                line = re.sub(rb"[ \t]+:", b":", line, count=1)
            out.append(line)
        elif HEADER_LINE.match(nxt) or nxt[:1] in b" \t":
            notes.append(f"header: stray line dropped: {line.strip()[:60]!r}")
        else:
            out += lines[i:]
            break
    return b"".join(out) + data[end:] if len(notes) > before else data


def looks_like_mail(data: bytes, window: int | None = _SNIFF) -> bool:
    """Whether *data* (the decoded content of an attached file) is a mail: after an
    optional mbox "From " line, its first bytes are a header block (every line a header
    field or a continuation line) ended by an empty line within the first *window* bytes
    (64 KB; None: anywhere, for a file that says it is a mail: padding its header must not
    hide what it carries), with a From field holding an address (an "@") and at least two
    of Date, Subject, Message-ID, MIME-Version, Received and To.  False for anything else:
    a document, a text that does not start so, a page a browser saved as MHTML (its From
    names no address)."""
    head = bytes(data[:window] if window else data)
    if head.startswith(b"From "):
        head = head.partition(b"\n")[2]
    end = _BLANK_LINE.search(head)
    if end is None or end.start() == 0:
        return False
    fields: dict[bytes, bytes] = {}
    for line in _UNFOLD.sub(b"", head[:end.start()]).split(b"\n"):
        if (m := HEADER_LINE.match(line)) is None:
            return False
        fields.setdefault(m.group(0)[:-1].rstrip(b" \t").lower(), line[m.end():])
    return b"@" in fields.get(b"from", b"") and len(_MAIL_FIELDS & fields.keys()) >= 2


def mailparser_view(msg: Message, notes: list[str]):
    """mail-parser's reading of *msg*'s header (a cross-check: subject, sender, date),
    or None when it fails.  It is given those three fields only: walking the body
    again (it re-encodes every attachment), parsing Received lines and every address
    list cost more than the rest of the parse; MIME defects are collected from the
    stdlib tree instead (see :func:`defect_names`)."""
    head = Message()
    head._headers = [(k, v) for k, v in msg._headers if k.lower() in _CROSS_CHECKED]
    head.set_payload("")
    try:
        return mailparser.MailParser(head)
    except Exception as exc:  # noqa: BLE001 - MailParserRecursionError and anything unforeseen
        notes.append(f"mime: mail-parser failed ({type(exc).__name__}); stdlib parser used")
        return None


def clamp_headers(msg: Message, notes: list[str]) -> None:
    """Cut every header field of every part to MAX_FIELD characters, in place.

    The stdlib's parameter parser and RFC 2047 decoder (used by mail-parser and
    by ``get_params``) are quadratic: one 2 MB Content-Type or Subject costs
    minutes.  No real field comes near the limit; a cut one is noted.
    """
    stack = [msg]
    while stack:  # iterative: the tree may be nested deeper than the recursion limit
        part = stack.pop()
        headers = getattr(part, "_headers", [])
        for i, (name, value) in enumerate(headers):
            if isinstance(value, str) and len(value) > MAX_FIELD:
                cut = value[:MAX_FIELD]
                keep = max(cut.rfind(";"), cut.rfind(" "), cut.rfind("\t"))
                headers[i] = (name, cut[:keep] if keep > MAX_FIELD // 2 else cut)
                notes.append(f"header: {name} of {len(value)} characters cut to {MAX_FIELD}")
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack.extend(p for p in payload if isinstance(p, Message))


def mailparser_notes(mp, subject: str, sender_name: str) -> list[str]:
    """Where mail-parser alone would have been wrong, and the defects it saw."""

    def norm(text: object) -> str:
        return _WS.sub("", unicodedata.normalize("NFC", str(text)))

    try:
        theirs = mp.subject[0] if isinstance(mp.subject, list) else mp.subject or ""
        notes = [f"subject: mail-parser garbled it as {theirs!r}"] \
            if norm(theirs) != norm(subject) else []
        name = (mp.from_ or [("", "")])[0][0]
        if sender_name and norm(name) != norm(sender_name):
            notes.append(f"from: mail-parser garbled the name as {name!r}")
        return notes
    except Exception as exc:  # noqa: BLE001 - only a cross-check
        return [f"mime: mail-parser view unavailable ({type(exc).__name__})"]


def defect_names(msg: Message) -> list[str]:
    """Sorted class names of the defects the stdlib parser found anywhere in *msg*."""
    names, stack, seen = set(), [msg], 0
    while stack and seen < 100000:
        part, seen = stack.pop(), seen + 1
        names.update(type(d).__name__ for d in getattr(part, "defects", ()))
        payload = part._payload if isinstance(part, Message) else None
        if isinstance(payload, list):
            stack.extend(p for p in payload if isinstance(p, Message))
    return sorted(names)


class _AsParsed(BytesGenerator):
    """Writes a message back with each body as the parser kept it, line ends and all (the
    stdlib's generator rewrites them: the quoted-printable soft break Foxmail writes as
    "=\\r\\r\\n" came back as a line break inside a character), and text that is not
    ASCII (a boundary given in RFC 2231 form) as UTF-8."""

    def write(self, s: str) -> None:
        self._fp.write(s.encode("utf-8", "surrogateescape"))

    def _handle_text(self, msg: Message) -> None:
        if isinstance(msg._payload, str):
            self.write(msg._payload)
        else:
            super()._handle_text(msg)

    _writeBody = _handle_text

    def _handle_multipart(self, msg: Message) -> None:
        if isinstance(msg._payload, str):  # no usable boundary: its body, as kept
            self.write(msg._payload)
        else:
            super()._handle_multipart(msg)


def written_back(msg: Message, linesep: str) -> bytes:
    """*msg* as bytes, every body as the parser kept it (see :class:`_AsParsed`), lines
    ended with *linesep*."""
    out = io.BytesIO()
    _AsParsed(out, mangle_from_=False, policy=msg.policy.clone(linesep=linesep)).flatten(msg)
    return out.getvalue()


def base64_pieces(encoded: bytes) -> bytes | None:
    """The bytes of a base64 body sent as several padded pieces one after the other (some
    gateways and phone clients join encoded chunks as they are), each piece decoded on its
    own; None when no padding is followed by more data.  The stdlib stops at the first
    padding and drops the rest of the file without a word."""
    if b"=" not in encoded.rstrip().rstrip(b"="):  # the usual body: padding at most at the end
        return None
    clean = _B64_NOT.sub(b"", encoded)
    if not _PAD_THEN_DATA.search(clean):
        return None
    out = []
    for piece in _B64_PIECE.findall(clean):
        body = piece.rstrip(b"=")
        body = body[:-1] if len(body) % 4 == 1 else body  # a stray character: as the stdlib
        out.append(binascii.a2b_base64(body + b"=" * (-len(body) % 4)))
    return b"".join(out)


def body_bytes(part: Message, spans: Spans | None = None) -> bytes:
    """Transfer-decoded body bytes of a leaf part, exactly as sent (bodies *spans* took
    out are read back from the original message; a bytearray for a spooled one)."""
    if isinstance(part.get_payload(), list):  # message/delivery-status etc.: header blocks
        body = part.as_bytes().partition(b"\n\n")[2]
        return spans.restore(body) if spans and spans.present(body) else body
    raw = part._payload  # compat32 keeps the wire bytes as surrogate-escaped text
    if spans is not None and isinstance(raw, str) and spans.present(raw):
        where = spans.sole(raw)
        if where and str(part.get("content-transfer-encoding", "")).lower() == "base64":
            data = spans.decode_base64(*where)
            if data is not None:
                return data
        part.set_payload(spans.restore(raw.encode("ascii", "surrogateescape"))
                         .decode("ascii", "surrogateescape"))
    data = part.get_payload(decode=True) or b""  # undoes the encodings the stdlib recognises
    cte = str(part.get("content-transfer-encoding", "")).lower()
    if cte.strip() == "base64" and isinstance(part._payload, str) and \
            (joined := base64_pieces(part._payload.encode("ascii", "surrogateescape"))) is not None:
        return joined
    cut = any(isinstance(d, InvalidBase64LengthDefect) for d in part.defects)  # 4n+1 chars
    if cte.strip() == cte and not cut:
        return data
    if cte.strip() == "base64":  # " base64", or cut short: the stdlib returned the encoded text
        data = re.sub(rb"[^A-Za-z0-9+/]", b"", data.split(b"=", 1)[0])
        data = data[:-1] if len(data) % 4 == 1 else data
        return base64.b64decode(data + b"=" * (-len(data) % 4))
    return quopri.decodestring(data) if cte.strip() == "quoted-printable" else data
