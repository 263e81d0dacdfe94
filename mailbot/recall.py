"""An Outlook recall request flags the submission it asks to take back.

The request itself is ignored (:func:`~.classify.auto.recalled_subject`: no receipt); the
submissions from the same sender with the recalled subject within
:data:`~.resent.WINDOW_DAYS` (all of them: which one is meant, a person decides) get an
evidence line saying so (the school usually sends a corrected mail next).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from . import db
from .classify.auto import recalled_subject
from .resent import RECALL_RULE, WINDOW_DAYS

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
    found = db.recent_from(ctx.session, db.clean(p.sender), db.clean(subject), since)
    if not found:
        return False
    when = it.received_at.astimezone(ZoneInfo(ctx.desk.cfg.campaign.timezone)).strftime("%Y-%m-%d %H:%M")
    for recent in found:  # several under that subject: which one is meant, a person decides
        target = db.get_message(ctx.session, recent.id)
        target.evidence = [*target.evidence, {
            "field": "status", "rule": KEPT,
            "detail": f"发件人于 {when} 发来撤回请求，希望撤回这封邮件（“{subject}”），请人工确认是否作废"
                      + ("；同一主题的还有 " + "、".join(f"#{r.id}" for r in found if r is not recent)
                         if len(found) > 1 else "")}]
    numbers = "、".join(f"#{r.id}" for r in found)
    it.reason = it.reason.replace("请人工查看", f"请人工查看 {numbers}", 1)
    return False
