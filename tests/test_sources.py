"""mailbot import reads .eml files, mbox files and Maildir folders."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage

import pytest
from conftest import ROOT

from mailbot.errors import ImportSourceError
from mailbot.sources import iter_messages


def mail(n: int) -> EmailMessage:
    m = EmailMessage()
    m["From"] = "houqin@scu.edu.cn"
    m["Subject"] = f"news {n}"
    m["Message-ID"] = f"<m{n}@scu.edu.cn>"
    m.set_content(f"正文 {n}\nFrom the start of a line\n")
    return m


def test_eml_mbox_maildir_and_folders(tmp_path):
    (tmp_path / "one.eml").write_bytes(mail(1).as_bytes())
    box = mailbox.mbox(tmp_path / "box.mbox")
    for n in (2, 3):
        box.add(mail(n))
    box.flush()
    md = mailbox.Maildir(tmp_path / "md", create=True)
    for n in (4, 5):
        md.add(mail(n))
    got = list(iter_messages([tmp_path / "one.eml", tmp_path / "box.mbox", tmp_path / "md"]))
    subjects = [raw.split(b"Subject: ", 1)[1].split(b"\n", 1)[0].decode() for raw, _, _ in got]
    assert sorted(subjects) == ["news 1", "news 2", "news 3", "news 4", "news 5"]
    assert [s.split(":", 1)[0] for _, s, _ in got] == ["file", "mbox", "mbox", "maildir", "maildir"]
    nested = list(iter_messages([tmp_path]))
    assert len(nested) == 5


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(ImportSourceError, match="找不到"):
        list(iter_messages([tmp_path / "nope"]))


def test_oversized_file_yields_only_its_header(tmp_path):
    m = mail(9)
    m.add_attachment(b"x" * 300_000, maintype="video", subtype="mp4", filename="big.mp4")
    (tmp_path / "big.eml").write_bytes(m.as_bytes())
    ((raw, _, oversize),) = iter_messages([tmp_path / "big.eml"], max_size=100_000)
    assert oversize == (tmp_path / "big.eml").stat().st_size
    assert raw.endswith(b"\n\n") and b"Subject: news 9" in raw and b"big.mp4" not in raw
    ((raw, _, oversize),) = iter_messages([tmp_path / "big.eml"], max_size=None)
    assert oversize is None and b"big.mp4" in raw


def test_files_that_cannot_be_mail_are_refused_when_named_and_skipped_in_folders(tmp_path):
    """A roster .xlsx given to `import` by mistake records nothing (not a quarantined
    "mail" nobody can remove); a README beside the .eml files in a folder is skipped and
    named.  A broken mail, an Outlook .msg and an mbox still come through."""
    import openpyxl
    book = openpyxl.Workbook()
    book.active.append(["学校", "片区"])
    book.save(tmp_path / "名单.xlsx")
    (tmp_path / "empty.eml").write_bytes(b"")
    (tmp_path / "config.toml").write_text("[mailbox]\nhost = 'x'\n", encoding="utf-8")
    for name in ("名单.xlsx", "empty.eml", "config.toml"):
        with pytest.raises(ImportSourceError, match="不是邮件文件") as e:
            list(iter_messages([ROOT / "tests/data/netease163_gbk_subject.eml", tmp_path / name]))
        assert name in str(e.value)
    folder = tmp_path / "mail"
    folder.mkdir()
    (folder / "README.txt").write_text("这些是导出的邮件\n", encoding="utf-8")
    (folder / "a.eml").write_bytes(mail(1).as_bytes())
    (folder / "broken.eml").write_bytes((ROOT / "tests/data/garbage_headers_no_from.eml").read_bytes())
    (folder / "outlook.msg").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    (folder / "bom.eml").write_bytes(b"\xef\xbb\xbf\r\n" + mail(2).as_bytes())
    skipped: list = []
    got = list(iter_messages([folder], skipped=skipped))
    assert sorted(s.rsplit("/", 1)[1] for _, s, _ in got) == \
        ["a.eml", "bom.eml", "broken.eml", "outlook.msg"]
    assert skipped == [folder / "README.txt"]


def test_import_of_a_roster_by_mistake_says_so_and_records_nothing(tmp_path):
    from conftest import run_cli, write_config
    cfg = write_config(tmp_path / "c.toml", None, tmp_path / "data",
                       f"sqlite:///{tmp_path / 'db.sqlite3'}")
    (tmp_path / "名单.csv").write_text("学校,片区\n四川大学,成都第一片区\n", encoding="utf-8")
    proc = run_cli("import", str(tmp_path / "名单.csv"), config=cfg, check=False)
    assert proc.returncode == 1 and "不是邮件文件" in proc.stderr and "schools import" in proc.stderr
    assert run_cli("submissions", "--json", config=cfg).stdout.strip() == "[]"
