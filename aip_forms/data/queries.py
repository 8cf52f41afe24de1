"""Reading the pre-filled data of plans from the database.

`plan_data` reads one plan (a district plan, or a school plan), `plan_targets` lists every
plan of a fiscal year, `lea_plan_data` reads an LEA's plans and `all_plan_data` every plan
of a year, with one query per table (for packets and the statewide run). All paths
assemble PlanData with the same code.

Rules applied here:
- enrollment is the fiscal year's; history rates are end-of-year rates of the
  `config.history_years` completed years before it; a year's rate is left out (None) when
  that year's group had fewer than `config.min_group_size` students;
- a group whose current enrollment is under `config.min_group_size` is suppressed, and when
  exactly one group of a partition (sex, race/ethnicity, grades, the district's schools) is
  suppressed, the next smallest is suppressed too, so that the total minus the others does
  not reveal it;
- a school plan lists the grades the school serves (and any grade with enrollment); a
  district plan the grades its schools serve;
- tier counts come from the most recent period that has them (the current year's periods,
  newest first, then earlier years' end of year) and `tier_source` names it;
- progress rows carry the current year's all-students rate per reporting period of the
  plan's kind (left out when the entity itself is under the minimum group size).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine, select

from aip_forms.config import ProgramConfig
from aip_forms.db.models import AbsenceRow, EnrollmentRow, LeaRow, SchoolRow
from aip_forms.domain import GroupType, Lea, LeaType, PlanKind, School
from aip_forms.errors import InvalidInput, NotFound
from aip_forms.issued_data import DataRow, PeriodRate, PlanData
from aip_forms.programs.rules import SelectionKind
from aip_forms.programs.staffing import school_staffing

EOY = "EOY"
SUBGROUP, GRADE = GroupType.SUBGROUP.value, GroupType.GRADE.value
PARTITIONS = ("sex", "race_ethnicity")  # subgroup categories whose groups add up to the total


class UnknownEntity(NotFound, LookupError):
    """No such LEA or school (or the school belongs to another LEA)."""


@dataclass(frozen=True)
class Absence:
    rate_pct: float
    students: int | None
    tiers: tuple[int | None, ...]


GroupKey = tuple[str, str, str]  # (school_code or "", group_type, group_code)


@dataclass
class LeaFacts:
    """Everything the database holds for one LEA's plans in one fiscal year."""

    lea: Lea
    schools: list[School] = field(default_factory=list)
    enrollment: dict[GroupKey, int] = field(default_factory=dict)
    absence: dict[GroupKey, dict[tuple[int, str], Absence]] = field(
        default_factory=lambda: defaultdict(dict)
    )

    @cached_property
    def enrolled_grades(self) -> dict[str, set[str]]:
        """School code ("" for the LEA) -> grade codes with an enrollment row."""
        grades: dict[str, set[str]] = defaultdict(set)
        for school, gtype, gcode in self.enrollment:
            if gtype == GRADE:
                grades[school].add(gcode)
        return grades


_LEA_COLUMNS = (LeaRow.code, LeaRow.name, LeaRow.type)
_SCHOOL_COLUMNS = (
    SchoolRow.code,
    SchoolRow.lea_code,
    SchoolRow.name,
    SchoolRow.grade_low,
    SchoolRow.grade_high,
)


def _read(
    engine: Engine,
    config: ProgramConfig,
    fiscal_year: int,
    lea_code: str | None = None,
) -> dict[str, LeaFacts]:
    """One query per table, for one LEA or (lea_code None) for all of them."""
    first_year = fiscal_year - config.history_years
    with engine.connect() as conn:
        leas = select(*_LEA_COLUMNS)
        schools = select(*_SCHOOL_COLUMNS)
        enrollment = select(
            EnrollmentRow.lea_code,
            EnrollmentRow.school_code,
            EnrollmentRow.group_type,
            EnrollmentRow.group_code,
            EnrollmentRow.enrollment,
        ).where(EnrollmentRow.fiscal_year == fiscal_year)
        absence = select(
            AbsenceRow.lea_code,
            AbsenceRow.school_code,
            AbsenceRow.group_type,
            AbsenceRow.group_code,
            AbsenceRow.fiscal_year,
            AbsenceRow.period,
            AbsenceRow.rate_pct,
            AbsenceRow.students,
            AbsenceRow.tier1,
            AbsenceRow.tier2,
            AbsenceRow.tier3,
            AbsenceRow.tier4,
        ).where(AbsenceRow.fiscal_year.between(first_year, fiscal_year))
        if lea_code is not None:
            leas = leas.where(LeaRow.code == lea_code)
            schools = schools.where(SchoolRow.lea_code == lea_code)
            enrollment = enrollment.where(EnrollmentRow.lea_code == lea_code)
            absence = absence.where(AbsenceRow.lea_code == lea_code)
        facts = {
            code: LeaFacts(Lea(code=code, name=name, type=LeaType(kind)))
            for code, name, kind in sorted(conn.execute(leas).all())
        }
        for code, lea, name, low, high in sorted(conn.execute(schools).all()):
            if lea in facts:
                facts[lea].schools.append(
                    School(code=code, lea_code=lea, name=name, grade_low=low, grade_high=high)
                )
        for lea, school, gtype, gcode, n in conn.execute(enrollment).all():
            if lea in facts:
                facts[lea].enrollment[(school, gtype, gcode)] = n
        for lea, school, gtype, gcode, year, period, rate, students, *tiers in conn.execute(
            absence
        ).all():
            if lea in facts:
                facts[lea].absence[(school, gtype, gcode)][(year, period)] = Absence(
                    rate, students, tuple(tiers)
                )
    return facts


def selected_schools(
    engine: Engine, config: ProgramConfig, fiscal_year: int
) -> frozenset[str] | None:
    """The schools that file a plan under a program that selects them (LAUSD: the lowest
    shares with an academic index under the cut-off, `aip data select`), ranked over every
    school; None under a program where every enrolled school files one (New Mexico). No
    figures to select by (the previous year is not loaded): no school plans."""
    if config.selection.kind is not SelectionKind.LOWEST_RATES:
        return None
    from sqlalchemy.orm import Session

    # The selection use case owns the rule over the loaded data; imported here, where it
    # is needed, because it reads through the same tables as this module.
    from aip_forms.services.selection import selection

    with Session(engine) as session:
        try:
            chosen = selection(session, config, fiscal_year)
        except InvalidInput:
            return frozenset()
    return frozenset(s.school_code for s in chosen.schools)


def _targets(
    facts: Mapping[str, LeaFacts], selected: frozenset[str] | None = None
) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for code in sorted(facts):
        lea = facts[code]
        enrolled = {school for school, _, _ in lea.enrollment}
        schools = [
            s.code
            for s in lea.schools
            if s.code in enrolled and (selected is None or s.code in selected)
        ]
        if enrolled:
            out.append((code, None))
            out += [(code, s) for s in schools]
    return out


def plan_targets(
    engine: Engine, fiscal_year: int, config: ProgramConfig | None = None
) -> list[tuple[str, str | None]]:
    """Every plan of the year: (lea_code, None) for a district plan, then (lea_code,
    school_code) for each of its schools; LEAs and schools with enrollment that year (and,
    under a program that selects schools, `config`'s selected ones only)."""
    selected = selected_schools(engine, config, fiscal_year) if config else None
    with engine.connect() as conn:
        rows = conn.execute(
            select(EnrollmentRow.lea_code, EnrollmentRow.school_code)
            .where(EnrollmentRow.fiscal_year == fiscal_year)
            .distinct()
        ).all()
        enrolled: dict[str, set[str]] = defaultdict(set)
        for lea, school in rows:
            enrolled[lea].add(school)
        out: list[tuple[str, str | None]] = []
        for lea in sorted(enrolled):
            out.append((lea, None))
            schools = conn.scalars(select(SchoolRow.code).where(SchoolRow.lea_code == lea))
            out += [
                (lea, s)
                for s in sorted(schools)
                if s in enrolled[lea] and (selected is None or s in selected)
            ]
    return out


def plan_data(
    engine: Engine,
    config: ProgramConfig,
    fiscal_year: int,
    lea_code: str,
    school_code: str | None = None,
) -> PlanData:
    """The pre-filled data of one plan. Raises UnknownEntity for an unknown LEA or school."""
    facts = _read(engine, config, fiscal_year, lea_code).get(lea_code)
    if facts is None:
        raise UnknownEntity(f"Unknown LEA code {lea_code!r}.")
    school = None
    if school_code is not None:
        school = next((s for s in facts.schools if s.code == school_code), None)
        if school is None:
            with engine.connect() as conn:
                owner = conn.scalar(select(SchoolRow.lea_code).where(SchoolRow.code == school_code))
            if owner is None:
                raise UnknownEntity(f"Unknown school code {school_code!r}.")
            raise UnknownEntity(f"School {school_code} belongs to LEA {owner}, not {lea_code}.")
    selected = selected_schools(engine, config, fiscal_year)
    if school is not None and selected is not None and school.code not in selected:
        raise UnknownEntity(
            f"School {school.code} was not selected for the program in FY{fiscal_year}, so "
            "it files no plan (`aip data select` lists the selected schools)."
        )
    return assemble(facts, config, fiscal_year, school, selected)


def lea_plan_data(
    engine: Engine, config: ProgramConfig, fiscal_year: int, lea_code: str
) -> list[PlanData]:
    """The LEA's district plan, then each school plan (schools with enrollment that year),
    from one read of the LEA. Raises UnknownEntity for an unknown LEA."""
    facts = _read(engine, config, fiscal_year, lea_code).get(lea_code)
    if facts is None:
        raise UnknownEntity(f"Unknown LEA code {lea_code!r}.")
    enrolled = {school for school, _, _ in facts.enrollment}
    selected = selected_schools(engine, config, fiscal_year)
    schools = [
        s for s in facts.schools if s.code in enrolled and (selected is None or s.code in selected)
    ]
    return [assemble(facts, config, fiscal_year, s, selected) for s in (None, *schools)]


def all_plan_data(engine: Engine, config: ProgramConfig, fiscal_year: int) -> Iterator[PlanData]:
    """Every plan of the year (in `plan_targets` order), reading each table once."""
    facts = _read(engine, config, fiscal_year)
    selected = selected_schools(engine, config, fiscal_year)
    schools = {s.code: s for lea in facts.values() for s in lea.schools}
    for lea_code, school_code in _targets(facts, selected):
        yield assemble(
            facts[lea_code], config, fiscal_year, schools.get(school_code or ""), selected
        )


# ---- assembling one plan ----------------------------------------------------------------


def _grade_index(config: ProgramConfig, code: str) -> int | None:
    code = code.strip().upper()
    if code.isdigit():
        code = str(int(code))  # "09" is grade 9
    order = [g.code.upper() for g in config.grades]
    return order.index(code) if code in order else None


def _served_grades(config: ProgramConfig, schools: Sequence[School]) -> set[str]:
    served: set[str] = set()
    for s in schools:
        low, high = _grade_index(config, s.grade_low), _grade_index(config, s.grade_high)
        if low is not None and high is not None:
            served |= {g.code for g in config.grades[low : high + 1]}
    return served


def _suppress_complement(rows: list[DataRow], members: Sequence[int]) -> None:
    """When exactly one group of a partition is suppressed, suppress the next smallest."""
    if sum(rows[i].suppressed for i in members) != 1:
        return
    shown = [i for i in members if not rows[i].suppressed and rows[i].enrollment is not None]
    if shown:
        i = min(shown, key=lambda i: (rows[i].enrollment or 0, i))
        rows[i] = rows[i].model_copy(update={"suppressed": True})


def assemble(
    facts: LeaFacts,
    config: ProgramConfig,
    fiscal_year: int,
    school: School | None,
    selected: frozenset[str] | None = None,
) -> PlanData:
    """One plan's PlanData from its LEA's facts (`school` None: the district plan, whose
    school rows are the `selected` schools under a program that selects them)."""
    n_min = config.min_group_size
    years = tuple(range(fiscal_year - config.history_years, fiscal_year))
    entity = school.code if school else ""

    def rate(record: Absence | None) -> float | None:
        if record is None or (record.students is not None and record.students < n_min):
            return None
        return record.rate_pct

    def row(school_code: str, gtype: str, gcode: str, label: str, code: str = "") -> DataRow:
        n = facts.enrollment.get((school_code, gtype, gcode))
        history = facts.absence.get((school_code, gtype, gcode), {})
        return DataRow(
            code=code or gcode,
            label=label,
            enrollment=n,
            rates=tuple(rate(history.get((y, EOY))) for y in years),
            suppressed=n is not None and n < n_min,
        )

    subgroups = [row(entity, SUBGROUP, s.code, s.label) for s in config.subgroups]
    total_shown = any(
        s.code == "all" and not r.suppressed
        for s, r in zip(config.subgroups, subgroups, strict=True)
    )
    served = _served_grades(config, [school] if school else facts.schools)
    served |= facts.enrolled_grades.get(entity, set())
    grade_levels = [g for g in config.grades if g.code in served] or list(config.grades)
    grades = [row(entity, GRADE, g.code, g.label) for g in grade_levels]
    schools = (
        []
        if school
        else [
            row(s.code, SUBGROUP, "all", s.name, s.code)
            for s in facts.schools
            if selected is None or s.code in selected
        ]
    )
    if total_shown:
        for category in PARTITIONS:
            members = [i for i, s in enumerate(config.subgroups) if s.category == category]
            _suppress_complement(subgroups, members)
        _suppress_complement(grades, range(len(grades)))
        _suppress_complement(schools, range(len(schools)))

    kind = PlanKind.SCHOOL if school else PlanKind.DISTRICT
    all_students = facts.absence.get((entity, SUBGROUP, "all"), {})
    tier_counts, tier_source = _tier_counts(config, fiscal_year, all_students)
    periods = tuple(
        PeriodRate(
            code=p.code,
            label=p.label,
            rate=rate(all_students.get((fiscal_year, p.code))) if total_shown else None,
        )
        for p in config.periods_for(kind)
    )
    return PlanData(
        kind=kind,
        fiscal_year=fiscal_year,
        lea=facts.lea,
        school=school,
        history_years=years,
        subgroups=tuple(subgroups),
        grades=tuple(grades),
        schools=tuple(schools),
        tier_counts=tier_counts,
        tier_source=tier_source,
        periods=periods,
        deadline=config.deadline(fiscal_year, kind),
        min_group_size=n_min,
        staffing=school_staffing(config.staffing, config.targeted_grades, grades)
        if school
        else None,
    )


def _tier_counts(
    config: ProgramConfig, fiscal_year: int, records: Mapping[tuple[int, str], Absence]
) -> tuple[dict[int, int | None], str]:
    """Tier counts of the most recent period that has them, and which period that is."""
    labels = {p.code: p.label for p in config.periods}
    candidates = [(fiscal_year, p.code) for p in reversed(config.periods)]
    candidates += [
        (y, EOY) for y in range(fiscal_year - 1, fiscal_year - 1 - config.history_years, -1)
    ]
    tiers = [t.tier for t in config.tiers]
    for year, period in candidates:
        record = records.get((year, period))
        if record and any(v is not None for v in record.tiers):
            counts = {t: record.tiers[t - 1] if t <= len(record.tiers) else None for t in tiers}
            label = labels.get(period, period)
            return counts, f"FY{year} {label[0].lower() + label[1:]}"
    return dict.fromkeys(tiers), ""
