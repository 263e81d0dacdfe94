"""One poll of the contact mailbox: fetch what is new, record each mail once.

For each configured folder: read UIDVALIDITY and the highest UID already
recorded for it, fetch newer UIDs with ``BODY.PEEK[]``, run each message
through :func:`mailbot.pipeline.process` in its own transaction (which also
records the UID), and only after that commit apply the processed action.
A UIDVALIDITY change makes the folder scan from the start again; the
pipeline's duplicate check (raw sha256, or Message-ID + body) records
nothing twice.  Actions left undone by a crash are applied on the next poll.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from . import db
from .ahead import ahead
from .config import Config, resolve_file, secret
from .desk import Desk
from .errors import FolderError, MailbotError
from .filing import FileStore, Staged, Stored
from .imap import Fetched, ImapMailbox
from .outbox import DeliveryReport, deliver
from .pairing import same_store
from .pipeline import process
from .prepare import Prepared, Workers, worker_count
from .receipts import release_held
from .spool import Spool

log = logging.getLogger(__name__)
PARALLEL_FROM = 16  # new mails in a folder from which worker processes prepare them


@dataclass
class PollReport:
    fetched: int = 0
    recorded: int = 0
    duplicates: int = 0
    prepared: int = 0  # of those fetched, how many worker processes prepared
    parts: int = 0  # mails forwarded in bundles, recorded as submissions of their own
    by_status: dict[str, int] = field(default_factory=dict)
    delivery: DeliveryReport | None = None
    problems: list[str] = field(default_factory=list)  # folders the server refused


def _fault(point: str) -> None:
    """Crash here if MAILBOT_FAULT names *point* (used by the crash tests)."""
    if os.environ.get("MAILBOT_FAULT") == point:
        os._exit(137)


def connect(cfg: Config) -> ImapMailbox:
    """A logged-in connection to the configured mailbox (the caller closes it)."""
    mb = cfg.mailbox
    ca = str(resolve_file(cfg, mb.ca_file)) if mb.ca_file else ""
    return ImapMailbox(mb, secret("MAILBOT_IMAP_PASSWORD"), ca)


def poll_once(cfg: Config, engine: Engine, desk: Desk,
              should_stop: Callable[[], bool] = lambda: False,
              box: ImapMailbox | None = None, send: bool = True) -> PollReport:
    """Poll every configured folder once; return what happened.

    *should_stop* is asked between messages: when it says yes, the poll ends
    after the message in hand (each message is committed on its own).  With
    *box* (an open connection, e.g. the daemon's) no new connection is made.  Unless
    *send* is false the outbox is delivered at the end (the daemon leaves that to its
    send job, so a slow SMTP server never holds up intake).
    """
    report = PollReport()
    mb = cfg.mailbox
    with nullcontext(box) if box else connect(cfg) as conn:
        _poll_folders(conn, mb.folders, engine, desk, should_stop, report)
    if send:
        with db.transaction(engine) as s:
            release_held(s, cfg)
        report.delivery = deliver(engine, cfg)
    return report


def _poll_folders(box: ImapMailbox, folders, engine: Engine, desk: Desk,
                  should_stop: Callable[[], bool], report: PollReport) -> None:
    """Fetch and record what is new in each folder, then apply the processed actions."""
    for folder in folders:
        try:
            _poll_folder(box, folder, engine, desk, should_stop, report)
        except FolderError as e:  # one folder missing (renamed?) stops none of the others
            log.info("%s", e)  # `poll` prints it and fails, `run` logs it and records it (status)
            report.problems.append(str(e))


def _poll_folder(box: ImapMailbox, folder: str, engine: Engine, desk: Desk,
                 should_stop: Callable[[], bool], report: PollReport) -> None:
    """Fetch and record what is new in *folder*, then apply the processed actions."""
    mb = box.cfg
    if _nothing_new(box, engine, folder):
        return
    same_store(engine, desk.store.root)
    uidvalidity = box.select(folder)
    with db.transaction(engine) as s:
        start = db.last_uid(s, box.account, folder, uidvalidity)
    _apply_pending(box, engine, folder, uidvalidity)
    uids = box.uids_after(start)
    fetching = box.fetch(uids, mb.batch_size, mb.max_message_mb * 2**20, desk.store.spool)
    with _workers(engine, desk, len(uids)) as workers, \
            ahead(_filed(fetching, desk.store, workers is not None),
                  discard=_release) as items:
        for (item, stored), prepared in _prepared(workers, items):
            try:
                if should_stop():
                    break
                if isinstance(stored, Staged):  # a worker settled it, or we do now
                    stored = stored.stored if prepared else desk.store.settle(stored)
                _take(engine, desk, box.account, folder, uidvalidity, item, stored,
                      prepared, report)
            finally:
                _release((item, stored))
        report.prepared += workers.prepared if workers else 0
    _apply_pending(box, engine, folder, uidvalidity)


def _workers(engine: Engine, desk: Desk, count: int) -> Workers | nullcontext:
    """Worker processes for a poll of *count* new mails, when that many make them
    worth starting (a few mails are quicker done here)."""
    n = worker_count(desk.cfg.mailbox.workers)
    if n < 1 or count < PARALLEL_FROM:
        return nullcontext()
    with db.transaction(engine) as s:
        known = db.known_senders(s)
    return Workers(desk.cfg, n, known)


def _prepared(workers: Workers | None, items: Iterator) -> Iterator:
    """Each (item, stored) with what a worker made of it (None: do it all here)."""
    if workers is None:
        return ((entry, None) for entry in items)

    def job(entry):
        item, staged = entry
        if not isinstance(staged, Staged):
            return None
        when = item.internal_date  # imapclient's tzinfo does not pickle: a plain offset
        return staged, when and when.replace(tzinfo=timezone(when.utcoffset() or timedelta(0)))
    return workers.order(items, job, _release)


def _nothing_new(box: ImapMailbox, engine: Engine, folder: str) -> bool:
    """True when STATUS shows no UID above the last recorded one and no processed
    action is left to apply: the idle poll then costs one round trip, whatever the
    mailbox size."""
    status = box.next_uid(folder)
    if status is None:
        return False
    uidvalidity, uidnext = status
    with db.transaction(engine) as s:
        return uidnext <= db.last_uid(s, box.account, folder, uidvalidity) + 1 and \
            not db.pending_actions(s, box.account, folder, uidvalidity)


def _filed(fetching: Iterator[Fetched], store: FileStore, stage: bool
           ) -> Iterator[tuple[Fetched, Stored | Staged | None]]:
    """Each fetched message with its original filed on the way: this runs on the fetch
    thread, so the disk works while the pipeline parses the previous one.  With *stage*
    (worker processes at work) it is only written, and the worker waits for the disk
    (:meth:`FileStore.settle`) while this thread reads the next mail."""
    if stage:
        yield from _staged(fetching, store)
        return
    for item in fetching:
        if item.oversize:
            yield item, None
        elif isinstance(item.raw, Spool):
            yield item, store.adopt("raw", item.raw, ".eml")
        else:
            yield item, store.put("raw", item.raw, ".eml")


def _staged(fetching: Iterator[Fetched], store: FileStore, ahead_bytes: int = 64 * 2**20
            ) -> Iterator[tuple[Fetched, Stored | Staged | None]]:
    """:func:`_filed` for a large poll: originals are hashed and written by a writer
    thread (both release the GIL) while this one reads the next batch off the socket;
    up to *ahead_bytes* of mail wait to be written."""
    def file(item: Fetched) -> Stored | Staged | None:
        if item.oversize:
            return None
        if isinstance(item.raw, Spool):
            return store.adopt("raw", item.raw, ".eml")
        return store.stage("raw", item.raw, ".eml")

    pending: deque = deque()
    waiting = 0
    with ThreadPoolExecutor(1, thread_name_prefix="raw-writer") as writer:
        try:
            for item in fetching:
                pending.append((item, writer.submit(file, item)))
                waiting += _size(item)
                while waiting > ahead_bytes or pending and pending[0][1].done():
                    item, done = pending.popleft()
                    waiting -= _size(item)
                    yield item, done.result()
            while pending:
                item, done = pending.popleft()
                yield item, done.result()
        finally:  # stopped early: nothing written or staged may stay behind
            for item, done in pending:
                failed = done.cancel() or done.exception() is not None
                _release((item, None if failed else done.result()))


def _size(item: Fetched) -> int:
    return len(item.raw) if isinstance(item.raw, bytes) else 0


def _release(entry: tuple[Fetched, Stored | Staged | None]) -> None:
    """Remove a spooled message's temp file, or a staged original never settled (both
    no-ops once the store holds them)."""
    if isinstance(entry[0].raw, Spool):
        entry[0].raw.close()
    if isinstance(entry[1], Staged):
        Path(entry[1].tmp).unlink(missing_ok=True)


def _take(engine: Engine, desk: Desk, account: str, folder: str, uidvalidity: int,
          item: Fetched, stored: Stored | None, prepared: Prepared | None,
          report: PollReport) -> None:
    """Run one fetched message through the pipeline, its UID recorded in the same commit."""
    report.fetched += 1
    _fault("after-fetch")

    def remember(session, message):
        db.record_uid(session, account, folder, uidvalidity, item.uid, message)

    it = process(engine, desk, item.raw, f"imap:{folder}/{item.uid}", item.internal_date,
                 after=remember, oversize=item.oversize, stored=stored, prepared=prepared)
    report.recorded += it.created
    report.duplicates += not it.created
    report.parts += it.parts_recorded()
    status = it.message.status
    report.by_status[status] = report.by_status.get(status, 0) + 1
    _fault("after-commit")


def poll_and_record(cfg: Config, engine: Engine, desk: Desk,
                    should_stop: Callable[[], bool] = lambda: False,
                    box: ImapMailbox | None = None, send: bool = True) -> PollReport:
    """:func:`poll_once`, remembering when it ran and its last error (for ``mailbot status``).

    Raises :class:`MailbotError` only: a database failure anywhere in the poll
    becomes a :class:`StorageError` sentence (what was committed before it stays).
    """
    now = datetime.now(UTC).isoformat()
    try:
        with db.storage_errors("收取邮件失败 (poll failed)"):
            report = poll_once(cfg, engine, desk, should_stop, box, send)
    except MailbotError as e:
        remember_error(engine, {"at": now, "error": str(e)})
        raise
    with db.storage_errors("记录收取时间失败 (cannot record the poll)"), \
            db.transaction(engine) as s:
        db.set_state(s, "last_poll", {"at": now, "fetched": report.fetched,
                                      "recorded": report.recorded})
    if report.problems:  # the other folders were polled; status shows what was refused
        remember_error(engine, {"at": now, "error": "；".join(report.problems)})
    return report


def remember_error(engine: Engine, value: dict) -> None:
    """Store the last poll error for ``mailbot status``; best effort (the database may be
    what failed)."""
    try:
        with db.transaction(engine) as s:
            db.set_state(s, "last_error", value)
    except SQLAlchemyError as e:
        log.debug("cannot record the poll error: %s", e)


def _apply_pending(box: ImapMailbox, engine: Engine, folder: str, uidvalidity: int) -> None:
    with db.transaction(engine) as s:
        uids = db.pending_actions(s, box.account, folder, uidvalidity)
    if not uids:
        return
    db.barrier(engine)  # the intake's commits are on disk before the mailbox is changed
    box.mark_processed(uids, box.cfg.processed_action, box.cfg.processed_folder)
    with db.transaction(engine) as s:
        db.mark_actions_done(s, box.account, folder, uidvalidity, uids)
