"""the scan's reason codes and their figures on its candidates, to word the reasons in kk/ru/en

Revision ID: 0015_scan_reason_codes
Revises: 0014_scan_reason_text
Create Date: 2026-12-05

``candidates/`` stores, beside its English ``reason`` and ``offer_reason``, the codes they were made from
(``reason_code``, ``refusal_reason``, ``offer_code``) and the figures they name (``need_gap``,
``capacity``, ``visit_entitled_quarter``; the scan's ``min_probability`` from ``scan.json``), which
:mod:`atauly.screening.wording` words in the officer's language. All nullable: candidates loaded from a
scan without codes keep their English only (the offers' page shows no reason for them in kk or ru).
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_scan_reason_codes"
down_revision = "0014_scan_reason_text"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scan_candidates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason_code", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("refusal_reason", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("offer_code", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("need_gap", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("capacity", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("visit_entitled_quarter", sa.String(length=6), nullable=True))
        batch_op.add_column(sa.Column("min_probability", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scan_candidates", schema=None) as batch_op:
        for column in (
            "min_probability",
            "visit_entitled_quarter",
            "capacity",
            "need_gap",
            "offer_code",
            "refusal_reason",
            "reason_code",
        ):
            batch_op.drop_column(column)
