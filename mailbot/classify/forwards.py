"""Forwarded mail (pure): inline forward/quote blocks as QQ, Foxmail, Outlook, NetEase and
Apple write them, and bundles of mail forwarded as attachments."""

from __future__ import annotations

import re
from dataclasses import replace

from ..parse import ParsedMessage

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_FWD_SEP = re.compile(r"(?i)[ \t>]*[-_—=]*[ \t]*(?:原始邮件|转发邮件信息|转发的邮件|回复的原邮件"
                      r"|开始转发的邮件|Original(?: Message)?|Forwarded message)[ \t_—=:：-]*")
_FWD_FROM = re.compile(r"(?im)^[ \t>]*(?:发件人|寄件者|From)[ \t]*[:：][ \t]*(.*)$")
_FWD_SUBJ = re.compile(r"(?i)^[ \t>]*(?:主题|主旨|Subject)[ \t]*[:：][ \t]*(.*)$")
REPLY = re.compile(r"(?i)\s*(?:回复|答复|re|aw)\s*[:：]")
_FWD_HDR = re.compile(r"(?i)^[ \t>]*(?:发送时间|发送日期|日期|时间|收件人|抄送|密送|Date|Sent|To|Cc)"
                      r"[ \t]*[:：]")


def split_forward(text: str) -> tuple[str, ParsedMessage | None]:
    """Split a body at its first inline forward/quote block (QQ, Foxmail, Outlook,
    NetEase, Apple, Gmail: a 发件人/From line with a 主题/Subject line within 9
    lines, optionally after a "原始邮件"-style separator).  Returns (own text,
    the quoted message with sender, sender_name, subject and text, or None)."""
    for m in _FWD_FROM.finditer(text or ""):
        lines = text[m.start():].split("\n", 10)  # not the whole rest: quadratic over many
        k = next((k for k in range(1, min(10, len(lines))) if _FWD_SUBJ.match(lines[k])), 0)
        if not k:
            continue
        lines = text[m.start():].split("\n")
        body = k + 1
        while body < len(lines) and (_FWD_HDR.match(lines[body]) or not lines[body].strip()):
            body += 1
        head, sep, last = text[:m.start()].rstrip("\n").rpartition("\n")
        start = len(head) + len(sep) if _FWD_SEP.fullmatch(last.strip()) else m.start()
        who = m.group(1).replace("mailto:", "")
        addr = _EMAIL.search(who)
        inner = ParsedMessage(
            message_id=None, sender=addr.group(0).lower() if addr else None,
            sender_name=(who[:addr.start()] if addr else who).strip(" \t\"'<>[];；"),
            reply_to=None, to=(), subject=_FWD_SUBJ.match(lines[k]).group(1).strip(), date=None,
            text="\n".join(lines[body:]), html="", hrefs=(), attachments=(), forwarded=(),
            headers={}, defects=())
        return text[:start], inner
    return text or "", None


BUNDLE_FROM = 2  # mails forwarded as attachments from which a mail is a bundle


def is_bundle(msg: ParsedMessage) -> bool:
    """Whether *msg* carries two or more mails forwarded as attachments (message/rfc822
    parts, or mails attached as .eml files: :attr:`~mailbot.parse.ParsedMessage.forwarded`)
    — what a district leader sends when passing on several schools' mail at once —
    or one such mail that is itself a bundle (a leader's bundle passed on again)."""
    return len(msg.forwarded) >= BUNDLE_FROM or (
        len(msg.forwarded) == 1 and is_bundle(msg.forwarded[0]))


def own_content(msg: ParsedMessage) -> ParsedMessage:
    """*msg* as one submission: a bundle stands for its own words and files only, since
    each mail forwarded in it is recorded as a submission of its own (a part); any other
    mail stands for all it carries."""
    return replace(msg, forwarded=()) if is_bundle(msg) else msg
