"""Tax records carry the region of the tax authority that reported them (主管税务机关所在行政区).

Existing rows get the default the service uses when a record has none: the registering
authority's division code in characters 3–8 of the USCC (NULL when those are not six digits).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tax_record", sa.Column("region", sa.String(6), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE tax_record SET region = substr(uscc, 3, 6) "
                   "WHERE length(uscc) = 18 AND substr(uscc, 3, 6) ~ '^[0-9]{6}$'")
    else:
        op.execute("UPDATE tax_record SET region = substr(uscc, 3, 6) "
                   "WHERE length(uscc) = 18 AND substr(uscc, 3, 6) GLOB '[0-9][0-9][0-9][0-9][0-9][0-9]'")


def downgrade() -> None:
    with op.batch_alter_table("tax_record") as batch:
        batch.drop_column("region")
