"""The daemon's schedule, without mail servers: jobs that run long."""

from __future__ import annotations

import logging
import time

from conftest import write_config

from mailbot import config, db, jobs
from mailbot.poll import PollReport


def test_a_poll_longer_than_the_interval_is_one_chinese_line_not_an_english_warning_a_run(
        tmp_path, caplog, monkeypatch):
    """A first poll of a big mailbox outlasts poll_interval_seconds: APScheduler logged
    "Execution of job ... skipped: maximum number of running instances reached (1)" at
    every interval.  The runs falling due meanwhile are skipped all the same, and said in
    Chinese once per SKIP_NOTE_SECONDS; two polls never run at once."""
    cfg = config.load(write_config(tmp_path / "c.toml", None, tmp_path / "data",
                                   f"sqlite:///{tmp_path / 'db.sqlite3'}",
                                   poll_interval_seconds=1, extra="[digest]\nenabled = false\n"))
    running, most = [], []

    def slow_poll(*_args, **_kwargs) -> PollReport:
        running.append(1)
        most.append(len(running))
        time.sleep(3.5)
        running.pop()
        return PollReport()

    monkeypatch.setattr(jobs, "poll_and_record", slow_poll)
    monkeypatch.setattr(jobs.Daemon, "connection", lambda self: None)
    engine = db.connect(cfg.storage.database_url)
    daemon = jobs.Daemon(cfg, engine)
    sched = daemon.scheduler()
    with caplog.at_level(logging.INFO):
        sched.start()
        time.sleep(3)
        sched.shutdown(wait=True)
    engine.dispose()
    lines = [r.getMessage() for r in caplog.records]
    assert not [line for line in lines if "maximum number of running instances" in line]
    skipped = [line for line in lines if line.startswith("收信：上一轮尚未结束，跳过本轮")]
    assert len(skipped) == 1 and max(most) == 1 and len(most) == 1, lines
