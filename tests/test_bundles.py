"""Bundles over the real Dovecot and Postfix: a district leader passes on several schools'
mails at once, each forwarded as an attachment.  Every original is a submission of its
own school (a part of the bundle), recorded once even when the school also wrote to us,
and the leader's receipt says what became of each."""

from __future__ import annotations

import email
import json
from email import policy

import pytest
from conftest import ROOT, deliver, reset_mailbox, run_cli, write_config
from test_receipts import inbox, wait_contact

from mailbot.parse import forwarded_originals

pytestmark = pytest.mark.mailstack
BUNDLE = (ROOT / "tests/data/labelled/58_suse_bundle_three_schools.eml").read_bytes()
LEADER, YIBINU = "hqjjc@suse.edu.cn", "hq_dangzhibu@yibinu.edu.cn"
DISTRICTS = """
[[districts]]
name = "川南片区"
lead_school = "四川轻化工大学"
contact = "王文娟"
phone = "0813-5506099"
email = "hqjjc@suse.edu.cn"
"""


@pytest.fixture
def cfg(mailstack, tmp_path, db_url):
    for user in (mailstack["MAILSTACK_CONTACT"], LEADER, YIBINU):
        reset_mailbox(user)
    return write_config(tmp_path / "c.toml", mailstack, tmp_path / "data", db_url,
                        receipts=True, extra=DISTRICTS)


def rows(cfg) -> list[dict]:
    return json.loads(run_cli("submissions", "--json", config=cfg).stdout)


def test_each_forwarded_mail_is_its_schools_submission_and_the_leader_is_told(mailstack, cfg):
    deliver(mailstack, BUNDLE)
    wait_contact(mailstack, 1)
    out = run_cli("poll", "--once", config=cfg).stdout
    assert "新登记 1 封" in out and "汇总邮件转来的 3 封已逐封登记" in out
    bundle, *parts = rows(cfg)
    assert (bundle["school"], bundle["kinds"], bundle["part_of"]) == ("四川轻化工大学", [], None)
    assert [(p["school"], p["kinds"], p["part_of"], p["receipt"]) for p in parts] == [
        ("宜宾学院", ["news"], bundle["id"], None), ("西南医科大学", ["plan"], bundle["id"], None),
        ("内江师范学院", ["video"], bundle["id"], None)]
    # schools without a district of their own are taken for the forwarding leader's
    assert {p["district"] for p in parts} == {"川南片区"}
    assert any("由川南片区组长单位 四川轻化工大学 汇总转来" in e["detail"] for e in parts[0]["evidence"])
    assert [p["sender"] for p in parts] == [YIBINU, "hqglc@swmu.edu.cn", "2291736655@qq.com"]
    assert {a["filename"] for a in parts[0]["attachments"]} == {
        "宜宾学院后勤党委参观校史馆新闻稿.docx", "校史馆参观1.jpg", "校史馆参观2.jpg"}
    assert bundle["attachments"] == [] and parts[2]["links"][0]["platform"] == "bilibili"
    assert [p["source"] for p in parts] == [f"{bundle['source']}#{n}" for n in (1, 2, 3)]
    (receipt,) = inbox(mailstack, LEADER, 1)
    text = receipt.get_body(("plain",)).get_content()
    assert "本邮件转来 3 封邮件" in text
    for p, what in zip(parts, ("新闻", "活动方案", "视频/推文")):
        assert f"登记为 {p['school']}" in text and f"{what}，编号 #{p['id']}" in text
    assert "活动方案缺少：活动流程" in text
    assert inbox(mailstack, YIBINU, 1, timeout=2) == []  # the schools wrote to the leader, not us
    listing = run_cli("submissions", config=cfg).stdout
    assert f"由汇总邮件 #{bundle['id']} 转来" in listing
    explained = run_cli("explain", str(bundle["id"]), config=cfg).stdout
    assert all(f"转来    #{p['id']} {p['school']}：{p['subject']}" in explained for p in parts)
    assert f"由汇总邮件 #{bundle['id']} 转来" in run_cli("explain", str(parts[0]["id"]),
                                                     config=cfg).stdout
    # the rules run again over what is recorded decide the same: each part still judged
    # alone from its own original, with its bundle's school as the forwarder
    assert "变化 0 封，不变 4 封" in run_cli("reclassify", "--all", config=cfg).stdout
    assert [(r["school"], r["district"], r["kinds"]) for r in rows(cfg)] == [
        (r["school"], r["district"], r["kinds"]) for r in [bundle, *parts]]


def test_a_school_that_also_wrote_to_us_is_recorded_once(mailstack, cfg):
    """宜宾学院 sent its news to us as well.  The copy its leader forwarded is the same
    mail, though its header was written anew (and the direct one gained header fields
    on the way): not recorded again, and the receipt names the earlier record."""
    direct = forwarded_originals(BUNDLE)[0]
    direct = b"Received: from mail.yibinu.edu.cn\r\nX-Spam-Score: 0.1\r\n" + direct
    deliver(mailstack, direct)
    wait_contact(mailstack, 1)
    run_cli("poll", "--once", config=cfg)
    deliver(mailstack, BUNDLE)
    wait_contact(mailstack, 2)
    out = json.loads(run_cli("poll", "--once", "--json", config=cfg).stdout)
    assert (out["recorded"], out["parts"]) == (1, 2)
    first, bundle, *parts = rows(cfg)
    assert first["school"] == "宜宾学院" and first["part_of"] is None
    assert [(p["school"], p["part_of"]) for p in parts] == [("西南医科大学", bundle["id"]),
                                                           ("内江师范学院", bundle["id"])]
    receipt = next(m for m in inbox(mailstack, LEADER, 1) if "转来" in m.get_body(
        ("plain",)).get_content())
    assert f"与此前收到的 #{first['id']} 相同，未重复登记" in receipt.get_body(("plain",)).get_content()
    deliver(mailstack, BUNDLE)  # the leader sends the bundle again: nothing new at all
    wait_contact(mailstack, 3)
    assert "新登记 0 封" in run_cli("poll", "--once", config=cfg).stdout
    assert len(rows(cfg)) == 4


def test_a_quarantined_bundle_released_records_its_mails(mailstack, cfg):
    """The leader's own file is a macro document: the bundle waits in quarantine, its
    mails unrecorded.  Released by the secretariat, its three mails are recorded."""
    bundle = email.message_from_bytes(BUNDLE, policy=policy.default)
    bundle.add_attachment(b"PK\x03\x04 macros", maintype="application",
                          subtype="vnd.ms-word.document.macroEnabled.12", filename="汇总说明.docm")
    deliver(mailstack, bundle.as_bytes())
    wait_contact(mailstack, 1)
    run_cli("poll", "--once", config=cfg)
    (row,) = rows(cfg)
    assert row["status"] == "quarantined"
    out = run_cli("quarantine", "release", str(row["id"]), config=cfg).stdout
    assert "已放行：已受理" in out and "转来的 3 封邮件已逐封登记" in out
    released, *parts = rows(cfg)
    assert [(p["school"], p["part_of"]) for p in parts] == [
        ("宜宾学院", row["id"]), ("西南医科大学", row["id"]), ("内江师范学院", row["id"])]
    assert [a["filename"] for a in released["attachments"]] == ["汇总说明.docm"]
