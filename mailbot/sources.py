"""Mail from files for ``mailbot import``: .eml files, mbox files and Maildir folders.

:func:`iter_messages` yields ``(raw bytes, source label, oversize)`` for every
message under the given paths, in a stable order; other folders are walked for
files.  A file larger than *max_size* is not read whole: its header block is
yielded with ``oversize`` set to the file's size.  A file that cannot be a mail at all
(a spreadsheet, a picture, an empty file: see :func:`may_be_mail`; lenient, unlike
:func:`mailbot.mimefix.looks_like_mail`, as a broken mail must still come in) is refused when
named, and skipped, with a note, when found in a folder.
"""

from __future__ import annotations

import mailbox
import os
import re
from collections.abc import Iterator
from pathlib import Path

from .errors import ImportSourceError


def is_maildir(path: Path) -> bool:
    return path.is_dir() and all((path / sub).is_dir() for sub in ("cur", "new", "tmp"))


def is_mbox(path: Path) -> bool:
    """An mbox file starts with a ``From `` envelope line followed by a header line."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    if not head.startswith(b"From "):
        return False
    second = head.split(b"\n", 2)[1] if head.count(b"\n") >= 1 else b""
    return b":" in second.split(b" ", 1)[0]


Found = tuple[bytes, str, int | None]
HEADER_CAP = 1 << 20
_FIELD = re.compile(rb"[\x21-\x39\x3b-\x7e]+[ \t]*:")  # a header field's name and colon
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an Outlook .msg (kept, and quarantined)


def may_be_mail(head: bytes) -> bool:
    """Whether a file starting with *head* (its first few KB) can be a mail: its first line,
    after blank lines and a BOM, is a header field or an mbox ``From `` line, or the file
    is an Outlook .msg.  A broken mail still passes (the pipeline quarantines it, saying
    why); an empty file, a spreadsheet, a PDF, a picture or a config file does not."""
    if head.startswith(_OLE):
        return True
    first = head.removeprefix(b"\xef\xbb\xbf").lstrip(b"\r\n").split(b"\n", 1)[0]
    return bool(_FIELD.match(first)) or first.startswith(b"From ")


def _mail_file(path: Path) -> bool:
    if not path.is_file():
        return False
    with path.open("rb") as fh:
        return may_be_mail(fh.read(4096))


def iter_messages(paths: list[Path], max_size: int | None = None,
                  skipped: list[Path] | None = None) -> Iterator[Found]:
    """Every message found under *paths*.  Raises ImportSourceError, before yielding
    anything, for a path missing or named that is not a mail; files in folders that are
    not mail are appended to *skipped* instead."""
    for path in paths:
        if not path.exists():
            raise ImportSourceError(f"找不到 {path} (no such file or folder)")
    refused = [str(p) for p in paths if not p.is_dir() and not _mail_file(p)]
    if refused:
        raise ImportSourceError(f"不是邮件文件（.eml、mbox 或 Maildir 文件夹），未导入任何邮件："
                                f"{'、'.join(refused)} (not a mail file; a roster goes to "
                                f"`mailbot schools import`)")
    for path in paths:
        yield from _from_path(path, max_size, skipped if skipped is not None else [])


def _read(fh, max_size: int | None, size: int) -> tuple[bytes, int | None]:
    """The whole file, or only its header block when its *size* is over *max_size*."""
    if not max_size or size <= max_size:
        return fh.read(), None
    head = b""
    while len(head) < HEADER_CAP:
        chunk = fh.read(65536)
        if not chunk:
            break
        head += chunk
        for blank in (b"\r\n\r\n", b"\n\n"):
            if (at := head.find(blank)) >= 0:
                return head[: at + len(blank)], size
    return head[:HEADER_CAP], size


def _from_path(path: Path, max_size: int | None, skipped: list[Path]) -> Iterator[Found]:
    if is_maildir(path):
        box = mailbox.Maildir(path, factory=None, create=False)
        for key in sorted(box.keys()):
            size = os.path.getsize(path / box._lookup(key))
            with box.get_file(key) as fh:
                raw, oversize = _read(fh, max_size, size)
            yield raw, f"maildir:{path}/{key}", oversize
    elif path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file() or is_maildir(p)):
            if any(is_maildir(parent) for parent in child.parents):
                continue
            if is_maildir(child) or _mail_file(child):
                yield from _from_path(child, max_size, skipped)
            else:
                skipped.append(child)
    elif is_mbox(path):
        box = mailbox.mbox(path, factory=None, create=False)
        for i, key in enumerate(box.keys()):
            yield box.get_bytes(key), f"mbox:{path}#{i}", None
    else:
        with path.open("rb") as fh:
            raw, oversize = _read(fh, max_size, path.stat().st_size)
        yield raw, f"file:{path}", oversize
