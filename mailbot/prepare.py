"""The database-free part of the intake, run in worker processes beside the poll.

Parsing a mail, reading its documents for classification and writing its
attachments to the file store take most of an intake's CPU time.  None of it
needs the database, so a large poll hands each original, staged in a temp file, to a
worker process (:class:`Workers`), which makes it durable and puts it in place before
anything else, while the main process fetches the next ones and records the previous
ones, each in its own transaction, in UID order.  Workers are spawned (never forked
from a process with threads): a script calling the poll directly needs the usual
``if __name__ == "__main__":`` guard.

A worker classifies with a snapshot of the known senders taken when the poll
began; every lookup it made is returned with its answer, and the main process
uses the result only if the database still gives the same answers (else it
parses and classifies the mail itself).  A worker that fails or dies costs
nothing but speed: the mail is processed in the main process as before.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Self

from .classify.engine import Classification
from .desk import Desk, build_desk, store_attachments, verdict_for
from .filing import Staged
from .fingerprint import peek_message_id
from .parse import ParsedMessage, ParseError, parse_message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """What a worker made of one stored message.  ``parsed`` has its attachments'
    payloads dropped (they are in the file store); ``files`` is None when they were
    not filed (a quarantined mail keeps them inside its .eml)."""

    message_id: str | None
    parsed: ParsedMessage | None
    parse_error: str = ""
    verdict: Classification | None = None
    status: str = ""
    reason: str = ""
    senders: tuple[tuple[str, str | None], ...] = ()  # known-sender lookups and answers
    files: tuple | None = None


class _Recording(Mapping[str, str]):
    """A known-senders snapshot that remembers every lookup and its answer."""

    def __init__(self, known: Mapping[str, str]):
        self.known, self.asked = known, {}

    def __getitem__(self, address: str) -> str:
        self.asked[address] = self.known.get(address.lower())
        if self.asked[address] is None:
            raise KeyError(address)
        return self.asked[address]

    def __iter__(self):
        return iter(self.known)

    def __len__(self) -> int:
        return len(self.known)


def without_payloads(p: ParsedMessage) -> ParsedMessage:
    """*p* with every attachment's payload (forwarded mail's too) emptied."""
    return replace(p, attachments=tuple(replace(a, payload=b"") for a in p.attachments),
                   forwarded=tuple(without_payloads(f) for f in p.forwarded))


def prepare(desk: Desk, raw: bytes, received_at: datetime | None,
            known: Mapping[str, str]) -> Prepared:
    """Parse and classify *raw* with *known* senders and file its attachments (unless
    quarantined), as the pipeline's parse, judge and file_attachments stages would."""
    message_id = peek_message_id(raw)
    try:
        parsed = parse_message(raw)
    except ParseError as e:
        return Prepared(message_id, None, parse_error=str(e))
    asked = _Recording(known)
    verdict, status, reason = verdict_for(asked, desk, parsed,
                                          received_at or parsed.date or datetime.now(UTC))
    files = None if status == "quarantined" else tuple(store_attachments(desk.store, parsed))
    if files is not None:
        files = tuple((pos, replace(att, payload=b""), stored, fwd)
                      for pos, att, stored, fwd in files)
    return Prepared(message_id, without_payloads(parsed), verdict=verdict, status=status,
                    reason=reason, senders=tuple(asked.asked.items()), files=files)


def still_valid(prepared: Prepared, known: Mapping[str, str]) -> bool:
    """Whether the known senders the worker consulted still give the same answers."""
    return all(known.get(address) == answer for address, answer in prepared.senders)


# ---- the worker processes ------------------------------------------------------------
_desk = None
_known: Mapping[str, str] = {}


def _start(cfg, known: dict[str, str], poll: int) -> None:
    """Worker initialiser: build the desk once; die with the poll (process *poll*) and with
    the fork server; leave ^C to the poll."""
    global _desk, _known

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    threading.Thread(target=_exit_with, args=(poll,), name="poll-watch", daemon=True).start()
    _desk, _known = build_desk(cfg, send_receipts=False), known


def _exit_with(pid: int) -> None:
    """Exit as soon as process *pid* is gone.  A worker's parent is the fork server, so
    PR_SET_PDEATHSIG does not see the poll killed (SIGKILL, the OOM killer); and a worker
    holds the pool's queues and the fork server's lifeline, so without this the workers
    and the fork server of a killed poll would wait for work forever."""
    try:
        select.select([os.pidfd_open(pid)], [], [])  # a pidfd turns readable at the exit
    except OSError:  # no pidfd here (old kernel): look every second
        while _alive(pid):
            time.sleep(1)
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _prepare_file(staged: Staged, received_at: datetime | None) -> Prepared:
    """Make the staged original durable and in place, then prepare it."""
    if os.environ.get("MAILBOT_FAULT") == "in-worker":  # the tests' dying worker
        os._exit(137)
    raw = Path(staged.tmp).read_bytes()
    _desk.store.settle(staged)
    return prepare(_desk, raw, received_at, _known)


def _context():
    """Workers fork from a server process that imported mailbot once (``forkserver``):
    no copy of the poll's threads or sockets, and no import per worker."""
    ctx = get_context("forkserver")
    ctx.set_forkserver_preload(["mailbot.prepare"])
    return ctx


def worker_count(configured: int | None) -> int:
    """Worker processes to use: as configured, else one per CPU (at most 4)."""
    return configured if configured is not None else min(os.cpu_count() or 1, 4)


class Workers:
    """A pool of worker processes preparing stored messages a few ahead of the caller.

    ``order(entries, path_of)`` yields each entry with its :class:`Prepared` (or
    None: not sent to a worker, or the worker failed), in the entries' order.
    """

    def __init__(self, cfg, count: int, known: Mapping[str, str]):
        self.depth, self.prepared = 2 * count + 2, 0
        self.pool: ProcessPoolExecutor | None = ProcessPoolExecutor(
            count, mp_context=_context(), initializer=_start, initargs=(cfg, dict(known), os.getpid()))

    def order(self, entries: Iterator, job: Callable[[object], tuple | None],
              discard: Callable[[object], None]) -> Iterator[tuple[object, Prepared | None]]:
        """*job(entry)* gives ``(staged original, received_at)`` to prepare, or None to leave the
        entry to the caller; entries taken but never yielded go to *discard*."""
        window: deque[tuple[object, Future | None]] = deque()
        try:
            for entry in entries:
                window.append((entry, self._submit(job(entry))))
                while len(window) > self.depth:
                    yield self._result(*window.popleft())
            while window:
                yield self._result(*window.popleft())
        finally:
            for entry, future in window:
                if future:
                    future.cancel()
                discard(entry)

    def _submit(self, args: tuple | None) -> Future | None:
        if args is None or self.pool is None:
            return None
        try:
            return self.pool.submit(_prepare_file, *args)
        except BrokenProcessPool:
            self._gone()
            return None

    def _result(self, entry, future: Future | None) -> tuple[object, Prepared | None]:
        if future is None:
            return entry, None
        try:
            prepared = future.result()
        except BrokenProcessPool:
            self._gone()
            return entry, None
        except Exception as e:  # noqa: BLE001 - the main process redoes it (and says why)
            if self.pool is not None:  # else cancelled by _gone, already said
                log.warning("工作进程未能处理一封邮件，由主进程处理 (worker failed): %s: %s",
                            type(e).__name__, e)
            return entry, None
        self.prepared += 1
        return entry, prepared

    def _gone(self) -> None:
        """A worker died: say so once; the rest of this poll is done in the main process."""
        if self.pool is not None:
            log.warning("工作进程意外退出，本次其余邮件由主进程逐封处理 (a worker process died)")
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
