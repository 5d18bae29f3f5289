"""Parks (with dated names), parcels, one-parcel-one-plan history, scoring runs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "park",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("jurisdiction", sa.String(6), nullable=False),
        sa.Column("planned_area_mu", sa.String(40), nullable=False),
        sa.Column("target_tax_per_mu", sa.String(40), nullable=True),
        sa.Column("target_source", sa.String(500), nullable=True),
        sa.Column("ruleset", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
    )
    op.create_index("ix_park_jurisdiction", "park", ["jurisdiction"])
    op.create_table(
        "park_name",
        sa.Column("pk", sa.Integer(), primary_key=True),
        sa.Column("park_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
    )
    op.create_index("ix_park_name_park_id", "park_name", ["park_id"])
    op.create_table(
        "parcel",
        sa.Column("code", sa.String(28), primary_key=True),
        sa.Column("park_id", sa.String(64), nullable=False),
        sa.Column("area_mu", sa.String(40), nullable=False),
        sa.Column("use", sa.String(64), nullable=False),
        sa.Column("supply_status", sa.String(32), nullable=False),
        sa.Column("approval_doc", sa.String(200), nullable=True),
        sa.Column("approval_date", sa.Date(), nullable=True),
        sa.Column("contract_no", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
    )
    op.create_index("ix_parcel_park_id", "parcel", ["park_id"])
    op.create_index("ix_parcel_contract_no", "parcel", ["contract_no"])
    op.create_table(
        "parcel_plan",
        sa.Column("pk", sa.Integer(), primary_key=True),
        sa.Column("parcel_code", sa.String(28), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.UniqueConstraint("parcel_code", "version"),
    )
    op.create_index("ix_parcel_plan_parcel_code", "parcel_plan", ["parcel_code"])
    op.create_table(
        "scoring_run",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("ruleset_id", sa.String(64), nullable=False),
        sa.Column("ruleset_digest", sa.String(64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision_id", sa.String(36), nullable=True),
        sa.Column("document", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("scoring_run")
    op.drop_index("ix_parcel_plan_parcel_code", "parcel_plan")
    op.drop_table("parcel_plan")
    op.drop_index("ix_parcel_contract_no", "parcel")
    op.drop_index("ix_parcel_park_id", "parcel")
    op.drop_table("parcel")
    op.drop_index("ix_park_name_park_id", "park_name")
    op.drop_table("park_name")
    op.drop_index("ix_park_jurisdiction", "park")
    op.drop_table("park")
