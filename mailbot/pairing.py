"""The data dir and the database belong together.

The data dir remembers the database it was filled with by an id kept in both
(``.database-id`` in the data dir, ``database`` in the app state).  A database with no
mail in it paired with a data dir that remembers another one is a changed or mistyped
database setting, refused before anything reads or writes it.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import Engine

from . import db
from .errors import StorageError


def same_store(engine: Engine, root: Path, remember: bool = True) -> None:
    """Refuse a database with no mail in it other than the one the data dir *root* was
    filled with (the database setting changed or was mistyped, e.g. MAILBOT_DATABASE_URL):
    a poll would record every mail again and send every receipt twice, and status, exports
    and digests would all be empty.  The data dir remembers its database by an id kept in
    both (``.database-id``), written with *remember* (a poll) when it has none yet."""
    marker = root / ".database-id"
    try:  # read first: a marker is written only once its id is committed, so the database
        known = marker.read_text("ascii").strip()  # read next has it (read the other way
    except FileNotFoundError:  # round, a poll starting meanwhile looked like another database)
        known = ""
    except (OSError, UnicodeDecodeError) as e:
        raise StorageError(f"无法读取 {marker}：{e}") from None
    with db.transaction(engine) as s:
        state = db.first_state(s, "database", {"id": uuid.uuid4().hex}) if remember else \
            db.get_state(s, "database")
        ident, fresh = (state or {}).get("id", ""), not db.has_messages(s)
    if known and known != ident and fresh:
        raise StorageError(
            f"数据目录 {root} 已用于另一个数据库，当前数据库里还没有任何邮件：是否更换了数据库或把地址写错了"
            "（storage.database_url 或 MAILBOT_DATABASE_URL）？用它收信会把邮箱里的邮件全部重新登记、"
            "回执全部再发一遍，查看、导出和汇总也都是空的。请改回原来的数据库；确要从头开始，请换一个空的数据目录 "
            "(the data dir belongs to another database: refused)")
    if remember and not known:
        marker.write_text(ident + "\n", "ascii")
