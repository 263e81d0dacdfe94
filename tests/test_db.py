"""The schema: alembic migrations match the models and run both ways, on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from conftest import ROOT
from sqlalchemy import create_engine, inspect

from mailbot import db
from mailbot.errors import StorageError
from mailbot.models import Base


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
    # database ("table ... already exists") until the migration held a lock
    fork = multiprocessing.get_context("fork")
    for round_ in range(4):
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
