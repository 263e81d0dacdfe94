"""Take the bulk out of a raw message before the MIME parser sees it.

The stdlib parser feeds a message line by line: a 10 MB base64 video costs it
130,000 Python-level line steps and several copies.  :func:`reduce` replaces
each large run of body text with a short token and returns :class:`Spans`,
which maps the tokens back to byte ranges of the original buffer, so a part's
body is restored — and decoded — straight from there.

A run is replaced only where the parser can only be reading body text: it
starts after the first blank line that follows a line beginning with ``-``
(or the start of the message), and it holds no line beginning with ``-`` (so
no boundary) and no ``:`` (so no header field).  The tree the parser builds is therefore the same.

Pure: works on ``bytes`` or a read-only ``mmap``; with *drop* given, pages of
an ``mmap`` are released as the scan moves on, so memory stays bounded.
"""

from __future__ import annotations

import binascii
import re
import secrets
from collections.abc import Callable

import pybase64

__all__ = ["MIN_SPAN", "Spans", "reduce"]

MIN_SPAN = 16384  # bytes: smaller bodies are cheap for the parser
WINDOW = 2**20  # bytes scanned or decoded at a time on an mmap
_HEADER_LIMIT = 65536  # a part header longer than this is left to the parser
_B64_JUNK = b"\r\n"
_TOKEN = re.compile(rb"MBSPAN([0-9a-f]{12})(\d{8})ZZ")  # the nonce is 6 random bytes in hex


class Spans:
    """Tokens standing for byte ranges of *buf*; see :func:`reduce`."""

    def __init__(self, buf, nonce: str, ranges: list[tuple[int, int]],
                 drop: Callable[[int], None] | None = None):
        self.buf, self.nonce, self.ranges, self.drop = buf, nonce, ranges, drop
        self._nonce = nonce.encode()

    def token(self, index: int) -> bytes:
        return b"MBSPAN%s%08dZZ" % (self.nonce.encode(), index)

    def present(self, text: str | bytes) -> bool:
        """Whether *text* (a part's undecoded payload) holds any of these tokens."""
        marker = "MBSPAN" + self.nonce
        return (marker.encode() if isinstance(text, bytes) else marker) in text

    def restore(self, data: bytes) -> bytes:
        """*data* with every token put back to the original bytes."""
        return _TOKEN.sub(lambda m: bytes(self._slice(int(m.group(2))))
                          if m.group(1) == self._nonce else m.group(0), data)

    def sole(self, text: str) -> tuple[int, int] | None:
        """The byte range when *text* is exactly one token (blanks around it allowed)."""
        m = _TOKEN.fullmatch(text.strip().encode("ascii", "replace"))
        return self.ranges[int(m.group(2))] if m and m.group(1) == self._nonce else None

    def _slice(self, index: int):
        start, end = self.ranges[index]
        return self.buf[start:end]

    def decode_base64(self, start: int, end: int) -> bytes | bytearray | None:
        """Base64-decode ``buf[start:end]``; None when pybase64 refuses it (bad
        padding) or padding is followed by more data, so the caller falls back to the
        stdlib's lenient decoder (and to :func:`~mailbot.mimefix.base64_pieces`).

        In memory: one call, characters outside the alphabet skipped as the
        stdlib does.  On an mmap with *drop*: window by window into a bytearray,
        and only clean base64 (alphabet, line ends, final padding) is taken.
        """
        if self.drop is None:
            pad = self.buf.find(b"=", start, end)  # padding before more data: pieces joined
            if pad != -1 and bytes(self.buf[pad:end]).translate(None, b"= \t\r\n"):
                return None  # (mimefix.base64_pieces); pybase64 would decode them as garbage
            try:
                return pybase64.b64decode(memoryview(self.buf)[start:end], validate=False)
            except (binascii.Error, ValueError):
                return None
        out = bytearray((end - start) // 4 * 3 + 3)
        filled, carry, pos = 0, b"", start
        while pos < end:
            stop = min(pos + WINDOW, end)
            chunk = carry + bytes(self.buf[pos:stop]).translate(None, _B64_JUNK)
            if self.drop:
                self.drop(stop)
            keep = len(chunk) if stop == end else len(chunk) - len(chunk) % 4
            try:
                piece = pybase64.b64decode(chunk[:keep], validate=True)
            except (binascii.Error, ValueError):
                return None
            out[filled:filled + len(piece)] = piece
            filled, carry, pos = filled + len(piece), chunk[keep:], stop
        del out[filled:]
        return out


def _find(buf, needle: bytes, start: int, end: int, drop) -> int:
    """``buf.find(needle, start, end)``, window by window when pages can be dropped."""
    if drop is None:
        return buf.find(needle, start, end)
    pos = start
    while pos < end:
        stop = min(pos + WINDOW, end)
        hit = buf.find(needle, pos, min(stop + len(needle) - 1, end))
        if hit >= 0:
            return hit
        drop(stop)
        pos = stop
    return -1


def _next_line_dash(buf, pos: int, end: int, drop) -> int:
    """Index of the next ``-`` that begins a line, at or after *pos*; -1 if none."""
    tries = 0
    while True:
        hit = _find(buf, b"-", pos, end, drop)
        if hit <= 0 or buf[hit - 1] in (10, 13):
            return hit
        tries += 1
        if tries > 10000:  # dash-heavy text: let the slower two-byte searches take over
            hits = [h + 1 for h in (_find(buf, b"\n-", hit, end, drop),
                                    _find(buf, b"\r-", hit, end, drop)) if h >= 0]
            return min(hits) if hits else -1
        pos = hit + 1


def _body_start(buf, seg: int, end: int) -> int:
    """Index just after the first blank line of the part starting at *seg*; -1 if none close."""
    limit = min(end, seg + _HEADER_LIMIT)
    hits = [h + n for h, n in ((buf.find(b"\n\r\n", seg, limit), 3),
                               (buf.find(b"\n\n", seg, limit), 2)) if h >= 0]
    return min(hits) if hits else -1


def reduce(buf, start: int = 0, min_span: int | None = None,
           drop: Callable[[int], None] | None = None) -> tuple[bytes, Spans]:
    """``buf[start:]`` with each large body run replaced by a token, and the token map.

    Contract: parsing the result gives the same MIME tree as parsing
    ``buf[start:]``, except that those bodies read as tokens, which
    :meth:`Spans.restore` (or :meth:`Spans.sole`) turns back into their bytes.
    """
    end, nonce, min_span = len(buf), secrets.token_hex(6), min_span or MIN_SPAN
    pieces: list[bytes] = []
    ranges: list[tuple[int, int]] = []
    copied = seg = start
    spans = Spans(buf, nonce, ranges, drop)
    while seg < end:
        nxt = _next_line_dash(buf, seg + 1, end, drop)
        stop = end if nxt < 0 else nxt
        tail = stop
        while tail > seg and buf[tail - 1] in (10, 13):
            tail -= 1
        if tail - seg >= min_span:
            head = _body_start(buf, seg, tail)
            if head >= 0 and tail - head >= min_span and _find(buf, b":", head, tail, drop) < 0:
                pieces += [bytes(buf[copied:head]), spans.token(len(ranges))]
                ranges.append((head, tail))
                copied = tail
        if nxt < 0:
            break
        seg = nxt
    pieces.append(bytes(buf[copied:end]))
    return b"".join(pieces), spans
