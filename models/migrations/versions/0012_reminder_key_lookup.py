"""The reminder table loses its index on plan_id alone: its unique index on (plan_id, key) serves every lookup by
plan, and the reminder run's "which of these keys are known" then always uses it.

Measured under the mixed load on PostgreSQL: in the minutes after a plan's first reminder run, before the table's
statistics caught up, the planner took the plan_id index (estimated 60 rows, found 16,000), then compared each row
with the 500 keys asked about: 0.1–0.5 s a query, 9.6 s for one department's 7,505 reminders, all of it inside
the plan's write lock while 1,500 towns waited to answer.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_plan_id'))


def downgrade() -> None:
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_plan_id'), ['plan_id'], unique=False)
