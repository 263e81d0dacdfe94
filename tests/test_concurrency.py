"""Two daemons on one PostgreSQL database and one mailbox: each mail once, each receipt once."""

from __future__ import annotations

import json
import signal
import time

import pytest
from conftest import deliver_news, reset_mailbox, run_cli, write_config
from test_daemon import start_daemon
from test_receipts import SCHOOL, inbox

pytestmark = [pytest.mark.mailstack, pytest.mark.postgres]
COUNT = 200


def test_two_daemons_never_process_a_mail_twice(mailstack, tmp_path, request):
    db_url = request.getfixturevalue("pg_url")
    for user in (mailstack["MAILSTACK_CONTACT"], SCHOOL):
        reset_mailbox(user)
    deliver_news(mailstack, SCHOOL, COUNT)
    cfg = write_config(tmp_path / "c.toml", mailstack, tmp_path / "data", db_url,
                       receipts={"per_hour": 1000, "per_day": 1000}, poll_interval_seconds=1,
                       batch_size=10)
    procs = [start_daemon(cfg, tmp_path / f"d{n}.log") for n in (1, 2)]
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            rows = json.loads(run_cli("submissions", "--json", config=cfg).stdout)
            if len(rows) >= COUNT and all(r["receipt"] and r["receipt"]["sent_at"] for r in rows):
                break
            time.sleep(2)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=60)
    assert len(rows) == COUNT
    assert len({r["message_id"] for r in rows}) == COUNT
    got = inbox(mailstack, SCHOOL, COUNT, timeout=60)
    subjects = [m["Subject"] for m in got]
    assert len(subjects) == COUNT and len(set(subjects)) == COUNT
    logs = "".join((tmp_path / f"d{n}.log").read_text(encoding="utf-8") for n in (1, 2))
    assert "Traceback" not in logs
