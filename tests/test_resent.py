"""A mail sent again (new Message-ID, same content): recorded, never acknowledged twice."""

from __future__ import annotations

import smtplib
import ssl
import uuid
from email.message import EmailMessage

import pytest
from conftest import run_cli
from test_receipts import SCHOOL, inbox, rows, wait_contact

pytestmark = pytest.mark.mailstack
PLAN = ("活动方案\n一、活动背景：弘扬中华优秀传统文化。\n二、活动组织：后勤保障部党委\n"
        "三、活动时间：2024年7月5日\n四、活动地点：四川大学博物馆\n五、活动流程：参观、座谈\n"
        "六、活动联系人及电话：李明 028-84616000").encode()


def send(stack, subject: str, body: str, files: dict[str, bytes],
         images: dict[str, bytes] | None = None) -> None:
    """Compose anew and send as the school, as a client's "send again" does: a new
    Message-ID, Date and MIME boundary every time.  With *images*, the text goes also as
    HTML showing them inline (multipart/related, by Content-ID), as Foxmail or Outlook
    send a signature's logo."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = SCHOOL, stack["MAILSTACK_CONTACT"], subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@scu.edu.cn>"
    msg.set_content(body)
    if images:
        html = "".join(f"<p>{line}</p>" for line in body.splitlines())
        msg.add_alternative(html + "".join(f'<img src="cid:{cid}">' for cid in images),
                            subtype="html")
        for cid, data in images.items():
            msg.get_payload()[1].add_related(data, maintype="image", subtype="png", cid=f"<{cid}>")
    for name, data in files.items():
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    ctx = ssl.create_default_context(cafile=stack["MAILSTACK_CA_FILE"])
    with smtplib.SMTP("localhost", int(stack["MAILSTACK_SMTP_PORT"])) as smtp:
        smtp.starttls(context=ctx)
        smtp.login(SCHOOL, stack["MAILSTACK_PASSWORD"])
        smtp.send_message(msg)


def test_the_same_mail_sent_again_gets_no_second_receipt(school_desk):
    """Sent twice (the second time a new Message-ID): one receipt, the copy recorded as
    ignored naming the first.  A corrected file, or a different text, under the same
    subject is a submission of its own and acknowledged; reclassify keeps the copy a copy."""
    stack, cfg = school_desk
    subject, body = "四川大学后勤活动方案", "您好，附件是我校活动方案，请查收。\n四川大学后勤保障部"
    send(stack, subject, body, {"活动方案.txt": PLAN})
    wait_contact(stack, 1)
    run_cli("poll", "--once", config=cfg)
    send(stack, subject, body, {"活动方案.txt": PLAN})  # unsure it arrived: sends it again
    send(stack, subject, body, {"活动方案.txt": PLAN + "（修订）".encode()})  # a corrected file
    send(stack, subject, body + "\n补充：联系人改为王芳。", {"活动方案.txt": PLAN})  # a new text
    send(stack, subject, body + "\n\n发自我的iPhone", {"活动方案.txt": PLAN})  # again, by phone
    wait_contact(stack, 5)
    run_cli("poll", "--once", config=cfg)
    first, again, corrected, told, by_phone = rows(cfg)
    assert first["status"] == "accepted" and first["receipt"]
    for copy in (again, by_phone):  # the phone's "发自我的iPhone" line is no new content
        assert copy["status"] == "ignored" and copy["receipt"] is None
        assert f"重复发送：与 #{first['id']} 内容相同" in copy["status_reason"]
    assert corrected["status"] == told["status"] == "accepted"
    inbox(stack, SCHOOL, 3)  # the three due (under load Postfix takes a while)...
    receipts = inbox(stack, SCHOOL, 4, timeout=3)  # ... then a while for a fourth: none comes
    numbers = [r["receipt"]["number"] for r in (first, corrected, told)]
    assert len(receipts) == 3 and all(any(n in m["Subject"] for m in receipts) for n in numbers)
    run_cli("reclassify", "--all", config=cfg)
    assert [r["status"] for r in rows(cfg)] == ["accepted", "ignored", "accepted", "accepted",
                                                "ignored"]


def test_a_signature_logo_more_or_less_does_not_make_a_copy_new(school_desk):
    """Sent from Foxmail with the signature's small logo inline, then again from the
    webmail without it: the same mail (no second receipt).  Inline pictures of some size
    are material: the same text with other photos in it is a submission of its own."""
    stack, cfg = school_desk
    subject, body = "四川大学后勤活动方案", "您好，附件是我校活动方案，请查收。\n四川大学后勤保障部"
    logo = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8  # 2 KB
    photo = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 120  # 30 KB
    send(stack, subject, body, {"活动方案.txt": PLAN}, {"logo": logo})
    wait_contact(stack, 1)
    run_cli("poll", "--once", config=cfg)
    send(stack, subject, body, {"活动方案.txt": PLAN})
    send(stack, subject, body, {"活动方案.txt": PLAN}, {"logo": logo, "photo": photo})
    wait_contact(stack, 3)
    run_cli("poll", "--once", config=cfg)
    first, again, with_photo = rows(cfg)
    assert any(a["inline"] for a in first["attachments"])
    assert again["status"] == "ignored" and again["receipt"] is None
    assert f"重复发送：与 #{first['id']} 内容相同" in again["status_reason"]
    assert with_photo["status"] == "accepted" and with_photo["receipt"]


def test_the_original_sent_again_after_a_reply_added_to_it_is_a_copy(school_desk):
    """A reply to the receipt added a file and a link to the plan; the school then sends
    its original mail again: still a copy of that submission (its own files and links), as
    is the original sent together with what the reply added."""
    stack, cfg = school_desk
    subject, body = "四川大学后勤活动方案", "您好，附件是我校活动方案，请查收。\n四川大学后勤保障部"
    send(stack, subject, body, {"活动方案.txt": PLAN})
    wait_contact(stack, 1)
    run_cli("poll", "--once", config=cfg)
    (receipt,) = inbox(stack, SCHOOL, 1)
    extra = "活动方案（补充）：参观路线图见附件。".encode()
    send(stack, "Re: " + receipt["Subject"],
         "补充路线图，另见学校网站 https://hq.scu.edu.cn/info/1034/5678.htm", {"路线图方案.txt": extra})
    wait_contact(stack, 2)
    run_cli("poll", "--once", config=cfg)
    first, reply = rows(cfg)
    assert reply["status"] == "ignored" and f"#{first['id']}" in reply["status_reason"]
    assert len(first["attachments"]) == 2 and len(first["links"]) == 1
    send(stack, subject, body, {"活动方案.txt": PLAN})  # the original, again
    wait_contact(stack, 3)
    run_cli("poll", "--once", config=cfg)
    again = rows(cfg)[2]
    assert again["status"] == "ignored" and f"重复发送：与 #{first['id']}" in again["status_reason"]
    run_cli("reclassify", "--all", config=cfg)  # judged anew, it still knows what replies added
    first = rows(cfg)[0]
    assert [e["rule"] for e in first["evidence"]].count("files.reply") == 1
    assert len(first["attachments"]) == 2 and rows(cfg)[2]["status"] == "ignored"


def test_a_mail_sent_again_because_its_receipt_was_refused_is_acknowledged(school_desk):
    """The first receipt was refused for good (its outbox row failed): the school, hearing
    nothing, sends the mail again — that one is recorded and acknowledged, not a copy."""
    from sqlalchemy import update

    from mailbot import config, db
    from mailbot.models import OutboxMail
    stack, cfg = school_desk
    subject, body = "四川大学后勤活动方案", "您好，附件是我校活动方案，请查收。\n四川大学后勤保障部"
    send(stack, subject, body, {"活动方案.txt": PLAN})
    wait_contact(stack, 1)
    run_cli("poll", "--once", "--no-send", config=cfg)
    engine = db.connect(config.load(cfg).storage.database_url)
    with db.transaction(engine) as s:  # what a permanent SMTP refusal leaves
        assert s.execute(update(OutboxMail).values(status="failed")).rowcount == 1
    send(stack, subject, body, {"活动方案.txt": PLAN})
    wait_contact(stack, 2)
    run_cli("poll", "--once", config=cfg)
    first, again = rows(cfg)
    assert first["status"] == again["status"] == "accepted" and again["receipt"], \
        again["status_reason"]
    (receipt,) = inbox(stack, SCHOOL, 1)
    assert again["receipt"]["number"] in receipt["Subject"]
