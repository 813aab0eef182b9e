"""exit plans: family plans, their steps (monitoring), published district plans (issue 19)

Revision ID: 0004_plans
Revises: 0003
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_plans"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "family_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.String(length=64), nullable=False),
        sa.Column("region_kato", sa.String(length=9), nullable=False),
        sa.Column("district_kato", sa.String(length=9), nullable=False),
        sa.Column("quarter", sa.String(length=6), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("poverty_line", sa.Float(), nullable=False),
        sa.Column("per_capita_income", sa.Float(), nullable=False),
        sa.Column("specialist_name", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["approved_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id"),
    )
    with op.batch_alter_table("family_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_family_plans_family_id"), ["family_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_family_plans_region_kato"), ["region_kato"], unique=False)
        batch_op.create_index(batch_op.f("ix_family_plans_district_kato"), ["district_kato"], unique=False)
        batch_op.create_index(batch_op.f("ix_family_plans_status"), ["status"], unique=False)
    op.create_table(
        "plan_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("measure", sa.String(length=32), nullable=False),
        sa.Column("start_month", sa.String(length=7), nullable=False),
        sa.Column("end_month", sa.String(length=7), nullable=False),
        sa.Column("expected_gain", sa.Float(), nullable=False),
        sa.Column("started", sa.Boolean(), nullable=True),
        sa.Column("completed", sa.Boolean(), nullable=True),
        sa.Column("employed", sa.Boolean(), nullable=True),
        sa.Column("income_after", sa.Float(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["family_plans.id"]),
        sa.ForeignKeyConstraint(["recorded_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("plan_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_steps_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_plan_steps_measure"), ["measure"], unique=False)
    op.create_table(
        "district_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=6), nullable=False),
        sa.Column("region_kato", sa.String(length=9), nullable=False),
        sa.Column("district_kato", sa.String(length=9), nullable=False),
        sa.Column("conditional_families", sa.Integer(), nullable=False),
        sa.Column("families_planned", sa.Integer(), nullable=False),
        sa.Column("persons_planned", sa.Integer(), nullable=False),
        sa.Column("budget_kzt", sa.Float(), nullable=False),
        sa.Column("expected_exits", sa.Float(), nullable=False),
        sa.Column("measures", sa.JSON(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("quarter", "district_kato"),
    )
    with op.batch_alter_table("district_plans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_district_plans_quarter"), ["quarter"], unique=False)
        batch_op.create_index(batch_op.f("ix_district_plans_region_kato"), ["region_kato"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("district_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_district_plans_region_kato"))
        batch_op.drop_index(batch_op.f("ix_district_plans_quarter"))
    op.drop_table("district_plans")
    with op.batch_alter_table("plan_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_steps_measure"))
        batch_op.drop_index(batch_op.f("ix_plan_steps_plan_id"))
    op.drop_table("plan_steps")
    with op.batch_alter_table("family_plans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_family_plans_status"))
        batch_op.drop_index(batch_op.f("ix_family_plans_district_kato"))
        batch_op.drop_index(batch_op.f("ix_family_plans_region_kato"))
        batch_op.drop_index(batch_op.f("ix_family_plans_family_id"))
    op.drop_table("family_plans")
