"""A plan to revise: a fresh workbook pre-filled with the coordinator's last answers and the
reviewer's comments, so a returned plan is revised, not retyped.

The workbook is generated anew (current PED data, a new signature), then every input the
latest version answered is written back by the spec: section fields at their cells, table
rows by their subgroup/grade/school code (data-driven tables) or their row (fixed tables).
The certification (a final-only section) is left blank: a resubmission is certified anew.
The open comments (on any version; resolved ones are done with) go on their cell; a
section's on its sheet's title cell (A1), the plan's on the Instructions sheet's A1.
Besides the notes (issue 13): a "Reviewer comments" sheet after the Instructions lists every
open comment (reviewer, date, sheet!cell, the field's label, the comment) with a link to its
cell; commented cells are highlighted; and the Instructions open with who returned the plan
and when.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import Session

from aip_forms.config import ProgramConfig, Settings
from aip_forms.db.models import ReviewEventRow, SubmissionRow, UserRow
from aip_forms.errors import NotFound
from aip_forms.issued_data import PlanData
from aip_forms.services.access import Action, PlanRef
from aip_forms.services.repository import (
    PlanView,
    authorize,
    latest_submission,
    plan_ref,
    plan_view,
    require_plan,
)
from aip_forms.services.review import CommentView, open_comments
from aip_forms.services.uow import UowFactory
from aip_forms.services.workflow import Decision
from aip_forms.spec import (
    INSTRUCTIONS_SHEET,
    NOT_APPLICABLE,
    FieldSpec,
    FieldType,
    FormSpec,
    RowSource,
)
from aip_forms.workbook_format.layout import column_label, source_rows
from workbook_templates.build import build_workbook, print_setup, protect, put
from workbook_templates.fit import BASE_SIZE, FONT_NAME, fit_rows, height_for

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
        view, version = plan_view(plan), latest.version
        ref = plan_ref(plan)
        returned = last_return(u.session, plan_id)
    if not isinstance(answers, dict):
        raise NotFound(f"plan {plan_id}: version {version} has no answers stored")
    comments = open_comments(plan_id, uow=uow)  # resolved ones are done with
    data = plan_data(ref)
    wb = build_workbook(config.spec(ref.kind), data, config, settings)
    spec = config.spec(ref.kind)
    written = write_answers(wb, spec, data, answers)
    notes = add_notes(wb, spec, comments)
    add_comments_sheet(wb, spec, comments, settings.workbook_password, data.fiscal_year)
    add_return_notice(wb, returned, version, len(comments))
    buffer = io.BytesIO()
    wb.save(buffer)
    who = f"school-{ref.school_code}" if ref.school_code else f"district-{ref.lea_code}"
    filename = f"{who}-FY{ref.fiscal_year}-revision-of-v{version}.xlsx"
    return RevisionWorkbook(buffer.getvalue(), filename, view, version, written, notes)


def write_answers(wb: Workbook, spec: FormSpec, data: PlanData, plan: Mapping[str, Any]) -> int:
    """Write a plan JSON's input values into a freshly built workbook; cells written."""
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
                        if cell.value == NOT_APPLICABLE:
                            continue  # the group has no data now: its answer is not asked
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


def add_notes(wb: Workbook, spec: FormSpec, comments: list[CommentView]) -> int:
    """Each comment as a note on its cell (several on one cell join); cells noted."""
    sections = {s.key: s.sheet for s in spec.sections}
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


# ---- the comments sheet, highlighted cells and the Instructions' notice (issue 13) --------

COMMENTS_SHEET = "Reviewer comments"
COMMENTS_HEADER = ("No.", "Reviewer", "Date", "Where", "Field", "Comment")
COMMENTS_WIDTHS = (5, 26, 11, 28, 32, 56)
HIGHLIGHT = "F4B183"  # orange: a reviewer commented here (inputs stay yellow elsewhere)
NOTICE_FILL = "FCE4D6"


@dataclass(frozen=True)
class Returned:
    """The plan's last return for revision: by whom, when, which version."""

    reviewer: str  # "Sam Ortiz (sam.ortiz@ped.nm.gov)", or the email alone
    at: dt.datetime
    version: int


def last_return(session: Session, plan_id: int) -> Returned | None:
    """The latest review decision on the plan, if it was a return."""
    found = session.execute(
        select(
            ReviewEventRow.action,
            ReviewEventRow.at,
            UserRow.name,
            UserRow.email,
            SubmissionRow.version,
        )
        .join(UserRow, ReviewEventRow.reviewer_id == UserRow.id)
        .join(SubmissionRow, ReviewEventRow.submission_id == SubmissionRow.id)
        .where(ReviewEventRow.plan_id == plan_id)
        .order_by(ReviewEventRow.at.desc(), ReviewEventRow.id.desc())
        .limit(1)
    ).first()
    if found is None or found.action != Decision.RETURN.value:
        return None
    who = f"{found.name} ({found.email})" if found.name else found.email
    return Returned(who, found.at, found.version)


def comment_place(
    spec: FormSpec, wb: Workbook, comment: CommentView, fiscal_year: int
) -> tuple[str, str, str]:
    """(sheet, cell, label) of a comment as the workbook shows it: a cell's field label (a
    table column's with its row's group or school), a section's title, or the whole plan."""
    sections = {s.key: s for s in spec.sections}
    if comment.sheet and comment.cell and comment.sheet in wb.sheetnames:
        label = _cell_label(spec, wb, comment.sheet, comment.cell, fiscal_year)
        return comment.sheet, comment.cell, label
    section = sections.get(comment.section or "")
    if section is not None:
        return section.sheet, "A1", f"{section.title} (the whole step)"
    return INSTRUCTIONS_SHEET, "A1", "The whole plan"


def _cell_label(spec: FormSpec, wb: Workbook, sheet: str, cell: str, fiscal_year: int) -> str:
    letter, row = coordinate_from_string(cell)
    for section in (s for s in spec.sections if s.sheet == sheet):
        for f in section.fields:
            if f.cell == cell:
                return f.label
        for table in section.tables:
            column = next((c for c in table.columns if c.column == letter), None)
            if column is None or row < table.first_row:
                continue
            if table.last_row is not None and row > table.last_row:
                continue
            label = column_label(column, fiscal_year)
            first = table.columns[0]
            name = wb[sheet][f"{first.column}{row}"].value if first.prefilled else None
            return f"{label}: {name}" if name else f"{label}, row {row}"
    return f"cell {cell}"


def add_comments_sheet(
    wb: Workbook, spec: FormSpec, comments: list[CommentView], password: str, fiscal_year: int
) -> Worksheet:
    """The sheet listing every comment with a link to its cell; commented cells highlighted.
    Read-only like the pre-filled cells; the validator reads only the plan's own sheets."""
    ws = wb.create_sheet(COMMENTS_SHEET, 1)
    ws["A1"].style = "aip_title"
    put(ws["A1"], f"Reviewer comments ({len(comments)} open)")
    ws["A2"].style = "aip_text"
    put(
        ws["A2"],
        "Every open comment on the plan. Select a place to go to its cell; commented cells "
        "are highlighted in orange and carry the comment as a note.",
    )
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(COMMENTS_HEADER))
    for col, (text, width) in enumerate(zip(COMMENTS_HEADER, COMMENTS_WIDTHS, strict=True), 1):
        header = ws.cell(row=4, column=col)
        header.style = "aip_header"
        put(header, text)
        ws.column_dimensions[get_column_letter(col)].width = width
    for i, c in enumerate(comments, start=1):
        sheet, cell, label = comment_place(spec, wb, c, fiscal_year)
        row = 4 + i
        values: tuple[str | int, ...] = (i, c.author, "", f"{sheet}!{cell}", label, c.body)
        for col, value in enumerate(values, start=1):
            target = ws.cell(row=row, column=col)
            target.style = "aip_prefilled"
            put(target, value or None)
        when = ws.cell(row=row, column=3)
        when.value = c.created_at.date()
        when.number_format = "m/d/yyyy"
        link = ws.cell(row=row, column=4)
        quoted = sheet.replace("'", "''")
        link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{quoted}'!{cell}")
        link.font = Font(name=FONT_NAME, size=BASE_SIZE, color="0563C1", underline="single")
        if cell != "A1":
            _highlight(wb[sheet][cell])
    if not comments:
        put(ws.cell(row=5, column=1), "No open comments.")
        ws.cell(row=5, column=1).style = "aip_text"
    ws.freeze_panes = "A5"
    fit_rows(ws)
    protect(ws, password)
    print_setup(ws, landscape=True)
    return ws


def _highlight(cell: Cell | MergedCell) -> None:
    """Orange with a thick border; the cell keeps its lock, font and number format."""
    edge = Side(style="medium", color="C55A11")
    cell.fill = PatternFill("solid", fgColor=HIGHLIGHT)
    cell.border = Border(left=edge, right=edge, top=edge, bottom=edge)


def add_return_notice(
    wb: Workbook, returned: Returned | None, version: int, open_count: int
) -> str:
    """Two rows under the Instructions' title: whether and by whom the plan was returned,
    and where the comments are. Returns the notice's text."""
    if returned is not None:
        when = f"{returned.at:%B} {returned.at.day}, {returned.at.year}"
        head = (
            f"This plan was returned for revision by {returned.reviewer} on {when} "
            f"(version {returned.version})."
        )
    else:
        head = f"A revision workbook of version {version} of this plan."
    text = (
        f"{head} Your answers of version {version} are filled in. "
        f"{open_count} open comment{'s' if open_count != 1 else ''}: see the sheet "
        f'"{COMMENTS_SHEET}", which links to each commented cell (highlighted in orange). '
        "Change what the comments ask, certify again on the Final Submission sheet and "
        "upload the workbook."
    )
    ws = wb[INSTRUCTIONS_SHEET]
    heights = {r: d.height for r, d in ws.row_dimensions.items() if d.height}
    ws.insert_rows(2, 2)  # moves the cells, not the row heights
    for r in heights:
        ws.row_dimensions[r].height = None
    for r, height in heights.items():
        ws.row_dimensions[r + 2 if r >= 2 else r].height = height
    notice = ws["A2"]
    notice.style = "aip_label"
    notice.fill = PatternFill("solid", fgColor=NOTICE_FILL)
    put(notice, text)
    width = ws.column_dimensions["A"].width or 72
    ws.row_dimensions[2].height = height_for(text, width, bold=True)
    return text
