"""sign-in limits shared by every worker process, and the sources a user has signed in from (issue 17)

The lock-out moves from the users table (one count per username, which anyone knowing a username could keep
full) to ``login_limits``: counts per client address, per (user, source) and per user from unrecognised
sources, in the database so that every worker process applies the same limits. Covering indexes let the
statistics aggregate in SQL without reading the applications' wide rows.

Revision ID: 0010_service
Revises: 0011_vision2
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_service"
down_revision = "0011_vision2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_limits",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(op.f("ix_login_limits_user_id"), "login_limits", ["user_id"], unique=False)
    op.create_table(
        "login_trust",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("last_success", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "source"),
    )
    # statistics aggregate in SQL: covering indexes, so that no wide row (snapshot, law JSON) is read
    op.create_index(
        "ix_applications_statistics",
        "applications",
        ["region_kato", "district_kato", "status", "received_on", "deadline"],
        unique=False,
    )
    op.create_index(
        "ix_recommendations_statistics",
        "recommendations",
        ["application_id", "id", "model_version", "recommended"],
        unique=False,
    )
    op.create_index("ix_decisions_statistics", "decisions", ["application_id", "outcome", "id"], unique=False)
    # ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35, PostgreSQL): a batch copy of users would drop the table,
    # which the foreign keys that point at it refuse
    for column in ("locked_until", "failed_since", "failed_logins"):
        op.execute(f"ALTER TABLE users DROP COLUMN {column}")


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("failed_since", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(), nullable=True))
    op.drop_index("ix_decisions_statistics", table_name="decisions")
    op.drop_index("ix_recommendations_statistics", table_name="recommendations")
    op.drop_index("ix_applications_statistics", table_name="applications")
    op.drop_table("login_trust")
    op.drop_index(op.f("ix_login_limits_user_id"), table_name="login_limits")
    op.drop_table("login_limits")
