"""Dangerous attachments are recognised, whatever they are called; harmless ones pass."""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage
from pathlib import Path

import pytest

from mailbot.classify.danger import (
    dangerous_attachments,
    load_danger_rules,
    real_extension,
    shown,
)
from mailbot.classify.evidence import Evidence
from mailbot.errors import ConfigError
from mailbot.parse import Attachment, ParsedMessage, parse_message

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
RULES = load_danger_rules(ROOT / "rules" / "danger.toml")

MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(200)  # a PE/DOS header
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(100)
RLO = "\u202e"


def zipped(files: dict[str, bytes], encrypted: bool = False) -> bytes:
    """A zip of ``files``; ``encrypted`` sets every member's encryption flag (as a
    password-protected zip has: names readable, contents not)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    raw = bytearray(buf.getvalue())
    at = raw.find(b"PK\x01\x02")
    while encrypted and at >= 0:
        raw[at + 8] |= 1
        at = raw.find(b"PK\x01\x02", at + 4)
    return bytes(raw)


def mail(*attachments, forward: EmailMessage | None = None, raw: bool = False):
    """A real MIME message with ``(filename, payload[, content type])`` attachments."""
    m = EmailMessage()
    m["From"], m["Subject"] = "houqin@scu.edu.cn", "材料"
    m.set_content("请查收。")
    for name, payload, *ctype in attachments:
        main, sub = (ctype[0] if ctype else "application/octet-stream").split("/")
        m.add_attachment(payload, maintype=main, subtype=sub, filename=name or None)
    if forward is not None:
        m.add_attachment(forward)
    return m if raw else parse_message(m.as_bytes())


DANGEROUS = [  # id, attachment, words the evidence must contain
    ("exe", ("setup.exe", b"x"), ["setup.exe", "可执行文件", ".exe"]),
    ("upper-case", ("VIRUS.EXE", b"x"), [".exe"]),
    ("double-extension", ("方案.docx.exe", b"x"), ["附件 方案.docx.exe 是可执行文件"]),
    ("spaces-before-ext", ("新闻.pdf                    .scr", b"x"), [".scr"]),
    ("trailing-dot", ("方案.docx.exe.", b"x"), [".exe"]),
    ("full-width", ("照片．ＥＸＥ", b"x"), [".exe"]),
    ("script-js", ("活动说明.js", b"x"), [".js"]),
    ("script-vbs", ("说明.vbs", b"x"), [".vbs"]),
    ("batch", ("安装.bat", b"x"), [".bat"]),
    ("powershell", ("a.ps1", b"x"), [".ps1"]),
    ("shortcut", ("新闻稿.lnk", b"x"), [".lnk"]),
    ("hta", ("方案.hta", b"x"), [".hta"]),
    ("msi", ("tool.msi", b"x"), [".msi"]),
    ("jar", ("tool.jar", b"PK\x03\x04"), [".jar"]),
    ("disk-image", ("照片.iso", b"x"), [".iso"]),
    ("macro-doc", ("方案.docm", b"x"), [".docm"]),
    ("rtl-override", (f"方案{RLO}xcod.exe", b"x"), ["<U+202E>", "反向", ".exe"]),
    ("rtl-override-harmless-ext", (f"照片{RLO}gpj.txt", b"x"), ["<U+202E>"]),
    ("mz-named-pdf", ("方案.pdf", MZ, "application/pdf"), ["方案.pdf", "MZ"]),
    ("mz-no-name", ("", MZ), ["无文件名", "MZ"]),
    ("exe-content-type", ("", b"x", "application/x-msdownload"), ["application/x-msdownload"]),
    ("zip-with-exe", ("照片.zip", zipped({"照片/IMG_1.jpg": JPEG, "照片/查看.exe": b"x"})),
     ["照片.zip", "查看.exe", ".exe"]),
    ("zip-with-double-ext", ("新闻.zip", zipped({"新闻稿.docx.scr": b"x"})), ["新闻稿.docx.scr"]),
    ("zip-with-mz-jpg", ("照片.zip", zipped({"IMG_1.jpg": MZ})), ["IMG_1.jpg", "MZ"]),
    ("zip-in-zip", ("资料.zip", zipped({"inner.zip": zipped({"run.bat": b"x"})})),
     ["inner.zip", "run.bat"]),
    ("zip-named-otherwise", ("照片.dat", zipped({"a.exe": b"x"})), ["a.exe"]),
    ("zip-encrypted-names", ("资料.zip", zipped({"a.cmd": b"x"}, encrypted=True)), ["a.cmd"]),
]


@pytest.mark.parametrize("attachment, words", [c[1:] for c in DANGEROUS],
                         ids=[c[0] for c in DANGEROUS])
def test_dangerous(attachment, words):
    evidence = dangerous_attachments(mail(attachment), RULES)
    assert len(evidence) == 1
    (ev,) = evidence
    assert ev.rule == "danger.executable"
    for word in words:
        assert word in ev.detail
    assert RLO not in ev.detail  # the report must not be flipped


SAFE = [
    ("docx", ("活动方案.docx", b"PK\x03\x04" + bytes(40))),
    ("real-docx-zip", ("活动方案.docx", zipped({"word/document.xml": b"<w:document/>"}))),
    ("photo", ("IMG_0231.JPG", JPEG, "image/jpeg")),
    ("pdf", ("新闻稿.pdf", b"%PDF-1.4\n", "application/pdf")),
    ("wps", ("报名表.wps", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))),
    ("exe-in-the-middle", ("setup.exe.pdf", b"%PDF-1.4\n")),
    ("executable-word-in-name", ("exe说明.txt", b"hello")),
    ("rar", ("照片.rar", b"Rar!\x1a\x07\x00" + bytes(50))),  # cannot look inside
    ("7z", ("照片.7z", b"7z\xbc\xaf\x27\x1c" + bytes(50))),
    ("zip-of-photos", ("照片.zip", zipped({"IMG_1.jpg": JPEG, "说明.txt": b"MZ is a letter pair"
                                           .replace(b"MZ", b"mz")}))),
    ("broken-zip", ("照片.zip", b"PK\x03\x04 broken")),
    ("zip-encrypted-contents", ("照片.zip", zipped({"IMG_1.jpg": MZ}, encrypted=True))),
    ("text-starting-m", ("说明.txt", b"Mz ok")),
]


@pytest.mark.parametrize("attachment", [c[1] for c in SAFE], ids=[c[0] for c in SAFE])
def test_safe(attachment):
    assert dangerous_attachments(mail(attachment), RULES) == ()


@pytest.mark.parametrize("name, ctype", [
    ("smime.p7m", "application/pkcs7-mime"), ("smime.p7m", "application/x-pkcs7-mime"),
    ("", "application/pkcs7-mime"), ("message.asc.pgp", "application/octet-stream"),
])
def test_encrypted_content_cannot_be_checked(name, ctype):
    (ev,) = dangerous_attachments(mail((name, b"0\x82\x05\x00", ctype)), RULES)
    assert ev.rule == "danger.unreadable" and "无法检查" in ev.detail


def test_signatures_are_not_encrypted_content():
    att = ("smime.p7s", b"0\x82", "application/pkcs7-signature")
    assert dangerous_attachments(mail(att), RULES) == ()


def test_real_smime_encrypted_mail_is_unreadable():
    path = DATA / "labelled" / "57_quarantine_smime_unreadable.eml"
    if not path.is_file():
        pytest.skip("no labelled set")
    (ev,) = dangerous_attachments(parse_message(path.read_bytes()), RULES)
    assert ev == Evidence("danger.unreadable",
                          "附件 smime.p7m 是加密的邮件内容（application/pkcs7-mime），无法检查")


def test_every_dangerous_attachment_is_reported_forwarded_ones_too():
    inner = mail(("新闻.pdf .scr", b"x"), ("照片.jpg", JPEG, "image/jpeg"), raw=True)
    evidence = dangerous_attachments(mail(("a.exe", b"x"), ("b.docx", b"PK"), forward=inner), RULES)
    assert [e.detail.split(" ")[0] for e in evidence] == ["附件", "转发邮件中的附件"]
    assert "新闻.pdf .scr" in evidence[1].detail


def test_many_members_are_summarised_in_one_evidence():
    payload = zipped({f"{i}.exe": b"x" for i in range(6)})
    (ev,) = dangerous_attachments(mail(("x.zip", payload)), RULES)
    assert "0.exe" in ev.detail and "2.exe" in ev.detail and "另有 3 个" in ev.detail


def test_plain_parsed_message_without_attachments():
    msg = parse_message((DATA / "qqmail_gb18030_attachment.eml").read_bytes())
    assert dangerous_attachments(msg, RULES) == ()
    empty = ParsedMessage(None, None, "", None, (), "", None, "", "", (), (), (), {}, ())
    assert dangerous_attachments(empty, RULES) == ()


def test_pure_attachment_objects_work_too():
    att = Attachment("方案.docx.exe", "application/octet-stream", b"x", False, None)
    msg = ParsedMessage(None, None, "", None, (), "", None, "", "", (), (att,), (), {}, ())
    assert dangerous_attachments(msg, RULES) == (
        Evidence("danger.executable", "附件 方案.docx.exe 是可执行文件或脚本（.exe）"),)


@pytest.mark.parametrize("name, ext", [
    ("a.exe", ".exe"), ("方案.docx.exe", ".exe"), ("新闻.pdf   .scr", ".scr"),
    ("a.exe. . ", ".exe"), (f"x{RLO}fdp.exe", ".exe"), ("noext", ""), ("dir/a.BAT", ".bat"),
])
def test_real_extension(name, ext):
    assert real_extension(name) == ext


def test_shown_makes_bidi_controls_visible():
    assert shown(f"方案{RLO}xcod.exe") == "方案<U+202E>xcod.exe"


def test_rules_file_errors(tmp_path):
    bad = tmp_path / "danger.toml"
    bad.write_text('extensions = ["exe", 3]\nmax_members = 0\nsurprise = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_danger_rules(bad)
    text = str(err.value)
    assert "extensions" in text and "max_members" in text and "surprise" in text
    bad.write_text('extensions = ["exe"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="'.'"):
        load_danger_rules(bad)
    with pytest.raises(ConfigError, match="file not found"):
        load_danger_rules(tmp_path / "missing.toml")


def test_rules_file_lists_the_required_extensions():
    required = {".exe", ".scr", ".com", ".bat", ".cmd", ".pif", ".vbs", ".vbe", ".js", ".jse",
                ".wsf", ".wsh", ".msi", ".ps1", ".jar", ".lnk", ".hta", ".cpl", ".reg", ".dll"}
    assert required <= RULES.extensions
