"""compose: the envelope of every mail mailbot writes, built on the quick OUTGOING policy."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy

import pytest
from conftest import write_config

from mailbot import config
from mailbot.compose import outgoing, wire
from mailbot.parse import parse_message

SUBJECT = "[回执 JLX2026-00001] 成都美术学院“道中华之美 美后勤之道”主题党日活动方案及新闻稿（第二次报送）"


@pytest.fixture
def cfg(tmp_path):
    return config.load(write_config(tmp_path / "mailbot.toml", None, tmp_path / "data",
                                    f"sqlite:///{tmp_path}/db.sqlite"))


def _mail(cfg, to="houqin@scu.edu.cn", subject=SUBJECT):
    mail = outgoing(cfg, to, subject, "receipt-JLX2026-00001", datetime(2026, 7, 8, 9, 30, tzinfo=UTC),
                    replying_to="abc.123@scu.edu.cn")
    mail.set_content("陈老师，您好！\n已收到您的活动方案。\n")
    mail.add_alternative("<p>陈老师，您好！</p><p>已收到您的活动方案。</p>", subtype="html")
    return mail


def test_wire_form_reads_back_as_written(cfg):
    raw = wire(_mail(cfg))
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    lines = raw.split(b"\r\n")
    head = lines[:lines.index(b"")]
    assert head and all(len(line) <= 78 and line.isascii() for line in head)
    boundary = email.message_from_bytes(raw).get_boundary()
    assert boundary.startswith("=_") and raw.count(f"--{boundary}".encode()) == 3
    back = email.message_from_bytes(raw, policy=policy.default)
    assert back["Subject"] == SUBJECT
    assert back["From"].addresses[0].display_name == "四川省高校后勤协会思政会秘书处"
    assert back["From"].addresses[0].addr_spec == cfg.smtp.from_address
    assert back["In-Reply-To"] == "<abc.123@scu.edu.cn>"
    assert back["Date"].datetime == datetime(2026, 7, 8, 17, 30, tzinfo=back["Date"].datetime.tzinfo)
    plain = back.get_body(("plain",)).get_content()  # 8bit: lines end as on the wire
    assert plain.replace("\r\n", "\n") == "陈老师，您好！\n已收到您的活动方案。\n"
    assert "已收到您的活动方案" in back.get_body(("html",)).get_content()
    ours = parse_message(raw)  # and our own parser agrees, with nothing to recover
    assert ours.subject == SUBJECT and ours.sender_name == "四川省高校后勤协会思政会秘书处"
    assert not [d for d in ours.defects if "garbled" in d or "recovered" in d]


def test_object_api_stays_readable(cfg):
    mail = _mail(cfg)
    assert str(mail["Subject"]) == SUBJECT and str(mail["To"]) == "houqin@scu.edu.cn"
    assert mail.get_body(("plain",)).get_content().startswith("陈老师")


def test_a_named_recipient_keeps_a_readable_address(cfg):
    raw = wire(_mail(cfg, to="张老师 <zhang@scu.edu.cn>, li@cdu.edu.cn"))
    back = email.message_from_bytes(raw, policy=policy.default)
    assert [(a.display_name, a.addr_spec) for a in back["To"].addresses] == [
        ("张老师", "zhang@scu.edu.cn"), ("", "li@cdu.edu.cn")]
    assert b"zhang@scu.edu.cn" in raw  # the address itself is never encoded


@pytest.mark.parametrize("brk", ["\r\n", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1e", "\x85",
                                 "\u2028"])
def test_a_line_break_in_a_header_value_is_refused(cfg, brk):
    """Any character str.splitlines() breaks on: the parser that reads the outbox row back
    to send it would turn it into a real line end (a header or body injected)."""
    mail = _mail(cfg)
    with pytest.raises(ValueError):
        mail["X-Note"] = f"ok{brk}Bcc: victim@example.com"
    with pytest.raises(ValueError):  # a quoted local part may carry it from a sender's From
        outgoing(cfg, f'"a{brk}Bcc: victim@evil.cn"@a.cn', "x", "id", datetime.now(UTC))


def test_attachments_with_chinese_names(cfg):
    mail = _mail(cfg)
    mail.add_attachment(b"PK\x03\x04 workbook", maintype="application", subtype="octet-stream",
                        filename="第一片区材料汇总-2026-07-08.xlsx")
    back = parse_message(wire(mail))
    (att,) = back.attachments
    assert att.filename == "第一片区材料汇总-2026-07-08.xlsx" and att.payload == b"PK\x03\x04 workbook"



def test_an_internationalised_address_goes_out_as_utf8(cfg):
    """人@例子.中国 (RFC 6532) cannot be an encoded word: it is written as raw UTF-8, and
    the outbox lists it as written."""
    from mailbot.compose import header_text

    mail = _mail(cfg, to="张老师 <人@例子.中国>")
    raw = wire(mail)
    assert "<人@例子.中国>".encode() in raw
    back = parse_message(raw)
    assert back.to == ("人@例子.中国",)
    assert header_text(mail, "To") == "张老师 <人@例子.中国>"
    assert header_text(mail, "Subject") == SUBJECT


def test_odd_addresses_never_stop_a_receipt(cfg):
    """A lowercased base64 word as local part (what a parser makes of a Chinese one) reads
    back as written; a long display name before a UTF-8 address stays on one line."""
    from mailbot.compose import header_text

    mail = _mail(cfg, to="=?utf-8?b?5lq6?=@cdu.edu.cn")
    assert header_text(mail, "To") == "=?utf-8?b?5lq6?=@cdu.edu.cn"
    name = "四川省高校后勤协会思想政治工作委员会秘书处张老师"
    mail = _mail(cfg, to=f"{name} <人@例子.中国>")
    assert header_text(mail, "To") == f"{name} <人@例子.中国>"
    raw = wire(mail)
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert parse_message(raw).to == ("人@例子.中国",)
