"""The rule parts of a program profile: metric, target rule, school selection, staffing.

Each is small immutable data with the one function that applies it. Every comparison with a
percentage edge is done in integers or exact fractions, so no float rounding moves a student
or a school across an edge (a student attending exactly 96.0% of days counts as attending
96% or more).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def exact(pct: float) -> Fraction:
    """The percentage as written (7.3 -> 73/10), not the binary double's expansion."""
    return Fraction(str(pct))


class Direction(StrEnum):
    LOWER_IS_BETTER = "lower"  # chronic absence: a falling rate is progress
    HIGHER_IS_BETTER = "higher"  # attendance at 96% or more: a rising share is progress


class MetricKind(StrEnum):
    ABSENCE_AT_OR_ABOVE = "absence_at_or_above"  # days absent / days enrolled >= threshold
    ATTENDANCE_AT_OR_ABOVE = "attendance_at_or_above"  # days attended / enrolled >= threshold


class Metric(BaseModel):
    """What a student counts toward; a group's rate is the share of its students counted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: MetricKind = MetricKind.ABSENCE_AT_OR_ABOVE
    threshold_pct: float = Field(default=10.0, gt=0, le=100)
    name: str = "chronic absence rate"  # in sentences: "the chronic absence rate"
    counted_label: str = "chronically absent"  # of a student: "students chronically absent"
    title: str = "Chronic Absence"  # in headings: "Chronic Absence FY2025"
    problem: str = "chronic absenteeism"  # what a plan works against: "causes of ..."
    rates: str = "chronic absence rates"  # the plural: "... are end-of-year rates"

    @property
    def axis(self) -> str:
        """A chart axis: "Chronic absence rate (%)"."""
        return f"{self.name[:1].upper()}{self.name[1:]} (%)"

    @property
    def direction(self) -> Direction:
        return (
            Direction.LOWER_IS_BETTER
            if self.kind is MetricKind.ABSENCE_AT_OR_ABOVE
            else Direction.HIGHER_IS_BETTER
        )

    def counted(self, absent: IntArray, enrolled: IntArray) -> BoolArray:
        """Which students count, from whole days absent and enrolled (vectorized)."""
        edge = exact(self.threshold_pct)
        scale = 100 * edge.denominator
        base = absent if self.kind is MetricKind.ABSENCE_AT_OR_ABOVE else enrolled - absent
        result: BoolArray = base * scale >= enrolled * edge.numerator
        return result

    def counts(self, absent: int, enrolled: int) -> bool:
        """Whether one student counts (the scalar form of `counted`)."""
        return bool(self.counted(np.array([absent]), np.array([enrolled]))[0])

    def definition(self) -> str:
        """Who counts, in one sentence for the people filling in a plan."""
        if self.kind is MetricKind.ABSENCE_AT_OR_ABOVE:
            return (
                f"A student is {self.counted_label} when they miss {self.threshold_pct:g}% "
                "or more of the days they were enrolled, for any reason."
            )
        return (
            f"A student counts when they attend {self.threshold_pct:g}% or more of the days "
            f"they were enrolled (a student at exactly {self.threshold_pct:g}% counts)."
        )

    def meets(self, rate: float, target: float) -> bool:
        """Whether `rate` meets `target` (at or under it when lower is better, else at or
        over it), allowing for rounding in stored percentages."""
        if self.direction is Direction.LOWER_IS_BETTER:
            return rate <= target + 1e-9
        return rate >= target - 1e-9

    def better(self, rate: float, than: float) -> bool:
        """Whether `rate` is better than `than` in this metric's direction."""
        return rate < than if self.direction is Direction.LOWER_IS_BETTER else rate > than


class TargetKind(StrEnum):
    BELOW_LATEST = "below_latest"  # New Mexico: a target under the latest year's rate
    POINTS_ABOVE_PREVIOUS = "points_above_previous"  # LAUSD: at least N points above


@dataclass(frozen=True)
class TargetProblem:
    """Why a target is refused, and the bound the message names."""

    message: str
    bound: float  # the fraction the target must be under (below_latest) or at least


class TargetRule(BaseModel):
    """Which targets (fractions of students, 0.0 to 1.0) are allowed against the rate of the
    previous (latest complete) year."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: TargetKind = TargetKind.BELOW_LATEST
    points: float = Field(default=5.0, ge=0, le=100)  # for points_above_previous

    def describe(self) -> str:
        """What a target must be, after "a target must be": "below the latest year's rate"."""
        if self.kind is TargetKind.BELOW_LATEST:
            return "below the latest year's rate"
        return f"at least {self.points:g} points above the previous year's share"

    def minimum(self, previous: float) -> float | None:
        """The lowest allowed target, or None when the rule sets no floor."""
        if self.kind is TargetKind.POINTS_ABOVE_PREVIOUS:
            return float(exact(previous) + exact(self.points) / 100)
        return None

    def check(self, target: float, previous: float | None) -> TargetProblem | None:
        if previous is None:
            return None
        if self.kind is TargetKind.BELOW_LATEST:
            if target >= previous:
                return TargetProblem(
                    f"the target {target:.1%} is not below the latest rate {previous:.1%}",
                    previous,
                )
            return None
        least = exact(previous) + exact(self.points) / 100
        if Fraction(str(target)) < least:
            shown = float(least)
            return TargetProblem(
                f"the target {target:.1%} is below the minimum {shown:.1%}: the previous "
                f"year's {previous:.1%} plus {self.points:g} points",
                shown,
            )
        return None


@dataclass(frozen=True)
class SchoolFigures:
    """What selection reads about one school: its rate (a fraction) in the targeted grades or
    overall, its highest subgroup rate, its enrollment there and its academic index."""

    code: str
    rate: float | None
    enrolled: int
    highest_subgroup_rate: float | None = None
    academic_index: float | None = None


@dataclass(frozen=True)
class Selected:
    rank: int  # 1 = highest need
    code: str
    reason: str


class SelectionKind(StrEnum):
    ANY_GROUP_AT_OR_ABOVE = "any_group_at_or_above"  # New Mexico: 5% of any group
    LOWEST_RATES = "lowest_rates"  # LAUSD: lowest shares, academic index under a cut-off


class SelectionRule(BaseModel):
    """Which schools must file a plan."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: SelectionKind = SelectionKind.ANY_GROUP_AT_OR_ABOVE
    threshold_pct: float = Field(default=5.0, gt=0, le=100)  # any_group_at_or_above
    index_below: float | None = 800.0  # lowest_rates: academic index under this
    index_label: str = "Academic Performance Index"
    # lowest_rates: "lowest" means in the lowest `lowest_share` of all schools with figures
    # (0.5: under the median school), then optionally at most `max_schools`, or only those
    # under `rate_below_pct`.
    lowest_share: float | None = Field(default=0.5, gt=0, le=1)
    max_schools: int | None = Field(default=None, ge=1)
    rate_below_pct: float | None = Field(default=None, gt=0, le=100)

    def select(self, schools: Iterable[SchoolFigures]) -> list[Selected]:
        """The selected schools, highest need first, each with the reason it was chosen."""
        if self.kind is SelectionKind.ANY_GROUP_AT_OR_ABOVE:
            return self._by_threshold(schools)
        return self._lowest(schools)

    def _by_threshold(self, schools: Iterable[SchoolFigures]) -> list[Selected]:
        edge = exact(self.threshold_pct) / 100
        hits = []
        for s in schools:
            worst = max(
                (r for r in (s.rate, s.highest_subgroup_rate) if r is not None), default=None
            )
            if worst is not None and Fraction(str(worst)) >= edge:
                hits.append((worst, s))
        hits.sort(key=lambda h: (-h[0], h[1].code))
        return [
            Selected(
                i,
                s.code,
                f"{worst:.1%} of its students or of a subgroup were counted "
                f"({self.threshold_pct:g}% or more requires a plan)",
            )
            for i, (worst, s) in enumerate(hits, start=1)
        ]

    def _lowest(self, schools: Iterable[SchoolFigures]) -> list[Selected]:
        ranked = sorted(
            (s for s in schools if s.rate is not None and s.enrolled > 0),
            key=lambda s: (s.rate, -s.enrolled, s.code),
        )
        if self.lowest_share is not None:
            ranked = ranked[: int(len(ranked) * Fraction(str(self.lowest_share)))]
        eligible = [
            s
            for s in ranked
            if (
                self.index_below is None
                or (s.academic_index is not None and s.academic_index < self.index_below)
            )
            and (
                self.rate_below_pct is None
                or Fraction(str(s.rate)) < exact(self.rate_below_pct) / 100
            )
        ]
        if self.max_schools is not None:
            eligible = eligible[: self.max_schools]
        out = []
        for i, s in enumerate(eligible, start=1):
            why = [f"rank {i}: {s.rate:.1%} in the targeted grades"]
            if self.lowest_share is not None:
                why.append(f"in the lowest {self.lowest_share:.0%} of schools")
            if self.index_below is not None:
                why.append(f"{self.index_label} {s.academic_index:g} (under {self.index_below:g})")
            out.append(Selected(i, s.code, "; ".join(why)))
        return out


class StaffingBand(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    up_to: int | None = Field(ge=0)  # enrolled students, inclusive; None: no upper bound
    days: float = Field(ge=0, le=7)


class StaffingRule(BaseModel):
    """Support time per selected school from its enrollment in the targeted grades."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: str = "counselor days per week"
    bands: tuple[StaffingBand, ...]

    @model_validator(mode="after")
    def _bands_ascend_and_close(self) -> StaffingRule:
        bounds = [b.up_to for b in self.bands]
        if not bounds or bounds[-1] is not None:
            raise ValueError("staffing bands must end with one that has no upper bound")
        closed = [b for b in bounds[:-1] if b is not None]
        if len(closed) != len(bounds) - 1 or closed != sorted(set(closed)):
            raise ValueError("staffing bands must ascend, each up_to larger than the last")
        return self

    def days_for(self, enrolled: int) -> float:
        if enrolled < 0:
            raise ValueError(f"enrollment cannot be negative ({enrolled})")
        return next(b.days for b in self.bands if b.up_to is None or enrolled <= b.up_to)

    def band_of(self, enrolled: int) -> str:
        """The enrollment band `enrolled` falls in, as `table` prints it ("51-100")."""
        days = self.days_for(enrolled)
        previous = None
        for band in self.bands:
            if band.up_to is None or enrolled <= band.up_to:
                return self.band_label(band, previous)
            previous = band.up_to
        raise AssertionError(f"no band for {enrolled} ({days} days)")  # the last is open

    def band_label(self, band: StaffingBand, previous: int | None) -> str:
        low = 0 if previous is None else previous + 1
        return f"{low} or more" if band.up_to is None else f"{low}-{band.up_to}"

    def table(self) -> list[tuple[str, float]]:
        """(enrollment band, days) rows, as the reference prints them."""
        rows, previous = [], None
        for band in self.bands:
            rows.append((self.band_label(band, previous), band.days))
            previous = band.up_to
        return rows


def per_students(students: int, days: Sequence[float]) -> tuple[StaffingBand, ...]:
    """Bands of `students` each, one per entry of `days`, the last open-ended."""
    return tuple(
        StaffingBand(up_to=None if i == len(days) - 1 else students * (i + 1), days=d)
        for i, d in enumerate(days)
    )
