"""an index for the processed actions still to apply (every poll asks)

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_imap_uids_pending", "imap_uids",
                    ["account", "folder", "uidvalidity", "action_done"])


def downgrade() -> None:
    op.drop_index("ix_imap_uids_pending", table_name="imap_uids")
