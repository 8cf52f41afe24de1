"""The Instructions sheet: for whom the workbook is, what to fill, by when, how to return it.

Most lines depend only on the plan kind, fiscal year and program config (they are part of a
compiled template); `entity_cells` gives the few that name the LEA or school.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from aip_forms.config import ProgramConfig
from aip_forms.domain import FiscalYear, PlanKind
from aip_forms.issued_data import PlanData
from aip_forms.spec import INSTRUCTIONS_SHEET, NOT_APPLICABLE, FormSpec
from aip_forms.workbook_format.layout import NO_DATA, SUPPRESSED, cell_key
from aip_forms.workbook_format.prefill import CellValue

FOR_ROW = 2  # "For: ..." names the LEA or school


@dataclass(frozen=True)
class Line:
    text: str
    style: str = "aip_text"
    lines: int = 1  # an entity line's room: its text is only known per workbook


def _date(d: dt.date) -> str:
    return f"{d:%A, %B} {d.day}, {d.year}"


def instruction_lines(spec: FormSpec, config: ProgramConfig, fiscal_year: int) -> list[Line]:
    """The sheet's lines, row 1 first. Rows FOR_ROW and `tier_source_row()` are entity
    lines: their text here is a placeholder replaced by `entity_cells`."""
    if spec.form == "progress":
        return progress_lines(spec, config, fiscal_year)
    fy = FiscalYear(year=fiscal_year)
    district = spec.kind is PlanKind.DISTRICT
    deadline = config.deadline(fiscal_year, spec.kind)
    n = config.min_group_size
    ped = config.agency_short
    who = (
        "the District Absence Coordinator, with the district's attendance team"
        if district
        else "the school's attendance plan contact (school coordinator), with the school team"
    )
    lines = [
        Line(f"{spec.title}, {fy.label} (school year {fy.school_year})", "aip_title"),
        Line("For: (entity)", "aip_for"),
        Line(f"To be completed by {who}."),
        Line(f"Deadline: upload the completed workbook by {_date(deadline)}.", "aip_label"),
        Line(""),
        Line("How to fill it in", "aip_heading"),
        Line(
            "• Light yellow cells with a border are yours to fill. Select a cell to see what "
            "it needs; cells with a list show an arrow to pick from."
        ),
        Line(
            f"• Grey cells are pre-filled from {ped} data and are read-only. If a pre-filled "
            f"number looks wrong, tell {ped}; do not retype it."
        ),
        Line(
            f"• Rows whose data is suppressed show {SUPPRESSED} for enrollment and rates: "
            f"groups with fewer than {n} students are not shown, to protect student privacy "
            "(and, where a total would give one away, the next smallest group too). "
            f"{NO_DATA} means {ped} has no figure. Rows without data (suppressed, or no "
            f"figures at all) need no target: their target cell is locked and shows "
            f"{NOT_APPLICABLE}."
        ),
        Line("• Percentages: type 12% (or 0.12). Dates: type 9/15/2026."),
        Line(
            "• Keep the workbook as it is: do not rename, add or delete sheets, and fill in "
            "this file rather than a copy. The portal reads your answers from these cells."
        ),
        Line(""),
        Line("What to fill", "aip_heading"),
    ]
    for section in spec.sections:
        note = ""
        if section.optional:
            note = " (after each reporting period; not part of the first submission)"
        elif section.final_only:
            note = " (when the plan is final)"
        lines.append(Line(f"• {section.title}: {section.purpose}{note}"))
    lines += [
        Line(""),
        Line("How to return it", "aip_heading"),
        Line(
            "Save the workbook as an Excel Workbook (.xlsx) and upload the completed file "
            "through the aip-forms portal. The portal checks it and lists anything to "
            "correct: fix it in this same workbook and upload it again. Every upload is kept."
        ),
        Line(""),
        Line("About the pre-filled data", "aip_heading"),
        Line(
            f"{config.metric.definition()} Enrollment is for "
            f"{fy.label}; {config.metric.rates} are end-of-year rates of "
            f"{', '.join(f'FY{fiscal_year - k}' for k in range(3, 0, -1))}."
        ),
        Line("Students per tier: (source)"),
        Line("Enrollment: (note)", lines=7 if district else 2),
    ]
    return lines


def progress_lines(spec: FormSpec, config: ProgramConfig, fiscal_year: int) -> list[Line]:
    """The Instructions of a progress update (issue 12); row FOR_ROW names the entity and
    the period, the last row the deadline (`entity_cells`)."""
    fy = FiscalYear(year=fiscal_year)
    n = config.min_group_size
    ped, w = config.agency_short, config.wording
    lines = [
        Line(f"{spec.title}, {fy.label} (school year {fy.school_year})", "aip_title"),
        Line("For: (entity)", "aip_for"),
        Line("A progress update on the approved plan for one reporting period."),
        Line(""),
        Line("How to fill it in", "aip_heading"),
        Line(
            f"• Grey cells come from the approved plan and {ped}'s data for this period and "
            f"are read-only: the targets, the current {config.metric.rates}, and what earlier "
            "progress updates said."
        ),
        Line(
            "• Light yellow cells are yours: a rating and a reflection for every strategy, an "
            "adjusted target for the next period for every group with a target, and a reason "
            f"whenever you {w.loosen} a target ({w.less_ambitious})."
        ),
        Line(
            f"• Groups with fewer than {n} students show {SUPPRESSED} for rates, to "
            f"protect student privacy; {NO_DATA} means no figure. Groups without a target in "
            f"force need no adjusted target: their cell is locked and shows {NOT_APPLICABLE}."
        ),
        Line("• Percentages: type 12% (or 0.12). Dates: type 1/15/2027."),
        Line(""),
        Line("What to fill", "aip_heading"),
        *(Line(f"• {section.title}: {section.purpose}") for section in spec.sections),
        Line(""),
        Line("How to return it", "aip_heading"),
        Line(
            "Save the workbook as an Excel Workbook (.xlsx) and upload it through the portal "
            "(or aip submit). It is checked, stored as a new version and reviewed like the "
            "plan."
        ),
        Line("Deadline: (deadline)", "aip_label"),
    ]
    return lines


def tier_source_row(spec: FormSpec, config: ProgramConfig, fiscal_year: int) -> int:
    return len(instruction_lines(spec, config, fiscal_year)) - 1


def enrollment_note(data: PlanData, config: ProgramConfig) -> str:
    """Which year the enrollment is, and for a district plan whether its schools' figures
    add up to the district's and why they need not: a student who changed schools within
    the district counts at each school where they were enrolled long enough, and once in
    the district, with the days added up."""
    days = config.min_enrolled_days
    counted = f"enrolled at least {days} day{'s' if days != 1 else ''}"
    text = (
        f"Enrollment: students {counted} in FY{data.fiscal_year} (the current year), as "
        f"loaded from {config.agency_short}'s data."
    )
    if not data.schools:
        return text
    district = next((r.enrollment for r in data.subgroups if r.code == "all"), None)
    shown = [r for r in data.schools if not r.suppressed and r.enrollment is not None]
    total = sum(r.enrollment or 0 for r in shown)
    left_out = len(data.schools) - len(shown)
    schools = f"The schools' enrollments shown add up to {total:,}" + (
        f" ({left_out} school{'s' if left_out != 1 else ''} suppressed or without data left out)"
        if left_out
        else ""
    )
    if district is None or (total == district and not left_out):
        return f"{text} {schools}, the district's figure." if district else text
    return (
        f"{text} {schools}; the district's is {district:,}. They differ because a student "
        "who changed schools within the district counts at each school where they were "
        f"{counted}, but once in the district (days added up across its schools), and a "
        "student enrolled too few days at each school may count only in the district."
    )


def entity_cells(spec: FormSpec, data: PlanData, config: ProgramConfig) -> dict[str, CellValue]:
    """The Instructions cells that name the entity and the source of its tier counts."""
    lea = f"{data.lea.name} (LEA code {data.lea.code})"
    if data.school:
        who = f"For: {data.school.name} (school code {data.school.code}), {lea}"
    else:
        who = f"For: {lea}, the district plan"
    if data.progress is not None:
        lines = progress_lines(spec, config, data.fiscal_year)
        return {
            cell_key(INSTRUCTIONS_SHEET, f"A{FOR_ROW}"): f"{who}; the "
            f"{data.progress.period_label} progress update",
            cell_key(INSTRUCTIONS_SHEET, f"A{len(lines)}"): "Deadline: upload the completed "
            f"workbook by {_date(data.deadline)}.",
        }
    source = data.tier_source or "not available yet"
    row = tier_source_row(spec, config, data.fiscal_year)
    return {
        cell_key(INSTRUCTIONS_SHEET, f"A{FOR_ROW}"): who,
        cell_key(INSTRUCTIONS_SHEET, f"A{row}"): f"Students per tier: {source}.",
        cell_key(INSTRUCTIONS_SHEET, f"A{row + 1}"): enrollment_note(data, config),
    }
