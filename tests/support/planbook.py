"""Build plan workbooks in code from small tables, placed by the form spec.

`planbook(kind, {"contact.first_name": "Kristin", "tiers.tier1.strategy.0": "Other"})`
returns .xlsx bytes with values at the spec's cells. A complete, valid plan is
`valid_values(kind)`, made from the spec; a test changes or removes one entry to pin one
rule, and finds the cell a problem should name with `where(kind, key)`.
"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
from openpyxl.cell.cell import Cell
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from aip_forms.config import ProgramConfig
from aip_forms.domain import PlanKind
from aip_forms.spec import FieldSpec, FormSpec, RowSource, TableSpec
from workbook_templates.example import spec_answer

CONFIG = ProgramConfig()


def _place(spec: FormSpec, key: str) -> tuple[str, int, int]:
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


def planbook(
    kind: PlanKind | str, values: dict[str, object], *, config: ProgramConfig = CONFIG
) -> bytes:
    spec = config.spec(kind)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for section in spec.sections:
        wb.create_sheet(section.sheet)
    for key, value in values.items():
        sheet, row, col = _place(spec, key)
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


# What PED fills in, by the pre-filled field's (or column's) key; the answers of the
# inputs come from the spec (`answer`).
ISSUED: dict[str, object] = {
    "lea_name": "BELEN CONSOLIDATED SCHOOLS",
    "lea_code": "006",
    "school_name": "BELEN HIGH",
    "school_code": "006001",
    "enrollment": 120,
    "rate_y3": 0.34,
    "rate_y2": 0.33,
    "rate_y1": 0.32,
}
CERTIFIED_ON = dt.datetime(2026, 9, 15)


def answer(field: FieldSpec) -> object:
    """A valid answer to an input, from its type, example and limits."""
    return spec_answer(field, CONFIG, CERTIFIED_ON)


def _row_labels(table: TableSpec, schools: int) -> list[str]:
    match table.source:
        case RowSource.SUBGROUPS:
            return [g.label for g in CONFIG.subgroups]
        case RowSource.GRADES:
            return [g.label for g in CONFIG.grades]
        case RowSource.SCHOOLS:
            return [f"SCHOOL {i + 1}" for i in range(schools)]
    return []


def _table_values(table: TableSpec, prefix: str, schools: int) -> dict[str, object]:
    """Rows a valid plan fills: every data row of a table that asks for an answer (the
    targets), and the rows a fixed table must hold (one strategy per tier)."""
    v: dict[str, object] = {}
    if table.source is RowSource.FIXED:
        for i in range(table.min_filled_rows):
            v |= {f"{prefix}.{c.key}.{i}": answer(c) for c in table.columns if c.is_input}
        return v
    if not any(c.required for c in table.columns):
        return v  # progress updates: not part of a valid first submission
    codes = {g.label: g.code for g in (*CONFIG.subgroups, *CONFIG.grades)}
    for i, label in enumerate(_row_labels(table, schools)):
        for c in table.columns:
            asked = table.asks_rows is None or codes.get(label) in table.asks_rows
            if c.needs_data_in and not asked:
                continue  # a row the program does not ask (LAUSD: other grades)
            if c.key in ("group", "school_name"):
                value = label
            elif c.key == "school_code":
                value = f"00600{i + 1}"
            else:
                value = ISSUED.get(c.key) if c.prefilled else answer(c)
            if value is not None:
                v[f"{prefix}.{c.key}.{i}"] = value
    return v


def valid_values(
    kind: PlanKind | str, *, schools: int = 2, config: ProgramConfig = CONFIG
) -> dict[str, object]:
    """A complete, valid plan of `kind`, walked from its spec: a field added to the spec
    gets an answer here without a test edit."""
    v: dict[str, object] = {}
    for section in config.spec(kind).sections:
        for f in section.fields:
            value = ISSUED.get(f.key) if f.prefilled else answer(f)
            if value is not None:
                v[f"{section.key}.{f.key}"] = value
        for table in section.tables:
            v |= _table_values(table, f"{section.key}.{table.key}", schools)
    return v


def where(kind: PlanKind | str, key: str, *, config: ProgramConfig = CONFIG) -> str:
    """The cell of a planbook key, as problems name it: "1 Contact Information!C13"."""
    sheet, row, col = _place(config.spec(kind), key)
    return f"{sheet}!{get_column_letter(col)}{row}"


def row_counts(kind: PlanKind | str, *, schools: int = 2) -> dict[str, int]:
    spec = CONFIG.spec(kind)
    counts = {}
    for section in spec.sections:
        for t in section.tables:
            if t.source is RowSource.SCHOOLS:
                counts[t.key] = schools
    return counts
