"""Engine creation and schema upgrade (Alembic) for SQLite and PostgreSQL, and the
translation of SQLAlchemy's errors into the project's own (`aip_forms.errors`).

`ensure_schema` reads the schema's revision first and runs Alembic (a costly import) only
when the database is behind: most commands start against an up-to-date database.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    NoResultFound,
    SQLAlchemyError,
)

from aip_forms.errors import AipError, Conflict, NotFound, Unavailable, register_translator

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration's revision; a test checks it against Alembic's head.
HEAD_REVISION = "0009"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # a server restarted since a pooled connection was made: replaced on checkout, not
    # handed to a request to fail on (SQLite has no server to lose)
    pre_ping = not url.startswith("sqlite")
    engine = create_engine(url, future=True, pool_pre_ping=pre_ping)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _fk_on(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

    return engine


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent)."""
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


def schema_revision(engine: Engine) -> str | None:
    """The revision Alembic recorded, or None for a database it has not set up."""
    with engine.connect() as conn:
        if not engine.dialect.has_table(conn, "alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ensure_schema(engine: Engine) -> None:
    """`upgrade` unless the schema is at HEAD_REVISION already."""
    if schema_revision(engine) != HEAD_REVISION:
        upgrade(engine)


@register_translator
def database_error(error: BaseException) -> AipError | None:
    """SQLAlchemy's errors as the project's: a lost unique race is a conflict, a missing
    row is not found, anything else means the database cannot be used right now."""
    if not isinstance(error, SQLAlchemyError):
        return None
    if isinstance(error, IntegrityError):
        return Conflict(f"the database refused a change that conflicts with another: {_why(error)}")
    if isinstance(error, NoResultFound):
        return NotFound("no such record")
    return Unavailable(f"the database is unavailable: {_why(error)}")


def _why(error: SQLAlchemyError) -> str:
    """The driver's first line, without SQL or parameters."""
    cause = error.orig if isinstance(error, DBAPIError) and error.orig else error
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return lines[0] if lines else type(cause).__name__
