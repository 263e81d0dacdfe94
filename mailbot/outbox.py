"""The transactional outbox: mail is written in the deciding transaction, sent later.

:func:`enqueue` stores the finished message (stable Message-ID) with status
``pending``.  :func:`deliver` sends what is due, one row at a time:
pending -> sending (committed) -> SMTP -> sent (committed).  A crash after
the send leaves the row ``sending``; the next run marks it ``unconfirmed``
and never re-sends it by itself, so nothing goes out twice.  Temporary
failures retry with backoff; permanent refusals end as ``failed``.  Once the
SMTP server has answered, the outcome's commit is retried for a few seconds
when the database fails, so a short database outage does not leave a mail
``unconfirmed`` that was in fact sent.  In one process deliveries take turns.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from . import db
from .compose import header_text, wire
from .config import Config, resolve_file, secret
from .errors import MailbotError, MailServerError
from .models import OutboxMail
from .smtp import is_permanent, send

MAX_BACKOFF = timedelta(hours=1)
OUTCOME_WAITS = (1, 2, 4, 8)  # seconds between tries of an outcome's commit
_TAKING_TURNS = threading.Lock()  # a daemon's poll and send jobs both deliver


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min ... capped at one hour."""
    return min(timedelta(seconds=30 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def enqueue(session: Session, kind: str, mail: EmailMessage, message_pk: int | None = None,
            now: datetime | None = None) -> int:
    """Add *mail* to the outbox inside the caller's transaction; return the row's id.
    A Message-ID already queued raises ``IntegrityError`` here."""
    now = now or datetime.now(UTC)
    return db.insert_outbox(session, {
        "kind": kind, "message_pk": message_pk, "recipient": header_text(mail, "To"),
        "subject": header_text(mail, "Subject"), "message_id": str(mail["Message-ID"]),
        "raw": wire(mail), "status": "pending", "attempts": 0, "next_attempt_at": now,
        "last_error": "", "created_at": now})


@dataclass
class DeliveryReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    unconfirmed: int = 0
    errors: list[str] = field(default_factory=list)


def _fault(point: str) -> None:
    if os.environ.get("MAILBOT_FAULT") == point:
        os._exit(137)


def deliver(engine: Engine, cfg: Config, now: datetime | None = None,
            ignore_backoff: bool = False) -> DeliveryReport:
    """Send every due pending mail; stop at the first connection failure.

    A database failure raises :class:`StorageError` (nothing sent unrecorded
    beyond the one ``sending`` row whose outcome could not be committed).
    """
    with _TAKING_TURNS, db.storage_errors("发送发件箱邮件失败 (outbox delivery failed)"):
        return _deliver(engine, cfg, now, ignore_backoff)


def _deliver(engine: Engine, cfg: Config, now: datetime | None,
             ignore_backoff: bool) -> DeliveryReport:
    """:func:`deliver` without the lock and the translation of storage errors."""
    now = now or datetime.now(UTC)
    report = DeliveryReport()
    with db.transaction(engine) as s:  # one conditional UPDATE: a row another process has
        # just marked sent in the meantime stays sent
        report.unconfirmed = s.execute(update(OutboxMail).where(
            OutboxMail.status == "sending").values(
            status="unconfirmed", last_error="发送中断：可能已发出，未自动重发 (interrupted)")).rowcount
        query = select(OutboxMail.id).where(OutboxMail.status == "pending")
        if not ignore_backoff:
            query = query.where(OutboxMail.next_attempt_at <= now)
        due = list(s.scalars(query.order_by(OutboxMail.id)))
    ca = str(resolve_file(cfg, cfg.smtp.ca_file)) if cfg.smtp.ca_file else ""
    for pk in due:
        with db.transaction(engine) as s:  # claimed by one UPDATE: of two processes sending
            # at once (the daemon and `outbox flush`) only one sees the row still pending
            # (SELECT ... FOR UPDATE locks nothing on SQLite)
            claimed = s.execute(update(OutboxMail).where(
                OutboxMail.id == pk, OutboxMail.status == "pending").values(
                status="sending", attempts=OutboxMail.attempts + 1)).rowcount
            if not claimed:
                continue
            raw, attempts = s.execute(select(OutboxMail.raw, OutboxMail.attempts)
                                      .where(OutboxMail.id == pk)).one()
        try:
            send(cfg.smtp, secret("MAILBOT_SMTP_PASSWORD"), raw, ca)
        except MailServerError as e:
            permanent = is_permanent(e)
            _outcome(engine, pk, status="failed" if permanent else "pending",
                     last_error=str(e)[:1000], next_attempt_at=now + backoff(attempts))
            report.errors.append(str(e))
            if permanent:
                report.failed += 1
                continue
            report.deferred += 1
            break
        _fault("after-send")
        _outcome(engine, pk, status="sent", sent_at=datetime.now(UTC), last_error="")
        report.sent += 1
    return report


def _outcome(engine: Engine, pk: int, waits: tuple[float, ...] = OUTCOME_WAITS,
             **fields) -> None:
    """Commit what the SMTP server answered for outbox row *pk*, trying again after each
    of *waits* seconds while the database fails; then raise (the row stays ``sending``)."""
    for wait in (*waits, None):
        try:
            with db.transaction(engine) as s:
                row = s.get(OutboxMail, pk)
                for key, value in fields.items():
                    setattr(row, key, value)
            return
        except SQLAlchemyError:
            if wait is None:
                raise
            time.sleep(wait)


def retry(engine: Engine, pk: int) -> OutboxMail:
    """Put a failed or unconfirmed mail back in the queue, due now."""
    with db.transaction(engine) as s:
        row = s.get(OutboxMail, pk)
        if row is None:
            raise MailbotError(f"发件箱中没有编号为 {pk} 的邮件 (no such outbox mail)")
        if row.status == "sent":
            raise MailbotError(f"发件箱邮件 {pk} 已发送，不再重发 (already sent)")
        if row.body_removed_at:
            raise MailbotError(f"发件箱邮件 {pk} 的正文已按保留期限删除，无法重发 (body removed)")
        row.status, row.next_attempt_at = "pending", datetime.now(UTC)
        return row


def listing(engine: Engine, everything: bool = False) -> list[OutboxMail]:
    """Outbox rows: by default those not yet sent."""
    with db.transaction(engine) as s:
        query = select(OutboxMail).order_by(OutboxMail.id)
        if not everything:
            query = query.where(OutboxMail.status != "sent")
        return list(s.scalars(query))
