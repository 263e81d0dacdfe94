"""Check the stored files against their sha256, and rebuild attachments from the originals.

The original .eml of every mail is fsynced before its record is committed;
attachment files are derived from it and written without fsync (see
:meth:`mailbot.filing.FileStore.put`), so after a power cut one may be short or
missing.  :func:`verify` re-hashes every file the database references; with
``repair`` it parses the original again and writes each broken attachment anew.
An original itself comes back only from a copy: ``mailbot import`` of the same mail
(:func:`restore_original`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import Engine, select
from sqlalchemy.orm import selectinload

from . import db
from .filing import FileStore
from .models import Message
from .parse import ParseError, parse_message
from .rows import every_attachment


@dataclass
class Findings:
    checked: int = 0
    broken_originals: list[str] = field(default_factory=list)  # "#id path"
    broken_files: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)


def file_ok(store: FileStore, rel: str, digest: str) -> bool:
    """Whether the blob *rel* exists and hashes to *digest* (read in chunks)."""
    try:
        with open(store.path(rel), "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest() == digest
    except OSError:
        return False


def verify(engine: Engine, store: FileStore, repair: bool = False) -> Findings:
    """Re-hash the originals and attachments of every message whose files are kept."""
    found = Findings()
    with db.transaction(engine) as s:
        messages = s.scalars(select(Message).where(Message.files_removed_at.is_(None))
                             .options(selectinload(Message.attachments))).all()
    for m in messages:
        found.checked += 1 + len(m.attachments)
        original_ok = file_ok(store, m.raw_path, m.sha256)
        if not original_ok:
            found.broken_originals.append(f"#{m.id} {m.raw_path}")
        broken = [a for a in m.attachments if not file_ok(store, a.path, a.sha256)]
        found.broken_files += [f"#{m.id} {a.path} {a.filename}" for a in broken]
        if broken and repair and original_ok:
            found.repaired += _rebuild(store, m, broken)
    return found


def restore_original(store: FileStore, m: Message, raw: bytes) -> str:
    """Put the original of recorded mail *m* back from *raw* (the same mail, imported
    again) when its stored file is missing or broken: "restored"; "differs" when *raw* is
    not byte for byte the recorded original (its sha256); "" when there is nothing to do
    (the file is intact, or retention removed it on purpose)."""
    if m.files_removed_at is not None or file_ok(store, m.raw_path, m.sha256):
        return ""
    if hashlib.sha256(raw).hexdigest() != m.sha256:
        return "differs"
    store.path(m.raw_path).unlink(missing_ok=True)  # a broken one is not overwritten by put
    store.put("raw", raw, m.raw_path, digest=m.sha256)
    return "restored" if file_ok(store, m.raw_path, m.sha256) else "differs"


def _rebuild(store: FileStore, m: Message, broken: list) -> list[str]:
    """Write the broken attachments of *m* again from its original; return those done."""
    try:
        parsed = parse_message(store.path(m.raw_path).read_bytes())
    except (OSError, ParseError):
        return []
    payloads = {hashlib.sha256(att.payload).hexdigest(): att.payload
                for att in every_attachment(parsed)}
    done = []
    for a in broken:
        if a.sha256 in payloads:
            store.path(a.path).unlink(missing_ok=True)
            store.put("files", payloads[a.sha256], a.path, digest=a.sha256)
            done.append(f"#{m.id} {a.path} {a.filename}")
    return done
