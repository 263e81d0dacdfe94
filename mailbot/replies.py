"""Replies to receipts: the two pipeline stages that join a reply to the submission its
receipt was for, and add what it brings.

A school answers its receipt to name its school ("学校：…"; or its reply's own words or
address say it, which is not remembered for the address), send what the plan lacked or a
corrected file: the reply joins the submission (recorded itself as ``ignored``, "merged into #N"),
and an updated receipt goes out only when something was added.  A reply that only asks a
question, or that delivers a kind of material the submission lacked (news photos to a
plan), is not joined: it is a mail of its own (a question for the secretariat, or a new
submission, dated and acknowledged).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import db, receipts
from .classify.engine import Classification, plan_fields
from .classify.kinds import own_text
from .classify.school import find_school_by_name
from .desk import verdict_for
from .models import Attachment, Link, Message
from .parse import ParseError, parse_message
from .rows import (
    REPLY_ADDED,
    adds_nothing,
    answered,
    merged_credits,
    merged_into,
    verdict_values,
)

if TYPE_CHECKING:
    from .pipeline import Context, Intake


def join_reply(ctx: Context, it: Intake) -> bool:
    """A person's reply to a receipt joins the submission the receipt was for."""
    p = it.parsed
    if p is None or it.status not in receipts.RECEIPT_STATUSES:
        return False
    number = receipts.referenced_number(p.subject, p.headers)
    found = receipts.find_receipt(ctx.session, number) if number else None
    if found is None:
        return False
    directory = ctx.desk.rules.directory  # folded: "學校：西南民族大學" states a school too
    named = receipts.stated_school(directory.fold(own_text(p.text, ctx.desk.rules.kinds)))
    school = find_school_by_name(named, directory) if named else None
    if school is None and _only_asks(it.verdict):  # a question, for the secretariat to answer
        return False
    before = set(found.message.kinds or ())  # a bundle's or a leader's mail has none itself
    if school is None and found.message.status == "accepted" and before and it.verdict and \
            set(it.verdict.kinds) - before:
        return False  # material of a kind not sent before: a submission of its own, dated now
    it.joins, it.stated_school = found.message, school.name if school else None
    if school is None and found.message.school is None and it.verdict and \
            it.verdict.school in directory.by_name:
        it.found_school = it.verdict.school  # "我们是四川大学后勤处", or its school's mailbox
    it.also = tuple(m for m in receipts.combined_with(ctx.session, found)
                    if m.status == "needs_school" and m.sender == found.message.sender)
    it.status = "ignored"
    it.reason = f"回复回执 {number}，已并入 #{it.joins.id} {merged_into(it.joins.id)}"
    return False


def merge_reply(ctx: Context, it: Intake) -> bool:
    """Add the reply's school, files and links to the joined submission; re-acknowledge."""
    target, reply = it.joins, it.message
    if target is None or reply is None or not it.created:
        return False
    before = {m.id: _merged_state(m) for m in (target, *it.also)}
    if it.stated_school:
        school = ctx.desk.rules.directory.by_name[it.stated_school]
        said = f"发件人 {reply.sender} 回复回执写明学校：{school.name}"
        if reply.sender:
            db.remember_sender(ctx.session, reply.sender, school.name, "reply")
    elif it.found_school:  # no "学校：" line, but the reply says who it is: not remembered
        school = ctx.desk.rules.directory.by_name[it.found_school]
        why = next((e.detail for f, e in it.verdict.evidence if f == "school"), school.name)
        said = f"发件人 {reply.sender} 回复回执（{why}）→ {school.name}"
    if it.stated_school or it.found_school:
        for m in (target, *it.also):  # a combined receipt's answer names them all
            _set_school(m, school.name, school.district, said)
        if it.stated_school and ctx.desk.rules.directory.is_lead(school.name):
            credit_anew(ctx, target)
    have, files = {att.sha256 for att in target.attachments}, []
    for att in reply.attachments:
        if att.sha256 in have:  # the same file again (the reply sent twice): nothing new
            continue
        have.add(att.sha256)
        files.append(att)
        target.attachments.append(Attachment(
            position=len(target.attachments), filename=att.filename,
            content_type=att.content_type, size=att.size, sha256=att.sha256, path=att.path,
            inline=att.inline, forwarded=att.forwarded))
    known, links = {ln.url for ln in target.links}, []
    for ln in (it.verdict.links if it.verdict else ()):
        if ln.url not in known:
            known.add(ln.url)
            links.append(ln.url)
            target.links.append(Link(position=len(target.links), url=ln.url,
                                     platform=ln.platform, title=ln.title, size=ln.size,
                                     expires=ln.expires, password=ln.password))
    if files or links:  # what the mail itself brought stays known (a resend of it: resent.py)
        added = ([f"附件 {'、'.join(a.filename for a in files)}"] if files else []) + \
            ([f"链接 {'、'.join(links)}"] if links else [])
        target.evidence = [*target.evidence, {
            "field": "files", "rule": REPLY_ADDED,
            "detail": f"回复回执（#{reply.id}）补充了" + "，".join(added),
            "added": [a.sha256 for a in files] + links}]
    target.kinds = [k for k in ("plan", "news", "video")
                    if k in target.kinds or (it.verdict and k in it.verdict.kinds)]
    if target.plan_missing and it.parsed is not None:  # the reply adds what the plan lacked
        year = ctx.desk.cfg.campaign.year or db.aware(target.received_at).year
        target.plan_missing, target.plan_info, done = answered(
            list(target.plan_missing), dict(target.plan_info or {}),
            plan_fields(it.parsed, ctx.desk.rules, year))
        if done:
            target.evidence = [*target.evidence, {"field": "plan", "rule": "plan.reply",
                                                  "detail": f"回复补充了：{'、'.join(done)}"}]
    if it.verdict and it.verdict.credits:  # a leader's reply with more of its schools' files
        target.credits = merged_credits(target.credits or [],
                                        verdict_values(it.verdict, "", "")[0]["credits"])
    ctx.session.flush()
    changed = [m for m in (target, *it.also) if _merged_state(m) != before[m.id]]
    for m in changed if ctx.desk.send_receipts else ():  # each mail the reply changed
        receipts.queue_update(ctx.session, ctx.desk.cfg, m)
    if not changed:  # "收到，谢谢", a school stated again, a file sent twice: no news
        db.set_status(ctx.session, reply, "ignored", adds_nothing(target.id))
    return False


def _set_school(m: Message, school: str, district: str | None, said: str) -> None:
    """*m* is *school*'s, as a reply to its receipt *said* (accepted if it lacked one)."""
    m.school, m.district = school, district or None
    if m.status == "needs_school":
        m.status, m.status_reason = "accepted", ""
    m.evidence = [e for e in m.evidence if e["field"] != "school"] + [
        {"field": "school", "rule": "school.reply", "detail": said}]


def _only_asks(verdict: Classification | None) -> bool:
    """Whether the mail asks a question and delivers nothing (no kind, link or file)."""
    return verdict is not None and not verdict.kinds and not verdict.links and \
        any(e.rule == "kind.question" for _, e in verdict.evidence)


def _merged_state(m: Message) -> tuple:
    """What a reply can add to a submission, to tell whether it added anything."""
    return (m.school, m.status, len(m.attachments), len(m.links), tuple(m.kinds or ()),
            tuple(m.plan_missing or ()), repr(m.credits))


def credit_anew(ctx: Context, target: Message) -> None:
    """A reply named *target*'s school, a district lead school: judge the mail again, its
    sender now known, so that the files it carried for its schools count for them (and
    the school the filenames suggested is no longer taken for the sender's)."""
    try:
        parsed = parse_message(ctx.desk.store.path(target.raw_path).read_bytes())
    except (OSError, ParseError):
        return
    ctx.session.flush()  # the sender just remembered
    verdict = verdict_for(db.KnownSenders(ctx.session), ctx.desk, parsed,
                          db.aware(target.received_at))[0]
    if verdict.school == target.school and verdict.credits:
        values = verdict_values(verdict, "", "")[0]
        target.kinds, target.credits = values["kinds"], values["credits"]
        target.evidence = [e for e in target.evidence if e["field"] != "credits"] + [
            e for e in values["evidence"] if e["field"] == "credits"]
