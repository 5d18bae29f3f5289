"""Stock land (issue 14): approval batches and the append-only events of their parcels.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approval_batch",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("document_no", sa.String(200), nullable=False),
        sa.Column("approved_on", sa.Date, nullable=False),
        sa.Column("jurisdiction", sa.String(6), nullable=False),
        sa.Column("area_mu", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
    )
    op.create_index("ix_approval_batch_jurisdiction", "approval_batch", ["jurisdiction"])
    op.create_table(
        "stock_event",
        sa.Column("pk", sa.Integer, primary_key=True),
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("parcel_code", sa.String(64), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("on", sa.Date, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.UniqueConstraint("batch_id", "seq"),
    )
    op.create_index("ix_stock_event_batch_id", "stock_event", ["batch_id"])


def downgrade() -> None:
    op.drop_index("ix_stock_event_batch_id", "stock_event")
    op.drop_table("stock_event")
    op.drop_index("ix_approval_batch_jurisdiction", "approval_batch")
    op.drop_table("approval_batch")
