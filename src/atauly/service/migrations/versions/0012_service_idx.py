"""the queue's indexes: an officer's district and a supervisor's region in deadline order

Revision ID: 0012_service_idx
Revises: 0007_workspace
Create Date: 2026-12-04

The queue asks for the open applications of a district (or region), the nearest deadline first, 50 a
page. With only ``district_kato`` indexed, every application of the district was read and sorted; on
SQLite that means walking each row past its snapshot (overflow pages), and with the one write connection
every officer waited for it (measured at 200k applications: 20-25 ms an officer's page, 140-160 ms a
supervisor's, ``benchmarks/explain_service.py``). These indexes hold the deadline order and the columns
the queue filters on (status, assignment, quarter), so a page reads its 50 rows and the next case and
the quarters' list read no row at all.
"""

from alembic import op

revision = "0012_service_idx"
down_revision = "0007_workspace"
branch_labels = None
depends_on = None

QUEUE = ["deadline", "id", "status", "assigned_to", "quarter"]


def upgrade() -> None:
    op.create_index("ix_applications_queue_district", "applications", ["district_kato", *QUEUE])
    op.create_index("ix_applications_queue_region", "applications", ["region_kato", *QUEUE])


def downgrade() -> None:
    op.drop_index("ix_applications_queue_region", table_name="applications")
    op.drop_index("ix_applications_queue_district", table_name="applications")
