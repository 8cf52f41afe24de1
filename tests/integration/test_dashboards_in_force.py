"""Targets in force on the dashboard (issue 12): for a period, the approved plan's target,
unless an approved progress update of an earlier period adjusted it; the adjusted one is
then compared with the period's rates, counted in the share on track of that period and
named as the target's source. A progress update not approved adjusts nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from aip_forms.db.models import PlanRecordRow, SubmissionRow
from aip_forms.domain import PlanKind
from aip_forms.filled_plan import Plan, PlanRow, PlanSection
from aip_forms.services.uow import UowFactory
from tests.integration.test_dashboards import board, seed_dashboard

# Belen High's 80-day update adjusts all students from 12% to 16.5% and male from 14% to 22%.
ADJUSTED = {("subgroups", "all"): 0.165, ("subgroups", "male"): 0.22}


def _update_answers() -> dict[str, Any]:
    rows = [
        PlanRow(row=6 + n, code=code, values={"adjusted_target": value})
        for n, ((_, code), value) in enumerate(ADJUSTED.items())
    ]
    plan = Plan(kind=PlanKind.SCHOOL, spec_version=1, fiscal_year=2027, lea_code="006",
                school_code="006001",
                sections={"subgroups": PlanSection(tables={"subgroups": rows})})  # fmt: skip
    return {"plan": plan.to_json_dict()}


def _adjust(engine: Engine, *, status: str = "approved") -> None:
    """Give Belen High's 80-day update its adjusted targets (a digest of its own, so that
    no earlier test's cached reading of the same version id is reused)."""
    with engine.begin() as c:
        record = c.execute(
            select(PlanRecordRow.id).where(PlanRecordRow.period == "80")
        ).scalar_one()
        c.execute(update(PlanRecordRow).where(PlanRecordRow.id == record).values(status=status))
        c.execute(
            update(SubmissionRow)
            .where(SubmissionRow.plan_id == record)
            .values(report=_update_answers(), sha256="a" * 63 + status[0], status=status)
        )


@pytest.fixture
def uow(engine: Engine) -> UowFactory:
    return seed_dashboard(engine)


def _belen_high(found: Any, code: str) -> Any:
    return next(r for r in found.results if r.entity.code == "006001" and r.group_code == code)


def test_a_later_period_compares_against_the_adjusted_target(
    engine: Engine, uow: UowFactory
) -> None:
    before = board(uow, period="120")
    assert (_belen_high(before, "all").target, _belen_high(before, "all").target_source) == (
        12.0,
        "approved plan",
    )
    assert [(s.period, s.with_data, s.on_track) for s in before.shares] == [
        ("80", 3, 2), ("120", 3, 2)
    ]  # fmt: skip

    _adjust(engine)
    found = board(uow, period="120")
    everyone, male = _belen_high(found, "all"), _belen_high(found, "male")
    assert (everyone.target, everyone.current, everyone.target_source) == (
        16.5,
        16.0,
        "80-day update",
    )
    assert not everyone.above_target and everyone.rising  # still off track: rising
    assert (male.target, male.gap, male.target_source) == (22.0, 2.0, "80-day update")
    female = _belen_high(found, "female")
    assert (female.target, female.target_source) == (10.0, "approved plan")  # not adjusted
    assert found.adjusted_from == ["80-day"]
    # the share on track of the 120-day period counts Belen High's adjusted target
    assert [(s.period, s.with_data, s.on_track) for s in found.shares] == [
        ("80", 3, 2), ("120", 3, 3)
    ]  # fmt: skip

    at_80 = board(uow, period="80")  # the 80-day update adjusts the next periods, not its own
    assert (_belen_high(at_80, "all").target, _belen_high(at_80, "all").target_source) == (
        12.0,
        "approved plan",
    )
    assert at_80.adjusted_from == []


def test_an_update_not_approved_adjusts_nothing(engine: Engine, uow: UowFactory) -> None:
    _adjust(engine, status="submitted")
    found = board(uow, period="120")
    assert _belen_high(found, "all").target == 12.0
    assert found.adjusted_from == []
