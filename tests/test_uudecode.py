"""Files uuencoded into a mail's text (Outlook Express, old Foxmail): taken out as files."""

from __future__ import annotations

import binascii
import json

import pytest
from conftest import DATA, run_cli, write_config

from mailbot.uudecode import take_uuencoded

FILE = bytes(range(256)) * 4 + "活动方案".encode()


def encode(data: bytes, backtick: bool = False) -> list[str]:
    return [binascii.b2a_uu(data[i:i + 45], backtick=backtick).decode().rstrip("\n")
            for i in range(0, len(data), 45)] + ["`" if backtick else " "]


def test_a_block_comes_out_and_the_text_around_it_stays():
    text = "\n".join(["老师好，方案见附件。", "begin 644 活动 方案.doc", *encode(FILE), "end",
                      "成都大学后勤处"])
    rest, files = take_uuencoded(text)
    assert rest == "老师好，方案见附件。\n成都大学后勤处"
    assert files == [("活动 方案.doc", FILE)]


def test_two_blocks_backticks_and_lines_whose_trailing_spaces_were_dropped():
    stripped = [line.rstrip(" ") for line in encode(FILE)]
    text = "\n".join(["begin 666 a.bin", *encode(b"first", backtick=True), "end",
                      "begin 0644 b.bin", *stripped, "end  "])
    assert take_uuencoded(text) == ("", [("a.bin", b"first"), ("b.bin", FILE)])


@pytest.mark.parametrize("text", [
    "我们 begin 644 活动 吧",                                   # not at a line start
    "begin 644 a.doc\n这不是 uuencode\nend",                    # a line that is not uuencode
    "begin 644 a.doc\n" + "\n".join(encode(FILE)),              # no end
    "begin 999 a.doc\n" + "\n".join(encode(FILE)) + "\nend",    # not an octal mode
    "begin 644 \n" + "\n".join(encode(FILE)) + "\nend",          # no name
    "begin 644 a.doc\nM" + "A" * 80 + "\nend",                   # longer than its count says
    "begin 644 \x1b\x07\n" + "\n".join(encode(FILE)) + "\nend",  # a name of control characters
])
def test_what_is_not_a_whole_block_stays_text(text):
    assert take_uuencoded(text) == (text, [])


def test_a_file_name_keeps_no_control_characters():
    """A name in ISO-2022 from a body without a charset keeps its ESC bytes when read as
    ASCII; the spreadsheet of a digest refuses control characters, so they are dropped."""
    name = "方案.doc".encode("iso2022_jp_2").decode("ascii")
    text = "\n".join(["附件", f"begin 644 {name}", *encode(b"hello"), "end"])
    ((filed, data),) = take_uuencoded(text)[1]
    assert data == b"hello" and filed == name.replace("\x1b", "")
    assert filed.isprintable()


def test_many_begin_lines_and_no_end_are_read_once():
    """Each ``begin`` looks no further than the first line that is not uuencode: a text of
    100,000 of them is passed over line by line, as text."""
    text = "begin 644 a.doc\n" * 100_000 + "M" + "0" * 60
    assert take_uuencoded(text) == (text, [])


def test_an_outlook_express_mail_imports_with_its_file_filed(tmp_path, db_url):
    """Through the pipeline: the uuencoded plan is filed as the mail's attachment (the
    .eml fixture of tests/test_parse.py) and read as a plan."""
    data = tmp_path / "data"
    cfg = write_config(tmp_path / "c.toml", None, data, db_url)
    run_cli("import", str(DATA / "outlook_express_uuencode.eml"), config=cfg)
    (row,) = json.loads(run_cli("submissions", "--json", config=cfg).stdout)
    (att,) = row["attachments"]
    assert att["filename"] == "成都大学后勤处活动方案.docx"
    assert (data / att["path"]).read_bytes()[:2] == b"PK"
    assert row["school"] == "成都大学" and "plan" in row["kinds"]
