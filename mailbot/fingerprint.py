"""What identifies one mail across deliveries: its Message-ID, and its content without the
trace fields a delivery adds.  Pure helpers over the raw bytes, read without a full parse.
"""

from __future__ import annotations

import re

from .filing import sha256

TRACE = (b"received", b"return-path", b"delivered-to", b"x-original-to", b"x-delivered-to")


def _fields(raw: bytes) -> tuple[list[bytes], bytes]:
    """The header fields (folded lines joined) and the body, line ends made LF."""
    text = raw.replace(b"\r\n", b"\n")
    head, _, body = text.partition(b"\n\n")
    fields: list[bytes] = []
    for line in head.split(b"\n"):
        if fields and line[:1] in (b" ", b"\t"):
            fields[-1] += b"\n" + line
        else:
            fields.append(line)
    return fields, body


def content_hash(raw) -> str:
    """sha256 of the mail minus the trace fields a delivery adds, line ends made LF:
    equal for two deliveries of one mail (and for its mbox export)."""
    return sha256(_without_trace(bytes(raw)))


def _without_trace(raw: bytes) -> bytes:
    """The mail minus the trace fields a delivery adds: equal for two deliveries of one mail."""
    fields, body = _fields(raw)
    kept = [f for f in fields if f.split(b":", 1)[0].strip().lower() not in TRACE]
    return b"\n".join(kept) + b"\n\n" + body


_ANGLE_ID = re.compile(rb"<([^<>\s]+)>")
_HEADER_END = re.compile(rb"\n\r?\n")  # where _fields' partition will cut, CRLF or not


def peek_message_id(raw: bytes) -> str | None:
    """The Message-ID from the header block, read without a full parse: only the first
    ``<...>`` token of the field (comments, encoded words and trailing text around it are
    not part of the id); a field without one gives its first word."""
    head = raw[:262144]
    end = _HEADER_END.search(head)
    fields, _ = _fields(head[:end.end()] if end else head)  # the header block only
    for f in fields:
        name, _, value = f.partition(b":")
        if name.strip().lower() == b"message-id":
            value = value.replace(b"\n", b"")
            token = _ANGLE_ID.search(value)
            words = value.split()
            found = token.group(1) if token else words[0].strip(b"<>") if words else b""
            return found.decode("ascii", "replace") or None
    return None
