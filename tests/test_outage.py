"""Outage suite, IMAP side: `mailbot run` while Dovecot goes away and comes back.

Dovecot (IMAP, and LMTP delivery) is stopped for a full minute while mail keeps
arriving at Postfix, which queues it; then for a few seconds in the middle of a
poll that is fetching a backlog in batches.  Each time the daemon must keep
running, back off (with jitter, capped at a few poll intervals), recover by
itself soon after Dovecot is back, record every mail exactly once and send each
receipt exactly once (counted in the senders' real mailboxes over IMAP).
The helpers here are shared with `test_outage_db.py`.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import time
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import deliver, reset_mailbox, run_cli, write_config
from imapclient import IMAPClient
from test_daemon import start_daemon
from test_receipts import inbox

pytestmark = pytest.mark.mailstack
SENDERS = ("houqin@scu.edu.cn", "hqdw@swjtu.edu.cn", "hqgs@uestc.edu.cn")
OUTAGE_SECONDS = 60
RETRY = re.compile(r"poll failed, retrying in (\d+) s")


def news(i: int, tag: str, photo_kb: int = 20) -> tuple[str, bytes]:
    """A school's news mail with a photo: (its Message-ID without <>, raw bytes)."""
    sender = SENDERS[i % len(SENDERS)]
    mid = f"{tag}-{i}@outage.test"
    msg = EmailMessage()
    msg["From"], msg["To"] = sender, "contact@scgxhq.test"
    msg["Subject"], msg["Message-ID"] = f"新闻稿 {tag} {i}", f"<{mid}>"
    msg.set_content("后勤新闻稿。" * 20)
    msg.add_attachment(random.Random(i).randbytes(photo_kb * 1024), maintype="image",
                       subtype="jpeg", filename=f"照片{i}.jpg")
    return mid, msg.as_bytes()


def backlog(stack: dict, count: int, tag: str) -> list[str]:
    """Deliver *count* news mails with 150 KB photos; return their Message-IDs."""
    mids = []
    for i in range(count):
        mid, raw = news(i, tag, photo_kb=150)
        deliver(stack, raw)
        mids.append(mid)
    return mids


def daemon_config(stack: dict, tmp_path: Path, db_url: str, receipts: bool = True) -> Path:
    """Empty mailboxes; poll every second in batches of 5, receipts on (no per-address
    limit in the way) unless told otherwise."""
    for user in (stack["MAILSTACK_CONTACT"], *SENDERS):
        reset_mailbox(user)
    return write_config(tmp_path / "c.toml", stack, tmp_path / "data", db_url,
                        receipts={"per_hour": 10_000, "per_day": 10_000} if receipts else False,
                        poll_interval_seconds=1, batch_size=5)


def stack_paths(stack: dict) -> tuple[Path, Path]:
    """This checkout's Dovecot config file and Postfix config directory."""
    state = Path(stack["MAILBOT_CONFIG"]).parent
    return state / "etc" / "dovecot.conf", state / "postfix"


def stop_dovecot(stack: dict) -> None:
    """Stop Dovecot (IMAP, and LMTP) the way `systemctl stop dovecot` does: SIGTERM to its
    master and every process the master runs, at once, so a session in the middle of a FETCH
    is cut (`doveadm stop` only signals the master; its sessions run on).  Postfix keeps
    accepting mail and queues it."""
    conf = str(stack_paths(stack)[0])
    base = subprocess.run(["doveconf", "-c", conf, "-h", "base_dir"], capture_output=True,
                          text=True, check=True).stdout.strip()
    master = int(Path(base, "master.pid").read_text().strip())
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True,
                              text=True, check=False).stdout.split()
    for pid in (master, *map(int, children)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    port = int(stack["MAILSTACK_IMAPS_PORT"])
    assert wait_for(lambda: not Path(f"/proc/{master}").exists() and not _answers(port), 30,
                    step=0.05)


def start_dovecot(stack: dict) -> None:
    """Start Dovecot again and wait until IMAPS answers; then let Postfix retry its queue
    now (it would by itself after its 5-minute backoff)."""
    conf, pfdir = stack_paths(stack)
    subprocess.run(["dovecot", "-c", str(conf)], check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    wait_for(lambda: _answers(int(stack["MAILSTACK_IMAPS_PORT"])), 30)
    subprocess.run(["postqueue", "-c", str(pfdir), "-f"], check=True, capture_output=True)


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def queue_through_postfix(stack: dict, raw: bytes, sender: str) -> None:
    """Hand *raw* to Postfix's sendmail (no SASL needed: Dovecot's auth is down too)."""
    subprocess.run(["sendmail", "-C", str(stack_paths(stack)[1]), "-f", sender,
                    stack["MAILSTACK_CONTACT"]], input=raw, check=True, timeout=30)


def queued(stack: dict) -> int:
    out = subprocess.run(["postqueue", "-c", str(stack_paths(stack)[1]), "-p"],
                         capture_output=True, text=True, check=True).stdout
    m = re.search(r"in (\d+) Requests?\.", out)
    return int(m.group(1)) if m else 0


def wait_for(predicate, timeout: float, step: float = 0.5):
    """Call *predicate* until it returns something true (returned) or *timeout* passes."""
    deadline = time.monotonic() + timeout
    while True:
        if (value := predicate()) or time.monotonic() > deadline:
            return value
        time.sleep(step)


def finished(cfg: Path, count: int, receipts: bool = True) -> list[dict] | None:
    """The submissions once *count* are recorded (and every receipt is out), else None."""
    rows = json.loads(run_cli("submissions", "--json", config=cfg).stdout)
    sent = all(r["receipt"] and r["receipt"]["sent_at"] for r in rows) or not receipts
    return rows if len(rows) >= count and sent else None


def assert_each_once(stack: dict, rows: list[dict], mids: list[str]) -> None:
    """Every mail recorded once; each one's receipt arrived once in its sender's mailbox."""
    assert sorted(r["message_id"] for r in rows) == sorted(mids)
    want = Counter(r["sender"] for r in rows)
    arrived = [str(m["In-Reply-To"]).strip("<>") for sender, n in want.items()
               for m in inbox(stack, sender, n, timeout=30)]
    assert Counter(arrived) == Counter(mids)


def unseen(stack: dict) -> list[int]:
    """UIDs in the contact INBOX without \\Seen (not yet marked processed)."""
    with IMAPClient("localhost", port=int(stack["MAILSTACK_IMAPS_PORT"]),
                    ssl_context=_ssl(stack)) as c:
        c.login(stack["MAILSTACK_CONTACT"], stack["MAILSTACK_PASSWORD"])
        c.select_folder("INBOX", readonly=True)
        return sorted(c.search(["UNSEEN"]))


def _ssl(stack: dict):
    import ssl
    return ssl.create_default_context(cafile=stack["MAILSTACK_CA_FILE"])


def stop(proc: subprocess.Popen, log: Path) -> str:
    """SIGTERM the daemon, check it exits 0, return its log."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    return log.read_text(encoding="utf-8")


@contextlib.contextmanager
def running(cfg: Path, log: Path):
    """`mailbot run` for the block; killed at its end unless the block stopped it (a failed
    test must not leave a daemon polling the shared contact mailbox)."""
    proc = start_daemon(cfg, log)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def dovecot_restored(stack: dict):
    """Whatever happens in the block, Dovecot runs again at its end."""
    try:
        yield
    finally:
        if not _answers(int(stack["MAILSTACK_IMAPS_PORT"])):
            start_dovecot(stack)


@pytest.fixture
def sqlite_daemon(mailstack, tmp_path):
    cfg = daemon_config(mailstack, tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}")
    log = tmp_path / "daemon.log"
    with dovecot_restored(mailstack), running(cfg, log) as proc:
        yield mailstack, cfg, proc, log


def test_dovecot_down_for_a_minute_while_mail_queues_at_postfix(sqlite_daemon):
    stack, cfg, proc, log = sqlite_daemon
    mids = []
    mid, raw = news(0, "before")
    deliver(stack, raw)
    mids.append(mid)
    assert len(inbox(stack, SENDERS[0], 1, timeout=30)) == 1     # the daemon is working
    stop_dovecot(stack)
    stopped = time.monotonic()
    for i in range(1, 7):
        mid, raw = news(i, "outage")
        queue_through_postfix(stack, raw, SENDERS[i % 3])
        mids.append(mid)
    assert wait_for(lambda: queued(stack) == 6, 20)            # held: LMTP refused
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
    assert proc.poll() is None
    during = run_cli("status", config=cfg).stdout  # the daemon's failed connections show
    assert "最近的错误" in during and "无法连接 IMAP 服务器" in during, during
    start_dovecot(stack)
    back = time.monotonic()
    rows = wait_for(lambda: finished(cfg, len(mids)), 60, step=1)
    recovered = time.monotonic() - back
    assert rows, "the daemon did not recover within 60 s of Dovecot's return"
    assert "此前的错误（其后已正常收信）" in run_cli("status", config=cfg).stdout
    assert recovered < 30, recovered  # capped backoff (≤ 6 s here) or IDLE reconnecting
    time.sleep(3)                                              # room for a duplicate to show
    assert_each_once(stack, rows, mids)
    assert unseen(stack) == []                                 # all marked processed
    text = stop(proc, log)
    delays = [int(d) for d in RETRY.findall(text)]
    assert len(delays) >= 5 and max(delays) <= 6, delays      # backed off, capped, retried
    assert "IDLE connection failed" in text and "Traceback" not in text
    print(f"recovered {recovered:.1f} s after Dovecot's return; retry delays {delays}")


def test_dovecot_stopped_in_the_middle_of_fetching_a_backlog(mailstack, tmp_path):
    # receipts off: their sending would only wait out the SMTP backoff (the test above and
    # the database tests count receipts)
    cfg = daemon_config(mailstack, tmp_path, f"sqlite:///{tmp_path / 'db.sqlite3'}",
                        receipts=False)
    count = 60
    mids = backlog(mailstack, count, "backlog")
    log = tmp_path / "daemon.log"
    with dovecot_restored(mailstack), running(cfg, log) as proc:
        assert wait_for(lambda: log.read_text(encoding="utf-8").count("imap:INBOX/") >= 5,
                        30, step=0.02)
        stop_dovecot(mailstack)                                  # while the poll fetches
        time.sleep(0.5)
        at_stop = log.read_text(encoding="utf-8").count("imap:INBOX/")
        assert at_stop < count, "the backlog was done before Dovecot stopped"
        time.sleep(3)
        assert proc.poll() is None
        start_dovecot(mailstack)
        back = time.monotonic()
        rows = wait_for(lambda: finished(cfg, count, receipts=False), 60, step=1)
        recovered = time.monotonic() - back
        assert rows, "the backlog was not finished after Dovecot's return"
        assert wait_for(lambda: unseen(mailstack) == [], 10)      # all marked processed
        time.sleep(2)
        text = stop(proc, log)
    rows = json.loads(run_cli("submissions", "--json", config=cfg).stdout)
    assert sorted(r["message_id"] for r in rows) == sorted(mids)   # each once, none lost
    assert re.search(r"poll failed, retrying in \d+ s: IMAP 操作失败", text), "no cut session"
    assert "Traceback" not in text
    print(f"Dovecot stopped after {at_stop} of {count} mails were recorded; the rest "
          f"recorded {recovered:.1f} s after its return")
