"""progress updates, period data loads, deadlines and reminders (issue 12)

`plan.period` makes a progress update a plan record of its own (NULL: the plan itself);
`period_load` records each reporting period's data as loaded (a second load is refused
unless it replaces the first explicitly); `deadline` holds deadlines PED set per fiscal
year, plan kind and period; `reminder_sent` records each reminder mailed, unique per
recipient, subject, deadline and kind.

Revision ID: 0006
Revises: 0004 (re-pointed to 0005 at merge)
Create Date: 2027-01-10 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN on both databases (a nullable column, no batch copy).
    op.add_column("plan", sa.Column("period", sa.String(4), nullable=True))
    op.create_table(
        "period_load",
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(4), nullable=False),
        sa.Column("load_id", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        _when("first_loaded_at"),
        _when("loaded_at"),
        sa.Column("replacements", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["load_id"], ["data_load.id"], name=op.f("fk_period_load_load_id_data_load")
        ),
        sa.PrimaryKeyConstraint("fiscal_year", "period", name=op.f("pk_period_load")),
    )
    op.create_table(
        "deadline",
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("period", sa.String(4), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("set_by", sa.Integer(), nullable=True),
        _when("set_at"),
        sa.ForeignKeyConstraint(
            ["set_by"], ["app_user.id"], name=op.f("fk_deadline_set_by_app_user")
        ),
        sa.PrimaryKeyConstraint("fiscal_year", "kind", "period", name=op.f("pk_deadline")),
    )
    op.create_table(
        "reminder_sent",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(120), nullable=False),
        sa.Column("deadline", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        _when("sent_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_sent")),
        sa.UniqueConstraint(
            "recipient", "subject", "deadline", "kind", name="uq_reminder_sent_once"
        ),
    )


def downgrade() -> None:
    op.drop_table("reminder_sent")
    op.drop_table("deadline")
    op.drop_table("period_load")
    # ALTER TABLE ... DROP COLUMN needs SQLite 3.35 or later.
    op.drop_column("plan", "period")
