"""The schema: alembic migrations match the models and run both ways, on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from conftest import ROOT
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from mailbot import db
from mailbot.errors import StorageError, storage_hint
from mailbot.models import Attachment, Base, Link, Message


def _alembic(conn) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def test_migrations_match_models_and_downgrade(db_url):
    engine = db.connect(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    with engine.begin() as conn:
        command.downgrade(_alembic(conn), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    engine = db.connect(db_url)
    assert {"messages", "attachments", "links", "imap_uids", "known_senders"} <= set(
        inspect(engine).get_table_names())
    engine.dispose()


def test_unreachable_database_is_a_clear_error():
    with pytest.raises(StorageError, match="无法连接数据库"):
        db.connect("postgresql+psycopg://nobody@127.0.0.1:1/none")


def test_set_state_from_two_writers_at_once_never_collides(db_url):
    """Two daemons record their last poll at the same moment: the later value wins,
    neither transaction fails on the primary key (read-then-insert did)."""
    import threading

    engine = db.connect(db_url)
    errors: list[Exception] = []
    with db.transaction(engine) as first:
        db.set_state(first, "last_poll", {"by": "first"})
        first.flush()

        def second() -> None:
            try:
                with db.transaction(engine) as s:
                    db.set_state(s, "last_poll", {"by": "second"})
            except Exception as e:  # noqa: BLE001 - collected for the assertion
                errors.append(e)

        t = threading.Thread(target=second)
        t.start()
        t.join(timeout=2)  # it waits for our lock
    t.join(timeout=30)
    assert not errors
    with db.transaction(engine) as s:
        assert db.get_state(s, "last_poll")["by"] in ("first", "second")
        db.set_state(s, "last_poll", {"by": "third"})
    with db.transaction(engine) as s:
        assert db.get_state(s, "last_poll") == {"by": "third"}
    engine.dispose()


def _open_when_told(url: str, start) -> None:
    """Child process: open *url* with the others; exit 1 if that failed."""
    start.wait()
    try:
        db.connect(url).dispose()
    except StorageError as e:
        print(e, file=sys.stderr)
        sys.exit(1)


def test_processes_opening_a_new_sqlite_database_at_once_all_succeed(tmp_path):
    # `mailbot run` starting while a command runs: both created the tables of a new
    # database ("table ... already exists") until the migration held a lock; and both
    # turned it to WAL at once ("database is locked" at once, about 1 opening in 30 here)
    # until the first opening held it too
    fork = multiprocessing.get_context("fork")
    for round_ in range(10):
        start = fork.Barrier(6)
        url = f"sqlite:///{tmp_path / f'new{round_}.db'}"
        procs = [fork.Process(target=_open_when_told, args=(url, start)) for _ in range(6)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(60)
        assert [proc.exitcode for proc in procs] == [0] * 6


def test_another_process_never_hides_a_running_process_commits(tmp_path):
    # a lock taken on the database file itself dropped SQLite's own locks when it was
    # closed: the next command to close its connection deleted the WAL under the daemon
    url = f"sqlite:///{tmp_path / 'live.db'}"
    engine = db.connect(url)
    code = ("from sqlalchemy import text; from mailbot import db; "
            f"print(db.connect({url!r}).connect().execute(text('SELECT count(*) FROM app_state'))"
            ".scalar())")
    for n in range(1, 4):
        with db.transaction(engine) as s:
            db.set_state(s, f"k{n}", {"n": n})
        seen = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                              text=True, check=True, timeout=120).stdout
        assert int(seen) == n
    engine.dispose()


def test_the_idle_polls_queries_read_only_their_rows(tmp_path):
    """The idle poll's two queries seek by index (no walk over the folder's UIDs), so a
    poll with nothing new costs the same on 20,000 mails as on 2,000."""
    from sqlalchemy import event

    engine = db.connect(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    seen: list[tuple[str, tuple]] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, sql, params, _ctx, _many: seen.append((sql, params)))
    with db.transaction(engine) as s:
        db.last_uid(s, "a", "INBOX", 1)
        db.pending_actions(s, "a", "INBOX", 1)
    queries = [(sql, p) for sql, p in seen if "imap_uids" in sql]
    assert len(queries) == 2
    with engine.connect() as conn:
        for sql, params in queries:
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + sql, params))
            assert "SEARCH" in plan and "TEMP B-TREE" not in plan, plan
            assert "ix_imap_uids_pending" in plan or "COVERING INDEX" in plan, plan


def test_receipt_queries_seek_by_index(tmp_path):
    """Each receipt asks what its address got in the last day, and each sending round
    which receipts are held: index seeks, not walks over the whole outbox (raw bodies
    included) or receipts table, which made intake and sending slower with every
    receipt already queued."""
    from datetime import UTC, datetime

    from conftest import write_config
    from sqlalchemy import event

    from mailbot import config
    from mailbot.receipts import _sent_times, release_held

    cfg = config.load(write_config(tmp_path / "c.toml", None, tmp_path / "data",
                                   f"sqlite:///{tmp_path / 'db.sqlite3'}", receipts=True))
    engine = db.connect(cfg.storage.database_url)
    seen: list[tuple[str, tuple]] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, sql, params, _ctx, _many: seen.append((sql, params)))
    with db.transaction(engine) as s:
        _sent_times(s, "houqin@scu.edu.cn", datetime.now(UTC))
        release_held(s, cfg)
    queries = [(sql, p) for sql, p in seen if "FROM outbox" in sql or "FROM receipts" in sql]
    assert len(queries) == 2
    with engine.connect() as conn:
        plans = [" ".join(str(row[-1]) for row in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + sql, params)) for sql, params in queries]
    assert "SEARCH" in plans[0] and "COVERING INDEX ix_outbox_recipient_kind_created" in plans[0]
    assert "SEARCH" in plans[1] and "ix_receipts_outbox_pk" in plans[1], plans[1]


def test_each_transaction_runs_with_its_own_durability(tmp_path):
    """synchronous is a per-connection setting, said only when it changes: a durable
    transaction after a quick one (on the same pooled connection) is durable again."""
    engine = db.connect(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    full, normal = 2, 1  # PRAGMA synchronous values
    got = []
    for durable in (False, False, True, True, False, True):
        with db.transaction(engine, durable=durable) as s:
            got.append(s.connection().exec_driver_sql("PRAGMA synchronous").scalar())
    assert got == [normal, normal, full, full, normal, full]


def _message_values(sha: str) -> dict:
    now = datetime.now(UTC)
    return {"sha256": sha, "content_sha256": "", "message_id": f"<{sha[:8]}@scu.edu.cn>",
            "sender": "houqin@scu.edu.cn", "sender_name": "王老师", "subject": "活动方案",
            "sent_at": now, "received_at": now, "recorded_at": now, "source": "test",
            "size": 10, "raw_path": f"raw/{sha[:2]}/{sha}.eml", "status": "accepted",
            "status_reason": "", "school": "四川大学", "district": None, "kinds": ["plan"],
            "late": False, "plan_missing": [], "notes": [], "evidence": [], "plan_info": {},
            "files_removed_at": None}


def test_a_written_message_comes_back_as_a_snapshot_never_written_twice(db_url):
    """The intake writes a mail with plain statements and keeps a detached image of the
    rows: it reads like a loaded message, and adding it to a session later updates the
    rows it stands for instead of inserting them again; the same mail again is refused."""
    engine = db.connect(db_url)
    attachment = {"position": 0, "filename": "方案.docx", "content_type": "application/msword",
                  "size": 3, "sha256": "b" * 64, "path": "files/bb/x.docx", "inline": False,
                  "forwarded": False}
    link = {"position": 0, "url": "https://b23.tv/x", "platform": "bilibili", "title": "",
            "size": "", "expires": "", "password": ""}
    with db.transaction(engine) as s:
        m = db.insert_message(s, _message_values("a" * 64), [attachment], [link])
    assert m.id and m.receipt is None and m.subject == "活动方案"
    assert [(a.filename, a.message_pk) for a in m.attachments] == [("方案.docx", m.id)]
    assert [(ln.url, ln.message_pk) for ln in m.links] == [("https://b23.tv/x", m.id)]
    with db.transaction(engine) as s:
        s.add(m)
        m.subject = "活动方案（改）"
    with db.transaction(engine) as s:
        assert s.scalar(select(func.count()).select_from(Attachment)) == 1
        assert s.scalar(select(func.count()).select_from(Link)) == 1
        assert [x.subject for x in s.scalars(select(Message))] == ["活动方案（改）"]
    with pytest.raises(IntegrityError), db.transaction(engine) as s:
        db.insert_message(s, _message_values("a" * 64), [], [])
    engine.dispose()


def test_a_process_killed_while_creating_the_schema_leaves_a_database_that_opens(db_url):
    """Killed after the first migration step of a new database: nothing of the schema
    stays behind half made, and the next start builds all of it (pysqlite would have
    committed each CREATE TABLE on its own: "table messages already exists" ever after)."""
    code = "import sys; from mailbot import db; db.connect(sys.argv[1])"
    killed = subprocess.run([sys.executable, "-c", code, db_url], capture_output=True,
                            env={**os.environ, "MAILBOT_FAULT": "mid-migration"}, check=False)
    assert killed.returncode == 137, killed.stderr
    assert set(inspect(create_engine(db_url)).get_table_names()) <= {"alembic_version"}
    engine = db.connect(db_url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


def test_head_read_off_the_file_names_is_alembics_head(db_url):
    """An up-to-date database opens without alembic: only while the newest migration's
    revision is the one its file name starts with."""
    from alembic.script import ScriptDirectory

    assert db.HEAD == ScriptDirectory(str(db.MIGRATIONS)).get_current_head()
    db.connect(db_url).dispose()
    code = ("import sys; from mailbot import db; db.connect(sys.argv[1]).dispose(); "
            "print('alembic' in sys.modules)")
    again = subprocess.run([sys.executable, "-c", code, db_url], capture_output=True,
                           text=True, check=True)
    assert again.stdout.strip() == "False"


def test_an_upgrade_keeps_the_rows_of_a_database_in_use(db_url):
    """A database at the previous schema with mail in it (attachments and receipts point
    at its messages) is brought up to date with every row kept; SQLite still enforces
    foreign keys afterwards (they are off only while tables are rebuilt)."""
    engine = create_engine(db_url)
    with engine.begin() as conn:
        command.upgrade(_alembic(conn), "0007")
        now = datetime.now(UTC)
        conn.execute(text(
            "INSERT INTO messages (id, sha256, content_sha256, sender, sender_name, subject, "
            "received_at, recorded_at, source, size, raw_path, status, status_reason, kinds, "
            "late, plan_missing, notes, evidence, plan_info) VALUES (1, :s, '', 'a@scu.edu.cn',"
            " '', '方案', :t, :t, 'x', 1, 'raw/x.eml', 'accepted', '', '[]', false, '[]', '[]',"
            " '[]', '{}')"), {"s": "a" * 64, "t": now})
        conn.execute(text(
            "INSERT INTO attachments (message_pk, position, filename, content_type, size, "
            "sha256, path, inline, forwarded) VALUES (1, 0, 'a.docx', 'x', 1, :s, 'files/a', "
            "false, false)"), {"s": "b" * 64})
        conn.execute(text("INSERT INTO receipts (message_pk, number, created_at) "
                          "VALUES (1, 'JLX2024-0001', :t)"), {"t": now})
    engine.dispose()
    engine = db.connect(db_url)
    with db.transaction(engine) as s:
        (m,) = s.scalars(select(Message)).all()
        assert (m.subject, len(m.attachments), m.receipt.number, m.parent_pk) == (
            "方案", 1, "JLX2024-0001", None)
    if engine.dialect.name == "sqlite":
        with pytest.raises(IntegrityError), db.transaction(engine) as s:
            s.execute(text("INSERT INTO links (message_pk, position, url, platform, title, "
                           "size, expires, password) VALUES (99, 0, 'u', 'p', '', '', '', '')"))
    engine.dispose()


def test_times_keep_their_instant_whatever_offset_they_came_with(db_url):
    """A mail dated 20:05 +08:00 (QQ Mail's Date and INTERNALDATE) is 12:05 UTC on every
    backend: SQLite keeps no offset, so the time is converted before it is written, and
    queries comparing times compare instants."""
    from datetime import timedelta, timezone
    engine = db.connect(db_url)
    cst = timezone(timedelta(hours=8))
    evening = datetime(2024, 9, 30, 20, 5, tzinfo=cst)
    with db.transaction(engine) as s:
        db.insert_message(s, _message_values("c" * 64) | {"received_at": evening,
                                                           "sent_at": evening}, [], [])
    with db.transaction(engine) as s:
        m = s.scalars(select(Message)).one()
        assert m.received_at == evening and m.sent_at == evening
        assert m.received_at.utcoffset() == timedelta(0)
        assert m.received_at.astimezone(cst).strftime("%m-%d %H:%M") == "09-30 20:05"
        before = datetime(2024, 9, 30, 12, 30, tzinfo=UTC)  # 20:30 in Sichuan
        assert s.scalar(select(func.count()).select_from(Message)
                        .where(Message.received_at < before)) == 1
    engine.dispose()


def test_a_database_that_cannot_be_opened_or_written_is_named_as_such(tmp_path):
    """The usual causes are said in Chinese before the driver's words: a path that is not
    a database file, a full disk, a read-only one."""
    (tmp_path / "db.sqlite3").mkdir()  # a directory where the database file should be
    with pytest.raises(StorageError) as e:
        db.connect(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert "打不开数据库文件" in str(e.value)
    assert storage_hint("database or disk is full") == "（磁盘已满）"
    assert storage_hint("attempt to write a readonly database").startswith("（数据库只读")
    assert storage_hint("no such table: messages") == ""
    with pytest.raises(StorageError) as e, db.storage_errors("收取邮件失败"):
        raise OSError(28, "No space left on device")
    assert "收取邮件失败" in str(e.value) and str(e.value).endswith("（磁盘已满）")
