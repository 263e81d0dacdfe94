"""The envelope every mail mailbot writes shares: sender, date, Message-ID, loop headers.

RFC 3834: ``Auto-Submitted`` (auto-replied for answers, auto-generated for
digests), ``Precedence: bulk``, ``X-Auto-Response-Suppress: All`` and an
``X-Loop`` naming our address, so robots do not answer us and we can spot
our own mail coming back.  Everything is written in UTF-8.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from zoneinfo import ZoneInfo

from .config import Config

# C0 and C1 controls (U+0085 ends a line) and U+2028/U+2029 (line and paragraph separators)
# become blanks; bidi embeddings, overrides and isolates (which make text display reversed) go.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_MSGID = re.compile(r"[!-;=?-~]+@[!-;=?-~]+")


def safe_subject(text: str) -> str:
    """A subject that folds and displays as written: C0/C1 controls and line/paragraph
    separators become blanks, bidi overrides are dropped, nothing looks like an encoded word."""
    return _BIDI.sub("", _CONTROL.sub(" ", text)).replace("=?", "=\u200b?").strip()


def safe_msgid(value: str | None) -> str | None:
    """The plain ``local@domain`` inside a (possibly garbled) Message-ID, or None."""
    m = _MSGID.search(value or "")
    return m.group(0) if m else None


def domain(cfg: Config) -> str:
    """The domain of our own address, for Message-IDs."""
    return (cfg.smtp.from_address or cfg.mailbox.username).rpartition("@")[2] or "mailbot"


def outgoing(cfg: Config, to: str, subject: str, local_id: str, now: datetime,
             auto: str = "auto-replied", replying_to: str | None = None) -> EmailMessage:
    """A new mail from us to *to*; Message-ID ``<local_id@our domain>`` (stable for retries);
    *replying_to* (a Message-ID without <>) threads it under the sender's mail."""
    mail = EmailMessage()
    mail["From"] = formataddr((cfg.smtp.from_name, cfg.smtp.from_address))
    mail["To"] = to
    mail["Subject"] = safe_subject(subject)
    mail["Date"] = format_datetime(now.astimezone(ZoneInfo(cfg.campaign.timezone)))
    mail["Message-ID"] = f"<{local_id}@{domain(cfg)}>"
    if replying_to := safe_msgid(replying_to):
        mail["In-Reply-To"] = f"<{replying_to}>"
        mail["References"] = f"<{replying_to}>"
    mail["Auto-Submitted"] = auto
    mail["Precedence"] = "bulk"
    mail["X-Auto-Response-Suppress"] = "All"
    mail["X-Loop"] = cfg.smtp.from_address or domain(cfg)
    return mail
