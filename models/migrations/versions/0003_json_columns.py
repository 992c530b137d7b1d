"""JSON columns are JSON, not text parsed by hand: plan.report_figures / settings, task.rule / units / track,
training_session.towns, monthly_report.figures, message.body, month_snapshot.content.

SQLite keeps the same text (its JSON type is text underneath; the batch copy only changes the declared
type); PostgreSQL converts each value with `::json`, so a stored value that is not JSON fails the upgrade
loudly instead of a later read.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

COLUMNS = {
    'plan': [('report_figures', False), ('settings', False)],
    'task': [('rule', True), ('units', False), ('track', False)],
    'training_session': [('towns', False)],
    'monthly_report': [('figures', False)],
    'message': [('body', False)],
    'month_snapshot': [('content', False)],
}


def _alter(to_json: bool) -> None:
    pg = op.get_bind().dialect.name == 'postgresql'
    new, old = (sa.JSON(), sa.VARCHAR()) if to_json else (sa.VARCHAR(), sa.JSON())
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, nullable in columns:
                using: dict[str, Any] = {'postgresql_using': f'{name}::{"json" if to_json else "text"}'} if pg else {}
                batch_op.alter_column(name, existing_type=old, type_=new, existing_nullable=nullable, **using)


def upgrade() -> None:
    _alter(True)


def downgrade() -> None:
    _alter(False)
