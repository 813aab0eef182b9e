"""the officer's workspace: case assignment, family size for the queue's filters, verified values

Revision ID: 0007_workspace
Revises: 0010_service
Create Date: 2026-12-04
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0007_workspace"
down_revision = "0010_service"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_to", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("family_size", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("declared", sa.JSON(), nullable=True))
        batch_op.create_index("ix_applications_assigned_to", ["assigned_to"])
        batch_op.create_foreign_key("fk_applications_assigned_to", "users", ["assigned_to"], ["id"])
    # The family size of applications already recorded, from their snapshots.
    conn = op.get_bind()
    apps = sa.table(
        "applications", sa.column("id", sa.Integer), sa.column("snapshot"), sa.column("family_size")
    )
    for app_id, snapshot in conn.execute(sa.select(apps.c.id, apps.c.snapshot)).all():
        data = json.loads(snapshot) if isinstance(snapshot, str) else snapshot
        size = len((data or {}).get("persons", []))
        conn.execute(apps.update().where(apps.c.id == app_id).values(family_size=size))
    op.create_table(
        "verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.ForeignKeyConstraint(["recommendation_id"], ["recommendations.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_verifications_application_id", "verifications", ["application_id"])


def downgrade() -> None:
    op.drop_index("ix_verifications_application_id", table_name="verifications")
    op.drop_table("verifications")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_constraint("fk_applications_assigned_to", type_="foreignkey")
        batch_op.drop_index("ix_applications_assigned_to")
        batch_op.drop_column("declared")
        batch_op.drop_column("family_size")
        batch_op.drop_column("assigned_to")
