"""`mailbot run` as a real process against the local Dovecot and Postfix."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import MAILSTACK, ROOT, reset_mailbox, write_config
from test_receipts import SCHOOL, inbox, submit

pytestmark = pytest.mark.mailstack


def start_daemon(cfg: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "mailbot.cli", "--config", str(cfg), "run"],
                            stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=os.environ.copy(), cwd=ROOT)


def fresh_daemon(stack, tmp_path: Path, interval: int) -> tuple[subprocess.Popen, Path]:
    """Empty the contact and school mailboxes, start `mailbot run` (receipts on, SQLite)."""
    for user in (stack["MAILSTACK_CONTACT"], SCHOOL):
        reset_mailbox(user)
    cfg = write_config(tmp_path / "c.toml", stack, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}", receipts=True,
                       poll_interval_seconds=interval)
    log = tmp_path / "daemon.log"
    return start_daemon(cfg, log), log


@pytest.fixture
def daemon(mailstack, tmp_path):
    proc, log = fresh_daemon(mailstack, tmp_path, 1)
    yield mailstack, proc, log
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_daemon_answers_within_seconds_and_stops_cleanly(daemon):
    stack, proc, log = daemon
    submit(stack, SCHOOL, "四川大学后勤活动方案", "活动方案见正文。四川大学后勤保障部")
    receipts = inbox(stack, SCHOOL, 1, timeout=30)
    assert len(receipts) == 1 and receipts[0]["Subject"].startswith("[回执 JLX2024-")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    text = log.read_text(encoding="utf-8")
    assert "已停止" in text and "status=accepted" in text and "Traceback" not in text


def test_daemon_recovers_from_an_imap_outage(daemon):
    stack, proc, log = daemon
    time.sleep(2)
    subprocess.run([str(MAILSTACK), "stop-dovecot"], check=True, capture_output=True)
    try:
        time.sleep(4)
        assert proc.poll() is None
    finally:
        subprocess.run([str(MAILSTACK), "start"], check=True, capture_output=True, timeout=120)
    submit(stack, SCHOOL, "四川大学后勤新闻稿", "新闻稿见正文。" * 5 + "\n四川大学后勤保障部")
    assert len(inbox(stack, SCHOOL, 1, timeout=60)) == 1
    assert "poll failed" in log.read_text(encoding="utf-8")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


def test_idle_wakes_the_poll_long_before_the_interval(mailstack, tmp_path):
    proc, log = fresh_daemon(mailstack, tmp_path, 600)
    try:
        time.sleep(3)                                  # first poll done, IDLE started
        sent = time.monotonic()
        submit(mailstack, SCHOOL, "四川大学后勤视频", "https://b23.tv/AbC123\n四川大学后勤保障部")
        assert len(inbox(mailstack, SCHOOL, 1, timeout=30)) == 1
        assert time.monotonic() - sent < 30            # not the 600 s interval
        assert "IDLE: new mail announced" in log.read_text(encoding="utf-8")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def _mailbot_sessions(log_path: Path, since: int) -> set[str]:
    """Dovecot session ids of IMAP logins that sent mailbot's ID, after byte *since*."""
    with log_path.open("rb") as fh:
        fh.seek(since)
        lines = fh.read().decode("utf-8", "replace").splitlines()
    return {line.split(">")[1].split("<")[1] for line in lines
            if "ID sent: name=mailbot" in line and line.count("<") >= 2}


def test_one_imap_connection_serves_every_poll_and_idle(mailstack, tmp_path):
    """Polls every second plus IDLE between them, for ten seconds and two mails: all
    on one connection (a connection per poll would be a login a second)."""
    dovecot_log = Path(mailstack["MAILBOT_CONFIG"]).parent / "log" / "dovecot.log"
    since = dovecot_log.stat().st_size
    proc, log = fresh_daemon(mailstack, tmp_path, 1)
    try:
        time.sleep(4)
        submit(mailstack, SCHOOL, "四川大学后勤新闻稿", "新闻稿见正文。" * 5 + "\n四川大学后勤保障部")
        submit(mailstack, SCHOOL, "四川大学后勤视频", "https://b23.tv/AbC123\n四川大学后勤保障部")
        assert len(inbox(mailstack, SCHOOL, 2, timeout=30)) == 2
        time.sleep(4)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    text = log.read_text(encoding="utf-8")
    assert text.count("poll: fetched=") >= 5 and "Traceback" not in text
    assert len(_mailbot_sessions(dovecot_log, since)) == 1


def test_start_up_removes_what_a_killed_run_left_half_written(mailstack, tmp_path):
    """A run killed mid-intake leaves temp files (a staged original, a spool); the next
    start removes those over an hour old and nothing else."""
    data = tmp_path / "data"
    stray = [data / "raw" / "ab" / ".tmp-killed", data / "tmp" / "spool-killed"]
    fresh = data / "files" / "cd" / ".tmp-in-use"
    for path in [*stray, fresh]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half a mail")
    for path in stray:
        os.utime(path, (time.time() - 7200,) * 2)
    proc, log = fresh_daemon(mailstack, tmp_path, 60)
    try:
        deadline = time.monotonic() + 20
        while "temp files" not in log.read_text(encoding="utf-8") and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    assert "removed 2 temp files" in log.read_text(encoding="utf-8")
    assert not any(p.exists() for p in stray) and fresh.exists()
