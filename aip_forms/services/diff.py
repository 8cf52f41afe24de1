"""Field-by-field differences between two versions of a plan, and where a cell sits in the
form spec.

A version's answers are the plan JSON in the validation report stored with it (the
workbook, read by the spec). Both plans are flattened by the spec into entries keyed by
path (`contact.first_name`, `demographics.subgroups[female].target`,
`tiers.tier1[row 2].strategy`) with their label, sheet and cell, then compared.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from aip_forms.config import ProgramConfig
from aip_forms.domain import PlanKind
from aip_forms.errors import InvalidInput
from aip_forms.services.access import Action
from aip_forms.services.repository import (
    SubmissionView,
    authorize,
    require_plan,
    require_submission,
    submission_view,
)
from aip_forms.services.uow import UowFactory
from aip_forms.spec import FieldSpec, FormSpec, RowSource, SectionSpec, TableSpec

Change = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class Entry:
    path: str
    label: str
    sheet: str
    cell: str | None
    value: Any


@dataclass(frozen=True)
class FieldChange:
    path: str
    label: str
    sheet: str
    cell: str | None
    change: Change
    before: Any
    after: Any

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "label": self.label,
            "sheet": self.sheet,
            "cell": self.cell,
            "change": self.change,
            "before": self.before,
            "after": self.after,
        }


@dataclass(frozen=True)
class PlanDiff:
    before: SubmissionView
    after: SubmissionView
    changes: list[FieldChange]

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan_id": self.before.plan.id,
            "before": {"submission": self.before.id, "version": self.before.version},
            "after": {"submission": self.after.id, "version": self.after.version},
            "changes": [c.to_dict() for c in self.changes],
        }


def _row_id(table: TableSpec, row: Mapping[str, Any]) -> str:
    if table.source is not RowSource.FIXED and row.get("code"):
        return str(row["code"])
    return f"row {int(row['row']) - table.first_row + 1}"


def flatten(plan: Mapping[str, Any], spec: FormSpec) -> dict[str, Entry]:
    """Every value of a plan JSON (`Plan.to_json_dict()`), by path, in its spec's order."""
    sections: Mapping[str, Any] = plan.get("sections") or {}
    out: dict[str, Entry] = {}
    for section in spec.sections:
        data = sections.get(section.key) or {}
        fields: Mapping[str, Any] = data.get("fields") or {}
        for f in section.fields:
            path = f"{section.key}.{f.key}"
            out[path] = Entry(path, f.label, section.sheet, f.cell, fields.get(f.key))
        tables: Mapping[str, Any] = data.get("tables") or {}
        for table in section.tables:
            for row in tables.get(table.key) or []:
                ident = _row_id(table, row)
                values: Mapping[str, Any] = row.get("values") or {}
                for column in table.columns:
                    path = f"{section.key}.{table.key}[{ident}].{column.key}"
                    label = f"{table.label} [{ident}]: {column.label}"
                    cell = f"{column.column}{row['row']}"
                    out[path] = Entry(path, label, section.sheet, cell, values.get(column.key))
    return out


def diff_plans(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    config: ProgramConfig,
    period: str | None = None,
) -> list[FieldChange]:
    """The changed answers; `period` names a progress update's period (its own spec)."""
    if before.get("kind") != after.get("kind"):
        raise InvalidInput("a district plan and a school plan cannot be compared")
    spec = config.form_spec(PlanKind(before["kind"]), period)
    a, b = flatten(before, spec), flatten(after, spec)
    changes = []
    for path in [*a, *(p for p in b if p not in a)]:
        old = a[path].value if path in a else None
        new = b[path].value if path in b else None
        if old == new:
            continue
        where = b.get(path) or a[path]
        change: Change = "added" if old is None else "removed" if new is None else "changed"
        changes.append(FieldChange(path, where.label, where.sheet, where.cell, change, old, new))
    return changes


def diff_submissions(
    first_id: int,
    second_id: int,
    *,
    uow: UowFactory,
    config: ProgramConfig,
    user_email: str | None = None,
) -> PlanDiff:
    """What changed from one version of a plan to another (in the order given)."""
    with uow() as u:
        rows = [require_submission(u.session, i) for i in (first_id, second_id)]
        if rows[0].plan_id != rows[1].plan_id:
            raise InvalidInput(
                f"submissions {first_id} and {second_id} are versions of different plans"
            )
        authorize(u.session, user_email, Action.READ, require_plan(u.session, rows[0].plan_id))
        views = [submission_view(u.session, r) for r in rows]
        plans = [r.report.get("plan") for r in rows]
    if not all(isinstance(p, dict) for p in plans):
        raise InvalidInput("a version has no plan stored with its report")
    assert isinstance(plans[0], dict) and isinstance(plans[1], dict)
    period = views[0].plan.ref.period
    return PlanDiff(views[0], views[1], diff_plans(plans[0], plans[1], config, period))


# ---- cells -----------------------------------------------------------------------------

_CELL = re.compile(r"^([A-Z]{1,3})([1-9][0-9]{0,6})$")


@dataclass(frozen=True)
class Place:
    section: SectionSpec
    path: str | None  # the field's path when the cell is one, else None
    label: str | None


def place_of(spec: FormSpec, sheet: str, cell: str) -> Place:
    """Which section (and field, if any) a cell of the workbook belongs to."""
    section = next((s for s in spec.sections if s.sheet == sheet), None)
    if section is None:
        sheets = ", ".join(repr(s.sheet) for s in spec.sections)
        raise InvalidInput(f"no sheet {sheet!r} in a {spec.kind} plan; sheets: {sheets}")
    match = _CELL.match(cell)
    if not match:
        raise InvalidInput(f"not a cell reference: {cell!r} (write it like C5)")
    letters, row = match.group(1), int(match.group(2))
    for f in section.fields:
        if f.cell == cell:
            return Place(section, f"{section.key}.{f.key}", f.label)
    for table in section.tables:
        last = table.first_row + table.rows - 1 if table.source is RowSource.FIXED else 1 << 20
        column: FieldSpec | None = next((c for c in table.columns if c.column == letters), None)
        if column and table.first_row <= row <= last:
            ident = f"row {row - table.first_row + 1}"
            path = f"{section.key}.{table.key}[{ident}].{column.key}"
            return Place(section, path, f"{table.label} [{ident}]: {column.label}")
    return Place(section, None, None)
