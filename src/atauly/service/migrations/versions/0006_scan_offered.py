"""the scan's capacity-aware offers on its candidates: offered, probability truly entitled, why (issue 15)

Revision ID: 0006_scan_offered
Revises: 0005_vision
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_scan_offered"
down_revision = "0005_vision"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: candidates loaded from a scan before issue 15 have no offers (every one may be offered).
    with op.batch_alter_table("scan_candidates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offered", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("probability_entitled", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("offer_reason", sa.String(length=160), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scan_candidates", schema=None) as batch_op:
        batch_op.drop_column("offer_reason")
        batch_op.drop_column("probability_entitled")
        batch_op.drop_column("offered")
