"""The Instructions sheet: for whom the workbook is, what to fill, by when, how to return it.

Most lines depend only on the plan kind, fiscal year and program config (they are part of a
compiled template); `entity_cells` gives the few that name the LEA or school.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from aip_forms.config import ProgramConfig
from aip_forms.domain import FiscalYear, PlanKind
from aip_forms.plan_data import PlanData
from aip_forms.spec import INSTRUCTIONS_SHEET, FormSpec
from workbook_templates.layout import SUPPRESSED_RATE, cell_key, suppressed_enrollment
from workbook_templates.prefill import CellValue

FOR_ROW = 2  # "For: ..." names the LEA or school


@dataclass(frozen=True)
class Line:
    text: str
    style: str = "aip_text"


def _date(d: dt.date) -> str:
    return f"{d:%A, %B} {d.day}, {d.year}"


def instruction_lines(spec: FormSpec, config: ProgramConfig, fiscal_year: int) -> list[Line]:
    """The sheet's lines, row 1 first. Rows FOR_ROW and `tier_source_row()` are entity
    lines: their text here is a placeholder replaced by `entity_cells`."""
    fy = FiscalYear(year=fiscal_year)
    district = spec.kind is PlanKind.DISTRICT
    deadline = config.deadline(fiscal_year, spec.kind)
    n = config.min_group_size
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
            "• Grey cells are pre-filled from PED data and are read-only. If a pre-filled "
            "number looks wrong, tell PED; do not retype it."
        ),
        Line(
            f"• Rows whose data is suppressed show {suppressed_enrollment(n)} for enrollment "
            f"and {SUPPRESSED_RATE} for rates: groups with fewer than {n} students are not "
            "shown, to protect student privacy. No target is needed for them."
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
            f"A student is chronically absent when they miss {config.chronic_threshold_pct:g}% "
            "or more of the days they were enrolled, for any reason. Enrollment is for "
            f"{fy.label}; chronic absence rates are end-of-year rates of "
            f"{', '.join(f'FY{fiscal_year - k}' for k in range(3, 0, -1))}."
        ),
        Line("Students per tier: (source)"),
    ]
    return lines


def tier_source_row(spec: FormSpec, config: ProgramConfig, fiscal_year: int) -> int:
    return len(instruction_lines(spec, config, fiscal_year))


def entity_cells(spec: FormSpec, data: PlanData, config: ProgramConfig) -> dict[str, CellValue]:
    """The Instructions cells that name the entity and the source of its tier counts."""
    lea = f"{data.lea.name} (LEA code {data.lea.code})"
    if data.school:
        who = f"For: {data.school.name} (school code {data.school.code}), {lea}"
    else:
        who = f"For: {lea}, the district plan"
    source = data.tier_source or "not available yet"
    row = tier_source_row(spec, config, data.fiscal_year)
    return {
        cell_key(INSTRUCTIONS_SHEET, f"A{FOR_ROW}"): who,
        cell_key(INSTRUCTIONS_SHEET, f"A{row}"): f"Students per tier: {source}.",
    }
