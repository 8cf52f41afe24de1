"""A completely and validly filled plan workbook, with answers in the spirit of the user
guide's examples (Kristin Garcia, Counselor: Maria Garcia, "Launch by October 15" ...).

Filling walks the spec: every input field and table column gets an answer by its key when
the answer bank below has one, else one made from its type, example and label, so a field
added to the spec is filled too. Deterministic: the same workbook gets the same answers.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from aip_forms.catalog import OTHER_STRATEGY
from aip_forms.config import ProgramConfig, Settings
from aip_forms.domain import PlanKind
from aip_forms.plan_data import PlanData
from aip_forms.spec import FieldSpec, FieldType, FormSpec, SectionSpec, TableSpec
from workbook_templates.build import build_workbook, put
from workbook_templates.layout import (
    SUPPRESSED_RATE,
    TableRows,
    is_variable,
    lookup_values,
    table_rows,
)
from workbook_templates.prefill import CellValue

TEAM = (
    ("Maria Garcia", "Counselor", "mgarcia"),
    ("John Doe", "Mentor Coordinator", "jdoe"),
    ("Lee Chen", "Social Worker", "lchen"),
    ("Sarah Kim", "School Nurse", "skim"),
)

TEXT = {
    "research": "National research links chronic absence to lower reading proficiency by third "
    "grade and to dropping out of high school. Locally, transportation barriers affect about "
    "30% of our students, and absences rise in the winter months with illness.",
    "supportive_factors": "Strong parent-engagement programs, a full-time counselor, a school "
    "nurse on campus and a community partnership with the local health clinic.",
    "barriers": "Transportation gaps on rural bus routes, language barriers for families new "
    "to the district, and housing instability for some families.",
    "reflection": "Check-in/check-out reached most Tier 2 students and their absences fell; "
    "home visits started late and will begin earlier next period.",
}

# Implementation plans per tier, from the user guide (3.5 and 4.5).
TIER_PLANS = {
    1: ("Host biweekly parent workshops", "Counselor: Maria Garcia",
        "$500 for incentive prizes", "Launch by October 15"),
    2: ("Pair at-risk students with peer mentors", "Mentor Coordinator: John Doe",
        "Training materials for mentors", "Match mentors by Week 3"),
    3: ("Schedule home visits for students missing more than 15% of days",
        "Social Worker: Lee Chen", "Transportation for home visits",
        "Complete visits by November 30"),
    4: ("Coordinate with local clinics for health barriers", "Nurse: Sarah Kim",
        "Memorandum of Understanding with Clinic X", "Sign MOU by September 1"),
}  # fmt: skip
PLAN_COLUMNS = ("action_steps", "responsible", "resources", "timeline")
OTHER_STRATEGIES = {
    1: "Monthly attendance reward assemblies",
    2: "Attendance buddies for students new to the school",
    3: "Morning wake-up calls for students with repeated absences",
    4: "Transportation vouchers for families without a car",
}
CATALOG_STRATEGIES_PER_TIER = {1: 3, 2: 3, 3: 2, 4: 2}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.split()[0].lower()) if text.strip() else "district"


def _contact(data: PlanData) -> dict[str, str]:
    district = data.kind is PlanKind.DISTRICT
    title = "District Absence Coordinator" if district else "School Attendance Coordinator"
    return {
        "first_name": "Kristin",
        "last_name": "Garcia",
        "name": "Kristin Garcia",
        "title": title,
        "email": f"kgarcia@{_slug(data.lea.name)}.k12.nm.us",
        "phone": "505-555-0142",
        **TEXT,
    }


def _generic(field: FieldSpec, data: PlanData, config: ProgramConfig) -> CellValue | dt.date:
    """An answer from a field's type, example and label (fields the bank does not know)."""
    match field.type:
        case FieldType.CONFIRM:
            return "Yes"
        case FieldType.CHOICE:
            assert field.choices
            return lookup_values(field.choices, config)[0]
        case FieldType.DATE:
            return config.deadline(data.fiscal_year, data.kind) - dt.timedelta(days=14)
        case FieldType.PERCENT:
            return 0.1
        case FieldType.INTEGER:
            return int(field.min_value or 1)
        case FieldType.EMAIL:
            return f"aip@{_slug(data.lea.name)}.k12.nm.us"
        case FieldType.PHONE:
            return "505-555-0100"
    text = field.example or f"{field.label}: see the attached notes."
    return text[: field.max_length] if field.max_length else text


Answer = CellValue | dt.date


def _answer(
    field: FieldSpec, bank: dict[str, str], data: PlanData, config: ProgramConfig
) -> Answer:
    if field.key in bank and field.type not in (FieldType.CONFIRM, FieldType.DATE):
        return bank[field.key]
    return _generic(field, data, config)


def fill_example(wb: Workbook, spec: FormSpec, data: PlanData, config: ProgramConfig) -> None:
    """Fill every input of a generated workbook for `data` with valid example answers."""
    bank = _contact(data)
    layout = {(t.section.key, t.table.key): t for t in table_rows(spec, data)}
    for section in spec.sections:
        ws = wb[section.sheet]
        for field in section.fields:
            if field.is_input:
                assert field.cell
                _write(ws[field.cell], _answer(field, bank, data, config))
        for table in section.tables:
            rows = layout[(section.key, table.key)]
            if is_variable(table):
                _fill_data_rows(ws, rows, bank, data, config)
            elif any(c.type is FieldType.CHOICE for c in table.columns):
                _fill_strategies(ws, section, table, config)
            else:
                _fill_fixed_rows(ws, table, bank, data, config)


def _write(cell: Cell | MergedCell, value: Answer) -> None:
    if isinstance(value, dt.date):
        cell.value = value
    else:
        put(cell, value)


def _fill_data_rows(
    ws: Worksheet, rows: TableRows, bank: dict[str, str], data: PlanData, config: ProgramConfig
) -> None:
    """Targets below the latest rate on every row that is not suppressed; optional inputs
    (progress reflections) on rows that have a current rate."""
    table = rows.table
    rates = [c for c in table.columns if c.prefilled and c.type is FieldType.PERCENT]
    for row in range(rows.first_row, rows.last_row + 1):
        values = [ws[f"{c.column}{row}"].value for c in table.columns if c.prefilled]
        if SUPPRESSED_RATE in values or any(
            isinstance(v, str) and v.startswith("n<") for v in values
        ):
            continue
        latest = next(
            (
                v
                for c in reversed(rates)
                if isinstance(v := ws[f"{c.column}{row}"].value, int | float)
            ),
            None,
        )
        for column in table.columns:
            if column.prefilled or (not column.required and latest is None):
                continue
            if column.type is FieldType.PERCENT:
                value: Answer = _target(latest)
            else:
                value = _answer(column, bank, data, config)
            _write(ws[f"{column.column}{row}"], value)


def _target(latest: float | None) -> float:
    """About a tenth below the latest rate, and strictly below it when it is above zero."""
    if latest is None:
        return 0.1
    return math.floor(latest * 900) / 1000 if latest > 0 else 0.0


def _fill_strategies(
    ws: Worksheet, section: SectionSpec, table: TableSpec, config: ProgramConfig
) -> None:
    choice = next(c for c in table.columns if c.type is FieldType.CHOICE)
    assert choice.choices
    tier = int(re.sub(r"\D", "", table.key) or 1)
    catalog = [v for v in lookup_values(choice.choices, config) if v != OTHER_STRATEGY]
    picks = [*catalog[: CATALOG_STRATEGIES_PER_TIER.get(tier, 2)], OTHER_STRATEGY]
    plan = TIER_PLANS.get(tier, TIER_PLANS[1])
    for i, strategy in enumerate(picks[: table.rows]):
        row = table.first_row + i
        put(ws[f"{choice.column}{row}"], strategy)
        for column in table.columns:
            if column is choice:
                continue
            if column.key == "other_strategy":
                if strategy == OTHER_STRATEGY:
                    put(
                        ws[f"{column.column}{row}"],
                        OTHER_STRATEGIES.get(tier, "Attendance contracts"),
                    )
                continue
            if column.key in PLAN_COLUMNS:
                text = plan[PLAN_COLUMNS.index(column.key)]
                if column.key == "action_steps":
                    name = OTHER_STRATEGIES.get(tier) if strategy == OTHER_STRATEGY else strategy
                    text = f"{name}: {text}."
            else:
                text = column.example or column.label
            put(
                ws[f"{column.column}{row}"],
                text[: column.max_length] if column.max_length else text,
            )


def _fill_fixed_rows(
    ws: Worksheet, table: TableSpec, bank: dict[str, str], data: PlanData, config: ProgramConfig
) -> None:
    """Fixed input rows without a list (the team): one row per example person."""
    domain = bank["email"].split("@")[1]
    for i, (name, role, user) in enumerate(TEAM[: table.rows]):
        person = {"name": name, "role": role, "email": f"{user}@{domain}"}
        for column in table.columns:
            if column.is_input:
                value = person.get(column.key) or _generic(column, data, config)
                _write(ws[f"{column.column}{table.first_row + i}"], value)


def example_workbook(
    spec: FormSpec,
    data: PlanData,
    config: ProgramConfig,
    settings: Settings,
    *,
    issued_at: str | None = None,
) -> Workbook:
    """A generated workbook for `data`, filled with example answers."""
    wb = build_workbook(spec, data, config, settings, issued_at=issued_at)
    fill_example(wb, spec, data, config)
    return wb
