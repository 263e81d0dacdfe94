"""Shared fixtures: the real local mail stack, real databases, real CLI runs."""

from __future__ import annotations

import json
import os
import shlex
import smtplib
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
MAILSTACK = ROOT / "scripts" / "mailstack"
PG_ADMIN_URL = os.environ.get("MAILBOT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _shell_env(text_: str) -> dict[str, str]:
    env = {}
    for token in shlex.split(text_, comments=True):
        if token == "export":
            continue
        key, sep, value = token.partition("=")
        if sep:
            env[key] = value
    return env


def pytest_configure(config) -> None:
    """Under pytest-xdist (``make test`` runs two workers) worker gwN, N > 0, gets a stack
    of its own: state in .mailstack-wN, ports shifted by 1000·N. Tests stop Dovecot, empty
    mailboxes and count receipts; two workers sharing one stack would see each other's."""
    n = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    if n:
        os.environ["MAILSTACK_NAME"] = f"w{n}"
        os.environ["MAILSTACK_PORT_OFFSET"] = str(
            int(os.environ.get("MAILSTACK_PORT_OFFSET") or 0) + 1000 * n)


# The longest test files (a minute of Dovecot outage, the benchmark...) start first under
# pytest-xdist, so that no worker is left running one of them alone at the end.
LONGEST_FIRST = ("test_outage.py", "test_bench.py", "test_outage_db.py", "test_bundles.py",
                 "test_receipts.py", "test_poll.py", "test_retention.py", "test_crash.py")


def pytest_collection_modifyitems(config, items) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: files stay whole


@pytest.fixture(scope="session")
def mailstack() -> dict[str, str]:
    """Start (if needed) the project's Dovecot + Postfix and return its `env` assignments."""
    subprocess.run([str(MAILSTACK), "start"], check=True, capture_output=True, timeout=180)
    out = subprocess.run([str(MAILSTACK), "env"], check=True, capture_output=True, text=True)
    env = _shell_env(out.stdout)
    os.environ.update(env)
    return env


def reset_mailbox(address: str) -> None:
    subprocess.run([str(MAILSTACK), "reset", address], check=True, capture_output=True,
                   timeout=60)


def deliver(stack: dict[str, str], raw: bytes, to: str | None = None) -> None:
    """Put *raw* byte-for-byte into a mailbox through Dovecot's LMTP."""
    rcpt = to or stack["MAILSTACK_CONTACT"]
    with smtplib.LMTP("127.0.0.1", int(stack["MAILSTACK_LMTP_PORT"])) as lmtp:
        lmtp.sendmail("sender@scu.edu.cn", [rcpt], raw)


def deliver_news(stack: dict[str, str], sender: str, count: int) -> None:
    """Deliver *count* short news mails from *sender* ("新闻稿 0", "新闻稿 1", ...) to the
    contact mailbox, each with its own Message-ID."""
    import uuid
    from email.message import EmailMessage
    for i in range(count):
        msg = EmailMessage()
        msg["From"], msg["To"] = sender, stack["MAILSTACK_CONTACT"]
        msg["Subject"], msg["Message-ID"] = f"新闻稿 {i}", f"<{uuid.uuid4().hex}@scu.edu.cn>"
        msg.set_content("四川大学后勤新闻稿。" * 5)
        deliver(stack, msg.as_bytes())


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    """A fresh empty database: SQLite in tmp_path, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mailbot.sqlite3'}"
        return
    yield request.getfixturevalue("pg_url")


@pytest.fixture
def pg_url() -> str:
    """A new, empty PostgreSQL schema on the server at 127.0.0.1:5432, dropped afterwards."""
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(PG_ADMIN_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def write_config(path: Path, stack: dict[str, str] | None, data_dir: Path, db: str,
                 receipts: bool | dict = False, extra: str = "", **mailbox) -> Path:
    """A config file aimed at the local stack (or at nothing when *stack* is None);
    *mailbox* keys override the [mailbox] settings; *receipts* turns receipts on (a dict
    also sets [receipts] keys); *extra* is appended TOML."""
    limits = "".join(f"{k} = {v}\n" for k, v in (receipts.items() if isinstance(receipts, dict)
                                                  else ()))
    settings = {"host": "localhost", "port": int(stack["MAILSTACK_IMAPS_PORT"]) if stack else 1,
                "security": "tls", "ca_file": stack["MAILSTACK_CA_FILE"] if stack else "",
                "username": stack["MAILSTACK_CONTACT"] if stack else "contact@scgxhq.test"}
    settings.update(mailbox)
    data_dir.mkdir(parents=True, exist_ok=True)  # mailbot never creates it
    lines = "\n".join(f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in settings.items())
    path.write_text(f"""
[mailbox]
{lines}

[smtp]
host = "localhost"
port = {stack["MAILSTACK_SMTP_PORT"] if stack else 1}
security = "starttls"
username = "{settings['username']}"
from_address = "{settings['username']}"
from_name = "四川省高校后勤协会思政会秘书处"
ca_file = "{settings['ca_file']}"

[receipts]
enabled = {"true" if receipts else "false"}
{limits}
[storage]
data_dir = "{data_dir}"
database_url = "{db}"

[campaign]
name = "测试活动"
timezone = "Asia/Shanghai"
year = 2024
{extra}
""", encoding="utf-8")
    return path


@pytest.fixture
def school_desk(mailstack, tmp_path, db_url) -> tuple[dict[str, str], Path]:
    """The stack with the contact mailbox and 四川大学's (houqin@scu.edu.cn) emptied, and a
    config with receipts on, over SQLite and PostgreSQL."""
    for user in (mailstack["MAILSTACK_CONTACT"], "houqin@scu.edu.cn"):
        reset_mailbox(user)
    return mailstack, write_config(tmp_path / "c.toml", mailstack, tmp_path / "data", db_url,
                                   receipts=True)


def run_cli(*args: str, config: Path | None = None, env: dict | None = None,
            check: bool = True) -> subprocess.CompletedProcess:
    """Run the real `mailbot` command line in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    cmd = [sys.executable, "-m", "mailbot.cli"]
    if config:
        cmd += ["--config", str(config)]
    proc = subprocess.run(cmd + list(args), capture_output=True, text=True, env=full_env,
                          timeout=300, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"mailbot {' '.join(args)} exited {proc.returncode}:\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


def pdf_file(objs: list[bytes], header: bytes = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n") -> bytes:
    """A PDF of the numbered object bodies *objs* (1 is the catalog), with its xref table."""
    out, offsets = bytearray(header), []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)
