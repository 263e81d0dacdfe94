"""Mail from files for ``mailbot import``: .eml files, mbox files and Maildir folders.

:func:`iter_messages` yields ``(raw bytes, source label)`` for every message
under the given paths, in a stable order.  Other folders are walked for files.
"""

from __future__ import annotations

import mailbox
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


def iter_messages(paths: list[Path]) -> Iterator[tuple[bytes, str]]:
    """Every message found under *paths*; raises ImportSourceError for a missing path."""
    for path in paths:
        if not path.exists():
            raise ImportSourceError(f"找不到 {path} (no such file or folder)")
    for path in paths:
        yield from _from_path(path)


def _from_path(path: Path) -> Iterator[tuple[bytes, str]]:
    if is_maildir(path):
        box = mailbox.Maildir(path, factory=None, create=False)
        for key in sorted(box.keys()):
            with box.get_file(key) as fh:
                yield fh.read(), f"maildir:{path}/{key}"
    elif path.is_dir():
        for child in sorted(p for p in path.rglob("*") if p.is_file() or is_maildir(p)):
            if not any(is_maildir(parent) for parent in child.parents):
                yield from _from_path(child)
    elif is_mbox(path):
        box = mailbox.mbox(path, factory=None, create=False)
        for i, key in enumerate(box.keys()):
            yield box.get_bytes(key), f"mbox:{path}#{i}"
    else:
        yield path.read_bytes(), f"file:{path}"
