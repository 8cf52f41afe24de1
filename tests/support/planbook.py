"""Build plan workbooks in code from small tables, placed by the form spec.

`planbook(kind, {"contact.first_name": "Kristin", "tiers.tier1.strategy.0": "Other"})`
returns .xlsx bytes with values at the spec's cells. A complete, valid plan is
`valid_values(kind)`; a test changes or removes one entry to pin one rule.
"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
from openpyxl.cell.cell import Cell
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from aip_forms.config import ProgramConfig
from aip_forms.domain import PlanKind
from aip_forms.spec import RowSource, spec_for

CONFIG = ProgramConfig()


def _place(spec_kind: PlanKind, key: str) -> tuple[str, int, int]:
    spec = spec_for(spec_kind)
    parts = key.split(".")
    section = spec.section(parts[0])
    if len(parts) == 2:
        f = next(f for f in section.fields if f.key == parts[1])
        letters, row = coordinate_from_string(f.cell or "A1")
        return section.sheet, row, column_index_from_string(letters)
    table = next(t for t in section.tables if t.key == parts[1])
    column = table.column(parts[2])
    return (
        section.sheet,
        table.first_row + int(parts[3]),
        column_index_from_string(column.column or "A"),
    )


def planbook(kind: PlanKind | str, values: dict[str, object]) -> bytes:
    kind = PlanKind(kind)
    spec = spec_for(kind)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for section in spec.sections:
        wb.create_sheet(section.sheet)
    for key, value in values.items():
        sheet, row, col = _place(kind, key)
        cell: Cell = wb[sheet].cell(row, col)
        if isinstance(value, str) and value.startswith("="):
            cell.value = value  # a formula, on purpose
        else:
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def valid_values(kind: PlanKind | str, *, schools: int = 2) -> dict[str, object]:
    kind = PlanKind(kind)
    v: dict[str, object] = {
        "contact.lea_name": "BELEN CONSOLIDATED SCHOOLS",
        "contact.lea_code": "006",
        "contact.first_name": "Kristin",
        "contact.last_name": "Garcia",
        "contact.title": "District Absence Coordinator",
        "contact.email": "garcia@belen.k12.nm.us",
        "contact.phone": "505-555-0142",
        "certification.confirm": "Yes",
        "certification.name": "Kristin Garcia",
        "certification.title": "District Absence Coordinator",
        "certification.date": dt.datetime(2026, 9, 15),
    }
    if kind is PlanKind.SCHOOL:
        v |= {
            "contact.school_name": "BELEN HIGH",
            "contact.school_code": "006001",
            "root_cause.research": "Transportation barriers affect 30% of students.",
            "root_cause.supportive_factors": "Strong parent-engagement programs.",
            "root_cause.barriers": "Transportation gaps; language barriers.",
        }
    else:
        for i in range(schools):
            v |= {
                f"school_targets.schools.school_code.{i}": f"00600{i + 1}",
                f"school_targets.schools.school_name.{i}": f"SCHOOL {i + 1}",
                f"school_targets.schools.enrollment.{i}": 300,
                f"school_targets.schools.rate_y1.{i}": 0.30,
                f"school_targets.schools.target.{i}": 0.25,
            }
    sections = {
        "demographics": ("subgroups", CONFIG.subgroups),
        "grades": ("grades", CONFIG.grades),
    }
    for section, (table, catalog) in sections.items():
        for i, group in enumerate(catalog):
            v |= {
                f"{section}.{table}.group.{i}": group.label,
                f"{section}.{table}.enrollment.{i}": 120,
                f"{section}.{table}.rate_y3.{i}": 0.34,
                f"{section}.{table}.rate_y2.{i}": 0.33,
                f"{section}.{table}.rate_y1.{i}": 0.32,
                f"{section}.{table}.target.{i}": 0.28,
            }
    for tier in (1, 2, 3, 4):
        strategy = CONFIG.strategies_for(tier)[0].name
        v |= {
            f"tiers.tier{tier}.strategy.0": strategy,
            f"tiers.tier{tier}.action_steps.0": "Host biweekly parent workshops",
            f"tiers.tier{tier}.responsible.0": "Counselor: Maria Garcia",
            f"tiers.tier{tier}.resources.0": "$500 for incentive prizes",
            f"tiers.tier{tier}.timeline.0": "Launch by October 15",
        }
    return v


def row_counts(kind: PlanKind | str, *, schools: int = 2) -> dict[str, int]:
    spec = spec_for(kind)
    counts = {}
    for section in spec.sections:
        for t in section.tables:
            if t.source is RowSource.SCHOOLS:
                counts[t.key] = schools
    return counts
