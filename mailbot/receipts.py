"""Receipts: who gets one, its number, and the mail itself (rendered, not sent).

A receipt goes only to a person's real submission (status accepted or
needs_school), to its sender address (never a null or daemon address), within
the per-address limits.  Sending is the outbox's job.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import outbox
from .classify.auto import is_daemon_address
from .config import Config, District
from .models import BouncingAddress, Message, OutboxMail, Receipt
from .render import render
from .report import KIND_ZH, submission

PLATFORM_ZH = {
    "wechat_article": "微信推文", "wechat_channels": "微信视频号", "bilibili": "哔哩哔哩视频",
    "douyin": "抖音视频", "kuaishou": "快手视频", "tencent_video": "腾讯视频", "weibo": "微博",
    "youku": "优酷视频", "qq_large_attachment": "QQ邮箱超大附件",
    "netease_large_attachment": "网易邮箱超大附件", "baidu_pan": "百度网盘", "other": "链接",
}
RECEIPT_STATUSES = ("accepted", "needs_school")


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


def _link_view(link: dict) -> dict:
    label = PLATFORM_ZH.get(link["platform"] or "other", "链接")
    note = ""
    if link["platform"] in ("qq_large_attachment", "netease_large_attachment"):
        title = f"“{link['title']}”" if link.get("title") else ""
        size = f"（{link['size']}）" if link.get("size") else ""
        label = f"{label}{title}{size}"
        when = link.get("expires", "").replace("T", " ")
        note = (f"该超大附件将于 {when} 过期，请在此之前保持链接有效，或改用网盘长期链接。" if when
                else "超大附件链接通常 30 天后过期，请保持链接有效。")
    elif link["platform"] == "baidu_pan":
        note = (f"提取码：{link['password']}" if link.get("password")
                else "未找到提取码，如有请回复告知。")
    return {"label": label, "url": link["url"], "note": note}


def _leader(cfg: Config, district: str | None) -> District | None:
    return next((d for d in cfg.districts if district and d.name == district), None)


def _deadlines(cfg: Config, today: date) -> list[str]:
    out = []
    for p in cfg.campaign.phases:
        name = p.name or KIND_ZH.get(p.kind, p.kind)
        if p.due and p.due >= today:
            out.append(f"{name}：{p.due:%Y年%-m月%-d日}前报送")
        elif p.opens and p.opens > today:
            out.append(f"{name}：{p.opens:%Y年%-m月%-d日}起报送")
    return out


def _problems(r: dict) -> list[str]:
    problems = []
    if r["plan_missing"]:
        problems.append("活动方案缺少以下内容：" + "、".join(r["plan_missing"]) + "，请补充后回复本邮件。")
    if r["late"]:
        late = [e["detail"] for e in r["evidence"] if e["rule"] == "phase.late"]
        problems.append("已超过报送截止时间：" + "；".join(late) + "。材料已登记，请知悉。")
    return problems


def build_receipt(cfg: Config, r: dict, number: str, now: datetime | None = None) -> EmailMessage:
    """The receipt mail for submission *r* (a ``report.submission`` dict)."""
    now = now or datetime.now(UTC)
    tz = ZoneInfo(cfg.campaign.timezone)
    school_reason = next((e["detail"] for e in r["evidence"] if e["field"] == "school"), "")
    context = {
        "r": r, "number": number, "secretariat": cfg.secretariat,
        "received": datetime.fromisoformat(r["received_at"]).astimezone(tz)
                            .strftime("%Y年%-m月%-d日 %H:%M"),
        "school_reason": school_reason,
        "kinds": "、".join(KIND_ZH.get(k, k) for k in r["kinds"]),
        "files": r["attachments"], "links": [_link_view(x) for x in r["links"]],
        "problems": _problems(r), "deadlines": _deadlines(cfg, now.astimezone(tz).date()),
        "leader": _leader(cfg, r["district"]),
    }
    override = cfg.receipts.template_dir
    domain = (cfg.smtp.from_address or cfg.mailbox.username).rpartition("@")[2] or "mailbot"
    mail = EmailMessage()
    mail["From"] = formataddr((cfg.smtp.from_name, cfg.smtp.from_address))
    mail["To"] = r["sender"]
    mail["Subject"] = f"[回执 {number}] {r['subject']}".strip()
    mail["Date"] = format_datetime(now.astimezone(tz))
    mail["Message-ID"] = f"<receipt-{number}@{domain}>"
    if r["message_id"]:
        mail["In-Reply-To"] = f"<{r['message_id']}>"
        mail["References"] = f"<{r['message_id']}>"
    mail["Auto-Submitted"] = "auto-replied"
    mail["Precedence"] = "bulk"
    mail["X-Auto-Response-Suppress"] = "All"
    mail["X-Loop"] = cfg.smtp.from_address
    mail.set_content(render("receipt/receipt.txt", override, **context))
    mail.add_alternative(render("receipt/receipt.html", override, **context), subtype="html")
    return mail


def over_limit(sent_times: list[datetime], now: datetime, per_hour: int, per_day: int) -> bool:
    """True when another receipt now would exceed the per-address limits."""
    hour = sum(1 for t in sent_times if now - t < timedelta(hours=1))
    day = sum(1 for t in sent_times if now - t < timedelta(days=1))
    return hour >= per_hour or day >= per_day


def queue(session: Session, cfg: Config, message: Message, own: frozenset[str],
          now: datetime | None = None) -> Receipt | None:
    """Number and queue the receipt for *message* in the caller's transaction.

    Returns None when no receipt is due (robot, own or bouncing address).  Past
    the per-address limits the receipt is numbered but held (``outbox`` None).
    """
    now = now or datetime.now(UTC)
    if may_receive(message.status, message.sender, own):
        return None
    if session.get(BouncingAddress, message.sender):
        return None
    receipt = Receipt(message_pk=message.id, number="", created_at=now)
    session.add(receipt)
    session.flush()
    receipt.number = receipt_number(cfg.receipts.prefix, cfg.campaign.year or now.year,
                                    receipt.id)
    recent = list(session.scalars(select(OutboxMail.created_at).where(
        OutboxMail.kind == "receipt", OutboxMail.recipient == message.sender,
        OutboxMail.created_at > now - timedelta(days=1))))
    if over_limit([_aware(t) for t in recent], now, cfg.receipts.per_hour, cfg.receipts.per_day):
        return receipt
    r = submission(message, ZoneInfo(cfg.campaign.timezone))
    receipt.outbox = outbox.enqueue(session, "receipt", build_receipt(cfg, r, receipt.number, now),
                                    message.id, now)
    return receipt


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)
