"""What a configuration is: the frozen dataclasses :mod:`mailbot.config` fills from the
TOML file (and checks), with their defaults.  No reading, no validation here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

BUNDLED_RULES = Path(__file__).resolve().parent.parent / "rules"


@dataclass(frozen=True)
class Mailbox:
    host: str
    username: str
    provider: str = "custom"
    port: int = 993
    security: str = "tls"
    ca_file: str = ""
    folders: tuple[str, ...] = ("INBOX",)
    processed_action: str = "seen"
    processed_folder: str = "mailbot已处理"
    batch_size: int = 50
    poll_interval_seconds: int = 120
    max_message_mb: int = 50
    workers: int | None = None  # processes preparing a large poll; None: one per CPU (≤ 4)


@dataclass(frozen=True)
class Smtp:
    host: str = ""
    port: int = 465
    security: str = "tls"
    username: str = ""
    from_address: str = ""
    from_name: str = ""
    ca_file: str = ""


@dataclass(frozen=True)
class Storage:
    data_dir: Path
    database_url: str


@dataclass(frozen=True)
class Phase:
    kind: str
    name: str
    opens: date | None = None
    due: date | None = None
    description: str = ""


@dataclass(frozen=True)
class Campaign:
    name: str = ""
    notice: str = ""
    year: int = 0
    timezone: str = "Asia/Shanghai"
    starts: date | None = None
    ends: date | None = None
    phases: tuple[Phase, ...] = ()


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str = ""


@dataclass(frozen=True)
class Secretariat:
    name: str = ""
    email: str = ""
    contacts: tuple[Contact, ...] = ()


@dataclass(frozen=True)
class District:
    name: str
    lead_school: str = ""
    lead_unit: str = ""
    contact: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class Receipts:
    enabled: bool = True
    prefix: str = "JLX"
    per_hour: int = 5
    per_day: int = 20
    template_dir: str = ""


@dataclass(frozen=True)
class DigestSettings:
    enabled: bool = True
    day_of_week: str = "mon"
    time: str = "09:00"
    reminder_days_before: int = 7
    cc: tuple[str, ...] = ()
    attach_limit_mb: int = 20
    template_dir: str = ""


@dataclass(frozen=True)
class Retention:
    """Days each kind of record keeps its files (0 = forever); see mailbot/retention.py."""
    outbox_days: int = 90
    ignored_days: int = 30
    quarantine_days: int = 0
    submissions_days: int = 0


@dataclass(frozen=True)
class Config:
    path: Path
    mailbox: Mailbox
    smtp: Smtp
    storage: Storage
    campaign: Campaign
    secretariat: Secretariat
    districts: tuple[District, ...] = field(default=())
    rules_dir: Path = BUNDLED_RULES
    receipts: Receipts = Receipts()
    digest: DigestSettings = DigestSettings()
    retention: Retention = Retention()
