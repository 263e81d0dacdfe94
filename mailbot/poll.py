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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from . import db
from .config import Config, resolve_file, secret
from .errors import MailbotError
from .imap import ImapMailbox
from .outbox import DeliveryReport, deliver
from .pipeline import Desk, process
from .receipts import release_held

log = logging.getLogger(__name__)


@dataclass
class PollReport:
    fetched: int = 0
    recorded: int = 0
    duplicates: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    delivery: DeliveryReport | None = None


def _fault(point: str) -> None:
    """Crash here if MAILBOT_FAULT names *point* (used by the crash tests)."""
    if os.environ.get("MAILBOT_FAULT") == point:
        os._exit(137)


def poll_once(cfg: Config, engine: Engine, desk: Desk,
              should_stop: Callable[[], bool] = lambda: False, send: bool = True) -> PollReport:
    """Poll every configured folder once; return what happened.

    *should_stop* is asked between messages: when it says yes, the poll ends
    after the message in hand (each message is committed on its own).  With
    *send* the outbox is delivered at the end (the daemon leaves that to its
    send job, so a slow SMTP server never holds up intake).
    """
    report = PollReport()
    mb = cfg.mailbox
    ca = str(resolve_file(cfg, mb.ca_file)) if mb.ca_file else ""
    with ImapMailbox(mb, secret("MAILBOT_IMAP_PASSWORD"), ca) as box:
        for folder in mb.folders:
            uidvalidity = box.select(folder)
            with db.transaction(engine) as s:
                start = db.last_uid(s, box.account, folder, uidvalidity)
            _apply_pending(box, engine, folder, uidvalidity)
            for item in box.fetch(box.uids_after(start), mb.batch_size,
                                  mb.max_message_mb * 2**20):
                if should_stop():
                    break
                report.fetched += 1
                _fault("after-fetch")

                def remember(session, message, where=(folder, uidvalidity, item.uid)):
                    db.record_uid(session, box.account, *where, message)

                it = process(engine, desk, item.raw, f"imap:{folder}/{item.uid}",
                             item.internal_date, after=remember, oversize=item.oversize)
                report.recorded += it.created
                report.duplicates += not it.created
                status = it.message.status
                report.by_status[status] = report.by_status.get(status, 0) + 1
                _fault("after-commit")
            _apply_pending(box, engine, folder, uidvalidity)
    if send:
        with db.transaction(engine) as s:
            release_held(s, cfg)
        report.delivery = deliver(engine, cfg)
    return report


def poll_and_record(cfg: Config, engine: Engine, desk: Desk,
                    should_stop: Callable[[], bool] = lambda: False,
                    send: bool = True) -> PollReport:
    """:func:`poll_once`, remembering when it ran and its last error (for ``mailbot status``).

    Raises :class:`MailbotError` only: a database failure anywhere in the poll
    becomes a :class:`StorageError` sentence (what was committed before it stays).
    """
    now = datetime.now(UTC).isoformat()
    try:
        with db.storage_errors("收取邮件失败 (poll failed)"):
            report = poll_once(cfg, engine, desk, should_stop, send)
    except MailbotError as e:
        _remember_error(engine, {"at": now, "error": str(e)})
        raise
    with db.storage_errors("记录收取时间失败 (cannot record the poll)"), \
            db.transaction(engine) as s:
        db.set_state(s, "last_poll", {"at": now, "fetched": report.fetched,
                                      "recorded": report.recorded})
    return report


def _remember_error(engine: Engine, value: dict) -> None:
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
    box.mark_processed(uids, box.cfg.processed_action, box.cfg.processed_folder)
    with db.transaction(engine) as s:
        db.mark_actions_done(s, box.account, folder, uidvalidity, uids)
