"""Bundles over the real Dovecot and Postfix: a district leader passes on several schools'
mails at once, each forwarded as an attachment.  Every original is a submission of its
own school (a part of the bundle), recorded once even when the school also wrote to us,
and the leader's receipt says what became of each."""

from __future__ import annotations

import email
import json
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage

import pytest
from conftest import ROOT, deliver, reset_mailbox, run_cli, write_config
from test_receipts import inbox, submit, wait_contact

from mailbot.parse import forwarded_originals

pytestmark = pytest.mark.mailstack
BUNDLE = (ROOT / "tests/data/labelled/58_suse_bundle_three_schools.eml").read_bytes()
LEADER_FILES = (ROOT / "tests/data/labelled/59_suse_leader_attaches_schools_files.eml").read_bytes()
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
    late = b"Received: from mail.swmu.edu.cn\r\n" + forwarded_originals(BUNDLE)[1]
    deliver(mailstack, late)  # and 西南医科大学 its plan, after the bundle brought it
    wait_contact(mailstack, 4)
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


def _held_then_combined(mailstack, tmp_path, db_url, raw: bytes):
    """With one receipt an hour, the leader writes once (its receipt goes out), then sends
    *raw*, whose receipt waits; two hours on it goes out combined.  Returns the config."""
    from mailbot import config, db, outbox, receipts
    for user in (mailstack["MAILSTACK_CONTACT"], LEADER):
        reset_mailbox(user)
    cfg_path = write_config(tmp_path / "c.toml", mailstack, tmp_path / "data", db_url,
                            receipts={"per_hour": 1, "per_day": 20}, extra=DISTRICTS)
    submit(mailstack, LEADER, "川南片区工作简报", "四川轻化工大学后勤党委参观校史馆新闻稿。" * 5)
    wait_contact(mailstack, 1)
    deliver(mailstack, raw)
    wait_contact(mailstack, 2)
    assert "发出 1 封" in run_cli("poll", "--once", config=cfg_path).stdout
    assert "回执：1 封因同一地址的发送频率上限暂缓" in run_cli("status", config=cfg_path).stdout
    cfg = config.load(cfg_path)
    engine = db.connect(cfg.storage.database_url)
    with db.transaction(engine) as s:
        assert receipts.release_held(s, cfg, datetime.now(UTC) + timedelta(hours=2)) == 1
    assert outbox.deliver(engine, cfg, ignore_backoff=True).sent == 1
    engine.dispose()
    return cfg_path


def _combined(mailstack):
    """The combined receipt among the leader's two (Postfix may deliver either first)."""
    mails = inbox(mailstack, LEADER, 2)
    combined = [m for m in mails if "合并回执" in m["Subject"]]
    assert len(mails) == 2 and len(combined) == 1, [m["Subject"] for m in mails]
    return combined[0]


def test_a_held_receipt_and_an_updated_one_still_list_the_bundles_mails(mailstack, tmp_path,
                                                                        db_url):
    """Past the receipt limit the leader's receipt waits and goes out combined with the
    others; answered with a video link, it goes out again, updated: both list the
    forwarded mails and who they were recorded for."""
    cfg_path = _held_then_combined(mailstack, tmp_path, db_url, BUNDLE)
    _first, bundle, *parts = rows(cfg_path)
    combined = _combined(mailstack)
    assert "合并回执" in combined["Subject"]
    for text in (combined.get_body(("plain",)).get_content(),
                 combined.get_body(("html",)).get_content()):
        assert "转来 3 封邮件，已逐封登记" in text
        assert all(f"登记为 {p['school']}" in text and f"编号 #{p['id']}" in text for p in parts)
    submit(mailstack, LEADER, f"Re: [回执 {bundle['receipt']['number']}] 合并回执",
           "补充视频：https://www.bilibili.com/video/BV1GJ411x7h7")
    wait_contact(mailstack, 3)
    run_cli("poll", "--once", config=cfg_path)
    updated = inbox(mailstack, LEADER, 3)[2].get_body(("plain",)).get_content()
    assert "本邮件转来 3 封邮件" in updated and "BV1GJ411x7h7" in updated
    assert all(f"登记为 {p['school']}" in updated for p in parts)


def test_a_leaders_files_of_its_schools_are_credited_to_them(mailstack, cfg):
    """The leader attaches two schools' files to a mail of its own instead of forwarding
    their mails: each file goes to the school its name gives, the receipt says so, and
    the progress matrix counts them for those schools, not for the leader."""
    deliver(mailstack, LEADER_FILES)
    wait_contact(mailstack, 1)
    run_cli("poll", "--once", config=cfg)
    (row,) = rows(cfg)
    assert (row["school"], row["kinds"], len(row["attachments"])) == ("四川轻化工大学", [], 3)
    assert [(c["school"], c["district"], c["kinds"], c["plan_missing"]) for c in row["credits"]] == [
        ("宜宾学院", "川南片区", ["news"], []), ("西南医科大学", "川南片区", ["plan"], ["活动流程"])]
    assert row["credits"][1]["plan_info"]["visit_date"] == "2024-07-18"
    (receipt,) = inbox(mailstack, LEADER, 1)
    text = receipt.get_body(("plain",)).get_content()
    assert "以下附件和链接按文件名或所在行的学校名称记入各校" in text and "材料类别：见下列各校材料" in text
    assert "宜宾学院：新闻（宜宾学院后勤党委参观校史馆新闻稿.docx、宜宾学院参观照片.jpg）" in text
    assert "西南医科大学：活动方案（西南医科大学后勤管理处接力行活动方案.docx）；活动方案缺少：活动流程" in text
    status = json.loads(run_cli("status", "--json", config=cfg).stdout)
    sent = {d["school"]: d for d in status["districts"]}
    assert sent["宜宾学院"]["news"] and sent["西南医科大学"]["plan"]
    assert not any(sent["四川轻化工大学"][k] for k in ("plan", "news", "video"))
    assert "代交" in run_cli("explain", str(row["id"]), config=cfg).stdout


def test_a_leaders_held_receipt_and_its_reply_keep_the_schools_files_apart(mailstack, tmp_path,
                                                                          db_url):
    """Past the receipt limit the leader's receipt goes out combined and still says which
    file went to which school; a reply adding a third school's photo credits that school
    too, and the updated receipt lists all three."""
    cfg_path = _held_then_combined(mailstack, tmp_path, db_url, LEADER_FILES)
    combined = _combined(mailstack)
    for text in (combined.get_body(("plain",)).get_content(),
                 combined.get_body(("html",)).get_content()):
        assert "附件和链接按学校名称记入各校" in text and "西南医科大学：活动方案（" in text
    number = rows(cfg_path)[1]["receipt"]["number"]
    reply = EmailMessage()
    reply["From"], reply["To"] = LEADER, mailstack["MAILSTACK_CONTACT"]
    reply["Subject"], reply["Message-ID"] = f"Re: [回执 {number}] 合并回执", "<r59@suse.edu.cn>"
    reply.set_content("补充内江师范学院的活动照片。")
    reply.add_attachment(b"\xff\xd8\xff\xe0" + b"\x00" * 20000, maintype="image",
                         subtype="jpeg", filename="内江师范学院活动照片.jpg")
    deliver(mailstack, reply.as_bytes())
    wait_contact(mailstack, 3)
    run_cli("poll", "--once", config=cfg_path)
    leader_mail = rows(cfg_path)[1]
    assert [(c["school"], c["kinds"]) for c in leader_mail["credits"]] == [
        ("宜宾学院", ["news"]), ("西南医科大学", ["plan"]), ("内江师范学院", ["news"])]
    assert leader_mail["kinds"] == []
    updated = inbox(mailstack, LEADER, 3)[2].get_body(("plain",)).get_content()
    assert "内江师范学院：新闻（内江师范学院活动照片.jpg）" in updated and "宜宾学院：新闻（" in updated
    status = json.loads(run_cli("status", "--json", config=cfg_path).stdout)
    assert next(d for d in status["districts"] if d["school"] == "内江师范学院")["news"]


def test_a_leader_writing_from_a_personal_box_is_credited_once_it_names_its_school(mailstack,
                                                                                 cfg):
    """From a QQ box with no school of its own in sight, the leader's files are taken for
    the school most named in their names; the leader's reply "学校：四川轻化工大学" makes it
    the lead school's mail, and each file goes to the school its name gives."""
    qq = "2894561730@qq.com"
    reset_mailbox(qq)
    msg = EmailMessage()
    msg["From"], msg["To"] = qq, mailstack["MAILSTACK_CONTACT"]
    msg["Subject"], msg["Message-ID"] = "片区接力行材料", "<qq-leader@qq.com>"
    msg.set_content("老师好，附件是我片区各校的材料，请查收。\n\n王文娟")
    for name in ("宜宾学院新闻稿.docx", "宜宾学院参观照片.jpg", "西南医科大学活动方案.docx"):
        msg.add_attachment(b"PK\x03\x04" if name.endswith("docx") else b"\xff\xd8\xff" + b"\0" * 20000,
                           maintype="application", subtype="octet-stream", filename=name)
    deliver(mailstack, msg.as_bytes())
    wait_contact(mailstack, 1)
    run_cli("poll", "--once", config=cfg)
    (first,) = rows(cfg)
    assert (first["school"], first["credits"]) == ("宜宾学院", [])
    submit(mailstack, qq, f"Re: [回执 {first['receipt']['number']}] 片区接力行材料",
           "学校：四川轻化工大学")
    wait_contact(mailstack, 2)
    run_cli("poll", "--once", config=cfg)
    row = rows(cfg)[0]
    assert (row["school"], row["district"], row["kinds"]) == ("四川轻化工大学", "川南片区", [])
    assert [(c["school"], c["kinds"]) for c in row["credits"]] == [
        ("宜宾学院", ["news"]), ("西南医科大学", ["plan"])]
    assert sum(e["rule"] == "credit" for e in row["evidence"]) == 2


def _legacy(cfg_path, raw: bytes) -> int:
    """Record *raw* the way mailbot did before bundles were split: one row credited to the
    first forwarded mail's school, listing every forwarded file, with no parts."""
    from mailbot import config, db
    from mailbot.desk import build_desk, store_attachments
    from mailbot.parse import parse_message
    from mailbot.rows import attachment_values, every_attachment

    cfg = config.load(cfg_path)
    desk, engine = build_desk(cfg), db.connect(cfg.storage.database_url)
    stored = desk.store.put("raw", raw, ".eml")
    parsed = parse_message(raw)
    files = [(n, att, desk.store.put("files", att.payload, att.filename), True)
             for n, att in enumerate(every_attachment(parsed))]
    assert store_attachments is not None  # (the pipeline's own filing keeps a bundle's files)
    now = datetime.now(UTC)
    with db.transaction(engine) as s:
        m = db.insert_message(s, {
            "sha256": stored.sha256, "content_sha256": "", "message_id": parsed.message_id,
            "sender": parsed.sender, "sender_name": parsed.sender_name, "subject": parsed.subject,
            "sent_at": parsed.date, "received_at": now, "recorded_at": now, "source": "old",
            "size": len(raw), "raw_path": stored.path, "status": "accepted", "status_reason": "",
            "school": "宜宾学院", "district": "川南片区", "kinds": ["plan", "news", "video"],
            "late": False, "plan_missing": [], "notes": [], "evidence": [], "plan_info": {},
            "files_removed_at": None, "parent_pk": None}, attachment_values(files), [])
    engine.dispose()
    return m.id


def test_a_bundle_recorded_before_bundles_were_split_is_split_by_reclassify(cfg, tmp_path):
    """A season's mail recorded by an earlier mailbot: the leader's bundle is one row for
    the first forward's school, with every forwarded file.  `verify --repair` rebuilds
    those files from the original; `reclassify --all` then records the three mails as
    parts and the bundle keeps only what is its own."""
    pk = _legacy(cfg, BUNDLE)
    (old,) = rows(cfg)
    assert len(old["attachments"]) == 4 and old["school"] == "宜宾学院"
    photo = tmp_path / "data" / next(a["path"] for a in old["attachments"]
                                     if a["filename"] == "校史馆参观1.jpg")
    photo.write_bytes(b"broken")
    assert "已重建 1 个" in run_cli("verify", "--repair", config=cfg).stdout
    assert "变化 1 封" in run_cli("reclassify", "--all", config=cfg).stdout
    bundle, *parts = rows(cfg)
    assert (bundle["id"], bundle["school"], bundle["attachments"]) == (pk, "四川轻化工大学", [])
    assert [(p["school"], p["part_of"]) for p in parts] == [
        ("宜宾学院", pk), ("西南医科大学", pk), ("内江师范学院", pk)]
    assert "变化 0 封" in run_cli("reclassify", "--all", config=cfg).stdout  # done once


def _wrapped(sender: str, subject: str, *inner: bytes) -> bytes:
    """A mail from *sender* forwarding each of *inner* as an attachment."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "contact@scgxhq.test", subject
    msg["Message-ID"] = f"<{abs(hash(subject))}.{len(inner)}@{sender.split('@')[1]}>"
    msg.set_content("转发，请审阅。")
    for data in inner:
        msg.add_attachment(email.message_from_bytes(data, policy=policy.default))
    return msg.as_bytes()


def test_bundles_inside_bundles_are_split_two_levels_deep_then_quarantined(cfg):
    """A bundle forwarded once more is still a bundle (split through the wrapper); a
    bundle inside a bundle is split too; one level deeper is quarantined for a person,
    so a chain a stranger nests a hundred levels deep costs three rows, not hundreds."""
    twice = _wrapped("houqin@scu.edu.cn", "转发川南汇总", BUNDLE)
    path = cfg.parent / "twice.eml"
    path.write_bytes(twice)
    out = run_cli("import", str(path), config=cfg).stdout
    assert "汇总邮件转来的 4 封已逐封登记" in out
    outer, inner, *schools = rows(cfg)
    assert inner["part_of"] == outer["id"] and inner["school"] == "四川轻化工大学"
    assert [(p["school"], p["part_of"]) for p in schools] == [
        ("宜宾学院", inner["id"]), ("西南医科大学", inner["id"]), ("内江师范学院", inner["id"])]
    deep = BUNDLE
    for level in range(4):
        deep = _wrapped("hqjjc@suse.edu.cn", f"第{level}层汇总", deep, deep)
    path.write_bytes(deep)
    run_cli("import", str(path), config=cfg)
    new = [r for r in rows(cfg) if r["id"] > schools[-1]["id"]]  # each copy twice: once new
    assert [(r["subject"], r["status"]) for r in new] == [
        ("第3层汇总", "accepted"), ("第2层汇总", "accepted"), ("第1层汇总", "quarantined")]
    assert "层层转发超过 2 层" in new[2]["status_reason"]
