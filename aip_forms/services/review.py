"""Review: approve or return the version under review, and comment on a section or a cell.

School plans are reviewed by their district coordinator, district plans by the PED
coordinator (`access`). Only the latest version of a plan under review (submitted or
resubmitted) can be decided (`workflow`). Returning a plan needs at least one comment, given
with the decision or before it, so the coordinator knows what to change.

A comment points at the whole plan, a section (`tiers`, or its step "4", or its sheet) or a
cell (`'4 Tiers of Support'!C7`); a cell that holds a field is also recorded by the field's
path, so it survives a change of layout.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from aip_forms.db.models import CommentRow, ReviewEventRow, SubmissionRow, UserRow
from aip_forms.domain import PlanKind
from aip_forms.services import audit
from aip_forms.services.access import Action
from aip_forms.services.diff import place_of
from aip_forms.services.errors import InvalidInput, WorkflowRefused
from aip_forms.services.repository import (
    PlanView,
    SubmissionView,
    authorize,
    latest_submission,
    lock_plan,
    plan_view,
    require_plan,
    require_submission,
    submission_view,
)
from aip_forms.services.uow import Clock, UowFactory, aware, utc_now
from aip_forms.services.workflow import Decision, PlanStatus, after_review, version_after_review
from aip_forms.spec import FormSpec, spec_for

MAX_COMMENT = 4000


@dataclass(frozen=True)
class CommentView:
    id: int
    submission_id: int
    author: str
    section: str | None
    sheet: str | None
    cell: str | None
    field: str | None
    body: str
    created_at: dt.datetime

    @property
    def where(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return f"section {self.section}" if self.section else "the plan"


@dataclass(frozen=True)
class ReviewResult:
    plan: PlanView
    submission: SubmissionView
    decision: Decision
    comment: CommentView | None


@dataclass(frozen=True)
class _Target:
    section: str | None = None
    sheet: str | None = None
    cell: str | None = None
    field: str | None = None


def parse_target(spec: FormSpec, cell: str | None, section: str | None) -> _Target:
    """Where a comment points: a cell ("Sheet!C5"), a section (key, step or sheet) or the
    whole plan (neither)."""
    chosen = _section_key(spec, section) if section else None
    if not cell:
        return _Target(section=chosen)
    sheet, bang, ref = cell.rpartition("!")
    if not bang or not sheet:
        raise InvalidInput(f"write a cell as 'Sheet name'!C5, not {cell!r}")
    sheet = sheet.strip()
    if len(sheet) > 1 and sheet[0] == sheet[-1] == "'":
        sheet = sheet[1:-1].replace("''", "'")
    ref = ref.replace("$", "").strip().upper()
    place = place_of(spec, sheet, ref)
    if chosen and chosen != place.section.key:
        raise InvalidInput(f"cell {cell} is in section {place.section.key}, not {chosen}")
    return _Target(place.section.key, sheet, ref, place.path)


def _section_key(spec: FormSpec, text: str) -> str:
    wanted = text.strip().lower()
    for s in spec.sections:
        if wanted in (s.key.lower(), s.step.lower(), s.sheet.lower()):
            return s.key
    keys = ", ".join(s.key for s in spec.sections)
    raise InvalidInput(f"no section {text!r} in a {spec.kind} plan; sections: {keys}")


def _comment(
    session: Session,
    submission: SubmissionRow,
    spec: FormSpec,
    *,
    author: UserRow,
    body: str,
    cell: str | None,
    section: str | None,
    at: dt.datetime,
) -> CommentView:
    text = body.strip()
    if not text:
        raise InvalidInput("a comment needs some text")
    if len(text) > MAX_COMMENT:
        raise InvalidInput(f"a comment is at most {MAX_COMMENT} characters")
    target = parse_target(spec, cell, section)
    row = CommentRow(
        submission_id=submission.id,
        author_id=author.id,
        section=target.section,
        sheet=target.sheet,
        cell=target.cell,
        field=target.field,
        body=text,
        created_at=at,
    )
    session.add(row)
    session.flush()
    view = _view(row, author.email)
    audit.record(
        session,
        at=at,
        actor_id=author.id,
        action="comment.added",
        entity="plan",
        entity_id=submission.plan_id,
        after={"comment": row.id, "submission": submission.id, "where": view.where, "body": text},
    )
    return view


def _view(row: CommentRow, author: str) -> CommentView:
    return CommentView(
        row.id,
        row.submission_id,
        author,
        row.section,
        row.sheet,
        row.cell,
        row.field,
        row.body,
        aware(row.created_at),
    )


def add_comment(
    submission_id: int,
    body: str,
    *,
    author_email: str,
    uow: UowFactory,
    cell: str | None = None,
    section: str | None = None,
    clock: Clock = utc_now,
) -> CommentView:
    """A reviewer's comment on a version (any version, at any time)."""
    with uow() as u:
        sub = require_submission(u.session, submission_id)
        plan = require_plan(u.session, sub.plan_id)
        author = authorize(u.session, author_email, Action.REVIEW, plan)
        assert author is not None
        view = _comment(
            u.session,
            sub,
            spec_for(PlanKind(plan.kind)),
            author=author,
            body=body,
            cell=cell,
            section=section,
            at=clock(),
        )
        u.commit()
    return view


def decide(
    submission_id: int,
    *,
    decision: Decision,
    reviewer_email: str,
    uow: UowFactory,
    comment: str | None = None,
    cell: str | None = None,
    section: str | None = None,
    clock: Clock = utc_now,
) -> ReviewResult:
    with uow() as u:
        s = u.session
        sub = require_submission(s, submission_id)
        plan = lock_plan(s, sub.plan_id, clock)
        reviewer = authorize(s, reviewer_email, Action.REVIEW, plan)
        assert reviewer is not None
        status = after_review(PlanStatus(plan.status), decision)
        latest = latest_submission(s, plan.id)
        if latest is None or latest.id != sub.id:
            raise WorkflowRefused(
                f"submission {sub.id} (version {sub.version}) is not the version under review"
                + (f"; submission {latest.id} (version {latest.version}) is" if latest else "")
            )
        now = clock()
        note = None
        if comment:
            spec = spec_for(PlanKind(plan.kind))
            note = _comment(
                s, sub, spec, author=reviewer, body=comment, cell=cell, section=section, at=now
            )
        elif cell or section:
            raise InvalidInput("--cell and --section point a --comment; give its text too")
        if decision is Decision.RETURN and note is None and not _has_comments(s, sub.id):
            raise WorkflowRefused("say what to change: returning a plan needs a comment")
        before = {"status": plan.status, "version_status": sub.status}
        plan.status = status.value
        plan.updated_at = now
        sub.status = version_after_review(decision).value
        s.add(
            ReviewEventRow(
                plan_id=plan.id,
                submission_id=sub.id,
                reviewer_id=reviewer.id,
                action=decision.value,
                at=now,
            )
        )
        audit.record(
            s,
            at=now,
            actor_id=reviewer.id,
            action=f"plan.{'approved' if decision is Decision.APPROVE else 'returned'}",
            entity="plan",
            entity_id=plan.id,
            before=before,
            after={"status": plan.status, "version_status": sub.status, "submission": sub.id},
        )
        s.flush()
        result = ReviewResult(plan_view(plan), submission_view(s, sub), decision, note)
        u.commit()
    return result


approve = functools.partial(decide, decision=Decision.APPROVE)
return_plan = functools.partial(decide, decision=Decision.RETURN)


def _has_comments(session: Session, submission_id: int) -> bool:
    return (
        session.scalar(select(CommentRow.id).where(CommentRow.submission_id == submission_id))
        is not None
    )


def comments_of(
    submission_id: int, *, uow: UowFactory, user_email: str | None = None
) -> list[CommentView]:
    with uow() as u:
        sub = require_submission(u.session, submission_id)
        authorize(u.session, user_email, Action.READ, require_plan(u.session, sub.plan_id))
        rows = u.session.execute(
            select(CommentRow, UserRow.email)
            .join(UserRow, CommentRow.author_id == UserRow.id)
            .where(CommentRow.submission_id == submission_id)
            .order_by(CommentRow.id)
        )
        return [_view(row, email) for row, email in rows]
