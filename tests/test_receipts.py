"""Receipts over the real Postfix and Dovecot: numbered, threaded, exactly once, never to robots."""

from __future__ import annotations

import email
import json
import smtplib
import ssl
import subprocess
import time
import uuid
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import ROOT, reset_mailbox, run_cli, write_config
from imapclient import IMAPClient

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


def submit(stack, sender: str, subject: str, body: str, extra: dict | None = None) -> str:
    """Send a mail as *sender* through Postfix submission; return its Message-ID."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = stack["MAILSTACK_CONTACT"]
    msg["Subject"] = subject
    mid = f"{uuid.uuid4().hex}@{sender.split('@')[1]}"
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


def test_unknown_school_is_asked_to_reply(desk):
    stack, cfg = desk
    submit(stack, "2894561730@qq.com", "视频链接", "https://www.bilibili.com/video/BV1xx411c7mD")
    wait_contact(stack, 1)
    run_cli("poll", "--once", config=cfg)
    (receipt,) = inbox(stack, "2894561730@qq.com", 1)
    assert "学校：XXX" in receipt.get_body(("plain",)).get_content()


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
        assert "pending" in listing
    finally:
        subprocess.run([str(ROOT / "scripts" / "mailstack"), "start"], check=True,
                       capture_output=True, timeout=120)
    assert "发出 1 封" in run_cli("outbox", "flush", config=cfg).stdout
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
    assert "unconfirmed" in run_cli("outbox", config=cfg).stdout
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
