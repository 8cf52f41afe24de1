"""Synthetic, deterministic PlanData for tests and benchmarks that need no database.

Statewide-sized by default (about 150 LEAs and 850 schools); small groups fall under the
minimum group size and are suppressed, as they would be in PED data.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from aip_forms.config import ProgramConfig
from aip_forms.domain import Lea, LeaType, PlanKind, School
from aip_forms.issued_data import DataRow, PeriodRate, PlanData
from aip_forms.programs.staffing import school_staffing

_PLACES = (
    "BELEN", "LAS CRUCES", "GALLUP", "TAOS", "ROSWELL", "CLOVIS", "FARMINGTON", "ESPANOLA",
    "SILVER CITY", "DEMING", "LOVINGTON", "RATON", "SOCORRO", "TUCUMCARI", "ZUNI", "MORA",
)  # fmt: skip
_SCHOOL_KINDS = ("ELEMENTARY", "MIDDLE", "HIGH")
_SPANS = {"ELEMENTARY": ("PK", "5"), "MIDDLE": ("6", "8"), "HIGH": ("9", "12")}


def _rates(rng: random.Random, years: int, base: float) -> tuple[float | None, ...]:
    return tuple(round(min(100.0, max(0.0, base + rng.uniform(-6, 6))), 2) for _ in range(years))


def _row(rng: random.Random, code: str, label: str, size: int, years: int, n: int) -> DataRow:
    base = rng.uniform(8, 45)
    return DataRow(
        code=code,
        label=label,
        enrollment=size,
        rates=_rates(rng, years, base),
        suppressed=size < n,
    )


def plan_data(
    config: ProgramConfig,
    fiscal_year: int,
    lea: Lea,
    school: School | None,
    schools: tuple[School, ...] = (),
    seed: int = 0,
) -> PlanData:
    """One plan's data with plausible numbers drawn from `seed`."""
    rng = random.Random(f"{seed}:{lea.code}:{school.code if school else ''}")
    years = config.history_years
    n = config.min_group_size
    total = rng.randint(120, 1500) * (1 if school else max(1, len(schools)))
    subgroups = tuple(
        _row(
            rng, s.code, s.label, total if s.code == "all" else rng.randint(0, total // 2), years, n
        )
        for s in config.subgroups
    )
    if school:
        order = [g.code for g in config.grades]
        low, high = order.index(school.grade_low), order.index(school.grade_high)
        grade_levels = config.grades[low : high + 1]
    else:
        grade_levels = config.grades
    grades = tuple(
        _row(rng, g.code, g.label, rng.randint(5, max(6, total // 6)), years, n)
        for g in grade_levels
    )
    school_rows = tuple(_row(rng, s.code, s.name, rng.randint(4, 1500), years, n) for s in schools)
    kind = PlanKind.SCHOOL if school else PlanKind.DISTRICT
    periods = tuple(
        PeriodRate(code=p.code, label=p.label, rate=round(rng.uniform(5, 40), 2) if i < 2 else None)
        for i, p in enumerate(config.periods_for(kind))
    )
    return PlanData(
        kind=kind,
        fiscal_year=fiscal_year,
        lea=lea,
        school=school,
        history_years=tuple(range(fiscal_year - years, fiscal_year)),
        subgroups=subgroups,
        grades=grades,
        schools=school_rows,
        tier_counts={t.tier: rng.randint(0, total // 3) for t in config.tiers},
        tier_source=f"FY{fiscal_year - 1} end of year",
        periods=periods,
        deadline=config.deadline(fiscal_year, kind),
        min_group_size=n,
        staffing=school_staffing(config.staffing, config.targeted_grades, grades)
        if school
        else None,
    )


def statewide(
    config: ProgramConfig,
    fiscal_year: int,
    leas: int = 150,
    schools: int = 850,
    seed: int = 0,
) -> Iterator[PlanData]:
    """A district plan per LEA followed by its school plans; schools spread unevenly
    (a few large districts, many one-school LEAs), like New Mexico's."""
    rng = random.Random(seed)
    weights = [1.0 / (i + 1) for i in range(leas)]
    counts = [1] * leas
    for i in rng.choices(range(leas), weights=weights, k=max(0, schools - leas)):
        counts[i] += 1
    for i in range(leas):
        code = f"{i + 1:03d}"
        place = _PLACES[i % len(_PLACES)]
        lea = Lea(
            code=code,
            name=f"{place} {'CONSOLIDATED SCHOOLS' if i % 3 else 'MUNICIPAL SCHOOLS'}",
            type=LeaType.DISTRICT if counts[i] > 1 else LeaType.STATE_CHARTER,
        )
        own = []
        for j in range(counts[i]):
            kind = _SCHOOL_KINDS[j % 3]
            low, high = _SPANS[kind]
            own.append(
                School(
                    code=f"{code}-{j + 1:03d}",
                    lea_code=code,
                    name=f"{place} {kind} {j // 3 + 1}",
                    grade_low=low,
                    grade_high=high,
                )
            )
        yield plan_data(config, fiscal_year, lea, None, tuple(own), seed)
        for school in own:
            yield plan_data(config, fiscal_year, lea, school, (), seed)
