"""An Outlook recall request: no receipt for it, the submission it names flagged."""

from __future__ import annotations

import pytest
from conftest import reset_mailbox, run_cli, write_config
from test_receipts import SCHOOL, inbox, rows, submit, wait_contact

pytestmark = pytest.mark.mailstack


@pytest.fixture
def desk(mailstack, tmp_path, db_url):
    for user in (mailstack["MAILSTACK_CONTACT"], SCHOOL):
        reset_mailbox(user)
    return mailstack, write_config(tmp_path / "c.toml", mailstack, tmp_path / "data", db_url,
                                   receipts=True)


def test_a_recall_request_gets_no_receipt_and_flags_the_mail_it_names(desk):
    """Outlook sends "撤回: <subject>" to outside addresses as a mail of its own: it is
    ignored (no receipt, "撤回请求" naming the submission), and that submission — not
    another of the school's — carries the request in its evidence, through reclassify."""
    stack, cfg = desk
    submit(stack, SCHOOL, "四川大学后勤新闻稿", "新闻稿见正文：我部组织参观校史馆。\n四川大学后勤保障部")
    submit(stack, SCHOOL, "四川大学后勤活动方案", "活动方案见附件。\n四川大学后勤保障部")
    wait_contact(stack, 2)
    run_cli("poll", "--once", config=cfg)
    submit(stack, SCHOOL, "撤回: 四川大学后勤活动方案",
           "李明 希望撤回邮件“四川大学后勤活动方案”。")
    wait_contact(stack, 3)
    run_cli("poll", "--once", config=cfg)
    news, plan, recall = rows(cfg)
    assert recall["status"] == "ignored" and recall["receipt"] is None
    assert "撤回请求" in recall["status_reason"] and f"#{plan['id']}" in recall["status_reason"]
    flagged = [e for e in plan["evidence"] if e["rule"] == "status.recall"]
    assert len(flagged) == 1 and "撤回请求" in flagged[0]["detail"]
    assert not any(e["rule"] == "status.recall" for e in news["evidence"])
    assert len(inbox(stack, SCHOOL, 3, timeout=3)) == 2  # the two submissions' receipts only
    run_cli("reclassify", "--all", config=cfg)
    assert [e["rule"] for e in rows(cfg)[1]["evidence"]].count("status.recall") == 1
