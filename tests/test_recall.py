"""An Outlook recall request: no receipt for it, the submission it names flagged."""

from __future__ import annotations

import pytest
from conftest import run_cli
from test_receipts import SCHOOL, inbox, rows, submit, wait_contact
from test_resent import send

pytestmark = pytest.mark.mailstack


def test_a_recall_request_gets_no_receipt_and_flags_the_mail_it_names(school_desk):
    """Outlook sends "撤回: <subject>" to outside addresses as a mail of its own: it is
    ignored (no receipt, "撤回请求" naming the submissions), and every submission of the
    sender's under that subject — which one was meant, a person decides — carries the
    request in its evidence, through reclassify; the school's other mail does not.  A
    school's own "撤回：…以此为准" carrying the corrected file is a submission; the recalled
    plan sent again is acknowledged anew, not taken for a copy."""
    stack, cfg = school_desk
    plan = "活动方案见附件。\n四川大学后勤保障部"
    submit(stack, SCHOOL, "四川大学后勤新闻稿", "新闻稿见正文：我部组织参观校史馆。\n四川大学后勤保障部")
    send(stack, "四川大学后勤活动方案", plan, {"活动方案.txt": "一、活动背景：弘扬传统文化".encode()})
    send(stack, "四川大学后勤活动方案", "修改后的方案见附件。", {"活动方案.txt": "一、活动背景：修订".encode()})
    send(stack, "撤回：上次方案作废，以此为准", "各位老师好，上次发送的方案有误，请撤回，以此为准。",
         {"活动方案（修订）.txt": "一、活动背景：再次修订".encode()})
    wait_contact(stack, 4)
    run_cli("poll", "--once", config=cfg)
    submit(stack, SCHOOL, "撤回: 四川大学后勤活动方案",
           "李明 希望撤回邮件“四川大学后勤活动方案”。")
    wait_contact(stack, 5)
    run_cli("poll", "--once", config=cfg)
    by_subject = {}  # Postfix may deliver the four in any order: told apart by subject
    for r in rows(cfg):
        by_subject.setdefault(r["subject"], []).append(r)
    (news,), (correction,) = by_subject["四川大学后勤新闻稿"], by_subject["撤回：上次方案作废，以此为准"]
    (recall,), (plan_a, plan_b) = by_subject["撤回: 四川大学后勤活动方案"], by_subject["四川大学后勤活动方案"]
    assert correction["status"] == "accepted" and correction["receipt"]
    assert recall["status"] == "ignored" and recall["receipt"] is None
    assert "撤回请求" in recall["status_reason"]
    assert f"#{plan_a['id']}、#{plan_b['id']}" in recall["status_reason"]
    for flagged in (plan_a, plan_b):
        said = [e for e in flagged["evidence"] if e["rule"] == "status.recall"]
        assert len(said) == 1 and "撤回请求" in said[0]["detail"]
    assert not any(e["rule"] == "status.recall" for r in (news, correction) for e in r["evidence"])
    assert len(inbox(stack, SCHOOL, 4)) == 4  # news, both plans, the correction...
    assert len(inbox(stack, SCHOOL, 5, timeout=3)) == 4  # ... and no fifth
    listing = run_cli("submissions", config=cfg).stdout  # the secretariat sees it...
    assert listing.count("撤回请求: 发件人于") == 2
    preview = cfg.parent / "preview"  # ... and its digest shows it beside the plans
    run_cli("digest", "--secretariat", "--dry-run", str(preview), config=cfg)
    digest = next(preview.glob("*.txt")).read_text("utf-8")
    assert digest.count("撤回请求：发件人于") == 2
    run_cli("reclassify", "--all", config=cfg)
    again_a = next(r for r in rows(cfg) if r["id"] == plan_a["id"])
    assert [e["rule"] for e in again_a["evidence"]].count("status.recall") == 1
    send(stack, "四川大学后勤活动方案", plan, {"活动方案.txt": "一、活动背景：弘扬传统文化".encode()})
    wait_contact(stack, 6)
    run_cli("poll", "--once", config=cfg)
    again = rows(cfg)[-1]
    assert again["status"] == "accepted" and again["receipt"]


def test_a_recalled_reply_flags_the_submission_it_was_merged_into(school_desk):
    """A school answers its receipt with a corrected file (merged into the plan it was
    for), then Outlook recalls that reply: "撤回: Re: [回执 …] …" names the reply, which is
    no submission of its own — the plan it was merged into carries the request, naming the
    reply, and the request's reason names both; still no receipt for the request."""
    stack, cfg = school_desk
    send(stack, "四川大学后勤活动方案", "活动方案见附件。\n四川大学后勤保障部",
         {"活动方案.txt": "一、活动背景：弘扬传统文化".encode()})
    wait_contact(stack, 1)
    run_cli("poll", "--once", config=cfg)
    (receipt,) = inbox(stack, SCHOOL, 1)
    answer = "Re: " + receipt["Subject"]
    send(stack, answer, "修改后的方案见附件。", {"活动方案（修订）.txt": "一、活动背景：修订".encode()})
    wait_contact(stack, 2)
    run_cli("poll", "--once", config=cfg)
    plan, reply = rows(cfg)
    assert reply["status"] == "ignored" and f"#{plan['id']}" in reply["status_reason"]
    submit(stack, SCHOOL, f"撤回: {answer}", f"李明 希望撤回邮件“{answer}”。")
    wait_contact(stack, 3)
    run_cli("poll", "--once", config=cfg)
    plan, reply, recall = rows(cfg)
    assert recall["status"] == "ignored" and recall["receipt"] is None
    assert f"#{plan['id']}（回复 #{reply['id']}）" in recall["status_reason"]
    (said,) = [e for e in plan["evidence"] if e["rule"] == "status.recall"]
    assert f"其回复 #{reply['id']}" in said["detail"] and "已并入本件" in said["detail"]
    assert not any(e["rule"] == "status.recall" for e in reply["evidence"])
    run_cli("reclassify", "--all", config=cfg)  # an event, kept through reclassify
    assert [e["rule"] for e in rows(cfg)[0]["evidence"]].count("status.recall") == 1
    send(stack, "四川大学后勤活动方案", "活动方案见附件。\n四川大学后勤保障部",  # the plan
         {"活动方案.txt": "一、活动背景：弘扬传统文化".encode()})  # itself again: still a copy
    wait_contact(stack, 4)
    run_cli("poll", "--once", config=cfg)
    again = rows(cfg)[-1]
    assert again["status"] == "ignored" and f"重复发送：与 #{plan['id']}" in again["status_reason"]
