"""mailbot import reads .eml files, mbox files and Maildir folders."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage

import pytest

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
