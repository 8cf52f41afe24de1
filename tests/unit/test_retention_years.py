"""The edge of the keeping period: a fiscal year ends June 30; its records are kept
`years` years after that day, and listed from the day after."""

from __future__ import annotations

import datetime as dt

import pytest

from aip_forms.errors import InvalidInput
from aip_forms.services.retention import last_fiscal_year_past


@pytest.mark.parametrize(
    ("today", "years", "newest"),
    [
        (dt.date(2026, 6, 30), 5, 2020),  # FY2021 ended 2021-06-30: kept through today
        (dt.date(2026, 7, 1), 5, 2021),  # ... and past from today
        (dt.date(2026, 12, 2), 5, 2021),
        (dt.date(2027, 1, 1), 5, 2021),
        (dt.date(2026, 7, 1), 1, 2025),
    ],
)
def test_the_newest_fiscal_year_past_its_keeping(today: dt.date, years: int, newest: int) -> None:
    assert last_fiscal_year_past(years, today) == newest


def test_a_keeping_period_under_a_year_is_refused() -> None:
    with pytest.raises(InvalidInput, match="must be 1 or more, not 0"):
        last_fiscal_year_past(0, dt.date(2026, 7, 1))
