"""Reading a plan workbook by the form spec into the typed `Plan`.

Fields are found through their defined names, falling back to the spec's cell positions
when a client dropped the names. Values are normalized (`validators.normalize`); a value
that cannot be read becomes a problem at its cell, and the plan holds None there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from openpyxl.utils.cell import column_index_from_string, get_column_letter

from aip_forms.config import ProgramConfig
from aip_forms.plan import Plan, PlanRow, PlanSection, Value
from aip_forms.spec import FieldSpec, FieldType, FormSpec, RowSource, SectionSpec, TableSpec
from validators import normalize
from validators.cells import SheetCells, WorkbookCells
from validators.problems import Problem, problem


@dataclass(frozen=True)
class Location:
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
        self.result = ReadResult(
            plan=Plan(kind=spec.kind, spec_version=spec.version, fiscal_year=0, lea_code="")
        )

    def read(self) -> ReadResult:
        for section in self.spec.sections:
            if not self.cells.has_sheet(section.sheet) and not self._named_anywhere(section):
                self.result.problems.append(
                    problem("SHEET_MISSING", sheet=section.sheet, section=section.title)
                )
                continue
            self.result.plan.sections[section.key] = self._read_section(section)
            self._check_length(section)
        return self.result

    def _check_length(self, section: SectionSpec) -> None:
        """Entries below the rows read would be silently ignored: say so."""
        if not self.cells.has_sheet(section.sheet):
            return
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

    def _named_anywhere(self, section: SectionSpec) -> bool:
        return any(self.cells.names.get(self.spec.field_name(section, f)) for f in section.fields)

    # -- single fields ------------------------------------------------------------------
    def _field_location(self, section: SectionSpec, f: FieldSpec) -> Location | None:
        target = self.cells.names.get(self.spec.field_name(section, f))
        if target and self.cells.has_sheet(target.sheet):
            return Location(target.sheet, *target.first)
        if f.cell and self.cells.has_sheet(section.sheet):
            letters = "".join(ch for ch in f.cell if ch.isalpha())
            return Location(
                section.sheet, int(f.cell[len(letters) :]), column_index_from_string(letters)
            )
        return None

    def _read_section(self, section: SectionSpec) -> PlanSection:
        out = PlanSection()
        for f in section.fields:
            loc = self._field_location(section, f)
            if loc is None:
                continue
            key = field_key(section, f)
            self.result.locations[key] = loc
            out.fields[f.key] = self._value(loc, f, section, key)
        for table in section.tables:
            out.tables[table.key] = self._read_table(section, table)
        return out

    # -- tables -------------------------------------------------------------------------
    def _column_location(
        self, section: SectionSpec, table: TableSpec, column: FieldSpec
    ) -> tuple[str, int, int, int | None]:
        """(sheet, first data row, column index, last data row or None if unknown)."""
        target = self.cells.names.get(self.spec.field_name(section, column, table))
        if target and self.cells.has_sheet(target.sheet):
            return target.sheet, target.first[0], target.first[1], target.last[0]
        return section.sheet, table.first_row, column_index_from_string(column.column or "A"), None

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
        placed = {c.key: self._column_location(section, table, c) for c in table.columns}
        count = self._row_count(table)
        if count == 0:  # no issue record: the names say how far the table goes
            ends = [last - first + 1 for _, first, _, last in placed.values() if last]
            count = max(ends, default=0)
        rows: list[PlanRow] = []
        for index in range(count):
            values: dict[str, Value] = {}
            sheet_row = 0
            for column in table.columns:
                sheet, first, col, _ = placed[column.key]
                if not self.cells.has_sheet(sheet):
                    continue
                loc = Location(sheet, first + index, col)
                sheet_row = sheet_row or loc.row
                key = cell_key(section, table, column, index)
                self.result.locations[key] = loc
                values[column.key] = self._value(loc, column, section, key)
            rows.append(PlanRow(row=sheet_row, code=self._row_code(table, values), values=values))
        return rows

    def _row_code(self, table: TableSpec, values: dict[str, Value]) -> str | None:
        if table.source is RowSource.SCHOOLS:
            code = values.get("school_code")
            return None if code is None else str(code)
        if table.source in (RowSource.SUBGROUPS, RowSource.GRADES):
            label = values.get("group")
            catalog = (
                self.config.subgroups if table.source is RowSource.SUBGROUPS else self.config.grades
            )
            return next((g.code for g in catalog if g.label == label), None)
        if table.source is RowSource.PERIODS:
            label = values.get("period")
            return next((p.code for p in self.config.periods if p.label == label), None)
        return None

    # -- one value ----------------------------------------------------------------------
    def _value(self, loc: Location, f: FieldSpec, section: SectionSpec, key: str) -> Value:
        sheet: SheetCells = self.cells.sheet(loc.sheet)
        raw = sheet.get(loc.row, loc.col)
        formula = sheet.formula_at(loc.row, loc.col)
        if f.prefilled:
            return normalize.clean_text(raw) if isinstance(raw, str) else raw
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
