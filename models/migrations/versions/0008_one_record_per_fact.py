"""One record per fact (issue 25): an extension lives only in `extension` (the assignment's own
extended_due/extension_reason/extension_approved_by columns, which the web path never read, are copied there as
granted requests and dropped); feedback keeps the completion date the unit reported and a tracked share's items;
a plan year can be closed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def _copy_extensions() -> None:
    bind = op.get_bind()
    old = bind.execute(sa.text(
        "SELECT t.plan_id, a.task_id, a.unit_id, t.due, a.extended_due, a.extension_reason, a.extension_approved_by, "
        "a.updated_at FROM assignment a JOIN task t ON t.id = a.task_id WHERE a.extended_due IS NOT NULL")).all()
    extension = sa.table('extension', *(sa.column(c) for c in (
        'plan_id', 'task_id', 'unit_id', 'period', 'due', 'new_due', 'reason', 'state', 'asked_on', 'reply_by', 'at',
        'by', 'source', 'decided_by', 'decided_at')))
    for plan_id, task_id, unit_id, due, new_due, reason, approved_by, updated in old:
        when = updated if isinstance(updated, datetime) else datetime.now(UTC)
        new_due = new_due if not isinstance(new_due, str) else datetime.fromisoformat(new_due).date()
        due = (due if not isinstance(due, str) else datetime.fromisoformat(due).date()) if due else new_due
        bind.execute(extension.insert().values(
            plan_id=plan_id, task_id=task_id, unit_id=unit_id, period='', due=due, new_due=new_due,
            reason=reason or '(升级前登记, 未写理由)', state='批准', asked_on=when.date(), reply_by=when.date(), at=when,
            by=approved_by or '未记录', source='cli', decided_by=approved_by or '未记录', decided_at=when))
    # 申请延期 was a status of its own; the request now lives in `extension` and the share is simply under way
    bind.execute(sa.text("UPDATE assignment SET status = '进行中' WHERE status = '申请延期'"))
    bind.execute(sa.text("UPDATE period_status SET status = '进行中' WHERE status = '申请延期'"))


def upgrade() -> None:
    _copy_extensions()
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_column('extended_due')
        batch_op.drop_column('extension_reason')
        batch_op.drop_column('extension_approved_by')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('done_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('items', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_by', sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.drop_column('closed_by')
        batch_op.drop_column('closed_at')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_column('items')
        batch_op.drop_column('done_on')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('extension_approved_by', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('extension_reason', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('extended_due', sa.Date(), nullable=True))
