"""The only module that speaks SMTP (stdlib smtplib).

:func:`send` delivers one ready-made message: implicit TLS (465) or STARTTLS
(587), AUTH with the password from ``MAILBOT_SMTP_PASSWORD``, a timeout (a short one
for the greeting), and every failure turned into one clear :class:`MailServerError`
sentence; a ``security`` the port does not speak is named (mailbot/tlsport.py).  The stored
bytes of an outbox row go out exactly as stored: re-serialising would refold headers
(a long Outlook Message-ID in In-Reply-To became encoded words, which breaks threading).
:func:`is_permanent` tells a refusal that retrying will not fix.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from email import policy
from email.message import EmailMessage
from email.parser import HeaderParser

from .config import Smtp
from .errors import MailServerError
from .tlsport import GREETING_SECONDS, security_hint

_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


class SmtpRefused(MailServerError):
    """The server answered with an error code; ``code`` is it (e.g. 550, 535)."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


_THROTTLED = re.compile(r"frequency|too many|rate limit|limit exceeded|try again later|频率|稍后",
                        re.IGNORECASE)  # QQ's "550 Connection frequency limited", and the like


def is_permanent(error: MailServerError) -> bool:
    """True for a 5xx refusal of the message or its recipient (not of our login, and not a
    server saying we send too often: that passes, so the mail waits and is tried again)."""
    return isinstance(error, SmtpRefused) and 500 <= error.code < 600 and error.code != 535 \
        and not _THROTTLED.search(str(error))


def _explain(code: int, text: str) -> str:
    if code == 535 and ("authorization code" in text.lower() or "授权码" in text):
        return "SMTP 登录失败：QQ 邮箱需要使用 16 位授权码而不是登录密码 (use the authorization code)"
    if code == 535:
        return "SMTP 登录失败：用户名或密码（授权码）错误 (authentication failed)"
    if code == 550 and "frequency" in text.lower():
        return "SMTP 服务器限制连接频率，请稍后再试 (connection frequency limited)"
    return f"SMTP 服务器拒绝 ({code}): {text}"


def envelope(raw: bytes) -> tuple[str, list[str]]:
    """The envelope of a ready-made mail: sender (Sender, else From) and To/Cc recipients."""
    text = _BLANK_LINE.split(raw, 1)[0].decode("utf-8", "replace")  # RFC 6532 addresses too
    head = HeaderParser(policy=policy.default).parsestr(text, headersonly=True)
    sender = [a.addr_spec for h in ("sender", "from") for a in getattr(head[h], "addresses", ())]
    rcpts = [a.addr_spec for h in ("to", "cc") for v in head.get_all(h, ())
             for a in getattr(v, "addresses", ())]
    return (sender or [""])[0], list(dict.fromkeys(a for a in rcpts if a))


def _send_bytes(client: smtplib.SMTP, raw: bytes, sender: str, rcpts: list[str]) -> dict:
    options: tuple[str, ...] = ()
    if not all(a.isascii() for a in (sender, *rcpts)):
        client.ehlo_or_helo_if_needed()  # what the server offers is known after EHLO
        if not client.has_extn("smtputf8"):
            raise smtplib.SMTPNotSupportedError("SMTPUTF8 not offered")
        options = ("SMTPUTF8", "BODY=8BITMIME")
    return client.sendmail(sender, rcpts, raw, options)


def _connect(cfg: Smtp, context: ssl.SSLContext, timeout: float) -> smtplib.SMTP:
    """A greeted connection: the greeting within GREETING_SECONDS (an implicit-TLS port
    never greets a STARTTLS or plain client), every later reply within *timeout*."""
    first = min(timeout, GREETING_SECONDS)
    if cfg.security == "tls":
        client = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=first, context=context)
    else:
        client = smtplib.SMTP(cfg.host, cfg.port, timeout=first)
    client.timeout = timeout
    client.sock.settimeout(timeout)
    return client


def _offered(client: smtplib.SMTP, extension: str, where: str, problem: str) -> None:
    """Raise :class:`MailServerError` (*problem*: what to change in the config) when the
    server does not offer *extension*: smtplib would raise the same SMTPNotSupportedError
    as for a missing SMTPUTF8, which is a different matter (the address, for good)."""
    client.ehlo_or_helo_if_needed()
    if not client.has_extn(extension):
        raise MailServerError(f"SMTP 服务器 {where} {problem}")


def send(cfg: Smtp, password: str, message: EmailMessage | bytes, ca_file: str = "",
         timeout: float = 60) -> None:
    """Send *message* (a mail, or its bytes: sent as they are) to its To/Cc recipients
    through the configured server."""
    where = f"{cfg.host}:{cfg.port}"
    if not cfg.host:
        raise MailServerError("未配置 SMTP 服务器 [smtp] host (no SMTP server configured)")
    env = envelope(message) if isinstance(message, bytes) else None
    if env and not env[1]:
        raise SmtpRefused("邮件没有有效的收件人地址，无法发送 (no recipients)", 554)
    context = ssl.create_default_context(cafile=ca_file or None)
    client = None
    try:
        client = _connect(cfg, context, timeout)
        with client:
            if cfg.security == "starttls":
                _offered(client, "starttls", where, "不支持 STARTTLS：请把 [smtp] security 改为 "
                         "\"tls\" 并使用其 TLS 端口（一般为 465）(STARTTLS not offered)")
                client.starttls(context=context)
            if cfg.username:
                if not password:
                    raise MailServerError("未设置 SMTP 密码：请设置环境变量 MAILBOT_SMTP_PASSWORD "
                                          "(SMTP password missing)")
                _offered(client, "auth", where, "在当前连接上不提供登录（AUTH）：多数服务器只在加密后"
                         "允许登录，请把 [smtp] security 设为 \"starttls\" 或 \"tls\" (AUTH not offered)")
                client.login(cfg.username, password)
            refused = _send_bytes(client, message, *env) if env else client.send_message(message)
        if refused:
            address, (code, text) = next(iter(refused.items()))
            raise SmtpRefused(f"收件人 {address} 被拒收: "
                              + _explain(code, text.decode("utf-8", "replace")), code)
    except smtplib.SMTPResponseException as e:
        text = e.smtp_error.decode("utf-8", "replace") if isinstance(e.smtp_error, bytes) \
            else str(e.smtp_error)
        raise SmtpRefused(_explain(e.smtp_code, text), e.smtp_code) from None
    except smtplib.SMTPNotSupportedError as e:  # a non-ASCII address, no SMTPUTF8: never will
        raise SmtpRefused(f"收件人地址含非 ASCII 字符，而 SMTP 服务器 {where} 不支持 SMTPUTF8，"
                          f"无法投递 (address needs SMTPUTF8): {e}", 553) from None
    except smtplib.SMTPRecipientsRefused as e:
        address, (code, text) = next(iter(e.recipients.items()))
        raise SmtpRefused(f"收件人 {address} 被拒收: "
                          + _explain(code, text.decode("utf-8", "replace")), code) from None
    except (smtplib.SMTPException, OSError) as e:
        hint = "" if client is not None else \
            security_hint("smtp", cfg.security, cfg.host, cfg.port, e, 465)  # not greeted
        raise MailServerError(f"无法通过 SMTP 服务器 {where} 发信" + (f"：{hint}" if hint else "")
                              + f" (cannot send): {e}") from None
