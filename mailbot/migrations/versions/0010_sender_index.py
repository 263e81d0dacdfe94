"""index on the sender: every mail asks for its sender's recent submissions (a mail sent
again is not acknowledged twice, mailbot.resent)

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_messages_sender", "messages", ["sender"])


def downgrade() -> None:
    op.drop_index("ix_messages_sender", table_name="messages")
