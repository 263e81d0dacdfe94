"""One exception hierarchy for mailbot.

Every error a user can meet is a :class:`MailbotError` whose message is one
clear sentence (Chinese first, English after), so the CLI can print it without
a traceback.
"""


class MailbotError(Exception):
    """Base class of every error mailbot reports to its user."""


class ConfigError(MailbotError):
    """The configuration file is missing, unreadable or invalid.

    ``problems`` lists every problem found, each as ``file: key: what is wrong``.
    """

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("配置有误 (invalid config):\n" + "\n".join(f"  - {p}" for p in problems))


class MailServerError(MailbotError):
    """An IMAP or SMTP server could not be reached, refused the login, or failed a command."""


class FolderError(MailServerError):
    """The IMAP server refused one configured folder (missing, renamed, no access); the
    connection and the other folders are fine."""


class StorageError(MailbotError):
    """The data directory or the database cannot be used."""


class ImportSourceError(MailbotError):
    """A path given to ``mailbot import`` is not an .eml file, an mbox file or a Maildir."""


_OS_ZH = {"ENOENT": "不存在", "ENOTDIR": "路径中有一段不是目录", "EISDIR": "这是一个目录",
          "EACCES": "没有权限", "EPERM": "没有权限", "EROFS": "只读文件系统",
          "ENOSPC": "磁盘已满", "EDQUOT": "超出磁盘配额", "EEXIST": "已存在"}


def file_problem(e: OSError) -> str:
    """One sentence for a file or directory that cannot be used:
    ``无法读写文件或目录：/x/y.xlsx（不存在）(No such file or directory)``."""
    import errno
    where = f"：{e.filename}" if e.filename else ""
    zh = _OS_ZH.get(errno.errorcode.get(e.errno or 0, ""), "")
    return f"无法读写文件或目录{where}（{zh or e.strerror or e}）" + \
        (f" ({e.strerror})" if zh and e.strerror else " (file error)")


_HINTS = (("database or disk is full", "磁盘已满"), ("no space left", "磁盘已满"),
          ("disk i/o error", "磁盘读写出错：磁盘是否已满？"),
          ("readonly database", "数据库只读：文件或磁盘是否只读？"),
          ("read-only file system", "磁盘只读"),
          ("unable to open database file", "打不开数据库文件：目录不存在、没有权限或磁盘只读？"))


def storage_hint(reason: str) -> str:
    """What a SQLite or disk failure usually means, as "（磁盘已满）" ("" if nothing known)."""
    low = reason.lower()
    return next((f"（{zh}）" for words, zh in _HINTS if words in low), "")
