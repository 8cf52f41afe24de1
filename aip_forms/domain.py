"""Domain model: fiscal years, LEAs and schools, subgroups, grades, periods, tiers, strategies.

Everything here is plain, immutable data (pydantic v2). Program rules that vary by state or
year (tier edges, thresholds, deadlines) live in `aip_forms.config.ProgramConfig`.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

Code = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FiscalYear(Frozen):
    """New Mexico fiscal year: FY2027 runs 1 July 2026 to 30 June 2027 (school year 2026-27)."""

    year: int = Field(ge=2000, le=2100)

    @property
    def start(self) -> dt.date:
        return dt.date(self.year - 1, 7, 1)

    @property
    def end(self) -> dt.date:
        return dt.date(self.year, 6, 30)

    @property
    def school_year(self) -> str:
        return f"{self.year - 1}-{str(self.year)[-2:]}"

    @property
    def label(self) -> str:
        return f"FY{self.year}"

    def previous(self, n: int = 1) -> FiscalYear:
        return FiscalYear(year=self.year - n)

    @classmethod
    def parse(cls, value: str | int) -> FiscalYear:
        """Accept 2027, "2027", "FY2027", "FY27" or "2026-27"."""
        text = str(value).strip().upper()
        if m := re.fullmatch(r"(?:FY)?(\d{4})", text):
            return cls(year=int(m.group(1)))
        if m := re.fullmatch(r"FY(\d{2})", text):
            return cls(year=2000 + int(m.group(1)))
        if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
            return cls(year=int(m.group(1)) + 1)
        raise ValueError(f"not a fiscal year: {value!r} (write it as 2027 or FY2027)")

    def __str__(self) -> str:
        return self.label


class LeaType(StrEnum):
    DISTRICT = "district"
    STATE_CHARTER = "state_charter"


class Lea(Frozen):
    """A local education agency: a school district or a state-chartered school."""

    code: Code
    name: str = Field(min_length=1, max_length=120)
    type: LeaType = LeaType.DISTRICT


class School(Frozen):
    code: Code
    lea_code: Code
    name: str = Field(min_length=1, max_length=120)
    grade_low: str = "PK"
    grade_high: str = "12"


class PlanKind(StrEnum):
    DISTRICT = "district"
    SCHOOL = "school"


class GroupType(StrEnum):
    """The two breakdowns a plan targets: demographic subgroups and grade levels."""

    SUBGROUP = "subgroup"
    GRADE = "grade"


class Subgroup(Frozen):
    code: Code
    label: str
    category: str  # "all", "sex", "race_ethnicity", "program"
    extract_column: str | None = None  # flag column in the student extract (None: derived)


class GradeLevel(Frozen):
    code: str  # PK, K, 01..12 written as "1".."12"
    label: str
    order: int


class ReportingPeriod(Frozen):
    code: str  # "40", "80", "120", "EOY"
    label: str
    day: int | None  # instructional day; None for end of year


class TierBand(Frozen):
    """A tier of support by a student's absence rate, in percent: lower <= rate < upper."""

    tier: int = Field(ge=1, le=4)
    name: str
    lower: float = Field(ge=0, le=100)
    upper: float | None = Field(default=None, gt=0, le=100)

    def contains(self, rate_pct: float) -> bool:
        return rate_pct >= self.lower and (self.upper is None or rate_pct < self.upper)


class EvidenceLevel(StrEnum):
    """ESSA tiers of evidence (ESEA section 8101(21))."""

    STRONG = "Strong"
    MODERATE = "Moderate"
    PROMISING = "Promising"
    RATIONALE = "Demonstrates a rationale"


class Strategy(Frozen):
    tier: int = Field(ge=1, le=4)
    name: str = Field(min_length=1, max_length=100)
    evidence: EvidenceLevel
    description: str = ""

    @field_validator("name")
    @classmethod
    def _not_other(cls, v: str) -> str:
        if v.strip().lower() == "other":
            raise ValueError('"Other" is always allowed and is not a catalog entry')
        return v
