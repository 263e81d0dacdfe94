"""Reading a TOML table while collecting every problem (``file: key: what is wrong``)."""

from __future__ import annotations

import re
from datetime import date, datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Any

SECRET_KEYS = {"password", "passwd", "secret", "token", "authcode"}
_ADDRESS = re.compile(r"[!-?A-~]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")  # local@domain, ASCII


class Checker:
    """Collects problems as ``file: key: message`` while values are read."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[str] = []

    def fail(self, key: str, message: str) -> None:
        self.problems.append(f"{self.path}: {key}: {message}")

    def env(self, var: str, message: str) -> None:
        """A problem with environment variable *var* (it overrides the file's setting)."""
        self.problems.append(f"环境变量 {var}（优先于配置文件）: {message}")

    def address(self, key: str, value: str) -> str:
        """*value*, which must be an address a mail server takes: ``local@domain`` or
        ``名字 <local@domain>``, in ASCII (e.g. not "hqc@cdu.edu.cn 张老师")."""
        if value and not _ADDRESS.fullmatch(parseaddr(value)[1]):
            self.fail(key, f"邮箱地址 {value!r} 无效，应为 name@example.edu.cn 或 "
                           "“姓名 <name@example.edu.cn>” (bad e-mail address)")
        return value

    def get(self, table: dict, prefix: str, key: str, kind: type, default: Any = None,
            required: bool = False, choices: tuple = ()) -> Any:
        full = f"{prefix}.{key}" if prefix else key
        if key not in table:
            if required:
                self.fail(full, "缺少必填项 (missing required key)")
            return default
        value = table[key]
        if kind is int and isinstance(value, bool) or not isinstance(value, kind):
            self.fail(full, f"应为 {kind.__name__}，实为 {type(value).__name__} "
                            f"(expected {kind.__name__}, got {value!r})")
            return default
        if choices and value not in choices:
            self.fail(full, f"取值 {value!r} 无效，可选 {', '.join(map(str, choices))}")
            return default
        return value

    def day(self, table: dict, prefix: str, key: str) -> date | None:
        raw = table.get(key, "")
        if isinstance(raw, datetime):  # TOML 2024-06-25T08:00:00: a day is meant
            self.fail(f"{prefix}.{key}", f"{raw.isoformat()} 带有时刻；此处只写日期，如 "
                                         f"{raw.date().isoformat()} (a date, not a date-time)")
            return None
        if isinstance(raw, date):
            return raw
        if raw in ("", None):
            return None
        try:
            return date.fromisoformat(str(raw))
        except ValueError:
            self.fail(f"{prefix}.{key}", f"日期 {raw!r} 无效，应为 YYYY-MM-DD (bad date)")
            return None

    def table(self, data: dict, key: str) -> dict:
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.fail(key, "应为表 [section] (expected a table)")
            return {}
        return value

    def unknown(self, table: dict, prefix: str, known: set[str]) -> None:
        for key in table:
            full = f"{prefix}.{key}" if prefix else key
            if key.lower() in SECRET_KEYS:
                self.fail(full, "密码等机密不得写入配置文件，请用环境变量 "
                                "MAILBOT_IMAP_PASSWORD / MAILBOT_SMTP_PASSWORD (secrets only from env)")
            elif key not in known:
                self.fail(full, "未知配置项 (unknown key)")
