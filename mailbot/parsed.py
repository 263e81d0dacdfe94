"""What :func:`mailbot.parse.parse_message` gives: plain, fully decoded dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


class ParseError(ValueError):
    """The input is not an email message at all (empty, binary, no header block)."""


@dataclass(frozen=True)
class Attachment:
    """One non-body MIME part.  ``payload`` is byte-identical to the sent file;
    ``filename`` is decoded ("" if the sender gave none; a meeting request or a vCard
    sent unnamed is named by its type, :data:`mailbot.parse.UNNAMED`); ``content_type`` is
    lowercased ``type/subtype``; ``inline`` is true for Content-Disposition
    inline, or for an image with a Content-ID inside multipart/related unless
    explicitly disposed as ``attachment``; ``content_id`` has no ``<>``."""

    filename: str
    content_type: str
    payload: bytes
    inline: bool
    content_id: str | None


@dataclass(frozen=True)
class ParsedMessage:
    """A decoded message.  Addresses are lowercased; ``date`` is aware
    (+08:00 assumed when the header has no zone) or None; ``text`` is the
    text/plain parts joined, or text extracted from HTML when there is no
    plain text; ``hrefs`` are the ``<a href>`` targets of the HTML bodies, in
    order, de-duplicated; ``forwarded`` holds attached message/rfc822 parts and
    mails attached as files (see :func:`mailbot.parse._may_be_mail`), parsed recursively (not
    repeated in ``attachments``); ``headers`` maps lower-cased names to the
    decoded first occurrence; ``defects`` describes what was wrong with the input
    and how it was recovered."""

    message_id: str | None
    sender: str | None
    sender_name: str
    reply_to: str | None
    to: tuple[str, ...]
    subject: str
    date: datetime | None
    text: str
    html: str
    hrefs: tuple[str, ...]
    attachments: tuple[Attachment, ...]
    forwarded: tuple[ParsedMessage, ...]
    headers: dict[str, str]
    defects: tuple[str, ...]
