"""The database layer: engine, migrations, transactions and every query.

Nothing else in mailbot builds SQL.  Works on SQLite (default, under the data
dir) and PostgreSQL (``postgresql+psycopg://...``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import (
    Engine,
    bindparam,
    case,
    create_engine,
    event,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, make_transient_to_detached, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from .errors import StorageError, storage_hint
from .models import (
    AppState,
    Attachment,
    Base,
    ImapUid,
    KnownSender,
    Link,
    Message,
    OutboxMail,
    Receipt,
)

MIGRATIONS = Path(__file__).with_name("migrations")


def connect(url: str) -> Engine:
    """Open *url*, bring its schema up to date with alembic, return the engine."""
    folder = Path(url.removeprefix("sqlite:///")).parent if url.startswith("sqlite:///") else None
    if folder is not None and not folder.is_dir():  # never made: a mistyped path would bring
        raise StorageError(  # a new empty database (the data dir is not made either)
            f"SQLite 数据库所在的目录 {folder} 不存在：请检查数据库地址是否写错；确是新位置，请先 "
            f"mkdir -p {folder} (database directory missing)")
    try:  # PostgreSQL: a connection the server dropped (restart) is replaced, not used
        engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    except (SQLAlchemyError, ImportError) as e:
        raise StorageError(f"数据库地址无效 (bad database URL) {url}: {e}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "handle_error", _stuck_read_only)
    try:
        with _migrating(url):
            if not _at_head(engine):
                with _schema_transaction(engine) as conn:
                    _upgrade(conn)
    except OperationalError as e:
        raise StorageError(f"无法连接数据库 (cannot open database) {engine.url!r}: "
                           f"{e.orig}{storage_hint(str(e.orig))}") from None
    except SQLAlchemyError as e:
        raise StorageError(f"数据库结构升级失败，数据库未改动 (schema upgrade failed) "
                           f"{engine.url!r}: {getattr(e, 'orig', None) or e}") from None
    return engine


def _stuck_read_only(ctx) -> None:
    """An SQLite connection opened while its database could not be written (made read-only,
    immutable) stays read-only once it can again: treated as lost, it and the pool's others
    are dropped, and the next use opens the database anew."""
    if "readonly database" in str(ctx.original_exception):
        ctx.is_disconnect = True


# The newest migration: the schema is up to date when alembic_version holds it.  Read off
# the file names (NNNN_*.py, revision NNNN) so that an up-to-date database is opened without
# loading alembic (a fifth of every command's start-up); tests check alembic agrees.
HEAD = max(p.name[:4] for p in (MIGRATIONS / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def _at_head(engine: Engine) -> bool:
    """Whether the database's schema is already at :data:`HEAD` (a new one is not)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return False
        return conn.scalar(text("SELECT version_num FROM alembic_version")) == HEAD


def _upgrade(conn) -> None:
    """Bring the schema on *conn* up to date with alembic."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


@contextmanager
def _migrating(url: str) -> Iterator[None]:
    """Hold an exclusive flock on a SQLite database's directory while it is first opened and
    its schema brought up to date: two processes opening a new database at once
    (``mailbot run`` starting while a command runs) would both create its tables ("table
    ... already exists"), and both turn it to WAL — each holding a read lock the other's
    switch must wait for, which SQLite answers at once with "database is locked".
    Never the database file itself: closing any descriptor of it drops the POSIX locks
    SQLite holds on it in this process, and another process would then take itself for
    the last user and delete the WAL.  PostgreSQL locks inside the migration instead."""
    path = Path(url.removeprefix("sqlite:///").partition("?")[0])
    fd = -1
    if url.startswith("sqlite:///") and path.name not in ("", ":memory:"):
        with contextlib.suppress(OSError):  # unreadable: the connection will say why
            fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    if fd < 0:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextmanager
def _schema_transaction(engine: Engine) -> Iterator:
    """A connection whose schema changes all commit together or not at all.

    pysqlite runs DDL outside any transaction (it begins one only before INSERT, UPDATE
    and DELETE): a process killed while creating a new database's tables would leave
    them half made, and every later start would fail ("table ... already exists").  So on
    SQLite the transaction is begun here, by hand.  On PostgreSQL DDL is transactional
    anyway, and an advisory lock makes two processes starting at once migrate once."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(7240625)"))
            yield conn
        return
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")  # pysqlite stays out
        # A table rebuilt by a batch migration is dropped and created anew: with foreign
        # keys enforced, the rows pointing at it would forbid the drop.  So they are off
        # while the schema changes (outside the transaction: SQLite ignores the pragma
        # inside one), checked before the commit, and on again after, as SQLite advises.
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise StorageError(f"数据库升级后外键不一致，已撤销升级 (schema upgrade "
                                       f"undone): {broken[:3]}")
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")
        finally:  # never given back to the pool with them off
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


@contextmanager
def transaction(engine: Engine, durable: bool = True) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any error.

    A ``durable=False`` commit does not wait for the disk (SQLite ``synchronous=NORMAL``
    in WAL mode, PostgreSQL ``synchronous_commit off``): a process crash loses nothing,
    a power cut may undo it.  The intake commits so, and calls :func:`barrier` before
    anything outside the database acts on it (the IMAP processed action; sending mail
    starts with a durable commit anyway).
    """
    with Session(engine, expire_on_commit=False) as session, session.begin():
        if engine.dialect.name == "sqlite":  # a per-connection setting: said when it changes
            conn, want = session.connection(), "FULL" if durable else "NORMAL"
            if conn.info.get("synchronous") != want:
                conn.exec_driver_sql(f"PRAGMA synchronous={want}")
                conn.info["synchronous"] = want
        elif not durable and engine.dialect.name == "postgresql":
            session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        yield session


def barrier(engine: Engine) -> None:
    """Make every earlier commit durable: one durable commit flushes the log up to it."""
    with transaction(engine) as s:
        set_state(s, "durable", {"at": datetime.now(UTC).isoformat()})


@contextmanager
def storage_errors(what: str) -> Iterator[None]:
    """Turn a database or disk failure inside the block into one :class:`StorageError`
    sentence naming *what* was being done (the driver's reason, never SQL or parameters)."""
    try:
        yield
    except (SQLAlchemyError, OSError) as e:
        reason = getattr(e, "orig", None) or e
        first = (str(reason).strip().splitlines() or [""])[0][:300]
        raise StorageError(f"{what}：数据库或数据目录出错 (storage error): "
                           f"{type(reason).__name__}: {first}{storage_hint(first)}") from e



def aware(moment: datetime | None) -> datetime | None:
    """Return *moment* with its zone; naive values from SQLite are UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def clean(text: str | None) -> str | None:
    """Make *text* storable everywhere: no NUL (PostgreSQL refuses it), no lone surrogates."""
    if text is None:
        return None
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


# Built once: a statement's cache key is worked out on its first use only (every mail asks).
_SAME_MAIL = select(Message.id, Message.sha256, Message.message_id).where(
    or_(Message.sha256 == bindparam("sha"), Message.message_id == bindparam("mid"))
).order_by(case((Message.sha256 == bindparam("sha"), 0), else_=1), Message.id).limit(21)
_UID_KEY = ["account", "folder", "uidvalidity", "uid"]
_RECORD_UID = {dialect: insert(ImapUid.__table__).on_conflict_do_nothing(index_elements=_UID_KEY)
               for dialect, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))}


def find_duplicate(session: Session, sha256: str, message_id: str | None,
                   same_content: Callable[[Message], bool]) -> Message | None:
    """The message already recorded as the same mail, if any.

    Same raw bytes, or the same Message-ID and ``same_content(earlier)`` true
    (the caller compares the content once trace fields — Received,
    Return-Path, Delivered-To... — are set aside): one mail delivered twice.
    Asked for every mail, nearly always in vain: the candidates are read as plain rows
    and only a match is loaded as a :class:`Message`.
    """
    rows = session.connection().execute(_SAME_MAIL, {"sha": sha256, "mid": message_id}).all()
    same = next((r.id for r in rows if r.sha256 == sha256), None)  # same bytes first
    if same is not None:
        return session.get(Message, same)
    for row in rows:
        if message_id and row.message_id == message_id and \
                same_content(earlier := session.get(Message, row.id)):
            return earlier
    return None


# ---- the intake's writes ------------------------------------------------------------------
# One mail a transaction through the unit of work costs several times what these
# statements do (bench/README.md); they are built once, like the lookups above.
_INSERT_MESSAGE = insert(Message).returning(Message.id)
_INSERT_ROWS = {model: insert(model).returning(model.id, sort_by_parameter_order=True)
                for model in (Attachment, Link)}
_INSERT_RECEIPT = insert(Receipt).returning(Receipt.id)
_FINISH_RECEIPT = update(Receipt).where(Receipt.id == bindparam("pk")).values(
    number=bindparam("number"), outbox_pk=bindparam("outbox_pk"))
_INSERT_OUTBOX = insert(OutboxMail).returning(OutboxMail.id)


def insert_message(session: Session, values: dict, attachments: list[dict],
                   links: list[dict]) -> Message:
    """Write a new message row with its attachment and link rows (column values, without
    ids or ``message_pk``); return a detached snapshot of what was written.

    The snapshot is never in the session: it reads like a loaded :class:`Message` (its
    collections and ``receipt`` included) and, were it added to one, would be taken for
    the existing rows, never inserted twice.  A duplicate raises ``IntegrityError`` here.
    """
    conn = session.connection()
    pk = conn.scalar(_INSERT_MESSAGE, values)
    children = {}
    for model, rows in ((Attachment, attachments), (Link, links)):
        rows = [{**row, "message_pk": pk} for row in rows]
        ids = conn.scalars(_INSERT_ROWS[model], rows).all() if rows else []
        children[model] = [snapshot(model, id=i, **row) for i, row in zip(ids, rows)]
    message = Message(id=pk, **values)
    set_committed_value(message, "attachments", children[Attachment])
    set_committed_value(message, "links", children[Link])
    set_committed_value(message, "receipt", None)
    make_transient_to_detached(message)
    return message


def snapshot(model: type[Base], **values) -> Base:
    """A detached *model* instance holding *values*: the image of a row just written."""
    row = model(**values)
    make_transient_to_detached(row)
    return row


def set_status(session: Session, message: Message, status: str, reason: str) -> None:
    """Change the status of *message* (a row written in this transaction, or loaded)."""
    session.connection().execute(update(Message).where(Message.id == message.id).values(
        status=status, status_reason=reason))
    set_committed_value(message, "status", status)
    set_committed_value(message, "status_reason", reason)


def insert_receipt(session: Session, message_pk: int, created_at: datetime) -> int:
    """A new receipt row for *message_pk*; its number is set by :func:`finish_receipt`."""
    return session.connection().scalar(_INSERT_RECEIPT, {
        "message_pk": message_pk, "number": f"#{message_pk}", "created_at": created_at})


def finish_receipt(session: Session, pk: int, number: str, outbox_pk: int | None) -> None:
    session.connection().execute(_FINISH_RECEIPT, {"pk": pk, "number": number,
                                                   "outbox_pk": outbox_pk})


def insert_outbox(session: Session, values: dict) -> int:
    """Write an outbox row (column values); return its id."""
    return session.connection().scalar(_INSERT_OUTBOX, values)


def last_uid(session: Session, account: str, folder: str, uidvalidity: int) -> int:
    """Highest UID recorded for this folder generation, 0 if none."""
    return session.scalar(select(func.coalesce(func.max(ImapUid.uid), 0)).where(
        ImapUid.account == account, ImapUid.folder == folder,
        ImapUid.uidvalidity == uidvalidity)) or 0


def record_uid(session: Session, account: str, folder: str, uidvalidity: int, uid: int,
               message: Message) -> None:
    """Remember that this UID holds *message* (its processed action still to do);
    a UID another process recorded first is left as it is."""
    if message.id is None:  # recorded in this transaction, not yet written
        session.flush()
    values = {"account": account, "folder": folder, "uidvalidity": uidvalidity, "uid": uid,
              "message_pk": message.id, "action_done": False}
    insert = _RECORD_UID.get(session.get_bind().dialect.name)
    if insert is not None:  # one statement
        session.execute(insert, values)
    elif session.scalar(select(ImapUid.id).where(
            ImapUid.account == account, ImapUid.folder == folder,
            ImapUid.uidvalidity == uidvalidity, ImapUid.uid == uid)) is None:
        session.add(ImapUid(**values))


def pending_actions(session: Session, account: str, folder: str, uidvalidity: int) -> list[int]:
    """UIDs committed but whose processed action has not been applied yet, ascending.

    Sorted here, not in SQL: an ORDER BY uid makes SQLite walk the folder's whole
    (account, folder, uidvalidity, uid) index instead of the few pending rows, and the
    idle poll would grow with the mailbox."""
    return sorted(session.scalars(select(ImapUid.uid).where(
        ImapUid.account == account, ImapUid.folder == folder,
        ImapUid.uidvalidity == uidvalidity, ImapUid.action_done.is_(False))))


def mark_actions_done(session: Session, account: str, folder: str, uidvalidity: int,
                      uids: list[int]) -> None:
    for row in session.scalars(select(ImapUid).where(
            ImapUid.account == account, ImapUid.folder == folder,
            ImapUid.uidvalidity == uidvalidity, ImapUid.uid.in_(uids))):
        row.action_done = True


def has_messages(session: Session) -> bool:
    return session.scalar(select(Message.id).limit(1)) is not None


def get_message(session: Session, pk: int) -> Message | None:
    return session.get(Message, pk)


class Recent(NamedTuple):
    """A recent submission as the resend check compares it (plain values, no ORM)."""

    id: int
    raw_path: str
    files: tuple[tuple[str, bool, str, int], ...]  # (sha256, inline, content type, size), sorted
    links: frozenset[str]
    evidence: list


_RECENT = (Message.sender == bindparam("sender"), Message.subject == bindparam("subject"),
           Message.received_at >= bindparam("since"), Message.parent_pk.is_(None),
           Message.status.in_(("accepted", "needs_school")))
_RECENT_FROM = select(Message.id, Message.raw_path, Message.evidence).where(
    *_RECENT).order_by(Message.id).limit(20)
_RECENT_IDS = select(Message.id).where(*_RECENT).order_by(Message.id).limit(20)
# the same parameters as _RECENT_FROM: compiled once (a list of ids would expand every call)
_FILES_OF = select(Attachment.message_pk, Attachment.sha256, Attachment.inline,
                   Attachment.content_type, Attachment.size).where(
    Attachment.message_pk.in_(_RECENT_IDS))
_LINKS_OF = select(Link.message_pk, Link.url).where(Link.message_pk.in_(_RECENT_IDS))


def recent_from(session: Session, sender: str | None, subject: str | None,
                since: datetime) -> list[Recent]:
    """Submissions from *sender* with *subject* received since *since*, oldest first (an
    index on the sender keeps this a seek: every mail asks, nearly always in vain)."""
    conn = session.connection()
    asked = {"sender": sender, "subject": subject or "", "since": since}
    rows = conn.execute(_RECENT_FROM, asked).all()
    if not rows:
        return []
    files: dict[int, list[tuple]] = {r.id: [] for r in rows}
    links: dict[int, set[str]] = {r.id: set() for r in rows}
    for pk, *file in conn.execute(_FILES_OF, asked):
        files[pk].append(tuple(file))
    for pk, url in conn.execute(_LINKS_OF, asked):
        links[pk].add(url)
    return [Recent(r.id, r.raw_path, tuple(sorted(files[r.id])), frozenset(links[r.id]),
                   r.evidence or []) for r in rows]


def parts(session: Session, pk: int) -> list[Message]:
    """The mails bundle *pk* forwarded, recorded as submissions of their own."""
    return list(session.scalars(select(Message).where(Message.parent_pk == pk)
                                .order_by(Message.id)))


def submissions(session: Session) -> list[Message]:
    """Every recorded message with its attachments and links, oldest first."""
    return list(session.scalars(select(Message).options(
        selectinload(Message.attachments), selectinload(Message.links),
        selectinload(Message.receipt).selectinload(Receipt.outbox))
        .order_by(Message.id)))


_KNOWN = select(KnownSender.school).where(KnownSender.address == bindparam("a"))  # built once


class KnownSenders(Mapping[str, str]):
    """Confirmed sender address -> school, read from the database on demand.

    A lookup reads on the session's connection (no autoflush, no ORM object: the
    intake asks several times a mail): it sees what the transaction has written, so
    :func:`remember_sender`'s callers flush before asking again."""

    def __init__(self, session: Session):
        self.session = session

    def __getitem__(self, address: str) -> str:
        school = self.session.connection().scalar(_KNOWN, {"a": address.lower()})
        if school is None:
            raise KeyError(address)
        return school

    def __iter__(self):
        return iter(self.session.scalars(select(KnownSender.address)).all())

    def __len__(self) -> int:
        return self.session.scalar(select(func.count()).select_from(KnownSender)) or 0


def known_senders(session: Session) -> dict[str, str]:
    """Every confirmed sender address -> school, in one query."""
    return {a: s for a, s in session.execute(select(KnownSender.address, KnownSender.school))}


def remember_sender(session: Session, address: str, school: str, source: str) -> None:
    """Record (or correct) the school an address writes for."""
    row = session.get(KnownSender, address.lower())
    if row is None:
        row = KnownSender(address=address.lower())
        session.add(row)
    row.school, row.source, row.confirmed_at = school, source, datetime.now(UTC)


def set_state(session: Session, key: str, value: dict) -> None:
    """Store *value* under *key*: one upsert, so two daemons writing at once never collide."""
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": pg_insert, "sqlite": sqlite_insert}.get(dialect)
    now = datetime.now(UTC)
    if insert is None:  # another database: read, then write
        row = session.get(AppState, key) or AppState(key=key)
        row.value, row.updated_at = value, now
        session.add(row)
        return
    stmt = insert(AppState).values(key=key, value=value, updated_at=now)
    session.execute(stmt.on_conflict_do_update(index_elements=[AppState.key],
                                               set_={"value": value, "updated_at": now}))


def first_state(session: Session, key: str, value: dict) -> dict:
    """The value under *key*, storing *value* there first if there is none (of two
    processes doing so at once, the first one's stays)."""
    insert = {"postgresql": pg_insert, "sqlite": sqlite_insert}.get(session.get_bind().dialect.name)
    if insert is None:
        if session.get(AppState, key) is None:
            set_state(session, key, value)
    else:
        session.execute(insert(AppState).values(key=key, value=value, updated_at=datetime.now(UTC))
                        .on_conflict_do_nothing(index_elements=[AppState.key]))
    return get_state(session, key)


def get_state(session: Session, key: str) -> dict:
    row = session.get(AppState, key)
    return dict(row.value) if row else {}


def counts(session: Session) -> dict[str, dict[str, int]]:
    """Messages by status, outbox mail by status, receipts held back by the per-address
    limits, and the latest error of a mail not sent yet (or failed)."""
    msgs = dict(session.execute(select(Message.status, func.count()).group_by(Message.status)).all())
    out = dict(session.execute(select(OutboxMail.status, func.count())
                               .group_by(OutboxMail.status)).all())
    held = session.scalar(select(func.count()).select_from(Receipt).where(
        Receipt.outbox_pk.is_(None))) or 0
    failing = session.execute(select(OutboxMail.last_error, OutboxMail.next_attempt_at,
                                     OutboxMail.status).where(
        OutboxMail.status.in_(("pending", "failed")), OutboxMail.last_error != "")
        .order_by(OutboxMail.id.desc()).limit(1)).first()
    return {"messages": msgs, "outbox": out, "receipts_held": held,
            "send_error": {"error": failing[0], "status": failing[2],
                           "retry_at": aware(failing[1]).isoformat()} if failing else {}}
