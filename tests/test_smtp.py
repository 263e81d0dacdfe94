"""smtp.py against the real Postfix: TLS modes, AUTH, clear errors; render.py overrides."""

from __future__ import annotations

import time
from email.message import EmailMessage

import pytest
from conftest import reset_mailbox
from test_receipts import inbox

from mailbot.config import Smtp
from mailbot.errors import MailServerError
from mailbot.render import render
from mailbot.smtp import SmtpRefused, _explain, is_permanent, send
from mailbot.tlsport import GREETING_SECONDS


def _mail(to: str) -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "contact@scgxhq.test", to, "测试：UTF-8 主题"
    m.set_content("正文")
    return m


def test_qq_authorization_code_error_is_explained():
    text = "Login Fail. Please enter your authorization code to login."
    assert "授权码" in _explain(535, text)
    assert not is_permanent(SmtpRefused(_explain(535, text), 535))
    assert is_permanent(SmtpRefused("x", 550)) and not is_permanent(SmtpRefused("x", 451))
    for said in ("Connection frequency limited. http://service.mail.qq.com/detail/0/1",
                 "Too many messages, try again later"):  # QQ and others throttling us
        assert not is_permanent(SmtpRefused(_explain(550, said), 550))


@pytest.mark.mailstack
def test_send_and_refusals_on_the_local_postfix(mailstack):
    cfg = Smtp(host="localhost", port=int(mailstack["MAILSTACK_SMTP_PORT"]), security="starttls",
               username=mailstack["MAILSTACK_CONTACT"], from_address=mailstack["MAILSTACK_CONTACT"])
    ca = mailstack["MAILSTACK_CA_FILE"]
    send(cfg, mailstack["MAILSTACK_PASSWORD"], _mail("houqin@scu.edu.cn"), ca)
    with pytest.raises(SmtpRefused) as refused:
        send(cfg, mailstack["MAILSTACK_PASSWORD"], _mail("someone@example.com"), ca)
    assert refused.value.code >= 500 and is_permanent(refused.value)
    # an outbox row for a UTF-8 address: Postfix offers SMTPUTF8, so it reaches RCPT and is
    # refused as any address it does not serve is (for good), not for want of SMTPUTF8
    with pytest.raises(SmtpRefused) as refused:
        send(cfg, mailstack["MAILSTACK_PASSWORD"], _mail("人@例子.中国").as_bytes(), ca)
    assert is_permanent(refused.value) and "Recipient address rejected" in str(refused.value)
    assert "人@例子.中国" in str(refused.value) and "SMTPUTF8" not in str(refused.value)
    with pytest.raises(MailServerError, match="无法通过 SMTP 服务器 localhost:1"):
        send(Smtp(host="localhost", port=1, security="starttls"), "", _mail("a@b.c"), ca)


@pytest.mark.mailstack
@pytest.mark.parametrize("security, port_key, hint", [
    ("starttls", "MAILSTACK_IMAPS_PORT", '[smtp] security 改为 "tls"（而不是 "starttls"）'),
    ("tls", "MAILSTACK_SMTP_PORT", '[smtp] security 改为 "starttls"，或改用服务商的 TLS 端口')])
def test_a_security_setting_the_port_does_not_speak_is_named(mailstack, security, port_key,
                                                               hint):
    """STARTTLS (or plain) against an implicit-TLS port (465) waited a minute for a greeting
    that never comes and said "timed out": the greeting has a short timeout and the error
    names the security setting the port wants, and the other way round for TLS against
    the submission port ("plain" takes the same path: tests/test_tlsport.py).  The stack has no SMTPS listener; Dovecot's IMAPS port is a real
    implicit-TLS one, silent until the client's handshake, as an SMTPS port is."""
    port = int(mailstack[port_key])
    cfg = Smtp(host="localhost", port=port, security=security,
               username=mailstack["MAILSTACK_CONTACT"], from_address=mailstack["MAILSTACK_CONTACT"])
    started = time.monotonic()
    with pytest.raises(MailServerError) as failed:
        send(cfg, mailstack["MAILSTACK_PASSWORD"], _mail("houqin@scu.edu.cn"),
             mailstack["MAILSTACK_CA_FILE"])
    assert time.monotonic() - started < GREETING_SECONDS + 10
    assert f"无法通过 SMTP 服务器 localhost:{port} 发信：" in str(failed.value)
    assert hint in str(failed.value) and not is_permanent(failed.value)


def test_site_override_template_wins(tmp_path):
    (tmp_path / "receipt").mkdir()
    (tmp_path / "receipt" / "combined.txt").write_text("本校定制：{{ items | length }}",
                                                       encoding="utf-8")
    assert render("receipt/combined.txt", str(tmp_path), items=[1, 2], name="", secretariat=None) \
        == "本校定制：2"
    bundled = render("receipt/combined.txt", "", items=[], name="王老师",
                     secretariat={"name": "秘书处"})
    assert bundled.startswith("王老师，您好")


@pytest.mark.mailstack
def test_a_utf8_address_on_a_server_without_smtputf8_fails_once_and_for_all(mailstack):
    """QQ and 163 do not offer SMTPUTF8: a receipt for 人@例子.中国 can never go out there.
    That is a permanent failure with the reason (a temporary one would be retried forever
    and hold up every mail queued behind it).  The server is the local Postfix's second
    submission listener, which leaves SMTPUTF8 out of its EHLO reply as those do."""
    cfg = Smtp(host="localhost", port=int(mailstack["MAILSTACK_SMTP_ASCII_PORT"]),
               security="starttls", username=mailstack["MAILSTACK_CONTACT"],
               from_address=mailstack["MAILSTACK_CONTACT"])
    ca, password = mailstack["MAILSTACK_CA_FILE"], mailstack["MAILSTACK_PASSWORD"]
    for message in (_mail("人@例子.中国"), _mail("人@例子.中国").as_bytes()):  # an outbox row
        with pytest.raises(SmtpRefused) as refused:
            send(cfg, password, message, ca)
        assert is_permanent(refused.value) and "SMTPUTF8" in str(refused.value)
    reset_mailbox("houqin@scu.edu.cn")
    send(cfg, password, _mail("houqin@scu.edu.cn"), ca)  # the listener itself takes mail
    (got,) = inbox(mailstack, "houqin@scu.edu.cn", 1)
    assert str(got["Subject"]) == "测试：UTF-8 主题"


def test_a_stored_mail_without_a_recipient_fails_for_good_without_connecting():
    with pytest.raises(SmtpRefused, match="没有有效的收件人") as refused:
        send(Smtp(host="localhost", port=1, security="plain"), "",
             b"From: contact@scgxhq.test\r\nTo: \r\nSubject: x\r\n\r\nbody\r\n")
    assert is_permanent(refused.value)


@pytest.mark.mailstack
def test_a_server_not_offering_starttls_or_auth_is_a_setting_to_change_not_a_bad_address(
        mailstack):
    """smtplib raises the same SMTPNotSupportedError for a missing STARTTLS or AUTH as for a
    missing SMTPUTF8: the receipt was failed for good as "地址含非 ASCII 字符".  Now it is a
    server problem naming the [smtp] security to set, retried once the config is fixed.
    AUTH: Postfix's submission port offers it only after STARTTLS (security "plain").
    STARTTLS: a minimal ESMTP server on loopback that does not offer it."""
    import socket
    import threading

    cfg = Smtp(host="localhost", port=int(mailstack["MAILSTACK_SMTP_PORT"]), security="plain",
               username=mailstack["MAILSTACK_CONTACT"], from_address=mailstack["MAILSTACK_CONTACT"])
    with pytest.raises(MailServerError) as failed:
        send(cfg, mailstack["MAILSTACK_PASSWORD"], _mail("houqin@scu.edu.cn"))
    assert "不提供登录（AUTH）" in str(failed.value) and "SMTPUTF8" not in str(failed.value)
    assert not is_permanent(failed.value)

    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        conn, _ = listener.accept()
        with conn, conn.makefile("rb") as lines:
            conn.sendall(b"220 old.example ESMTP\r\n")
            for line in lines:
                verb = line[:4].upper()
                conn.sendall(b"250-old.example\r\n250 SIZE 10240000\r\n" if verb == b"EHLO"
                             else b"221 bye\r\n" if verb == b"QUIT" else b"502 no\r\n")
                if verb == b"QUIT":
                    return

    threading.Thread(target=serve, daemon=True).start()
    cfg = Smtp(host="127.0.0.1", port=listener.getsockname()[1], security="starttls",
               username="", from_address=mailstack["MAILSTACK_CONTACT"])
    with pytest.raises(MailServerError) as failed:
        send(cfg, "", _mail("houqin@scu.edu.cn"))
    listener.close()
    assert "不支持 STARTTLS" in str(failed.value) and '"tls"' in str(failed.value)
    assert not is_permanent(failed.value)
