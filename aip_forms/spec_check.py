"""The form spec checks its own layout: two things in one cell is an error, naming both.

`layout_problems` lists every place where two things of a section's sheet would share a
cell: a field's input cell, a field's label, a table's label, header row and data rows.
It runs when a `FormSpec` is constructed (see `aip_forms.spec`), so a field placed one row
off fails before any workbook is written, instead of overwriting another field's input
(which would then be locked, and read back as the answer).

A variable-length table (its rows come from data: subgroups, grades, schools, periods)
may grow to any length, so it occupies its columns from its header row to the bottom of
the sheet; nothing may sit below it in those columns. Rows 1 to 3 hold the section's
title, purpose and instructions, merged across the sheet.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aip_forms.workbook_format.a1 import coordinate_from_string

if TYPE_CHECKING:
    from aip_forms.spec import FormSpec, SectionSpec

HEADING_ROWS = 3  # title, purpose, instructions
SHEET_NAME_LIMIT = 31
SHEET_NAME_FORBIDDEN = set("[]:*?/\\")


@dataclass(frozen=True)
class Spot:
    """A run of cells in one column that one thing of the spec occupies."""

    what: str  # "field root_cause.research", "label of table tiers.tier1" ...
    column: str
    first: int
    last: int | None  # None: to the bottom of the sheet (a variable-length table)

    def overlap(self, other: Spot) -> int | None:
        """The first row both occupy, if any."""
        if self.column != other.column:
            return None
        start = max(self.first, other.first)
        ends = [end for end in (self.last, other.last) if end is not None]
        return start if not ends or start <= min(ends) else None


def section_spots(section: SectionSpec) -> Iterator[Spot]:
    """Everything a section puts on its sheet, as runs of cells."""
    for field in section.fields:
        where = f"{section.key}.{field.key}"
        for what, cell in ((f"field {where}", field.cell), (f"label of {where}", field.label_cell)):
            assert cell is not None  # placed by SectionSpec
            letter, row = coordinate_from_string(cell)
            yield Spot(what, letter, row, row)
    for table in section.tables:
        where = f"{section.key}.{table.key}"
        if table.label_cell:
            letter, row = coordinate_from_string(table.label_cell)
            yield Spot(f"label of table {where}", letter, row, row)
        last = table.last_row
        for column in table.columns:
            assert column.column, f"table column {where}.{column.key} has no column letter"
            yield Spot(f"table {where} column {column.key}", column.column, table.header_row, last)


def layout_problems(spec: FormSpec) -> list[str]:
    """Every shared cell (and every spot in the heading rows), one message each."""
    problems = []
    for section in spec.sections:
        spots = list(section_spots(section))
        sheet = section.sheet
        for spot in spots:
            if spot.first <= HEADING_ROWS:
                problems.append(
                    f"{spot.what} is at {sheet}!{spot.column}{spot.first}, in the section's "
                    f"heading rows 1-{HEADING_ROWS}"
                )
        for a, b in itertools.combinations(spots, 2):
            row = a.overlap(b)
            if row is not None:
                problems.append(f"{a.what} and {b.what} share the cell {sheet}!{a.column}{row}")
    return problems


def naming_problems(spec: FormSpec) -> list[str]:
    """Sheet names Excel refuses, and keys or defined names used twice."""
    problems = []
    sheets = [s.sheet for s in spec.sections]
    for name in sheets:
        if len(name) > SHEET_NAME_LIMIT or set(name) & SHEET_NAME_FORBIDDEN:
            problems.append(f"{name!r} is not a valid sheet name")
    problems += [f"two sections use the sheet {n!r}" for n in _repeated(sheets)]
    problems += [f"two sections use the key {k!r}" for k in _repeated(s.key for s in spec.sections)]
    names = []
    for section in spec.sections:
        names += [spec.field_name(section, f) for f in section.fields]
        for table in section.tables:
            names += [spec.field_name(section, c, table) for c in table.columns]
    for name in names:
        if not re.fullmatch(r"aip_[a-z0-9_]+", name):
            problems.append(f"{name!r} is not a valid defined name (a-z, 0-9 and _ only)")
    problems += [f"two fields have the defined name {n!r}" for n in _repeated(names)]
    return problems


def _repeated(items: Iterator[str] | list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item in seen:
            out.append(item)
        seen.add(item)
    return out


def data_problems(spec: FormSpec) -> list[str]:
    """`needs_data_in` must name pre-filled columns of the input's own table: they are what
    the generator and the validator both read to tell a row without data."""
    problems = []
    for section in spec.sections:
        for field in section.fields:
            if field.needs_data_in:
                problems.append(
                    f"field {section.key}.{field.key} names needs_data_in, which only table "
                    "columns may"
                )
        for table in section.tables:
            prefilled = {c.key for c in table.columns if c.prefilled}
            for column in table.columns:
                where = f"{section.key}.{table.key}.{column.key}"
                if column.needs_data_in and column.prefilled:
                    problems.append(f"pre-filled column {where} names needs_data_in")
                for key in column.needs_data_in:
                    if key not in prefilled:
                        problems.append(
                            f"{where} needs data in {key!r}, which is not a pre-filled column "
                            f"of table {section.key}.{table.key}"
                        )
    return problems


def spec_problems(spec: FormSpec) -> list[str]:
    return [*naming_problems(spec), *layout_problems(spec), *data_problems(spec)]
