"""督办单 (issue 28): each slip issued — its number, unique within a plan and a year and never reused, the unit and
the day (one a unit a day), its level, the day it must be answered by and the items it listed (models/slips.py).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('slip',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('level', sa.String(), nullable=False),
    sa.Column('answer_by', sa.Date(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('plan_id', 'unit_id', 'day', name='uq_slip_unit_day'),
    sa.UniqueConstraint('plan_id', 'year', 'number', name='uq_slip_number')
    )
    with op.batch_alter_table('slip', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slip_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_slip_unit_id'), ['unit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('slip', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slip_unit_id'))
        batch_op.drop_index(batch_op.f('ix_slip_plan_id'))
    op.drop_table('slip')
