"""Content-addressed file store under the data dir.

Every blob (original .eml or attachment) lives at ``<kind>/<aa>/<sha256><.ext>``
where only the hash and a sanitised extension come from the mail: no
filename, however hostile, can steer a write outside the data dir.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import StorageError
from .spool import Spool

_EXT = re.compile(r"\.([A-Za-z0-9]{1,10})$")
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def extension(filename: str) -> str:
    """A lower-case extension like ``.docx`` taken from *filename*, or ``""``."""
    m = _EXT.search(filename.strip())
    return "." + m.group(1).lower() if m else ""


def safe_filename(name: str, fallback: str = "附件", limit: int = 180) -> str:
    """A single path component for *name*: no separators, controls or dot-only names.

    Keeps Chinese text; caps the UTF-8 length at *limit* bytes, keeping the extension.
    """
    base = _UNSAFE.sub("_", name.replace("\x00", "")).strip(" .")
    if not base:
        base = fallback
    ext = extension(base)
    stem = base[: len(base) - len(ext)] if ext else base
    while len((stem + ext).encode("utf-8")) > limit:
        stem = stem[:-1]
    return (stem or fallback) + ext


@dataclass(frozen=True)
class Stored:
    sha256: str
    size: int
    path: str  # relative to the data dir, "/"-separated


class FileStore:
    """Writes blobs atomically (temp file + rename) into *root*; idempotent per content."""

    def __init__(self, root: Path):
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(f"无法创建数据目录 (cannot create data dir) {self.root}: {e}") from None

    def put(self, kind: str, data: bytes, filename: str = "", digest: str = "",
            durable: bool = True) -> Stored:
        """Store *data* under *kind* ("raw" or "files"); return where it lives.

        *digest*, when given, is the sha256 of *data* the caller already computed.
        ``durable`` fsyncs before the rename: the original .eml always is (it is
        the record); attachments are not — they are derived from it, written
        atomically, and ``mailbot verify --repair`` rebuilds them after a power cut.
        """
        digest = digest or sha256(data)
        rel = f"{kind}/{digest[:2]}/{digest}{extension(filename)}"
        target = self.root / rel
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    if durable:
                        os.fsync(fh.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return Stored(sha256=digest, size=len(data), path=rel)

    def adopt(self, kind: str, spool: Spool, filename: str = "") -> Stored:
        """Store a finished :class:`~mailbot.spool.Spool` by moving its file into place."""
        rel = f"{kind}/{spool.sha256[:2]}/{spool.sha256}{extension(filename)}"
        target = self.root / rel
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(spool.path, target)
        return Stored(sha256=spool.sha256, size=spool.size, path=rel)

    def spool(self) -> Spool:
        """A new spool file in ``tmp/`` (same file system as the store)."""
        return Spool(self.root / "tmp")

    def path(self, rel: str) -> Path:
        """Absolute path of a stored blob given its relative path."""
        return self.root / rel
