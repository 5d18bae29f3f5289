"""Rule-set versions, the decision log and its chain head.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ruleset_version",
        sa.Column("pk", sa.Integer(), primary_key=True),
        sa.Column("ruleset_id", sa.String(64), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("jurisdiction", sa.String(6), nullable=False),
        sa.Column("parent", sa.String(64), nullable=True),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.UniqueConstraint("ruleset_id", "version"),
    )
    op.create_index("ix_ruleset_version_ruleset_id", "ruleset_version", ["ruleset_id"])
    op.create_index("ix_ruleset_version_jurisdiction", "ruleset_version", ["jurisdiction"])
    op.create_table(
        "decision",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        sa.Column("payload", sa.Text(), nullable=False),
    )
    op.create_index("ix_decision_kind", "decision", ["kind"])
    op.create_table(
        "chain_head",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("chain_head")
    op.drop_index("ix_decision_kind", "decision")
    op.drop_table("decision")
    op.drop_index("ix_ruleset_version_jurisdiction", "ruleset_version")
    op.drop_index("ix_ruleset_version_ruleset_id", "ruleset_version")
    op.drop_table("ruleset_version")
