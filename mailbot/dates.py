"""When a mail was written, from its header as Chinese clients and servers write it (pure).

RFC 5322 dates first; then what campus systems and old clients send instead: "CST"
meaning China Standard Time, no zone at all (+08:00 assumed), ISO 8601, a Chinese
date such as "2024年7月10日 星期三 下午3:15"; and when the Date field cannot be read,
the time the first server received the mail (the newest ``Received`` field).
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8))
_CST = re.compile(r"(?<![A-Za-z])CST(?![A-Za-z])")  # China Standard Time here, not US Central
_CHINESE = re.compile(r"(\d{4})\s{0,3}年\s{0,3}(\d{1,2})\s{0,3}月\s{0,3}(\d{1,2})\s{0,3}日"
                      r"(?:\D{0,12}?(上午|中午|下午|晚上)?\s{0,3}(\d{1,2})\s{0,3}[:：]\s{0,3}(\d{2})"
                      r"(?:\s{0,3}[:：]\s{0,3}(\d{2}))?)?")  # gaps bounded: linear on any input
_AFTERNOON = ("下午", "晚上")


def mail_date(value: str, received: Sequence[str] = (), lenient: datetime | None = None,
              notes: list[str] | None = None) -> datetime | None:
    """The aware time of a Date field *value*, read as described above; *lenient* is
    another parser's reading (mail-parser's), tried after RFC 5322; *received* are the
    ``Received`` fields, newest first, used when nothing else gives a time.  What had to
    be assumed or recovered is appended to *notes*.  None when there is no time at all."""
    notes = notes if notes is not None else []
    parsed = _read(value, lenient, notes) if value else None
    if parsed is None and value:
        notes.append(f"date: unparseable {value!r}")
    if parsed is None:
        parsed = received_time(received)
        if parsed is not None:
            notes.append("date: taken from the newest Received field")
    if parsed is not None and parsed.tzinfo is None:
        notes.append("date: no time zone; assumed +08:00")
        parsed = parsed.replace(tzinfo=CHINA_TZ)
    return parsed


def received_time(received: Sequence[str]) -> datetime | None:
    """The time stamp after the last ";" of the newest ``Received`` field that has one."""
    for field in received:
        stamp = str(field).rpartition(";")[2].strip()
        try:
            return email.utils.parsedate_to_datetime(stamp)
        except (TypeError, ValueError, IndexError, OverflowError):
            continue
    return None


def _read(value: str, lenient: datetime | None, notes: list[str]) -> datetime | None:
    if _CST.search(value):  # e.g. Java's Date.toString() in campus OA systems
        value = _CST.sub("+0800", value)
        notes.append("date: CST read as China Standard Time (+08:00)")
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        pass
    if lenient is not None:
        return lenient
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        pass
    return _chinese(value, notes)


def _chinese(value: str, notes: list[str]) -> datetime | None:
    """"2024年7月10日 星期三 下午3:15" (+08:00), or None."""
    m = _CHINESE.search(value)
    if m is None:
        return None
    year, month, day, half, hour, minute, second = m.groups()
    hour = int(hour or 0)
    if half in _AFTERNOON and hour < 12:
        hour += 12
    elif half == "上午" and hour == 12:  # 上午12:15 is a quarter past midnight
        hour = 0
    try:
        moment = datetime(int(year), int(month), int(day), hour, int(minute or 0),
                          int(second or 0), tzinfo=CHINA_TZ)
    except ValueError:
        return None
    notes.append("date: written in Chinese; read as +08:00")
    return moment
