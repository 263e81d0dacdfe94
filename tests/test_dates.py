"""Dates of mail as Chinese clients and campus systems write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from mailbot.dates import mail_date, received_time
from mailbot.parse import parse_message

CST = timezone(timedelta(hours=8))


@pytest.mark.parametrize("value, expected, note", [
    ("Wed, 10 Jul 2024 15:15:00 +0800", datetime(2024, 7, 10, 15, 15, tzinfo=CST), None),
    ("Wed Jul 10 15:15:00 CST 2024", datetime(2024, 7, 10, 15, 15, tzinfo=CST), "CST"),
    ("Wed, 10 Jul 2024 15:15:00", datetime(2024, 7, 10, 15, 15, tzinfo=CST), "no time zone"),
    ("2024-07-10T15:15:00+08:00", datetime(2024, 7, 10, 15, 15, tzinfo=CST), None),
    ("2024年7月10日 星期三 下午3:15", datetime(2024, 7, 10, 15, 15, tzinfo=CST), "Chinese"),
    ("2024年7月10日 上午9：05：30", datetime(2024, 7, 10, 9, 5, 30, tzinfo=CST), "Chinese"),
    ("2024年7月10日", datetime(2024, 7, 10, tzinfo=CST), "Chinese"),
])
def test_date_fields_as_they_come(value, expected, note):
    notes: list[str] = []
    got = mail_date(value, notes=notes)
    assert got == expected and got.tzinfo is not None
    assert (note is None and notes == []) or any(note in n for n in notes)


def test_an_unreadable_date_falls_back_to_the_newest_received_field():
    received = ["from mx.qq.com by imap.scgxhq.cn; Wed, 10 Jul 2024 07:15:03 +0000 (UTC)",
                "from [10.0.0.2] by smtp.qq.com; Wed, 10 Jul 2024 07:14:59 +0000"]
    notes: list[str] = []
    got = mail_date("星期三 下午", received, notes=notes)
    assert got == datetime(2024, 7, 10, 7, 15, 3, tzinfo=UTC)
    assert any("unparseable" in n for n in notes) and any("Received" in n for n in notes)
    assert mail_date("", received) == got
    assert mail_date("", ["from x by y"]) is None and received_time(["no stamp;"]) is None
    assert mail_date("2024年13月40日 下午3:15") is None  # not a day: no time rather than a wrong one


def test_a_mail_with_a_chinese_date_is_dated_when_written_not_when_imported():
    raw = ("Received: from smtp.163.com by mx; Thu, 11 Jul 2024 01:00:00 +0000\r\n"
           "From: hq@example.edu.cn\r\nSubject: 新闻稿\r\n"
           "Date: 2024年7月10日 星期三 下午3:15\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\n新闻稿见附件\r\n").encode()
    assert parse_message(raw).date == datetime(2024, 7, 10, 15, 15, tzinfo=CST)
    undated = raw.replace("Date: 2024年7月10日 星期三 下午3:15\r\n".encode(), b"")
    assert parse_message(undated).date == datetime(2024, 7, 11, 1, 0, tzinfo=UTC)


def test_odd_dates_within_bounds():
    """上午12:15 is a quarter past midnight; a Received field without a stamp is passed
    over; a Date of 2024年7月10日 followed by thousands of blanks is read (as the day) in
    one pass, not in time growing with the square of its length."""
    assert mail_date("2024年7月10日 上午12:15") == datetime(2024, 7, 10, 0, 15, tzinfo=CST)
    assert received_time(["from a by b;", "from c by d; Wed, 10 Jul 2024 07:15:03 +0000"]) == \
        datetime(2024, 7, 10, 7, 15, 3, tzinfo=UTC)
    assert mail_date("2024年7月10日" + "\u00a0" * 50_000 + "x") == datetime(2024, 7, 10, tzinfo=CST)
