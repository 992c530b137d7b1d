"""Per-period obligations: a recurring task is owed once per period by each unit it names, each period with
its own completion (`fuquan task set … --period 2024Q1`).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'period_status',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(), nullable=False),
        sa.Column('status', sa.String(), nullable=False),
        sa.Column('completed_on', sa.Date(), nullable=True),
        sa.Column('note', sa.String(), nullable=True),
        sa.Column('evidence', sa.String(), nullable=True),
        sa.ForeignKeyConstraint(['task_id'], ['task.id'], ),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('task_id', 'unit_id', 'period'),
    )
    with op.batch_alter_table('period_status', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_period_status_task_id'), ['task_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('period_status', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_period_status_task_id'))
    op.drop_table('period_status')
