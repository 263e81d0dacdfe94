"""Mails forwarded as .eml files (application/octet-stream, application/x-message,
text/plain), as QQ Mail, Outlook and others attach them: checked for danger, counted for
a bundle and split from it as message/rfc822 parts are.  No mail server needed."""

from __future__ import annotations

import json

from conftest import DATA, ROOT, run_cli, write_config

from mailbot.classify.danger import dangerous_attachments, load_danger_rules
from mailbot.classify.forwards import is_bundle, own_content
from mailbot.parse import parse_message

RULES = load_danger_rules(ROOT / "rules" / "danger.toml")
BUNDLE = (DATA / "forwarded_eml_files_bundle.eml").read_bytes()
HIDING_EXE = (DATA / "forwarded_eml_file_hiding_exe.eml").read_bytes()


def test_an_executable_inside_an_attached_eml_file_is_dangerous():
    (ev,) = dangerous_attachments(parse_message(HIDING_EXE), RULES)
    assert ev.rule == "danger.executable"
    assert ev.detail.startswith("转发邮件中的附件 新闻稿.docx.exe ") and "（.exe）" in ev.detail


def test_a_padded_header_does_not_hide_an_executable_in_an_eml_file():
    """An attached .eml whose header is padded past the 64 KB a nameless octet-stream part
    is sniffed for is still read as the mail its name says it is."""
    from email.message import EmailMessage
    inner = EmailMessage()
    inner["From"], inner["Subject"] = "x <x@163.com>", "新闻稿"
    inner["Date"], inner["X-Pad"] = "Wed, 10 Jul 2024 10:00:00 +0800", "a " * 40_000
    inner.set_content("附件是新闻稿")
    inner.add_attachment(b"MZ\x90\x00" + bytes(100), maintype="application",
                         subtype="octet-stream", filename="新闻稿.docx.exe")
    outer = EmailMessage()
    outer["From"], outer["Subject"] = "hq <hq@swmu.edu.cn>", "转：新闻稿"
    outer.set_content("转发新闻稿，请查收。")
    outer.add_attachment(inner.as_bytes(), maintype="application", subtype="octet-stream",
                         filename="新闻稿.eml")
    (ev,) = dangerous_attachments(parse_message(outer.as_bytes()), RULES)
    assert ev.rule == "danger.executable"


def test_mails_attached_as_eml_files_make_a_bundle():
    msg = parse_message(BUNDLE)
    assert is_bundle(msg) and own_content(msg).forwarded == ()
    assert [a.filename for a in own_content(msg).attachments] == ["备注.eml"]
    assert not is_bundle(parse_message(HIDING_EXE))  # one forwarded mail is no bundle


def test_import_splits_a_bundle_of_eml_files_and_quarantines_a_hidden_exe(tmp_path):
    cfg = write_config(tmp_path / "c.toml", None, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'm.sqlite3'}")
    out = run_cli("import", str(DATA / "forwarded_eml_files_bundle.eml"),
                  str(DATA / "forwarded_eml_file_hiding_exe.eml"), config=cfg).stdout
    assert "汇总邮件转来的 3 封已逐封登记" in out
    bundle, *parts, exe = json.loads(run_cli("submissions", "--json", config=cfg).stdout)
    assert (bundle["school"], bundle["part_of"]) == ("四川轻化工大学", None)
    assert [a["filename"] for a in bundle["attachments"]] == ["备注.eml"]
    assert [(p["school"], p["kinds"], p["part_of"]) for p in parts] == [
        ("内江师范学院", ["news"], bundle["id"]), ("西南医科大学", ["news"], bundle["id"]),
        ("宜宾学院", ["video"], bundle["id"])]
    assert [[a["filename"] for a in p["attachments"]] for p in parts] == [
        ["内江师范学院参观校史馆新闻稿.docx"], ["西南医科大学参观合影.jpg"], []]
    assert exe["status"] == "quarantined" and "新闻稿.docx.exe" in exe["status_reason"]
