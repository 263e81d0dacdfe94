"""Outage suite, database side: the store fails under a running `mailbot run`.

* The SQLite database made read-only.  `chmod` would not do it: SQLite keeps its
  files open and a permission change only affects later opens (checked: writes
  through the open descriptors carry on), so the database file, its WAL and its
  directory are made immutable (`chattr +i`), which refuses every write, also
  through open descriptors and also to root — what a read-only remount does.
* A private PostgreSQL cluster (initdb + pg_ctl as the postgres user, on a free
  port; the shared server at 127.0.0.1:5432 is left alone) stopped with
  `pg_ctl stop -m fast` in the middle of a backlog, down for 3 s, started again.

Each time the daemon must log one clear sentence, keep running, leave the mail
unmarked in IMAP, lose nothing, and afterwards record every mail once and send
each receipt once.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from conftest import deliver
from test_outage import (
    SENDERS,
    assert_each_once,
    backlog,
    daemon_config,
    finished,
    news,
    running,
    stop,
    unseen,
    wait_for,
)
from test_receipts import inbox

pytestmark = pytest.mark.mailstack
# the recording of a mail refused, or (the WAL's shared memory unwritable) the poll's first read
STORAGE = re.compile(r"poll failed, retrying in \d+ s: (?:登记 imap:INBOX/\d+ 失败，邮件未登记，"
                     r"稍后重试 \(not recorded\)|收取邮件失败 \(poll failed\))：数据库或数据目录出错 "
                     r"\(storage error\): (\w+): (.+)")


def immutable(paths: list[Path], on: bool) -> None:
    subprocess.run(["chattr", "+i" if on else "-i", *map(str, paths)], check=True,
                   capture_output=True)


@pytest.fixture
def chattr(tmp_path):
    """Skip unless this filesystem supports the immutable attribute."""
    probe = tmp_path / "probe"
    probe.write_bytes(b"x")
    try:
        immutable([probe], True)
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"chattr +i is not supported here ({e}): cannot make the database "
                    "read-only for a root process")
    immutable([probe], False)


def receipts_in_mailboxes(stack: dict) -> int:
    return sum(len(inbox(stack, s, 10**6, timeout=0)) for s in SENDERS)


def test_sqlite_database_made_read_only_under_the_daemon(mailstack, tmp_path, chattr):
    dbdir = tmp_path / "db"
    dbdir.mkdir()
    cfg = daemon_config(mailstack, tmp_path, f"sqlite:///{dbdir / 'mailbot.sqlite3'}")
    log = tmp_path / "daemon.log"
    with running(cfg, log) as proc:
        mid, raw = news(0, "writable")
        deliver(mailstack, raw)
        mids = [mid]
        assert wait_for(lambda: finished(cfg, 1), 30, step=1)   # recorded, receipt sent
        locked = [p for p in (dbdir / "mailbot.sqlite3", dbdir / "mailbot.sqlite3-wal")
                  if p.exists()] + [dbdir]
        immutable(locked, True)
        try:
            mark = log.stat().st_size
            for i in range(1, 5):
                mid, raw = news(i, "readonly")
                deliver(mailstack, raw)
                mids.append(mid)

            def refused() -> int:
                with log.open("rb") as f:
                    f.seek(mark)
                    return len(STORAGE.findall(f.read().decode("utf-8", "replace")))

            assert wait_for(lambda: refused() >= 3, 40), "no clear storage error logged"
            assert proc.poll() is None                            # still running
            assert len(unseen(mailstack)) == 4                    # nothing marked processed
            assert receipts_in_mailboxes(mailstack) == 1          # no receipt for them yet
        finally:
            immutable(locked, False)
        rows = wait_for(lambda: finished(cfg, len(mids)), 60, step=1)
        assert rows, "the daemon did not catch up once the database was writable again"
        time.sleep(3)                                             # room for a duplicate
        assert_each_once(mailstack, rows, mids)
        assert unseen(mailstack) == []
        text = stop(proc, log)
    assert "Traceback" not in text
    kind, reason = STORAGE.search(text).groups()
    assert kind == "OperationalError" and ("I/O" in reason or "readonly" in reason), reason
    assert reason.endswith(("（数据库只读：文件或磁盘是否只读？）", "（磁盘读写出错：磁盘是否已满？）")), reason


# ------------------------------------------------------------------ PostgreSQL restarted
PG_BINS = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A throw-away PostgreSQL cluster run by the postgres user (initdb refuses root)."""

    def __init__(self, pg_ctl: Path):
        self.bin = pg_ctl.parent
        # under /tmp itself: pytest's tmp_path sits in a 0700 directory postgres cannot enter
        self.root = Path(tempfile.mkdtemp(prefix="mailbot-pg-"))
        shutil.chown(self.root, "postgres")
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.as_postgres(self.bin / "initdb", "-D", self.root / "data", "-A", "trust",
                         "-U", "postgres", "-E", "UTF8", "--no-sync")

    def as_postgres(self, *cmd) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *map(str, cmd)], check=True,
                       capture_output=True, timeout=120, stdin=subprocess.DEVNULL)

    def ctl(self, *args: str) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self.as_postgres(self.bin / "pg_ctl", "-D", self.root / "data", "-l",
                         self.root / "server.log", "-o", opts, "-w", *args)

    def remove(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self.ctl("stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def cluster():
    if not PG_BINS:
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    pg = Cluster(PG_BINS[-1])
    try:
        pg.ctl("start")
        yield pg
    finally:
        pg.remove()


def test_postgresql_restarted_in_the_middle_of_intake(mailstack, tmp_path, cluster):
    cfg = daemon_config(mailstack, tmp_path, cluster.url)
    count = 60
    mids = backlog(mailstack, count, "pg")
    log = tmp_path / "daemon.log"
    with running(cfg, log) as proc:
        assert wait_for(lambda: log.read_text(encoding="utf-8").count("imap:INBOX/") >= 5,
                        30, step=0.02)
        cluster.ctl("stop", "-m", "fast")                       # sessions terminated
        at_stop = log.read_text(encoding="utf-8").count("imap:INBOX/")
        time.sleep(3)
        assert proc.poll() is None
        cluster.ctl("start")
        assert at_stop < count, "the backlog was done before PostgreSQL stopped"
        rows = wait_for(lambda: finished(cfg, count), 90, step=1)
        assert rows, "the backlog was not finished after PostgreSQL's return"
        time.sleep(3)                                             # room for a duplicate
        text = stop(proc, log)
    assert_each_once(mailstack, rows, mids)
    assert unseen(mailstack) == []
    assert "poll failed" in text and "数据库或数据目录出错" in text and "Traceback" not in text
    print(f"PostgreSQL stopped after {at_stop} of {count} mails were recorded")


def test_a_connection_opened_while_the_database_was_read_only_is_not_kept(tmp_path, chattr):
    """SQLite opens a database it cannot write read-only, and such a connection stays so
    after the file is writable again: one opened during the outage (another thread held
    the first) must not be pooled and fail every other write from then on."""
    from mailbot import db
    dbdir = tmp_path / "db"
    dbdir.mkdir()
    engine = db.connect(f"sqlite:///{dbdir / 'mailbot.sqlite3'}")

    def write(value: str) -> bool:
        try:
            with db.transaction(engine) as s:
                db.set_state(s, "probe", {"v": value})
        except Exception:  # noqa: BLE001 - the outage's refusal
            return False
        return True

    assert write("before")
    held = engine.connect()  # the other thread's connection, open through the outage
    locked = [p for p in (dbdir / "mailbot.sqlite3", dbdir / "mailbot.sqlite3-wal")
              if p.exists()] + [dbdir]
    immutable(locked, True)
    try:
        assert not write("during")  # on a second connection, opened read-only
    finally:
        held.close()
        immutable(locked, False)
    assert [write(f"after {i}") for i in range(4)] == [True] * 4
