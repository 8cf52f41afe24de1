"""The home screen's rows (aip_forms.services.home): each role's scope, plan status and
deadline, and New Mexico's fiscal year from a date."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, create_engine

from aip_forms.config import ProgramConfig
from aip_forms.db.models import PlanRecordRow
from aip_forms.db.session import upgrade
from aip_forms.domain import PlanKind
from aip_forms.services.access import Grant, Role
from aip_forms.services.home import NOT_STARTED, districts, fiscal_year_of, home_rows
from aip_forms.services.uow import sql_uow
from tests.unit.test_workflow import seed_reference

CONFIG = ProgramConfig()


@pytest.fixture
def engine() -> Engine:
    engine = create_engine("sqlite://")
    upgrade(engine)
    seed_reference(engine)
    return engine


@pytest.mark.parametrize(
    ("day", "year"),
    [
        (dt.date(2026, 6, 30), 2026),
        (dt.date(2026, 7, 1), 2027),
        (dt.date(2027, 1, 15), 2027),
        (dt.date(2027, 6, 30), 2027),
        (dt.date(2027, 7, 1), 2028),
    ],
)
def test_the_fiscal_year_runs_july_to_june(day: dt.date, year: int) -> None:
    assert fiscal_year_of(day) == year


def test_each_role_sees_its_scope_with_status_and_deadline(engine: Engine) -> None:
    uow = sql_uow(engine)
    with uow() as u:
        u.session.add(
            PlanRecordRow(kind="school", fiscal_year=2027, lea_code="006", school_code="006001",
                          storage_prefix="p/1", status="submitted")
        )  # fmt: skip
        u.session.add(
            PlanRecordRow(kind="school", fiscal_year=2026, lea_code="007", school_code="007001",
                          storage_prefix="p/2", status="approved")
        )  # fmt: skip
        u.commit()

    def rows(grant: Grant) -> list[tuple[str, str | None, str]]:
        return [
            (r.lea_code, r.school_code, r.status)
            for r in home_rows(grant, 2027, uow=uow, config=CONFIG)
        ]

    assert rows(Grant(Role.SCHOOL_COORDINATOR, "006", "006001")) == [("006", "006001", "submitted")]
    assert rows(Grant(Role.DISTRICT_COORDINATOR, "006")) == [
        ("006", None, NOT_STARTED),
        ("006", "006001", "submitted"),
    ]
    # the FY2026 plan of 007001 is not this year's
    assert rows(Grant(Role.DISTRICT_COORDINATOR, "007")) == [
        ("007", None, NOT_STARTED),
        ("007", "007001", NOT_STARTED),
    ]
    assert rows(Grant(Role.PED_REVIEWER)) == [
        ("006", None, NOT_STARTED),
        ("007", None, NOT_STARTED),
    ]
    district = home_rows(Grant(Role.DISTRICT_COORDINATOR, "006"), 2027, uow=uow, config=CONFIG)
    assert district[0].deadline == CONFIG.deadline(2027, PlanKind.DISTRICT)
    assert district[1].deadline == CONFIG.deadline(2027, PlanKind.SCHOOL)
    assert district[1].name == "BELEN HIGH"
    assert districts(uow=uow) == [("006", "BELEN CONSOLIDATED"), ("007", "BERNALILLO")]
