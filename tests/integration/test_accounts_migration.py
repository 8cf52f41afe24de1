"""Migration 0003 on SQLite and PostgreSQL: users made before it keep their roles, are
active and have no password until they set one; it downgrades and upgrades again; the audit
log stays append-only."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from aip_forms.db.session import alembic_config, make_engine, schema_revision


@pytest.fixture
def old_engine(database_url: str) -> Engine:
    engine = make_engine(database_url)
    command.upgrade(alembic_config(engine), "0002")
    return engine


def test_users_made_before_0003_have_no_password_until_they_set_one(old_engine: Engine) -> None:
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with old_engine.begin() as c:
        c.execute(
            text("INSERT INTO app_user (email, name, created_at) VALUES (:e, :n, :t)"),
            {"e": "pat@ped.nm.gov", "n": "Pat Ortiz", "t": now},
        )
        c.execute(
            text(
                "INSERT INTO role_grant (user_id, role, granted_at) "
                "SELECT id, 'ped_coordinator', :t FROM app_user"
            ),
            {"t": now},
        )
    command.upgrade(alembic_config(old_engine), "0003")
    assert schema_revision(old_engine) == "0003"
    with old_engine.connect() as c:
        row = c.execute(
            text("SELECT active, password_hash, phone, totp_secret FROM app_user")
        ).one()
        assert (bool(row.active), row.password_hash, row.phone, row.totp_secret) == (
            True,
            None,
            "",
            None,
        )
        assert c.execute(text("SELECT count(*) FROM role_grant")).scalar() == 1
    command.downgrade(alembic_config(old_engine), "0002")
    command.upgrade(alembic_config(old_engine), "head")
    with old_engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO audit_log (at, action, entity, entity_id) "
                "VALUES (:t, 'x', 'user', '1')"
            ),
            {"t": now},
        )
    with pytest.raises(DBAPIError, match="append-only"), old_engine.begin() as c:
        c.execute(text("DELETE FROM audit_log"))
    old_engine.dispose()
