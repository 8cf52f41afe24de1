"""Reading a plan workbook by the form spec into the typed `Plan`.

Fields are read where the workbook was issued to hold them: the spec's cell positions, with
the row counts of the signed metadata (`row_counts`), whatever the defined names say. A
defined name that no longer points where it was issued (a row inserted, a name redirected
to other values) is reported at the field's cell (NAME_MOVED); a dropped or broken name is
harmless. Values are normalized (`validators.normalize`); a value that cannot be read
becomes a problem at its cell, and the plan holds None there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from aip_forms.config import ProgramConfig
from aip_forms.filled_plan import Plan, PlanRow, PlanSection, Value
from aip_forms.spec import (
    NOT_APPLICABLE,
    FieldSpec,
    FieldType,
    FormSpec,
    RowSource,
    SectionSpec,
    TableSpec,
)
from aip_forms.workbook_format.a1 import column_index_from_string, get_column_letter
from validators import normalize
from validators.cells import NameTarget, SheetCells, WorkbookCells, point
from validators.problems import Problem, problem


class Location(NamedTuple):
    """Where a value was read. A tuple: the reader makes one per cell of every table."""

    sheet: str
    row: int
    col: int

    @property
    def cell(self) -> str:
        return f"{get_column_letter(self.col)}{self.row}"

    def __str__(self) -> str:
        return f"{self.sheet}!{self.cell}"


@dataclass
class ReadResult:
    plan: Plan
    problems: list[Problem] = field(default_factory=list)
    # "section.field" or "section.table.column.N" (N = 0-based data row) -> where it was read
    locations: dict[str, Location] = field(default_factory=dict)

    def where(self, key: str) -> Location | None:
        return self.locations.get(key)


PARSERS: dict[FieldType, Callable[[object], Value]] = {
    FieldType.TEXT: normalize.clean_text,
    FieldType.LONG_TEXT: normalize.clean_text,
    FieldType.EMAIL: normalize.clean_text,
    FieldType.PHONE: normalize.clean_text,
    FieldType.CHOICE: normalize.clean_text,
    FieldType.PERCENT: normalize.parse_percent,
    FieldType.INTEGER: normalize.parse_integer,
    FieldType.DATE: normalize.parse_date,
    FieldType.CONFIRM: normalize.parse_confirm,
}


def field_key(section: SectionSpec, f: FieldSpec) -> str:
    return f"{section.key}.{f.key}"


def cell_key(section: SectionSpec, table: TableSpec, column: FieldSpec, index: int) -> str:
    return f"{section.key}.{table.key}.{column.key}.{index}"


class PlanReader:
    """Reads one workbook; `row_counts` says how many data rows each table was issued with."""

    def __init__(
        self,
        cells: WorkbookCells,
        spec: FormSpec,
        config: ProgramConfig,
        row_counts: dict[str, int] | None = None,
    ) -> None:
        self.cells = cells
        self.spec = spec
        self.config = config
        self.row_counts = row_counts or {}
        self._catalogues: dict[RowSource, dict[str, str]] = {}
        self.result = ReadResult(
            plan=Plan(kind=spec.kind, spec_version=spec.version, fiscal_year=0, lea_code="")
        )

    def read(self) -> ReadResult:
        for section in self.spec.sections:
            if not self.cells.has_sheet(section.sheet):
                self.result.problems.append(
                    problem("SHEET_MISSING", sheet=section.sheet, section=section.title)
                )
                continue
            self.result.plan.sections[section.key] = self._read_section(section)
            self._check_length(section)
        self.result.problems += self._moved_names()
        return self.result

    def _check_length(self, section: SectionSpec) -> None:
        """Entries below the rows read would be silently ignored: say so."""
        overflow = self.cells.sheet(section.sheet).overflow
        if overflow is not None:
            loc = Location(section.sheet, *overflow)
            self.result.problems.append(
                problem(
                    "SHEET_TOO_LONG",
                    sheet=loc.sheet,
                    cell=loc.cell,
                    limit=f"{self.cells.max_rows:,}",
                )
            )

    # -- the issued layout --------------------------------------------------------------
    def _issued_names(self) -> list[tuple[str, NameTarget]]:
        """Every defined name of the spec with the range it was issued for."""
        issued = []
        for section in self.spec.sections:
            for f in (f for f in section.fields if f.cell):
                row, col = point(f.cell or "")
                issued.append(
                    (
                        self.spec.field_name(section, f),
                        NameTarget(section.sheet, (row, col), (row, col)),
                    )
                )
            for table in section.tables:
                last = table.first_row + max(1, self._row_count(table)) - 1
                for c in table.columns:
                    col = column_index_from_string(c.column or "A")
                    target = NameTarget(section.sheet, (table.first_row, col), (last, col))
                    issued.append((self.spec.field_name(section, c, table), target))
        return issued

    def _moved_names(self) -> list[Problem]:
        found = []
        for name, issued in self._issued_names():
            now = self.cells.names.get(name)
            if now is None or now == issued:
                continue  # dropped or broken (#REF!): nothing is read through it
            at = Location(issued.sheet, *issued.first)
            found.append(
                problem(
                    "NAME_MOVED",
                    sheet=at.sheet,
                    cell=at.cell,
                    name=name,
                    issued=_range_text(issued),
                    found=_range_text(now),
                    value=_range_text(now),
                )
            )
        return found

    # -- single fields ------------------------------------------------------------------
    def _field_location(self, section: SectionSpec, f: FieldSpec) -> Location | None:
        if not f.cell:
            return None
        return Location(section.sheet, *point(f.cell))

    def _read_section(self, section: SectionSpec) -> PlanSection:
        out = PlanSection()
        for f in section.fields:
            loc = self._field_location(section, f)
            if loc is None:
                continue
            key = field_key(section, f)
            self.result.locations[key] = loc
            out.fields[f.key] = self._value(loc, f, key)
        for table in section.tables:
            out.tables[table.key] = self._read_table(section, table)
        return out

    # -- tables -------------------------------------------------------------------------
    def _column_location(
        self, section: SectionSpec, table: TableSpec, column: FieldSpec
    ) -> tuple[str, int, int]:
        """(sheet, first data row, column index) as issued."""
        return section.sheet, table.first_row, column_index_from_string(column.column or "A")

    def _row_count(self, table: TableSpec) -> int:
        if table.key in self.row_counts:
            return self.row_counts[table.key]
        if table.source is RowSource.FIXED:
            return table.rows
        if table.source is RowSource.SUBGROUPS:
            return len(self.config.subgroups)
        if table.source is RowSource.GRADES:
            return len(self.config.grades)
        if table.source is RowSource.PERIODS:
            return len(self.config.periods_for(self.spec.kind))
        return 0  # schools: only known from the issued metadata

    def _read_table(self, section: SectionSpec, table: TableSpec) -> list[PlanRow]:
        sheet_name, first, _ = self._column_location(section, table, table.columns[0])
        sheet = self.cells.sheet(sheet_name)
        placed = [(c, self._column_location(section, table, c)[2]) for c in table.columns]
        locations = self.result.locations
        rows: list[PlanRow] = []
        for index in range(self._row_count(table)):
            row = first + index
            values: dict[str, Value] = {}
            for column, col in placed:
                key = cell_key(section, table, column, index)
                locations[key] = loc = Location(sheet_name, row, col)
                values[column.key] = self._value(loc, column, key, sheet)
            rows.append(PlanRow(row=row, code=self._row_code(table, values), values=values))
        return rows

    def _row_code(self, table: TableSpec, values: dict[str, Value]) -> str | None:
        if table.source is RowSource.SCHOOLS:
            code = values.get("school_code")
            return None if code is None else str(code)
        if table.source is RowSource.STRATEGIES:
            ref = values.get("ref")
            return None if ref is None else str(ref)
        column = "period" if table.source is RowSource.PERIODS else "group"
        label = values.get(column)
        return self._codes(table.source).get(label) if isinstance(label, str) else None

    def _codes(self, source: RowSource) -> dict[str, str]:
        """Row label -> code of the catalogue a table's rows come from (built once: the
        config builds its catalogues on each access)."""
        if source not in self._catalogues:
            catalog: Sequence[Any] = ()
            if source in (RowSource.SUBGROUPS, RowSource.PROGRESS_SUBGROUPS):
                catalog = self.config.subgroups
            elif source in (RowSource.GRADES, RowSource.PROGRESS_GRADES):
                catalog = self.config.grades
            elif source is RowSource.PERIODS:
                catalog = self.config.periods
            codes: dict[str, str] = {}
            for entry in catalog:
                codes.setdefault(entry.label, entry.code)  # the first of a label, as before
            self._catalogues[source] = codes
        return self._catalogues[source]

    # -- one value ----------------------------------------------------------------------
    def _value(
        self, loc: Location, f: FieldSpec, key: str, sheet: SheetCells | None = None
    ) -> Value:
        sheet = sheet or self.cells.sheet(loc.sheet)
        at = (loc.row, loc.col)
        raw = sheet.values.get(at)
        if f.prefilled:
            return normalize.clean_text(raw) if isinstance(raw, str) else raw
        if f.needs_data_in and isinstance(raw, str) and raw.strip().casefold() == NOT_APPLICABLE:
            return None  # the locked "n/a" of a row without data: no target
        formula = sheet.formulas.get(at)
        if formula is not None:
            self.result.problems.append(
                problem(
                    "FORMULA_IN_INPUT",
                    sheet=loc.sheet,
                    cell=loc.cell,
                    field=key,
                    value=f"={formula}"[:100],
                    label=f.label,
                )
            )
            return None
        try:
            return PARSERS[f.type](raw)
        except ValueError as exc:
            self.result.problems.append(
                problem(
                    "VALUE_INVALID",
                    sheet=loc.sheet,
                    cell=loc.cell,
                    field=key,
                    value=str(raw)[:100],
                    label=f.label,
                    reason=str(exc),
                )
            )
            return None


def _range_text(target: NameTarget) -> str:
    def cell(point: tuple[int, int]) -> str:
        return f"{get_column_letter(point[1])}{point[0]}"

    ends = (
        cell(target.first)
        if target.first == target.last
        else (f"{cell(target.first)}:{cell(target.last)}")
    )
    return f"{target.sheet}!{ends}"
