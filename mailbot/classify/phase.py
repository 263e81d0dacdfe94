"""Is a deliverable late?  Pure, from the campaign's phases in the config."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from ..config import Campaign
from .evidence import Evidence

KIND_ZH = {"plan": "活动方案", "news": "新闻图片及文档", "video": "视频或微信推文"}


def judged_time(sent_at: datetime | None, received_at: datetime) -> datetime:
    """The moment a deliverable counts as delivered: the Date header when it is
    plausible (not after arrival + 1 day), else the arrival time."""
    if sent_at and (sent_at - received_at).total_seconds() <= 86400:
        return sent_at
    return received_at


def lateness(kinds: tuple[str, ...], when: datetime, campaign: Campaign) -> tuple[bool, tuple[Evidence, ...]]:
    """Whether any of *kinds* was delivered after its phase's due date (campaign time zone).

    Returns (late, evidence); a phase with no due date is never late.  Early
    delivery (before ``opens``) is noted but not late.
    """
    day = when.astimezone(ZoneInfo(campaign.timezone)).date()
    phases = {p.kind: p for p in campaign.phases}
    late, evidence = False, []
    for kind in kinds:
        phase = phases.get(kind)
        if phase is None:
            continue
        name = phase.name or KIND_ZH.get(kind, kind)
        if phase.due and day > phase.due:
            late = True
            evidence.append(Evidence("phase.late", f"{name}截止 {phase.due:%Y年%-m月%-d日}，"
                                                   f"本邮件 {day:%Y年%-m月%-d日} 送达"))
        elif phase.opens and day < phase.opens:
            evidence.append(Evidence("phase.early", f"{name}自 {phase.opens:%Y年%-m月%-d日} 起报送，"
                                                    f"本邮件 {day:%Y年%-m月%-d日} 送达"))
    return late, tuple(evidence)
