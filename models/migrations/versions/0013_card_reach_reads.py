"""Read status of reminders sent to persons (issue 29): when DingTalk last told us (`checked_at`) and when the
person read the message (`read_at`). Only the robot's 1:1 messages (the 签收 chase's repeat) have one.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('card_reach', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('read_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('card_reach', schema=None) as batch_op:
        batch_op.drop_column('read_at')
        batch_op.drop_column('checked_at')
