"""The envelope every mail mailbot writes shares: sender, date, Message-ID, loop headers.

RFC 3834: ``Auto-Submitted`` (auto-replied for answers, auto-generated for
digests), ``Precedence: bulk``, ``X-Auto-Response-Suppress: All`` and an
``X-Loop`` naming our address, so robots do not answer us and we can spot
our own mail coming back.  Everything is written in UTF-8.

Mail is built on :data:`OUTGOING`: the stdlib's compat32 header handling (values kept
as given, folded by :mod:`email.header`) with the modern content manager, so
``set_content``, ``add_attachment`` and ``get_body`` work as usual.  Building and
writing a receipt so takes about a fifth of the time ``email.policy.SMTP`` needs (its
header parser dominated a large intake); in exchange every non-ASCII header is
encoded here (:func:`header`), and a line break in any value is refused as the
modern policy would.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from email._policybase import Compat32
from email.contentmanager import raw_data_manager
from email.header import Header, decode_header, make_header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses
from zoneinfo import ZoneInfo

from .config import Config

# C0 and C1 controls (U+0085 ends a line) and U+2028/U+2029 (line and paragraph separators)
# become blanks; bidi embeddings, overrides and isolates (which make text display reversed) go.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_MSGID = re.compile(r"[!-;=?-~]+@[!-;=?-~]+")
_ONE = r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?="  # an RFC 2047 encoded word
_WORDS = re.compile(rf"{_ONE}(?:\s+{_ONE})*")  # adjacent ones: the blanks between them go
_ADDRESS_HEADERS = frozenset({"from", "to", "cc", "bcc", "reply-to", "sender"})


class _Outgoing(Compat32):
    """compat32 plus the modern content manager (bodies keep ``\\n`` line ends, as with
    ``email.policy.default``; :func:`wire` writes CRLF)."""

    content_manager = raw_data_manager

    def header_store_parse(self, name, value):
        if isinstance(value, str):
            if len(value.splitlines()) > 1:  # any line break (\v, \f, \x1c, U+2028...), as
                raise ValueError("Header values may not contain linefeed or carriage return "
                                 "characters")  # email.policy.default refuses them
            value = header(name, value)
        return name, value

    def _fold(self, name, value, sanitize):
        """Short ASCII values, and long ones without a blank to fold at (a long Message-ID
        in In-Reply-To), go out on one line as written."""
        if isinstance(value, str) and value.isascii() and len(name) + len(value) < 996 and \
                (len(name) + len(value) + 2 <= self.max_line_length or " " not in value):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


OUTGOING = _Outgoing()


def header(name: str, value: str) -> str | Header:
    """*value* as header *name* may carry it: ASCII as is; otherwise RFC 2047 UTF-8 words,
    for an address list the display names only (each address stays readable).  An address
    that is itself not ASCII (人@例子.中国) is written as raw UTF-8 (RFC 6532), the only
    form in which it still reaches its owner."""
    if value.isascii():
        return value
    if name.lower() not in _ADDRESS_HEADERS:
        return Header(value, "utf-8", header_name=name)
    out = []
    for display, address in getaddresses([value]):
        if address.isascii():
            out.append(formataddr((display, address), charset="utf-8"))
        elif address:
            words = Header(display, "utf-8").encode(linesep=" ")  # encoded words, one line
            named = f"{words} <{address}>" if display else address
            out.append(named.encode("utf-8").decode("ascii", "surrogateescape"))  # raw bytes
    return ", ".join(out)


def header_text(mail: EmailMessage, name: str) -> str:
    """Header *name* of a mail built here, as readable text ("" if absent)."""
    value = next((v for k, v in mail.raw_items() if k.lower() == name.lower()), None)
    if value is None:
        return ""
    if isinstance(value, str):
        value = value.encode("ascii", "surrogateescape").decode("utf-8", "replace")
        return _WORDS.sub(_decoded, value)
    return str(value)


def _decoded(words: re.Match) -> str:
    """RFC 2047 words as text; left as written when they do not decode (=?x-foo?...,
    or a lowercased base64 address such as =?utf-8?b?5lq6?=@cdu.edu.cn)."""
    try:
        return str(make_header(decode_header(words.group(0))))
    except (ValueError, LookupError):  # UnicodeDecodeError, binascii.Error, unknown charset
        return words.group(0)


def wire(mail: EmailMessage) -> bytes:
    """*mail* as sent over SMTP (CRLF line ends).  Each multipart without a boundary gets
    a random one starting "=_", which base64 and quoted-printable never write (the
    stdlib's own choice compiles a pattern to search the whole body for it)."""
    for part in mail.walk():
        if part.is_multipart() and part.get_boundary() is None:
            part.set_boundary(f"=_{secrets.token_hex(12)}")
    return mail.as_bytes(policy=mail.policy.clone(linesep="\r\n"))


def set_bodies(mail: EmailMessage, text: str, html: str | None = None) -> None:
    """Give *mail* its *text* and, if given, an *html* alternative, in base64 UTF-8: what
    the content manager picks for Chinese text anyway, without encoding every body as
    quoted-printable first to compare the two (a tenth of a receipt's cost)."""
    mail.set_content(text, cte="base64")
    if html is not None:
        mail.add_alternative(html, subtype="html", cte="base64")


def safe_subject(text: str) -> str:
    """A subject that folds and displays as written: C0/C1 controls and line/paragraph
    separators become blanks, bidi overrides are dropped, nothing looks like an encoded word."""
    return _BIDI.sub("", _CONTROL.sub(" ", text)).replace("=?", "=\u200b?").strip()


def safe_msgid(value: str | None) -> str | None:
    """The plain ``local@domain`` inside a (possibly garbled) Message-ID, or None."""
    m = _MSGID.search(value or "")
    return m.group(0) if m else None


def domain(cfg: Config) -> str:
    """The domain of our own address, for Message-IDs."""
    return (cfg.smtp.from_address or cfg.mailbox.username).rpartition("@")[2] or "mailbot"


def outgoing(cfg: Config, to: str, subject: str, local_id: str, now: datetime,
             auto: str = "auto-replied", replying_to: str | None = None) -> EmailMessage:
    """A new mail from us to *to*; Message-ID ``<local_id@our domain>`` (stable for retries);
    *replying_to* (a Message-ID without <>) threads it under the sender's mail."""
    mail = EmailMessage(policy=OUTGOING)
    mail["From"] = formataddr((cfg.smtp.from_name, cfg.smtp.from_address))
    mail["To"] = to
    mail["Subject"] = safe_subject(subject)
    mail["Date"] = format_datetime(now.astimezone(ZoneInfo(cfg.campaign.timezone)))
    mail["Message-ID"] = f"<{local_id}@{domain(cfg)}>"
    if replying_to := safe_msgid(replying_to):
        mail["In-Reply-To"] = f"<{replying_to}>"
        mail["References"] = f"<{replying_to}>"
    mail["Auto-Submitted"] = auto
    mail["Precedence"] = "bulk"
    mail["X-Auto-Response-Suppress"] = "All"
    mail["X-Loop"] = cfg.smtp.from_address or domain(cfg)
    return mail
