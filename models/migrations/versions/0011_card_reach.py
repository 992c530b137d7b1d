"""Reminders delivered to persons (issue 29): one row per person and message sent through DingTalk's or WeCom's
app, with when and how they answered from it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('card_reach',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(), nullable=False),
    sa.Column('track', sa.String(), nullable=False),
    sa.Column('unit', sa.String(), nullable=False),
    sa.Column('person_id', sa.String(), nullable=False),
    sa.Column('person_name', sa.String(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('action', sa.String(), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform', 'track', 'person_id', name='uq_card_reach_person')
    )
    with op.batch_alter_table('card_reach', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_reach_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_reach_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_card_reach_track'), ['track'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('card_reach', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_reach_track'))
        batch_op.drop_index(batch_op.f('ix_card_reach_plan_id'))
        batch_op.drop_index(batch_op.f('ix_card_reach_message_id'))
    op.drop_table('card_reach')
