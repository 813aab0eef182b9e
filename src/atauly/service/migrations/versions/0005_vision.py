"""photos attached to applications, the assets they may show, the home-inspection act (Stage 2, issue 18)

Revision ID: 0005_vision
Revises: 0003
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_vision"
down_revision = "0004_plans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("frame_time", sa.Float(), nullable=False),
        sa.Column("phash", sa.String(length=16), nullable=False),
        sa.Column("blurred", sa.Boolean(), nullable=False),
        sa.Column("dark", sa.Boolean(), nullable=False),
        sa.Column("screen_photo", sa.Boolean(), nullable=False),
        sa.Column("faces", sa.Integer(), nullable=False),
        sa.Column("exif_time", sa.DateTime(), nullable=True),
        sa.Column("gps_region", sa.String(length=16), nullable=True),
        sa.Column("duplicate_of", sa.String(length=255), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.ForeignKeyConstraint(["uploaded_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id", "sha256", "frame_time"),
    )
    op.create_index("ix_photos_application_id", "photos", ["application_id"])
    op.create_index("ix_photos_sha256", "photos", ["sha256"])
    op.create_table(
        "photo_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("photo_id", sa.Integer(), nullable=False),
        sa.Column("asset", sa.String(length=32), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["photo_id"], ["photos.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_photo_findings_photo_id", "photo_findings", ["photo_id"])
    op.create_table(
        "inspection_acts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.ForeignKeyConstraint(["officer_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id"),
    )


def downgrade() -> None:
    op.drop_table("inspection_acts")
    op.drop_index("ix_photo_findings_photo_id", table_name="photo_findings")
    op.drop_table("photo_findings")
    op.drop_index("ix_photos_sha256", table_name="photos")
    op.drop_index("ix_photos_application_id", table_name="photos")
    op.drop_table("photos")
