"""the family's language on the application; the officer's name and position on the user (issue 20)

Revision ID: 0009_notice_lang
Revises: 0006_scan_offered
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_notice_lang"
down_revision = "0006_scan_offered"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("language", sa.String(length=2), nullable=False, server_default="ru"))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("full_name", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("position", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("position")
        batch.drop_column("full_name")
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("language")
