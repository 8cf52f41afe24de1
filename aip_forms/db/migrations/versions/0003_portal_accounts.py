"""portal accounts: passwords, second factor, registrations, links, throttling, announcements

Users gain a phone, an active flag, an argon2id password hash (NULL until they set one) and a
TOTP secret; new tables hold registration requests, sign-in challenges, single-use links
(stored as SHA-256), failed-sign-in counters and PED announcements. The audit log's
append-only triggers (0002) are untouched.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 04:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # Plain ALTER TABLE ... ADD COLUMN: a batch copy of app_user on SQLite would drop the
    # table that role grants, plans and the audit log refer to.
    op.add_column("app_user", sa.Column("phone", sa.String(32), nullable=False, server_default=""))
    op.add_column(
        "app_user", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.add_column("app_user", sa.Column("password_hash", sa.String(200), nullable=True))
    op.add_column("app_user", _when("password_changed_at", nullable=True))
    op.add_column("app_user", sa.Column("totp_secret", sa.String(64), nullable=True))
    op.add_column("app_user", _when("totp_confirmed_at", nullable=True))
    op.add_column("app_user", sa.Column("totp_last_step", sa.Integer(), nullable=True))

    op.create_table(
        "registration",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("first_name", sa.String(60), nullable=False),
        sa.Column("last_name", sa.String(60), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("lea_code", sa.String(16), nullable=False),
        sa.Column("school_code", sa.String(16), nullable=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _when("created_at"),
        _when("decided_at", nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.ForeignKeyConstraint(
            ["lea_code"], ["lea.code"], name=op.f("fk_registration_lea_code_lea")
        ),
        sa.ForeignKeyConstraint(
            ["school_code"], ["school.code"], name=op.f("fk_registration_school_code_school")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["app_user.id"], name=op.f("fk_registration_decided_by_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration")),
    )
    op.create_index(op.f("ix_registration_email"), "registration", ["email"])

    op.create_table(
        "sign_in_challenge",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=True),
        _when("created_at"),
        _when("expires_at"),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("resends", sa.Integer(), nullable=False),
        _when("used_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_sign_in_challenge_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_challenge")),
    )
    op.create_index(op.f("ix_sign_in_challenge_user_id"), "sign_in_challenge", ["user_id"])

    op.create_table(
        "account_token",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        _when("used_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_account_token_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_token_token_hash")),
    )
    op.create_index(op.f("ix_account_token_user_id"), "account_token", ["user_id"])

    op.create_table(
        "throttle",
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        _when("last_failure_at"),
        _when("blocked_until", nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_throttle")),
    )

    op.create_table(
        "announcement",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("audience", sa.String(16), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        _when("created_at"),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_announcement_dates_in_order")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["app_user.id"], name=op.f("fk_announcement_created_by_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement")),
    )


def downgrade() -> None:
    op.drop_table("announcement")
    op.drop_table("throttle")
    op.drop_index(op.f("ix_account_token_user_id"), table_name="account_token")
    op.drop_table("account_token")
    op.drop_index(op.f("ix_sign_in_challenge_user_id"), table_name="sign_in_challenge")
    op.drop_table("sign_in_challenge")
    op.drop_index(op.f("ix_registration_email"), table_name="registration")
    op.drop_table("registration")
    # ALTER TABLE ... DROP COLUMN needs SQLite 3.35 or later (see upgrade for why not batch).
    for column in (
        "totp_last_step",
        "totp_confirmed_at",
        "totp_secret",
        "password_changed_at",
        "password_hash",
        "active",
        "phone",
    ):
        op.drop_column("app_user", column)
