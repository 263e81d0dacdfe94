"""Worker processes: the same intake as the main process alone, only sooner.

The pure part (``prepare``) is compared with the pipeline's own parse and
classification over every fixture; the poll is run against the real Dovecot
with and without workers and must record exactly the same; a stale known-sender
snapshot and a dying worker must change nothing but speed; a killed poll leaves no
worker or fork server behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import ROOT, deliver, reset_mailbox, run_cli, write_config

from mailbot import config, db
from mailbot.desk import build_desk, verdict_for
from mailbot.filing import sha256
from mailbot.parse import ParseError, parse_message
from mailbot.pipeline import process
from mailbot.prepare import prepare, still_valid, without_payloads
from mailbot.rows import all_attachments

DATA = ROOT / "tests" / "data"
MAILS = sorted(DATA.glob("*.eml")) + sorted((DATA / "labelled").glob("*.eml"))
WHEN = datetime(2024, 7, 15, 10, 0, tzinfo=UTC)


@pytest.fixture
def desk(tmp_path):
    cfg = write_config(tmp_path / "c.toml", None, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}")
    return build_desk(config.load(cfg))


@pytest.mark.parametrize("path", MAILS, ids=lambda p: p.name)
def test_prepare_matches_the_pipelines_own_parse_and_verdict(desk, path):
    raw = path.read_bytes()
    got = prepare(desk, raw, WHEN, {})
    try:
        parsed = parse_message(raw)
    except ParseError as e:
        assert got.parsed is None and got.parse_error == str(e)
        return
    verdict, status, reason = verdict_for({}, desk, parsed, WHEN)
    assert got.parsed == without_payloads(parsed)
    assert (got.verdict, got.status, got.reason) == (verdict, status, reason)
    if status == "quarantined":
        assert got.files is None
        return
    payloads = [a.payload for a, _ in all_attachments(parsed)]  # a bundle's own files only
    assert [stored.sha256 for _, _, stored, _ in got.files] == [sha256(p) for p in payloads]
    for (_, att, stored, _), payload in zip(got.files, payloads, strict=True):
        assert att.payload == b""  # nothing big goes back to the main process
        assert desk.store.path(stored.path).read_bytes() == payload


def test_a_known_sender_lookup_is_recorded_and_checked(desk):
    raw = (DATA / "labelled" / "14_cdsu_news_qq_visit_swun.eml").read_bytes()
    sender = parse_message(raw).sender
    got = prepare(desk, raw, None, {sender: "四川大学"})
    assert (sender, "四川大学") in got.senders
    assert still_valid(got, {sender: "四川大学"})
    assert not still_valid(got, {})
    assert not still_valid(got, {sender: "西南交通大学"})


def test_a_stale_snapshot_is_redone_in_the_main_process(desk):
    """The worker saw no known sender; meanwhile the secretariat confirmed one: the
    record follows the database, not the worker."""
    raw = b"""From: =?UTF-8?B?5byg5LiJ?= <zhangsan123@qq.com>
To: contact@scgxhq.test
Subject: =?UTF-8?B?5paw6Ze756i/?=
Message-ID: <stale-1@qq.com>
Date: Mon, 01 Jul 2024 09:30:00 +0800
Content-Type: text/plain; charset=utf-8

\xe5\x90\x84\xe4\xbd\x8d\xe8\x80\x81\xe5\xb8\x88\xe5\xa5\xbd
"""
    engine = db.connect(desk.cfg.storage.database_url)
    stale = prepare(desk, raw, None, {})
    assert stale.status == "needs_school"
    with db.transaction(engine) as s:
        db.remember_sender(s, "zhangsan123@qq.com", "四川大学", "test")
    it = process(engine, desk, raw, "test:stale", stored=desk.store.put("raw", raw, ".eml"),
                 prepared=stale)
    assert (it.message.status, it.message.school) == ("accepted", "四川大学")
    raw2 = raw.replace(b"stale-1", b"stale-2").replace(b"\xa5\xbd\n", b"\xa5\xbd\xef\xbc\x81\n")
    fresh = prepare(desk, raw2, None, {"zhangsan123@qq.com": "四川大学"})  # 老师好！: a new mail
    it2 = process(engine, desk, raw2, "test:fresh", prepared=fresh)
    assert (it2.message.status, it2.message.school) == ("accepted", "四川大学")


# ---- against the real Dovecot ---------------------------------------------------------

def _listing(cfg: Path) -> list[dict]:
    rows = json.loads(run_cli("submissions", "--json", config=cfg).stdout)
    drop = {"id", "recorded_at", "receipt"}
    return [{k: v for k, v in r.items() if k not in drop} for r in rows]


def _poll(cfg: Path, env: dict | None = None) -> dict:
    out = run_cli("poll", "--once", "--json", config=cfg, env=env).stdout
    return json.loads(out)


@pytest.fixture
def mailbox(mailstack):
    reset_mailbox(mailstack["MAILSTACK_CONTACT"])
    for path in MAILS:
        deliver(mailstack, path.read_bytes())
    return mailstack


@pytest.mark.mailstack
def test_workers_record_exactly_what_the_main_process_alone_records(mailbox, tmp_path):
    runs = {}
    for n in (0, 2):
        cfg = write_config(tmp_path / f"w{n}.toml", mailbox, tmp_path / f"data{n}",
                           f"sqlite:///{tmp_path / f'w{n}.sqlite3'}",
                           processed_action="none", workers=n)
        report = _poll(cfg)
        assert report["fetched"] == len(MAILS)
        assert report["prepared"] == (len(MAILS) if n else 0)
        runs[n] = _listing(cfg)
        files = sorted(p.relative_to(tmp_path / f"data{n}")
                       for p in (tmp_path / f"data{n}").rglob("*") if p.is_file())
        runs[n, "files"] = files
    assert runs[2] == runs[0]
    assert runs[2, "files"] == runs[0, "files"]


@pytest.mark.mailstack
def test_a_dying_worker_costs_only_speed(mailbox, tmp_path):
    cfg = write_config(tmp_path / "w.toml", mailbox, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'w.sqlite3'}", processed_action="none", workers=2)
    proc = run_cli("poll", "--once", "--json", config=cfg, env={"MAILBOT_FAULT": "in-worker"})
    report = json.loads(proc.stdout)
    assert (report["fetched"], report["recorded"], report["prepared"]) == (len(MAILS), len(MAILS), 0)
    assert proc.stderr.count("工作进程意外退出") == 1
    alone = write_config(tmp_path / "a.toml", mailbox, tmp_path / "data0",
                         f"sqlite:///{tmp_path / 'a.sqlite3'}", processed_action="none", workers=0)
    _poll(alone)
    assert _listing(cfg) == _listing(alone)


def _tagged(tag: str) -> list[int]:
    """Processes whose environment holds *tag* (the poll, its fork server, its workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and tag.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.mailstack
def test_a_poll_killed_mid_way_leaves_no_worker_behind(mailbox, tmp_path):
    """The poll dies without a chance to stop its pool (SIGKILL, the OOM killer: here it
    exits at once after its first commit): its workers and their fork server go too,
    instead of waiting forever for work (about 50 MB each)."""
    cfg = write_config(tmp_path / "w.toml", mailbox, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'w.sqlite3'}", processed_action="none", workers=2)
    run = uuid.uuid4().hex
    env = {**os.environ, "MAILBOT_FAULT": "after-commit", "MAILBOT_TEST_RUN": run}
    with open(tmp_path / "poll.log", "wb") as log:
        poll = subprocess.run([sys.executable, "-m", "mailbot.cli", "--config", str(cfg), "poll",
                               "--once"], stdout=log, stderr=log, env=env, timeout=120,
                              check=False)
    assert poll.returncode == 137  # died after its first commit, workers already started
    assert json.loads(run_cli("submissions", "--json", config=cfg).stdout)
    deadline = time.time() + 15
    tag = f"MAILBOT_TEST_RUN={run}"
    while _tagged(tag) and time.time() < deadline:
        time.sleep(0.2)
    assert _tagged(tag) == []
