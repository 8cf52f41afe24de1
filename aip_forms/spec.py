"""The form spec: every field of the district and school plans, in one declarative place.

Read by the workbook generator (`workbook_templates`), the reader and validator
(`validators`) and the document renderer (`exports`). Adding a field means adding it here.

A plan is a list of sections; a section sits on one sheet and holds single fields (one cell
each) and tables (a header row and data rows). Table rows come from a source: the subgroup
catalog, the grade catalog, the LEA's schools, the reporting periods, or a fixed count of
input rows. Positions are 1-based rows and column letters on the section's sheet.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache

from pydantic import BaseModel, ConfigDict

from aip_forms.domain import PlanKind

SPEC_VERSION = 1
SUPPORTED_SPEC_VERSIONS = frozenset({1})


class FieldType(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    EMAIL = "email"
    PHONE = "phone"
    PERCENT = "percent"  # stored as a fraction (0.25) with a percent format
    INTEGER = "integer"
    DATE = "date"
    CHOICE = "choice"  # from a named lookup list
    CONFIRM = "confirm"  # Yes / No dropdown


class RowSource(StrEnum):
    SUBGROUPS = "subgroups"
    GRADES = "grades"
    SCHOOLS = "schools"
    PERIODS = "periods"
    FIXED = "fixed"  # `rows` blank input rows


class Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FieldSpec(Spec):
    """One value: a single cell (section field) or one column of a table."""

    key: str  # unique within its section or table: "first_name"
    label: str
    type: FieldType = FieldType.TEXT
    required: bool = False
    prefilled: bool = False  # written from data, locked and grey; never typed by a user
    max_length: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    choices: str | None = None  # name of a lookup list on the hidden lookup sheet
    help: str = ""
    example: str = ""
    cell: str | None = None  # for section fields: "C6"
    column: str | None = None  # for table columns: "E"
    width: float = 18

    @property
    def is_input(self) -> bool:
        return not self.prefilled


class TableSpec(Spec):
    key: str
    label: str
    help: str = ""
    header_row: int
    source: RowSource
    rows: int = 0  # for RowSource.FIXED
    min_filled_rows: int = 0  # rows that must hold an entry (e.g. one strategy per tier)
    columns: tuple[FieldSpec, ...]

    @property
    def first_row(self) -> int:
        return self.header_row + 1

    def column(self, key: str) -> FieldSpec:
        return next(c for c in self.columns if c.key == key)


class SectionSpec(Spec):
    key: str
    step: str  # "1", "2", "3A" ...
    sheet: str  # sheet title, at most 31 characters
    title: str
    purpose: str
    instructions: tuple[str, ...] = ()
    fields: tuple[FieldSpec, ...] = ()
    tables: tuple[TableSpec, ...] = ()
    final_only: bool = False  # required only for a final submission
    optional: bool = False  # progress updates: not part of the plan's completeness


class FormSpec(Spec):
    kind: PlanKind
    version: int = SPEC_VERSION
    title: str
    sections: tuple[SectionSpec, ...]

    def section(self, key: str) -> SectionSpec:
        return next(s for s in self.sections if s.key == key)

    def field_name(
        self, section: SectionSpec, field: FieldSpec, table: TableSpec | None = None
    ) -> str:
        """The workbook's defined name of a field, or of a table column's data range."""
        parts = ["aip", section.key] + ([table.key] if table else []) + [field.key]
        return "_".join(parts)


# ---- shared building blocks -------------------------------------------------------------

TEXT_SHORT = 100
TEXT_MEDIUM = 500
TEXT_LONG = 2000
ROOT_CAUSE_LONG = 4000
STRATEGY_ROWS = 6
TEAM_ROWS = 8

PCT = {"type": FieldType.PERCENT, "min_value": 0.0, "max_value": 1.0}


def _contact_fields(kind: PlanKind) -> tuple[FieldSpec, ...]:
    who = "District Coordinator" if kind is PlanKind.DISTRICT else "Contact"
    fields = [
        FieldSpec(key="lea_name", label="LEA Name", prefilled=True, cell="C5", width=40),
        FieldSpec(key="lea_code", label="LEA Code", prefilled=True, cell="C6"),
    ]
    if kind is PlanKind.SCHOOL:
        fields += [
            FieldSpec(key="school_name", label="School Name", prefilled=True, cell="C7"),
            FieldSpec(key="school_code", label="School Code", prefilled=True, cell="C8"),
        ]
    first = 10 if kind is PlanKind.SCHOOL else 8
    inputs = [
        ("first_name", f"{who} First Name", FieldType.TEXT, "Kristin", TEXT_SHORT),
        ("last_name", f"{who} Last Name", FieldType.TEXT, "Garcia", TEXT_SHORT),
        ("title", f"{who} Title", FieldType.TEXT, "District Absence Coordinator", TEXT_SHORT),
        ("email", f"{who} Email", FieldType.EMAIL, "garcia@belen.k12.nm.us", 254),
        ("phone", f"{who} Phone", FieldType.PHONE, "505-555-0142", 30),
    ]
    for i, (key, label, ftype, example, length) in enumerate(inputs):
        fields.append(
            FieldSpec(
                key=key,
                label=label,
                type=ftype,
                required=key != "phone",
                max_length=length,
                example=example,
                cell=f"C{first + i}",
                help=f"Example: {example}",
            )
        )
    return tuple(fields)


def _team_table(header_row: int) -> TableSpec:
    return TableSpec(
        key="team",
        label="Team Members",
        header_row=header_row,
        source=RowSource.FIXED,
        rows=TEAM_ROWS,
        help="Everyone who helped write this plan (optional).",
        columns=(
            FieldSpec(key="name", label="Name", column="B", max_length=TEXT_SHORT, width=28),
            FieldSpec(
                key="role", label="Role or Title", column="C", max_length=TEXT_SHORT, width=40
            ),
            FieldSpec(
                key="email",
                label="Email",
                type=FieldType.EMAIL,
                column="D",
                max_length=254,
                width=32,
            ),
        ),
    )


def _history_columns(first_col: int) -> tuple[FieldSpec, ...]:
    """Enrollment and three years of rates, pre-filled; labels get years at generation."""
    letters = "ABCDEFGHIJ"
    return (
        FieldSpec(
            key="enrollment",
            label="Current Year Enrollment",
            type=FieldType.INTEGER,
            prefilled=True,
            column=letters[first_col],
            width=14,
        ),
        FieldSpec(
            key="rate_y3",
            label="Chronic Absence {y3}",
            prefilled=True,
            column=letters[first_col + 1],
            width=14,
            **PCT,
        ),
        FieldSpec(
            key="rate_y2",
            label="Chronic Absence {y2}",
            prefilled=True,
            column=letters[first_col + 2],
            width=14,
            **PCT,
        ),
        FieldSpec(
            key="rate_y1",
            label="Chronic Absence {y1}",
            prefilled=True,
            column=letters[first_col + 3],
            width=14,
            **PCT,
        ),
    )


def _target_column(letter: str, what: str) -> FieldSpec:
    return FieldSpec(
        key="target",
        label="Current Year Target (%)",
        column=letter,
        width=16,
        required=True,
        help=f"Your goal for the chronic absence rate of this {what} this year, 0% to 100%. "
        "Required when enrollment is at or above the minimum group size.",
        example="12%",
        **PCT,
    )


def _group_table(key: str, label: str, source: RowSource, what: str) -> TableSpec:
    return TableSpec(
        key=key,
        label=label,
        header_row=5,
        source=source,
        help="Grey cells are pre-filled from PED data. Enter a target for every group "
        "that is not suppressed.",
        columns=(
            FieldSpec(
                key="group",
                label="Subpopulation" if source is RowSource.SUBGROUPS else "Grade Level",
                prefilled=True,
                column="A",
                width=36,
            ),
            *_history_columns(1),
            _target_column("F", what),
        ),
    )


def _tier_tables(config_tiers: tuple[tuple[int, str, str], ...]) -> tuple[TableSpec, ...]:
    tables = []
    for i, (tier, name, band) in enumerate(config_tiers):
        header = 6 + i * (STRATEGY_ROWS + 4)
        tables.append(
            TableSpec(
                key=f"tier{tier}",
                label=f"Tier {tier} ({band} absence) - {name}",
                header_row=header,
                source=RowSource.FIXED,
                rows=STRATEGY_ROWS,
                min_filled_rows=1,
                help="Add at least one strategy. Pick from the list, or choose Other and "
                "describe it.",
                columns=(
                    FieldSpec(
                        key="strategy",
                        label="Strategy",
                        type=FieldType.CHOICE,
                        choices=f"strategies_tier{tier}",
                        column="A",
                        width=34,
                    ),
                    FieldSpec(
                        key="other_strategy",
                        label="Other Strategy (if Other)",
                        column="B",
                        max_length=200,
                        width=30,
                        example="Monthly attendance reward assemblies",
                    ),
                    FieldSpec(
                        key="action_steps",
                        label="Action Steps",
                        type=FieldType.LONG_TEXT,
                        column="C",
                        max_length=TEXT_LONG,
                        width=44,
                        example="Host biweekly parent workshops",
                    ),
                    FieldSpec(
                        key="responsible",
                        label="Responsible Parties",
                        column="D",
                        max_length=TEXT_MEDIUM,
                        width=28,
                        example="Counselor: Maria Garcia",
                    ),
                    FieldSpec(
                        key="resources",
                        label="Resources Needed",
                        column="E",
                        max_length=TEXT_MEDIUM,
                        width=28,
                        example="$500 for incentive prizes",
                    ),
                    FieldSpec(
                        key="timeline",
                        label="Timeline",
                        column="F",
                        max_length=200,
                        width=24,
                        example="Launch by October 15",
                    ),
                ),
            )
        )
    return tuple(tables)


TIER_BANDS = (
    (1, "Whole School Prevention", "0-5%"),
    (2, "Individualized Prevention", "5-10%"),
    (3, "Early Intervention", "10-20%"),
    (4, "Intensive Support", "20%+"),
)


def _tier_section() -> SectionSpec:
    tables = _tier_tables(TIER_BANDS)
    return SectionSpec(
        key="tiers",
        step="4",
        sheet="4 Tiers of Support",
        title="Step 4 - Tiers of Support",
        purpose="Develop targeted interventions based on chronic absence severity. Each tier "
        "corresponds to a student's absenteeism level and requires specific strategies.",
        instructions=(
            "A. Add Strategy: select from the predefined options or choose Other and describe it.",
            "B. Implementation Plan: action steps, responsible parties, resources needed and "
            "timeline for every strategy.",
        ),
        fields=tuple(
            FieldSpec(
                key=f"tier{t}_students",
                label=f"Students in Tier {t} (latest data)",
                type=FieldType.INTEGER,
                prefilled=True,
                cell=f"F{tb.header_row - 1}",
            )
            for t, tb in zip((1, 2, 3, 4), tables, strict=True)
        ),
        tables=tables,
    )


def _certification(statement: str) -> SectionSpec:
    return SectionSpec(
        key="certification",
        step="5",
        sheet="5 Final Submission",
        title="Step 5 - Final Submission",
        final_only=True,
        purpose="Complete and certify the plan.",
        instructions=(
            "a) Review all entered data.",
            "b) Check the certification box.",
            "c) Upload the workbook through the portal to submit the plan.",
        ),
        fields=(
            FieldSpec(
                key="confirm",
                label=statement,
                type=FieldType.CONFIRM,
                choices="yes_no",
                required=True,
                cell="C5",
                help="Choose Yes to certify the plan.",
            ),
            FieldSpec(
                key="name",
                label="Certified by (name)",
                required=True,
                cell="C6",
                max_length=TEXT_SHORT,
            ),
            FieldSpec(key="title", label="Title", required=True, cell="C7", max_length=TEXT_SHORT),
            FieldSpec(
                key="date",
                label="Date",
                type=FieldType.DATE,
                required=True,
                cell="C8",
                help="The date you certify, e.g. 9/15/2026.",
            ),
        ),
    )


def _progress(kind: PlanKind) -> SectionSpec:
    periods = (
        "40-day, 80-day and 120-day"
        if kind is PlanKind.DISTRICT
        else "80-day, 120-day and end-of-year"
    )
    return SectionSpec(
        key="progress",
        step="6",
        sheet="6 Progress Updates",
        title="Step 6 - Progress Updates",
        optional=True,
        purpose=f"Monitor implementation at {periods} intervals.",
        instructions=(
            "Filled after each reporting period, not with the first submission.",
            "a) Current chronic-absence rates are pre-filled when PED has them.",
            "b) Reflect on strategy effectiveness.",
            "c) Adjust targets for the next period.",
        ),
        tables=(
            TableSpec(
                key="periods",
                label="Reporting Periods",
                header_row=5,
                source=RowSource.PERIODS,
                columns=(
                    FieldSpec(
                        key="period", label="Reporting Period", prefilled=True, column="A", width=18
                    ),
                    FieldSpec(
                        key="current_rate",
                        label="Current Chronic Absence Rate",
                        prefilled=True,
                        column="B",
                        width=16,
                        **PCT,
                    ),
                    FieldSpec(
                        key="reflection",
                        label="Reflection on Strategy Effectiveness",
                        type=FieldType.LONG_TEXT,
                        column="C",
                        max_length=TEXT_LONG,
                        width=60,
                    ),
                    FieldSpec(
                        key="adjusted_target",
                        label="Adjusted Target (%)",
                        column="D",
                        width=16,
                        **PCT,
                    ),
                ),
            ),
        ),
    )


@cache
def district_spec() -> FormSpec:
    return FormSpec(
        kind=PlanKind.DISTRICT,
        title="District Attendance Improvement Plan",
        sections=(
            SectionSpec(
                key="contact",
                step="1",
                sheet="1 District Contact",
                title="Step 1 - District Contact Info",
                purpose="Identify the primary district contact and team members.",
                fields=_contact_fields(PlanKind.DISTRICT),
                tables=(_team_table(15),),
            ),
            SectionSpec(
                key="school_targets",
                step="2",
                sheet="2 School Targets",
                title="Step 2 - School Improvement Targets",
                purpose="Set and monitor attendance improvement targets for the district "
                "and each of its schools.",
                tables=(
                    TableSpec(
                        key="schools",
                        label="School Improvement Targets",
                        header_row=5,
                        source=RowSource.SCHOOLS,
                        help="One row per school. Enter a target chronic absence rate "
                        "for every school.",
                        columns=(
                            FieldSpec(
                                key="school_code",
                                label="School Code",
                                prefilled=True,
                                column="A",
                                width=12,
                            ),
                            FieldSpec(
                                key="school_name",
                                label="School Name",
                                prefilled=True,
                                column="B",
                                width=40,
                            ),
                            *_history_columns(2),
                            _target_column("G", "school"),
                        ),
                    ),
                ),
            ),
            SectionSpec(
                key="demographics",
                step="3A",
                sheet="3A Demographic Targets",
                title="Step 3 - District Attendance Improvement Targets (Demographics)",
                purpose="Identify attendance disparities across student groups to target "
                "interventions effectively.",
                tables=(
                    _group_table(
                        "subgroups", "Demographic Subgroups", RowSource.SUBGROUPS, "subgroup"
                    ),
                ),
            ),
            SectionSpec(
                key="grades",
                step="3B",
                sheet="3B Grade Targets",
                title="Step 3 - District Grade Improvement Targets",
                purpose="Set grade-specific improvement goals, Pre-K through 12th grade.",
                tables=(_group_table("grades", "Grade Levels", RowSource.GRADES, "grade"),),
            ),
            _tier_section(),
            _certification("I confirm that my submission is complete and final."),
            _progress(PlanKind.DISTRICT),
        ),
    )


@cache
def school_spec() -> FormSpec:
    root_cause = SectionSpec(
        key="root_cause",
        step="3",
        sheet="3 Root Cause Analysis",
        title="Step 3 - Root Cause Analysis",
        purpose="Document the underlying causes of chronic absenteeism using research and "
        "local data.",
        fields=(
            FieldSpec(
                key="research",
                label="National/Local Research",
                type=FieldType.LONG_TEXT,
                required=True,
                cell="B6",
                max_length=ROOT_CAUSE_LONG,
                width=100,
                help="Describe trends, e.g. Transportation barriers affect 30% of students.",
            ),
            FieldSpec(
                key="supportive_factors",
                label="Supportive Factors",
                type=FieldType.LONG_TEXT,
                required=True,
                cell="B8",
                max_length=ROOT_CAUSE_LONG,
                help="Existing resources, e.g. Strong parent-engagement programs.",
            ),
            FieldSpec(
                key="barriers",
                label="Barriers",
                type=FieldType.LONG_TEXT,
                required=True,
                cell="B10",
                max_length=ROOT_CAUSE_LONG,
                help="Challenges, e.g. Transportation gaps, Language barriers.",
            ),
        ),
    )
    return FormSpec(
        kind=PlanKind.SCHOOL,
        title="School Attendance Improvement Plan",
        sections=(
            SectionSpec(
                key="contact",
                step="1",
                sheet="1 Contact Information",
                title="Step 1 - Contact Information",
                purpose="Identify the primary contact for the attendance plan and add team "
                "members involved in the process.",
                fields=_contact_fields(PlanKind.SCHOOL),
                tables=(_team_table(17),),
            ),
            SectionSpec(
                key="demographics",
                step="2A",
                sheet="2A Demographic Targets",
                title="Step 2 - Chronic Absence Data for Sub-populations (Demographics)",
                purpose="Identify attendance disparities across student groups to target "
                "interventions effectively.",
                tables=(
                    _group_table(
                        "subgroups", "Demographic Subgroups", RowSource.SUBGROUPS, "subgroup"
                    ),
                ),
            ),
            SectionSpec(
                key="grades",
                step="2B",
                sheet="2B Grade Targets",
                title="Step 2 - Chronic Absence Data for Grade Levels",
                purpose="Set grade-specific improvement goals.",
                tables=(_group_table("grades", "Grade Levels", RowSource.GRADES, "grade"),),
            ),
            root_cause,
            _tier_section(),
            _certification("I certify this plan is complete."),
            _progress(PlanKind.SCHOOL),
        ),
    )


def spec_for(kind: PlanKind | str) -> FormSpec:
    return district_spec() if PlanKind(kind) is PlanKind.DISTRICT else school_spec()


LOOKUP_SHEET = "Lists"
META_SHEET = "aip_meta"
INSTRUCTIONS_SHEET = "Instructions"
YES_NO = ("Yes", "No")
