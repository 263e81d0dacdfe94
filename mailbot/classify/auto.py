"""Is this mail written by a machine (bounce, auto-reply, list mail, our own, an Outlook
recall request)?

Such mail is recorded as "ignored" and never gets a receipt (RFC 3834 §2,
plus the headers QQ Mail, Exchange and mailing lists use instead).
"""

from __future__ import annotations

import re

from ..parse import ParsedMessage

_DAEMONS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailer|bounce[s]?|noreply|"
                      r"no-reply|do-not-reply)([+@-]|$)", re.IGNORECASE)
_SUBJECTS = re.compile(
    r"自动回复|自动答复|退信|投递失败|无法投递|auto(matic)?[ -]?reply|autoreply|out of (the )?office|"
    r"undeliver(able|ed)|could not be delivered|delivery (status notification|failure|warning|"
    r"has failed|notification)|returned mail|mail delivery (failed|failure|warning)|"
    r"failure notice|non remis|^\s*vacation", re.IGNORECASE)

_RECALL = re.compile(r"\s*(?:撤回|召回|recall)\s*[:：]\s*(.*)", re.IGNORECASE | re.DOTALL)
_RECALL_TEXT = re.compile(  # Outlook's own words: "李明 希望撤回邮件“…”", "… would like to recall the message"
    r"希望(?:撤回|召回)|(?:撤回|召回)(?:此|该|这封)?邮件|would like to recall|recall (?:the|this) message",
    re.IGNORECASE)


def is_daemon_address(address: str) -> bool:
    """True for MAILER-DAEMON, postmaster, no-reply and similar system addresses."""
    return bool(_DAEMONS.match(address))


def is_bounce(msg: ParsedMessage) -> bool:
    """A delivery failure report: a DSN, or mail from a mailer daemon or with a null return path."""
    ctype = msg.headers.get("content-type", "").lower()
    return_path = msg.headers.get("return-path", "").strip().strip("<>").strip()
    return ("report-type=delivery-status" in ctype.replace(" ", "")
            or bool(msg.headers.get("x-failed-recipients"))
            or ("return-path" in msg.headers and not return_path)
            or any(a and is_daemon_address(a) for a in (msg.sender, return_path)))


def auto_reason(msg: ParsedMessage, own_addresses: frozenset[str] = frozenset()) -> str | None:
    """Why *msg* is machine-generated and must get no reply, or None for a person's mail.

    *own_addresses* are mailbot's own (lower-case) addresses: mail from them is a loop.
    """
    h = msg.headers
    if msg.sender and msg.sender in own_addresses:
        return "本系统自己发出的邮件 (our own mail: loop)"
    auto = h.get("auto-submitted", "").strip().lower()
    if auto and not auto.startswith("no"):
        return f"自动发送的邮件 (Auto-Submitted: {auto})"
    if h.get("x-qq-auto-reply", "").strip().lower() in ("true", "yes", "1"):
        return "QQ 邮箱自动回复 (X-QQ-AUTO-REPLY)"
    ctype = h.get("content-type", "").lower()
    if "multipart/report" in ctype or h.get("x-failed-recipients"):
        return "退信或回执 (delivery/disposition report)"
    return_path = h.get("return-path", "").strip().strip("<>").strip()
    if "return-path" in h and not return_path:
        return "退信 (null return path)"
    for address in (msg.sender, return_path):
        if address and is_daemon_address(address):
            return f"系统地址发出的邮件 (sent by {address})"
    precedence = h.get("precedence", "").strip().lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return f"群发或邮件列表 (Precedence: {precedence})"
    if h.get("list-id") or h.get("list-unsubscribe"):
        return "邮件列表的邮件 (List-Id / List-Unsubscribe)"
    if h.get("x-loop") or h.get("x-auto-response-suppress", "").strip().lower() in ("all", "oof"):
        return "自动邮件 (X-Loop / X-Auto-Response-Suppress)"
    if _SUBJECTS.search(msg.subject):
        return f"自动回复或退信 (subject: {msg.subject[:40]})"
    if (recalled := recalled_subject(msg)) is not None:
        return f"撤回请求：发件人希望撤回邮件《{recalled}》，已收到的邮件无法撤回，请人工查看 (recall request)"
    return None


def recalled_subject(msg: ParsedMessage) -> str | None:
    """The subject of the mail an Outlook recall request ("撤回: 活动方案", "Recall: …") asks
    to take back, or None.  Sent outside the sender's Exchange, a recall recalls nothing:
    it arrives as a mail of its own, without files, whose text asks for the recall in
    Outlook's words ("希望撤回邮件", "would like to recall the message")."""
    m = _RECALL.fullmatch(msg.subject or "")
    if m is None or not _RECALL_TEXT.search(msg.text or "") or msg.forwarded or \
            any(not a.inline for a in msg.attachments):  # a recall carries no files: a
        return None  # "撤回：上次方案作废，以此为准" with the corrected file is a submission
    return m.group(1).strip()
