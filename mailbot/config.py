"""Configuration: one TOML file -> frozen dataclasses, validated once.

:func:`load` reads the file, applies the environment overrides
(``MAILBOT_DATA_DIR``, ``MAILBOT_DATABASE_URL``) and either returns a
:class:`Config` or raises :class:`~mailbot.errors.ConfigError` listing *every*
problem found.  Secrets are never read from the file: passwords come from
``MAILBOT_IMAP_PASSWORD`` / ``MAILBOT_SMTP_PASSWORD`` via :func:`secret`.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError
from .settings import (  # the dataclasses, imported from here by the rest of mailbot
    BUNDLED_RULES,
    Campaign,
    Config,
    Contact,
    DigestSettings,
    District,
    Mailbox,
    Phase,
    Receipts,
    Retention,
    Secretariat,
    Smtp,
    Storage,
)
from .validate import Checker

SECURITY = ("tls", "starttls", "plain")
ACTIONS = ("seen", "move", "none")
KINDS = ("plan", "news", "video")


# Known providers: (IMAP host, port, security), (SMTP host, port, security), notes.
PROVIDERS: dict[str, tuple[tuple[str, int, str], tuple[str, int, str]]] = {
    "qq": (("imap.qq.com", 993, "tls"), ("smtp.qq.com", 465, "tls")),
    "163": (("imap.163.com", 993, "tls"), ("smtp.163.com", 465, "tls")),
    "126": (("imap.126.com", 993, "tls"), ("smtp.126.com", 465, "tls")),
    "exmail": (("imap.exmail.qq.com", 993, "tls"), ("smtp.exmail.qq.com", 465, "tls")),
    "outlook": (("outlook.office365.com", 993, "tls"), ("smtp.office365.com", 587, "starttls")),
    "coremail": (("", 993, "tls"), ("", 465, "tls")),   # campus Coremail: give host
    "custom": (("", 993, "tls"), ("", 465, "tls")),
}


def default_path() -> Path:
    """The config path: ``$MAILBOT_CONFIG`` if set, else ``./config.toml``."""
    return Path(os.environ.get("MAILBOT_CONFIG") or "config.toml")


def secret(name: str) -> str:
    """Return the secret in environment variable *name* ("" when unset)."""
    return os.environ.get(name, "")


def _fields(cls) -> set[str]:
    return set(cls.__dataclass_fields__)


def _mailbox(c: Checker, t: dict) -> Mailbox:
    c.unknown(t, "mailbox", _fields(Mailbox))
    folders = c.get(t, "mailbox", "folders", list, ["INBOX"])
    if not folders or not all(isinstance(f, str) and f for f in folders):
        c.fail("mailbox.folders", "应为非空的文件夹名列表 (expected a list of folder names)")
        folders = ["INBOX"]
    provider = c.get(t, "mailbox", "provider", str, "custom", choices=tuple(PROVIDERS))
    (host, port, security), _ = PROVIDERS[provider]
    mb = Mailbox(
        provider=provider,
        host=c.get(t, "mailbox", "host", str, host, required=not host),
        username=c.get(t, "mailbox", "username", str, "", required=True),
        port=c.get(t, "mailbox", "port", int, port),
        security=c.get(t, "mailbox", "security", str, security, choices=SECURITY),
        ca_file=c.get(t, "mailbox", "ca_file", str, ""),
        folders=tuple(folders),
        processed_action=c.get(t, "mailbox", "processed_action", str, "seen", choices=ACTIONS),
        processed_folder=c.get(t, "mailbox", "processed_folder", str, "mailbot已处理"),
        batch_size=c.get(t, "mailbox", "batch_size", int, 50),
        poll_interval_seconds=c.get(t, "mailbox", "poll_interval_seconds", int, 120),
        max_message_mb=c.get(t, "mailbox", "max_message_mb", int, 50),
        workers=c.get(t, "mailbox", "workers", int, None),
    )
    if mb.workers is not None and not 0 <= mb.workers <= 16:
        c.fail("mailbox.workers", "应在 0 到 16 之间，0 = 不用工作进程 (must be 0..16)")
    if not 0 < mb.port < 65536:
        c.fail("mailbox.port", f"端口 {mb.port} 无效 (bad port)")
    if mb.batch_size < 1:
        c.fail("mailbox.batch_size", "应至少为 1 (must be >= 1)")
    if mb.max_message_mb < 1:
        c.fail("mailbox.max_message_mb", "应至少为 1（单位 MB）(must be >= 1)")
    if mb.poll_interval_seconds < 1:
        c.fail("mailbox.poll_interval_seconds", "应至少为 1 (must be >= 1)")
    if mb.processed_action == "move" and not mb.processed_folder:
        c.fail("mailbox.processed_folder", "processed_action = \"move\" 时必须填写")
    if mb.ca_file and not _resolve(c.path, mb.ca_file).is_file():
        c.fail("mailbox.ca_file", f"找不到证书文件 {mb.ca_file} (file not found)")
    return mb


def _smtp(c: Checker, t: dict, mailbox: Mailbox) -> Smtp:
    """[smtp]; host, port and security default to the mailbox provider's, the
    login and sender address to the mailbox's."""
    c.unknown(t, "smtp", _fields(Smtp))
    (host, port, security) = PROVIDERS[mailbox.provider][1]
    defaults = {"host": host, "port": port, "security": security,
                "username": mailbox.username, "from_address": mailbox.username}
    s = Smtp(**{k: c.get(t, "smtp", k, int if k == "port" else str,
                         defaults.get(k, getattr(Smtp, k)),
                         choices=SECURITY if k == "security" else ())
                for k in _fields(Smtp)})
    if s.ca_file and not _resolve(c.path, s.ca_file).is_file():
        c.fail("smtp.ca_file", f"找不到证书文件 {s.ca_file} (file not found)")
    return s


def _resolve(base: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base.parent / p)


def _storage(c: Checker, t: dict) -> Storage:
    c.unknown(t, "storage", {"data_dir", "database_url"})
    env_dir = os.environ.get("MAILBOT_DATA_DIR")
    data_dir = env_dir or c.get(t, "storage", "data_dir", str, "data")
    data_dir = _resolve(c.path, data_dir).resolve()
    blocker = next((p for p in (data_dir, *data_dir.parents) if os.path.exists(p)), data_dir)
    if os.path.exists(blocker) and not os.path.isdir(blocker):
        what = "它" if blocker == data_dir else f"路径中的 {blocker} "
        problem = (f"数据目录 {data_dir} 无法使用：{what}是一个文件，不是目录；请改为一个目录的路径 "
                   "(data dir is under a regular file)")
        if env_dir:
            c.env("MAILBOT_DATA_DIR", problem)
        else:
            c.fail("storage.data_dir", problem)
    env_url = os.environ.get("MAILBOT_DATABASE_URL")
    url = env_url or c.get(t, "storage", "database_url", str, "")
    if not url:
        url = f"sqlite:///{data_dir / 'mailbot.sqlite3'}"
    elif not url.startswith(("sqlite", "postgresql")):
        problem = "只支持 sqlite 与 postgresql (only sqlite/postgresql URLs)"
        if env_url:
            c.env("MAILBOT_DATABASE_URL", f"{problem}，实为 {url.partition(':')[0]}:…")
        else:
            c.fail("storage.database_url", problem)
    return Storage(data_dir=data_dir, database_url=url)


def _campaign(c: Checker, t: dict) -> Campaign:
    c.unknown(t, "campaign", _fields(Campaign))
    phases = []
    items = t.get("phases", [])
    if not isinstance(items, list) or not all(isinstance(p, dict) for p in items):
        c.fail("campaign.phases", "应写成 [[campaign.phases]] 表数组，每个阶段一个 "
               "(expected an array of tables)")
        items = []
    for i, p in enumerate(items):
        prefix = f"campaign.phases[{i}]"
        c.unknown(p, prefix, _fields(Phase))
        phases.append(Phase(
            kind=c.get(p, prefix, "kind", str, "plan", required=True, choices=KINDS),
            name=c.get(p, prefix, "name", str, ""),
            opens=c.day(p, prefix, "opens"), due=c.day(p, prefix, "due"),
            description=c.get(p, prefix, "description", str, "")))
        if phases[-1].opens and phases[-1].due and phases[-1].opens > phases[-1].due:
            c.fail(prefix, "opens 晚于 due (opens after due)")
    tz = c.get(t, "campaign", "timezone", str, "Asia/Shanghai")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        c.fail("campaign.timezone", f"未知时区 {tz!r} (unknown time zone)")
        tz = "Asia/Shanghai"
    campaign = Campaign(name=c.get(t, "campaign", "name", str, ""),
                        notice=c.get(t, "campaign", "notice", str, ""),
                        year=c.get(t, "campaign", "year", int, 0), timezone=tz,
                        starts=c.day(t, "campaign", "starts"), ends=c.day(t, "campaign", "ends"),
                        phases=tuple(phases))
    if campaign.starts and campaign.ends and campaign.starts > campaign.ends:
        c.fail("campaign.ends", "早于 starts (ends before starts)")
    return campaign


def _secretariat(c: Checker, t: dict) -> Secretariat:
    c.unknown(t, "secretariat", _fields(Secretariat))
    contacts = tuple(Contact(name=str(x.get("name", "")), phone=str(x.get("phone", "")))
                     for x in t.get("contacts", []) if isinstance(x, dict))
    email = c.get(t, "secretariat", "email", str, "")
    return Secretariat(name=c.get(t, "secretariat", "name", str, ""), contacts=contacts,
                       email=c.address("secretariat.email", email))


def _districts(c: Checker, items: Any) -> tuple[District, ...]:
    if not isinstance(items, list):
        c.fail("districts", "应为 [[districts]] 数组 (expected an array of tables)")
        return ()
    out = []
    for i, d in enumerate(items):
        prefix = f"districts[{i}]"
        c.unknown(d, prefix, _fields(District))
        out.append(District(**{k: c.get(d, prefix, k, str, "", required=(k == "name"))
                               for k in _fields(District)}))
        c.address(f"{prefix}.email", out[-1].email)
    for key, what in (("name", "片区名"), ("lead_school", "组长单位")):
        values = [getattr(d, key) for d in out if getattr(d, key)]
        for n in sorted({n for n in values if values.count(n) > 1}):
            c.fail("districts", f"{what}重复：{n} (duplicate {key})")
    return tuple(out)


def _receipts(c: Checker, t: dict) -> Receipts:
    c.unknown(t, "receipts", _fields(Receipts))
    r = Receipts(enabled=c.get(t, "receipts", "enabled", bool, True),
                 prefix=c.get(t, "receipts", "prefix", str, "JLX"),
                 per_hour=c.get(t, "receipts", "per_hour", int, 5),
                 per_day=c.get(t, "receipts", "per_day", int, 20),
                 template_dir=c.get(t, "receipts", "template_dir", str, ""))
    if not re.fullmatch(r"[A-Za-z]{0,16}", r.prefix):  # replies quote it: _NUMBER reads letters
        c.fail("receipts.prefix", f"“{r.prefix}”无效：只能用英文字母（最多 16 个），如 JLX "
                                  "(letters only: a reply's subject must be recognised)")
    if r.per_hour < 1:
        c.fail("receipts.per_hour", "至少为 1 (must be at least 1)")
    elif r.per_day < r.per_hour:
        c.fail("receipts.per_day", "应不小于 per_hour (limits out of order)")
    if r.template_dir and not _resolve(c.path, r.template_dir).is_dir():
        c.fail("receipts.template_dir", f"找不到模板目录 {r.template_dir} (folder not found)")
    return r


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _digest(c: Checker, t: dict) -> DigestSettings:
    c.unknown(t, "digest", _fields(DigestSettings))
    cc = c.get(t, "digest", "cc", list, [])
    d = DigestSettings(enabled=c.get(t, "digest", "enabled", bool, True),
                       day_of_week=c.get(t, "digest", "day_of_week", str, "mon", choices=DAYS),
                       time=c.get(t, "digest", "time", str, "09:00"),
                       reminder_days_before=c.get(t, "digest", "reminder_days_before", int, 7),
                       cc=tuple(c.address("digest.cc", str(x)) for x in cc),
                       attach_limit_mb=c.get(t, "digest", "attach_limit_mb", int, 20),
                       template_dir=c.get(t, "digest", "template_dir", str, ""))
    hour, _, minute = d.time.partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        c.fail("digest.time", f"时间 {d.time!r} 无效，应为 HH:MM (bad time)")
    return d


def _retention(c: Checker, t: dict) -> Retention:
    """[retention]: each value a whole number of days >= 0 (0 = keep forever)."""
    c.unknown(t, "retention", _fields(Retention))
    days = {}
    for key in _fields(Retention):
        value = t.get(key, getattr(Retention, key))
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            c.fail(f"retention.{key}", f"应为天数（不小于 0 的整数，0 = 永久保留），实为 {value!r} "
                                       "(expected a whole number of days >= 0)")
            value = getattr(Retention, key)
        days[key] = value
    return Retention(**days)


def _rules_dir(c: Checker, t: dict) -> Path:
    c.unknown(t, "rules", {"dir"})
    value = c.get(t, "rules", "dir", str, "")
    folder = _resolve(c.path, value).resolve() if value else BUNDLED_RULES
    if not (folder / "schools.toml").is_file():
        c.fail("rules.dir", f"规则目录 {folder} 中没有 schools.toml (no rules there)")
    return folder


def roster_file(cfg: Config, writing: bool = False) -> Path:
    """Where ``mailbot schools import`` writes the roster (*writing*) and the rules read
    it: beside the secretariat's own rules (``[rules] dir``), else in the data dir — never
    into the rules shipped with mailbot, which an upgrade replaces.  A roster an earlier
    mailbot wrote there is still read until the next import writes the data dir's."""
    if cfg.rules_dir != BUNDLED_RULES:
        return cfg.rules_dir / "roster.toml"
    target, legacy = Path(cfg.storage.data_dir) / "roster.toml", BUNDLED_RULES / "roster.toml"
    return legacy if not writing and not target.exists() and legacy.exists() else target


def missing_data_dir(cfg: Config) -> str:
    """What to do about a data dir that does not exist ("" when it does).  mailbot never
    creates it: a mistyped path would bring a new, empty database, and the next poll
    would record the whole mailbox again and send every receipt a second time."""
    folder = cfg.storage.data_dir
    if os.path.isdir(folder):
        return ""
    source = "环境变量 MAILBOT_DATA_DIR" if os.environ.get("MAILBOT_DATA_DIR") else \
        f"{cfg.path} 中的 storage.data_dir"
    return (f"数据目录 {folder} 不存在（{source}）。首次使用请先创建：mkdir -p {folder}；"
            f"若是路径写错了，请改正 {source}——mailbot 不会自行新建数据目录，以免在空数据库里"
            "把邮箱中的邮件重新登记、回执再发一遍 (data dir does not exist)")


def read_toml(path: Path) -> dict:
    """Parse the TOML file at *path*; any failure is a :class:`ConfigError` naming the file."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: 找不到文件 (file not found)"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError([f"{path}: 无法读取 (unreadable): {e}"]) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{path}: TOML 语法错误 (syntax error): {e}"]) from None


def load(path: Path | str | None = None) -> Config:
    """Read and validate the config at *path* (default :func:`default_path`).

    Raises :class:`ConfigError` with every problem found; never returns a
    partially valid config.
    """
    path = Path(path) if path else default_path()
    c = Checker(path)
    if not path.is_file():
        hint = "可复制 config.example.toml 或设置 MAILBOT_CONFIG"
        raise ConfigError([f"{path}: 找不到配置文件 (file not found); {hint}"])
    data = read_toml(path)
    c.unknown(data, "", {"mailbox", "smtp", "storage", "campaign", "secretariat", "districts",
                         "rules", "receipts", "digest", "retention"})
    mailbox = _mailbox(c, c.table(data, "mailbox"))
    cfg = Config(path=path.resolve(),
                 mailbox=mailbox,
                 smtp=_smtp(c, c.table(data, "smtp"), mailbox),
                 storage=_storage(c, c.table(data, "storage")),
                 campaign=_campaign(c, c.table(data, "campaign")),
                 secretariat=_secretariat(c, c.table(data, "secretariat")),
                 districts=_districts(c, data.get("districts", [])),
                 rules_dir=_rules_dir(c, c.table(data, "rules")),
                 receipts=_receipts(c, c.table(data, "receipts")),
                 digest=_digest(c, c.table(data, "digest")),
                 retention=_retention(c, c.table(data, "retention")))
    if c.problems:
        raise ConfigError(c.problems)
    return cfg


def resolve_file(cfg: Config, value: str) -> Path:
    """Resolve a path from the config relative to the config file's folder."""
    return _resolve(cfg.path, value)
