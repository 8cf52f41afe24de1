"""A stored plan shown as tables, by step: what the review page puts on screen.

`plan_page` reads the plan's latest version (`stored_plans.stored_plan`: access checked,
bytes re-hashed) and lays it out through the form spec, as the workbook and the documents
do: each section with its step and title, its fields (label, value, cell) and its tables
(column labels, one row per table row, each cell with its workbook reference, so that a
reviewer can comment on exactly that cell). The comments on every version come with it,
open ones first, and what the user may do: review (approve, return, comment, resolve) when
their roles allow it and the plan is under review.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from aip_forms.config import ProgramConfig
from aip_forms.errors import Forbidden
from aip_forms.filled_plan import Plan, Value
from aip_forms.services.access import Action, PlanRef, can
from aip_forms.services.repository import SubmissionView, grants_of, require_user
from aip_forms.services.review import CommentView, plan_comments
from aip_forms.services.stored_plans import stored_plan
from aip_forms.services.uow import UowFactory
from aip_forms.services.workflow import UNDER_REVIEW, PlanStatus
from aip_forms.spec import FieldSpec, FieldType, SectionSpec
from aip_forms.storage import ObjectStore
from aip_forms.workbook_format.layout import with_years


@dataclass(frozen=True)
class Cell:
    ref: str  # 'Sheet name'!C7, as a comment names it
    value: str


@dataclass(frozen=True)
class FieldLine:
    label: str
    cell: Cell


@dataclass(frozen=True)
class TableView:
    key: str
    label: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class SectionView:
    key: str
    step: str
    title: str
    sheet: str
    fields: tuple[FieldLine, ...]
    tables: tuple[TableView, ...]


@dataclass(frozen=True)
class PlanPage:
    plan_id: int
    ref: PlanRef
    name: str  # the school's or district's name, as the plan gives it
    status: PlanStatus
    submission: SubmissionView
    sections: tuple[SectionView, ...]
    comments: tuple[CommentView, ...]  # open first, then resolved; oldest first in each
    may_review: bool  # comment, resolve (any time), approve or return (under review)
    period_label: str | None = None  # a progress update's period, e.g. "80-day"

    @property
    def under_review(self) -> bool:
        return self.status in UNDER_REVIEW

    @property
    def open_comments(self) -> tuple[CommentView, ...]:
        return tuple(c for c in self.comments if c.is_open)

    def cell_refs(self) -> set[str]:
        return {
            *(f.cell.ref for s in self.sections for f in s.fields),
            *(c.ref for s in self.sections for t in s.tables for r in t.rows for c in r),
        }


def plan_page(
    plan_id: int,
    *,
    user_email: str,
    uow: UowFactory,
    store: ObjectStore,
    key: bytes,
    config: ProgramConfig,
) -> PlanPage:
    found = stored_plan(
        plan_id, uow=uow, store=store, key=key, config=config, user_email=user_email
    )
    comments = plan_comments(plan_id, uow=uow, user_email=user_email)
    ref = found.submission.plan.ref
    with uow() as u:
        user = require_user(u.session, user_email)
        if not user.active:
            raise Forbidden(f"{user.email} is deactivated")
        may_review = can(grants_of(u.session, user.id), Action.REVIEW, ref)
    spec = config.form_spec(ref.kind, ref.period)
    named = next(
        (v for section in ("contact", "about") for key in ("school_name", "lea_name")
         if (v := found.plan.field(section, key))),
        None,
    )  # fmt: skip
    return PlanPage(
        plan_id=plan_id,
        ref=ref,
        name=str(named or ref.school_code or ref.lea_code),
        status=found.submission.plan.status,
        submission=found.submission,
        sections=tuple(section_view(s, found.plan) for s in spec.sections),
        comments=tuple(sorted(comments, key=lambda c: (not c.is_open, c.id))),
        may_review=may_review,
        period_label=next((p.label for p in config.periods if p.code == ref.period), None),
    )


def section_view(section: SectionSpec, plan: Plan) -> SectionView:
    stored = plan.sections.get(section.key)
    values = stored.fields if stored else {}
    fields = tuple(
        FieldLine(
            with_years(f.label, plan.fiscal_year),
            _cell(section.sheet, f.cell, f, values.get(f.key)),
        )
        for f in section.fields
        if f.cell
    )
    tables = []
    for table in section.tables:
        rows = stored.tables.get(table.key, []) if stored else []
        tables.append(
            TableView(
                table.key,
                table.label,
                tuple(with_years(c.label, plan.fiscal_year) for c in table.columns),
                tuple(
                    tuple(
                        _cell(section.sheet, f"{c.column}{row.row}", c, row.values.get(c.key))
                        for c in table.columns
                    )
                    for row in rows
                    if not row.is_blank
                ),
            )
        )
    return SectionView(
        section.key, section.step, section.title, section.sheet, fields, tuple(tables)
    )


def cell_ref(sheet: str, cell: str) -> str:
    return "'" + sheet.replace("'", "''") + "'!" + cell


def _cell(sheet: str, cell: str | None, field: FieldSpec, value: Value) -> Cell:
    return Cell(cell_ref(sheet, cell or "A1"), shown(field, value))


def shown(field: FieldSpec, value: Value) -> str:
    """A value as the page shows it: percents as percents, dates as dates, yes/no."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if field.type is FieldType.PERCENT and isinstance(value, int | float):
        return f"{value * 100:.1f}%"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return f"{value:%B} {value.day}, {value.year}"
    return str(value)
