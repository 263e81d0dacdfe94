"""Re-run the rules over recorded mail, after the secretariat edits rules or config."""

from __future__ import annotations

from sqlalchemy import Engine, select

from . import db, recall
from .classify.forwards import is_bundle
from .desk import Desk, store_attachments, verdict_for
from .errors import MailbotError
from .models import Link, Message
from .parse import ParseError, parse_message
from .pipeline import Context, parts_of
from .receipts import RECEIPT_STATUSES
from .rows import (
    REPLY_ADDED,
    a_reply,
    apply_verdict,
    attachment_rows,
    merged_credits,
    merged_into,
    resent_of,
)


def reclassify(engine: Engine, desk: Desk, ids: list[int] | None = None,
               everything: bool = False) -> dict[str, int]:
    """Re-classify the messages *ids*, or all (``everything``), or those still
    ``needs_school``; each in its own transaction.  Returns counts of
    changed / unchanged / unreadable messages."""
    counts = {"changed": 0, "unchanged": 0, "unreadable": 0}
    query = select(Message.id).order_by(Message.id)
    if ids:
        query = query.where(Message.id.in_(ids))
    elif not everything:
        query = query.where(Message.status == "needs_school")
    with db.transaction(engine) as s:
        targets = list(s.scalars(query))
    if ids and (missing := sorted(set(ids) - set(targets))):
        raise MailbotError(f"没有编号为 {'、'.join(map(str, missing))} 的邮件，未做任何改动 "
                           f"(no such message)")
    for pk in targets:
        with db.transaction(engine) as s:
            msg = s.get(Message, pk)
            if msg.status == "ignored" and (a_reply(msg.status_reason) or
                                            resent_of() in (msg.status_reason or "")):
                counts["unchanged"] += 1  # what a reply added lives on in the submission it
                continue  # joined (or it added nothing); a mail sent again stays the copy it is
            try:
                raw = desk.store.path(msg.raw_path).read_bytes()
                parsed = parse_message(raw)
            except (ParseError, OSError):
                counts["unreadable"] += 1
                continue
            if msg.size > len(raw):  # too large: only its header was kept, as quarantined
                counts["unchanged"] += 1
                continue
            before = (msg.status, msg.school, msg.district, list(msg.kinds), msg.late,
                      [{**c, "links": c.get("links", [])} for c in msg.credits or ()])  # as now
            verdict, status, reason = verdict_for(db.KnownSenders(s), desk, parsed,
                                                  db.aware(msg.received_at),
                                                  forwarded_by=_forwarded_by(s, msg))
            replied = any(e.get("rule") == "school.reply" for e in msg.evidence or ()) or \
                s.scalar(select(Message.id).where(  # (a combined receipt's answer names no id)
                    Message.status == "ignored",
                    Message.status_reason.contains(merged_into(msg.id))).limit(1)) is not None
            old = _additions(msg) if replied else None
            events = [e for e in msg.evidence or () if e.get("rule") in (recall.KEPT, REPLY_ADDED)]
            apply_verdict(msg, verdict, status, reason)
            msg.evidence = [*msg.evidence, *events]  # a recall request stays noted
            if old:
                _keep(msg, old)
            split = _split(s, desk, msg, parsed, raw)
            after = (msg.status, msg.school, msg.district, list(msg.kinds), msg.late,
                     list(msg.credits or ()))
            counts["changed" if after != before or split else "unchanged"] += 1
    return counts


def _additions(msg: Message) -> dict:
    """What replies to its receipt may have added to *msg* (see ``replies.merge_reply``)."""
    return {"kinds": list(msg.kinds or ()), "plan_missing": list(msg.plan_missing or ()),
            "links": [(ln.url, ln.platform, ln.title, ln.size, ln.expires, ln.password)
                      for ln in msg.links],
            "credits": list(msg.credits or ()), "school": (msg.school, msg.district),
            "status": (msg.status, msg.status_reason)}


def _keep(msg: Message, old: dict) -> None:
    """Re-judged from its own original, *msg* keeps what replies added: their kinds, links
    and credits, the plan items they answered, the school one stated."""
    msg.kinds = [k for k in ("plan", "news", "video") if k in msg.kinds or k in old["kinds"]]
    msg.plan_missing = [f for f in msg.plan_missing or () if f in old["plan_missing"]]
    have = {ln.url for ln in msg.links}
    for url, platform, title, size, expires, password in old["links"]:
        if url not in have:
            msg.links.append(Link(position=len(msg.links), url=url, platform=platform,
                                  title=title, size=size, expires=expires, password=password))
    if old["credits"]:
        msg.credits = merged_credits(msg.credits or [], old["credits"])
    if msg.status == "needs_school" and old["status"][0] == "accepted":
        (msg.school, msg.district), (msg.status, msg.status_reason) = old["school"], old["status"]


def _split(session, desk: Desk, msg: Message, parsed, raw: bytes) -> int:
    """Record the mails a bundle forwards as its parts if that was never done (a bundle
    recorded before bundles were split, or quarantined at the time); return how many.
    Files it listed from inside them are theirs now (the files themselves stay)."""
    if not (is_bundle(parsed) and msg.status in RECEIPT_STATUSES) or db.parts(session, msg.id):
        return 0
    msg.attachments = [a for a in msg.attachments if not a.forwarded]
    session.flush()
    depth, above = 0, msg
    while above.parent_pk is not None:
        above, depth = db.get_message(session, above.parent_pk), depth + 1
    return sum(part.created + part.parts_recorded()
               for part in parts_of(Context(session, desk), raw, msg, depth))


def _forwarded_by(session, msg: Message) -> str | None:
    """The school of the bundle *msg* came in, if it came in one."""
    parent = db.get_message(session, msg.parent_pk) if msg.parent_pk else None
    return parent.school if parent else None


def quarantined(engine: Engine) -> list[Message]:
    with db.transaction(engine) as s:
        return list(s.scalars(select(Message).where(Message.status == "quarantined")
                              .order_by(Message.id)))


def release(engine: Engine, desk: Desk, pk: int) -> tuple[Message, int]:
    """The secretariat vouches for quarantined mail #pk: classify it trusting its
    attachments, file them, record who decided (no receipt is sent) and, for a bundle,
    the mails it forwards (each judged on its own); return it and how many parts it got."""
    with db.transaction(engine) as s:
        msg = s.get(Message, pk)
        if msg is None or msg.status != "quarantined":
            raise MailbotError(f"#{pk} 不是已隔离的邮件 (not quarantined)")
        if msg.files_removed_at:
            raise MailbotError(f"#{pk} 的原件已按保留期限删除，不能放行 (original removed)")
        try:
            raw = desk.store.path(msg.raw_path).read_bytes()
            parsed = parse_message(raw)
        except (ParseError, OSError) as e:
            raise MailbotError(f"#{pk} 无法读取或解析，不能放行 (unreadable): {e}") from None
        if msg.size > len(raw):  # too large: only its header was kept
            raise MailbotError(
                f"#{pk} 超过大小上限，只保存了邮件头，放行也没有内容可登记 (only the header was kept)。"
                "原件仍在邮箱中：请调高 [mailbox] max_message_mb，在邮箱网页版把这封邮件导出为 .eml，"
                "再用 mailbot import 导入")
        verdict, status, reason = verdict_for(db.KnownSenders(s), desk, parsed,
                                              db.aware(msg.received_at), trusted=True,
                                              forwarded_by=_forwarded_by(s, msg))
        if status == "quarantined":
            raise MailbotError(f"#{pk} 仍无法受理：{reason}")
        apply_verdict(msg, verdict, status, reason)
        msg.evidence = msg.evidence + [{"field": "status", "rule": "status.released",
                                        "detail": "秘书处已放行隔离邮件"}]
        if not msg.attachments:
            msg.attachments.extend(attachment_rows(store_attachments(desk.store, parsed)))
        return msg, _split(s, desk, msg, parsed, raw)
