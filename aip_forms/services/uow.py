"""The unit of work: one database transaction, committed explicitly or rolled back.

Services take a `UowFactory` and open one unit per transaction:

    with uow() as u:
        u.session.add(...)
        u.commit()

Leaving the block without `commit()` rolls back. `sql_uow(engine)` is the SQLAlchemy
factory; tests wrap it to make a commit fail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from aip_forms.clock import Clock, utc_now

__all__ = ["Clock", "UnitOfWork", "UowFactory", "aware", "sql_uow", "utc_now"]


class UnitOfWork(Protocol):
    session: Session

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...


UowFactory = Callable[[], UnitOfWork]


class SqlUnitOfWork:
    """A session from `sessions`, closed (and rolled back unless committed) on exit."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def __enter__(self) -> Self:
        self.session = self._sessions()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()


def sql_uow(engine: Engine) -> UowFactory:
    """A factory of units of work on `engine`; objects stay readable after commit."""
    sessions = sessionmaker(engine, expire_on_commit=False)
    return lambda: SqlUnitOfWork(sessions)


def aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; every time stored here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
