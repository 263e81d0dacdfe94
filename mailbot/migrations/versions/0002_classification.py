"""classification: evidence, plan details, link details, known senders

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("evidence", sa.JSON(), nullable=False,
                                   server_default=sa.text("'[]'")))
        batch.add_column(sa.Column("plan_info", sa.JSON(), nullable=False,
                                   server_default=sa.text("'{}'")))
    with op.batch_alter_table("links") as batch:
        for name in ("title", "size", "expires", "password"):
            batch.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "known_senders",
        sa.Column("address", sa.Text(), primary_key=True),
        sa.Column("school", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("known_senders")
    with op.batch_alter_table("links") as batch:
        for name in ("title", "size", "expires", "password"):
            batch.drop_column(name)
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("plan_info")
        batch.drop_column("evidence")
