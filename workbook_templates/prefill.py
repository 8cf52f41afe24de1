"""The pre-filled values of a plan workbook: which PlanData value goes in which locked cell.

The bindings below are the one place that says where a pre-filled field of the spec takes
its value from; a pre-filled field without a binding is an error, not a blank cell.
Values are canonical (`canonical_value`) so that what is written, signed (metadata) and
read back from Excel or LibreOffice compare equal.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from aip_forms.plan_data import DataRow, PeriodRate, PlanData
from aip_forms.spec import FormSpec
from workbook_templates.layout import (
    SUPPRESSED_RATE,
    Row,
    cell_key,
    source_rows,
    suppressed_enrollment,
    table_rows,
)

CellValue = str | int | float | None

RATE_DECIMALS = 6


def canonical_value(value: object) -> CellValue:
    """The form a cell value is written, signed and compared in.

    Numbers are rounded to 6 decimals and integral floats become ints (Excel and
    LibreOffice save 0.0 as 0); text loses characters XML cannot hold and empty text is
    None (spreadsheets do not keep empty strings).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise TypeError("booleans are not pre-filled values")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"not a finite number: {value!r}")
        rounded = round(value, RATE_DECIMALS)
        return int(rounded) if rounded.is_integer() else rounded
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value).replace("\r\n", "\n").replace("\r", "\n")
        return text or None
    raise TypeError(f"not a cell value: {value!r}")


def _fraction(rate_pct: float | None) -> float | None:
    return None if rate_pct is None else rate_pct / 100


def _school_name(d: PlanData) -> str | None:
    return d.school.name if d.school else None


def _school_code(d: PlanData) -> str | None:
    return d.school.code if d.school else None


def _tier_count(tier: int) -> Callable[[PlanData], object]:
    return lambda d: d.tier_counts.get(tier)


FIELD_VALUES: dict[str, Callable[[PlanData], object]] = {
    "lea_name": lambda d: d.lea.name,
    "lea_code": lambda d: d.lea.code,
    "school_name": _school_name,
    "school_code": _school_code,
    **{f"tier{t}_students": _tier_count(t) for t in range(1, 10)},
}


def _enrollment(row: Row, d: PlanData) -> object:
    assert isinstance(row, DataRow)
    return suppressed_enrollment(d.min_group_size) if row.suppressed else row.enrollment


def _rate_years_back(years: int) -> Callable[[Row, PlanData], object]:
    def value(row: Row, d: PlanData) -> object:
        assert isinstance(row, DataRow)
        if row.suppressed:
            return SUPPRESSED_RATE
        index = len(row.rates) - years
        return _fraction(row.rates[index]) if index >= 0 else None

    return value


def _current_rate(row: Row, d: PlanData) -> object:
    assert isinstance(row, PeriodRate)
    return _fraction(row.rate)


COLUMN_VALUES: dict[str, Callable[[Row, PlanData], object]] = {
    "group": lambda row, d: row.label,
    "school_code": lambda row, d: row.code,
    "school_name": lambda row, d: row.label,
    "period": lambda row, d: row.label,
    "enrollment": _enrollment,
    **{f"rate_y{k}": _rate_years_back(k) for k in range(1, 6)},
    "current_rate": _current_rate,
}


def prefilled_values(spec: FormSpec, data: PlanData) -> dict[str, CellValue]:
    """Every pre-filled cell of the workbook for `data`, keyed "Sheet!A1", in sheet order.

    Cells with no value (PED has no number) are included as None: they are locked too.
    """
    out: dict[str, CellValue] = {}
    for section in spec.sections:
        for field in section.fields:
            if field.prefilled:
                assert field.cell, f"{section.key}.{field.key} has no cell"
                if field.key not in FIELD_VALUES:
                    raise KeyError(f"no data binding for pre-filled field {field.key!r}")
                value = FIELD_VALUES[field.key](data)
                out[cell_key(section.sheet, field.cell)] = canonical_value(value)
    for rows in table_rows(spec, data):
        prefilled = [c for c in rows.table.columns if c.prefilled]
        if not prefilled:
            continue
        for c in prefilled:
            if c.key not in COLUMN_VALUES:
                raise KeyError(f"no data binding for pre-filled column {c.key!r}")
        data_rows = source_rows(rows.table, data)
        for i in range(rows.count):
            row = data_rows[i] if i < len(data_rows) else None
            for c in prefilled:
                value = None if row is None else COLUMN_VALUES[c.key](row, data)
                ref = cell_key(rows.section.sheet, f"{c.column}{rows.first_row + i}")
                out[ref] = canonical_value(value)
    return out
