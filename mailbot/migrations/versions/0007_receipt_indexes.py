"""indexes for the receipts an address got lately (every receipt asks, for its limits)
and for the receipts held back by those limits (every sending round asks)

Without them each receipt read the whole outbox, raw bodies included, and each sending
round the whole receipts table: both slowed down with every receipt already queued.

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
    op.create_index("ix_receipts_outbox_pk", "receipts", ["outbox_pk"])


def downgrade() -> None:
    op.drop_index("ix_receipts_outbox_pk", table_name="receipts")
    op.drop_index("ix_outbox_recipient_kind_created", table_name="outbox")
