"""Alembic environment: run with the connection mailbot.db hands over (in a transaction)."""

import os

from alembic import context

from mailbot.models import Base

connection = context.config.attributes["connection"]


def _fault(**_step) -> None:
    """Die after the first migration step if MAILBOT_FAULT says so (the crash tests)."""
    if os.environ.get("MAILBOT_FAULT") == "mid-migration":
        os._exit(137)


context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite", on_version_apply=_fault)
with context.begin_transaction():
    context.run_migrations()
