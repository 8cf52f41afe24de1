"""The plans a user may see, as lists: the review queue of the portal and the machine API's
plan list. Read-only.

- `plans_in_scope`: every plan record (a plan someone has uploaded, or a progress update of
  one, with its period and the period's deadline) the user may read in a fiscal year, with
  its status, deadline, latest version and open comments;
- `review_queue`: the plans a role works through, filtered (status, LEA, overdue) and
  sorted (deadline, submitted time, name). A district coordinator's queue holds the school
  plans of their LEA; a PED coordinator's every plan (they review the district plans and
  see all); a PED reviewer's every plan, to read. A school coordinator reviews nothing.

A plan is overdue when its deadline has passed and it is not with a reviewer or approved
(a draft, or a returned plan not yet resubmitted).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aip_forms.config import ProgramConfig
from aip_forms.db.models import CommentRow, LeaRow, PlanRecordRow, SchoolRow, SubmissionRow
from aip_forms.domain import PlanKind
from aip_forms.errors import Forbidden, InvalidInput
from aip_forms.services.access import Action, Grant, Role, can
from aip_forms.services.deadlines import deadlines_of
from aip_forms.services.repository import grants_of, plan_ref, require_user
from aip_forms.services.uow import UowFactory, aware
from aip_forms.services.workflow import PlanStatus

SORTS = {"deadline": "deadline", "submitted": "submitted time", "name": "name"}
STATUSES = tuple(s.value for s in PlanStatus)
WITH_REVIEWER = frozenset({PlanStatus.SUBMITTED, PlanStatus.RESUBMITTED, PlanStatus.APPROVED})
REVIEWING_ROLES = frozenset({Role.DISTRICT_COORDINATOR, Role.PED_COORDINATOR, Role.PED_REVIEWER})


@dataclass(frozen=True)
class PlanEntry:
    id: int
    kind: PlanKind
    fiscal_year: int
    lea_code: str
    lea_name: str
    school_code: str | None
    school_name: str | None
    status: PlanStatus
    deadline: dt.date
    latest_version: int
    submitted_at: dt.datetime  # when the latest version was uploaded
    open_comments: int
    period: str | None = None  # a progress update's period (issue 12)
    period_label: str | None = None

    @property
    def name(self) -> str:
        return self.school_name or self.lea_name

    @property
    def what(self) -> str:
        """ "School plan", or "School plan: 80-day progress update"."""
        plan = f"{self.kind.value.capitalize()} plan"
        return f"{plan}: {self.period_label} progress update" if self.period_label else plan

    def overdue(self, today: dt.date) -> bool:
        return today > self.deadline and self.status not in WITH_REVIEWER

    def days_left(self, today: dt.date) -> int:
        return (self.deadline - today).days


def plans_in_scope(
    user_email: str,
    *,
    uow: UowFactory,
    config: ProgramConfig,
    fiscal_year: int | None = None,
    grants: list[Grant] | None = None,
) -> list[PlanEntry]:
    """The plans the user's roles (or `grants`, some of them) may read, by id."""
    if fiscal_year is not None and not 2000 <= fiscal_year <= 2999:
        raise InvalidInput(f"fiscal year out of range: {fiscal_year}")
    with uow() as u:
        s = u.session
        user = require_user(s, user_email)
        held = grants_of(s, user.id)
        if grants is None:
            grants = held
        elif any(g not in held for g in grants):
            raise Forbidden(f"{user.email} does not hold that role")
        latest = (
            select(
                SubmissionRow.plan_id,
                func.max(SubmissionRow.version).label("version"),
            )
            .group_by(SubmissionRow.plan_id)
            .subquery()
        )
        query = (
            select(PlanRecordRow, LeaRow.name, SchoolRow.name, SubmissionRow)
            .join(LeaRow, PlanRecordRow.lea_code == LeaRow.code)
            .outerjoin(SchoolRow, PlanRecordRow.school_code == SchoolRow.code)
            .join(latest, latest.c.plan_id == PlanRecordRow.id)
            .join(
                SubmissionRow,
                (SubmissionRow.plan_id == PlanRecordRow.id)
                & (SubmissionRow.version == latest.c.version),
            )
            .order_by(PlanRecordRow.id)
        )
        if fiscal_year is not None:
            query = query.where(PlanRecordRow.fiscal_year == fiscal_year)
        rows = [r for r in s.execute(query) if can(grants, Action.READ, plan_ref(r[0]))]
        counts = _open_comments(s, [plan.id for plan, *_ in rows])
        years = {plan.fiscal_year for plan, *_ in rows if plan.period}
        due = {
            (d.fiscal_year, d.kind.value, d.period): d.due_on
            for year in years
            for d in deadlines_of(s, config, year)
        }
        labels = {p.code: p.label for p in config.periods}
        return [
            PlanEntry(
                id=plan.id,
                kind=PlanKind(plan.kind),
                fiscal_year=plan.fiscal_year,
                lea_code=plan.lea_code,
                lea_name=lea_name,
                school_code=plan.school_code,
                school_name=school_name,
                status=PlanStatus(plan.status),
                deadline=due[(plan.fiscal_year, plan.kind, plan.period)]
                if plan.period
                else config.deadline(plan.fiscal_year, PlanKind(plan.kind)),
                latest_version=sub.version,
                submitted_at=aware(sub.uploaded_at),
                open_comments=counts.get(plan.id, 0),
                period=plan.period,
                period_label=labels.get(plan.period) if plan.period else None,
            )
            for plan, lea_name, school_name, sub in rows
        ]


def _open_comments(session: Session, plan_ids: list[int]) -> dict[int, int]:
    if not plan_ids:
        return {}
    rows = session.execute(
        select(SubmissionRow.plan_id, func.count(CommentRow.id))
        .join(CommentRow, CommentRow.submission_id == SubmissionRow.id)
        .where(SubmissionRow.plan_id.in_(plan_ids), CommentRow.resolved_at.is_(None))
        .group_by(SubmissionRow.plan_id)
    )
    return {plan_id: count for plan_id, count in rows}


@dataclass(frozen=True)
class QueueFilter:
    """What the queue page asks for; every value is checked by `review_queue`."""

    status: str = ""
    lea_code: str = ""
    overdue: bool = False
    sort: str = "deadline"


def review_queue(
    grant: Grant,
    user_email: str,
    *,
    uow: UowFactory,
    config: ProgramConfig,
    today: dt.date,
    fiscal_year: int,
    wanted: QueueFilter = QueueFilter(),
) -> list[PlanEntry]:
    """The plans `grant` (one of the user's roles) works through, filtered and sorted."""
    if grant.role not in REVIEWING_ROLES:
        raise Forbidden("a school coordinator reviews no plans; the district coordinator does")
    if wanted.sort not in SORTS:
        raise InvalidInput(f"sort by {', '.join(SORTS)}, not {wanted.sort[:40]!r}")
    if wanted.status and wanted.status not in STATUSES:
        raise InvalidInput(f"a status is one of {', '.join(STATUSES)}, not {wanted.status[:40]!r}")
    if wanted.lea_code:
        with uow() as u:
            if u.session.get(LeaRow, wanted.lea_code) is None:
                raise InvalidInput(f"there is no LEA {wanted.lea_code[:40]!r}")
    entries = plans_in_scope(
        user_email, uow=uow, config=config, fiscal_year=fiscal_year, grants=[grant]
    )
    if grant.role is Role.DISTRICT_COORDINATOR:
        entries = [e for e in entries if e.kind is PlanKind.SCHOOL]
    chosen = [
        e
        for e in entries
        if (not wanted.status or e.status.value == wanted.status)
        and (not wanted.lea_code or e.lea_code == wanted.lea_code)
        and (not wanted.overdue or e.overdue(today))
    ]
    if wanted.sort == "name":
        chosen.sort(key=lambda e: (e.name.lower(), e.id))
    elif wanted.sort == "submitted":
        chosen.sort(key=lambda e: (e.submitted_at, e.id))
    else:
        chosen.sort(key=lambda e: (e.deadline, e.name.lower(), e.id))
    return chosen
