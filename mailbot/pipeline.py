"""The intake pipeline: stages listed as data, one tiny interpreter, one transaction per mail.

Each stage is ``stage(ctx, intake) -> bool``; returning ``True`` ends the
pipeline early (a duplicate).  :func:`process` runs the stages for one raw
message inside its own transaction: if a stage has a bug, the message is
recorded as quarantined with the reason instead; if the database or the disk
fails, nothing is recorded and a :class:`StorageError` propagates, so the
caller fetches the mail again next time.  Nothing is ever lost.  The mails a bundle
forwards (a district leader passing on several schools' mail) run :data:`PART_STAGES` in
the bundle's transaction, each recorded as a submission of its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from . import db, receipts
from .classify.auto import is_bounce
from .classify.engine import Classification
from .classify.forwards import is_bundle
from .desk import Desk, store_attachments, verdict_for
from .filing import Stored, sha256
from .fingerprint import content_hash, peek_message_id
from .models import Message
from .parse import ParsedMessage, ParseError, forwarded_originals, parse_message
from .prepare import Prepared, still_valid
from .recall import flag_recalled
from .replies import join_reply, merge_reply
from .resent import skip_resent
from .rows import attachment_values, resent_of, verdict_values
from .spool import Spool

log = logging.getLogger(__name__)
MAX_BUNDLE_DEPTH = 2  # a bundle inside a bundle is split too; one more level deep is not


@dataclass
class Context:
    session: Session
    desk: Desk


@dataclass
class Intake:
    """One message on its way through the stages (``raw`` is the spool's mmap for a
    spooled message)."""

    raw: bytes
    source: str
    received_at: datetime | None = None
    sha256: str = ""
    message_id: str | None = None
    content_sha256: str = ""
    parsed: ParsedMessage | None = None
    status: str = "needs_school"
    reason: str = ""
    verdict: Classification | None = None
    oversize: int | None = None  # the real size when only the header was read (too large)
    joins: Message | None = None  # the submission this mail replies to (via its receipt)
    stated_school: str | None = None  # a reply's "学校：…"
    found_school: str | None = None  # ... or the school its own classification found
    also: tuple[Message, ...] = ()  # the other mails a combined receipt it answers listed
    raw_stored: Stored | None = None
    files: list[tuple[int, object, Stored, bool]] = field(default_factory=list)
    message: Message | None = None
    created: bool = False
    spool: Spool | None = None
    prepared: Prepared | None = None  # a worker's parse, verdict and filed attachments
    parent_pk: int | None = None  # the bundle this mail was forwarded in (a part)...
    forwarded_by: str | None = None  # ... that bundle's school...
    depth: int = 0  # ... and how many bundles it is inside
    parts: list[Intake] = field(default_factory=list)  # a bundle's forwarded mails

    def parts_recorded(self) -> int:
        """How many mails forwarded in this bundle (and in bundles inside it) were recorded."""
        return sum(part.created + part.parts_recorded() for part in self.parts)


def fingerprint(ctx: Context, it: Intake) -> bool:
    it.sha256 = it.raw_stored.sha256 if it.raw_stored else \
        it.spool.sha256 if it.spool else sha256(it.raw)
    it.message_id = db.clean(it.prepared.message_id if it.prepared else peek_message_id(it.raw))
    return False


def skip_duplicate(ctx: Context, it: Intake) -> bool:
    """Same raw bytes, or the same Message-ID with the same content apart from trace
    fields — or, where either mail came forwarded in a bundle (whose client writes the
    header anew), the same Message-ID, sender and subject.  The content hash costs a
    full copy of the mail, so it is computed only when another mail has this Message-ID
    (and filled in for that one if missing)."""
    def same_content(earlier: Message) -> bool:
        if earlier.parent_pk is not None or it.parent_pk is not None:
            if it.parsed is None:
                parse(ctx, it)  # parsed here only when it matters (the stage will not redo it)
            p = it.parsed
            return p is not None and \
                (earlier.sender, earlier.subject) == (db.clean(p.sender), db.clean(p.subject))
        if not earlier.content_sha256:
            try:
                earlier.content_sha256 = content_hash(
                    ctx.desk.store.path(earlier.raw_path).read_bytes())
            except OSError:  # its raw file is gone (retention): cannot tell
                return False
        it.content_sha256 = it.content_sha256 or content_hash(it.raw)
        return earlier.content_sha256 == it.content_sha256

    it.message = db.find_duplicate(ctx.session, it.sha256, it.message_id, same_content)
    return it.message is not None


def parse(ctx: Context, it: Intake) -> bool:
    if it.parsed is not None:  # the duplicate check needed it already
        return False
    if it.prepared and still_valid(it.prepared, db.KnownSenders(ctx.session)):
        it.parsed = it.prepared.parsed
        if it.parsed is None:
            it.status, it.reason = "quarantined", it.prepared.parse_error
        return False
    it.prepared = None  # a sender it consulted changed meanwhile: do it all here
    try:
        it.parsed = parse_message(it.raw, it.spool.drop if it.spool else None)
    except ParseError as e:
        it.status, it.reason = "quarantined", str(e)
    return False


def judge(ctx: Context, it: Intake) -> bool:
    if it.parsed is None:
        return False
    it.received_at = it.received_at or it.parsed.date or datetime.now(UTC)
    pre = it.prepared
    it.verdict, it.status, it.reason = (pre.verdict, pre.status, pre.reason) if pre else \
        verdict_for(db.KnownSenders(ctx.session), ctx.desk, it.parsed, it.received_at,
                    forwarded_by=it.forwarded_by)
    if it.oversize and it.status != "ignored":
        limit = ctx.desk.cfg.mailbox.max_message_mb
        it.status = "quarantined"
        it.reason = (f"邮件过大（{it.oversize / 2**20:.1f} MB，超过 {limit} MB 上限），仅保存了邮件头，"
                     f"原件留在邮箱中 (message too large)")
    elif it.depth >= MAX_BUNDLE_DEPTH and is_bundle(it.parsed) and it.status != "ignored":
        it.status = "quarantined"
        it.reason = (f"汇总邮件层层转发超过 {MAX_BUNDLE_DEPTH} 层，未再拆分，请人工查看 "
                     f"(bundles nested too deep)")
    return False


def file_raw(ctx: Context, it: Intake) -> bool:
    if it.raw_stored:  # filed on the way in (the poll's fetch thread)
        return False
    store = ctx.desk.store
    it.raw_stored = store.adopt("raw", it.spool, ".eml") if it.spool else \
        store.put("raw", it.raw, ".eml", digest=it.sha256)
    return False


def file_attachments(ctx: Context, it: Intake) -> bool:
    if it.parsed is None or it.status == "quarantined":
        return False  # a quarantined mail's files stay inside its .eml, never filed
    it.files = list(it.prepared.files or ()) if it.prepared else \
        store_attachments(ctx.desk.store, it.parsed)
    return False


def record(ctx: Context, it: Intake) -> bool:
    p = it.parsed
    now = datetime.now(UTC)
    verdict, links = verdict_values(it.verdict, it.status, it.reason)
    values = dict(
        sha256=it.sha256, content_sha256=it.content_sha256,
        message_id=it.message_id,
        sender=db.clean(p.sender if p else None), sender_name=db.clean(p.sender_name if p else ""),
        subject=db.clean(p.subject if p else ""), sent_at=p.date if p else None,
        received_at=it.received_at or (p.date if p and p.date else None) or now,
        recorded_at=now, source=db.clean(it.source), size=it.oversize or len(it.raw),
        raw_path=it.raw_stored.path, notes=list(p.defects) if p else [], files_removed_at=None,
        parent_pk=it.parent_pk, **verdict)
    it.message = db.insert_message(ctx.session, values, attachment_values(it.files), links)
    it.created = True
    return False


def record_parts(ctx: Context, it: Intake) -> bool:
    """Record each mail forwarded in a bundle as a submission of its own: see
    :func:`parts_of`.  Not for quarantined or ignored mail, but for a reply to a receipt."""
    if it.created and it.parsed is not None and is_bundle(it.parsed) and \
            (it.status in receipts.RECEIPT_STATUSES or it.joins is not None):
        it.parts = parts_of(ctx, it.raw, it.message, it.depth)
    return False


def parts_of(ctx: Context, raw: bytes, bundle: Message, depth: int = 0) -> list[Intake]:
    """Record each mail forwarded in the *bundle* (*raw*, a mail
    :func:`~.classify.forwards.is_bundle` says is one) as a submission of its own, a part
    of the bundle, in the caller's transaction: what a district leader passes on is
    credited to the school that wrote it.  A part already recorded (the school wrote to
    us too, or an earlier bundle carried it) is not recorded again.  Parts get no
    receipt of their own: the bundle's lists them.  *depth*: how many bundles the bundle
    is inside (one nested :data:`MAX_BUNDLE_DEPTH` deep is quarantined, not split)."""
    parts = []
    for n, data in enumerate(forwarded_originals(raw), 1):
        part = Intake(data or b"", f"{bundle.source}#{n}", db.aware(bundle.received_at),
                      parent_pk=bundle.id, forwarded_by=bundle.school, depth=depth + 1)
        if data is None:  # kept inside the bundle's original; a person has to look
            log.warning("%s: 转发的第 %d 封邮件无法单独读取，随汇总邮件原件保存 "
                        "(a forwarded mail cannot be written back)", bundle.source, n)
        else:
            run(ctx, part, PART_STAGES)
            log.info("%s id=%s school=%s status=%s%s", part.source, part.message.id,
                     part.message.school, part.message.status,
                     "" if part.created else " duplicate")
        parts.append(part)
    return parts


def track_bounces(ctx: Context, it: Intake) -> bool:
    """A bounce of our receipt stops receipts to that address; its next mail resumes them."""
    if it.message is None or not it.created:
        return False
    if it.status == "ignored" and it.joins is None and it.parsed and is_bounce(it.parsed):
        receipts.note_bounce(ctx.session, it.raw)
    elif it.status in receipts.RECEIPT_STATUSES or resent_of() in it.reason or \
            it.joins is not None:  # it writes again (a reply to a receipt too)
        receipts.clear_bounce(ctx.session, it.message.sender)
    return False


def queue_receipt(ctx: Context, it: Intake) -> bool:
    if it.message is None or not it.created or not ctx.desk.send_receipts:
        return False
    if it.oversize and it.status == "quarantined":
        receipts.queue_too_large(ctx.session, ctx.desk.cfg, it.message, ctx.desk.own_addresses)
        return False
    receipts.queue(ctx.session, ctx.desk.cfg, it.message, ctx.desk.own_addresses,
                   parts=[(part.message, part.created) for part in it.parts])
    return False


Stage = Callable[[Context, Intake], bool]
STAGES: tuple[Stage, ...] = (fingerprint, skip_duplicate, parse, judge, join_reply, file_raw,
                             file_attachments, skip_resent, flag_recalled, record, record_parts,
                             track_bounces, merge_reply, queue_receipt)
PART_STAGES: tuple[Stage, ...] = (fingerprint, skip_duplicate, parse, judge, file_raw,
                                  file_attachments, record, record_parts)


def run(ctx: Context, it: Intake, stages: tuple[Stage, ...] = STAGES) -> Intake:
    """Run *stages* over *it* in order until one returns True."""
    for stage in stages:
        if stage(ctx, it):
            break
    return it


AfterHook = Callable[[Session, Message], None]


def process(engine: Engine, desk: Desk, raw: bytes | Spool, source: str,
            received_at: datetime | None = None, after: AfterHook | None = None,
            oversize: int | None = None, stored: Stored | None = None,
            prepared: Prepared | None = None) -> Intake:
    """Record one raw message in its own transaction; *after* runs in that transaction.

    *raw* is the message's bytes, or a finished :class:`Spool` (the caller closes
    it afterwards); *stored* says where it was already filed, *prepared* what a worker
    made of it (:mod:`mailbot.prepare`).  Returns the finished
    :class:`Intake` (``created`` False for a duplicate).
    *oversize* (the real size) says *raw* is only the header of a message too
    large to take: it is recorded as quarantined and its sender told.
    Raises only :class:`StorageError`, when the database or the disk fails: the
    transaction is rolled back, nothing recorded, so the caller fetches the mail again.
    """
    with db.storage_errors(f"登记 {source} 失败，邮件未登记，稍后重试 (not recorded)"):
        return _process(engine, desk, raw, source, received_at, after, oversize, stored,
                        prepared)


def _process(engine: Engine, desk: Desk, raw: bytes | Spool, source: str,
             received_at: datetime | None, after: AfterHook | None,
             oversize: int | None, stored: Stored | None, prepared: Prepared | None) -> Intake:
    """:func:`process` without the translation of storage errors."""
    def attempt(stages: tuple[Stage, ...], **preset) -> Intake:
        started = time.monotonic()
        with db.transaction(engine, durable=False) as session:
            it = run(Context(session, desk), Intake(
                spool.buf if spool else raw, source, received_at, oversize=oversize,
                spool=spool, raw_stored=stored, **({"prepared": prepared} | preset)), stages)
            if after:
                after(session, it.message)
        m = it.message
        log.info("%s id=%s school=%s kinds=%s status=%s%s ms=%d", source, m.id, m.school,
                 ",".join(m.kinds or []), m.status, "" if it.created else " duplicate",
                 (time.monotonic() - started) * 1000)
        return it

    spool = raw if isinstance(raw, Spool) else None
    for tries in range(2):
        try:
            return attempt(STAGES)
        except IntegrityError:
            if tries:  # a concurrent run recorded it first; the retry finds the duplicate
                raise
        except (SQLAlchemyError, OSError):
            raise
        except Exception as e:  # a bug in a stage: keep the mail, say why
            log.exception("stage failed on %s", source)
            reason = f"处理出错，已隔离 (internal error, quarantined): {type(e).__name__}: {e}"
            return attempt((fingerprint, skip_duplicate, file_raw, record),
                           status="quarantined", reason=reason[:500])
    raise AssertionError("unreachable")
