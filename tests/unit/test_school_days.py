"""School days for deadlines (issue 12): Monday to Friday from the first day, skipping the
program config's holidays for the year."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from aip_forms.config import ProgramConfig
from aip_forms.domain import PlanKind
from aip_forms.services.deadlines import rule_date, school_day

START = dt.date(2026, 8, 10)  # a Monday


def test_without_holidays_school_days_run_monday_to_friday():
    config = ProgramConfig(school_year_start={2027: START})
    assert school_day(config, 2027, 1) == START
    assert school_day(config, 2027, 5) == dt.date(2026, 8, 14)
    assert school_day(config, 2027, 6) == dt.date(2026, 8, 17)  # the weekend skipped


def test_holidays_are_skipped_and_move_the_district_deadline():
    labor_day = dt.date(2026, 9, 7)
    plain = ProgramConfig(school_year_start={2027: START})
    with_holiday = ProgramConfig(
        school_year_start={2027: START}, school_holidays={2027: (labor_day,)}
    )
    assert school_day(plain, 2027, 21) == labor_day
    assert school_day(with_holiday, 2027, 21) == dt.date(2026, 9, 8)
    before, _ = rule_date(plain, 2027, PlanKind.DISTRICT, None)
    after, source = rule_date(with_holiday, 2027, PlanKind.DISTRICT, None)
    assert before == school_day(plain, 2027, 45)
    assert after == school_day(plain, 2027, 46) and "45 school days" in source


def test_a_holiday_on_the_first_day_moves_the_first_school_day():
    config = ProgramConfig(school_year_start={2027: START}, school_holidays={2027: (START,)})
    assert school_day(config, 2027, 1) == dt.date(2026, 8, 11)


def test_a_holiday_outside_its_fiscal_year_is_refused_naming_it():
    with pytest.raises(ValidationError, match=r"2027-08-01 is not in fiscal year 2027"):
        ProgramConfig(school_holidays={2027: (dt.date(2027, 8, 1),)})
