"""The form spec: every field of the district and school plans, in one declarative place.

Read by the workbook generator (`workbook_templates`), the reader and validator
(`validators`) and the document renderer (`exports`). Adding a field means adding it here.

A plan is a list of sections; a section sits on one sheet and holds single fields (one cell
each) and tables (a header row and data rows). Table rows come from a source: the subgroup
catalog, the grade catalog, the LEA's schools, the reporting periods, or a fixed count of
input rows. Positions are 1-based rows and column letters on the section's sheet.

Progress updates (issue 12) are a workbook of their own, `progress_spec(kind)`: a
`FormSpec` with `form="progress"` for each plan kind. Why not the plan workbook re-issued
with its Step 6 open: a progress update is filed four times a year against an approved
plan, by other people than the ones who wrote it, and reviewed on its own; its pre-filled
part (the approved targets, this period's and earlier periods' rates and entries, every
strategy of the plan) differs from the plan's, and re-issuing the plan would make every
approved cell an input that must not change. A separate spec keeps the plan's layout as it
is, is read and validated by the same machinery (the signed metadata names the period), and
gives the progress update a record of its own (`plan.period`). The plan's own Step 6 sheet
stays as it was, a summary that documents fill from the progress updates.

Layout is part of the spec and checks itself (`aip_forms.spec_check`): a field without a
cell goes below the field before it, and a label goes above a long-text field (or one in
column A), else to the left of its cell. Two things in one cell fail at construction.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from aip_forms.domain import PlanKind
from aip_forms.programs.rules import Direction, Metric, TargetRule
from aip_forms.spec_check import spec_problems
from aip_forms.workbook_format.a1 import (
    column_index_from_string,
    coordinate_from_string,
    get_column_letter,
)

SPEC_VERSION = 1
SUPPORTED_SPEC_VERSIONS = frozenset({1})

NOT_APPLICABLE = "n/a"  # what a `needs_data_in` input shows in a row without data


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
    # Progress updates: rows from the approved plan (`issued_data.ProgressData`).
    PROGRESS_SUBGROUPS = "progress_subgroups"
    PROGRESS_GRADES = "progress_grades"
    STRATEGIES = "strategies"


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
    cell: str | None = None  # for section fields: "C6"; None: below the field before it
    column: str | None = None  # for table columns: "E"
    width: float = 18
    # A table input asked only of rows with data: of rows where one of these pre-filled
    # columns holds a number. In other rows (a suppressed group, a group without data) the
    # cell is locked and shows NOT_APPLICABLE, the reader gives None ("no target") and the
    # validator refuses a value (rule NOT_APPLICABLE_FILLED). Checked by `spec_check`.
    needs_data_in: tuple[str, ...] = ()

    @property
    def is_input(self) -> bool:
        return not self.prefilled

    @property
    def label_above(self) -> bool:
        """Long text gets the row above for its label (its cell is wide); so does a field
        in column A, which has no column to its left."""
        assert self.cell, f"field {self.key!r} is not placed"
        letter, _ = coordinate_from_string(self.cell)
        return self.type is FieldType.LONG_TEXT or letter == "A"

    @property
    def label_cell(self) -> str:
        """Where a section field's label goes: above its cell or to its left."""
        assert self.cell, f"field {self.key!r} is not placed"
        letter, row = coordinate_from_string(self.cell)
        if self.label_above:
            return f"{letter}{row - 1}"
        return f"{get_column_letter(column_index_from_string(letter) - 1)}{row}"


class TableSpec(Spec):
    key: str
    label: str
    help: str = ""
    header_row: int
    source: RowSource
    rows: int = 0  # for RowSource.FIXED
    min_filled_rows: int = 0  # rows that must hold an entry (e.g. one strategy per tier)
    columns: tuple[FieldSpec, ...]
    # The rows (subgroup, grade or school codes) that are asked for the `needs_data_in`
    # inputs; the others show NOT_APPLICABLE like a row without data. None: every row. A
    # program with targeted grades asks grade targets of those grades only.
    asks_rows: tuple[str, ...] | None = None

    @property
    def first_row(self) -> int:
        return self.header_row + 1

    @property
    def last_row(self) -> int | None:
        """The last data row of a fixed table; None when rows come from data, which may
        give any number of them (the table then owns its columns to the sheet's end)."""
        return self.first_row + self.rows - 1 if self.source is RowSource.FIXED else None

    @property
    def label_cell(self) -> str | None:
        """The table's heading, above its first column, unless that row is the sheet's
        heading (rows 1-3 hold the section's title, purpose and instructions)."""
        if self.header_row - 1 <= 3:
            return None
        first = min((c.column or "A" for c in self.columns), key=column_index_from_string)
        return f"{first}{self.header_row - 1}"

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

    @field_validator("fields")
    @classmethod
    def _place_fields(cls, fields: tuple[FieldSpec, ...]) -> tuple[FieldSpec, ...]:
        """Give every field without a cell the row below the field before it, in the same
        column, leaving a row for its label when the label goes above."""
        placed: list[FieldSpec] = []
        for field in fields:
            if field.cell is None:
                if not placed:
                    raise ValueError(f"the first field, {field.key!r}, needs a cell")
                letter, row = coordinate_from_string(placed[-1].cell or "")
                field = field.model_copy(update={"cell": f"{letter}{row + 1}"})
                if field.label_above:
                    field = field.model_copy(update={"cell": f"{letter}{row + 2}"})
            placed.append(field)
        return tuple(placed)


class FormSpec(Spec):
    kind: PlanKind
    form: Literal["plan", "progress"] = "plan"  # a progress update of a plan of `kind`
    version: int = SPEC_VERSION
    title: str
    sections: tuple[SectionSpec, ...]

    @model_validator(mode="after")
    def _check(self) -> FormSpec:
        problems = spec_problems(self)
        if problems:
            raise ValueError(f"the {self.kind} form spec is inconsistent: " + "; ".join(problems))
        return self

    def section(self, key: str) -> SectionSpec:
        return next(s for s in self.sections if s.key == key)

    def field_name(
        self, section: SectionSpec, field: FieldSpec, table: TableSpec | None = None
    ) -> str:
        """The workbook's defined name of a field, or of a table column's data range."""
        parts = ["aip", section.key] + ([table.key] if table else []) + [field.key]
        return "_".join(parts)


class Wording(Spec):
    """The program's words in a spec: what is measured and who supplies the data. The
    defaults are New Mexico's; `ProgramConfig.wording` gives the profile's."""

    metric: str = "chronic absence rate"  # in sentences: "your goal for the ..."
    metric_title: str = "Chronic Absence"  # in headings: "Chronic Absence FY2025"
    problem: str = "chronic absenteeism"  # "the underlying causes of ..."
    agency_short: str = "PED"  # "pre-filled from PED data"
    lower_is_better: bool = True
    target_rule: str = "below the latest year's rate"  # "a target must be ..."
    contact_email: str = "garcia@belen.k12.nm.us"  # the contact fields' examples
    contact_phone: str = "505-555-0142"

    @classmethod
    def of(
        cls,
        metric: Metric,
        agency_short: str,
        target_rule: TargetRule,
        contact: tuple[str, str] | None = None,
    ) -> Wording:
        """A program's wording from its metric, agency and target rule, and the (email,
        phone) its contact fields show as examples."""
        examples = {"contact_email": contact[0], "contact_phone": contact[1]} if contact else {}
        return cls(
            metric=metric.name,
            metric_title=metric.title,
            problem=metric.problem,
            agency_short=agency_short,
            lower_is_better=metric.direction is Direction.LOWER_IS_BETTER,
            target_rule=target_rule.describe(),
            **examples,
        )

    @property
    def less_ambitious(self) -> str:
        """What a less ambitious target is, in a sentence: "a higher chronic absence rate
        allowed"."""
        return f"a {'higher' if self.lower_is_better else 'lower'} {self.metric} allowed"

    @property
    def loosened(self) -> str:
        """The verb of a less ambitious target: raised (lower is better) or lowered."""
        return "raised" if self.lower_is_better else "lowered"

    @property
    def loosen(self) -> str:
        return "raise" if self.lower_is_better else "lower"

    @property
    def current_figures(self) -> str:
        """The period's figures in an instruction: "chronic-absence rates"."""
        if self.lower_is_better:
            return f"{self.metric_title.lower().replace(' ', '-')} rates"
        return f"figures ({self.metric})"

    @property
    def tier_basis(self) -> str:
        return (
            f"{self.metric_title.lower()} severity"
            if self.lower_is_better
            else "how much school each student misses"
        )


NM_WORDING = Wording()


# ---- shared building blocks -------------------------------------------------------------

TEXT_SHORT = 100
TEXT_MEDIUM = 500
TEXT_LONG = 2000
ROOT_CAUSE_LONG = 4000
STRATEGY_ROWS = 6
TEAM_ROWS = 8

PCT = {"type": FieldType.PERCENT, "min_value": 0.0, "max_value": 1.0}


def contact_fields(kind: PlanKind, w: Wording = NM_WORDING) -> tuple[FieldSpec, ...]:
    who = "District Coordinator" if kind is PlanKind.DISTRICT else "Contact"
    fields = [
        FieldSpec(key="lea_name", label="LEA Name", prefilled=True, cell="C5", width=40),
        FieldSpec(key="lea_code", label="LEA Code", prefilled=True),
    ]
    if kind is PlanKind.SCHOOL:
        fields += [
            FieldSpec(key="school_name", label="School Name", prefilled=True),
            FieldSpec(key="school_code", label="School Code", prefilled=True),
        ]
    # One empty row between what PED filled in and what the coordinator types.
    first = f"C{len(fields) + 6}"
    inputs = [
        ("first_name", f"{who} First Name", FieldType.TEXT, "Kristin", TEXT_SHORT),
        ("last_name", f"{who} Last Name", FieldType.TEXT, "Garcia", TEXT_SHORT),
        ("title", f"{who} Title", FieldType.TEXT, "District Absence Coordinator", TEXT_SHORT),
        ("email", f"{who} Email", FieldType.EMAIL, w.contact_email, 254),
        ("phone", f"{who} Phone", FieldType.PHONE, w.contact_phone, 30),
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
                cell=first if i == 0 else None,
                help=f"Example: {example}",
            )
        )
    return tuple(fields)


def school_contact_section(w: Wording = NM_WORDING) -> SectionSpec:
    """Step 1 of a school plan, in every program: the contact and the team."""
    return SectionSpec(
        key="contact",
        step="1",
        sheet="1 Contact Information",
        title="Step 1 - Contact Information",
        purpose="Identify the primary contact for the attendance plan and add team "
        "members involved in the process.",
        fields=contact_fields(PlanKind.SCHOOL, w),
        tables=(team_table(17),),
    )


def team_table(header_row: int) -> TableSpec:
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


def _history_columns(first_col: int, w: Wording = NM_WORDING) -> tuple[FieldSpec, ...]:
    """Enrollment and three years of rates, pre-filled; labels get years at generation."""
    letters = "ABCDEFGHIJ"
    return (
        FieldSpec(
            key="enrollment",
            label="Enrollment {y0} (current year)",
            type=FieldType.INTEGER,
            prefilled=True,
            column=letters[first_col],
            width=14,
        ),
        FieldSpec(
            key="rate_y3",
            label=w.metric_title + " {y3}",
            prefilled=True,
            column=letters[first_col + 1],
            width=14,
            **PCT,
        ),
        FieldSpec(
            key="rate_y2",
            label=w.metric_title + " {y2}",
            prefilled=True,
            column=letters[first_col + 2],
            width=14,
            **PCT,
        ),
        FieldSpec(
            key="rate_y1",
            label=w.metric_title + " {y1}",
            prefilled=True,
            column=letters[first_col + 3],
            width=14,
            **PCT,
        ),
    )


_DATA_COLUMNS = ("enrollment", "rate_y3", "rate_y2", "rate_y1")  # of `_history_columns`


def _target_column(letter: str, what: str, w: Wording = NM_WORDING) -> FieldSpec:
    return FieldSpec(
        key="target",
        label="Current Year Target (%)",
        column=letter,
        width=16,
        required=True,
        help=f"Your goal for the {w.metric} of this {what} this year, 0% to 100%. "
        "Required when enrollment is at or above the minimum group size; rows without data "
        "show n/a and need no target.",
        example="12%",
        needs_data_in=_DATA_COLUMNS,
        **PCT,
    )


def group_table(
    key: str, label: str, source: RowSource, what: str, w: Wording = NM_WORDING
) -> TableSpec:
    return TableSpec(
        key=key,
        label=label,
        header_row=5,
        source=source,
        help=f"Grey cells are pre-filled from {w.agency_short} data. Enter a target for every "
        "group with data; rows marked n/a need none.",
        columns=(
            FieldSpec(
                key="group",
                label="Subpopulation" if source is RowSource.SUBGROUPS else "Grade Level",
                prefilled=True,
                column="A",
                width=36,
            ),
            *_history_columns(1, w),
            _target_column("F", what, w),
        ),
    )


def demographics_section(step: str, title: str, w: Wording) -> SectionSpec:
    """Targets per demographic subgroup (steps 2A/3A): the same table in every plan."""
    return SectionSpec(
        key="demographics",
        step=step,
        sheet=f"{step} Demographic Targets",
        title=title,
        purpose="Identify attendance disparities across student groups to target "
        "interventions effectively.",
        tables=(
            group_table("subgroups", "Demographic Subgroups", RowSource.SUBGROUPS, "subgroup", w),
        ),
    )


def grades_section(step: str, title: str, purpose: str, w: Wording) -> SectionSpec:
    """Targets per grade level (steps 2B/3B)."""
    return SectionSpec(
        key="grades",
        step=step,
        sheet=f"{step} Grade Targets",
        title=title,
        purpose=purpose,
        tables=(group_table("grades", "Grade Levels", RowSource.GRADES, "grade", w),),
    )


def tier_tables(config_tiers: tuple[tuple[int, str, str], ...]) -> tuple[TableSpec, ...]:
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


def tier_section(w: Wording = NM_WORDING) -> SectionSpec:
    tables = tier_tables(TIER_BANDS)
    return SectionSpec(
        key="tiers",
        step="4",
        sheet="4 Tiers of Support",
        title="Step 4 - Tiers of Support",
        purpose=f"Develop targeted interventions based on {w.tier_basis}. Each tier "
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


def certification_section(statement: str) -> SectionSpec:
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
                max_length=TEXT_SHORT,
                width=44,  # a name or title of up to 50 characters on one printed line
            ),
            FieldSpec(key="title", label="Title", required=True, max_length=TEXT_SHORT, width=44),
            FieldSpec(
                key="date",
                label="Date",
                type=FieldType.DATE,
                required=True,
                help="The date you certify, e.g. 9/15/2026.",
            ),
        ),
    )


def progress_section(kind: PlanKind, w: Wording = NM_WORDING) -> SectionSpec:
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
            f"a) Current {w.current_figures} are pre-filled when {w.agency_short} has them.",
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
                        label=f"Current {w.metric_title} Rate",
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
def district_spec(w: Wording = NM_WORDING) -> FormSpec:
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
                fields=contact_fields(PlanKind.DISTRICT, w),
                tables=(team_table(15),),
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
                        help=f"One row per school. Enter a target {w.metric} "
                        "for every school with data. A student who changed schools counts "
                        "at each school but once in the district, so the schools' "
                        "enrollments need not add up to the district's (the Instructions "
                        "sheet gives both).",
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
                            *_history_columns(2, w),
                            _target_column("G", "school", w),
                        ),
                    ),
                ),
            ),
            demographics_section(
                "3A", "Step 3 - District Attendance Improvement Targets (Demographics)", w
            ),
            grades_section(
                "3B",
                "Step 3 - District Grade Improvement Targets",
                "Set grade-specific improvement goals, Pre-K through 12th grade.",
                w,
            ),
            tier_section(w),
            certification_section("I confirm that my submission is complete and final."),
            progress_section(PlanKind.DISTRICT, w),
        ),
    )


@cache
def school_spec(w: Wording = NM_WORDING) -> FormSpec:
    root_cause = SectionSpec(
        key="root_cause",
        step="3",
        sheet="3 Root Cause Analysis",
        title="Step 3 - Root Cause Analysis",
        purpose=f"Document the underlying causes of {w.problem} using research and local data.",
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
                max_length=ROOT_CAUSE_LONG,
                help="Existing resources, e.g. Strong parent-engagement programs.",
            ),
            FieldSpec(
                key="barriers",
                label="Barriers",
                type=FieldType.LONG_TEXT,
                required=True,
                max_length=ROOT_CAUSE_LONG,
                help="Challenges, e.g. Transportation gaps, Language barriers.",
            ),
        ),
    )
    return FormSpec(
        kind=PlanKind.SCHOOL,
        title="School Attendance Improvement Plan",
        sections=(
            school_contact_section(w),
            demographics_section(
                "2A", f"Step 2 - {w.metric_title} Data for Sub-populations (Demographics)", w
            ),
            grades_section(
                "2B",
                f"Step 2 - {w.metric_title} Data for Grade Levels",
                "Set grade-specific improvement goals.",
                w,
            ),
            root_cause,
            tier_section(w),
            certification_section("I certify this plan is complete."),
            progress_section(PlanKind.SCHOOL, w),
        ),
    )


# ---- progress updates (issue 12) ----------------------------------------------------------

RATINGS = ("Effective", "Partly effective", "Not effective", "Not started")


def _progress_table(key: str, label: str, source: RowSource, w: Wording = NM_WORDING) -> TableSpec:
    what = "subgroup" if source is RowSource.PROGRESS_SUBGROUPS else "grade"
    return TableSpec(
        key=key,
        label=label,
        header_row=5,
        source=source,
        help=f"Grey cells come from the approved plan and {w.agency_short}'s data. Enter an "
        f"adjusted target for the next period for every {what} with a target; say why when "
        f"you {w.loosen} one.",
        columns=(
            FieldSpec(
                key="group",
                label="Subpopulation" if what == "subgroup" else "Grade Level",
                prefilled=True,
                column="A",
                width=30,
            ),
            FieldSpec(
                key="plan_target", label="Plan Target", prefilled=True, column="B", width=12, **PCT
            ),
            FieldSpec(
                key="earlier",
                label="Earlier Periods (rate; adjusted target)",
                prefilled=True,
                column="C",
                width=30,
            ),
            FieldSpec(
                key="current_target",
                label="Target in Force",
                prefilled=True,
                column="D",
                width=12,
                **PCT,
            ),
            FieldSpec(
                key="current_rate",
                label="Current Rate (this period)",
                prefilled=True,
                column="E",
                width=13,
                **PCT,
            ),
            FieldSpec(
                key="adjusted_target",
                label="Adjusted Target, Next Period (%)",
                column="F",
                width=15,
                help=f"Your target {w.metric} for the next period, 0% to 100%. "
                "Required for every group with a target in force; n/a where there is none.",
                example="12%",
                needs_data_in=("current_target",),
                **PCT,
            ),
            FieldSpec(
                key="raise_reason",
                label=f"Reason, if the Target is {w.loosened.title()}",
                type=FieldType.LONG_TEXT,
                column="G",
                max_length=TEXT_MEDIUM,
                width=40,
                help=f"Required when the adjusted target is "
                f"{'above' if w.lower_is_better else 'below'} the target in force "
                f"({w.less_ambitious}): say why.",
                example="Flu outbreak in January; the spring target stays realistic.",
                needs_data_in=("current_target",),
            ),
        ),
    )


@cache
def progress_spec(kind: PlanKind | str, w: Wording = NM_WORDING) -> FormSpec:
    """The progress update of a plan of `kind` for one reporting period (user guide §3.7
    and §4.7): current rates against targets, a rating and reflection per strategy, and
    adjusted targets for the next period."""
    kind = PlanKind(kind)
    who = "District Coordinator" if kind is PlanKind.DISTRICT else "School Coordinator"
    identity = [
        FieldSpec(key="lea_name", label="LEA Name", prefilled=True, cell="C5", width=40),
        FieldSpec(key="lea_code", label="LEA Code", prefilled=True),
    ]
    if kind is PlanKind.SCHOOL:
        identity += [
            FieldSpec(key="school_name", label="School Name", prefilled=True),
            FieldSpec(key="school_code", label="School Code", prefilled=True),
        ]
    identity += [
        FieldSpec(key="period", label="Reporting Period", prefilled=True),
        FieldSpec(key="plan_version", label="Approved Plan Version", prefilled=True),
    ]
    first = f"C{len(identity) + 6}"
    inputs = (
        FieldSpec(
            key="name",
            label=f"Prepared by ({who})",
            required=True,
            max_length=TEXT_SHORT,
            cell=first,
            example="Kristin Garcia",
        ),
        FieldSpec(key="title", label="Title", required=True, max_length=TEXT_SHORT),
        FieldSpec(
            key="email",
            label="Email",
            type=FieldType.EMAIL,
            required=True,
            max_length=254,
            example=w.contact_email,
        ),
        FieldSpec(
            key="date",
            label="Date",
            type=FieldType.DATE,
            required=True,
            help="The date you complete this update, e.g. 1/15/2027.",
        ),
    )
    return FormSpec(
        kind=kind,
        form="progress",
        title=f"{'District' if kind is PlanKind.DISTRICT else 'School'} Attendance "
        "Improvement Plan - Progress Update",
        sections=(
            SectionSpec(
                key="about",
                step="6",
                sheet="1 Progress Update",
                title="Step 6 - Progress Update",
                purpose="Report progress on the approved plan after a reporting period.",
                instructions=(
                    f"a) Current {w.current_figures} are pre-filled from {w.agency_short}'s data.",
                    "b) Reflect on strategy effectiveness (sheet 3).",
                    "c) Adjust targets for the next period (sheets 2A and 2B).",
                ),
                fields=(*identity, *inputs),
            ),
            SectionSpec(
                key="subgroups",
                step="6A",
                sheet="2A Subgroup Progress",
                title="Step 6 - Targets and Current Rates by Subgroup",
                purpose=f"Compare this period's {w.metric} of each subgroup with "
                "its target, and adjust the target for the next period.",
                tables=(
                    _progress_table(
                        "subgroups", "Demographic Subgroups", RowSource.PROGRESS_SUBGROUPS, w
                    ),
                ),
            ),
            SectionSpec(
                key="grades",
                step="6B",
                sheet="2B Grade Progress",
                title="Step 6 - Targets and Current Rates by Grade",
                purpose=f"Compare this period's {w.metric} of each grade with its "
                "target, and adjust the target for the next period.",
                tables=(_progress_table("grades", "Grade Levels", RowSource.PROGRESS_GRADES, w),),
            ),
            SectionSpec(
                key="strategies",
                step="6C",
                sheet="3 Strategy Reflection",
                title="Step 6 - Strategy Effectiveness",
                purpose="Rate every strategy of every tier of the approved plan and say what "
                "happened since the last period.",
                tables=(
                    TableSpec(
                        key="strategies",
                        label="Strategies of the Approved Plan",
                        header_row=5,
                        source=RowSource.STRATEGIES,
                        help="Rate each strategy and describe what happened: what was done, "
                        "for how many students, what changed.",
                        columns=(
                            FieldSpec(key="ref", label="No.", prefilled=True, column="A", width=6),
                            FieldSpec(
                                key="tier", label="Tier", prefilled=True, column="B", width=10
                            ),
                            FieldSpec(
                                key="strategy",
                                label="Strategy",
                                prefilled=True,
                                column="C",
                                width=30,
                            ),
                            FieldSpec(
                                key="action_steps",
                                label="Action Steps (plan)",
                                prefilled=True,
                                column="D",
                                width=34,
                            ),
                            FieldSpec(
                                key="earlier",
                                label="Earlier Periods",
                                prefilled=True,
                                column="E",
                                width=30,
                            ),
                            FieldSpec(
                                key="rating",
                                label="Rating",
                                type=FieldType.CHOICE,
                                choices="ratings",
                                column="F",
                                width=18,
                                help="How well did the strategy work this period? Pick one.",
                            ),
                            FieldSpec(
                                key="reflection",
                                label="Reflection (what happened)",
                                type=FieldType.LONG_TEXT,
                                column="G",
                                max_length=TEXT_LONG,
                                width=50,
                                example="Mentors met 42 students weekly; 30 improved.",
                            ),
                        ),
                    ),
                ),
            ),
        ),
    )


def with_targeted_grades(spec: FormSpec, grades: tuple[str, ...]) -> FormSpec:
    """`spec` with its grade tables asking for targets in `grades` only (the others show
    NOT_APPLICABLE and are refused an entry, like rows without data)."""
    named = ", ".join("K" if g == "K" else f"grade {g}" for g in grades)
    sections = []
    for section in spec.sections:
        tables = tuple(
            table.model_copy(
                update={
                    "asks_rows": grades,
                    "help": f"{table.help} Targets are set for the targeted grades only ({named}).",
                }
            )
            if table.source in (RowSource.GRADES, RowSource.PROGRESS_GRADES)
            else table
            for table in section.tables
        )
        sections.append(section.model_copy(update={"tables": tables}))
    return FormSpec.model_validate({**spec.model_dump(), "sections": sections})


def spec_for(kind: PlanKind | str, w: Wording = NM_WORDING) -> FormSpec:
    """The standard spec of `kind` in a program's words (New Mexico's by default): the
    default of `ProgramConfig.spec`, which is where the rest of the program takes its spec
    from."""
    return district_spec(w) if PlanKind(kind) is PlanKind.DISTRICT else school_spec(w)


LOOKUP_SHEET = "Lists"
META_SHEET = "aip_meta"
INSTRUCTIONS_SHEET = "Instructions"
YES_NO = ("Yes", "No")
