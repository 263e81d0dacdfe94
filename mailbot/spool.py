"""A large raw message written to disk as it arrives, then read through an mmap.

A 70 MB message held as ``bytes`` costs 70 MB, and every copy of it as much
again.  :class:`Spool` takes the message chunk by chunk (hashing as it goes),
then maps the file read-only; :meth:`Spool.drop` gives back the pages already
read, so memory stays near one window whatever the size.  The file sits in the
data dir's ``tmp/``, on the same file system as the store, which adopts it by
renaming (see :meth:`mailbot.filing.FileStore.adopt`).
"""

from __future__ import annotations

import hashlib
import mmap
import os
import tempfile
from pathlib import Path
from typing import Self

_PAGE = mmap.PAGESIZE


class Spool:
    """Write with :meth:`write`, then :meth:`finish`; ``buf`` is the mmap; :meth:`close`
    removes the file unless it was adopted (moved away) meanwhile."""

    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=directory, prefix=".spool-", suffix=".eml")
        self.path = Path(name)
        self._fh = os.fdopen(fd, "w+b")
        self._hash = hashlib.sha256()
        self.size = 0
        self.sha256 = ""
        self.buf: mmap.mmap | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def write(self, data: bytes) -> None:
        self._fh.write(data)
        self._hash.update(data)
        self.size += len(data)

    def finish(self) -> None:
        """Flush to disk (fsync: the store adopts this very file) and map it."""
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self.sha256 = self._hash.hexdigest()
        self.buf = mmap.mmap(self._fh.fileno(), 0, access=mmap.ACCESS_READ) if self.size \
            else None

    def drop(self, upto: int) -> None:
        """Release the mapped pages before offset *upto* (they are read back if needed)."""
        upto = min(upto, self.size) - min(upto, self.size) % _PAGE
        if self.buf is not None and upto > 0:
            self.buf.madvise(mmap.MADV_DONTNEED, 0, upto)

    def close(self) -> None:
        if self.buf is not None:
            try:
                self.buf.close()
            except BufferError:  # a memoryview on it is still alive; the GC closes it
                pass
        self._fh.close()
        self.path.unlink(missing_ok=True)
