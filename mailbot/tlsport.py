"""What a failed connection says about the configured ``security`` of [mailbox] or [smtp].

Shared by imap.py and smtp.py; it speaks neither protocol.  A STARTTLS or plain client
waits in vain for the greeting of an implicit-TLS port (the server waits for a TLS
handshake), so the greeting gets a short timeout and the port is then probed for TLS; a
TLS client reads a plain port's greeting as a broken TLS record.
"""

from __future__ import annotations

import socket
import ssl

GREETING_SECONDS = 10  # connect and greeting: a server greets at once, a TLS port never


def security_hint(section: str, security: str, host: str, port: int, error: BaseException,
                  tls_port: int) -> str:
    """The Chinese hint naming the ``security`` value *port* wants, or "" when the
    connection failed for another reason.  *tls_port* is the usual implicit-TLS port."""
    if security != "tls" and _timed_out(error) and speaks_tls(host, port):
        return (f"{GREETING_SECONDS} 秒内没有收到服务器的问候，而端口 {port} 要求直接 TLS："
                f"请在配置中把 [{section}] security 改为 \"tls\"（而不是 \"{security}\"）")
    if security == "tls" and "WRONG_VERSION_NUMBER" in str(error):
        return (f"端口 {port} 不是直接 TLS 的端口（服务器以明文应答）：请把 [{section}] security "
                f"改为 \"starttls\"，或改用服务商的 TLS 端口（一般为 {tls_port}）")
    return ""


def _timed_out(error: BaseException | None) -> bool:
    """A timeout, or an error raised while handling one (smtplib turns a greeting that
    never came into SMTPServerDisconnected)."""
    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, TimeoutError):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def speaks_tls(host: str, port: int) -> bool:
    """Whether *host*:*port* completes a TLS handshake (certificate not checked: a probe
    that sends nothing)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), GREETING_SECONDS / 2) as raw, \
                ctx.wrap_socket(raw, server_hostname=host):
            return True
    except (OSError, ValueError):
        return False
