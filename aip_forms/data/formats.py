"""Documented formats of the reference data files (CSV, or .xlsx with the same columns).

One `FileFormat` per kind of file. Loaders, the sample-data writer and the README's format
tables all read these definitions. A school_code left blank means the LEA as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ColumnType(StrEnum):
    CODE = "code"  # LEA or school code: letters, digits, '-' or '_'
    TEXT = "text"
    INTEGER = "integer"  # whole number >= 0
    RATE = "rate"  # percent, 0 to 100
    NUMBER = "number"  # a decimal number >= 0 (an academic index such as 742.5)
    FISCAL_YEAR = "fiscal_year"  # 2027 (FY2027 = July 2026 to June 2027)
    PERIOD = "period"  # 40, 80, 120 or EOY
    GROUP_TYPE = "group_type"  # subgroup or grade
    GROUP_CODE = "group_code"  # a subgroup code (all, female, ...) or grade code (PK, K, 1..12)
    GRADE = "grade"  # PK, K, 1..12
    LEA_TYPE = "lea_type"  # district or state_charter
    FLAG = "flag"  # Y or N (also accepts 1/0, true/false)
    SEX = "sex"  # F or M
    RACE = "race"  # I, A, B, H, P, W, M (see aip_forms.catalog.RACE_CODES)


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = True  # a value must be present in every row
    description: str = ""


@dataclass(frozen=True)
class FileFormat:
    kind: str
    filename: str  # conventional file name (.csv; the same stem with .xlsx is accepted)
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # columns that identify a row; duplicates are refused
    optional_columns: tuple[str, ...] = field(default=())  # may be absent from the header
    # Period files share most columns with chronic_absence: they are recognized by their
    # file name only, never by a header that merely resembles theirs.
    by_header: bool = True
    period_data: bool = False  # a reporting period's data (issue 12): loaded once per period

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


C = ColumnType
PERIOD_CODES = ("40", "80", "120", "EOY")

LEAS = FileFormat(
    kind="leas",
    filename="leas.csv",
    description="Local education agencies: school districts and state-chartered schools.",
    columns=(
        Column("lea_code", C.CODE, description="PED code of the LEA"),
        Column("lea_name", C.TEXT, description="Public name, e.g. BELEN CONSOLIDATED SCHOOLS"),
        Column("lea_type", C.LEA_TYPE, description="district or state_charter"),
    ),
    key=("lea_code",),
)

SCHOOLS = FileFormat(
    kind="schools",
    filename="schools.csv",
    description="Schools and the LEA each belongs to. School codes are unique statewide.",
    columns=(
        Column("lea_code", C.CODE),
        Column("school_code", C.CODE),
        Column("school_name", C.TEXT),
        Column("grade_low", C.GRADE, description="lowest grade served"),
        Column("grade_high", C.GRADE, description="highest grade served"),
        Column(
            "academic_index",
            C.NUMBER,
            required=False,
            description="academic performance index, for programs that select schools by it "
            "(LAUSD: under 800); optional",
        ),
    ),
    key=("school_code",),
    optional_columns=("academic_index",),
)

ENROLLMENT = FileFormat(
    kind="enrollment",
    filename="enrollment.csv",
    description="Enrollment by LEA or school, by subgroup and by grade level.",
    columns=(
        Column("fiscal_year", C.FISCAL_YEAR),
        Column("lea_code", C.CODE),
        Column("school_code", C.CODE, required=False, description="blank for the LEA total"),
        Column("group_type", C.GROUP_TYPE),
        Column("group_code", C.GROUP_CODE),
        Column("enrollment", C.INTEGER),
    ),
    key=("fiscal_year", "lea_code", "school_code", "group_type", "group_code"),
)

CHRONIC_ABSENCE = FileFormat(
    kind="chronic_absence",
    filename="chronic_absence.csv",
    description="Chronic-absence rates by year (period EOY) and by reporting period for the "
    "current year, with optional counts of students per tier.",
    columns=(
        Column("fiscal_year", C.FISCAL_YEAR),
        Column("period", C.PERIOD, description="40, 80, 120 or EOY"),
        Column("lea_code", C.CODE),
        Column("school_code", C.CODE, required=False, description="blank for the LEA total"),
        Column("group_type", C.GROUP_TYPE),
        Column("group_code", C.GROUP_CODE),
        Column("students", C.INTEGER, required=False),
        Column("chronically_absent", C.INTEGER, required=False),
        Column("rate_pct", C.RATE, description="percent of students chronically absent"),
        Column("tier1", C.INTEGER, required=False),
        Column("tier2", C.INTEGER, required=False),
        Column("tier3", C.INTEGER, required=False),
        Column("tier4", C.INTEGER, required=False),
    ),
    key=("fiscal_year", "period", "lea_code", "school_code", "group_type", "group_code"),
    optional_columns=("students", "chronically_absent", "tier1", "tier2", "tier3", "tier4"),
)

STUDENTS = FileFormat(
    kind="students",
    filename="students.csv",
    description="Student-level attendance extract: one row per student per school. Days for "
    "periods not yet reached are left blank.",
    columns=(
        Column("fiscal_year", C.FISCAL_YEAR),
        Column("student_id", C.CODE),
        Column("lea_code", C.CODE),
        Column("school_code", C.CODE),
        Column("grade", C.GRADE),
        Column("sex", C.SEX),
        Column("race_ethnicity", C.RACE),
        Column("econ_disadv", C.FLAG),
        Column("english_learner", C.FLAG),
        Column("disability", C.FLAG),
        Column("homeless", C.FLAG),
        Column("foster_care", C.FLAG),
        Column("military", C.FLAG),
        Column("migrant", C.FLAG),
        *(
            Column(f"days_{what}_{p.lower()}", C.INTEGER, required=False)
            for p in PERIOD_CODES
            for what in ("enrolled", "absent")
        ),
    ),
    key=("fiscal_year", "student_id", "school_code"),
)

PERIOD_RATES = FileFormat(
    kind="period_rates",
    filename="period_rates.csv",
    description="A reporting period's current chronic-absence rates (issue 12), by LEA, "
    "school, subgroup and grade: PED's aggregated figures at the 40th, 80th or 120th day or "
    "the end of the year. Loaded once per fiscal year and period, after the year's "
    "enrollment; a correction replaces the whole period with `aip data load --replace`.",
    # The first columns of chronic_absence: year, period, LEA, school, group, counts, rate.
    columns=CHRONIC_ABSENCE.columns[:9],
    key=("fiscal_year", "period", "lea_code", "school_code", "group_type", "group_code"),
    optional_columns=("students", "chronically_absent"),
    by_header=False,
    period_data=True,
)

PERIOD_STUDENTS = FileFormat(
    kind="period_students",
    filename="period_students.csv",
    description="A reporting period's student-level extract (issue 12): one row per student "
    "per school with days enrolled and absent up to that day. Aggregated into the period's "
    "rates for every school and LEA, subgroup and grade, like students.csv.",
    columns=(
        Column("fiscal_year", C.FISCAL_YEAR),
        Column("period", C.PERIOD, description="40, 80, 120 or EOY"),
        *(c for c in STUDENTS.columns[1:14]),
        Column("days_enrolled", C.INTEGER, description="days enrolled up to the period's day"),
        Column("days_absent", C.INTEGER, description="days absent up to the period's day"),
    ),
    key=("fiscal_year", "period", "student_id", "school_code"),
    by_header=False,
    period_data=True,
)

FORMATS: tuple[FileFormat, ...] = (
    LEAS,
    SCHOOLS,
    ENROLLMENT,
    CHRONIC_ABSENCE,
    STUDENTS,
    PERIOD_RATES,
    PERIOD_STUDENTS,
)
# Loading order: codes must exist before rows that refer to them.
# The year's files, in loading order (`aip data sample` writes them all) ...
LOAD_ORDER = tuple(f.kind for f in FORMATS if not f.period_data)
# ... and a reporting period's, loaded after them (issue 12).
PERIOD_KINDS = tuple(f.kind for f in FORMATS if f.period_data)
ALL_KINDS = LOAD_ORDER + PERIOD_KINDS


def format_for(kind: str) -> FileFormat:
    return next(f for f in FORMATS if f.kind == kind)
