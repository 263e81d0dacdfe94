"""The secretariat's loop: explain a decision, import a roster, reclassify."""

from __future__ import annotations

import json
import shutil
from email.message import EmailMessage

from conftest import ROOT, run_cli, write_config


def _mail(path, sender: str, subject: str, body: str) -> str:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "contact@scgxhq.test", subject
    msg["Message-ID"] = f"<{path.stem}@qq.com>"
    msg["Date"] = "Tue, 16 Jul 2024 10:00:00 +0800"
    msg.set_content(body)
    path.write_bytes(msg.as_bytes())
    return str(path)


def test_explain_roster_import_and_reclassify(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules, ignore=shutil.ignore_patterns("roster.toml"))
    cfg = write_config(tmp_path / "c.toml", None, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}", extra=f'[rules]\ndir = "{rules}"')
    eml = _mail(tmp_path / "a.eml", "1234567@qq.com", "新闻稿",
                "老师好，新闻稿在正文：\n我处党员参观校史馆，收获很大。" * 3 + "\n小王")
    run_cli("import", eml, config=cfg)
    (row,) = json.loads(run_cli("submissions", "--json", config=cfg).stdout)
    assert row["status"] == "needs_school" and row["school"] is None
    shown = run_cli("explain", str(row["id"]), config=cfg).stdout
    assert "学校    未识别" in shown and "状态    待确认学校" in shown

    roster = tmp_path / "名单.csv"
    roster.write_bytes("学校,片区,联系人,邮箱\n成都大学,成都第二片区,唐勇,1234567@qq.com\n"
                       "火星大学,,,x@y.z\n".encode("gb18030"))
    out = run_cli("schools", "import", str(roster), config=cfg).stdout
    assert "已导入 1 所学校" in out and "第3行" in out and "火星大学" in out
    assert (rules / "roster.toml").is_file()

    assert "变化 1 封" in run_cli("reclassify", config=cfg).stdout
    (row,) = json.loads(run_cli("submissions", "--json", config=cfg).stdout)
    assert (row["school"], row["district"], row["status"]) == ("成都大学", "成都第二片区",
                                                               "accepted")
    shown = run_cli("explain", str(row["id"]), config=cfg).stdout
    assert "1234567@qq.com" in shown and "[school.address]" in shown
    assert "不变 1 封" in run_cli("reclassify", "--all", config=cfg).stdout


def test_explain_unknown_id_is_one_sentence(tmp_path):
    cfg = write_config(tmp_path / "c.toml", None, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}")
    proc = run_cli("explain", "42", config=cfg, check=False)
    assert proc.returncode == 1 and "没有编号为 42 的邮件" in proc.stderr


def test_quarantine_list_release_and_reprocess(tmp_path):
    cfg = write_config(tmp_path / "c.toml", None, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}")
    exe = ROOT / "tests" / "data" / "labelled" / "55_quarantine_docx_exe.eml"
    run_cli("import", str(exe), config=cfg)
    (row,) = json.loads(run_cli("submissions", "--json", config=cfg).stdout)
    assert row["status"] == "quarantined" and row["attachments"] == []
    listed = run_cli("quarantine", "list", config=cfg).stdout
    assert f"#{row['id']}" in listed and "可执行" in listed and "共 1 封已隔离" in listed
    assert "无变化" in run_cli("quarantine", "reprocess", str(row["id"]), config=cfg).stdout
    out = run_cli("quarantine", "release", str(row["id"]), config=cfg).stdout
    assert "已放行" in out
    (row,) = json.loads(run_cli("submissions", "--json", config=cfg).stdout)
    assert row["status"] == "accepted" and row["school"] == "四川警察学院"
    assert row["attachments"] and all((tmp_path / "data" / a["path"]).is_file()
                                      for a in row["attachments"])
    assert any(e["rule"] == "status.released" for e in row["evidence"])
    again = run_cli("quarantine", "release", str(row["id"]), config=cfg, check=False)
    assert again.returncode == 1 and "不是已隔离的邮件" in again.stderr


def test_a_broken_rules_file_is_one_clear_error(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules, ignore=shutil.ignore_patterns("roster.toml"))
    (rules / "links.toml").write_text("[[platform]\nname = 1\n", encoding="utf-8")
    cfg = write_config(tmp_path / "c.toml", None, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}", extra=f'[rules]\ndir = "{rules}"')
    proc = run_cli("reclassify", config=cfg, check=False)
    assert proc.returncode == 2 and "links.toml" in proc.stderr and "TOML 语法错误" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_reprocessing_keeps_a_mail_too_large_to_take_quarantined(tmp_path):
    """Only the header of a 2 MB mail was kept (max_message_mb = 1): reprocessing has
    nothing to judge, so it stays quarantined, as release refuses it."""
    cfg = write_config(tmp_path / "c.toml", None, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}", max_message_mb=1)
    big = EmailMessage()
    big["From"], big["To"], big["Subject"] = "houqin@scu.edu.cn", "contact@scgxhq.test", "四川大学新闻"
    big["Message-ID"] = "<big@scu.edu.cn>"
    big.set_content("新闻稿及照片见附件。四川大学后勤保障部")
    big.add_attachment(bytes(range(256)) * 8192, maintype="image", subtype="jpeg",
                       filename="合影.jpg")
    (tmp_path / "big.eml").write_bytes(big.as_bytes())
    run_cli("import", str(tmp_path / "big.eml"), config=cfg)
    (row,) = json.loads(run_cli("submissions", "--json", config=cfg).stdout)
    assert row["status"] == "quarantined" and "邮件过大" in row["status_reason"]
    run_cli("quarantine", "reprocess", str(row["id"]), config=cfg)
    run_cli("reclassify", "--all", config=cfg)
    (after,) = json.loads(run_cli("submissions", "--json", config=cfg).stdout)
    assert (after["status"], after["status_reason"]) == (row["status"], row["status_reason"])
