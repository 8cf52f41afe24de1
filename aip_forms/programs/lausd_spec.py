"""The school plan of Los Angeles Unified's Attendance Improvement Program, built from the
spec's building blocks (`aip_forms.spec`): contact and team, targets by subgroup and grade
(the targeted grades only, `ProgramConfig.spec`), the school's counselor time (pre-filled
from the staffing rule), the program's four objectives, each a section of measures (what
will be measured, its baseline and its goal), the tiered supports, certification and
progress. The reference (../shared/reference/lausd-attendance-improvement-program.txt)
gives the objectives; the measures are the school's to choose.
"""

from __future__ import annotations

from functools import cache

from aip_forms.domain import PlanKind
from aip_forms.spec import (
    TEXT_LONG,
    TEXT_MEDIUM,
    TEXT_SHORT,
    FieldSpec,
    FieldType,
    FormSpec,
    RowSource,
    SectionSpec,
    TableSpec,
    Wording,
    certification_section,
    demographics_section,
    grades_section,
    progress_section,
    school_contact_section,
    tier_section,
)

MEASURE_ROWS = 4

# (key, step, sheet, title, the objective as the reference words it, an example measure)
OBJECTIVES = (
    (
        "monitoring",
        "4A",
        "4A Monitor Attendance Data",
        "Objective 1 - Monitor Attendance Data",
        "Monitor and analyze attendance data trends and outcomes to guide prevention and "
        "early intervention efforts for the targeted grade levels.",
        ("Attendance team reviews of K and grade 9 attendance data", "Monthly", "Every two weeks"),
    ),
    (
        "awareness",
        "4B",
        "4B Attendance Awareness",
        "Objective 2 - Staff, Student and Parent Awareness",
        "Demonstrate increased staff, student and parent awareness of attendance "
        "expectations and Performance Meter goals.",
        ("Parents who can state the 96% attendance goal (survey)", "35%", "70%"),
    ),
    (
        "prevention",
        "4C",
        "4C Prevention Programs",
        "Objective 3 - Prevention and Intervention Programs",
        "Demonstrate an increased use of prevention and intervention programs to improve "
        "student attendance school-wide (incentive programs, community partnerships, parent "
        "support).",
        ("Students in an attendance incentive program", "40", "120"),
    ),
    (
        "academics",
        "4D",
        "4D Grades and Work Habits",
        "Objective 4 - Academic Grades and Work Habits",
        "Improve academic grades, as well as cooperation and work habit marks.",
        ("Targeted-grade students with a work habits mark of 3 or 4", "58%", "68%"),
    ),
)


def measures_table(example: tuple[str, str, str]) -> TableSpec:
    """What will be measured, its baseline and its goal, with who does what by when."""
    measure, baseline, goal = example
    return TableSpec(
        key="measures",
        label="Measures",
        header_row=6,
        source=RowSource.FIXED,
        rows=MEASURE_ROWS,
        min_filled_rows=1,
        help="Add at least one measure: what will be measured, its baseline (the latest "
        "figure) and its goal for the end of the year.",
        columns=(
            FieldSpec(
                key="measure",
                label="What Will Be Measured",
                column="A",
                required=True,
                max_length=200,
                width=40,
                example=measure,
            ),
            FieldSpec(
                key="baseline",
                label="Baseline",
                column="B",
                required=True,
                max_length=TEXT_SHORT,
                width=16,
                example=baseline,
            ),
            FieldSpec(
                key="goal",
                label="Goal (End of Year)",
                column="C",
                required=True,
                max_length=TEXT_SHORT,
                width=16,
                example=goal,
            ),
            FieldSpec(
                key="actions",
                label="Actions",
                type=FieldType.LONG_TEXT,
                column="D",
                max_length=TEXT_LONG,
                width=44,
                example="Attendance team meets every other Tuesday with the AIC",
            ),
            FieldSpec(
                key="responsible",
                label="Responsible",
                column="E",
                max_length=TEXT_MEDIUM,
                width=26,
                example="Attendance Improvement Counselor",
            ),
        ),
    )


def objective_section(
    key: str, step: str, sheet: str, title: str, objective: str, example: tuple[str, str, str]
) -> SectionSpec:
    return SectionSpec(
        key=key,
        step=step,
        sheet=sheet,
        title=f"Step {step} - {title}",
        purpose=objective,
        instructions=(
            "For each measure: what will be measured, its baseline (the latest figure you "
            "have) and the goal for the end of the year; then the actions and who is "
            "responsible.",
        ),
        tables=(measures_table(example),),
    )


def counselor_section() -> SectionSpec:
    """The school's Attendance Improvement Counselor time: the band and days pre-filled
    from the staffing rule and the targeted grades' enrollment; how it is used, typed."""
    return SectionSpec(
        key="counselor",
        step="3",
        sheet="3 Counselor Time",
        title="Step 3 - Attendance Improvement Counselor",
        purpose="The counselor time the program assigns the school, one day a week for "
        "every 50 students enrolled in the targeted grades, and how the school will use it.",
        fields=(
            FieldSpec(
                key="staffing_band",
                label="Students Enrolled in the Targeted Grades",
                prefilled=True,
                cell="C5",
                width=30,
            ),
            FieldSpec(
                key="staffing_days", label="Assigned Counselor Days per Week", prefilled=True
            ),
            FieldSpec(
                key="counselor_name",
                label="Attendance Improvement Counselor",
                max_length=TEXT_SHORT,
                cell="C8",
                example="Maria Torres",
                help="The counselor's name, if assigned (optional).",
            ),
            FieldSpec(
                key="schedule",
                label="Days at the School",
                required=True,
                max_length=TEXT_SHORT,
                example="Tuesdays and Thursdays",
                help="Which days of the week the counselor is at the school.",
            ),
            FieldSpec(
                key="use_of_time",
                label="How the Counselor's Time Will Be Used",
                type=FieldType.LONG_TEXT,
                required=True,
                max_length=TEXT_LONG,
                width=90,
                example="Home visits for Kindergarten students absent three days in a month",
                help="Who the counselor will work with and how: case loads, home visits, "
                "parent conferences, attendance team meetings.",
            ),
        ),
    )


def _renumbered(section: SectionSpec, step: str, sheet: str, title: str) -> SectionSpec:
    return section.model_copy(update={"step": step, "sheet": sheet, "title": title})


@cache
def lausd_school_spec(w: Wording) -> FormSpec:
    """The LAUSD school plan in the program's words (`ProgramConfig.wording`)."""
    return FormSpec(
        kind=PlanKind.SCHOOL,
        title="School Attendance Improvement Plan",
        sections=(
            school_contact_section(w),
            demographics_section("2A", f"Step 2 - {w.metric_title} by Subgroup", w),
            grades_section(
                "2B",
                f"Step 2 - {w.metric_title} in the Targeted Grades",
                f"Set a goal for each targeted grade, {w.target_rule}.",
                w,
            ),
            counselor_section(),
            *(objective_section(*objective) for objective in OBJECTIVES),
            _renumbered(tier_section(w), "5", "5 Tiers of Support", "Step 5 - Tiers of Support"),
            _renumbered(
                certification_section("I certify this plan is complete."),
                "6",
                "6 Final Submission",
                "Step 6 - Final Submission",
            ),
            _renumbered(
                progress_section(PlanKind.SCHOOL, w),
                "7",
                "7 Progress Updates",
                "Step 7 - Progress Updates",
            ),
        ),
    )
