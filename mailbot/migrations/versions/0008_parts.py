"""parts: a mail recorded from inside another (a district leader's bundle of forwarded mail)

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("parent_pk", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_messages_parent_pk", "messages", ["parent_pk"], ["id"])
        batch.create_index("ix_messages_parent_pk", ["parent_pk"])


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_index("ix_messages_parent_pk")
        batch.drop_constraint("fk_messages_parent_pk", type_="foreignkey")
        batch.drop_column("parent_pk")
