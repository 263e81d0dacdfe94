"""An Outlook recall request flags the submission it asks to take back.

The request itself is ignored (:func:`~.classify.auto.recalled_subject`: no receipt); the
submissions from the same sender with the recalled subject within
:data:`~.resent.WINDOW_DAYS` (all of them: which one is meant, a person decides) get an
evidence line saying so (the school usually sends a corrected mail next).  A recalled reply
to a receipt ("撤回: Re: [回执 …] …") was merged into the submission it answered: that
submission is the one flagged, naming the reply.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import db
from .classify.auto import recalled_subject
from .models import Message
from .resent import RECALL_RULE, WINDOW_DAYS
from .rows import merged_into

if TYPE_CHECKING:
    from .pipeline import Context, Intake


KEPT = RECALL_RULE  # evidence that reclassify keeps (it is about an event, not the rules)


def flag_recalled(ctx: Context, it: Intake) -> bool:
    """Mark the submissions a recall request names; name them in the request's reason."""
    p = it.parsed
    if p is None or it.status != "ignored" or it.joins is not None or it.received_at is None:
        return False
    subject = recalled_subject(p)
    if subject is None:
        return False
    since = it.received_at - timedelta(days=WINDOW_DAYS)
    sender = db.clean(p.sender)
    found = db.recent_from(ctx.session, sender, db.clean(subject), since)
    replies = merged_replies(ctx.session, sender, db.clean(subject), since)
    if not found and not replies:
        return False
    when = it.received_at.astimezone(ZoneInfo(ctx.desk.cfg.campaign.timezone)).strftime("%Y-%m-%d %H:%M")
    asked = f"发件人于 {when} 发来撤回请求，希望撤回"
    for recent in found:  # several under that subject: which one is meant, a person decides
        _flag(ctx.session, recent.id, None, f"{asked}这封邮件（“{subject}”），请人工确认是否作废"
              + ("；同一主题的还有 " + "、".join(f"#{r.id}" for r in found if r is not recent)
                 if len(found) > 1 else ""))
    for reply, target in replies:
        _flag(ctx.session, target, reply, f"{asked}其回复 #{reply}（“{subject}”，已并入本件），"
                                   "请人工确认并入的内容是否作废")
    numbers = "、".join([f"#{r.id}" for r in found] +
                       [f"#{target}（回复 #{reply}）" for reply, target in replies])
    it.reason = it.reason.replace("请人工查看", f"请人工查看 {numbers}", 1)
    return False


_MERGED = re.compile(re.escape(merged_into()) + r"(\d+)\)")


def merged_replies(session: Session, sender: str | None, subject: str | None,
                   since: datetime) -> list[tuple[int, int]]:
    """(reply, submission) for each reply of *sender*'s with *subject* received since
    *since* that was merged into the submission its receipt was for."""
    rows = session.execute(select(Message.id, Message.status_reason).where(
        Message.sender == sender, Message.subject == (subject or ""),
        Message.received_at >= since, Message.status == "ignored",
        Message.status_reason.contains(merged_into())).order_by(Message.id).limit(20))
    return [(pk, int(m.group(1))) for pk, reason in rows
            if (m := _MERGED.search(reason or ""))]


def _flag(session: Session, pk: int, reply: int | None, detail: str) -> None:
    """Note the recall request on submission *pk* (of its *reply* merged into it, if given)."""
    target = db.get_message(session, pk)
    if target is not None:
        target.evidence = [*target.evidence, {"field": "status", "rule": KEPT, "detail": detail,
                                              **({"reply": reply} if reply else {})}]
