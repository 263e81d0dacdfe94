"""District digests end to end: real submissions, real leaders' mailboxes, exactly once."""

from __future__ import annotations

import io
import json
import shutil
import ssl
import tomllib
import zipfile
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import icalendar
import openpyxl
import pytest
from conftest import ROOT, deliver, reset_mailbox, run_cli, write_config
from imapclient import IMAPClient
from test_receipts import inbox, submit, wait_contact

from mailbot import config, db, digest_run, outbox

pytestmark = pytest.mark.mailstack
LEADS = {"成都第一片区": "houqin@sicnu.edu.cn", "川南片区": "hqjjc@suse.edu.cn"}
DISTRICTS = "".join(f'\n[[districts]]\nname = "{n}"\nemail = "{e}"\n' for n, e in LEADS.items())
PHASES = """
[[campaign.phases]]
kind = "plan"
opens = "2024-06-25"
due = "2099-10-31"
[[campaign.phases]]
kind = "video"
due = "2099-09-30"
"""


@pytest.fixture
def desk(mailstack, tmp_path):
    users = [mailstack["MAILSTACK_CONTACT"], mailstack["MAILSTACK_SECRETARIAT"], *LEADS.values(),
             "houqin@scu.edu.cn", "hq_dangzhibu@yibinu.edu.cn"]
    for user in users:
        reset_mailbox(user)
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules, ignore=shutil.ignore_patterns("roster.toml"))
    extra = (f'[rules]\ndir = "{rules}"\n[secretariat]\nname = "秘书处"\n'
             f'email = "{mailstack["MAILSTACK_SECRETARIAT"]}"\n' + PHASES + DISTRICTS)
    cfg = write_config(tmp_path / "c.toml", mailstack, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}", extra=extra)
    roster = tmp_path / "roster.csv"
    roster.write_text("学校,片区\n四川大学,成都第一片区\n宜宾学院,川南片区\n", encoding="utf-8")
    run_cli("schools", "import", str(roster), config=cfg)
    return mailstack, cfg


def test_each_leader_gets_one_digest_of_exactly_its_schools(desk, tmp_path):
    stack, cfg = desk
    submit(stack, "houqin@scu.edu.cn", "四川大学后勤活动方案",
           "一、活动背景：校史馆\n二、活动组织：后勤党委\n三、活动时间：2099年7月5日14:30\n"
           "四、活动地点：四川大学校史馆\n五、活动流程：参观\n六、活动联系人及电话：王老师 028-85401236")
    submit(stack, "hq_dangzhibu@yibinu.edu.cn", "宜宾学院后勤视频",
           "https://www.bilibili.com/video/BV1xx411c7mD\n宜宾学院后勤党支部")
    submit(stack, "houqin@sicnu.edu.cn", "四川师范大学微信推文",
           "https://mp.weixin.qq.com/s/AbCdEfGhIjKlMnOpQrStUv\n四川师范大学后勤服务管理中心")
    wait_contact(stack, 3)
    run_cli("poll", "--once", config=cfg)

    preview = tmp_path / "preview"
    run_cli("digest", "--district", "成都第一片区", "--dry-run", str(preview), config=cfg)
    assert (preview / "成都第一片区.html").is_file() and (preview / "成都第一片区.xlsx").is_file()
    assert inbox(stack, LEADS["成都第一片区"], 1, timeout=1) == []

    out = run_cli("digest", "--send", config=cfg).stdout
    assert "成都第一片区：已排队发送" in out and "秘书处：已排队发送" in out
    first = inbox(stack, LEADS["成都第一片区"], 1)
    south = inbox(stack, LEADS["川南片区"], 1)
    assert len(first) == 1 and len(south) == 1
    text1 = first[0].get_body(("plain",)).get_content()
    text2 = south[0].get_body(("plain",)).get_content()
    assert "四川大学" in text1 and "四川师范大学" in text1 and "宜宾学院" not in text1
    assert "宜宾学院" in text2 and "四川大学后勤活动方案" not in text2
    files = {p.get_filename(): p.get_content() for p in first[0].iter_attachments()}
    xlsx = next(v for k, v in files.items() if k.endswith(".xlsx"))
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    assert "汇总" in book.sheetnames
    ics = next(v for k, v in files.items() if k.endswith(".ics"))
    events = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    assert len(events) == 1 and "四川大学" in str(events[0]["SUMMARY"])
    assert first[0]["Auto-Submitted"] == "auto-generated"
    assert len(inbox(stack, stack["MAILSTACK_SECRETARIAT"], 1)) == 1

    again = run_cli("digest", "--send", config=cfg).stdout
    assert "已排队发送" not in again and "没有新材料" in again
    assert len(inbox(stack, LEADS["成都第一片区"], 2, timeout=2)) == 1


def test_a_mail_that_arrived_before_a_digest_but_was_recorded_after_it_is_in_the_next(desk):
    """The mailbox was unreachable: 四川大学's video (arrived yesterday) is recorded after
    today's digest went out, and the next digest lists it; a reminder day with nothing new
    still reaches the leader whose school owes something, not the one whose schools don't."""
    stack, cfg_path = desk
    cfg = config.load(cfg_path)
    engine = db.connect(cfg.storage.database_url)
    submit(stack, "houqin@scu.edu.cn", "四川大学后勤活动方案", "活动方案见正文。四川大学后勤党委")
    wait_contact(stack, 1)
    run_cli("poll", "--once", config=cfg_path)
    now = datetime.now(UTC)
    names = digest_run.audiences(cfg)
    assert {o.result for o in digest_run.run(engine, cfg, names, now=now)} == {"queued"}
    old = EmailMessage()
    old["From"], old["To"] = "houqin@scu.edu.cn", stack["MAILSTACK_CONTACT"]
    old["Subject"], old["Date"] = "四川大学后勤视频", format_datetime(now - timedelta(days=1))
    old["Message-ID"] = "<yesterday@scu.edu.cn>"
    old.set_content("https://www.bilibili.com/video/BV1xx411c7mD\n四川大学后勤党委")
    ctx = ssl.create_default_context(cafile=stack["MAILSTACK_CA_FILE"])
    with IMAPClient("localhost", port=int(stack["MAILSTACK_IMAPS_PORT"]), ssl_context=ctx) as c:
        c.login(stack["MAILSTACK_CONTACT"], stack["MAILSTACK_PASSWORD"])
        c.append("INBOX", old.as_bytes(), msg_time=now - timedelta(days=1))
    run_cli("poll", "--once", config=cfg_path)
    later = now + timedelta(minutes=5)
    outcomes = {o.audience: o.result for o in digest_run.run(engine, cfg, names, now=later)}
    assert outcomes["成都第一片区"] == "queued" and outcomes["川南片区"] == "nothing new"
    outbox.deliver(engine, cfg, ignore_backoff=True)  # queued as due at *later*
    second = inbox(stack, LEADS["成都第一片区"], 2)[-1].get_body(("plain",)).get_content()
    assert "四川大学后勤视频" in second and "四川大学后勤活动方案" not in second
    reminded = {o.audience: o.result for o in digest_run.run(
        engine, cfg, names, now=later + timedelta(days=1), remind=True)}
    assert reminded["川南片区"] == "queued"  # 宜宾学院 has sent nothing
    assert reminded["成都第一片区"] == "queued"  # 四川师范大学 (the leader) has not either


def test_export_zip_and_xlsx(desk, tmp_path):
    stack, cfg = desk
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = ("houqin@scu.edu.cn", stack["MAILSTACK_CONTACT"],
                                              "四川大学后勤新闻稿及照片")
    msg["Message-ID"] = "<export-1@scu.edu.cn>"
    msg.set_content("新闻稿和照片见附件。\n四川大学后勤保障部")
    photo = bytes(range(256)) * 40
    msg.add_attachment(photo, maintype="image", subtype="jpeg", filename="合影.jpg")
    msg.add_attachment("新闻稿正文".encode(), maintype="application", subtype="octet-stream",
                       filename="新闻稿.docx")
    deliver(stack, msg.as_bytes())
    run_cli("poll", "--once", config=cfg)
    target = tmp_path / "all.zip"
    assert "已导出 2 个文件" in run_cli("export", "--zip", str(target), config=cfg).stdout
    with zipfile.ZipFile(target) as z:
        names = z.namelist()
        assert "成都第一片区/四川大学/新闻/合影.jpg" in names
        assert z.read("成都第一片区/四川大学/新闻/合影.jpg") == photo
        manifest = z.read("manifest.csv").decode("utf-8-sig")
    assert "四川大学后勤新闻稿及照片" in manifest
    row = json.loads(run_cli("submissions", "--json", config=cfg).stdout)[0]
    photo_row = next(a for a in row["attachments"] if a["filename"] == "合影.jpg")
    data_dir = Path(tomllib.loads(cfg.read_text("utf-8"))["storage"]["data_dir"])
    (data_dir / photo_row["path"]).unlink()  # lost from the store (not under retention)
    lost = run_cli("export", "--zip", str(tmp_path / "again.zip"), config=cfg, check=False)
    assert lost.returncode != 0 and "缺少 1 个文件" in lost.stderr and "合影.jpg" in lost.stderr
    with zipfile.ZipFile(tmp_path / "again.zip") as z:
        manifest = z.read("manifest.csv").decode("utf-8-sig")
    assert "（文件缺失）合影.jpg" in manifest and "保留期限" not in manifest
    book = tmp_path / "cd1.xlsx"
    run_cli("export", "--district", "成都第一片区", "--xlsx", str(book), config=cfg)
    assert "明细" in openpyxl.load_workbook(book).sheetnames
