"""End to end through the real servers: demo submissions sent via Postfix, polled from Dovecot."""

from __future__ import annotations

import email
import hashlib
import json
import subprocess
import sys
import time
from email import policy

import pytest
from conftest import ROOT, reset_mailbox, run_cli, write_config
from test_poll import imap
from tnefparse import TNEF

pytestmark = pytest.mark.mailstack


def wait_for(stack, count: int, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while True:
        with imap(stack) as c:
            have = c.folder_status("INBOX", [b"MESSAGES"])[b"MESSAGES"]
        if have >= count or time.time() > deadline:
            assert have == count
            return
        time.sleep(0.2)


def test_demo_submissions_arrive_decoded_and_filed(mailstack, tmp_path):
    reset_mailbox(mailstack["MAILSTACK_CONTACT"])
    script = ROOT / "scripts" / "demo_mail.py"
    sent = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          check=True, timeout=120)
    count = int(sent.stdout.strip().splitlines()[-1].split()[1])
    assert count >= 20
    wait_for(mailstack, count)
    cfg = write_config(tmp_path / "c.toml", mailstack, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert f"新登记 {count} 封" in run_cli("poll", "--once", config=cfg).stdout
    rows = json.loads(run_cli("submissions", "--json", config=cfg).stdout)
    by_subject = {r["subject"]: r for r in rows}

    # gb2312-labelled subject holding a GBK-only character
    assert "西南交通大学后勤党委“道中华之美 美后勤之道”活动方案（联系人：王喆）" in by_subject
    # Foxmail's raw 8-bit GBK filename
    xhu = by_subject["西华大学后勤党委开展“道中华之美 美后勤之道”校史馆参观活动新闻稿"]
    assert "新闻稿-西华大学后勤党委参观校史馆.docx" in [a["filename"] for a in xhu["attachments"]]
    # a district leader's bundle: each forwarded mail is its school's own submission
    bundle = by_subject["成都第二片区接力行材料汇总（西华大学、成都信息工程大学）"]
    assert [(r["school"], r["kinds"]) for r in rows if r["part_of"] == bundle["id"]] == [
        ("西华大学", ["plan"]), ("成都信息工程大学", ["video"])]
    # a district leader's own mail with two schools' files: each file credited to its school
    files = by_subject["川北片区接力行材料（西南科技大学、绵阳职业技术学院）"]
    assert (files["school"], files["kinds"]) == ("绵阳师范学院", [])
    assert [(c["school"], c["kinds"], c["plan_missing"]) for c in files["credits"]] == [
        ("西南科技大学", ["news"], []), ("绵阳职业技术学院", ["plan"], [])]
    # a leader's list of its schools' links: each link credited to the school on its line
    links = by_subject["川南片区各校视频及微信推文汇总"]
    assert (links["school"], links["kinds"], len(links["links"])) == ("四川轻化工大学", ["video"], 3)
    assert [(c["school"], c["kinds"], len(c["links"])) for c in links["credits"]] == [
        ("宜宾学院", ["video"], 1), ("西南医科大学", ["video"], 1)]
    # Outlook's "rich text" mail: the plan came only inside winmail.dat
    nsmc = by_subject["川北医学院后勤管理处接力行活动方案"]
    assert (nsmc["school"], nsmc["kinds"]) == ("川北医学院", ["plan"])
    assert [a["filename"] for a in nsmc["attachments"]] == ["川北医学院后勤管理处活动方案.docx"]
    # Outlook Express: the plan uuencoded inside the text
    yibinu = by_subject["宜宾学院后勤党支部接力行活动方案"]
    assert (yibinu["school"], yibinu["kinds"], yibinu["plan_missing"]) == ("宜宾学院", ["plan"], [])
    assert [a["filename"] for a in yibinu["attachments"]] == ["宜宾学院后勤党支部活动方案.docx"]
    # auto-replies are recorded but ignored
    assert sorted(r["status"] for r in rows if r["subject"].startswith("自动回复")) == [
        "ignored", "ignored"]
    # every attachment the senders attached is stored byte-identical
    written = tmp_path / "written"
    subprocess.run([sys.executable, str(script), "--write-dir", str(written)], check=True,
                   capture_output=True, timeout=120)
    expected = set()
    for path in written.glob("*.eml"):
        for part in email.message_from_bytes(path.read_bytes(), policy=policy.default).walk():
            if part.get_content_type() == "application/ms-tnef":  # Outlook: the files inside
                expected |= {hashlib.sha256(a.data).hexdigest()
                             for a in TNEF(part.get_payload(decode=True)).attachments}
            elif part.get_content_maintype() in ("image", "application"):
                expected.add(hashlib.sha256(part.get_payload(decode=True)).hexdigest())
    stored = {a["sha256"] for r in rows for a in r["attachments"]}
    assert expected and expected <= stored
    for r in rows:
        for a in r["attachments"]:
            data = (tmp_path / "data" / a["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == a["sha256"]
