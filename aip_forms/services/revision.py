"""A plan to revise: a fresh workbook pre-filled with the coordinator's last answers and the
reviewer's comments as cell notes, so a returned plan is revised, not retyped.

The workbook is generated anew (current PED data, a new signature), then every input the
latest version answered is written back by the spec: section fields at their cells, table
rows by their subgroup/grade/school code (data-driven tables) or their row (fixed tables).
The certification (a final-only section) is left blank: a resubmission is certified anew.
Comments go on their cell; a section's on its sheet's title cell (A1), the plan's on the
Instructions sheet's A1.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from openpyxl.comments import Comment
from openpyxl.workbook.workbook import Workbook

from aip_forms.config import ProgramConfig, Settings
from aip_forms.domain import PlanKind
from aip_forms.plan_data import PlanData
from aip_forms.services.access import Action, PlanRef
from aip_forms.services.errors import NotFound
from aip_forms.services.repository import (
    PlanView,
    authorize,
    latest_submission,
    plan_ref,
    plan_view,
    require_plan,
)
from aip_forms.services.review import CommentView, comments_of
from aip_forms.services.uow import UowFactory
from aip_forms.spec import INSTRUCTIONS_SHEET, FieldSpec, FieldType, RowSource, spec_for
from workbook_templates.build import build_workbook, put
from workbook_templates.layout import source_rows

PlanDataSource = Callable[[PlanRef], PlanData]


@dataclass(frozen=True)
class RevisionWorkbook:
    data: bytes
    filename: str
    plan: PlanView
    version: int
    answers: int  # input cells written
    notes: int  # cells given a comment


def revision_workbook(
    plan_id: int,
    *,
    uow: UowFactory,
    plan_data: PlanDataSource,
    config: ProgramConfig,
    settings: Settings,
    user_email: str | None = None,
) -> RevisionWorkbook:
    with uow() as u:
        plan = require_plan(u.session, plan_id)
        authorize(u.session, user_email, Action.READ, plan)
        latest = latest_submission(u.session, plan_id)
        if latest is None:
            raise NotFound(f"plan {plan_id} has no submission to revise")
        answers = latest.report.get("plan")
        view, version, submission_id = plan_view(plan), latest.version, latest.id
        ref = plan_ref(plan)
    if not isinstance(answers, dict):
        raise NotFound(f"plan {plan_id}: version {version} has no answers stored")
    comments = comments_of(submission_id, uow=uow)
    data = plan_data(ref)
    wb = build_workbook(spec_for(ref.kind), data, config, settings)
    written = write_answers(wb, data, answers)
    notes = add_notes(wb, comments)
    buffer = io.BytesIO()
    wb.save(buffer)
    who = f"school-{ref.school_code}" if ref.school_code else f"district-{ref.lea_code}"
    filename = f"{who}-FY{ref.fiscal_year}-revision-of-v{version}.xlsx"
    return RevisionWorkbook(buffer.getvalue(), filename, view, version, written, notes)


def write_answers(wb: Workbook, data: PlanData, plan: Mapping[str, Any]) -> int:
    """Write a plan JSON's input values into a freshly built workbook; cells written."""
    spec = spec_for(PlanKind(plan["kind"]))
    sections: Mapping[str, Any] = plan.get("sections") or {}
    count = 0
    for section in spec.sections:
        if section.final_only or section.key not in sections:
            continue
        ws = wb[section.sheet]
        fields: Mapping[str, Any] = sections[section.key].get("fields") or {}
        for f in section.fields:
            if f.is_input and f.cell and fields.get(f.key) is not None:
                put(ws[f.cell], _cell_value(f, fields[f.key]))
                count += 1
        tables: Mapping[str, Any] = sections[section.key].get("tables") or {}
        for table in section.tables:
            target: dict[object, int]
            if table.source is RowSource.FIXED:
                rows = range(table.first_row, table.first_row + table.rows)
                target = {r: r for r in rows}
            else:
                codes = [r.code for r in source_rows(table, data)]
                target = {code: table.first_row + i for i, code in enumerate(codes)}
            for row in tables.get(table.key) or []:
                key = row["row"] if table.source is RowSource.FIXED else row.get("code")
                if key not in target:
                    continue  # a group no longer in the data
                values: Mapping[str, Any] = row.get("values") or {}
                for column in table.columns:
                    if column.is_input and values.get(column.key) is not None:
                        cell = ws[f"{column.column}{target[key]}"]
                        put(cell, _cell_value(column, values[column.key]))
                        count += 1
    return count


def _cell_value(field: FieldSpec, value: Any) -> Any:
    if field.type is FieldType.CONFIRM and isinstance(value, bool):
        return "Yes" if value else "No"
    if field.type is FieldType.DATE and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value


def add_notes(wb: Workbook, comments: list[CommentView]) -> int:
    """Each comment as a note on its cell (several on one cell join); cells noted."""
    sections = {s.key: s.sheet for kind in PlanKind for s in spec_for(kind).sections}
    by_cell: dict[tuple[str, str], list[CommentView]] = defaultdict(list)
    for c in comments:
        if c.sheet and c.cell and c.sheet in wb.sheetnames:
            by_cell[(c.sheet, c.cell)].append(c)
        elif c.section and sections.get(c.section) in wb.sheetnames:
            by_cell[(sections[c.section], "A1")].append(c)
        else:
            by_cell[(INSTRUCTIONS_SHEET, "A1")].append(c)
    for (sheet, cell), notes in by_cell.items():
        text = "\n\n".join(f"{c.author} ({c.created_at:%Y-%m-%d}): {c.body}" for c in notes)
        note = Comment(text, notes[0].author)
        note.width, note.height = 320, min(400, 80 + 15 * (len(text) // 40))
        wb[sheet][cell].comment = note
    return len(by_cell)
