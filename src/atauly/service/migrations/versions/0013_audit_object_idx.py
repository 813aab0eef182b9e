"""the audit trail's events of one object, in order

Revision ID: 0013_audit_object_idx
Revises: 0012_service_idx
Create Date: 2026-12-05

A decision records when its officer first opened the case: the first ``read`` event of that application by
that officer (``deciding.decide``). Only ``action`` was indexed, and the query's ``LIKE '%read%'`` cannot use
it, so the database walked the audit trail in id order from its first event until it met one of this
application: every decision read more of the trail as it grew (every read of personal data appends an
event). This index holds an object's events in id order, so the query reads that application's few events.
"""

from alembic import op

revision = "0013_audit_object_idx"
down_revision = "0012_service_idx"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_events_object", "audit_events", ["object_type", "object_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_object", table_name="audit_events")
