"""Published versions of the other legal documents (scoring and low-efficiency rule sets, contract
models, the 53号令 parameters), like rule-set versions: immutable and content addressed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "law_document",
        sa.Column("pk", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("doc_id", sa.String(64), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("jurisdiction", sa.String(6), nullable=True),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("effective_to", sa.Date, nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.UniqueConstraint("kind", "doc_id", "version"),
        sa.UniqueConstraint("kind", "digest"),
    )
    op.create_index("ix_law_document_kind", "law_document", ["kind"])


def downgrade() -> None:
    op.drop_index("ix_law_document_kind", "law_document")
    op.drop_table("law_document")
