"""Crash suite: `mailbot run` killed with SIGKILL at random moments, restarted each time.

At the end every message is recorded once, every stored attachment matches its
sha256, no receipt arrived twice, and every receipt is sent or (killed between
the send and its commit) `unconfirmed` — never silently lost or repeated.
Counts: MAILBOT_CRASH_KILLS (default 6) kills over MAILBOT_CRASH_MESSAGES (60)
mails in `make test`; `make test-reliability` runs 50 kills over 300 mails.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import time
import uuid
from collections import Counter
from email.message import EmailMessage

import pytest
from conftest import deliver, reset_mailbox, run_cli, write_config
from test_daemon import start_daemon
from test_receipts import inbox

pytestmark = pytest.mark.mailstack
SENDERS = ("houqin@scu.edu.cn", "hqdw@swjtu.edu.cn", "hqgs@uestc.edu.cn")
KILLS = int(os.environ.get("MAILBOT_CRASH_KILLS", "6"))
COUNT = int(os.environ.get("MAILBOT_CRASH_MESSAGES", "60"))


def test_sigkill_at_random_moments_loses_and_repeats_nothing(mailstack, tmp_path):
    for user in (mailstack["MAILSTACK_CONTACT"], *SENDERS):
        reset_mailbox(user)
    rnd = random.Random(20240701)
    for i in range(COUNT):
        msg = EmailMessage()
        msg["From"], msg["To"] = SENDERS[i % 3], mailstack["MAILSTACK_CONTACT"]
        msg["Subject"], msg["Message-ID"] = f"新闻稿 {i}", f"<{uuid.uuid4().hex}@crash.test>"
        msg.set_content("后勤新闻稿。" * 20)
        msg.add_attachment(rnd.randbytes(rnd.randint(1000, 200_000)), maintype="image",
                           subtype="jpeg", filename=f"照片{i}.jpg")
        deliver(mailstack, msg.as_bytes())
    cfg = write_config(tmp_path / "c.toml", mailstack, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}", poll_interval_seconds=1,
                       batch_size=5, receipts={"per_hour": 10_000, "per_day": 10_000})
    for n in range(KILLS):
        proc = start_daemon(cfg, tmp_path / f"kill{n}.log")
        time.sleep(rnd.uniform(0.3, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    proc = start_daemon(cfg, tmp_path / "final.log")
    try:
        deadline = time.time() + 240
        while time.time() < deadline:
            rows = json.loads(run_cli("submissions", "--json", config=cfg).stdout)
            pending = "待发送" in run_cli("outbox", config=cfg).stdout
            if len(rows) >= COUNT and all(r["receipt"] for r in rows) and not pending:
                break
            time.sleep(2)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    rows = json.loads(run_cli("submissions", "--json", config=cfg).stdout)  # the final state
    assert len(rows) == COUNT and len({r["message_id"] for r in rows}) == COUNT
    for r in rows:
        (a,) = r["attachments"]
        data = (tmp_path / "data" / a["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == a["sha256"]
    sent = sum(1 for r in rows if r["receipt"]["sent_at"])
    unconfirmed = run_cli("outbox", config=cfg).stdout.count("未确认")
    assert sent + unconfirmed == COUNT
    arrived = [m["Message-ID"] for s in SENDERS for m in inbox(mailstack, s, sent // 3, timeout=30)]
    assert max(Counter(arrived).values()) == 1                 # no receipt twice
    assert sent <= len(arrived) <= sent + unconfirmed          # none lost unaccounted
