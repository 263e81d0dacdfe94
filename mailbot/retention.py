"""Retention: what ``[retention]`` says is due for removal, and removing it.

Each rule is a number of days (0 = keep forever), counted from a message's
``recorded_at`` or an outbox mail's ``created_at``:

* ``ignored_days``: bounces, auto-replies, list mail — the original .eml and any filed file;
* ``quarantine_days``: mail still quarantined — its original .eml;
* ``submissions_days``: accepted and needs_school mail — the original and its attachments;
* ``outbox_days``: sent or failed outbox mail — the body.  The row stays, because its
  unique Message-ID is what keeps a digest or an updated receipt from going out twice;
  pending and unconfirmed mail is never touched.

Rows are never deleted: a message gets ``files_removed_at`` and a note, so
``submissions --json``, receipts and duplicate detection keep working.  Files are
content-addressed and shared, so a file goes only when no message still keeping
its files references it; this is checked again after the rows are committed, and
:meth:`FileStore.remove` keeps a file an intake put in the last hour.  A file an
interrupted run left behind is removed by the next run ("leftover").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, selectinload

from . import db
from .config import Retention
from .filing import FileStore
from .fingerprint import content_hash
from .models import Attachment, Message, OutboxMail
from .rows import merged_into

RULES = {"ignored": "ignored_days", "quarantined": "quarantine_days",
         "accepted": "submissions_days", "needs_school": "submissions_days"}
LEFTOVER = "leftover"


@dataclass(frozen=True)
class Item:
    """One message whose files go, or one outbox mail whose body goes."""

    kind: str                     # "message" or "outbox"
    pk: int
    rule: str                     # the [retention] key, or LEFTOVER
    status: str
    subject: str
    at: datetime                  # recorded_at / created_at
    files: tuple[str, ...] = ()   # blobs to delete: referenced by nothing kept
    bytes: int = 0                # what removing it frees (files on disk, or the body)


@dataclass
class Plan:
    now: datetime
    items: list[Item] = field(default_factory=list)
    shared: set[str] = field(default_factory=set)  # blobs kept: still used by kept mail
    recent: set[str] = field(default_factory=set)  # blobs kept: just put again (next run)
    freed: int = 0                                  # bytes actually freed (after apply)

    @property
    def bytes(self) -> int:
        return sum(it.bytes for it in self.items)

    def as_dict(self) -> dict:
        """The plan as JSON-ready data (``mailbot retention --json``)."""
        return {"at": self.now.isoformat(), "bytes": self.bytes, "freed": self.freed,
                "shared_kept": len(self.shared), "recent_kept": len(self.recent),
                "items": [{"kind": it.kind, "id": it.pk, "rule": it.rule, "status": it.status,
                           "subject": it.subject, "at": it.at.isoformat(),
                           "files": list(it.files), "bytes": it.bytes} for it in self.items]}


def cutoffs(r: Retention, now: datetime) -> dict[str, datetime]:
    """{rule key: moment before which records are due}, for the rules that are on."""
    return {key: now - timedelta(days=getattr(r, key))
            for key in Retention.__dataclass_fields__ if getattr(r, key) > 0}


def _paths(m: Message) -> list[str]:
    return list(dict.fromkeys([m.raw_path, *(a.path for a in m.attachments)]))


def live_paths(s: Session, leaving: set[int]) -> set[str]:
    """Blob paths referenced by messages that keep their files (those in *leaving* aside)."""
    kept = Message.files_removed_at.is_(None)
    raws = s.execute(select(Message.id, Message.raw_path).where(kept))
    atts = s.execute(select(Attachment.message_pk, Attachment.path).join(Message).where(kept))
    return {path for pk, path in chain(raws, atts) if pk not in leaving}


def _due_messages(s: Session, cut: dict[str, datetime]) -> list[Message]:
    """Messages keeping their files whose status rule is on and whose time is up."""
    found: list[Message] = []
    for status, key in RULES.items():
        if key in cut:
            found += s.scalars(select(Message).options(selectinload(Message.attachments)).where(
                Message.status == status, Message.files_removed_at.is_(None),
                Message.recorded_at < cut[key]).order_by(Message.id))
    return sorted((m for m in found if _rule(m) in cut and db.aware(m.recorded_at) < cut[_rule(m)]),
                  key=lambda m: m.id)


def _rule(m: Message) -> str:
    """The retention rule for *m*: a reply merged into a submission is kept as long as
    submissions are (its original holds what it added: a school, files)."""
    merged = m.status == "ignored" and merged_into() in (m.status_reason or "")
    return "submissions_days" if merged else RULES[m.status]


def _claim(plan: Plan, store: FileStore, m: Message, rule: str, live: set[str],
           claimed: set[str]) -> Item:
    """The item for message *m*: its blobs not live, not claimed by an earlier item, on disk."""
    files, size = [], 0
    for path in _paths(m):
        if path in live:
            if rule != LEFTOVER:
                plan.shared.add(path)
        elif path not in claimed:
            claimed.add(path)
            if (n := store.size(path)) is not None:
                files.append(path)
                size += n
    return Item("message", m.id, rule, m.status, m.subject, db.aware(m.recorded_at),
                tuple(files), size)


def _outbox(s: Session, before: datetime) -> list[Item]:
    """Sent or failed outbox mail created before *before* that still has its body."""
    rows = s.execute(select(OutboxMail.id, OutboxMail.status, OutboxMail.subject,
                            OutboxMail.created_at, func.length(OutboxMail.raw)).where(
        OutboxMail.status.in_(("sent", "failed")), OutboxMail.body_removed_at.is_(None),
        OutboxMail.created_at < before).order_by(OutboxMail.id))
    return [Item("outbox", pk, "outbox_days", status, subject, db.aware(at), (), size or 0)
            for pk, status, subject, at, size in rows]


def plan(engine: Engine, store: FileStore, r: Retention, now: datetime | None = None) -> Plan:
    """What is due now under *r*; reads only, changes nothing."""
    result = Plan(now or datetime.now(UTC))
    cut = cutoffs(r, result.now)
    with db.transaction(engine) as s:
        due = _due_messages(s, cut)
        live = live_paths(s, {m.id for m in due})
        claimed: set[str] = set()
        result.items += [_claim(result, store, m, _rule(m), live, claimed) for m in due]
        retired = s.scalars(select(Message).options(selectinload(Message.attachments))
                            .where(Message.files_removed_at.is_not(None)).order_by(Message.id))
        for m in retired:
            if (left := _claim(result, store, m, LEFTOVER, live, claimed)).files:
                result.items.append(left)
        if "outbox_days" in cut:
            result.items += _outbox(s, cut["outbox_days"])
    return result


def note(rule: str, r: Retention, now: datetime) -> str:
    """The note a message keeps once its files are gone."""
    return (f"{now.isoformat(timespec='seconds')} 按保留期限（{rule} = {getattr(r, rule)} 天）"
            "删除了原件和附件")


def apply(engine: Engine, store: FileStore, r: Retention, p: Plan) -> Plan:
    """Carry out *p*: mark the rows in one transaction, then delete the blobs still
    unreferenced once it has committed.  A row whose status changed since the plan
    (released, retried) is left alone.  Idempotent; sets ``p.freed``."""
    hashes = _content_hashes(engine, store, p)  # read before the transaction: no lock held
    with db.transaction(engine) as s:
        for it in p.items:
            if it.kind == "outbox":
                done = s.execute(update(OutboxMail).where(
                    OutboxMail.id == it.pk, OutboxMail.status == it.status,
                    OutboxMail.body_removed_at.is_(None))
                    .values(raw=b"", body_removed_at=p.now))
                p.freed += it.bytes if done.rowcount else 0
            elif it.rule != LEFTOVER and (m := s.get(Message, it.pk)).files_removed_at is None \
                    and m.status == it.status:
                m.files_removed_at = p.now
                m.notes = [*(m.notes or []), note(it.rule, r, p.now)]
                m.content_sha256 = m.content_sha256 or hashes.get(m.id, "")
    with db.transaction(engine) as s:
        live = live_paths(s, set())
    for path in (path for it in p.items for path in it.files):
        if path in live:
            p.shared.add(path)
        elif (freed := store.remove(path)) is None:
            p.recent.add(path)
        else:
            p.freed += freed
    return p


def _content_hashes(engine: Engine, store: FileStore, p: Plan) -> dict[int, str]:
    """The content hash (:func:`~.fingerprint.content_hash`) of each message *p* retires
    that has none yet, from its original before it goes: a copy of the mail that comes
    again (``import`` of an export, another delivery) is then still known for a duplicate,
    which the intake tells by that hash only while it can read the original."""
    due = {it.pk for it in p.items if it.kind == "message" and it.rule != LEFTOVER}
    with db.transaction(engine) as s:
        rows = s.execute(select(Message.id, Message.raw_path, Message.content_sha256)
                         .where(Message.files_removed_at.is_(None))).all() if due else []
    hashes = {}
    for pk, rel, known in rows:
        if pk in due and not known:
            try:
                hashes[pk] = content_hash(store.path(rel).read_bytes())
            except OSError:  # already gone: nothing to read
                pass
    return hashes


def run(engine: Engine, store: FileStore, r: Retention, dry_run: bool = False,
        now: datetime | None = None) -> Plan:
    """Plan, and unless *dry_run* apply, the retention rules *r*."""
    p = plan(engine, store, r, now)
    return p if dry_run else apply(engine, store, r, p)
