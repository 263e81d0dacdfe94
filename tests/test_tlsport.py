"""mailbot.tlsport against the real stack's ports: what a failed connection says about
``security``.  The 10-second greeting wait itself is shown once per protocol (test_poll,
test_smtp); here the hint is built from the error such a wait ends with."""

from __future__ import annotations

import ssl

import pytest

from mailbot.tlsport import security_hint, speaks_tls

pytestmark = pytest.mark.mailstack


def test_each_security_value_waiting_on_a_tls_port_is_told_to_use_tls(mailstack):
    port = int(mailstack["MAILSTACK_IMAPS_PORT"])
    for section in ("mailbox", "smtp"):
        for security in ("plain", "starttls"):
            hint = security_hint(section, security, "localhost", port,
                                 TimeoutError("timed out"), 993)
            assert f'[{section}] security 改为 "tls"（而不是 "{security}"）' in hint
            assert f"端口 {port} 要求直接 TLS" in hint


def test_a_timeout_raised_while_handling_another_error_still_counts(mailstack):
    port = int(mailstack["MAILSTACK_IMAPS_PORT"])
    try:
        try:
            raise TimeoutError("timed out")
        except TimeoutError:
            raise ConnectionError("Connection unexpectedly closed") from None
    except ConnectionError as e:
        wrapped = e
    assert wrapped.__context__ is not None
    assert 'security 改为 "tls"' in security_hint("smtp", "starttls", "localhost", port,
                                                   wrapped, 465)


def test_no_hint_when_the_port_is_not_tls_or_the_failure_is_something_else(mailstack):
    plain_port, tls_port = int(mailstack["MAILSTACK_IMAP_PORT"]), int(mailstack["MAILSTACK_IMAPS_PORT"])
    assert speaks_tls("localhost", tls_port) and not speaks_tls("localhost", plain_port)
    assert security_hint("mailbox", "starttls", "localhost", plain_port, TimeoutError(), 993) == ""
    assert security_hint("mailbox", "plain", "localhost", tls_port,
                         ConnectionRefusedError(111, "Connection refused"), 993) == ""
    assert security_hint("mailbox", "tls", "localhost", plain_port, TimeoutError(), 993) == ""


def test_tls_against_a_plain_port_is_told_to_use_starttls(mailstack):
    port = int(mailstack["MAILSTACK_IMAP_PORT"])
    error = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)")
    hint = security_hint("mailbox", "tls", "localhost", port, error, 993)
    assert '[mailbox] security 改为 "starttls"' in hint and "一般为 993" in hint
