"""Retention through the real pipeline: aged mail loses its files, rows stay, shared files stay."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import DATA, ROOT, deliver, reset_mailbox, run_cli, write_config
from sqlalchemy import create_engine, func, select, update

from mailbot import config, db
from mailbot.errors import StorageError
from mailbot.filing import FileStore
from mailbot.jobs import Daemon, Single
from mailbot.models import Message, OutboxMail

LABELLED = DATA / "labelled"
ROBOTS = ["50_auto_qq_holiday_reply.eml", "51_auto_exchange_out_of_office.eml",
          "52_auto_coremail_auto_replied.eml", "53_bounce_mailer_daemon.eml",
          "54_list_scu_newsletter.eml"]
PLAN = LABELLED / "02_swjtu_plan_docx_gb2312_zhe.eml"        # hqdw@swjtu.edu.cn, a .docx
NEWS = LABELLED / "24_cdut_news_163_inline_images.eml"
DANGER = LABELLED / "55_quarantine_docx_exe.eml"
UNKNOWN = LABELLED / "04_lsnu_plan_pdf_thunderbird.eml"      # hqglc@lsnu.edu.cn: no such user
CONTRACT = {"id", "message_id", "sender", "subject", "received_at", "school", "district",
            "kinds", "status", "late", "attachments", "links", "plan_missing", "receipt"}


def age(db_url: str, model, ids, days: float) -> None:
    """Make rows *ids* of *model* look *days* old (recorded_at / created_at)."""
    column = Message.recorded_at if model is Message else OutboxMail.created_at
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(update(model).where(model.id.in_(list(ids)))
                     .values({column: datetime.now(UTC) - timedelta(days=days)}))
    engine.dispose()


def age_files(data: Path, days: float = 2) -> None:
    """Make every stored blob look written *days* ago (older than the one-hour guard)."""
    then = time.time() - days * 86400
    for path in blobs(data):
        os.utime(data / path, (then, then))


def blobs(data: Path) -> dict[str, bytes]:
    """Every stored blob: relative path -> content."""
    return {p.relative_to(data).as_posix(): p.read_bytes()
            for kind in ("raw", "files") for p in (data / kind).rglob("*") if p.is_file()}


def listing(cfg: Path) -> dict[int, dict]:
    return {r["id"]: r for r in json.loads(run_cli("submissions", "--json", config=cfg).stdout)}


def retention(cfg: Path, *flags: str) -> dict:
    return json.loads(run_cli("retention", "--json", *flags, config=cfg).stdout)


def paths(row: dict) -> set[str]:
    return {row["raw_path"], *(a["path"] for a in row["attachments"])}


def mail_ids(plan: dict, rule: str | None = None) -> set[int]:
    return {it["id"] for it in plan["items"]
            if it["kind"] == "message" and (rule is None or it["rule"] == rule)}


def resent(raw: bytes, tag: str) -> bytes:
    """The plan sent again as a submission of its own: a new Message-ID and a subject
    saying so ("（{tag}）"; the same mail under the same subject would be a mere copy,
    mailbot.resent), the same attachment."""
    raw = raw.replace(b"Message-ID: <", f"Message-ID: <{tag}.".encode(), 1)
    return raw.replace(b"\nSubject: ", f"\nSubject: ({tag}) ".encode(), 1)


def bounce_carrying(original: bytes) -> bytes:
    """A real QQ bounce (53) whose returned message is *original*, attachments and all."""
    bounce = (LABELLED / "53_bounce_mailer_daemon.eml").read_bytes().replace(b"\r\n", b"\n")
    head, sep, _ = bounce.partition(b"Content-Description: Undelivered Message")
    body = original.replace(b"\r\n", b"\n")
    out = (head + sep + b"\nContent-Type: message/rfc822\nContent-Transfer-Encoding: 8bit\n\n"
           + body + b"\n--8A1C62E0F3.1726278001/smtp.qq.com--\n")
    return out.replace(b"<20240914014001.8A1C62E0F3@smtp.qq.com>", b"<bounce-2@smtp.qq.com>") \
              .replace(b"\n", b"\r\n")


def test_ignored_mail_loses_its_files_and_keeps_its_row(db_url, tmp_path):
    data = tmp_path / "data"
    cfg = write_config(tmp_path / "c.toml", None, data, db_url)     # defaults: ignored 30 days
    run_cli("import", *(str(LABELLED / n) for n in ROBOTS), str(PLAN), str(NEWS), config=cfg)
    rows = listing(cfg)
    ignored = {i for i, r in rows.items() if r["status"] == "ignored"}
    kept = set(rows) - ignored
    assert len(ignored) == len(ROBOTS) and kept
    age(db_url, Message, ignored, 31)
    age(db_url, Message, kept, 400)          # submissions_days = 0: kept forever
    age_files(data)
    before, rows = blobs(data), listing(cfg)

    dry = retention(cfg, "--dry-run")
    assert dry["dry_run"] and mail_ids(dry) == mail_ids(dry, "ignored_days") == ignored
    assert blobs(data) == before and listing(cfg) == rows
    assert "已到期（预演，未做任何改动）" in run_cli("retention", "--dry-run", config=cfg).stdout

    done = retention(cfg)
    assert mail_ids(done) == ignored and done["bytes"] == dry["bytes"] > 0
    after = blobs(data)
    gone = set(before) - set(after)
    assert gone == {p for it in done["items"] for p in it["files"]}
    assert done["freed"] == sum(len(before[p]) for p in gone)
    assert gone <= set().union(*(paths(rows[i]) for i in ignored))
    assert all(after[p] == before[p] for i in kept for p in paths(rows[i]))

    now = listing(cfg)
    assert set(now) == set(rows)
    for i, r in now.items():
        assert CONTRACT <= r.keys() and r["status"] == rows[i]["status"]
        assert r["attachments"] == rows[i]["attachments"]
        assert (r["files_removed_at"] is not None) == (i in ignored)
    assert "原件和附件已于" in run_cli("submissions", config=cfg).stdout

    again = retention(cfg)
    assert again["items"] == [] and blobs(data) == after
    assert "没有到期需要删除的内容" in run_cli("retention", config=cfg).stdout


def test_a_reply_merged_into_a_submission_is_kept_as_long_as_submissions(db_url, tmp_path):
    """A reply to a receipt is recorded as ignored, but its original holds what it added
    to the submission (a school, files): it is kept under submissions_days, not removed
    with the robots' mail after ignored_days."""
    from mailbot.rows import merged_into
    data = tmp_path / "data"
    cfg = write_config(tmp_path / "c.toml", None, data, db_url)     # defaults: ignored 30 days
    run_cli("import", *(str(LABELLED / n) for n in ROBOTS[:2]), str(PLAN), config=cfg)
    rows = listing(cfg)
    robot, reply = sorted(i for i, r in rows.items() if r["status"] == "ignored")
    plan = next(i for i, r in rows.items() if r["status"] == "accepted")
    engine = create_engine(db_url)
    with engine.begin() as conn:  # as replies.join_reply words a merged reply
        conn.execute(update(Message).where(Message.id == reply).values(
            status_reason=f"回复回执 JLX2024-0001，已并入 #{plan} {merged_into(plan)}"))
    engine.dispose()
    age(db_url, Message, {robot, reply, plan}, 31)
    age_files(data)
    assert mail_ids(retention(cfg)) == {robot}
    assert listing(cfg)[reply]["files_removed_at"] is None


def test_a_copy_of_a_retired_mail_is_still_a_duplicate(db_url, tmp_path):
    """Once retention has removed a submission's original, a copy of that mail coming again
    — another delivery of it, with trace fields of its own, or an export imported — is
    still known: retention kept the content hash the duplicate check compares, which it
    could otherwise only compute from the original.  Not a second submission."""
    data = tmp_path / "data"
    cfg = write_config(tmp_path / "c.toml", None, data, db_url,
                       extra="[retention]\nsubmissions_days = 10\n")
    run_cli("import", str(PLAN), config=cfg)
    (pk,) = listing(cfg)
    age(db_url, Message, {pk}, 11)
    age_files(data)
    assert mail_ids(retention(cfg)) == {pk} and not blobs(data)
    copy = tmp_path / "copy.eml"
    copy.write_bytes(b"Received: from mx.scu.edu.cn by mx.scgxhq.test; Mon, 1 Jul 2024 09:00:00 +0800\r\n"
                     b"Delivered-To: contact@scgxhq.test\r\n" + PLAN.read_bytes())
    out = run_cli("import", str(copy), config=cfg).stdout
    assert "新登记 0 封，重复 1 封" in out
    assert list(listing(cfg)) == [pk]


def test_a_shared_file_stays_while_a_kept_message_uses_it(db_url, tmp_path):
    data = tmp_path / "data"
    cfg = write_config(tmp_path / "c.toml", None, data, db_url)
    (tmp_path / "bounce.eml").write_bytes(bounce_carrying(PLAN.read_bytes()))
    run_cli("import", str(PLAN), str(tmp_path / "bounce.eml"), config=cfg)
    rows = listing(cfg)
    (plan_id,) = [i for i, r in rows.items() if r["status"] == "accepted"]
    (bounce_id,) = [i for i, r in rows.items() if r["status"] == "ignored"]
    docx = rows[plan_id]["attachments"][0]
    assert docx["path"] in paths(rows[bounce_id])          # content-addressed: one file
    age(db_url, Message, [bounce_id], 31)
    age_files(data)

    done = retention(cfg)
    assert mail_ids(done) == {bounce_id} and done["shared_kept"] == 1
    left = blobs(data)
    assert docx["path"] in left and rows[plan_id]["raw_path"] in left
    assert not (paths(rows[bounce_id]) - {docx["path"]}) & set(left)
    assert listing(cfg)[bounce_id]["files_removed_at"]

    # the school sends the plan again; then submissions are kept only 10 days
    (tmp_path / "again.eml").write_bytes(resent(PLAN.read_bytes(), "again"))
    run_cli("import", str(tmp_path / "again.eml"), config=cfg)
    short = write_config(tmp_path / "s.toml", None, data, db_url,
                         extra="[retention]\nsubmissions_days = 10\n")
    (again_id,) = set(listing(short)) - set(rows)
    age(db_url, Message, [plan_id], 11)
    age_files(data)
    first = retention(short)
    assert mail_ids(first) == {plan_id} and docx["path"] in blobs(data)
    age(db_url, Message, [again_id], 11)
    second = retention(short)
    assert mail_ids(second) == {again_id} and docx["path"] in second["items"][0]["files"]
    assert docx["path"] not in blobs(data)
    now = listing(short)
    assert now[plan_id]["attachments"] == rows[plan_id]["attachments"]
    assert all(now[i]["files_removed_at"] for i in (plan_id, again_id, bounce_id))

    run_cli("export", "--zip", str(tmp_path / "all.zip"), config=short)
    with zipfile.ZipFile(tmp_path / "all.zip") as z:
        manifest = z.read("manifest.csv").decode("utf-8-sig")
        assert z.namelist() == ["manifest.csv"]
    files = [row[6] for row in csv.reader(io.StringIO(manifest))][1:]
    assert len(files) == 2 and all(f.startswith("（已按保留期限删除）") for f in files)


def test_a_file_written_within_the_hour_waits_for_the_next_run(tmp_path):
    data, url = tmp_path / "data", f"sqlite:///{tmp_path / 'db.sqlite3'}"
    cfg = write_config(tmp_path / "c.toml", None, data, url)
    run_cli("import", *(str(LABELLED / n) for n in ROBOTS), config=cfg)
    rows = listing(cfg)
    age(url, Message, rows, 31)
    before = blobs(data)

    first = retention(cfg)
    assert mail_ids(first) == set(rows) and first["freed"] == 0
    assert first["recent_kept"] == len(before) and blobs(data) == before
    assert all(r["files_removed_at"] for r in listing(cfg).values())

    age_files(data)
    second = retention(cfg)
    assert mail_ids(second, "leftover") == set(rows) and blobs(data) == {}
    assert second["freed"] == sum(map(len, before.values()))
    assert retention(cfg)["items"] == []


@pytest.mark.mailstack
def test_outbox_bodies_and_quarantined_mail_over_the_real_stack(mailstack, db_url, tmp_path):
    for user in (mailstack["MAILSTACK_CONTACT"], "hqdw@swjtu.edu.cn"):
        reset_mailbox(user)
    data = tmp_path / "data"
    cfg = write_config(tmp_path / "c.toml", mailstack, data, db_url, receipts=True)
    deliver(mailstack, PLAN.read_bytes())
    deliver(mailstack, DANGER.read_bytes())
    deliver(mailstack, UNKNOWN.read_bytes())
    crashed = run_cli("poll", "--once", config=cfg, env={"MAILBOT_FAULT": "after-send"},
                      check=False)
    assert crashed.returncode == 137
    run_cli("outbox", "flush", config=cfg)   # crashed send -> unconfirmed; 550 -> failed
    deliver(mailstack, resent(PLAN.read_bytes(), "again"))
    run_cli("poll", "--once", config=cfg)
    engine = create_engine(db_url)
    with engine.connect() as conn:
        outbox = dict(conn.execute(select(OutboxMail.id, OutboxMail.status)).all())
    assert sorted(outbox.values()) == ["failed", "sent", "unconfirmed"]
    done_ids = sorted(i for i, st in outbox.items() if st in ("sent", "failed"))
    (failed,) = [i for i, st in outbox.items() if st == "failed"]
    rows = listing(cfg)
    (quarantined,) = [i for i, r in rows.items() if r["status"] == "quarantined"]
    age(db_url, OutboxMail, outbox, 91)
    age(db_url, Message, rows, 1000)
    age_files(data)
    before = blobs(data)

    done = retention(cfg)        # defaults: outbox 90 days, quarantine and submissions forever
    assert [(it["kind"], it["id"]) for it in done["items"]] == [("outbox", i) for i in done_ids]
    assert done["freed"] == done["bytes"] > 0 and blobs(data) == before
    with engine.connect() as conn:
        body = dict(conn.execute(select(OutboxMail.id, func.length(OutboxMail.raw))).all())
    assert all((body[i] == 0) == (i in done_ids) for i in outbox)
    assert "正文已按保留期限删除" in run_cli("outbox", "--all", config=cfg).stdout
    retry = run_cli("outbox", "retry", str(failed), config=cfg, check=False)
    assert retry.returncode == 1 and "正文已按保留期限删除" in retry.stderr
    now = listing(cfg)
    receipted = [r for r in now.values() if r["receipt"] and r["receipt"]["sent_at"]]
    assert receipted and all(r["files_removed_at"] is None for r in now.values())
    assert {i: r["receipt"] for i, r in now.items()} == {i: r["receipt"] for i, r in rows.items()}

    strict = write_config(tmp_path / "q.toml", mailstack, data, db_url, receipts=True,
                          extra="[retention]\nquarantine_days = 7\n")
    done = retention(strict)
    assert mail_ids(done, "quarantine_days") == mail_ids(done) == {quarantined}
    assert set(before) - set(blobs(data)) == {rows[quarantined]["raw_path"]}
    assert "原件已按保留期限删除" in run_cli("quarantine", "list", config=strict).stdout
    release = run_cli("quarantine", "release", str(quarantined), config=strict, check=False)
    assert release.returncode == 1 and "原件已按保留期限删除" in release.stderr
    engine.dispose()


def test_the_daemon_runs_retention_daily_and_logs_one_line(db_url, tmp_path, caplog):
    data = tmp_path / "data"
    path = write_config(tmp_path / "c.toml", None, data, db_url)
    run_cli("import", *(str(LABELLED / n) for n in ROBOTS[:3]), str(PLAN), config=path)
    rows = listing(path)
    age(db_url, Message, rows, 45)
    age_files(data)
    engine = db.connect(db_url)
    daemon = Daemon(config.load(path), engine)
    sched = daemon.scheduler()
    sched.start(paused=True)                     # jobs get their settings; none runs
    try:
        job = sched.get_job("retention")
        assert isinstance(job.func, Single) and "hour='3'" in str(job.trigger)  # never twice at once
    finally:
        sched.shutdown(wait=False)
    with caplog.at_level(logging.INFO, logger="mailbot.jobs"):
        daemon.retention_job()
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retention:")]
    assert "messages=3 " in line and f"files={len(ROBOTS[:3])} " in line
    left = blobs(data)
    assert all(p in left for p in paths(rows[max(rows)])) and len(left) == len(paths(rows[max(rows)]))
    engine.dispose()

    off = write_config(tmp_path / "off.toml", None, data, db_url,
                       extra="[retention]\noutbox_days = 0\nignored_days = 0\n")
    engine = db.connect(db_url)
    assert Daemon(config.load(off), engine).scheduler().get_job("retention") is None
    engine.dispose()


def test_check_config_rejects_days_that_are_not_whole_and_positive(tmp_path):
    bad = write_config(tmp_path / "c.toml", None, tmp_path / "data", "",
                       extra='[retention]\noutbox_days = -1\nignored_days = 1.5\n'
                             'quarantine_days = "30"\nsubmissions_days = true\nkeep = 3\n')
    out = run_cli("check-config", config=bad, check=False)
    assert out.returncode == 2
    for key in ("outbox_days", "ignored_days", "quarantine_days", "submissions_days"):
        assert f"retention.{key}: 应为天数（不小于 0 的整数" in out.stderr
    assert "retention.keep: 未知配置项" in out.stderr
    good = write_config(tmp_path / "g.toml", None, tmp_path / "data", "",
                        extra="[retention]\nsubmissions_days = 365\nignored_days = 0\n")
    r = config.load(good).retention
    assert (r.outbox_days, r.ignored_days, r.quarantine_days, r.submissions_days) == (90, 0, 0, 365)
    assert config.load(ROOT / "config.example.toml").retention == config.Retention()
    assert "保留期限（天，0 = 永久）：outbox_days 90，ignored_days 0" in run_cli(
        "check-config", config=good).stdout


def test_the_store_removes_only_blobs_inside_the_data_dir(tmp_path):
    outside = tmp_path / "outside"
    (outside / "ab").mkdir(parents=True)
    name = "ab" + "0" * 62 + ".pdf"
    (outside / "ab" / name).write_bytes(b"not ours")
    store = FileStore(tmp_path / "data")
    (tmp_path / "data" / "files").symlink_to(outside)
    for rel in (f"files/ab/{name}", "../outside/ab/" + name, "/etc/passwd", "mailbot.sqlite3",
                "raw/ab/../../../outside/ab/" + name, ""):
        with pytest.raises(StorageError):
            store.remove(rel, fresh_seconds=0)
    assert (outside / "ab" / name).read_bytes() == b"not ours"
    stored = store.put("raw", b"mail", ".eml")
    assert store.remove(stored.path) is None and store.path(stored.path).is_file()
    assert store.remove(stored.path, fresh_seconds=0) == 4 and not store.path(stored.path).exists()
    assert store.remove(stored.path, fresh_seconds=0) == 0
