"""the scan's reasons as text of any length

Revision ID: 0014_scan_reason_text
Revises: 0013_audit_object_idx
Create Date: 2026-12-05

A candidate's ``reason`` was ``VARCHAR(64)`` and ``offer_reason`` ``VARCHAR(160)``. The scan's reasons
name the law's refusal, the probability, an earlier verification visit and the district's capacity, and
grew past both: PostgreSQL refused to load such a scan (SQLite kept the text whole, so one scan loaded on
one database and not on the other). Both become ``TEXT``.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_scan_reason_text"
down_revision = "0013_audit_object_idx"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scan_candidates", schema=None) as batch_op:
        batch_op.alter_column("reason", existing_type=sa.String(length=64), type_=sa.Text())
        batch_op.alter_column(
            "offer_reason", existing_type=sa.String(length=160), type_=sa.Text(), existing_nullable=True
        )


def downgrade() -> None:
    # Texts longer than the old limits are cut to them, so that the old columns can hold them.
    op.execute(
        "UPDATE scan_candidates SET reason = substr(reason, 1, 64), offer_reason = substr(offer_reason, 1, 160)"
    )
    with op.batch_alter_table("scan_candidates", schema=None) as batch_op:
        batch_op.alter_column("reason", existing_type=sa.Text(), type_=sa.String(length=64))
        batch_op.alter_column(
            "offer_reason", existing_type=sa.Text(), type_=sa.String(length=160), existing_nullable=True
        )
