"""schools carry an academic index (program profiles, issue 14)

LAUSD's program selects schools whose academic performance index is under a cut-off; the
schools file may carry it (`academic_index`, optional) and it is kept with the school.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.add_column(sa.Column("academic_index", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.drop_column("academic_index")
