"""Audit rows say which plan they belong to; an index for enqueue's per-recipient count.

A province database holds many plans, and an audit trail that cannot be filtered by plan is no trail.
Rows written before this revision get the plan when the database holds exactly one (every database
0.1.0 made by following the README does); with several plans they stay NULL rather than be guessed.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plan_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_plan_id'), ['plan_id'], unique=False)
        batch_op.create_foreign_key('fk_audit_plan_id', 'plan', ['plan_id'], ['id'])
    op.execute("UPDATE audit SET plan_id = (SELECT MIN(id) FROM plan) WHERE (SELECT COUNT(*) FROM plan) = 1")

    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index('ix_message_plan_day_recipient', ['plan_id', 'day', 'recipient'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index('ix_message_plan_day_recipient')

    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.drop_constraint('fk_audit_plan_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_audit_plan_id'))
        batch_op.drop_column('plan_id')
