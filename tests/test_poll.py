"""Polling the real Dovecot: exactly-once intake, PEEK, crashes, UIDVALIDITY, actions."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import ssl
import subprocess
import uuid
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import MAILSTACK, deliver, reset_mailbox, run_cli, write_config
from imapclient import IMAPClient

pytestmark = pytest.mark.mailstack
DATA = Path(__file__).resolve().parent / "data"
_spec = importlib.util.spec_from_file_location("make_fixtures", DATA / "make_fixtures.py")
FX = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(FX)


def make_mail(subject: str, attachments: list[tuple[str, bytes, str]] = ()) -> bytes:
    msg = EmailMessage()
    msg["From"] = "四川大学后勤 <houqin@scu.edu.cn>"
    msg["To"] = "contact@scgxhq.test"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@scu.edu.cn>"
    msg["Date"] = "Mon, 01 Jul 2024 09:30:00 +0800"
    msg.set_content("各位老师好：\n附件是我校的新闻材料，请查收。\n四川大学后勤党委")
    for name, data, ctype in attachments:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def imap(stack) -> IMAPClient:
    ctx = ssl.create_default_context(cafile=stack["MAILSTACK_CA_FILE"])
    client = IMAPClient("localhost", port=int(stack["MAILSTACK_IMAPS_PORT"]), ssl_context=ctx)
    client.login(stack["MAILSTACK_CONTACT"], stack["MAILSTACK_PASSWORD"])
    return client


def flags(stack, folder: str = "INBOX") -> dict[int, tuple]:
    with imap(stack) as c:
        c.select_folder(folder, readonly=True)
        return {uid: v[b"FLAGS"] for uid, v in c.fetch(c.search("ALL"), ["FLAGS"]).items()}


@pytest.fixture
def setup(mailstack, db_url, tmp_path):
    reset_mailbox(mailstack["MAILSTACK_CONTACT"])
    cfg = write_config(tmp_path / "config.toml", mailstack, tmp_path / "data", db_url)
    return mailstack, cfg, tmp_path / "data"


def listing(cfg: Path) -> list[dict]:
    return json.loads(run_cli("submissions", "--json", config=cfg).stdout)


def test_each_message_recorded_once_over_repeated_polls(setup):
    stack, cfg, _ = setup
    for i in range(3):
        deliver(stack, make_mail(f"【新闻】四川大学后勤参观校史馆 第{i}篇"))
    first = run_cli("poll", "--once", config=cfg)
    assert "收取 3 封，新登记 3 封" in first.stdout
    deliver(stack, make_mail("【新闻】第四篇"))
    second = run_cli("poll", "--once", config=cfg)
    assert "收取 1 封，新登记 1 封" in second.stdout
    third = run_cli("poll", "--once", config=cfg)
    assert "收取 0 封" in third.stdout
    rows = listing(cfg)
    assert sorted(r["subject"] for r in rows) == sorted(
        [f"【新闻】四川大学后勤参观校史馆 第{i}篇" for i in range(3)] + ["【新闻】第四篇"])
    assert len({r["message_id"] for r in rows}) == 4
    assert all(r["sender"] == "houqin@scu.edu.cn" for r in rows)
    assert all(r["received_at"].endswith("+08:00") for r in rows)
    assert all(b"\\Seen" in f for f in flags(stack).values())


def test_a_data_dir_filled_with_one_database_refuses_an_empty_other(setup, tmp_path):
    """The secretariat points the config at a new database (PostgreSQL, say) and keeps the
    data dir: the poll refuses rather than record the whole mailbox again and send every
    receipt twice; back on the first database it polls as before."""
    stack, cfg, data = setup
    deliver(stack, make_mail("【新闻】四川大学后勤参观校史馆"))
    assert "新登记 1 封" in run_cli("poll", "--once", config=cfg).stdout
    other = write_config(tmp_path / "other.toml", stack, data,
                         f"sqlite:///{tmp_path / 'other.sqlite3'}")
    some_mail = tmp_path / "m.eml"
    some_mail.write_bytes(make_mail("【新闻】另一篇"))
    for command in (["poll", "--once"], ["submissions", "--json"], ["status"],
                    ["import", str(some_mail)]):  # nothing reads or writes the empty other
        refused = run_cli(*command, config=other, check=False)
        assert refused.returncode != 0 and "已用于另一个数据库" in refused.stderr, command
    typo = tmp_path / "typo" / "mailbot.sqlite3"  # MAILBOT_DATABASE_URL mistyped
    refused = run_cli("status", config=cfg, check=False,
                      env={"MAILBOT_DATABASE_URL": f"sqlite:///{typo}"})
    assert refused.returncode != 0 and "MAILBOT_DATABASE_URL" in refused.stderr
    assert f"{typo.parent} 不存在" in refused.stderr and not typo.parent.exists()
    deliver(stack, make_mail("【新闻】第二篇"))
    assert "收取 1 封，新登记 1 封" in run_cli("poll", "--once", config=cfg).stdout
    fresh = write_config(tmp_path / "fresh.toml", stack, tmp_path / "fresh-data",
                         f"sqlite:///{tmp_path / 'other.sqlite3'}")
    assert "新登记 2 封" in run_cli("poll", "--once", config=fresh).stdout  # a new data dir


def test_attachments_are_byte_identical(setup):
    stack, cfg, data_dir = setup
    photo = os.urandom(300_000)
    doc = "活动方案\n活动背景：……".encode("gb18030") + os.urandom(1000)
    deliver(stack, make_mail("活动方案-四川大学", [("参观合影1.jpg", photo, "image/jpeg"),
                                                 ("活动方案-四川大学.docx", doc,
                                                  "application/octet-stream")]))
    run_cli("poll", "--once", config=cfg)
    (row,) = listing(cfg)
    got = {a["filename"]: (data_dir / a["path"]).read_bytes() for a in row["attachments"]}
    assert got == {"参观合影1.jpg": photo, "活动方案-四川大学.docx": doc}
    raw = (data_dir / row["raw_path"]).read_bytes()
    assert b"Subject:" in raw and len(raw) > len(photo)


def test_outlook_winmail_dat_is_filed_as_the_files_inside_it(setup):
    """Outlook's "rich text" mail carries its files only inside winmail.dat (TNEF): they
    are filed under their own names and read for classification; the original stays whole."""
    stack, cfg, data_dir = setup
    raw = (DATA / "outlook_tnef_winmail_dat.eml").read_bytes()
    deliver(stack, raw)
    assert "收取 1 封，新登记 1 封" in run_cli("poll", "--once", config=cfg).stdout
    (row,) = listing(cfg)
    got = {a["filename"]: (data_dir / a["path"]).read_bytes() for a in row["attachments"]}
    assert got == {name: FX.PAYLOADS[name] for name in ("活动方案-四川师范大学.docx", "参观合影1.jpg")}
    assert row["school"] == "西南交通大学" and "plan" in row["kinds"]
    assert b"winmail.dat" in (data_dir / row["raw_path"]).read_bytes()


def test_a_large_mail_is_spooled_piece_by_piece_and_filed_byte_exact(setup):
    """A message over imap.SPOOL_SIZE (16 MB) arrives by partial fetches into a spool
    file that becomes the stored original; its video decodes from there window by window."""
    stack, cfg, data_dir = setup
    video, photo = os.urandom(13_000_000), os.urandom(200_000)
    raw = make_mail("视频-四川大学", [("集锦.mp4", video, "video/mp4"),
                                    ("合影.jpg", photo, "image/jpeg")])
    assert len(raw) > 16 * 2**20
    deliver(stack, raw)
    run_cli("poll", "--once", config=cfg)
    (row,) = listing(cfg)
    got = {a["filename"]: (data_dir / a["path"]).read_bytes() for a in row["attachments"]}
    assert got == {"集锦.mp4": video, "合影.jpg": photo}
    stored = (data_dir / row["raw_path"]).read_bytes()  # as Dovecot holds it: trace fields added
    assert stored.replace(b"\r\n", b"\n").rstrip().endswith(raw.replace(b"\r\n", b"\n").rstrip())
    assert hashlib.sha256(stored).hexdigest() in row["raw_path"]
    assert row["status"] == "accepted" and "video" in row["kinds"]
    assert not [p for p in (data_dir / "tmp").iterdir()]  # no spool file left behind


def test_crash_after_fetch_marks_nothing_and_loses_nothing(setup):
    stack, cfg, _ = setup
    deliver(stack, make_mail("新闻一"))
    deliver(stack, make_mail("新闻二"))
    crashed = run_cli("poll", "--once", config=cfg, env={"MAILBOT_FAULT": "after-fetch"},
                      check=False)
    assert crashed.returncode == 137
    assert all(b"\\Seen" not in f for f in flags(stack).values())
    assert listing(cfg) == []
    run_cli("poll", "--once", config=cfg)
    assert sorted(r["subject"] for r in listing(cfg)) == ["新闻一", "新闻二"]
    assert all(b"\\Seen" in f for f in flags(stack).values())


def test_crash_after_commit_applies_action_next_time_without_rerecording(setup):
    stack, cfg, _ = setup
    deliver(stack, make_mail("视频链接"))
    crashed = run_cli("poll", "--once", config=cfg, env={"MAILBOT_FAULT": "after-commit"},
                      check=False)
    assert crashed.returncode == 137
    assert len(listing(cfg)) == 1
    assert all(b"\\Seen" not in f for f in flags(stack).values())
    again = run_cli("poll", "--once", config=cfg)
    assert "收取 0 封" in again.stdout
    assert len(listing(cfg)) == 1
    assert all(b"\\Seen" in f for f in flags(stack).values())


def test_uidvalidity_change_records_nothing_twice(setup):
    stack, cfg, _ = setup
    for subject in ("方案A", "方案B"):
        deliver(stack, make_mail(subject))
    run_cli("poll", "--once", config=cfg)
    with imap(stack) as c:
        before = c.select_folder("INBOX")[b"UIDVALIDITY"]
    subprocess.run([str(MAILSTACK), "renew-uidvalidity", stack["MAILSTACK_CONTACT"], "INBOX"],
                   check=True, capture_output=True, timeout=60)
    with imap(stack) as c:
        assert c.select_folder("INBOX")[b"UIDVALIDITY"] != before
    deliver(stack, make_mail("方案C"))
    out = run_cli("poll", "--once", config=cfg).stdout
    assert "收取 3 封，新登记 1 封，重复 2 封" in out
    assert sorted(r["subject"] for r in listing(cfg)) == ["方案A", "方案B", "方案C"]


def test_move_action_files_mail_into_folder(mailstack, db_url, tmp_path):
    reset_mailbox(mailstack["MAILSTACK_CONTACT"])
    cfg = write_config(tmp_path / "config.toml", mailstack, tmp_path / "data", db_url,
                       processed_action="move", processed_folder="mailbot已处理")
    deliver(mailstack, make_mail("移动测试"))
    run_cli("poll", "--once", config=cfg)
    assert flags(mailstack) == {}
    moved = flags(mailstack, "mailbot已处理")
    assert len(moved) == 1 and all(b"\\Seen" in f for f in moved.values())
    assert "收取 0 封" in run_cli("poll", "--once", config=cfg).stdout


def test_a_missing_folder_stops_none_of_the_others(mailstack, db_url, tmp_path):
    """The secretariat renamed the folder 报送材料 on the server: INBOX is still read, the
    poll says what is wrong in one Chinese sentence (not a log line) and fails, so a
    scheduled `poll --once` is seen to need its config fixed; `status` names the folder to
    check, with the folders the mailbox has (no English warning from imapclient)."""
    reset_mailbox(mailstack["MAILSTACK_CONTACT"])
    cfg = write_config(tmp_path / "config.toml", mailstack, tmp_path / "data", db_url,
                       folders=["报送材料", "INBOX"])
    deliver(mailstack, make_mail("文件夹测试"))
    out = run_cli("poll", "--once", config=cfg, check=False)
    assert out.returncode == 1 and "新登记 1 封" in out.stdout and "Traceback" not in out.stderr
    assert "文件夹问题：邮箱中没有文件夹“报送材料”" in out.stderr and "decoding" not in out.stderr
    assert "WARNING" not in out.stderr
    assert [r["subject"] for r in listing(cfg)] == ["文件夹测试"]
    status = run_cli("status", config=cfg).stdout
    assert "最近的错误" in status and "邮箱中没有文件夹“报送材料”" in status
    assert "[mailbox] folders" in status
    assert "现有的文件夹：" in status and "INBOX" in status.split("现有的文件夹：")[1]


@pytest.mark.parametrize("security, port_key", [("starttls", "MAILSTACK_IMAP_PORT"),
                                                ("plain", "MAILSTACK_IMAP_PORT")])
def test_starttls_and_plain_connections(mailstack, tmp_path, security, port_key):
    reset_mailbox(mailstack["MAILSTACK_CONTACT"])
    cfg = write_config(tmp_path / "c.toml", mailstack, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}", security=security,
                       port=int(mailstack[port_key]))
    deliver(mailstack, make_mail(f"{security} 测试"))
    assert "新登记 1 封" in run_cli("poll", "--once", config=cfg).stdout


@pytest.mark.parametrize("security, port_key, hint", [
    ("starttls", "MAILSTACK_IMAPS_PORT", 'security 改为 "tls"（而不是 "starttls"）'),
    ("tls", "MAILSTACK_IMAP_PORT", 'security 改为 "starttls"')])
def test_a_security_setting_the_port_does_not_speak_is_named(mailstack, tmp_path, security,
                                                               port_key, hint):
    """STARTTLS against the implicit-TLS port used to wait a minute for a greeting that
    never comes and say "timed out": the greeting has a short timeout, and the message
    says which security setting the port wants (and the other way round). "plain" takes
    the same path as "starttls" (tests/test_tlsport.py: each value named)."""
    cfg = write_config(tmp_path / "c.toml", mailstack, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}", security=security,
                       port=int(mailstack[port_key]))
    proc = run_cli("poll", "--once", config=cfg, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"无法连接 IMAP 服务器 localhost:{mailstack[port_key]}：" in proc.stderr
    assert hint in proc.stderr


def test_wrong_password_is_one_clear_sentence(setup):
    _, cfg, _ = setup
    proc = run_cli("poll", "--once", config=cfg, env={"MAILBOT_IMAP_PASSWORD": "wrong"},
                   check=False)
    assert proc.returncode == 1
    assert "IMAP 登录失败" in proc.stderr and "Traceback" not in proc.stderr
    assert "授权码" in proc.stderr and "MAILBOT_IMAP_PASSWORD" in proc.stderr
    assert "b'" not in proc.stderr  # the server's words as text, not a bytes repr


def test_client_sends_imap_id_when_offered(setup):
    stack, cfg, _ = setup
    log = Path(stack["MAILBOT_CONFIG"]).parent / "log" / "dovecot.log"
    before = log.read_bytes().count(b"name=mailbot") if log.exists() else 0
    run_cli("poll", "--once", config=cfg)
    assert log.read_bytes().count(b"name=mailbot") > before


def test_a_command_run_while_a_poll_pairs_a_new_data_dir_is_not_refused(tmp_path):
    """A command (`submissions`) reads the pairing while the daemon's first poll makes it:
    the poll commits the database's id and writes the data dir's marker just after the
    command read the database.  The command must not take the fresh pair for a data dir
    of another database."""
    from sqlalchemy import event

    from mailbot import db
    from mailbot.pairing import same_store
    url, root = f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path / "data"
    root.mkdir()
    command, daemon = db.connect(url), db.connect(url)
    polled = []

    @event.listens_for(command, "after_cursor_execute")
    def poll_meanwhile(conn, cursor, statement, *args):
        if "app_state" in statement and not polled:
            polled.append(True)
            same_store(daemon, root)  # commits the id, then writes the marker

    same_store(command, root, remember=False)
    assert polled and (root / ".database-id").is_file()
    same_store(command, root, remember=False)  # and afterwards, of course
