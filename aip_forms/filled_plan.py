"""The typed plan: what a coordinator entered, as read back from a workbook by the spec.

The model is generic over the form spec (sections of fields and tables) so that adding a
field to the spec needs no change here. Values are typed by their `FieldType`: text as str,
percent as a fraction (0.25), integer as int, date as datetime.date, confirm as bool.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aip_forms.domain import PlanKind

Value = str | int | float | bool | dt.date | None


class PlanRow(BaseModel):
    """A table row; `row` is its sheet row, `code` the subgroup/grade/school it is for."""

    model_config = ConfigDict(extra="forbid")

    row: int
    code: str | None = None
    values: dict[str, Value] = Field(default_factory=dict)

    def get(self, key: str) -> Value:
        return self.values.get(key)

    @property
    def is_blank(self) -> bool:
        return all(v is None for v in self.values.values())


class PlanSection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: dict[str, Value] = Field(default_factory=dict)
    tables: dict[str, list[PlanRow]] = Field(default_factory=dict)


class Plan(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: PlanKind
    spec_version: int
    fiscal_year: int
    lea_code: str
    school_code: str | None = None
    sections: dict[str, PlanSection] = Field(default_factory=dict)

    def field(self, section: str, key: str) -> Value:
        return self.sections[section].fields.get(key) if section in self.sections else None

    def rows(self, section: str, table: str) -> list[PlanRow]:
        if section not in self.sections:
            return []
        return self.sections[section].tables.get(table, [])

    def filled_rows(self, section: str, table: str) -> list[PlanRow]:
        return [r for r in self.rows(section, table) if not r.is_blank]

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
