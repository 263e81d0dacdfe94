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
import time
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from .errors import StorageError
from .spool import Spool

_EXT = re.compile(r"\.([A-Za-z0-9]{1,10})$")
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
_BLOB = re.compile(r"^(raw|files)/[0-9a-f]{2}/[0-9a-f]{64}(\.[a-z0-9]{1,10})?$")
FRESH_SECONDS = 3600  # a blob put (or re-put) this recently is never removed
SETTLE_FROM = 256 * 1024  # a blob this big is always fsynced and dropped from the page cache


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


@dataclass(frozen=True)
class Staged:
    """A blob written to a temp file beside its place, not yet durable nor in place:
    :meth:`FileStore.settle` finishes it (in a worker process, say)."""

    tmp: str
    stored: Stored


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
        the record); attachments need not be — they are derived from it, written
        atomically, and ``mailbot verify --repair`` rebuilds them after a power cut —
        but a big one is all the same (see :func:`_written`).
        A blob already there is touched (mtime now), which tells :meth:`remove`
        that an intake not yet committed is about to reference it.
        """
        digest = digest or sha256(data)
        rel = f"{kind}/{digest[:2]}/{digest}{extension(filename)}"
        target = self.root / rel
        if not _touch(target):
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    _written(fh.fileno(), len(data), durable)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return Stored(sha256=digest, size=len(data), path=rel)

    def stage(self, kind: str, data: bytes, filename: str = "") -> Staged:
        """Write *data* to a temp file next to where :meth:`put` would put it, without
        waiting for the disk; :meth:`settle` makes it durable and moves it in place."""
        digest = sha256(data)
        rel = f"{kind}/{digest[:2]}/{digest}{extension(filename)}"
        (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=(self.root / rel).parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return Staged(tmp, Stored(sha256=digest, size=len(data), path=rel))

    def settle(self, staged: Staged) -> Stored:
        """fsync a staged blob and rename it into place (a blob already there is touched
        and the temp file dropped); once settled, settling again changes nothing."""
        target, tmp = self.root / staged.stored.path, Path(staged.tmp)
        if _touch(target):
            tmp.unlink(missing_ok=True)
            return staged.stored
        fd = os.open(tmp, os.O_RDONLY)
        try:
            _written(fd, staged.stored.size, durable=True)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        return staged.stored

    def sweep(self, older_than: float = FRESH_SECONDS) -> int:
        """Remove temp files a killed run left behind (half-written blobs, staged originals
        never settled, spools) once older than *older_than* seconds; return how many."""
        cutoff, gone = time.time() - older_than, 0
        for tmp in chain(self.root.glob("*/??/.tmp-*"), self.root.glob("tmp/*")):
            try:
                if tmp.is_file() and tmp.stat().st_mtime < cutoff:
                    tmp.unlink()
                    gone += 1
            except OSError:  # gone meanwhile, or not ours to remove
                continue
        return gone

    def adopt(self, kind: str, spool: Spool, filename: str = "") -> Stored:
        """Store a finished :class:`~mailbot.spool.Spool` by moving its file into place."""
        rel = f"{kind}/{spool.sha256[:2]}/{spool.sha256}{extension(filename)}"
        target = self.root / rel
        if not _touch(target):
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(spool.path, target)
        return Stored(sha256=spool.sha256, size=spool.size, path=rel)

    def spool(self) -> Spool:
        """A new spool file in ``tmp/`` (same file system as the store)."""
        return Spool(self.root / "tmp")

    def path(self, rel: str) -> Path:
        """Absolute path of a stored blob given its relative path."""
        return self.root / rel

    def remove(self, rel: str, fresh_seconds: float = FRESH_SECONDS) -> int | None:
        """Delete the blob *rel*; return the bytes freed (0 when it is not there),
        or None when it was kept because it is fresh.

        Only a ``raw/`` or ``files/`` blob path inside the data dir is accepted
        (anything else raises :class:`StorageError`).  The blob is first renamed
        aside; if it was put within *fresh_seconds* (a concurrent intake may be
        about to reference it) it is renamed back and kept.
        """
        target = self._blob(rel)
        aside = target.with_name(".del-" + target.name)
        try:
            os.replace(target, aside)
        except FileNotFoundError:
            return 0
        st = aside.stat()
        if time.time() - st.st_mtime < fresh_seconds:
            os.replace(aside, target)
            return None
        aside.unlink()
        return st.st_size

    def size(self, rel: str) -> int | None:
        """Size of the blob *rel*, None when it is not there (or not a blob path)."""
        try:
            return self._blob(rel).stat().st_size
        except (OSError, StorageError):
            return None

    def _blob(self, rel: str) -> Path:
        """The absolute path of blob *rel*, refusing anything but a blob inside the root."""
        root = self.root.resolve()
        target = (root / rel).resolve()
        if not _BLOB.match(rel or "") or target.parent.parent.parent != root:
            raise StorageError(f"拒绝删除数据目录之外或非存档文件的路径 (refused path) {rel!r}")
        return target


def _written(fd: int, size: int, durable: bool) -> None:
    """Finish a blob just written to *fd*: fsync it when *durable* or at least
    :data:`SETTLE_FROM` bytes, and then drop its pages from the page cache.

    The store is an archive, written once and rarely read soon after: keeping every
    blob's pages only crowds out what is read (the database, the mailbox).  On the
    benchmark's VM, writing into page cache that is not recycled costs about 2.5 s of
    system CPU per GB; written, flushed and dropped, 0.3-0.6 s (bench/README.md).
    Dropping needs the pages clean, hence the fsync first.
    """
    if durable or size >= SETTLE_FROM:
        os.fsync(fd)
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)


def _touch(target: Path) -> bool:
    """Set *target*'s mtime to now; False when it does not exist."""
    try:
        os.utime(target)
        return True
    except FileNotFoundError:
        return False
    except OSError:  # not ours to touch (read-only, other owner): it is there all the same
        return target.exists()
