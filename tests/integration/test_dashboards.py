"""The dashboard service on SQLite and PostgreSQL: plans and progress updates with their
status and lateness, targets from approved plans against the loaded period rates, groups off
track ranked, the share on track per period, scope per role, small groups hidden, and the
words behind the numbers. The data is built in the database as the load and submit paths
leave it (`seed_dashboard`); the page tests use the same builder."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from aip_forms.config import ProgramConfig
from aip_forms.db.models import (
    AbsenceRow,
    DataLoadRow,
    EnrollmentRow,
    PeriodLoadRow,
    PlanRecordRow,
    SubmissionRow,
    UserRow,
)
from aip_forms.domain import PlanKind
from aip_forms.errors import InvalidInput, NotFound
from aip_forms.filled_plan import Plan, PlanRow, PlanSection
from aip_forms.services.access import Grant, PlanRef, Role
from aip_forms.services.dashboards import Filters, dashboard, parse_filters, plan_words
from aip_forms.services.deadlines import set_deadline
from aip_forms.services.repository import storage_prefix
from aip_forms.services.uow import UowFactory, sql_uow
from tests.unit.test_workflow import seed_reference, seed_users

CONFIG = ProgramConfig()
TODAY = dt.date(2027, 1, 20)  # after the 80-day update's deadline, before the 120-day one's
PED = Grant(Role.PED_COORDINATOR)
BELEN = Grant(Role.DISTRICT_COORDINATOR, "006")
BELEN_HIGH = Grant(Role.SCHOOL_COORDINATOR, "006", "006001")

# (lea, school) -> group -> (enrollment, 80-day rate, 120-day rate, target)
GROUPS: dict[tuple[str, str], dict[tuple[str, str], tuple[int, float, float, float]]] = {
    ("006", "006001"): {
        ("subgroup", "all"): (400, 14.5, 16.0, 12.0),  # above target and rising
        ("subgroup", "female"): (200, 9.0, 8.0, 10.0),  # on track
        ("subgroup", "male"): (200, 20.0, 24.0, 14.0),  # far above target
        ("subgroup", "amind"): (6, 50.0, 50.0, 30.0),  # a small group: hidden
        ("subgroup", "hispanic"): (150, 12.0, 13.0, 12.0),  # rising, but hidden: complement
        ("grade", "9"): (100, 20.0, 18.0, 15.0),  # above target, falling
    },
    ("006", ""): {
        ("subgroup", "all"): (1200, 11.0, 10.0, 11.0),  # on track
        ("subgroup", "female"): (600, 10.0, 9.5, 10.0),
        ("grade", "9"): (300, 15.0, 14.0, 15.0),
    },
    ("007", "007001"): {
        ("subgroup", "all"): (500, 8.0, 7.0, 9.0),  # on track
        ("subgroup", "male"): (250, 30.0, 31.0, 12.0),  # another LEA's: never for Belen
    },
}


def _data_load(c: Any, summary: str) -> int:
    return int(c.execute(insert(DataLoadRow).values(source="test", summary=summary)
                         .returning(DataLoadRow.id)).scalar_one())  # fmt: skip


def _plan_answers(kind: PlanKind, lea: str, school: str | None,
                  groups: dict[tuple[str, str], tuple[int, float, float, float]],
                  ) -> dict[str, Any]:  # fmt: skip
    tables: dict[str, list[PlanRow]] = {"subgroup": [], "grade": []}
    for (gtype, code), (n, _, _, target) in groups.items():
        enrollment = n if n >= CONFIG.min_group_size else None
        tables[gtype].append(PlanRow(row=6 + len(tables[gtype]), code=code, values={
            "group": code, "enrollment": enrollment, "target": target / 100,
        }))  # fmt: skip
    sections = {
        "demographics": PlanSection(tables={"subgroups": tables["subgroup"]}),
        "grades": PlanSection(tables={"grades": tables["grade"]}),
    }
    if kind is PlanKind.SCHOOL:
        sections["root_cause"] = PlanSection(fields={
            "research": "Transportation barriers affect 30% of students.",
            "supportive_factors": "=Strong parent-engagement programs.",
            "barriers": "Bus routes cut in 2025.",
        })  # fmt: skip
    plan = Plan(kind=kind, spec_version=1, fiscal_year=2027, lea_code=lea, school_code=school,
                sections=sections)  # fmt: skip
    return {"plan": plan.to_json_dict()}


def _reflection_answers(lea: str, school: str) -> dict[str, Any]:
    rows = [
        PlanRow(row=6, code="1.1", values={"strategy": "Parent Outreach Programs",
                                           "rating": "Partly effective",
                                           "reflection": "40 families reached; buses late."}),
        PlanRow(row=7, code="2.1", values={"strategy": "Attendance Mentoring",
                                           "rating": "Effective",
                                           "reflection": "Mentors met 42 students weekly."}),
    ]  # fmt: skip
    plan = Plan(kind=PlanKind.SCHOOL, spec_version=1, fiscal_year=2027, lea_code=lea,
                school_code=school,
                sections={"strategies": PlanSection(tables={"strategies": rows})})  # fmt: skip
    return {"plan": plan.to_json_dict()}


def _record(c: Any, user: int, kind: PlanKind, lea: str, school: str | None,
            period: str | None, status: str, report: dict[str, Any] | None,
            version_status: str = "approved") -> int:  # fmt: skip
    prefix = storage_prefix(PlanRef(kind, 2027, lea, school, period))
    plan_id = int(c.execute(insert(PlanRecordRow).values(
        kind=kind.value, fiscal_year=2027, lea_code=lea, school_code=school, period=period,
        storage_prefix=prefix, status=status,
    ).returning(PlanRecordRow.id)).scalar_one())  # fmt: skip
    if report is not None:
        c.execute(insert(SubmissionRow).values(
            plan_id=plan_id, version=1, object_key=f"{prefix}v0001.xlsx", sha256="0" * 64,
            size=1, filename="p.xlsx", uploaded_by=user, final=True, status=version_status,
            report=report,
        ))  # fmt: skip
    return plan_id


def seed_dashboard(engine: Engine, *, users: bool = True) -> UowFactory:
    """Belen (006) with its high school, Bernalillo (007) with its: 80- and 120-day data
    loaded; Belen High's plan approved with its 80-day update approved and its 120-day
    one not started; Belen's district plan approved, its 40-day update returned; Bernalillo
    High's plan approved; Bernalillo's district plan not started."""
    uow = sql_uow(engine)
    if users:
        seed_reference(engine)
        seed_users(uow)
    with engine.begin() as c:
        user = int(c.execute(select(UserRow.id).limit(1)).scalar_one())
        rows, absence = [], []
        for (lea, school), groups in GROUPS.items():
            for (gtype, code), (n, r80, r120, _) in groups.items():
                rows.append(
                    {
                        "fiscal_year": 2027,
                        "lea_code": lea,
                        "school_code": school,
                        "group_type": gtype,
                        "group_code": code,
                        "enrollment": n,
                    }
                )
                for period, rate in (("80", r80), ("120", r120)):
                    absence.append({"fiscal_year": 2027, "period": period, "lea_code": lea,
                                    "school_code": school, "group_type": gtype,
                                    "group_code": code, "students": n,
                                    "chronically_absent": round(n * rate / 100),
                                    "rate_pct": rate})  # fmt: skip
        c.execute(insert(EnrollmentRow), rows)
        c.execute(insert(AbsenceRow), absence)
        moment = dt.datetime(2027, 2, 1, tzinfo=dt.UTC)
        for period in ("80", "120"):
            load = _data_load(c, period)
            c.execute(insert(PeriodLoadRow).values(
                fiscal_year=2027, period=period, load_id=load, rows=10, first_loaded_at=moment,
                loaded_at=moment))  # fmt: skip
        school, district = PlanKind.SCHOOL, PlanKind.DISTRICT
        for lea, code in (("006", "006001"), ("007", "007001")):
            _record(c, user, school, lea, code, None, "approved",
                    _plan_answers(school, lea, code, GROUPS[(lea, code)]))  # fmt: skip
        _record(c, user, school, "006", "006001", "80", "approved",
                _reflection_answers("006", "006001"))  # fmt: skip
        _record(c, user, district, "006", None, None, "approved",
                _plan_answers(district, "006", None, GROUPS[("006", "")]))  # fmt: skip
        _record(c, user, district, "006", None, "40", "returned",
                {"plan": None}, version_status="returned")  # fmt: skip
    return uow


@pytest.fixture
def uow(engine: Engine) -> UowFactory:
    return seed_dashboard(engine)


def board(uow: UowFactory, grant: Grant = PED, **filters: Any) -> Any:
    return dashboard(grant, Filters(2027, **filters), uow=uow, config=CONFIG, today=TODAY)


def test_statewide_lists_every_plan_and_update_with_late_ones_first(uow: UowFactory) -> None:
    found = board(uow)
    assert found.scope == "statewide"
    assert [p.code for p in found.loaded] == ["80", "120"]
    assert found.period.code == "120"  # the latest with data
    lines = {ln.key: ln for ln in found.plans}
    assert set(lines) == {"FY2027-district-006", "FY2027-district-007", "FY2027-school-006001",
                          "FY2027-school-007001"}  # fmt: skip
    bernalillo = lines["FY2027-district-007"]
    assert bernalillo.plan.status == "not started" and bernalillo.plan.late  # due 2026-10-01
    assert [u.status for u in bernalillo.updates] == ["waiting for the plan"] * 3
    assert not any(u.late for u in bernalillo.updates)  # no plan: nothing to update yet
    belen_high = lines["FY2027-school-006001"]
    assert [(u.period, u.status, u.late) for u in belen_high.updates] == [
        ("80", "approved", False), ("120", "not started", False), ("EOY", "not started", False)
    ]  # fmt: skip
    belen = lines["FY2027-district-006"]
    assert [(u.period, u.status, u.late) for u in belen.updates][:2] == [
        ("40", "returned", True), ("80", "not started", True)
    ]  # fmt: skip
    # Bernalillo High's plan is approved and its 80-day update not in: late
    late = {"FY2027-district-007", "FY2027-district-006", "FY2027-school-007001"}
    assert {ln.key for ln in found.late} == late
    assert all(ln.late for ln in found.plans[:3]) and not found.plans[3].late


def test_a_deadline_ped_sets_moves_lateness(uow: UowFactory) -> None:
    set_deadline(uow=uow, config=CONFIG, fiscal_year=2027, kind=PlanKind.SCHOOL, period="120",
                 due_on=dt.date(2027, 1, 15))  # fmt: skip
    line = next(ln for ln in board(uow).plans if ln.key == "FY2027-school-006001")
    assert [(u.period, u.late, u.due_on) for u in line.updates][1] == (
        "120",
        True,
        dt.date(2027, 1, 15),
    )


def test_targets_against_actual_and_off_track_ranked(uow: UowFactory) -> None:
    found = board(uow, period="120")
    off = [(r.entity.code, r.group_code, r.gap, r.why) for r in found.off_track]
    assert off[:3] == [
        ("007001", "male", 19.0, "19.0 points above target; rising since the last period"),
        ("006001", "male", 10.0, "10.0 points above target; rising since the last period"),
        ("006001", "all", 4.0, "4.0 points above target; rising since the last period"),
    ]
    assert ("006001", "9", 3.0, "3.0 points above target") in off
    assert not any(code == "female" for _, code, _, _ in off)
    at_80 = board(uow, period="80")
    assert at_80.period.code == "80"
    assert next(r for r in at_80.results if r.group_code == "all" and r.entity.code == "006001"
                ).previous is None  # fmt: skip
    # statewide by LEA: district plans' all students; by subgroup: means over district plans
    assert [(c.code, c.target, c.actual) for c in found.by_place] == [("006", 11.0, 10.0)]
    assert [(c.code, c.target, c.actual, c.plans) for c in found.by_subgroup] == [
        ("all", 11.0, 10.0, 1), ("female", 10.0, 9.5, 1)
    ]  # fmt: skip
    assert [(c.code, c.actual) for c in found.by_grade] == [("9", 14.0)]


def test_small_groups_are_hidden_with_their_complement(uow: UowFactory) -> None:
    found = board(uow)
    small = next(r for r in found.results if r.group_code == "amind")
    assert small.hidden and small.current is None and small.target is None
    assert not small.off_track  # 50% against 30%, but never shown
    # the race partition's only other group: its rate would give the small one away
    complement = next(r for r in found.results if r.group_code == "hispanic")
    assert complement.hidden and complement.current is None and not complement.off_track
    shown = next(r for r in found.results if r.group_code == "female" and r.entity.code == "006001")
    assert not shown.hidden and shown.current == 8.0


def test_share_on_track_per_period(uow: UowFactory) -> None:
    shares = [(s.period, s.with_data, s.on_track, s.share) for s in board(uow).shares]
    # 80-day: Belen 11.0 <= 11 yes, Belen High 14.5 > 12 no, Bernalillo High 8 <= 9 yes
    assert shares == [("80", 3, 2, 66.7), ("120", 3, 2, 66.7)]


def test_a_district_sees_its_schools_only_whatever_the_filter(uow: UowFactory) -> None:
    found = board(uow, BELEN, lea_code="007")
    assert found.scope == "district"
    assert {ln.entity.lea_code for ln in found.plans} == {"006"}
    assert {r.entity.lea_code for r in found.results} == {"006"}
    assert [c.code for c in found.by_place] == ["006001"]  # its schools
    assert found.leas == []
    assert not any(r.entity.code == "007001" for r in found.off_track)


def test_a_school_sees_its_own_trend(uow: UowFactory) -> None:
    found = board(uow, BELEN_HIGH)
    assert [ln.key for ln in found.plans] == ["FY2027-school-006001"]
    trend = {t.group_code: t for t in found.trend}
    assert trend["all"].rates == (14.5, 16.0) and trend["all"].target == 12.0
    assert trend["amind"].rates == (None, None) and trend["amind"].hidden
    assert trend["hispanic"].rates == (None, None) and trend["hispanic"].target is None


def test_filters_by_status_lea_and_period(uow: UowFactory) -> None:
    assert [ln.key for ln in board(uow, status="not started").plans] == ["FY2027-district-007"]
    assert {ln.key for ln in board(uow, status="late").plans} == {
        "FY2027-district-006", "FY2027-district-007", "FY2027-school-007001"}  # fmt: skip
    assert [ln.key for ln in board(uow, status="late", period="80").plans] == [
        "FY2027-district-006", "FY2027-school-007001"]  # fmt: skip
    assert [ln.key for ln in board(uow, status="returned", period="40").plans] == [
        "FY2027-district-006"
    ]
    by_lea = board(uow, lea_code="007")
    assert {ln.entity.lea_code for ln in by_lea.plans} == {"007"}
    assert [s.with_data for s in by_lea.shares] == [1, 1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"fy": "20x7"}, "fiscal year"),
        ({"fy": "99999"}, "fiscal year"),
        ({"period": "=1+1"}, "period"),
        ({"lea": "006' OR 1=1"}, "LEA"),
        ({"status": "<script>"}, "status"),
    ],
)
def test_hostile_filters_are_refused(args: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_filters(args, TODAY, CONFIG)


def test_filters_default_to_this_fiscal_year() -> None:
    assert parse_filters({}, TODAY, CONFIG) == Filters(2027)
    assert parse_filters({"period": "eoy", "status": "Late"}, TODAY, CONFIG) == Filters(
        2027, "EOY", None, "late"
    )


def test_the_words_behind_the_numbers(uow: UowFactory) -> None:
    words = plan_words("FY2027-school-006001", BELEN, uow=uow, config=CONFIG, today=TODAY)
    assert words.root_causes[0] == (
        "National/Local Research",
        "Transportation barriers affect 30% of students.",
    )
    assert words.reflections_of == "80-day"
    assert [(r.strategy, r.rating) for r in words.reflections] == [
        ("Parent Outreach Programs", "Partly effective"), ("Attendance Mentoring", "Effective")
    ]  # fmt: skip
    with pytest.raises(NotFound):
        plan_words("FY2027-school-007001", BELEN, uow=uow, config=CONFIG, today=TODAY)
    district = plan_words("FY2027-district-006", PED, uow=uow, config=CONFIG, today=TODAY)
    assert district.root_causes == () and district.reflections == ()
    assert (words.status, district.status) == ("approved", "approved")


def test_what_is_kept_between_requests_follows_approvals_and_loads(
    engine: Engine, uow: UowFactory
) -> None:
    before = board(uow)
    assert not any(r.entity.code == "007" for r in before.results)
    with engine.begin() as c:
        user = int(c.execute(select(UserRow.id).limit(1)).scalar_one())
        c.execute(insert(AbsenceRow), [
            {"fiscal_year": 2027, "period": p, "lea_code": "007", "school_code": "",
             "group_type": "subgroup", "group_code": "all", "students": 900,
             "chronically_absent": 270, "rate_pct": 30.0} for p in ("80", "120")
        ])  # fmt: skip
        _data_load(c, "007 added")
        _record(c, user, PlanKind.DISTRICT, "007", None, None, "approved",
                _plan_answers(PlanKind.DISTRICT, "007", None,
                              {("subgroup", "all"): (900, 30.0, 30.0, 20.0)}))  # fmt: skip
    after = board(uow)
    assert ("007", "all", 10.0) in [(r.entity.code, r.group_code, r.gap) for r in after.off_track]
    assert [c.code for c in after.by_place] == ["006", "007"]
