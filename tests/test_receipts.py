"""Receipts over the real Postfix and Dovecot: numbered, threaded, exactly once, never to robots."""

from __future__ import annotations

import email
import json
import random
import smtplib
import ssl
import subprocess
import time
import uuid
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import ROOT, deliver, reset_mailbox, run_cli, write_config
from imapclient import IMAPClient

from mailbot.digest import question

pytestmark = pytest.mark.mailstack
SCHOOL = "houqin@scu.edu.cn"
DISTRICTS = """
[[districts]]
name = "成都第一片区"
lead_school = "四川师范大学"
contact = "朱寒野"
phone = "028-84760585"
email = "houqin@sicnu.edu.cn"
"""


def submit(stack, sender: str, subject: str, body: str, extra: dict | None = None,
           mid: str = "") -> str:
    """Send a mail as *sender* through Postfix submission; return its Message-ID."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = stack["MAILSTACK_CONTACT"]
    msg["Subject"] = subject
    mid = mid or f"{uuid.uuid4().hex}@{sender.split('@')[1]}"
    msg["Message-ID"] = f"<{mid}>"
    for k, v in (extra or {}).items():
        msg[k] = v
    msg.set_content(body)
    ctx = ssl.create_default_context(cafile=stack["MAILSTACK_CA_FILE"])
    with smtplib.SMTP("localhost", int(stack["MAILSTACK_SMTP_PORT"])) as smtp:
        smtp.starttls(context=ctx)
        smtp.login(sender, stack["MAILSTACK_PASSWORD"])
        smtp.send_message(msg)
    return mid


def inbox(stack, user: str, want: int, timeout: float = 20) -> list[EmailMessage]:
    """The messages in *user*'s INBOX once there are at least *want* (or the timeout)."""
    ctx = ssl.create_default_context(cafile=stack["MAILSTACK_CA_FILE"])
    deadline = time.time() + timeout
    while True:
        with IMAPClient("localhost", port=int(stack["MAILSTACK_IMAPS_PORT"]), ssl_context=ctx) as c:
            c.login(user, stack["MAILSTACK_PASSWORD"])
            c.select_folder("INBOX", readonly=True)
            data = c.fetch(c.search("ALL"), ["BODY.PEEK[]"])
        mails = [email.message_from_bytes(v[b"BODY[]"], policy=policy.default)
                 for _, v in sorted(data.items())]
        if len(mails) >= want or time.time() > deadline:
            return mails
        time.sleep(0.2)


def wait_contact(stack, count: int) -> None:
    assert len(inbox(stack, stack["MAILSTACK_CONTACT"], count)) == count


@pytest.fixture
def desk(mailstack, tmp_path):
    for user in (mailstack["MAILSTACK_CONTACT"], SCHOOL, "hqc@cdu.edu.cn", "2894561730@qq.com"):
        reset_mailbox(user)
    cfg = write_config(tmp_path / "c.toml", mailstack, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}", receipts=True, extra=DISTRICTS)
    return mailstack, cfg


def rows(cfg: Path) -> list[dict]:
    return json.loads(run_cli("submissions", "--json", config=cfg).stdout)


def test_receipt_arrives_numbered_threaded_and_only_once(desk):
    stack, cfg = desk
    mid = submit(stack, SCHOOL, "四川大学后勤活动方案", "活动方案见正文。\n四川大学后勤保障部")
    wait_contact(stack, 1)
    out = run_cli("poll", "--once", config=cfg).stdout
    assert "发出 1 封" in out
    (row,) = rows(cfg)
    number = row["receipt"]["number"]
    assert number.startswith("JLX2024-") and row["receipt"]["sent_at"]
    (receipt,) = inbox(stack, SCHOOL, 1)
    assert receipt["Subject"] == f"[回执 {number}] 四川大学后勤活动方案"
    assert receipt["In-Reply-To"] == f"<{mid}>" and f"<{mid}>" in receipt["References"]
    assert receipt["Auto-Submitted"] == "auto-replied"
    assert receipt["Precedence"] == "bulk" and receipt["X-Auto-Response-Suppress"] == "All"
    assert receipt["X-Loop"] == stack["MAILSTACK_CONTACT"]
    text = receipt.get_body(("plain",)).get_content()
    assert number in text and "四川大学" in text
    assert receipt.get_body(("html",)) is not None
    again = run_cli("poll", "--once", config=cfg).stdout
    assert "发出" not in again
    assert len(inbox(stack, SCHOOL, 2, timeout=2)) == 1


def test_a_receipt_threads_under_a_long_outlook_message_id(desk):
    """Outlook's Message-IDs run past 78 characters.  The receipt's In-Reply-To and
    References carry it on one line as written: the outbox sends its stored bytes, never
    a re-serialised copy (which encoded the id as RFC 2047 words, and Outlook then did not
    thread the receipt)."""
    stack, cfg = desk
    long_id = ("TYZPR06MB6567D8F1A2B3C4D5E6F7A8B9C0D1E2F3A4B5C6D7E8F9@"
               "TYZPR06MB6567.apcprd06.prod.outlook.com")
    submit(stack, SCHOOL, "四川大学后勤新闻稿", "新闻稿见正文。\n四川大学后勤保障部", mid=long_id)
    wait_contact(stack, 1)
    assert "发出 1 封" in run_cli("poll", "--once", config=cfg).stdout
    (receipt,) = inbox(stack, SCHOOL, 1)
    assert receipt["In-Reply-To"] == f"<{long_id}>" and receipt["References"] == f"<{long_id}>"
    ctx = ssl.create_default_context(cafile=stack["MAILSTACK_CA_FILE"])
    with IMAPClient("localhost", port=int(stack["MAILSTACK_IMAPS_PORT"]), ssl_context=ctx) as c:
        c.login(SCHOOL, stack["MAILSTACK_PASSWORD"])
        c.select_folder("INBOX", readonly=True)
        (raw,) = [v[b"BODY[]"] for v in c.fetch(c.search("ALL"), ["BODY.PEEK[]"]).values()]
    assert f"\r\nIn-Reply-To: <{long_id}>\r\n".encode() in raw  # the wire form, as written
    assert f"\r\nReferences: <{long_id}>\r\n".encode() in raw


def test_unknown_school_is_asked_to_reply(desk):
    stack, cfg = desk
    submit(stack, "2894561730@qq.com", "视频链接", "https://www.bilibili.com/video/BV1xx411c7mD")
    wait_contact(stack, 1)
    run_cli("poll", "--once", config=cfg)
    (receipt,) = inbox(stack, "2894561730@qq.com", 1)
    assert "学校：XXX" in receipt.get_body(("plain",)).get_content()


def test_no_send_queues_the_receipt_for_review_and_flush_sends_it(desk):
    stack, cfg = desk
    mid = submit(stack, SCHOOL, "四川大学后勤活动方案", "活动方案见正文。\n四川大学后勤保障部")
    wait_contact(stack, 1)
    out = run_cli("poll", "--once", "--no-send", config=cfg).stdout
    assert "新登记 1 封" in out and "发出" not in out
    (row,) = rows(cfg)
    number = row["receipt"]["number"]
    assert number and row["receipt"]["sent_at"] is None
    listing = run_cli("outbox", config=cfg).stdout
    assert "待发送  回执" in listing and f"[回执 {number}] 四川大学后勤活动方案" in listing
    assert inbox(stack, SCHOOL, 1, timeout=2) == []
    assert "发出 1 封" in run_cli("outbox", "flush", config=cfg).stdout
    (receipt,) = inbox(stack, SCHOOL, 1)
    assert receipt["Subject"] == f"[回执 {number}] 四川大学后勤活动方案"
    assert receipt["In-Reply-To"] == f"<{mid}>"
    assert rows(cfg)[0]["receipt"]["sent_at"]


def test_smtp_down_keeps_receipt_queued_then_sends_once(desk):
    stack, cfg = desk
    pfdir = Path(stack["MAILBOT_CONFIG"]).parent / "postfix"
    submit(stack, SCHOOL, "新闻稿", "新闻稿见附件。四川大学后勤")
    wait_contact(stack, 1)
    subprocess.run(["postfix", "-c", str(pfdir), "stop"], check=True, capture_output=True)
    try:
        out = run_cli("poll", "--once", config=cfg)
        assert "待重试 1 封" in out.stdout and "无法通过 SMTP" in out.stderr
        listing = run_cli("outbox", config=cfg).stdout
        assert "待发送  回执" in listing
        assert "发信出错：无法通过 SMTP" in run_cli("status", config=cfg).stdout
    finally:
        subprocess.run([str(ROOT / "scripts" / "mailstack"), "start"], check=True,
                       capture_output=True, timeout=120)
    assert "发出 1 封" in run_cli("outbox", "flush", config=cfg).stdout
    assert "发信出错" not in run_cli("status", config=cfg).stdout
    assert len(inbox(stack, SCHOOL, 1)) == 1
    assert "发出" not in run_cli("outbox", "flush", config=cfg).stdout
    assert len(inbox(stack, SCHOOL, 2, timeout=2)) == 1


def test_crash_after_send_never_sends_twice(desk):
    stack, cfg = desk
    submit(stack, SCHOOL, "视频推文", "https://mp.weixin.qq.com/s/AbCdEfGhIjKlMnOpQrStUv 四川大学后勤")
    wait_contact(stack, 1)
    crashed = run_cli("poll", "--once", config=cfg, env={"MAILBOT_FAULT": "after-send"},
                      check=False)
    assert crashed.returncode == 137
    run_cli("poll", "--once", config=cfg)
    assert "未确认" in run_cli("outbox", config=cfg).stdout
    assert len(inbox(stack, SCHOOL, 2, timeout=3)) == 1


def test_robot_answering_a_receipt_gets_nothing(desk):
    stack, cfg = desk
    submit(stack, SCHOOL, "活动方案", "四川大学后勤活动方案")
    wait_contact(stack, 1)
    run_cli("poll", "--once", config=cfg)
    (receipt,) = inbox(stack, SCHOOL, 1)
    submit(stack, SCHOOL, "自动回复: " + receipt["Subject"], "我正在休假。",
           {"Auto-Submitted": "auto-replied", "In-Reply-To": receipt["Message-ID"]})
    submit(stack, SCHOOL, "Re: " + receipt["Subject"], "这是来自QQ邮箱的假期自动回复邮件。",
           {"X-QQ-AUTO-REPLY": "true"})
    wait_contact(stack, 3)
    out = run_cli("poll", "--once", config=cfg).stdout
    assert "已忽略 2" in out and "发出" not in out
    assert len(inbox(stack, SCHOOL, 2, timeout=2)) == 1


def test_no_receipt_for_corpus_bounces(tmp_path):
    corpus = ROOT.parent / "shared" / "corpus-outside"
    if not corpus.is_dir():
        pytest.skip("shared/corpus-outside not beside the repo")
    # SMTP aimed at a closed port: a wrongly queued receipt would show as pending, never leave
    cfg = write_config(tmp_path / "c.toml", None, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}", receipts=True)
    manifest = [line.split("\t") for line in
                (corpus / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    bounces = [str(corpus / cols[0]) for cols in manifest if cols[4] == "bounce"]
    run_cli("import", "--send-receipts", *bounces, config=cfg,
            env={"MAILBOT_SMTP_PASSWORD": "x"})
    assert all(r["receipt"] is None for r in rows(cfg))
    assert "共 0 封" in run_cli("outbox", "--all", config=cfg).stdout


def _asked_for_school(stack, cfg, qq: str):
    """A video link from the QQ box *qq*, polled: recorded needs_school; its receipt."""
    submit(stack, qq, "视频链接", "https://www.bilibili.com/video/BV1xx411c7mD\n小王")
    wait_contact(stack, 1)
    run_cli("poll", "--once", config=cfg)
    assert rows(cfg)[-1]["status"] == "needs_school"
    (receipt,) = inbox(stack, qq, 1)
    return receipt


def _reply(stack, qq: str, receipt, body: str) -> None:
    """*qq* answers *receipt* ("Re: [回执 …]", threaded under it)."""
    submit(stack, qq, "Re: " + receipt["Subject"], body,
           {"In-Reply-To": receipt["Message-ID"], "References": receipt["Message-ID"]})


def _answered(stack, cfg: Path, qq: str, receipt, body: str, mails: int) -> str:
    """*qq* answers *receipt* with *body*; once the contact mailbox holds *mails*, polled:
    the poll's output."""
    _reply(stack, qq, receipt, body)
    wait_contact(stack, mails)
    return run_cli("poll", "--once", config=cfg).stdout


def test_reply_with_school_fixes_it_and_the_address_is_remembered(desk):
    stack, cfg = desk
    qq = "2894561730@qq.com"
    receipt = _asked_for_school(stack, cfg, qq)
    _answered(stack, cfg, qq, receipt,
              "学校：成都大学\n另补一个链接 https://mp.weixin.qq.com/s/AbCdEfGhIjKlMnOpQrStUv\n\n"
              "------------------ 原始邮件 ------------------\n> 请回复学校", 2)
    first, reply = rows(cfg)
    assert (first["school"], first["district"], first["status"]) == ("成都大学", "成都第二片区",
                                                                     "accepted")
    assert {ln["platform"] for ln in first["links"]} == {"bilibili", "wechat_article"}
    assert reply["status"] == "ignored" and f"#{first['id']}" in reply["status_reason"]
    mails = inbox(stack, qq, 2)
    assert len(mails) == 2 and "（更新）" in mails[1]["Subject"]
    assert "成都大学" in mails[1].get_body(("plain",)).get_content()
    submit(stack, qq, "新闻稿", "新闻稿见正文。我处党员参观校史馆。" * 5)
    wait_contact(stack, 3)
    run_cli("poll", "--once", config=cfg)
    third = rows(cfg)[2]
    assert third["school"] == "成都大学" and third["status"] == "accepted"
    assert any(e["rule"] == "school.address" for e in third["evidence"])
    run_cli("reclassify", "--all", config=cfg)  # the merged reply stays merged, its link kept
    first, reply, _third = rows(cfg)
    assert (first["school"], first["status"]) == ("成都大学", "accepted")
    assert {ln["platform"] for ln in first["links"]} == {"bilibili", "wechat_article"}
    assert reply["status"] == "ignored" and f"#{first['id']}" in reply["status_reason"]


def test_a_reply_naming_the_school_in_traditional_characters_fixes_it(desk):
    """A Traditional input method writes "學校：西南民族大學": the label is read as 学校 (the
    text is folded with rules/traditional.toml), not only the name."""
    stack, cfg = desk
    qq = "2894561730@qq.com"
    receipt = _asked_for_school(stack, cfg, qq)
    _answered(stack, cfg, qq, receipt, "學校：西南民族大學\n\n> 请回复学校", 2)
    first, reply = rows(cfg)
    assert (first["school"], first["status"]) == ("西南民族大学", "accepted")
    assert any(e["rule"] == "school.reply" for e in first["evidence"])
    assert reply["status"] == "ignored" and f"#{first['id']}" in reply["status_reason"]
    mails = inbox(stack, qq, 2)
    assert len(mails) == 2 and "（更新）" in mails[1]["Subject"]
    assert "西南民族大学" in mails[1].get_body(("plain",)).get_content()


def test_a_reply_saying_its_school_without_the_label_fixes_it_for_that_submission(desk):
    """"我们是西南民族大学后勤处的" answers "which school?" as well as "学校：西南民族大学":
    the submission gets the school (the evidence says how it was read) and an updated
    receipt; the QQ address is not remembered for the school on such a reading."""
    stack, cfg = desk
    qq = "2894561730@qq.com"
    receipt = _asked_for_school(stack, cfg, qq)
    assert "发出 1 封" in _answered(stack, cfg, qq, receipt, "老师好，我们是西南民族大学后勤处的。", 2)
    first, reply = rows(cfg)
    assert (first["school"], first["status"]) == ("西南民族大学", "accepted")
    (said,) = [e for e in first["evidence"] if e["rule"] == "school.reply"]
    assert "回复回执（" in said["detail"] and "西南民族大学" in said["detail"]
    assert reply["status"] == "ignored" and f"#{first['id']}" in reply["status_reason"]
    assert "（更新）" in inbox(stack, qq, 2)[1]["Subject"]
    submit(stack, qq, "视频链接", "https://www.bilibili.com/video/BV1GJ411x7h7\n小王")
    wait_contact(stack, 3)
    run_cli("poll", "--once", config=cfg)
    assert rows(cfg)[-1]["status"] == "needs_school"


def _dsn(stack, receipt, to: str, n: int = 1) -> bytes:
    """Postfix's bounce of *receipt* (its Message-ID quoted in the returned headers)."""
    return (f"From: MAILER-DAEMON@scgxhq.test\r\nTo: {stack['MAILSTACK_CONTACT']}\r\n"
            f"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn{n}@scgxhq.test>"
            "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; "
            "report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain"
            "\r\n\r\nmailbox full\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            f"Message-ID: {receipt['Message-ID']}\r\nTo: {to}\r\n--b--\r\n").encode()


def test_a_reply_to_a_receipt_from_a_bouncing_address_resumes_its_receipts(desk):
    """The address wrote again (a reply joined to its submission): the updated receipt
    goes out and the address is no longer listed as bouncing."""
    stack, cfg = desk
    qq = "2894561730@qq.com"
    receipt = _asked_for_school(stack, cfg, qq)
    deliver(stack, _dsn(stack, receipt, qq))
    run_cli("poll", "--once", config=cfg)
    assert f"退信地址（暂停回执）：{qq}" in run_cli("outbox", config=cfg).stdout
    assert "发出 1 封" in _answered(stack, cfg, qq, receipt, "学校：西南民族大学", 3)
    assert rows(cfg)[0]["school"] == "西南民族大学"
    assert "退信地址" not in run_cli("outbox", config=cfg).stdout
    assert "（更新）" in inbox(stack, qq, 2)[1]["Subject"]


def test_bounced_receipt_pauses_the_address_until_it_writes_again(desk):
    stack, cfg = desk
    submit(stack, SCHOOL, "活动方案", "四川大学后勤活动方案")
    wait_contact(stack, 1)
    run_cli("poll", "--once", config=cfg)
    (receipt,) = inbox(stack, SCHOOL, 1)
    deliver(stack, _dsn(stack, receipt, SCHOOL))
    out = run_cli("poll", "--once", config=cfg).stdout
    assert "已忽略 1" in out and "发出" not in out
    assert f"退信地址（暂停回执）：{SCHOOL}" in run_cli("outbox", config=cfg).stdout
    submit(stack, SCHOOL, "活动方案", "四川大学后勤活动方案")  # the same mail again: a copy,
    wait_contact(stack, 3)  # no receipt of its own, but the address writes again
    assert "发出" not in run_cli("poll", "--once", config=cfg).stdout
    assert rows(cfg)[-1]["status"] == "ignored" and "重复发送" in rows(cfg)[-1]["status_reason"]
    assert "退信地址" not in run_cli("outbox", config=cfg).stdout
    submit(stack, SCHOOL, "新闻稿", "四川大学后勤新闻稿。" * 5)
    wait_contact(stack, 4)
    assert "发出 1 封" in run_cli("poll", "--once", config=cfg).stdout
    assert "退信地址" not in run_cli("outbox", config=cfg).stdout
    assert len(inbox(stack, SCHOOL, 2)) == 2


def _four_mails_two_receipts(stack, tmp_path, sender: str, subject: str, body: str):
    """*sender* sends four mails (*subject* and *body* numbered) to a mailbot allowing two
    receipts an hour; polled: (config path, the poll's output)."""
    for user in (stack["MAILSTACK_CONTACT"], sender):
        reset_mailbox(user)
    cfg_path = write_config(tmp_path / "c.toml", stack, tmp_path / "data",
                            f"sqlite:///{tmp_path / 'db.sqlite3'}",
                            receipts={"per_hour": 2, "per_day": 20})
    for i in range(4):
        submit(stack, sender, subject.format(i), body.format(i))
    wait_contact(stack, 4)
    return cfg_path, run_cli("poll", "--once", config=cfg_path).stdout


def _combine_held(cfg_path: Path, check_hour: bool = False):
    """Two hours on, the held receipts go out combined; the database engine."""
    from datetime import UTC, datetime, timedelta

    from mailbot import config, db, outbox, receipts
    cfg = config.load(cfg_path)
    engine = db.connect(cfg.storage.database_url)
    if check_hour:
        with db.transaction(engine) as s:
            assert receipts.release_held(s, cfg) == 0          # still within the hour
    with db.transaction(engine) as s:
        assert receipts.release_held(s, cfg, datetime.now(UTC) + timedelta(hours=2)) == 1
    assert outbox.deliver(engine, cfg, ignore_backoff=True).sent == 1
    return engine


def test_over_the_limit_receipts_are_combined_later(mailstack, tmp_path):
    cfg_path, out = _four_mails_two_receipts(mailstack, tmp_path, SCHOOL, "新闻稿{}",
                                             "四川大学后勤新闻稿。" * 5)
    assert "发出 2 封" in out
    held = [r for r in rows(cfg_path) if r["receipt"] and not r["receipt"]["sent_at"]]
    assert len(held) == 2
    _combine_held(cfg_path, check_hour=True)
    mails = inbox(mailstack, SCHOOL, 3)  # in arrival order: Postfix may deliver them in any
    combined = [m for m in mails if "合并回执" in m["Subject"]]
    assert len(mails) == 3 and len(combined) == 1 and "等 2 封] 合并回执" in combined[0]["Subject"]
    body = combined[0].get_body(("plain",)).get_content()
    assert all(r["receipt"]["number"] in body for r in held)
    assert combined[0]["Auto-Submitted"] == "auto-replied"
    assert all(r["receipt"]["sent_at"] for r in rows(cfg_path))
    deliver(mailstack, _dsn(mailstack, combined[0], SCHOOL))  # a combined receipt bounces too
    wait_contact(mailstack, 5)
    run_cli("poll", "--once", config=cfg_path)
    assert f"退信地址（暂停回执）：{SCHOOL}" in run_cli("outbox", config=cfg_path).stdout


def test_a_reply_naming_the_school_to_a_combined_receipt_fixes_every_mail_it_listed(
        mailstack, tmp_path):
    """A QQ box sent four mails; the last two were acknowledged in one combined receipt
    asking for the school.  A reply saying the school ("我们是成都大学后勤保障处的") sets the
    school of both (the receipt's number names only the first), each gets its updated
    receipt, and reclassify keeps the school of both (the address is not remembered)."""
    from sqlalchemy import select

    from mailbot import db
    from mailbot.models import OutboxMail
    qq = "2894561730@qq.com"
    cfg_path, _ = _four_mails_two_receipts(mailstack, tmp_path, qq, "视频链接{}",
                                           "https://www.bilibili.com/video/BV1xx411c7m{}\n小王")
    engine = _combine_held(cfg_path)
    (combined,) = [m for m in inbox(mailstack, qq, 3) if "合并回执" in m["Subject"]]
    held = [r for r in rows(cfg_path) if r["receipt"]["number"] in combined["Subject"]
            or r["receipt"]["number"] in combined.get_body(("plain",)).get_content()]
    assert len(held) == 2 and all(r["status"] == "needs_school" for r in held)
    _reply(mailstack, qq, combined, "我们是成都大学后勤保障处的，视频见上。")
    wait_contact(mailstack, 5)
    run_cli("poll", "--once", "--no-send", config=cfg_path)
    by_id = {r["id"]: r for r in rows(cfg_path)}
    for r in held:
        assert (by_id[r["id"]]["school"], by_id[r["id"]]["status"]) == ("成都大学", "accepted")
        assert any(e["rule"] == "school.reply" for e in by_id[r["id"]]["evidence"])
    run_cli("reclassify", "--all", config=cfg_path)
    by_id = {r["id"]: r for r in rows(cfg_path)}
    assert [by_id[r["id"]]["school"] for r in held] == ["成都大学", "成都大学"]
    assert [r["status"] for r in rows(cfg_path)[:2]] == ["needs_school"] * 2  # not listed in it
    with db.transaction(engine) as s:
        queued = list(s.scalars(select(OutboxMail).where(OutboxMail.sent_at.is_(None))))
    assert sorted(m.message_pk for m in queued) == sorted(r["id"] for r in held)


def test_too_large_mail_is_quarantined_unread_and_the_sender_told(mailstack, tmp_path):
    for user in (mailstack["MAILSTACK_CONTACT"], SCHOOL):
        reset_mailbox(user)
    cfg = write_config(tmp_path / "c.toml", mailstack, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}", receipts=True, max_message_mb=1)
    msg = EmailMessage()
    msg["From"], msg["To"] = SCHOOL, mailstack["MAILSTACK_CONTACT"]
    msg["Subject"], msg["Message-ID"] = "四川大学后勤视频", "<big-1@scu.edu.cn>"
    msg.set_content("视频见附件。四川大学后勤保障部")
    video = b"\x00\x00\x00\x20ftypisom" + random.Random(7).randbytes(int(2.6 * 2**20))
    msg.add_attachment(video, maintype="video", subtype="mp4", filename="视频.mp4")
    deliver(mailstack, msg.as_bytes())
    run_cli("poll", "--once", config=cfg)
    (row,) = rows(cfg)
    assert row["status"] == "quarantined" and "邮件过大" in row["status_reason"]
    assert row["attachments"] == [] and row["receipt"] is None
    assert (tmp_path / "data" / row["raw_path"]).stat().st_size < 10_000
    (notice,) = inbox(mailstack, SCHOOL, 1)
    assert notice["Subject"].startswith("[邮件过大，未能接收]")
    text = notice.get_body(("plain",)).get_content()
    assert "超大附件" in text
    # the file's own size is told (base64 made the mail a third larger), beside the mail's
    size = len(msg.as_bytes(policy=msg.policy.clone(linesep="\r\n")))  # as IMAP counts it
    assert f"{size / 2**20:.1f}" != f"{len(video) / 2**20:.1f}"
    assert f"整封大小约 {size / 2**20:.1f} MB" in text
    assert f"文件本身合计约 {len(video) / 2**20:.1f} MB" in text
    assert notice["Auto-Submitted"] == "auto-replied"
    assert f"too-large-{row['id']}-" in notice["Message-ID"]  # the notice names its mail
    released = run_cli("quarantine", "release", str(row["id"]), config=cfg, check=False)
    assert released.returncode != 0 and "只保存了邮件头" in released.stderr  # no empty shell
    assert rows(cfg)[0]["status"] == "quarantined"


@pytest.mark.parametrize("fixture, sender, label, expires", [
    ("coremail_large_attachment_link.eml", "houqin@xhu.edu.cn",
     "Coremail邮箱超大附件“西华大学后勤博物馆接力行宣传片.mp4”（386.25M）", "2024-08-01 23:59"),
    ("iphone_mail_drop_link.eml", "houqin@lsnu.edu.cn",
     "iCloud邮件寄送（Mail Drop）大附件“IMG_4821.MOV”（584.45M）", "2024-08-17"),
])
def test_coremail_and_mail_drop_links_are_acknowledged_with_their_expiry(
        mailstack, tmp_path, fixture, sender, label, expires):
    """A campus Coremail 超大附件 share link and an iPhone Mail Drop link are named, sized
    and dated in the receipt as QQ and 163 large attachments are."""
    for user in (mailstack["MAILSTACK_CONTACT"], sender):
        reset_mailbox(user)
    cfg = write_config(tmp_path / "c.toml", mailstack, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}", receipts=True)
    deliver(mailstack, (ROOT / "tests" / "data" / fixture).read_bytes())
    assert "发出 1 封" in run_cli("poll", "--once", config=cfg).stdout
    (row,) = rows(cfg)
    assert "video" in row["kinds"] and [ln["expires"][:10] for ln in row["links"]] == [expires[:10]]
    (receipt,) = inbox(mailstack, sender, 1)
    for kind in ("plain", "html"):
        body = receipt.get_body((kind,)).get_content()
        assert label in body and f"该超大附件已于 {expires} 过期" in body, kind  # a 2024 mail


def test_a_large_attachment_link_already_expired_is_asked_for_again():
    """A receipt told the school a link "will" expire on a day already past: it says the
    link has expired and asks for the file again; one still valid keeps its date."""
    from datetime import datetime

    from mailbot.receipts import _link_view

    link = {"platform": "coremail_large_attachment", "url": "https://mail.x.edu.cn/f", "title": ""}
    now = datetime(2026, 12, 7, 12, 0)
    for expires, said in (("2026-11-01", "已于 2026-11-01 过期，秘书处无法下载：请重新发送文件"),
                          ("2026-12-07T10:00", "已于 2026-12-07 10:00 过期"),
                          ("2026-12-07T23:00", "将于 2026-12-07 23:00 过期，秘书处会在此之前下载"),
                          ("2026-12-31", "将于 2026-12-31 过期")):
        assert said in _link_view({**link, "expires": expires}, now)["note"]


@pytest.mark.parametrize("school, named", [("西华大学", True), ("成都大学", False)])
def test_the_receipt_names_the_district_leader_except_to_the_leader_itself(school, named):
    """A school of 成都第二片区 is told its leader (成都大学后勤处, 唐勇); 成都大学 itself,
    the leader, is not told it is its own leader."""
    from datetime import UTC, datetime

    from mailbot import config
    from mailbot.receipts import build_receipt
    cfg = config.load(ROOT / "config.example.toml")
    r = {"id": 7, "message_id": "m7@cdu.edu.cn", "sender": "hqc@cdu.edu.cn", "sender_name": "唐勇",
         "subject": "活动方案", "received_at": "2024-07-08T10:00:00+08:00", "school": school,
         "district": "成都第二片区", "kinds": ["plan"], "status": "accepted", "late": False,
         "attachments": [], "links": [], "plan_missing": [], "plan_info": {}, "evidence": [],
         "receipt": None, "status_reason": "", "credits": []}
    mail = build_receipt(cfg, r, "JLX2024-0007", datetime(2024, 7, 8, tzinfo=UTC))
    for kind in ("plain", "html"):
        body = mail.get_body((kind,)).get_content()
        assert ("片区组长单位：成都大学后勤处，联系人 唐勇" in body) is named, kind

    led = build_receipt(cfg, {**r, "school": "西华大学"}, "JLX2024-0008",  # forwarded by the
                        datetime(2024, 7, 8, tzinfo=UTC))  # leader from its own digest address
    cfg2 = config.load(ROOT / "config.example.toml")
    assert "片区组长单位" in led.get_body(("plain",)).get_content()
    import dataclasses
    cfg2 = dataclasses.replace(cfg2, districts=tuple(
        dataclasses.replace(d, email="hqc@cdu.edu.cn") if d.name == "成都第二片区" else d
        for d in cfg2.districts))
    own = build_receipt(cfg2, {**r, "school": "西华大学"}, "JLX2024-0008",
                        datetime(2024, 7, 8, tzinfo=UTC))
    assert "片区组长单位" not in own.get_body(("plain",)).get_content()


def test_a_plan_with_none_of_the_template_fields_is_not_told_it_lacks_all_six():
    from datetime import UTC, datetime

    from mailbot import config
    from mailbot.classify.plan import FIELDS
    from mailbot.receipts import build_receipt
    cfg = config.load(ROOT / "config.example.toml")
    r = {"id": 5, "message_id": "m5@lsnu.edu.cn", "sender": "houqin@lsnu.edu.cn", "sender_name": "",
         "subject": "活动方案(PDF)", "received_at": "2024-07-08T10:00:00+08:00", "school": "乐山师范学院",
         "district": None, "kinds": ["plan"], "status": "accepted", "late": False,
         "attachments": [], "links": [], "plan_missing": list(FIELDS), "plan_info": {},
         "evidence": [], "receipt": None, "status_reason": "", "credits": []}
    text = build_receipt(cfg, r, "JLX2024-0005", datetime(2024, 7, 8, tzinfo=UTC)) \
        .get_body(("plain",)).get_content()
    assert "未能在活动方案中找到通知所附模板的各项内容" in text and "活动方案缺少以下内容" not in text
    assert text.startswith("老师，您好！")


def test_a_reply_adding_what_the_plan_lacked_completes_it(desk):
    """The receipt asks for the plan's missing 活动联系人及电话; the school's reply gives it:
    the submission's plan is complete, the contact is kept for the visit calendar, and the
    updated receipt no longer asks for it."""
    stack, cfg = desk
    plan = ("活动方案\n一、活动背景：弘扬中华优秀传统文化，推进后勤思政工作。\n"
            "二、活动组织：后勤保障部党委\n三、活动时间：2024年7月5日14:30\n"
            "四、活动地点：四川大学博物馆\n五、活动流程：集合、参观、座谈交流\n四川大学后勤保障部")
    submit(stack, SCHOOL, "四川大学后勤活动方案", plan)
    wait_contact(stack, 1)
    run_cli("poll", "--once", config=cfg)
    (receipt,) = inbox(stack, SCHOOL, 1)
    assert "活动联系人及电话" in receipt.get_body(("plain",)).get_content()
    submit(stack, SCHOOL, "Re: " + receipt["Subject"],
           "补充：六、活动联系人及电话：李明 028-84616000\n\n> 活动方案缺少以下内容",
           {"In-Reply-To": receipt["Message-ID"], "References": receipt["Message-ID"]})
    wait_contact(stack, 2)
    run_cli("poll", "--once", config=cfg)
    first = rows(cfg)[0]
    assert first["plan_missing"] == [] and first["plan_info"]["phone"] == "028-84616000"
    assert any(e["rule"] == "plan.reply" for e in first["evidence"])
    updated = [m for m in inbox(stack, SCHOOL, 2) if "（更新）" in m["Subject"]]
    assert len(updated) == 1 and "活动方案缺少" not in updated[0].get_body(("plain",)).get_content()
    run_cli("reclassify", "--all", config=cfg)  # the items the reply gave stay given
    first, reply = rows(cfg)
    assert first["plan_missing"] == [] and reply["status"] == "ignored"


def test_a_mail_naming_a_plan_but_carrying_nothing_is_asked_to_resend(desk):
    """Subject "西华大学活动方案", no attachment (forgotten): the receipt says nothing was
    found in it and asks for the file, instead of "类别未识别（如为咨询…）" alone."""
    stack, cfg = desk
    reset_mailbox("houqin@xhu.edu.cn")
    submit(stack, "houqin@xhu.edu.cn", "西华大学活动方案", "")
    wait_contact(stack, 1)
    run_cli("poll", "--once", config=cfg)
    (receipt,) = inbox(stack, "houqin@xhu.edu.cn", 1)
    text = receipt.get_body(("plain",)).get_content()
    assert "邮件说的是活动方案，但其中没有附件、链接或相应内容" in text and "请回复本邮件补发" in text


def test_the_same_reply_sent_twice_is_acknowledged_once(desk):
    """A reply adding a file, sent twice (unsure it went out): the file joins the
    submission once and one updated receipt goes out; the second reply adds nothing."""
    stack, cfg = desk
    submit(stack, SCHOOL, "四川大学后勤新闻稿", "新闻稿见正文：我部组织参观校史馆。\n四川大学后勤保障部")
    wait_contact(stack, 1)
    run_cli("poll", "--once", config=cfg)
    (receipt,) = inbox(stack, SCHOOL, 1)
    for _ in range(2):
        reply = EmailMessage()
        reply["From"], reply["To"] = SCHOOL, stack["MAILSTACK_CONTACT"]
        reply["Subject"] = "Re: " + receipt["Subject"]
        reply["In-Reply-To"] = reply["References"] = receipt["Message-ID"]
        reply.set_content("补充活动照片一张。")
        reply.add_attachment(b"\xff\xd8\xff\xe0" + bytes(3000), maintype="image",
                             subtype="jpeg", filename="照片.jpg")
        deliver(stack, reply.as_bytes())
    wait_contact(stack, 3)
    run_cli("poll", "--once", config=cfg)
    first, once, twice = rows(cfg)
    assert [a["filename"] for a in first["attachments"]] == ["照片.jpg"]
    assert f"已并入 #{first['id']}" in once["status_reason"]
    assert f"无新增内容（#{first['id']}）" in twice["status_reason"]
    inbox(stack, SCHOOL, 2)  # the receipt and the update due...
    updated = [m for m in inbox(stack, SCHOOL, 3, timeout=3) if "（更新）" in m["Subject"]]  # no third
    assert len(updated) == 1


def test_a_reply_adding_nothing_is_not_re_acknowledged_and_a_question_reaches_the_secretariat(desk):
    """"收到，谢谢" to a receipt changes nothing: no "updated" receipt claiming a merge.  A
    reply that only asks something is a question for the secretariat (listed in its
    digest like any other question), not a reply folded silently into the submission."""
    stack, cfg = desk
    submit(stack, SCHOOL, "四川大学后勤活动方案", "活动方案见正文。\n四川大学后勤保障部")
    wait_contact(stack, 1)
    run_cli("poll", "--once", config=cfg)
    (receipt,) = inbox(stack, SCHOOL, 1)
    thread = {"In-Reply-To": receipt["Message-ID"], "References": receipt["Message-ID"]}
    submit(stack, SCHOOL, "Re: " + receipt["Subject"], "收到，谢谢！\n\n> 回执", thread)
    submit(stack, SCHOOL, "回复：" + receipt["Subject"],
           "请问视频是直接发这个邮箱，还是先发给片区组长？\n\n> 回执", thread)
    wait_contact(stack, 3)
    run_cli("poll", "--once", config=cfg)
    first, thanks, asks = rows(cfg)
    assert thanks["status"] == "ignored" and f"无新增内容（#{first['id']}）" in thanks["status_reason"]
    assert asks["status"] == "accepted" and asks["school"] == "四川大学"
    assert "片区组长" in question(asks) and question(thanks) == ""
    mails = inbox(stack, SCHOOL, 2)  # the first receipt and the question's own
    assert not any("（更新）" in m["Subject"] for m in mails)
    assert any(asks["receipt"]["number"] in m["Subject"] for m in mails)
    run_cli("reclassify", "--all", config=cfg)  # the thanks stays what it is: no submission
    assert [(r["status"], r["status_reason"]) for r in rows(cfg)] == \
        [(r["status"], r["status_reason"]) for r in (first, thanks, asks)]


def test_a_question_in_a_reply_naming_the_school_still_reaches_the_secretariat(desk):
    """"学校：成都大学\n请问…？" answers the receipt's request (the school is set, the reply
    merged) and asks something: the question is listed in the secretariat's digest all the
    same — also when the school was already known and the reply adds nothing else."""
    stack, cfg = desk
    qq = "2894561730@qq.com"
    receipt = _asked_for_school(stack, cfg, qq)
    _answered(stack, cfg, qq, receipt, "学校：成都大学\n请问视频需要横屏拍摄吗？\n\n> 请回复学校", 2)
    _answered(stack, cfg, qq, receipt, "学校：成都大学\n请问推文可以晚一周发吗？", 3)
    first, merged, again = rows(cfg)
    assert first["school"] == "成都大学" and first["status"] == "accepted"
    assert merged["status"] == again["status"] == "ignored"
    preview = cfg.parent / "preview"
    run_cli("digest", "--secretariat", "--dry-run", str(preview), config=cfg)
    digest = next(preview.glob("*.txt")).read_text("utf-8")
    asked = digest.partition("== 待答复的来信提问 ==")[2]
    assert "请问视频需要横屏拍摄吗" in asked and "请问推文可以晚一周发吗" in asked


def test_new_material_sent_as_a_reply_to_an_old_receipt_is_a_submission_of_its_own(desk):
    """The plan's receipt says "reply to add material"; news photos sent that way months
    later are news of their own — dated, acknowledged and digested as new — not folded into
    the plan's old submission.  A corrected plan sent the same way still joins it."""
    stack, cfg = desk
    submit(stack, SCHOOL, "四川大学后勤活动方案", "活动方案\n一、活动背景：推进后勤思政工作。\n"
           "二、活动组织：后勤保障部党委\n三、活动时间：2024年7月5日14:30\n四、活动地点：四川大学博物馆")
    wait_contact(stack, 1)
    run_cli("poll", "--once", config=cfg)
    (receipt,) = inbox(stack, SCHOOL, 1)
    thread = {"In-Reply-To": receipt["Message-ID"], "References": receipt["Message-ID"]}
    news = EmailMessage()
    news["From"], news["To"] = SCHOOL, stack["MAILSTACK_CONTACT"]
    news["Subject"] = "Re: " + receipt["Subject"]
    news["In-Reply-To"] = news["References"] = receipt["Message-ID"]
    news.set_content("补充我处参观校史馆的新闻照片，请查收。")
    for n in (1, 2, 3):
        news.add_attachment(b"\xff\xd8\xff\xe0" + bytes(30_000), maintype="image", subtype="jpeg",
                            filename=f"IMG_{n}.jpg")
    deliver(stack, news.as_bytes())
    submit(stack, SCHOOL, "Re: " + receipt["Subject"], "修改后的活动方案如下：\n五、活动流程：集合、参观、座谈\n"
           "六、活动联系人及电话：李明 028-84616000", thread)
    wait_contact(stack, 3)
    run_cli("poll", "--once", config=cfg)
    plan, photos, corrected = rows(cfg)
    assert photos["status"] == "accepted" and photos["kinds"] == ["news"]
    assert len(photos["attachments"]) == 3 and plan["kinds"] == ["plan"] and not plan["attachments"]
    assert corrected["status"] == "ignored" and f"#{plan['id']}" in corrected["status_reason"]
    subjects = [m["Subject"] for m in inbox(stack, SCHOOL, 3)]
    assert any(photos["receipt"]["number"] in s for s in subjects)


@pytest.mark.parametrize("subject, refs, number", [
    ("Re: [回执 JLX2024-0007] 活动方案", "", "JLX2024-0007"),
    ("回复：[回执 JLX2024-0035 等 2 封] 合并回执", "", "JLX2024-0035"),
    ("Re: 合并回执", "<receipt-JLX2024-0035-c2@scgxhq.test>", "JLX2024-0035"),
    ("Re: 更新", "<receipt-JLX2024-0007-u1@scgxhq.test>", "JLX2024-0007"),
    ("Re: 活动方案", "<abc@qq.com>", None),
])
def test_a_reply_to_any_receipt_finds_its_number(subject, refs, number):
    from mailbot.receipts import referenced_number
    assert referenced_number(subject, {"in-reply-to": refs}) == number


def test_the_schedule_in_a_receipt_leaves_out_what_this_mail_delivered():
    from datetime import UTC, datetime

    from mailbot import config
    from mailbot.receipts import build_receipt
    cfg = config.load(ROOT / "config.example.toml")
    r = {"id": 1, "message_id": "m1@scu.edu.cn", "sender": "houqin@scu.edu.cn", "sender_name": "王老师",
         "subject": "活动方案", "received_at": "2024-06-28T10:00:00+08:00", "school": "四川大学",
         "district": None, "kinds": ["plan"], "status": "accepted", "late": False,
         "attachments": [], "links": [], "plan_missing": [], "plan_info": {}, "evidence": [],
         "receipt": None, "status_reason": "", "credits": []}
    text = build_receipt(cfg, r, "JLX2024-0001", datetime(2024, 6, 28, tzinfo=UTC)) \
        .get_body(("plain",)).get_content()
    schedule = text.split("后续时间安排：", 1)[1]
    assert "活动方案：" not in schedule and "参观新闻：" in schedule and "视频或微信推文：" in schedule
    assert text.startswith("王老师，您好！")


def test_two_processes_sending_at_once_send_each_receipt_once(mailstack, tmp_path):
    """The daemon's send job and the secretariat's `outbox flush` at the same moment, on
    SQLite: each queued receipt is claimed by one of them only."""
    import subprocess
    import sys

    from conftest import deliver_news
    for user in (mailstack["MAILSTACK_CONTACT"], SCHOOL):
        reset_mailbox(user)
    count = 30
    deliver_news(mailstack, SCHOOL, count)
    cfg = write_config(tmp_path / "c.toml", mailstack, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}",
                       receipts={"per_hour": 1000, "per_day": 1000})
    assert f"新登记 {count} 封" in run_cli("poll", "--once", "--no-send", config=cfg).stdout
    flush = [sys.executable, "-m", "mailbot.cli", "--config", str(cfg), "outbox", "flush"]
    procs = [subprocess.Popen(flush, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    got = inbox(mailstack, SCHOOL, count, timeout=60)
    time.sleep(2)  # a receipt sent twice would arrive right after
    got = inbox(mailstack, SCHOOL, count + 1, timeout=2)
    subjects = [m["Subject"] for m in got]
    assert len(subjects) == count and len(set(subjects)) == count


def test_the_schedule_says_when_a_deliverable_opens_as_well_as_when_it_is_due():
    """In June the news (after 七一) is not yet open: the receipt says from when and until
    when; once open, only until when; past due, nothing."""
    from datetime import date

    from mailbot import config
    from mailbot.receipts import _deadlines
    cfg = config.load(ROOT / "config.example.toml")
    june = _deadlines(cfg, date(2024, 6, 28))
    assert any(x.endswith("：2024年7月1日起、2024年10月31日前报送") for x in june)
    july = _deadlines(cfg, date(2024, 7, 2))
    assert not any("7月1日起" in x for x in july) and \
        any(x.endswith("：2024年10月31日前报送") for x in july)
    assert _deadlines(cfg, date(2024, 11, 1)) == []
