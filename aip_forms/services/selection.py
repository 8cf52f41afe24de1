"""School selection (issue 14): which schools must file a plan under the program's rule,
ranked highest need first, with the reason each was chosen and, where the program assigns
support time (LAUSD's counselor days), that time.

The figures come from the loaded data: the rate is the metric's share in the program's
targeted grades (every grade when it targets none) at the end of the year before
`fiscal_year`; a New Mexico school is also judged by its highest subgroup rate (groups of at
least `min_group_size` students, so that a handful of students does not decide); the
enrollment is the current year's in the targeted grades; the academic index is the school's
(schools file, `academic_index`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from aip_forms.config import ProgramConfig
from aip_forms.db.models import AbsenceRow, EnrollmentRow, LeaRow, SchoolRow
from aip_forms.errors import InvalidInput, NotFound
from aip_forms.programs.rules import SchoolFigures
from aip_forms.services.uow import UowFactory

ALL = "all"


@dataclass(frozen=True)
class SelectedSchool:
    rank: int
    lea_code: str
    school_code: str
    school_name: str
    rate: float  # fraction, the metric's share in the targeted grades
    enrolled: int  # in the targeted grades, current year
    academic_index: float | None
    reason: str
    support_days: float | None  # per week, when the program assigns support time


@dataclass(frozen=True)
class Selection:
    fiscal_year: int
    data_year: int  # the year whose end-of-year rates were ranked
    grades: tuple[str, ...] | None  # the targeted grades (None: every grade)
    considered: int  # schools with figures
    schools: tuple[SelectedSchool, ...]
    support_unit: str | None


def select_schools(
    *, uow: UowFactory, config: ProgramConfig, fiscal_year: int, lea_code: str | None = None
) -> Selection:
    with uow() as u:
        return selection(u.session, config, fiscal_year, lea_code)


def selection(
    session: Session, config: ProgramConfig, fiscal_year: int, lea_code: str | None = None
) -> Selection:
    if lea_code is not None and session.get(LeaRow, lea_code) is None:
        raise NotFound(f"no LEA with code {lea_code!r}")
    data_year = fiscal_year - 1
    schools = {
        s.code: s
        for s in session.scalars(
            select(SchoolRow).where(
                *(() if lea_code is None else (SchoolRow.lea_code == lea_code,))
            )
        )
    }
    figures = _figures(session, config, fiscal_year, data_year, schools)
    if not figures:
        raise InvalidInput(
            f"no end-of-year rates for FY{data_year} to select schools by: load that year's "
            "data first (aip data load)"
        )
    staffing = config.staffing
    picked = []
    for chosen in config.selection.select(figures.values()):
        f, row = figures[chosen.code], schools[chosen.code]
        assert f.rate is not None
        picked.append(
            SelectedSchool(
                rank=chosen.rank,
                lea_code=row.lea_code,
                school_code=row.code,
                school_name=row.name,
                rate=f.rate,
                enrolled=f.enrolled,
                academic_index=f.academic_index,
                reason=chosen.reason,
                support_days=None if staffing is None else staffing.days_for(f.enrolled),
            )
        )
    return Selection(
        fiscal_year=fiscal_year,
        data_year=data_year,
        grades=config.targeted_grades,
        considered=len(figures),
        schools=tuple(picked),
        support_unit=None if staffing is None else staffing.unit,
    )


def _figures(
    session: Session,
    config: ProgramConfig,
    fiscal_year: int,
    data_year: int,
    schools: dict[str, SchoolRow],
) -> dict[str, SchoolFigures]:
    grades = frozenset(config.targeted_grades or ())
    # code -> [counted students, students]: rows without counts weigh as one student
    counted: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    highest: dict[str, float] = {}
    rows = session.execute(
        select(
            AbsenceRow.school_code,
            AbsenceRow.group_type,
            AbsenceRow.group_code,
            AbsenceRow.students,
            AbsenceRow.chronically_absent,
            AbsenceRow.rate_pct,
        ).where(
            AbsenceRow.fiscal_year == data_year,
            AbsenceRow.period == "EOY",
            AbsenceRow.school_code != "",
        )
    )
    for code, gtype, gcode, students, count, rate_pct in rows:
        if code not in schools:
            continue
        if _in_scope(grades, gtype, gcode):
            if students and count is not None:
                counted[code][0] += count
                counted[code][1] += students
            else:
                counted[code][0] += rate_pct / 100
                counted[code][1] += 1
        big_enough = students is None or students >= config.min_group_size
        if gtype == "subgroup" and gcode != ALL and big_enough:
            highest[code] = max(highest.get(code, 0.0), rate_pct / 100)
    rate_of = {c: n / d for c, (n, d) in counted.items() if d}
    enrolled: dict[str, int] = defaultdict(int)
    for code, gtype, gcode, n in session.execute(
        select(
            EnrollmentRow.school_code,
            EnrollmentRow.group_type,
            EnrollmentRow.group_code,
            EnrollmentRow.enrollment,
        ).where(EnrollmentRow.fiscal_year == fiscal_year, EnrollmentRow.school_code != "")
    ):
        if _in_scope(grades, gtype, gcode):
            enrolled[code] += n
    return {
        code: SchoolFigures(
            code=code,
            rate=rate,
            enrolled=enrolled.get(code, 0),
            highest_subgroup_rate=highest.get(code),
            academic_index=schools[code].academic_index,
        )
        for code, rate in rate_of.items()
    }


def _in_scope(grades: frozenset[str], group_type: str, group_code: str) -> bool:
    """The rows a school is judged by: its targeted grades, or all its students."""
    if grades:
        return group_type == "grade" and group_code in grades
    return group_type == "subgroup" and group_code == ALL
