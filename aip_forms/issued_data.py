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


class ProgressRow(BaseModel):
    """A subgroup or grade of a progress update: the approved plan's target, the target in
    force (the last adjusted one), this period's rate, and earlier periods in words."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    label: str
    plan_target: float | None  # percent, as the plan gave it
    current_target: float | None
    current_rate: float | None
    earlier: str = ""  # "40-day: 12.3%; target 11.0%"
    suppressed: bool = False


class StrategyRow(BaseModel):
    """A strategy of the approved plan, to rate and reflect on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ref: str  # "2.1": tier 2, its first strategy
    tier: int
    strategy: str
    action_steps: str | None = None
    earlier: str = ""  # earlier periods' ratings and reflections


class ProgressData(BaseModel):
    """What a progress workbook carries beyond the plan's identity (issue 12)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    period: str  # "80"
    period_label: str  # "80-day"
    plan_id: int
    plan_version: int
    subgroups: tuple[ProgressRow, ...]
    grades: tuple[ProgressRow, ...]
    strategies: tuple[StrategyRow, ...]


class Staffing(BaseModel):
    """A school's support time under the program's staffing rule (LAUSD: counselor days a
    week per 50 students in the targeted grades). The enrollment is shown as its band, not
    the count, so that a small targeted grade is not given away."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    band: str  # "51-100" students in the targeted grades
    days: float
    unit: str = "counselor days per week"


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
    progress: ProgressData | None = None  # a progress update's workbook (issue 12)
    staffing: Staffing | None = None  # school plans of a program with a staffing rule

    @property
    def entity_code(self) -> str:
        return self.school.code if self.school else self.lea.code

    @property
    def entity_name(self) -> str:
        return self.school.name if self.school else self.lea.name
