"""Outlook's winmail.dat (TNEF): the files and the text inside it.

Outlook on an Exchange server, writing in "rich text", sends its attachments packed in one
``application/ms-tnef`` part named winmail.dat, which no other mail client opens: a plan
sent so would be neither read nor filed.  :func:`unpack` takes the files out (through
tnefparse), with their names decoded in the sender's code page (GBK in China: tnefparse
itself reads an attachment title as UTF-8), and the message text when Outlook put it there.
Pure: bytes in, plain data out; never raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tnefparse import TNEF

from .charsets import clean_text, decode_bytes
from .htmltext import html_to_text

SIGNATURE = b"\x78\x9f\x3e\x22"  # 0x223E9F78, little-endian
TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
MAX_DEPTH = 3  # Outlook messages attached inside attached messages, taken apart


@dataclass
class Unpacked:
    files: list[tuple[str, bytes]] = field(default_factory=list)  # (filename, bytes)
    text: str = ""
    notes: list[str] = field(default_factory=list)
    complete: bool = False  # everything inside was taken out


def is_tnef(content_type: str, filename: str, payload: bytes) -> bool:
    """Whether a part is a TNEF container: its bytes start with the TNEF signature, and it is
    labelled TNEF, named winmail.dat, or left untyped (octet-stream)."""
    return payload[:4] == SIGNATURE and (
        content_type in TYPES or filename.lower().strip() in ("winmail.dat", "win.dat")
        or content_type == "application/octet-stream")


def unpack(payload: bytes) -> Unpacked:
    """The files and text inside the TNEF *payload*; notes say what could not be read, and
    ``complete`` False that the caller must keep winmail.dat itself too."""
    out = Unpacked()
    if not _framed(payload):  # tnefparse would hand out a cut file as if whole
        out.notes.append("tnef: winmail.dat cut short or damaged; kept as sent")
        return out
    try:
        tnef = TNEF(payload, do_checksum=False)
        codepage = tnef.codepage or "cp1252"
        whole = _take(tnef, codepage, out, 0)
        out.text = _text(tnef, codepage)
    except Exception as exc:  # noqa: BLE001 - a damaged container: keep it whole
        out.notes.append(f"tnef: winmail.dat unreadable ({type(exc).__name__}); kept as sent")
        return Unpacked(notes=out.notes)
    out.complete = whole and bool(out.files or out.text)
    out.notes.append(f"tnef: winmail.dat unpacked: {len(out.files)} file(s)"
                     + (", message text" if out.text else "") if out.files or out.text else
                     "tnef: winmail.dat holds no file or text that can be read; kept as sent")
    return out


def _take(tnef: TNEF, codepage: str, out: Unpacked, depth: int) -> bool:
    """Add the files of *tnef* to *out*, and those of the Outlook messages attached in it
    (an item forwarded "as attachment"; *depth* levels in, at most :data:`MAX_DEPTH`);
    False when something stays inside only (an embedded message's own text, an empty or
    unreadable item)."""
    whole = True
    for n, att in enumerate(tnef.attachments, 1):
        embed = getattr(att, "embed", None)
        if embed is not None and not _framed(att.data):  # it too would give cut files
            out.notes.append(f"tnef: item {n} is an embedded Outlook message cut short or "
                             "damaged; winmail.dat kept too")
            whole = False
        elif embed is not None and depth < MAX_DEPTH:
            before = len(out.files)
            _take(embed, embed.codepage or codepage, out, depth + 1)
            out.notes.append(f"tnef: item {n} is an embedded Outlook message: "
                             f"{len(out.files) - before} file(s) taken out, winmail.dat kept too")
            whole = False  # its text and sender are only in winmail.dat
        elif embed is not None or not att.data:
            out.notes.append(f"tnef: item {n} is empty or an Outlook message nested too deep; "
                             "winmail.dat kept too")
            whole = False
        else:
            out.files.append((_name(att, codepage, out.notes), bytes(att.data)))
    return whole


def _framed(payload: bytes) -> bool:
    """Whether the TNEF attributes (level, id, type, length, data, checksum) tile *payload*
    exactly after its 6-byte header, short of zero padding."""
    pos = 6
    while pos + 9 <= len(payload):
        if not any(payload[pos:pos + 9]) and not any(payload[pos:]):
            return True
        pos += 9 + int.from_bytes(payload[pos + 5:pos + 9], "little") + 2
    return pos == len(payload) or pos < len(payload) and not any(payload[pos:])


def _name(att, codepage: str, notes: list[str]) -> str:
    """The attachment's long file name if Outlook gave one (MAPI, already text), else its
    title in the message's code page."""
    try:
        long = att.long_filename()
    except UnicodeError:
        long = None
    if isinstance(long, str) and long.strip("\x00").strip():
        return clean_text(long.strip("\x00"))
    raw = getattr(att, "_name", b"")
    if isinstance(raw, str):
        return clean_text(raw.strip("\x00"))
    text, why = decode_bytes(raw.rstrip(b"\x00"), codepage)
    notes.extend(f"tnef: file name: {w}" for w in why)
    return clean_text(text)


def _text(tnef: TNEF, codepage: str) -> str:
    """Outlook's plain body, else its HTML body as text ("" when it sent only RTF)."""
    for body, html in ((tnef.body, False), (tnef.htmlbody, True)):
        if not body:
            continue
        text = body if isinstance(body, str) else decode_bytes(body, codepage)[0]
        text = text.strip("\x00").replace("\r\n", "\n")
        text = html_to_text(text)[0] if html else text
        if text.strip():
            return text
    return ""
