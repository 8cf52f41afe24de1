"""hidden cells per fiscal year, data load and LEA (issue 12's dashboard)

`hidden_cells` keeps the cells the documents hide for one LEA's plans of a fiscal year as of
a data load, computed once after the load (`aip data load`) or by the first dashboard that
needs them, so that the dashboard's first request after a load does not compute them.

Revision ID: 0008
Revises: 0007
Create Date: 2027-01-20 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hidden_cells",
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("load_id", sa.Integer(), nullable=False),
        sa.Column("lea_code", sa.String(16), nullable=False),
        sa.Column("cells", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["load_id"], ["data_load.id"], name=op.f("fk_hidden_cells_load_id_data_load")
        ),
        sa.PrimaryKeyConstraint("fiscal_year", "load_id", "lea_code", name=op.f("pk_hidden_cells")),
    )


def downgrade() -> None:
    op.drop_table("hidden_cells")
