"""Charset recovery and text decoding for mail written by Chinese clients.

Pure functions, no I/O.  Every decoder returns the text together with a
list of human-readable notes describing anything that had to be recovered,
so that callers can record what was wrong with a message without losing it.

What is recovered (all of it silently garbled by mail-parser/compat32):

* labels ``gb2312``/``gbk``/``cp936``/... holding GBK- or GB18030-only
  characters (喆 镕 𠀀): decoded as GB18030, the superset every client uses;
* UTF-8 under such a label: long text when it is valid UTF-8; a short name or
  subject when read as UTF-8 it is common Chinese and as GBK it is not
  (UTF-8 "王伟" read as GBK is "鐜嬩紵");
* GBK under a Latin-1 label (or a Latin-1 body's label used as the hint for raw
  8-bit headers): taken as GBK when every 8-bit byte pairs into common Chinese,
  which Latin-1 text never does ("très" has a lone 0xE8);
* raw 8-bit header bytes (no encoded-words), tried as UTF-8, then the
  part's declared charset, then GB18030 or Big5, then charset-normalizer;
* text with no charset that reads as both GB18030 and Big5 (almost any Big5
  does): the one reading more of its codec's common characters wins, GB18030
  on a tie (Big5 "活動方案" as GBK is "\ue0bc笆よ\ue1ae");
* RFC 2047 words split in the middle of a multibyte character (adjacent
  words in the same charset are joined as bytes before decoding);
* RFC 2047 words inside quoted parameters and display names;
* RFC 2231 parameters (continuations, any charset) via :func:`header_params`
  and :func:`decode_param`; address headers via :func:`decode_addresses`;
* address headers the stdlib parser cannot take (it recurses once per level of
  nested ``(comments)``: 5,000 levels raise RecursionError): the address is then
  found by pattern, with a note, instead of the whole mail failing.

"""

from __future__ import annotations

import base64
import binascii
import codecs
import email.utils
import re
from email.message import Message

from charset_normalizer import from_bytes

__all__ = [
    "clean_text", "decode_addresses", "decode_bytes", "decode_header_bytes", "decode_param",
    "header_params", "normalise_charset",
]

# Label -> codec that really decodes what senders label that way (WHATWG does
# the same for gb2312/gbk/big5/ks_c_5601/iso-8859-1).
_ALIASES = {
    **dict.fromkeys((
        "gb2312", "gb_2312", "gb_2312-80", "csgb2312", "gbk", "x-gbk", "cp936", "ms936",
        "windows-936", "euc-cn", "euccn", "x-euc-cn", "chinese", "iso-ir-58", "gb18030",
        "gb18030-2000", "gb18030-2005",
    ), "gb18030"),
    **dict.fromkeys((
        "big5", "x-big5", "cn-big5", "csbig5", "big5-hkscs", "big5hkscs",
    ), "big5hkscs"),
    **dict.fromkeys((
        "ks_c_5601-1987", "ks_c_5601", "euc-kr", "csksc56011987", "korean",
    ), "cp949"),
    **dict.fromkeys((
        "shift_jis", "shift-jis", "x-sjis", "sjis", "ms_kanji", "csshiftjis",
    ), "cp932"),
    **dict.fromkeys((
        "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "cp1252",
    ), "cp1252"),
    **dict.fromkeys((
        "us-ascii", "ascii", "us", "ansi_x3.4-1968", "646",
    ), "ascii"),
    **dict.fromkeys((
        "utf8", "utf-8", "unicode-1-1-utf-8", "x-unicode20utf8",
    ), "utf-8"),
}
_NO_CHARSET = {"", "unknown-8bit", "unknown", "x-unknown", "8bit", "default", "x-user-defined"}
# Python codecs that are not text encodings a mail label may name.
_UNSAFE = {"base64", "bz2", "hex", "quopri", "rot-13", "rot13", "uu", "zlib", "idna",
           "punycode", "undefined", "unicode-escape", "raw-unicode-escape", "mbcs",
           "unicode-internal", "palmos", "oem"}
_GUESSES = ("utf-8", "gb18030", "big5hkscs")
_ASCII = bytes(range(128))
_DOUBLE = re.compile(rb"[\x81-\xfe][\x80-\xfe]")


def normalise_charset(label: str | None) -> str | None:
    """Return the Python codec name to decode text labelled ``label`` with.

    Returns None when the label is absent, means "unknown", or names no
    usable text codec (the caller should then guess).
    """
    if not label:
        return None
    name = str(label).strip().strip("\"'").lower().split("*", 1)[0]
    if name in _NO_CHARSET:
        return None
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return None
    if info.name in _UNSAFE or not getattr(info, "_is_text_encoding", True):
        return None
    return _ALIASES.get(info.name, info.name)


def _codec_name(label: str) -> str | None:
    """Python's own codec name for ``label`` without our aliases (None if unknown)."""
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError, TypeError):
        return None


def _strict(data: bytes, codec: str) -> str | None:
    """Decode strictly; None on failure or if the result is not valid Unicode."""
    try:
        text = data.decode(codec)
        text.encode("utf-8")
    except Exception:  # noqa: BLE001 - codecs raise LookupError, UnicodeError, ValueError...
        return None
    return text


def _writes(data: bytes, codec: str, charset: str) -> bool:
    """Whether *data* read as *codec* is ASCII and CJK text that *charset* can write
    (GB2312: common Chinese)."""
    text = _strict(data, codec)
    return text is not None and all(c < "\x80" or c >= "\u2e80" for c in text) \
        and text.encode(charset, "replace") == text.encode(charset, "ignore")


def decode_bytes(data: bytes, declared: str | None = None,
                 hint: str | None = None) -> tuple[str, list[str]]:
    """Decode ``data`` labelled ``declared`` (may be None) into text.

    ``hint`` is a charset to try before the GB18030/Big5 guesses when the
    label fails (e.g. the part's body charset for a raw 8-bit header).
    Never raises.  Returns ``(text, notes)``; ``notes`` is empty when the
    bytes decoded cleanly as labelled.
    """
    if not data:
        return "", []
    label = (declared or "").strip().strip("\"'").lower()
    codec = normalise_charset(declared)
    high = len(data[:4096].translate(None, _ASCII)) if codec and codec != "utf-8" else 0
    if codec in ("cp1252", "ascii") and high or codec in ("gb18030", "big5hkscs") and high >= 8 \
            or codec == "gb18030" and high and _writes(data, "utf-8", "gbk") \
            and not _writes(data, codec, "gb2312"):
        text = _strict(data, "utf-8")  # UTF-8 under a legacy label; GBK is rarely valid UTF-8
        if text is not None:
            return text, [f"labelled {label} but is UTF-8; decoded as utf-8"]
    if codec == "cp1252" and high and _writes(data, "gb18030", "gb2312"):  # every high byte
        return data.decode("gb18030"), [f"labelled {label} but is GBK; decoded as gb18030"]
    if codec:
        text = _strict(data, codec)
        if text is not None:
            own = _codec_name(label) if label else codec
            if own is None:
                return text, [f"label {label} unknown to Python; decoded as {codec}"]
            if own != codec and _strict(data, label) != text:
                why = f"labelled {label} but holds characters outside it; decoded as {codec}"
                return text, [why]
            return text, []
    if data.isascii() and not codec:
        return data.decode("ascii"), []
    what = f"declared {label} but invalid in it" if codec else (
        f"unknown charset {label!r}" if label and label not in _NO_CHARSET
        else "raw 8-bit bytes")
    # Every GB2312 character is two bytes >= 0xA1: with no such pair the bytes
    # are single-byte text (Latin-1 "m\xe9canique" is also valid GBK: "m閏anique").
    # Big5 "張麗" (B1 69 C4 52) has none: it is Big5 when all it reads is common characters.
    double = _DOUBLE.search(data) is not None
    hinted = normalise_charset(hint)
    if hinted == "cp1252" and _writes(data, "gb18030", "gb2312"):  # Latin-1 takes any bytes
        hinted = "gb18030"
    guesses = _GUESSES[1:] if double else ("big5hkscs",) if _all_big5(data) else ()
    tried = [c for c in ("utf-8", hinted, *guesses) if c and c != codec]
    for guess in dict.fromkeys(tried):
        text = _strict(data, guess)
        if text is not None:
            if guess == "gb18030" and hinted != guess:  # a guess: or is it Big5?
                big5 = _strict(data, "big5hkscs")
                if big5 is not None and _common(big5, "big5") > _common(text, "gb2312"):
                    guess, text = "big5hkscs", big5
            return text, [f"{what}; decoded as {guess}"]
    best = _normalizer_guess(data) if len(data) >= 64 else None  # short: guesses are noise
    if best is not None:
        return best[0], [f"{what}; decoded as {best[1]} (charset-normalizer)"]
    if not codec and not double and (text := _strict(data, "cp1252")) is not None:
        return text, [f"{what}; decoded as cp1252"]
    fallback = codec or "gb18030"
    try:
        text = data.decode(fallback, "replace")
    except Exception:  # noqa: BLE001 - some codecs refuse even with errors="replace"
        fallback, text = "utf-8", data.decode("utf-8", "replace")
    return text, [f"{what}; undecodable bytes replaced ({fallback})"]


_COMMON = {  # (first, last) two-byte codes of common punctuation and characters
    "gb2312": ((0xA1A1, 0xA1FE), (0xA3A1, 0xA3FE), (0xB0A1, 0xD7F9)),  # 一级汉字: 3,755
    "big5": ((0xA140, 0xA3BF), (0xA440, 0xC67E)),  # 常用字: 5,401
}


def _common(text: str, charset: str) -> float:
    """The share of *text*'s non-ASCII characters that are among *charset*'s common
    ones (:data:`_COMMON`).  A wrong guess reads rare characters and private-use ones."""
    wide = [c for c in text if c >= "\x80"]
    hits = 0
    for c in wide:
        code = c.encode(charset, "ignore")
        value = int.from_bytes(code) if len(code) == 2 else 0
        hits += any(a <= value <= b for a, b in _COMMON[charset])
    return hits / len(wide) if wide else 0.0


def _all_big5(data: bytes) -> bool:
    """Whether *data* reads as two or more Big5 characters, all of them common."""
    text = _strict(data, "big5hkscs")
    return text is not None and sum(c >= "\x80" for c in text) >= 2 and _common(text, "big5") == 1


def _normalizer_guess(data: bytes) -> tuple[str, str] | None:
    """charset-normalizer's best (text, codec) for ``data``, or None."""
    try:
        best = from_bytes(data).best()
    except Exception:  # noqa: BLE001 - a guesser must never break parsing
        return None
    if best is None or best.encoding.startswith("utf_") or _strict(data, best.encoding) is None:
        return None
    return str(best), best.encoding


_WORD = re.compile(rb"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_FOLD = re.compile(rb"\r?\n(?=[ \t])|[\r\n]")


def _word_bytes(enc: bytes, text: bytes) -> bytes:
    """Undo the B or Q encoding of one encoded-word, leniently."""
    if enc in b"bB":
        text = re.sub(rb"[^A-Za-z0-9+/]", b"", text.split(b"=", 1)[0])
        if len(text) % 4 == 1:
            text = text[:-1]
        return base64.b64decode(text + b"=" * (-len(text) % 4))
    return binascii.a2b_qp(text, header=True)


def decode_header_bytes(raw: bytes, hint: str | None = None) -> tuple[str, list[str]]:
    """Decode one raw header value (or parameter value) into text.

    ``raw`` is the value as it was on the wire (folding allowed).  RFC 2047
    words anywhere (also inside quotes) are decoded; adjacent words in the
    same charset are joined as bytes first, so characters split across
    words survive; whitespace between adjacent words is dropped; 8-bit bytes
    outside words are decoded by :func:`decode_bytes` with ``hint``.
    Never raises.  Returns ``(text, notes)``.
    """
    raw = _FOLD.sub(b"", raw)
    chunks: list[list] = []  # [kind, codec-or-label, bytes]; kind "w" word, "t" text
    pos = 0
    for m in _WORD.finditer(raw):
        gap = raw[pos:m.start()]
        label = m.group(1).decode("ascii", "replace")
        codec = normalise_charset(label) or label.lower()
        try:
            data = _word_bytes(m.group(2), m.group(3))
        except (binascii.Error, ValueError):
            continue  # undecodable word: left in place as literal text
        if gap.strip(b" \t") == b"" and chunks and chunks[-1][0] == "w" \
                and chunks[-1][1] == codec:
            chunks[-1][2] += data
        else:
            if gap and not (gap.strip(b" \t") == b"" and chunks and chunks[-1][0] == "w"):
                chunks.append(["t", None, gap])
            chunks.append(["w", codec, data, label])
        pos = m.end()
    if pos < len(raw):
        chunks.append(["t", None, raw[pos:]])
    out, notes = [], []
    for chunk in chunks:
        if chunk[0] == "w":
            text, why = decode_bytes(chunk[2], chunk[3], hint)
            notes += [f"encoded-word {n}" for n in why]
        else:
            text, why = decode_bytes(chunk[2], None, hint)
            notes += why
        out.append(text)
    return "".join(out), notes


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")
# U+0085, U+2028 and U+2029 end a line for str.splitlines(): the email package refuses
# them in a header (a receipt's Subject), so they become blanks like CR and LF.
SPACE_RUN = re.compile(r"[ \t\r\n\x85\u2028\u2029]+")


def clean_text(text: str) -> str:
    """Header text without control characters, runs of blanks collapsed, stripped."""
    return SPACE_RUN.sub(" ", _CONTROL.sub("", text)).strip()


def decode_addresses(raw: bytes | None, hint: str | None = None
                     ) -> tuple[list[tuple[str, str]], list[str]]:
    """Parse an address header's wire bytes into (display name, lowercased address).

    Display names may be RFC 2047 (also quoted) or raw 8-bit.  When no
    address parses, or the stdlib parser gives up (it recurses once per level
    of nested comments), the first thing shaped like ``local@domain.tld`` is
    used (noted).  Never raises, whatever *raw* holds.  Returns ``(pairs, notes)``.
    """
    if not raw:
        return [], []
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    latin = re.sub(r"\r?\n", "", bytes(raw).decode("latin-1"))  # one char per byte
    if _strict(bytes(raw), "utf-8") is None:  # outside <...>, an @ or \ ending a GBK/Big5
        latin = _OUTSIDE_ANGLES.sub(  # character (烜 9F 40, 誠 D5 5C) is not address syntax
            lambda m: _TRAIL.sub(lambda t: t[0][0] + _HIDE[t[0][1]], m[0]), latin)
    try:
        out, notes = _parsed_addresses(latin, hint)
    except Exception:  # noqa: BLE001 - RecursionError on 5,000 nested (comments), and the like
        out, notes = [], ["address header the parser cannot take (too deeply nested?)"]
    if not out and (found := _ADDRESS.search(latin)):
        notes.append("unparseable address header; address found by pattern")
        out.append(("", found.group(0).lower()))
    return out, notes


_ADDRESS = re.compile(r"[\w.+=-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII)
_OUTSIDE_ANGLES = re.compile(r"[^<]+(?=<)")  # display-name text before an <address>
_TRAIL = re.compile(r"[\x81-\xfe][@\\]")
_HIDE = {"@": "\ue040", "\\": "\ue05c"}
_SHOW = str.maketrans({"\ue040": "@", "\ue05c": "\\"})


def _parsed_addresses(latin: str, hint: str | None) -> tuple[list[tuple[str, str]], list[str]]:
    """The addresses the stdlib parser finds in *latin* (wire bytes as latin-1); may raise."""
    out, notes = [], []
    for disp, addr in email.utils.getaddresses([latin]):
        try:  # RFC 6532 allows UTF-8 addresses
            addr = addr.strip().encode("latin-1").decode("utf-8").lower()
        except UnicodeError:
            continue
        local, at, domain = addr.rpartition("@")
        if local and at and domain and not re.search(r"\s", re.sub(r'"[^"]*"', "", addr)):
            disp = disp.translate(_SHOW).encode("latin-1", "replace")
            text, why = decode_header_bytes(disp, hint)
            notes += why
            out.append((clean_text(text), addr))
    return out, notes


def header_params(raw: bytes | None, notes: list[str] | None = None
                  ) -> tuple[str, dict[str, object]]:
    """Lowercased main value and raw parameters of a Content-Type/-Disposition value.

    RFC 2231 continuations are joined (an RFC 2231 value wins over a plain one of
    the same name; one with a segment missing is said in *notes*).  Values are latin-1
    strings standing for the wire bytes, or ``(charset, language, latin-1 str)`` tuples
    for RFC 2231; pass them to :func:`decode_param`.  Never raises.
    """
    if raw is None:
        return "", {}
    if notes is not None:
        notes += [f"{n}: RFC 2231 segments missing, the rest joined" for n in missing_segments(raw)]
    view = Message()
    view["x"] = re.sub(r"\r?\n", "", raw.decode("latin-1"))
    try:
        params = view.get_params(header="x", failobj=[])
    except Exception:  # noqa: BLE001 - mixed name*/name*0 continuations break the stdlib
        params = []
    main = params[0][0].strip().lower() if params else ""
    found: dict[str, object] = {}
    for key, value in params[1:]:
        key = key.strip().lower()
        if key not in found or isinstance(value, tuple):
            found[key] = value
    return main, found


_SEGMENT = re.compile(rb"(?:^|;)\s*([\w.-]+)\*(\d{1,6})\*?\s*=")


def missing_segments(raw: bytes | None) -> list[str]:
    """Names (lowercased) of the parameters of a Content-Type/-Disposition value whose RFC 2231
    continuations (``name*0``, ``name*1`` ...) skip a number or miss ``*0``: see header_params."""
    seen: dict[str, set[int]] = {}
    for m in _SEGMENT.finditer(re.sub(rb"\r?\n", b"", raw or b"")):
        seen.setdefault(m.group(1).decode("latin-1").lower(), set()).add(int(m.group(2)))
    return sorted(name for name, nums in seen.items() if sorted(nums) != list(range(len(nums))))


def decode_param(value: object, hint: str | None = None) -> tuple[str, list[str]]:
    """Decode a parameter value from :func:`header_params` (RFC 2231, RFC 2047 or raw 8-bit)."""
    if isinstance(value, tuple):
        charset, _lang, text = value
        return decode_bytes(email.utils.unquote(text).encode("latin-1", "replace"),
                            charset or None, hint)
    return decode_header_bytes(str(value).encode("latin-1", "replace"), hint)
