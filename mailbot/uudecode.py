"""Files uuencoded into a mail's text, as Outlook Express and old Foxmail sent them.

``begin 666 活动方案.doc``, lines of uuencode, a line ``end``: no MIME part, so the file
would stay a block of gibberish in the text.  :func:`take_uuencoded` takes each such
block out of the text as a file of its own.  Pure; linear in the text (a block that does
not decode is left where it is, as text).
"""

from __future__ import annotations

import binascii
import re

from .charsets import clean_text

_BEGIN = re.compile(r"begin [0-7]{3,4} (\S.*)")
_UU = re.compile(r"[ -`]+")  # the characters uuencode writes


def take_uuencoded(text: str) -> tuple[str, list[tuple[str, bytes]]]:
    """*text* without its uuencoded blocks, and each block's (filename, bytes) in order.

    *text* is a decoded text body with ``\\n`` line ends.  A block is a ``begin <mode>
    <name>`` line, uuencode lines only, and an ``end`` line; anything else between them
    (or no ``end``) leaves the lines as they are."""
    if "begin " not in text:
        return text, []
    lines = text.split("\n")
    kept: list[str] = []
    files: list[tuple[str, bytes]] = []
    i = 0
    while i < len(lines):
        begin = _BEGIN.fullmatch(lines[i].rstrip())
        name = clean_text(begin.group(1)) if begin else ""  # no control characters (ESC...)
        block = _block(lines, i + 1) if name else None
        if block is None:
            kept.append(lines[i])
            i += 1
            continue
        end, data = block
        files.append((name, data))
        i = end + 1
    return "\n".join(kept) if files else text, files


def _block(lines: list[str], start: int) -> tuple[int, bytes] | None:
    """(index of the ``end`` line, decoded bytes) of the uuencode lines from *start*, or
    None at the first line that is neither uuencode nor ``end``."""
    out = bytearray()
    for n in range(start, len(lines)):
        line = lines[n].rstrip("\r")
        if line.rstrip() == "end":
            return n, bytes(out)
        data = _line(line)
        if data is None:
            return None
        out += data
    return None


def _line(line: str) -> bytes | None:
    """One uuencode line decoded; None when it is not one.  Encoders that drop trailing
    spaces or add a character are accepted (the stdlib ``uu`` module's allowance)."""
    if not line:
        return b""
    if not _UU.fullmatch(line):
        return None
    count = (ord(line[0]) - 32) & 63
    if len(line) > (count + 2) // 3 * 4 + 3:
        return None
    try:
        return binascii.a2b_uu(line)
    except binascii.Error:
        try:
            return binascii.a2b_uu(line[:(count * 4 + 5) // 3])
        except binascii.Error:
            return None
