"""review comments are resolved

A comment stays open until a reviewer resolves it: `resolved_at` and `resolved_by` say when
and by whom (both empty while open). Open comments are what a revision workbook carries.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-16 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_comment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resolved_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_review_comment_resolved_by_app_user"),
            "app_user",
            ["resolved_by"],
            ["id"],
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_review_comment_resolved_together"),
            "(resolved_at IS NULL) = (resolved_by IS NULL)",
        )


def downgrade() -> None:
    with op.batch_alter_table("review_comment", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_review_comment_resolved_together"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_review_comment_resolved_by_app_user"), type_="foreignkey"
        )
        batch_op.drop_column("resolved_by")
        batch_op.drop_column("resolved_at")
