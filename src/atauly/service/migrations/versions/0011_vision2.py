"""the confirmed facts (inspection act, confirmed photo findings) each recommendation was computed with

Revision ID: 0011_vision2
Revises: 0009_notice_lang
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_vision2"
down_revision = "0009_notice_lang"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("recommendations") as batch:
        batch.add_column(sa.Column("facts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("recommendations") as batch:
        batch.drop_column("facts")
