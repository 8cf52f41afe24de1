"""Fixtures every suite can use: databases (SQLite and PostgreSQL) and an AIP_HOME.

`database_url` runs a test once on SQLite and once on PostgreSQL (marked `postgres`), each time
on a new empty database; `engine` is an engine on it with the schema upgraded. The PostgreSQL
server is started once per test session (per xdist worker) and removed at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from aip_forms.db.session import make_engine, upgrade
from tests.support.postgres import PostgresServer, postgres_server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres: PostgresServer) -> str:
    """A database on the session's PostgreSQL server (shared by the session's tests)."""
    return postgres.url(postgres.create_database("aip_session"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new empty database, on SQLite and (a second run of the test) on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'aip.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = server.create_database()
    yield server.url(name)
    server.drop_database(name)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def aip_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """AIP_HOME in a temporary directory, a test secret key, the default SQLite database."""
    home = tmp_path / "aip-home"
    home.mkdir()
    monkeypatch.setenv("AIP_HOME", str(home))
    monkeypatch.setenv("AIP_SECRET_KEY", "test-secret-key")
    monkeypatch.delenv("AIP_DATABASE_URL", raising=False)
    monkeypatch.delenv("AIP_PROGRAM_CONFIG", raising=False)
    return home
