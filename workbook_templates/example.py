"""A completely and validly filled plan workbook, with answers in the spirit of the user
guide's examples (Kristin Garcia, Counselor: Maria Garcia, "Launch by October 15" ...).

Filling walks the spec: every input field and table column gets an answer by its key when
the answer bank has one, else one made from its type, example and label, so a field added to
the spec is filled too. The strategies, their plans, the team and the root causes come from
`example_answers`, drawn for each school by its code: deterministic (the same school gets
the same answers), and different from school to school.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re

from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from aip_forms.catalog import OTHER_STRATEGY
from aip_forms.config import ProgramConfig, Settings
from aip_forms.domain import PlanKind
from aip_forms.issued_data import PlanData
from aip_forms.spec import NOT_APPLICABLE, FieldSpec, FieldType, FormSpec, TableSpec
from aip_forms.workbook_format.layout import (
    SUPPRESSED_RATE,
    TableRows,
    is_variable,
    lookup_values,
    table_rows,
)
from aip_forms.workbook_format.prefill import CellValue
from workbook_templates import example_answers as answers
from workbook_templates.build import build_workbook, put

PLAN_COLUMNS = ("action_steps", "responsible", "resources", "timeline")
CATALOG_STRATEGIES_PER_TIER = {1: 3, 2: 3, 3: 2, 4: 2}
TEAM_ROWS = 4


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.split()[0].lower()) if text.strip() else "district"


def _address(who: str, data: PlanData, config: ProgramConfig) -> str:
    """`who`'s email at the LEA, in the program's shape (`config.email_domain`)."""
    return f"{who}@{config.email_domain.format(lea=_slug(data.lea.name))}"


def _phone(config: ProgramConfig, line: str) -> str:
    """A 555 number (reserved for fiction) in the area code of the program's example."""
    return f"{config.contact_example[1][:3]}-555-{line}"


def _contact(data: PlanData, rng: random.Random, config: ProgramConfig) -> dict[str, str]:
    """The contact is the user guide's Kristin Garcia; the root causes are the school's."""
    district = data.kind is PlanKind.DISTRICT
    title = "District Absence Coordinator" if district else "School Attendance Coordinator"
    return {
        "first_name": "Kristin",
        "last_name": "Garcia",
        "name": "Kristin Garcia",
        "title": title,
        "email": _address("kgarcia", data, config),
        "phone": _phone(config, "0142"),
        **answers.root_causes(data, rng),
    }


def spec_answer(field: FieldSpec, config: ProgramConfig, on: dt.date) -> CellValue | dt.date:
    """A valid answer from a field's own spec: its type, example, list and limits (`on` for
    dates). Test fixtures use it too, so that a field added to the spec is answered."""
    match field.type:
        case FieldType.CONFIRM:
            return "Yes"
        case FieldType.CHOICE:
            assert field.choices
            return lookup_values(field.choices, config)[0]
        case FieldType.DATE:
            return on
        case FieldType.PERCENT:
            return _in_range(field, _number(field.example.rstrip("%"), 100), 0.1)
        case FieldType.INTEGER:
            return int(_in_range(field, _number(field.example), 1))
        case FieldType.EMAIL:
            return field.example or config.contact_example[0]
        case FieldType.PHONE:
            return field.example or config.contact_example[1]
    text = field.example or f"{field.label}: see the attached notes."
    return text[: field.max_length] if field.max_length else text


def _generic(field: FieldSpec, data: PlanData, config: ProgramConfig) -> CellValue | dt.date:
    """An answer for a field the bank does not know: the district's own address, a date
    two weeks before the deadline, else the spec's answer."""
    if field.type is FieldType.EMAIL:
        return _address("aip", data, config)
    if field.type is FieldType.PHONE:
        return _phone(config, "0100")
    on = config.deadline(data.fiscal_year, data.kind) - dt.timedelta(days=14)
    return spec_answer(field, config, on)


def _number(text: str, per: float = 1) -> float | None:
    try:
        return float(text.replace(",", "")) / per
    except ValueError:
        return None


def _in_range(field: FieldSpec, wanted: float | None, default: float) -> float:
    """The field's example when it has a number, else `default`, within its limits."""
    value = default if wanted is None else wanted
    if field.max_value is not None:
        value = min(value, field.max_value)
    if field.min_value is not None:
        value = max(value, field.min_value)
    return value


Answer = CellValue | dt.date


def _answer(
    field: FieldSpec, bank: dict[str, str], data: PlanData, config: ProgramConfig
) -> Answer:
    if field.key in bank and field.type not in (FieldType.CONFIRM, FieldType.DATE):
        return bank[field.key]
    return _generic(field, data, config)


def fill_example(wb: Workbook, spec: FormSpec, data: PlanData, config: ProgramConfig) -> None:
    """Fill every input of a generated workbook for `data` with valid example answers."""
    rng = answers.entity_random(data)
    bank = _contact(data, rng, config)
    people = answers.staff(rng)
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
                _fill_strategies(ws, table, config, rng, people)
            elif table.key == "measures":
                _fill_measures(ws, section.key, table, rng, people)
            else:
                _fill_fixed_rows(ws, table, bank, data, config, people)


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
            if ws[f"{column.column}{row}"].value == NOT_APPLICABLE:
                continue  # a row without data asks for no target
            if column.type is FieldType.PERCENT:
                value: Answer = _target(latest, config)
            else:
                value = _answer(column, bank, data, config)
            _write(ws[f"{column.column}{row}"], value)


def _target(latest: float | None, config: ProgramConfig) -> float:
    """A target the program's rule allows: for a rule with a minimum (LAUSD: 5 points above
    the previous year), a point above it (at most 100%); else about a tenth below the
    latest rate, and strictly below it when it is above zero."""
    if latest is None:
        return 0.1
    least = config.target_rule.minimum(latest)
    if least is not None:
        return min(1.0, math.ceil(least * 1000) / 1000 + 0.01)
    return math.floor(latest * 900) / 1000 if latest > 0 else 0.0


def _fill_strategies(
    ws: Worksheet, table: TableSpec, config: ProgramConfig, rng: random.Random, people: list[str]
) -> None:
    """The tier's strategies in the school's own choice and order, each with its own plan
    (`example_answers`), then one local strategy (Other)."""
    choice = next(c for c in table.columns if c.type is FieldType.CHOICE)
    assert choice.choices
    tier = int(re.sub(r"\D", "", table.key) or 1)
    catalog = [v for v in lookup_values(choice.choices, config) if v != OTHER_STRATEGY]
    picks = answers.tier_picks(tier, catalog, CATALOG_STRATEGIES_PER_TIER.get(tier, 2), rng, people)
    for i, pick in enumerate(picks[: table.rows]):
        row = table.first_row + i
        put(ws[f"{choice.column}{row}"], pick.strategy or OTHER_STRATEGY)
        texts = {
            "other_strategy": pick.other,
            "action_steps": f"{pick.plan.action_steps}.",
            "responsible": f"{pick.plan.role}: {pick.person}",
            "resources": pick.plan.resources,
            "timeline": pick.plan.timeline,
        }
        for column in table.columns:
            if column is choice:
                continue
            text = texts.get(column.key, column.example or column.label)
            if text:
                put(ws[f"{column.column}{row}"], text[: column.max_length or None])


def _fill_measures(
    ws: Worksheet, objective: str, table: TableSpec, rng: random.Random, people: list[str]
) -> None:
    """Two measures of a program objective (LAUSD's), drawn for the school, each with its
    baseline, goal, actions and who is responsible."""
    bank = answers.MEASURES.get(objective) or [
        (c.example for c in table.columns)  # an objective the bank does not know
    ]
    picks = rng.sample(list(bank), k=min(2, len(bank), table.rows))
    for i, pick in enumerate(picks):
        values = dict(zip(("measure", "baseline", "goal", "actions"), pick, strict=False))
        values["responsible"] = f"{rng.choice(answers.TEAM_ROLES)}: {rng.choice(people)}"
        for column in table.columns:
            text = values.get(column.key) or column.example or column.label
            put(ws[f"{column.column}{table.first_row + i}"], text[: column.max_length or None])


def _fill_fixed_rows(
    ws: Worksheet,
    table: TableSpec,
    bank: dict[str, str],
    data: PlanData,
    config: ProgramConfig,
    people: list[str],
) -> None:
    """Fixed input rows without a list (the team): one row per member of the staff."""
    domain = bank["email"].split("@")[1]
    for i, (name, role) in enumerate(zip(people, answers.TEAM_ROLES[:TEAM_ROWS], strict=False)):
        if i >= table.rows:
            break
        first, _, last = name.partition(" ")
        user = re.sub(r"[^a-z]", "", (first[:1] + last).lower())
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
