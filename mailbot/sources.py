"""Mail from files for ``mailbot import``: .eml files, mbox files and Maildir folders.

:func:`iter_messages` yields ``(raw bytes, source label, oversize)`` for every
message under the given paths, in a stable order; other folders are walked for
files.  A file larger than *max_size* is not read whole: its header block is
yielded with ``oversize`` set to the file's size.
"""

from __future__ import annotations

import mailbox
import os
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


def iter_messages(paths: list[Path], max_size: int | None = None) -> Iterator[Found]:
    """Every message found under *paths*; raises ImportSourceError for a missing path."""
    for path in paths:
        if not path.exists():
            raise ImportSourceError(f"找不到 {path} (no such file or folder)")
    for path in paths:
        yield from _from_path(path, max_size)


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


def _from_path(path: Path, max_size: int | None) -> Iterator[Found]:
    if is_maildir(path):
        box = mailbox.Maildir(path, factory=None, create=False)
        for key in sorted(box.keys()):
            size = os.path.getsize(path / box._lookup(key))
            with box.get_file(key) as fh:
                raw, oversize = _read(fh, max_size, size)
            yield raw, f"maildir:{path}/{key}", oversize
    elif path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file() or is_maildir(p)):
            if not any(is_maildir(parent) for parent in child.parents):
                yield from _from_path(child, max_size)
    elif is_mbox(path):
        box = mailbox.mbox(path, factory=None, create=False)
        for i, key in enumerate(box.keys()):
            yield box.get_bytes(key), f"mbox:{path}#{i}", None
    else:
        with path.open("rb") as fh:
            raw, oversize = _read(fh, max_size, path.stat().st_size)
        yield raw, f"file:{path}", oversize
