"""Receipts: who gets one, its number, and the mail itself (rendered, not sent).

A receipt goes only to a person's real submission (status accepted or
needs_school), to its sender address (never a null or daemon address), within
the per-address limits.  Sending is the outbox's job.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from . import db, outbox
from .classify.auto import is_daemon_address
from .classify.links import LARGE
from .classify.plan import FIELDS as PLAN_TEMPLATE
from .compose import outgoing, safe_msgid, safe_subject, set_bodies
from .config import Config, District
from .models import BouncingAddress, Message, OutboxMail, Receipt
from .render import render
from .report import KIND_ZH, submission

PLATFORM_ZH = {
    "wechat_article": "微信推文", "wechat_channels": "微信视频号", "bilibili": "哔哩哔哩视频",
    "douyin": "抖音视频", "kuaishou": "快手视频", "tencent_video": "腾讯视频", "weibo": "微博",
    "youku": "优酷视频", "qq_large_attachment": "QQ邮箱超大附件",
    "netease_large_attachment": "网易邮箱超大附件", "coremail_large_attachment": "Coremail邮箱超大附件",
    "icloud_mail_drop": "iCloud邮件寄送（Mail Drop）大附件", "baidu_pan": "百度网盘", "other": "链接",
}
RECEIPT_STATUSES = ("accepted", "needs_school")
ENCODED = 57 / 78  # decoded bytes per byte of base64 in 76-character CRLF lines (a mail's files)


def may_receive(status: str, sender: str | None, own: frozenset[str]) -> str | None:
    """Why this message must get no receipt, or None when it may (RFC 3834)."""
    if status not in RECEIPT_STATUSES:
        return f"状态为 {status}，不发回执"
    if not sender or "@" not in sender:
        return "没有可回复的发件人地址"
    if sender in own or is_daemon_address(sender):
        return f"不向系统地址 {sender} 发回执"
    return None


def receipt_number(prefix: str, year: int, seq: int) -> str:
    """JLX2024-0042: prefix, campaign year, sequence (at least 4 digits)."""
    return f"{prefix}{year}-{seq:04d}"


def _link_view(link: dict, now: datetime | None = None) -> dict:
    """A link as a receipt lists it; *now* (local wall time) tells an expired one."""
    label = PLATFORM_ZH.get(link["platform"] or "other", "链接")
    note = ""
    if link["platform"] in LARGE:
        title = f"“{link['title']}”" if link.get("title") else ""
        size = f"（{link['size']}）" if link.get("size") else ""
        label = f"{label}{title}{size}"
        when = link.get("expires", "").replace("T", " ")
        gone = bool(when and now and when < now.strftime("%Y-%m-%d %H:%M")[:len(when)])
        note = (f"该超大附件已于 {when} 过期，秘书处无法下载：请重新发送文件，或改用网盘长期链接。"
                if gone else f"该超大附件将于 {when} 过期，秘书处会在此之前下载；如已过期或无法下载，"
                f"请重新发送或改用网盘长期链接。" if when
                else "超大附件链接通常 30 天后过期，秘书处会及时下载；如已过期，请重新发送。")
    elif link["platform"] == "baidu_pan":
        note = (f"提取码：{link['password']}" if link.get("password")
                else "未找到提取码，如有请回复告知。")
    return {"label": label, "url": link["url"], "note": note}


def _leader(cfg: Config, district: str | None, school: str | None = None,
            sender: str | None = None) -> District | None:
    """The district's leader as the receipt names it; None for the lead school itself (also
    when it forwarded a school's mail from its own address)."""
    found = next((d for d in cfg.districts if district and d.name == district), None)
    return None if found and (school and found.lead_school == school or sender and
                              found.email and found.email.lower() == sender.lower()) else found


def _deadlines(cfg: Config, today: date, delivered: Collection[str] = ()) -> list[str]:
    """What is still to come, phase by phase, but for the kinds *delivered* by this mail."""
    out = []
    for p in cfg.campaign.phases:
        if p.kind in delivered:
            continue
        name = p.name or KIND_ZH.get(p.kind, p.kind)
        if p.due and p.due >= today and p.opens and p.opens > today:  # news: after 七一 only
            out.append(f"{name}：{p.opens:%Y年%-m月%-d日}起、{p.due:%Y年%-m月%-d日}前报送")
        elif p.due and p.due >= today:
            out.append(f"{name}：{p.due:%Y年%-m月%-d日}前报送")
        elif p.opens and p.opens > today:
            out.append(f"{name}：{p.opens:%Y年%-m月%-d日}起报送")
    return out


def _problems(r: dict) -> list[str]:
    problems = []
    if len(r["plan_missing"]) >= len(PLAN_TEMPLATE):  # none found: not the template, or unread
        problems.append("未能在活动方案中找到通知所附模板的各项内容（" + "、".join(r["plan_missing"])
                        + "）。如未按模板填写，请按模板补充后回复本邮件；秘书处也将人工核对。")
    elif r["plan_missing"]:
        problems.append("活动方案缺少以下内容：" + "、".join(r["plan_missing"]) + "，请补充后回复本邮件。")
    problems += [f"{e['detail']}；如活动联系人不是这位，请回复本邮件更正。"
                 for e in r["evidence"] if e["rule"] == "plan.signature"]
    damaged = [e["detail"] for e in r["evidence"] if e["rule"] == "plan.damaged"]
    problems += [f"{detail}。" for detail in damaged]  # "附件《x》无法打开…，请重新发送"
    if not damaged and any(e["rule"] == "plan.unreadable" for e in r["evidence"]):
        problems.append("活动方案所在的附件（图片、扫描件、压缩包或表格等）读不到文字，系统未能核对模板六项内容，秘书处将人工查看。")
    rules = {e["rule"] for e in r["evidence"]}
    if "kind.ignored" in rules and "kind.question" not in rules and not (
            r["kinds"] or r["attachments"] or r["links"]):  # "西华大学活动方案", nothing inside
        said = "、".join(dict.fromkeys(
            name for e in r["evidence"] if e["rule"] == "kind.ignored"
            for name in KIND_ZH.values() if f"→ {name}" in e["detail"])) or "材料"
        problems.append(f"邮件说的是{said}，但其中没有附件、链接或相应内容，未能登记为材料；"
                        "如漏发了附件，请回复本邮件补发。")
    if r["late"]:
        late = [e["detail"] for e in r["evidence"] if e["rule"] == "phase.late"]
        problems.append("已超过报送截止时间：" + "；".join(late) + "。材料已登记，请知悉。")
    return problems


def echoed(r: dict) -> dict:
    """Submission *r* as a receipt quotes it: its subject through ``safe_subject`` (no
    controls, line separators or bidi overrides in the Subject header or the body)."""
    return {**r, "subject": safe_subject(r["subject"] or "")}


def part_view(part: Message | None, created: bool) -> dict:
    """One mail forwarded in a bundle as the bundle's receipt lists it: subject, original
    sender and what became of it (recorded for which school, or why not; None: it could
    not be read on its own)."""
    if part is None:
        return {"subject": "", "sender": "",
                "outcome": "无法单独读取，已随本邮件原件保存，秘书处将人工查看"}
    if not created:
        outcome = f"与此前收到的 #{part.id} 相同，未重复登记"
    elif part.status == "accepted":
        kinds = "、".join(KIND_ZH.get(k, k) for k in part.kinds) or "材料类别未识别"
        where = f"（{part.district}）" if part.district else ""
        missing = f"；活动方案缺少：{'、'.join(part.plan_missing)}" if part.plan_missing else ""
        outcome = f"登记为 {part.school}{where}，{kinds}，编号 #{part.id}{missing}"
    elif part.status == "needs_school":
        outcome = f"已登记为 #{part.id}，未能识别所属学校，秘书处将核实"
    elif part.status == "quarantined":
        outcome = f"已隔离，未作为材料登记（#{part.id}）：{part.status_reason}"
    else:
        outcome = f"不计为材料（#{part.id}）：{part.status_reason}"
    return {"subject": safe_subject(part.subject or ""), "sender": part.sender or "",
            "outcome": outcome}


def recorded_parts(session: Session, pk: int) -> list[dict]:
    """The mails bundle *pk* forwarded that were recorded, as its receipt lists them (a
    receipt written later — combined, updated — no longer knows of the ones it skipped as
    already recorded)."""
    return [part_view(m, True) for m in db.parts(session, pk)]


def credit_views(credits: list[dict] | None) -> list[dict]:
    """A leader's files of its schools as a receipt lists them (see classify.credits)."""
    return [{"school": c["school"], "files": "、".join([*c["files"], *c.get("links", ())]),
             "kinds": "、".join(KIND_ZH.get(k, k) for k in c["kinds"]) or "类别未识别",
             "plan_missing": "、".join(c["plan_missing"]), "late": bool(c.get("late"))}
            for c in credits or ()]


def build_receipt(cfg: Config, r: dict, number: str, now: datetime | None = None,
                  update: int = 0, parts: list[dict] = ()) -> EmailMessage:
    """The receipt mail for submission *r* (a ``report.submission`` dict);
    *update* > 0 makes the n-th updated receipt (own Message-ID, marked in the subject);
    *parts* (:func:`part_view`) are the mails a bundle forwarded."""
    now = now or datetime.now(UTC)
    r = echoed(r)
    tz = ZoneInfo(cfg.campaign.timezone)
    school_reason = next((e["detail"] for e in r["evidence"] if e["field"] == "school"), "")
    context = {
        "r": r, "number": number, "secretariat": cfg.secretariat,
        "received": datetime.fromisoformat(r["received_at"]).astimezone(tz)
                            .strftime("%Y年%-m月%-d日 %H:%M"),
        "school_reason": school_reason,
        "kinds": "、".join(KIND_ZH.get(k, k) for k in r["kinds"]),
        "files": r["attachments"], "links": [_link_view(x, now.astimezone(tz).replace(tzinfo=None)) for x in r["links"]],
        "problems": _problems(r), "deadlines": _deadlines(
            cfg, now.astimezone(tz).date(), r["kinds"] if r["status"] == "accepted" else ()),
        "leader": _leader(cfg, r["district"], r["school"], r["sender"]), "update": update, "parts": parts,
        "credits": credit_views(r.get("credits")),
    }
    override = cfg.receipts.template_dir
    mark = "（更新）" if update else ""
    mail = outgoing(cfg, r["sender"], f"[回执 {number}]{mark} {r['subject']}".strip(),
                    f"receipt-{number}{f'-u{update}' if update else ''}", now,
                    replying_to=r["message_id"])
    set_bodies(mail, render("receipt/receipt.txt", override, **context),
               render("receipt/receipt.html", override, **context))
    return mail


def over_limit(sent_times: list[datetime], now: datetime, per_hour: int, per_day: int) -> bool:
    """True when another receipt now would exceed the per-address limits."""
    hour = sum(1 for t in sent_times if now - t < timedelta(hours=1))
    day = sum(1 for t in sent_times if now - t < timedelta(days=1))
    return hour >= per_hour or day >= per_day


def queue(session: Session, cfg: Config, message: Message, own: frozenset[str],
          now: datetime | None = None, parts: list[tuple[Message | None, bool]] = ()
          ) -> Receipt | None:
    """Number and queue the receipt for *message* (written) in the caller's transaction;
    a bundle's receipt lists its *parts* (each mail forwarded in it, and whether it was
    recorded now).

    Returns None when no receipt is due (robot or own address; a bouncing address that
    writes again is no longer bouncing: the pipeline's ``track_bounces`` cleared it).
    Past the per-address limits the receipt is numbered but held (``outbox_pk`` None).
    The receipt comes back as a snapshot (:func:`db.snapshot`), also set as
    ``message.receipt``.
    """
    now = now or datetime.now(UTC)
    if may_receive(message.status, message.sender, own):
        return None
    sent = _sent_times(session, message.sender, now)
    pk = db.insert_receipt(session, message.id, now)
    receipt = db.snapshot(Receipt, id=pk, message_pk=message.id, created_at=now, outbox_pk=None,
                          number=receipt_number(cfg.receipts.prefix,
                                                cfg.campaign.year or now.year, pk))
    set_committed_value(receipt, "outbox", None)
    set_committed_value(message, "receipt", receipt)
    if not over_limit(sent, now, cfg.receipts.per_hour, cfg.receipts.per_day):
        r = submission(message, ZoneInfo(cfg.campaign.timezone))
        mail = build_receipt(cfg, r, receipt.number, now,
                             parts=[part_view(m, created) for m, created in parts])
        set_committed_value(receipt, "outbox_pk", outbox.enqueue(
            session, "receipt", mail, message.id, now))
    db.finish_receipt(session, pk, receipt.number, receipt.outbox_pk)
    return receipt


_SENT = select(OutboxMail.created_at).where(  # built once (every receipt asks)
    OutboxMail.kind == "receipt", OutboxMail.recipient == bindparam("address"),
    OutboxMail.created_at > bindparam("since"))


def _sent_times(session: Session, address: str, now: datetime) -> list[datetime]:
    return [_aware(t) for t in session.connection().scalars(
        _SENT, {"address": address, "since": now - timedelta(days=1)})]


def release_held(session: Session, cfg: Config, now: datetime | None = None) -> int:
    """Send one combined receipt per address whose held receipts are now within limits."""
    now = now or datetime.now(UTC)
    held = list(session.scalars(select(Receipt).where(Receipt.outbox_pk.is_(None))
                                .order_by(Receipt.id)))
    by_address: dict[str, list[Receipt]] = {}
    for receipt in held:
        if receipt.message.sender and not session.get(BouncingAddress, receipt.message.sender):
            by_address.setdefault(receipt.message.sender, []).append(receipt)
    tz = ZoneInfo(cfg.campaign.timezone)
    released = 0
    for address, group in by_address.items():
        if over_limit(_sent_times(session, address, now), now, cfg.receipts.per_hour,
                      cfg.receipts.per_day):
            continue
        items = [{"number": rc.number, "r": echoed(submission(rc.message, tz)),
                  "kinds": "、".join(KIND_ZH.get(k, k) for k in rc.message.kinds),
                  "parts": recorded_parts(session, rc.message_pk),
                  "credits": credit_views(rc.message.credits)} for rc in group]
        row = outbox.enqueue(session, "receipt", _combined(cfg, address, items, now),
                             group[0].message_pk, now)
        for rc in group:
            rc.outbox_pk = row
        released += 1
    return released


def _combined(cfg: Config, address: str, items: list[dict], now: datetime) -> EmailMessage:
    first = items[0]
    context = {"name": first["r"]["sender_name"], "items": items, "secretariat": cfg.secretariat}
    override = cfg.receipts.template_dir
    mail = outgoing(cfg, address, f"[回执 {first['number']} 等 {len(items)} 封] 合并回执",
                    f"receipt-{first['number']}-c{len(items)}", now)
    refs = " ".join(f"<{mid}>" for it in items if (mid := safe_msgid(it["r"]["message_id"])))
    if refs:
        mail["References"] = refs
    set_bodies(mail, render("receipt/combined.txt", override, **context),
               render("receipt/combined.html", override, **context))
    return mail


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


_NUMBER = re.compile(r"\[回执\s*([A-Za-z]*\d{4}-\d{4,})(?:\s*等\s*\d+\s*封)?\]")  # or combined
_REF = re.compile(r"<receipt-([A-Za-z]*\d{4}-\d{4,})(?:-[uc]\d+)?@")  # updated, combined
_SCHOOL_LINE = re.compile(r"^\s*(?:学校|单位|学校名称)\s*[:：]\s*(\S.{0,40}?)\s*$", re.MULTILINE)


def referenced_number(subject: str, headers: dict[str, str]) -> str | None:
    """The receipt number a reply refers to (subject tag, or In-Reply-To/References); for
    a combined receipt, the first one it lists."""
    if m := _NUMBER.search(subject):
        return m.group(1)
    refs = headers.get("in-reply-to", "") + " " + headers.get("references", "")
    m = _REF.search(refs)
    return m.group(1) if m else None


def stated_school(text: str) -> str | None:
    """The school a reply states on a line of its own, e.g. "学校：成都大学"; *text* in
    Simplified characters (``Directory.fold``: 學校/單位 are read as 学校/单位)."""
    m = _SCHOOL_LINE.search(text)
    return m.group(1).strip("。.，, ") if m else None


def find_receipt(session: Session, number: str) -> Receipt | None:
    return session.scalar(select(Receipt).where(Receipt.number == number))


def combined_with(session: Session, receipt: Receipt) -> list[Message]:
    """The other mails the combined receipt listing *receipt* acknowledged ([]: it went alone)."""
    return [] if receipt.outbox_pk is None else list(session.scalars(
        select(Message).join(Receipt, Receipt.message_pk == Message.id).where(
            Receipt.outbox_pk == receipt.outbox_pk, Receipt.id != receipt.id).order_by(Message.id)))


def queue_too_large(session: Session, cfg: Config, message: Message, own: frozenset[str],
                    now: datetime | None = None) -> int | None:
    """Tell a person their mail (written) was too large to take (never a robot, once per
    mail), with the size of its files before encoding (:data:`ENCODED`: only the header was
    read); return the outbox row's id."""
    if may_receive("accepted", message.sender, own):
        return None
    now = now or datetime.now(UTC)
    r = echoed(submission(message, ZoneInfo(cfg.campaign.timezone)))
    limit = cfg.mailbox.max_message_mb
    context = {"r": r, "limit": limit, "size_mb": message.size / 2**20,
               "files_mb": message.size * ENCODED / 2**20, "files_limit_mb": limit * ENCODED,
               "secretariat": cfg.secretariat}
    override = cfg.receipts.template_dir
    mail = outgoing(cfg, message.sender, f"[邮件过大，未能接收] {r['subject']}".strip(),
                    f"too-large-{message.id}-{message.sha256[:12]}", now,
                    replying_to=r["message_id"])
    set_bodies(mail, render("receipt/too_large.txt", override, **context))
    return outbox.enqueue(session, "notice", mail, message.id, now)


def queue_update(session: Session, cfg: Config, message: Message,
                 now: datetime | None = None) -> int | None:
    """Queue one updated receipt for *message* (after a reply added to it)."""
    receipt = message.receipt
    if receipt is None or message.sender is None or session.get(BouncingAddress, message.sender):
        return None
    now = now or datetime.now(UTC)
    sent = session.scalar(select(func.count()).select_from(OutboxMail).where(
        OutboxMail.kind == "receipt", OutboxMail.message_pk == message.id)) or 0
    r = submission(message, ZoneInfo(cfg.campaign.timezone))
    return outbox.enqueue(session, "receipt",
                          build_receipt(cfg, r, receipt.number, now, update=sent + 1,
                                        parts=recorded_parts(session, message.id)),
                          message.id, now)


_BOUNCED = re.compile(rb"<receipt-([A-Za-z]*\d{4}-\d{4,})(?:-[uc]\d+)?@")  # updated, combined


def note_bounce(session: Session, raw: bytes, now: datetime | None = None) -> list[str]:
    """Mark the recipients of our receipts quoted in a bounce as bouncing; return them."""
    marked = []
    for number in dict.fromkeys(m.decode() for m in _BOUNCED.findall(raw)):
        receipt = find_receipt(session, number)
        address = receipt.message.sender if receipt else None
        if address and session.get(BouncingAddress, address) is None:
            session.add(BouncingAddress(address=address, since=now or datetime.now(UTC),
                                        reason=f"回执 {number} 被退回"))
            marked.append(address)
    return marked


# built once; run on the session's connection: no autoflush, no ORM loading (an address is
# marked bouncing only by a bounce's own transaction, never before a lookup in the same one)
_BOUNCING = select(BouncingAddress.address).where(BouncingAddress.address == bindparam("a"))


def clear_bounce(session: Session, address: str | None) -> None:
    """Mail from *address* arrived again: receipts to it resume."""
    if address and session.connection().scalar(_BOUNCING, {"a": address}) and \
            (row := session.get(BouncingAddress, address)):
        session.delete(row)
        session.flush()


def bouncing(session: Session) -> list[BouncingAddress]:
    return list(session.scalars(select(BouncingAddress).order_by(BouncingAddress.since)))
