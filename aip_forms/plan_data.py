"""The pre-filled data of one plan workbook: who it is for and the numbers PED provides.

Built from the database by `aip_forms.data.queries.plan_data`, read by workbook generation
(pre-filled locked cells) and by document rendering. Rates are percents (0-100); a rate or
enrollment is None when PED has no value. `suppressed` groups are under the minimum group
size: their numbers are never shown.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict

from aip_forms.domain import Lea, PlanKind, School


class DataRow(BaseModel):
    """A row of a pre-filled table: a subgroup, a grade or (district plan) a school."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    label: str
    enrollment: int | None
    rates: tuple[float | None, ...]  # oldest year first, one per history year
    suppressed: bool = False


class PeriodRate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    label: str
    rate: float | None = None


class PlanData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: PlanKind
    fiscal_year: int
    lea: Lea
    school: School | None = None
    history_years: tuple[int, ...]  # oldest first, e.g. (2024, 2025, 2026) for FY2027
    subgroups: tuple[DataRow, ...]
    grades: tuple[DataRow, ...]
    schools: tuple[DataRow, ...] = ()  # district plan: one row per school of the LEA
    tier_counts: dict[int, int | None]  # tier -> students in it, latest data
    tier_source: str = ""  # e.g. "FY2026 end of year"
    periods: tuple[PeriodRate, ...] = ()
    deadline: dt.date
    min_group_size: int = 10

    @property
    def entity_code(self) -> str:
        return self.school.code if self.school else self.lea.code

    @property
    def entity_name(self) -> str:
        return self.school.name if self.school else self.lea.name
