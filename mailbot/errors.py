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


class StorageError(MailbotError):
    """The data directory or the database cannot be used."""


class ImportSourceError(MailbotError):
    """A path given to ``mailbot import`` is not an .eml file, an mbox file or a Maildir."""
