"""Score adjustments (issue 28): a leader's points for a unit in a quarter or a year, with the reason, who and when
(`fuquan score adjust`); never changed or deleted, an entry is undone by an opposite one.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('score_adjustment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(), nullable=False),
    sa.Column('points', sa.Float(), nullable=False),
    sa.Column('reason', sa.String(), nullable=False),
    sa.Column('by', sa.String(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('score_adjustment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_adjustment_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_score_adjustment_unit_id'), ['unit_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('score_adjustment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_adjustment_unit_id'))
        batch_op.drop_index(batch_op.f('ix_score_adjustment_plan_id'))
    op.drop_table('score_adjustment')
