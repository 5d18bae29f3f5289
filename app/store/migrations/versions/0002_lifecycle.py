"""Contracts, lifecycle events, tax batches and tax records.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contract",
        sa.Column("contract_no", sa.String(64), primary_key=True),
        sa.Column("jurisdiction", sa.String(6), nullable=False),
        sa.Column("transferee_uscc", sa.String(18), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("check_decision_id", sa.String(36), nullable=True),
        sa.Column("document", sa.Text(), nullable=False),
    )
    op.create_index("ix_contract_jurisdiction", "contract", ["jurisdiction"])
    op.create_index("ix_contract_transferee_uscc", "contract", ["transferee_uscc"])
    op.create_table(
        "contract_event",
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("contract_no", sa.String(64), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("corrects", sa.String(36), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
    )
    op.create_index("ix_contract_event_contract_no", "contract_event", ["contract_no"])
    op.create_table(
        "tax_batch",
        sa.Column("batch_id", sa.String(64), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("new_records", sa.Integer(), nullable=False),
        sa.Column("corrections", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("unknown_enterprises", sa.Integer(), nullable=False),
    )
    op.create_table(
        "tax_record",
        sa.Column("pk", sa.Integer(), primary_key=True),
        sa.Column("batch_id", sa.String(64), nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("tax_paid", sa.String(40), nullable=False),
        sa.Column("policy_refunds", sa.String(40), nullable=True),
        sa.Column("supersedes", sa.Integer(), nullable=True),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("known_enterprise", sa.Boolean(), nullable=False),
        sa.Column("uscc_valid", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_tax_record_batch_id", "tax_record", ["batch_id"])
    op.create_index("ix_tax_record_uscc", "tax_record", ["uscc"])
    op.create_index("ix_tax_record_year", "tax_record", ["year"])
    op.create_index("ix_tax_record_current", "tax_record", ["current"])


def downgrade() -> None:
    op.drop_table("tax_record")
    op.drop_table("tax_batch")
    op.drop_index("ix_contract_event_contract_no", "contract_event")
    op.drop_table("contract_event")
    op.drop_index("ix_contract_transferee_uscc", "contract")
    op.drop_index("ix_contract_jurisdiction", "contract")
    op.drop_table("contract")
