"""Reading plan data from the database: rows, rates, suppression, tiers, periods, targets."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, insert

from aip_forms.config import ProgramConfig
from aip_forms.data.queries import UnknownEntity, all_plan_data, plan_data, plan_targets
from aip_forms.db.models import AbsenceRow, EnrollmentRow, LeaRow, SchoolRow
from aip_forms.domain import PlanKind

FY = 2027

LEAS = [
    ("001", "BELEN CONSOLIDATED SCHOOLS", "district"),
    ("002", "VISTA CHARTER", "state_charter"),
    ("003", "CLOSED DISTRICT", "district"),  # no enrollment this year
]
SCHOOLS = [
    ("001001", "001", "BELEN ELEMENTARY", "PK", "5"),
    ("001002", "001", "BELEN HIGH", "09", "12"),
    ("002001", "002", "VISTA ACADEMY", "6", "8"),
]


def _enrollment() -> list[tuple[str, str, str, str, int]]:
    rows = [
        # the LEA as a whole
        ("001", "", "subgroup", "all", 500),
        ("001", "", "subgroup", "female", 250),
        ("001", "", "subgroup", "male", 250),
        ("001", "", "grade", "PK", 40),
        # BELEN ELEMENTARY: one race group under 10 -> the next smallest is suppressed too
        ("001", "001001", "subgroup", "all", 300),
        ("001", "001001", "subgroup", "female", 150),
        ("001", "001001", "subgroup", "male", 150),
        ("001", "001001", "subgroup", "amind", 5),
        ("001", "001001", "subgroup", "hispanic", 200),
        ("001", "001001", "subgroup", "white", 95),
        ("001", "001001", "subgroup", "el", 8),  # a program flag: no complement
        *(("001", "001001", "grade", g, 50) for g in ("PK", "K", "1", "2", "3", "4", "5")),
        # BELEN HIGH: a grade outside its span with a few students
        ("001", "001002", "subgroup", "all", 203),
        ("001", "001002", "grade", "8", 3),
        ("001", "001002", "grade", "9", 60),
        ("001", "001002", "grade", "10", 50),
        ("001", "001002", "grade", "11", 45),
        ("001", "001002", "grade", "12", 45),
        # VISTA ACADEMY: a tiny school
        ("002", "002001", "subgroup", "all", 8),
        ("002", "", "subgroup", "all", 8),
    ]
    return rows


def _absence() -> list[dict[str, Any]]:
    def row(
        fy, period, lea, school, gcode, rate, students=None, tiers=(None,) * 4, gtype="subgroup"
    ):
        t1, t2, t3, t4 = tiers
        return dict(
            fiscal_year=fy,
            period=period,
            lea_code=lea,
            school_code=school,
            group_type=gtype,
            group_code=gcode,
            students=students,
            chronically_absent=None,
            rate_pct=rate,
            tier1=t1,
            tier2=t2,
            tier3=t3,
            tier4=t4,
        )

    return [
        row(2024, "EOY", "001", "001001", "all", 30.0, 290),
        row(2025, "EOY", "001", "001001", "all", 28.0, 295),
        row(2026, "EOY", "001", "001001", "all", 25.5, 300, (120, 90, 60, 30)),
        row(2027, "40", "001", "001001", "all", 20.0, 300, (150, 80, 40, 30)),
        row(2027, "80", "001", "001001", "all", 22.0, 300),
        row(2024, "EOY", "001", "001001", "hispanic", 33.3, 8),  # too few that year
        row(2025, "EOY", "001", "001001", "hispanic", 31.0, 190),
        row(2026, "EOY", "001", "001001", "hispanic", 27.25, 200),
        row(2026, "EOY", "001", "001001", "K", 40.0, 50, gtype="grade"),
        row(2025, "EOY", "001", "001002", "all", 35.0, 210),
        row(2023, "EOY", "001", "", "all", 99.0, 500),  # before the three history years
        row(2024, "EOY", "001", "", "all", 31.0, 480),
        row(2026, "EOY", "001", "", "all", 27.0, 490, (200, 150, 100, 40)),
        row(2027, "40", "001", "", "all", 21.0, 500),
        row(2027, "80", "001", "", "all", 23.5, 500),
        row(2026, "EOY", "002", "002001", "all", 50.0, 8, (1, 2, 3, 2)),
        row(2027, "40", "002", "002001", "all", 40.0, 8),
    ]


def seed(engine: Engine) -> None:
    """A small data set: two LEAs with enrollment (three schools) and one without."""
    with engine.begin() as conn:
        conn.execute(insert(LeaRow), [dict(code=c, name=n, type=t) for c, n, t in LEAS])
        conn.execute(
            insert(SchoolRow),
            [
                dict(code=c, lea_code=lea, name=n, grade_low=lo, grade_high=hi)
                for c, lea, n, lo, hi in SCHOOLS
            ],
        )
        conn.execute(
            insert(EnrollmentRow),
            [
                dict(
                    fiscal_year=FY,
                    lea_code=lea,
                    school_code=school,
                    group_type=gtype,
                    group_code=gcode,
                    enrollment=n,
                )
                for lea, school, gtype, gcode, n in _enrollment()
            ],
        )
        conn.execute(insert(AbsenceRow), _absence())


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    seed(engine)
    return engine


@pytest.fixture
def config() -> ProgramConfig:
    return ProgramConfig()


def _row(rows, code):
    return next(r for r in rows if r.code == code)


def test_a_school_plan_has_every_subgroup_in_catalog_order_with_three_years_of_rates(
    seeded, config
):
    data = plan_data(seeded, config, FY, "001", "001001")
    assert data.kind is PlanKind.SCHOOL
    assert (data.lea.name, data.school.name) == ("BELEN CONSOLIDATED SCHOOLS", "BELEN ELEMENTARY")
    assert data.history_years == (2024, 2025, 2026)
    assert [r.code for r in data.subgroups] == [s.code for s in config.subgroups]
    everyone = _row(data.subgroups, "all")
    assert (everyone.label, everyone.enrollment, everyone.rates) == (
        "All Students",
        300,
        (30.0, 28.0, 25.5),
    )
    # 2024's Hispanic rate came from 8 students: left out
    assert _row(data.subgroups, "hispanic").rates == (None, 31.0, 27.25)
    assert _row(data.subgroups, "asian").enrollment is None
    assert data.deadline == config.deadline(FY, PlanKind.SCHOOL)
    assert data.min_group_size == 10


def test_groups_under_the_minimum_are_suppressed_and_a_lone_one_takes_its_complement(
    seeded, config
):
    data = plan_data(seeded, config, FY, "001", "001001")
    suppressed = {r.code for r in data.subgroups if r.suppressed}
    # amind (5) is under 10; white (95) is the smallest other race group: all - others = amind
    assert suppressed == {"amind", "white", "el"}
    relaxed = plan_data(seeded, ProgramConfig(min_group_size=5), FY, "001", "001001")
    assert {r.code for r in relaxed.subgroups if r.suppressed} == set()


def test_a_school_lists_the_grades_it_serves_and_any_grade_with_enrollment(seeded, config):
    elementary = plan_data(seeded, config, FY, "001", "001001")
    assert [g.code for g in elementary.grades] == ["PK", "K", "1", "2", "3", "4", "5"]
    assert _row(elementary.grades, "K").rates == (None, None, 40.0)
    high = plan_data(seeded, config, FY, "001", "001002")
    assert [g.label for g in high.grades] == [
        "Grade 8",
        "Grade 9",
        "Grade 10",
        "Grade 11",
        "Grade 12",
    ]
    # grade 8 (3 students) is suppressed, so is the smallest other grade (11 before 12)
    assert [g.code for g in high.grades if g.suppressed] == ["8", "11"]


def test_tier_counts_come_from_the_most_recent_period_that_has_them(seeded, config):
    school = plan_data(seeded, config, FY, "001", "001001")
    assert school.tier_counts == {1: 150, 2: 80, 3: 40, 4: 30}
    assert school.tier_source == "FY2027 40-day"
    district = plan_data(seeded, config, FY, "001")
    assert district.tier_counts == {1: 200, 2: 150, 3: 100, 4: 40}
    assert district.tier_source == "FY2026 end of year"
    high = plan_data(seeded, config, FY, "001", "001002")
    assert high.tier_counts == {1: None, 2: None, 3: None, 4: None} and high.tier_source == ""


def test_progress_rows_are_the_periods_of_the_plan_kind_with_current_rates(seeded, config):
    school = plan_data(seeded, config, FY, "001", "001001")
    assert [(p.code, p.rate) for p in school.periods] == [
        ("80", 22.0),
        ("120", None),
        ("EOY", None),
    ]
    district = plan_data(seeded, config, FY, "001")
    assert [(p.label, p.rate) for p in district.periods] == [
        ("40-day", 21.0),
        ("80-day", 23.5),
        ("120-day", None),
    ]


def test_a_district_plan_lists_every_school_with_its_all_students_numbers(seeded, config):
    data = plan_data(seeded, config, FY, "001")
    assert data.kind is PlanKind.DISTRICT and data.school is None
    assert [(s.code, s.label, s.enrollment) for s in data.schools] == [
        ("001001", "BELEN ELEMENTARY", 300),
        ("001002", "BELEN HIGH", 203),
    ]
    assert data.schools[0].rates == (30.0, 28.0, 25.5)
    assert data.schools[1].rates == (None, 35.0, None)
    assert _row(data.subgroups, "all").rates == (31.0, None, 27.0)  # 2023 is not a history year
    # the grades its schools serve: PK-5 and 9-12
    assert [g.code for g in data.grades] == [
        "PK",
        "K",
        "1",
        "2",
        "3",
        "4",
        "5",
        "9",
        "10",
        "11",
        "12",
    ]


def test_a_tiny_school_is_suppressed_whole_and_shows_no_current_rates(seeded, config):
    data = plan_data(seeded, config, FY, "002", "002001")
    assert _row(data.subgroups, "all").suppressed
    assert all(p.rate is None for p in data.periods)
    district = plan_data(seeded, config, FY, "002")
    assert [(s.code, s.suppressed) for s in district.schools] == [("002001", True)]


@pytest.mark.parametrize(
    ("lea", "school", "message"),
    [
        ("999", None, "Unknown LEA code '999'."),
        ("001", "999999", "Unknown school code '999999'."),
        ("001", "002001", "School 002001 belongs to LEA 002, not 001."),
    ],
)
def test_unknown_entities_raise_a_clear_error(seeded, config, lea, school, message):
    with pytest.raises(UnknownEntity) as info:
        plan_data(seeded, config, FY, lea, school)
    assert str(info.value) == message


def test_plan_targets_are_every_district_then_its_schools_with_enrollment(seeded):
    assert plan_targets(seeded, FY) == [
        ("001", None),
        ("001", "001001"),
        ("001", "001002"),
        ("002", None),
        ("002", "002001"),
    ]
    assert plan_targets(seeded, 2030) == []


def test_the_bulk_read_gives_the_same_plans_as_one_at_a_time(seeded, config):
    bulk = list(all_plan_data(seeded, config, FY))
    assert [(d.lea.code, d.school.code if d.school else None) for d in bulk] == plan_targets(
        seeded, FY
    )
    for data in bulk:
        school = data.school.code if data.school else None
        assert data == plan_data(seeded, config, FY, data.lea.code, school)
