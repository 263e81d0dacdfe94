"""an index for the receipts an address got lately (every receipt asks, for its limits)

Without it each receipt read the whole outbox, raw bodies included: an intake slowed
down with every receipt already queued.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_recipient_kind_created", "outbox",
                    ["recipient", "kind", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_recipient_kind_created", table_name="outbox")
