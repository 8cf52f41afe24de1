"""Where things go in a plan workbook, derived from the form spec.

Table rows (how many, and the last row of each column's range), header labels with the
history years filled in, the lookup lists and the input prompts. Shared by the reference
builder (`build`), the compiled template path (`compiled`), the pre-filled values
(`prefill`) and, later, the reader: every position comes from the spec.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from aip_forms.catalog import OTHER_STRATEGY
from aip_forms.config import ProgramConfig
from aip_forms.issued_data import DataRow, PeriodRate, PlanData, ProgressRow, StrategyRow
from aip_forms.spec import (
    LOOKUP_SHEET,
    NOT_APPLICABLE,
    RATINGS,
    YES_NO,
    FieldSpec,
    FieldType,
    FormSpec,
    RowSource,
    SectionSpec,
    TableSpec,
)
from aip_forms.workbook_format.a1 import absolute_coordinate, get_column_letter, quote_sheetname

# A compiled template gives each variable-length table's ranges a distinct, impossible end
# row; generation replaces it with the table's real last row (see `compiled`).
SENTINEL_ROW = 1_048_575
MAX_VARIABLE_TABLES = 10

SUPPRESSED_RATE = "*"  # a suppressed group's numbers, as in the documents
SUPPRESSED = SUPPRESSED_RATE
NO_DATA = "—"  # a group PED has no number for, as in the documents
NUMERIC_TYPES = (FieldType.PERCENT, FieldType.INTEGER)

Row = DataRow | PeriodRate
IssuedRow = Row | ProgressRow | StrategyRow  # progress updates' rows too (issue 12)


def suppressed_enrollment(min_group_size: int) -> str:
    """What a suppressed group shows instead of its enrollment: "*", like its rates and
    like the documents (the legend says it means fewer than `min_group_size` students)."""
    return SUPPRESSED


def legend(min_group_size: int) -> str:
    """The key to the marks of a table of pre-filled numbers (sheet and document alike)."""
    return (
        f"Key: {SUPPRESSED} suppressed to protect student privacy (fewer than "
        f"{min_group_size} students, or a second group hidden so that a total does not reveal "
        f"the first); {NO_DATA} no data; {NOT_APPLICABLE} no target needed."
    )


def shows_numbers(table: TableSpec) -> bool:
    """A table with pre-filled numbers: it may show the legend's marks."""
    return any(c.prefilled and c.type in NUMERIC_TYPES for c in table.columns)


def has_data(column: FieldSpec, values: Mapping[str, object]) -> bool:
    """Whether a row asks for `column`: it asks for everything unless the column names
    `needs_data_in`, and then only when one of those pre-filled values is a number. The
    one test used by the generator (from the values it writes) and the validator (from
    the signed values it reads back)."""
    if not column.needs_data_in:
        return True
    return any(
        isinstance(v := values.get(key), int | float) and not isinstance(v, bool)
        for key in column.needs_data_in
    )


def asks(
    table: TableSpec, column: FieldSpec, code: str | None, values: Mapping[str, object]
) -> bool:
    """Whether the row `code` of `table` asks for `column`: `has_data`, and where the table
    names `asks_rows` (a program's targeted grades), only in those rows."""
    if column.needs_data_in and table.asks_rows is not None and code not in table.asks_rows:
        return False
    return has_data(column, values)


def is_variable(table: TableSpec) -> bool:
    """Rows come from data (subgroups, grades, schools, periods), so their count varies."""
    return table.source is not RowSource.FIXED


def source_rows(table: TableSpec, data: PlanData) -> tuple[Row, ...]:
    match table.source:
        case RowSource.SUBGROUPS:
            return data.subgroups
        case RowSource.GRADES:
            return data.grades
        case RowSource.SCHOOLS:
            return data.schools
        case RowSource.PERIODS:
            return data.periods
        case _:
            return ()


def issued_rows(table: TableSpec, data: PlanData) -> tuple[IssuedRow, ...]:
    """The rows a table is issued with: a plan's (`source_rows`) or a progress update's."""
    progress = data.progress
    match table.source:
        case RowSource.PROGRESS_SUBGROUPS:
            return progress.subgroups if progress else ()
        case RowSource.PROGRESS_GRADES:
            return progress.grades if progress else ()
        case RowSource.STRATEGIES:
            return progress.strategies if progress else ()
    return source_rows(table, data)


@dataclass(frozen=True)
class TableRows:
    """The rows one table occupies in one workbook."""

    section: SectionSpec
    table: TableSpec
    count: int  # rows written (at least one, so that every range is valid)
    end_row: int  # last row of the table's ranges; a sentinel in a compiled template

    @property
    def first_row(self) -> int:
        return self.table.first_row

    @property
    def last_row(self) -> int:
        return self.first_row + self.count - 1

    def column_range(self, column: FieldSpec) -> str:
        """The data range of a column, "F6:F22"."""
        return f"{column.column}{self.first_row}:{column.column}{self.end_row}"


def table_rows(spec: FormSpec, data: PlanData) -> list[TableRows]:
    """Every table of the spec with the number of rows `data` gives it."""
    out = []
    for section in spec.sections:
        for table in section.tables:
            count = max(1, len(issued_rows(table, data))) if is_variable(table) else table.rows
            out.append(TableRows(section, table, count, table.first_row + count - 1))
    return out


def template_table_rows(spec: FormSpec) -> list[TableRows]:
    """The tables of a compiled template: one prototype row and a sentinel end row for
    every variable-length table."""
    out = []
    variable = 0
    for section in spec.sections:
        for table in section.tables:
            if is_variable(table):
                end = SENTINEL_ROW - variable
                variable += 1
                out.append(TableRows(section, table, 1, end))
            else:
                out.append(TableRows(section, table, table.rows, table.first_row + table.rows - 1))
    if variable > MAX_VARIABLE_TABLES:
        raise ValueError(f"at most {MAX_VARIABLE_TABLES} variable-length tables are supported")
    return out


def history_labels(fiscal_year: int) -> dict[str, str]:
    """{y0} is the plan's own year, {y1} the last completed year, {y3} three years back:
    FY2027, FY2026 ... FY2024 for FY2027."""
    return {f"y{k}": f"FY{fiscal_year - k}" for k in range(0, 6)}


def with_years(text: str, fiscal_year: int) -> str:
    """A spec label with its year placeholders ({y0}, {y1} ...) filled in."""
    for key, year in history_labels(fiscal_year).items():
        text = text.replace("{" + key + "}", year)
    return text


def column_label(field: FieldSpec, fiscal_year: int) -> str:
    return with_years(field.label, fiscal_year)


def lookup_values(name: str, config: ProgramConfig) -> tuple[str, ...]:
    """The values of a named lookup list of the spec."""
    if name == "yes_no":
        return YES_NO
    if name == "ratings":
        return RATINGS
    if name.startswith("strategies_tier") and name.removeprefix("strategies_tier").isdigit():
        tier = int(name.removeprefix("strategies_tier"))
        return (*(s.name for s in config.strategies_for(tier)), OTHER_STRATEGY)
    raise KeyError(f"the spec names an unknown lookup list: {name!r}")


def lookup_lists(spec: FormSpec, config: ProgramConfig) -> dict[str, tuple[str, ...]]:
    """Every lookup list the spec uses, in order of first use (one column each)."""
    names: dict[str, None] = {}
    for section in spec.sections:
        for field in section.fields:
            if field.choices:
                names[field.choices] = None
        for table in section.tables:
            for column in table.columns:
                if column.choices:
                    names[column.choices] = None
    return {name: lookup_values(name, config) for name in names}


def quote_sheet(sheet: str) -> str:
    """A sheet name as formulas need it: Lists, or '1 Contact Information' quoted."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", sheet) and not re.fullmatch(
        r"[A-Za-z]{1,3}\d+", sheet
    ):
        return sheet
    return quote_sheetname(sheet)


def lookup_ref(lists: dict[str, tuple[str, ...]], name: str) -> str:
    """The range of a list on the hidden lookup sheet, "Lists!$A$2:$A$9" (row 1 is its name)."""
    index = list(lists).index(name)
    letter = get_column_letter(index + 1)
    end = 1 + len(lists[name])
    return f"{quote_sheet(LOOKUP_SHEET)}!${letter}$2:${letter}${end}"


def absolute(sheet: str, cells: str) -> str:
    """'1 Contact Information'!$C$5 or ...!$F$6:$F$22, for defined names."""
    return f"{quote_sheet(sheet)}!{absolute_coordinate(cells)}"


def cell_key(sheet: str, cell: str) -> str:
    """How pre-filled values are keyed: "2A Demographic Targets!B6" (no quotes)."""
    return f"{sheet}!{cell}"


def split_key(key: str) -> tuple[str, str]:
    sheet, _, cell = key.rpartition("!")
    return sheet, cell


def input_prompt(field: FieldSpec, table: TableSpec | None = None) -> str:
    """The help shown when an input cell is selected (Excel allows 255 characters)."""
    text = field.help or (table.help if table else "") or f"Enter the {field.label.lower()}."
    if field.example and field.example not in text:
        text += f" Example: {field.example}."
    if field.max_length:
        text += f" At most {field.max_length} characters."
    return text[:255]


def error_message(field: FieldSpec) -> str:
    match field.type:
        case FieldType.CHOICE | FieldType.CONFIRM:
            return "Choose a value from the list."
        case FieldType.PERCENT:
            low = field.min_value if field.min_value is not None else 0.0
            high = field.max_value if field.max_value is not None else 1.0
            return f"Enter a percentage from {low:.0%} to {high:.0%}, e.g. 12%."
        case FieldType.INTEGER:
            return "Enter a whole number."
        case FieldType.DATE:
            return "Enter a date such as 9/15/2026."
        case _:
            return f"Use at most {field.max_length} characters."
