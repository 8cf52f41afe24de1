"""Deadlines per fiscal year, plan kind and reporting period (issue 12): read and set.

A deadline comes, in this order, from PED's own date (the `deadline` table, set with
`set_deadline`; the admin page comes later), from the program config (`deadlines` for
plans), or from the rule:

- district plan: `district_plan_school_days` (45) school days into the school year, NMSA
  22-12A-7; school plan: the program config's school deadline;
- a progress update: `progress_due_days` calendar days after its period's day (the 40th,
  80th or 120th school day), or after the last school day for the end of the year.

School days are counted Monday to Friday from `school_year_start`, skipping the program
config's `school_holidays` for the year (state holidays and breaks; a district's own calendar
can still move its days by a few, which PED corrects by setting the date).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from aip_forms.config import ProgramConfig
from aip_forms.db.models import DeadlineRow
from aip_forms.domain import PlanKind
from aip_forms.errors import Forbidden, InvalidInput
from aip_forms.services.access import Role, period_name
from aip_forms.services.repository import grants_of, require_user
from aip_forms.services.uow import Clock, UowFactory, utc_now

LAST_SCHOOL_DAY = (6, 15)  # month, day of the fiscal year's end


@dataclass(frozen=True)
class Deadline:
    fiscal_year: int
    kind: PlanKind
    period: str | None  # None: the plan itself
    due_on: dt.date
    source: str  # "PED", "program config" or the rule's name

    @property
    def key(self) -> str:
        """Stable name of the deadline, e.g. "2027/school/80" or "2027/district/plan"."""
        return f"{self.fiscal_year}/{self.kind.value}/{self.period or 'plan'}"

    @property
    def what(self) -> str:
        return period_name(self.period) if self.period else f"{self.kind.value} plan"


def school_year_start(config: ProgramConfig, fiscal_year: int) -> dt.date:
    if fiscal_year in config.school_year_start:
        return config.school_year_start[fiscal_year]
    first = dt.date(fiscal_year - 1, 8, 1)
    return first + dt.timedelta(days=(7 - first.weekday()) % 7 + 7)  # second Monday


def school_day(config: ProgramConfig, fiscal_year: int, n: int) -> dt.date:
    """The date of the n-th school day (1 = the first), counting Monday to Friday and
    skipping the year's holidays."""
    holidays = frozenset(config.school_holidays.get(fiscal_year, ()))

    def open_on(day: dt.date) -> bool:
        return day.weekday() < 5 and day not in holidays

    day = school_year_start(config, fiscal_year)
    while not open_on(day):
        day += dt.timedelta(days=1)
    counted = 1
    while counted < n:
        day += dt.timedelta(days=1)
        if open_on(day):
            counted += 1
    return day


def rule_date(
    config: ProgramConfig, fiscal_year: int, kind: PlanKind, period: str | None
) -> tuple[dt.date, str]:
    """The deadline without PED's own date: (date, where it comes from)."""
    if period is None:
        if kind is PlanKind.DISTRICT and fiscal_year not in config.deadlines:
            days = config.district_plan_school_days
            return school_day(
                config, fiscal_year, days
            ), f"{days} school days in ({config.legal_basis})"
        return config.deadline(fiscal_year, kind), "program config"
    found = next((p for p in config.periods if p.code == period), None)
    if found is None:
        raise InvalidInput(f"unknown reporting period {period!r}")
    end = (
        school_day(config, fiscal_year, found.day)
        if found.day
        else dt.date(fiscal_year, *LAST_SCHOOL_DAY)
    )
    return end + dt.timedelta(days=config.progress_due_days), (
        f"{config.progress_due_days} days after the {found.label} period"
    )


def _set_dates(session: Session, fiscal_year: int) -> dict[tuple[str, str], dt.date]:
    rows = session.scalars(select(DeadlineRow).where(DeadlineRow.fiscal_year == fiscal_year))
    return {(r.kind, r.period): r.due_on for r in rows}


def deadlines_of(session: Session, config: ProgramConfig, fiscal_year: int) -> list[Deadline]:
    """Every deadline of the year: each plan kind's plan, then its progress periods."""
    set_dates = _set_dates(session, fiscal_year)
    out = []
    for kind in (PlanKind.DISTRICT, PlanKind.SCHOOL):
        for period in (None, *(p.code for p in config.periods_for(kind))):
            ped = set_dates.get((kind.value, period or ""))
            if ped is not None:
                out.append(Deadline(fiscal_year, kind, period, ped, "PED"))
            else:
                due, source = rule_date(config, fiscal_year, kind, period)
                out.append(Deadline(fiscal_year, kind, period, due, source))
    return out


def deadline_of(
    session: Session, config: ProgramConfig, fiscal_year: int, kind: PlanKind, period: str | None
) -> Deadline:
    return next(
        d
        for d in deadlines_of(session, config, fiscal_year)
        if (d.kind, d.period) == (kind, period)
    )


def list_deadlines(*, uow: UowFactory, config: ProgramConfig, fiscal_year: int) -> list[Deadline]:
    with uow() as u:
        return deadlines_of(u.session, config, fiscal_year)


def set_deadline(
    *,
    uow: UowFactory,
    config: ProgramConfig,
    fiscal_year: int,
    kind: PlanKind,
    period: str | None,
    due_on: dt.date,
    user_email: str | None = None,
    clock: Clock = utc_now,
) -> Deadline:
    """PED sets a deadline (None as user: the operator at the command line)."""
    kind = PlanKind(kind)
    if period is not None and period not in {p.code for p in config.periods_for(kind)}:
        allowed = ", ".join(p.code for p in config.periods_for(kind))
        raise InvalidInput(f"{kind.value} plans report at {allowed}, not at period {period!r}")
    if not dt.date(fiscal_year - 1, 7, 1) <= due_on <= dt.date(fiscal_year, 6, 30):
        raise InvalidInput(f"{due_on} is outside FY{fiscal_year} (July 1 to June 30)")
    with uow() as u:
        user_id = None
        if user_email is not None:
            user = require_user(u.session, user_email)
            if not any(g.role is Role.PED_COORDINATOR for g in grants_of(u.session, user.id)):
                raise Forbidden(
                    f"{user.email} may not set deadlines: {config.agency_short} coordinators do"
                )
            user_id = user.id
        row = u.session.get(DeadlineRow, (fiscal_year, kind.value, period or ""))
        if row is None:
            row = DeadlineRow(fiscal_year=fiscal_year, kind=kind.value, period=period or "")
            u.session.add(row)
        row.due_on, row.set_by, row.set_at = due_on, user_id, clock()
        u.commit()
    return Deadline(fiscal_year, kind, period, due_on, "PED")
