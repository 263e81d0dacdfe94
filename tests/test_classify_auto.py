"""Machine-generated mail (bounces, auto-replies, list mail, our own) is recognised."""

from __future__ import annotations

import pytest

from mailbot.classify.auto import auto_reason
from mailbot.parse import parse_message

BASE = (b"From: %s\r\nTo: contact@scgxhq.test\r\nSubject: %s\r\n"
        b"Message-ID: <x@scu.edu.cn>\r\n%s\r\n\r\nbody\r\n")


def mail(sender=b"houqin@scu.edu.cn", subject=b"news", extra=b"") -> bytes:
    return BASE % (sender, subject, extra)


@pytest.mark.parametrize("raw, expect", [
    (mail(extra=b"Auto-Submitted: auto-replied"), "Auto-Submitted"),
    (mail(extra=b"X-QQ-AUTO-REPLY: true"), "X-QQ-AUTO-REPLY"),
    (mail(extra=b"Precedence: bulk"), "Precedence"),
    (mail(extra=b"List-Id: <gpc.example.org>"), "List-Id"),
    (mail(extra=b"Return-Path: <>"), "null return path"),
    (mail(sender=b"MAILER-DAEMON@mx.qq.com"), "MAILER-DAEMON"),
    (mail(extra=b"Return-Path: <postmaster@mx.163.com>"), "postmaster"),
    (mail(subject="自动回复: 关于开展接力行的通知".encode()), "自动回复"),
    (mail(subject=b"Undeliverable: plan"), "Undeliverable"),
    (mail(sender=b"contact@scgxhq.test"), "loop"),
    (mail(extra=b"Content-Type: multipart/report; report-type=delivery-status; boundary=x"),
     "report"),
])
def test_machine_mail_is_recognised(raw, expect):
    reason = auto_reason(parse_message(raw), frozenset({"contact@scgxhq.test"}))
    assert reason and expect.lower() in reason.lower()


@pytest.mark.parametrize("raw", [
    mail(subject="四川大学后勤活动方案".encode()),
    mail(extra=b"Auto-Submitted: no"),
    mail(subject="回复：关于视频链接".encode()),
    mail(sender=b"postmaster-office@scu.edu.cn".replace(b"-office", b"office")),
])
def test_people_mail_passes(raw):
    assert auto_reason(parse_message(raw), frozenset({"contact@scgxhq.test"})) is None


def test_an_outlook_recall_request_is_told_from_a_mail_correcting_an_earlier_one():
    """"撤回: <subject>" whose text asks for the recall (Outlook, Chinese or English) is a
    recall request; a school's own "撤回：" mail saying "以此为准" with a new file is not."""
    from email.message import EmailMessage

    from mailbot.classify.auto import recalled_subject

    def parsed(subject: str, text: str):
        m = EmailMessage()
        m["From"], m["To"], m["Subject"] = "houqin@scu.edu.cn", "contact@scgxhq.test", subject
        m.set_content(text)
        return parse_message(m.as_bytes())

    zh = parsed("撤回: 四川大学活动方案", "李明 希望撤回邮件“四川大学活动方案”。")
    en = parsed("Recall: 四川大学活动方案", "Li Ming would like to recall the message, \"四川大学活动方案\".")
    assert recalled_subject(zh) == recalled_subject(en) == "四川大学活动方案"
    assert "撤回请求" in auto_reason(zh)
    own = parsed("撤回：上次的活动方案有误", "上次发送的方案有误，请撤回，以本邮件为准。")
    assert recalled_subject(own) is None and auto_reason(own) is None
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "houqin@scu.edu.cn", "contact@scgxhq.test", "撤回: 四川大学活动方案"
    m.set_content("李明 希望撤回邮件“四川大学活动方案”，以附件为准。")
    m.add_attachment(b"plan", maintype="application", subtype="octet-stream", filename="方案.docx")
    assert recalled_subject(parse_message(m.as_bytes())) is None  # it carries the new file
