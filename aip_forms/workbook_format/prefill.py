"""The pre-filled values of a plan workbook: which PlanData value goes in which locked cell.

The bindings below are the one place that says where a pre-filled field of the spec takes
its value from; a pre-filled field without a binding is an error, not a blank cell.
Values are canonical (`canonical_value`) so that what is written, signed (metadata) and
read back from Excel or LibreOffice compare equal.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from aip_forms.issued_data import DataRow, PeriodRate, PlanData, ProgressRow, StrategyRow
from aip_forms.spec import NOT_APPLICABLE, FormSpec
from aip_forms.workbook_format.a1 import ILLEGAL_CHARACTERS_RE
from aip_forms.workbook_format.layout import (
    NO_DATA,
    NUMERIC_TYPES,
    SUPPRESSED_RATE,
    IssuedRow,
    asks,
    cell_key,
    issued_rows,
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
    "period": lambda d: d.progress.period_label if d.progress else None,
    "plan_version": lambda d: d.progress.plan_version if d.progress else None,
    "staffing_band": lambda d: d.staffing.band if d.staffing else None,
    "staffing_days": lambda d: f"{d.staffing.days:g}" if d.staffing else None,
}


def _enrollment(row: IssuedRow, d: PlanData) -> object:
    assert isinstance(row, DataRow)
    return suppressed_enrollment(d.min_group_size) if row.suppressed else row.enrollment


def _rate_years_back(years: int) -> Callable[[IssuedRow, PlanData], object]:
    def value(row: IssuedRow, d: PlanData) -> object:
        assert isinstance(row, DataRow)
        if row.suppressed:
            return SUPPRESSED_RATE
        index = len(row.rates) - years
        return _fraction(row.rates[index]) if index >= 0 else None

    return value


def _current_rate(row: IssuedRow, d: PlanData) -> object:
    if isinstance(row, ProgressRow):
        return SUPPRESSED_RATE if row.suppressed else _fraction(row.current_rate)
    assert isinstance(row, PeriodRate)
    return _fraction(row.rate)


def _progress(value: Callable[[ProgressRow], object]) -> Callable[[IssuedRow, PlanData], object]:
    def read(row: IssuedRow, d: PlanData) -> object:
        assert isinstance(row, ProgressRow)
        return value(row)

    return read


def _strategy(value: Callable[[StrategyRow], object]) -> Callable[[IssuedRow, PlanData], object]:
    def read(row: IssuedRow, d: PlanData) -> object:
        assert isinstance(row, StrategyRow)
        return value(row)

    return read


def _label(row: IssuedRow) -> str:
    assert not isinstance(row, StrategyRow)
    return row.label


def _code(row: IssuedRow) -> str:
    assert not isinstance(row, StrategyRow)
    return row.code


def _earlier(row: IssuedRow, d: PlanData) -> object:
    assert isinstance(row, ProgressRow | StrategyRow)
    return row.earlier


COLUMN_VALUES: dict[str, Callable[[IssuedRow, PlanData], object]] = {
    "group": lambda row, d: _label(row),
    "school_code": lambda row, d: _code(row),
    "school_name": lambda row, d: _label(row),
    "period": lambda row, d: _label(row),
    "enrollment": _enrollment,
    **{f"rate_y{k}": _rate_years_back(k) for k in range(1, 6)},
    "current_rate": _current_rate,
    # Progress updates (issue 12)
    "plan_target": _progress(lambda r: _fraction(r.plan_target)),
    "current_target": _progress(lambda r: _fraction(r.current_target)),
    "earlier": _earlier,
    "ref": _strategy(lambda r: r.ref),
    "tier": _strategy(lambda r: f"Tier {r.tier}"),
    "strategy": _strategy(lambda r: r.strategy),
    "action_steps": _strategy(lambda r: r.action_steps),
}


def prefilled_values(spec: FormSpec, data: PlanData) -> dict[str, CellValue]:
    """Every pre-filled cell of the workbook for `data`, keyed "Sheet!A1", in sheet order.

    A number PED does not have shows NO_DATA ("—") in a row it issued; cells of rows
    beyond the issued ones are included as None: they are locked too.
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
        data_rows = issued_rows(rows.table, data)
        for i in range(rows.count):
            row = data_rows[i] if i < len(data_rows) else None
            for c in prefilled:
                value = None if row is None else COLUMN_VALUES[c.key](row, data)
                if value is None and row is not None and c.type in NUMERIC_TYPES:
                    value = NO_DATA
                ref = cell_key(rows.section.sheet, f"{c.column}{rows.first_row + i}")
                out[ref] = canonical_value(value)
    return out


def not_applicable_cells(
    spec: FormSpec, data: PlanData, prefilled: dict[str, CellValue]
) -> dict[str, CellValue]:
    """Every input cell of an issued row that only rows with data ask for (`needs_data_in`):
    NOT_APPLICABLE where the row's pre-filled numbers (`prefilled`, as written) say it has
    none, None (an input) where it has. Keyed like `prefilled_values`."""
    out: dict[str, CellValue] = {}
    for rows in table_rows(spec, data):
        asked = [c for c in rows.table.columns if c.needs_data_in]
        if not asked:
            continue
        sheet = rows.section.sheet
        issued_list = issued_rows(rows.table, data)
        issued = len(issued_list)
        for i in range(rows.count):
            row = rows.first_row + i
            values = {
                c.key: prefilled.get(cell_key(sheet, f"{c.column}{row}"))
                for c in rows.table.columns
                if c.prefilled
            }
            for c in asked:
                code = getattr(issued_list[i], "code", None) if i < issued else None
                shown = (
                    NOT_APPLICABLE if i < issued and not asks(rows.table, c, code, values) else None
                )
                out[cell_key(sheet, f"{c.column}{row}")] = shown
    return out
