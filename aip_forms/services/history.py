"""A plan's history: every version with who and when, the review decisions and comments as one
timeline, and the statuses the plan can move to next (asked of `workflow` itself, so the page
never disagrees with what a submit or a review would do). Read-only."""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from aip_forms.db.models import CommentRow, ReviewEventRow, SubmissionRow, UserRow
from aip_forms.errors import Conflict
from aip_forms.services.access import Action
from aip_forms.services.repository import (
    PlanView,
    SubmissionView,
    authorize,
    plan_view,
    require_plan,
    submission_view,
)
from aip_forms.services.review import CommentView, comment_view
from aip_forms.services.uow import UowFactory, aware
from aip_forms.services.workflow import (
    Decision,
    PlanStatus,
    after_review,
    after_upload,
)

EventKind = Literal["version", "approved", "returned", "comment"]


@dataclass(frozen=True)
class Event:
    at: dt.datetime
    kind: EventKind
    who: str
    version: int
    text: str  # a version's file name, a comment's words and place


@dataclass(frozen=True)
class Move:
    status: PlanStatus
    how: str  # what makes the plan move there, in plain words


@dataclass(frozen=True)
class PlanHistory:
    plan: PlanView | None  # None: nothing uploaded yet
    versions: list[SubmissionView]  # oldest first
    timeline: list[Event]  # oldest first
    comments: list[CommentView]
    next: list[Move]


def plan_history(plan_id: int | None, *, uow: UowFactory, user_email: str | None) -> PlanHistory:
    if plan_id is None:
        return PlanHistory(None, [], [], [], next_moves(None))
    with uow() as u:
        s = u.session
        plan = require_plan(s, plan_id)
        authorize(s, user_email, Action.READ, plan)
        rows = list(
            s.scalars(
                select(SubmissionRow)
                .where(SubmissionRow.plan_id == plan_id)
                .order_by(SubmissionRow.version)
            )
        )
        versions = [submission_view(s, r) for r in rows]
        number = {v.id: v.version for v in versions}
        decisions = [
            Event(
                aware(e.at),
                "approved" if e.action == Decision.APPROVE else "returned",
                email,
                number.get(e.submission_id, 0),
                "",
            )
            for e, email in s.execute(
                select(ReviewEventRow, UserRow.email)
                .join(UserRow, ReviewEventRow.reviewer_id == UserRow.id)
                .where(ReviewEventRow.plan_id == plan_id)
                .order_by(ReviewEventRow.at, ReviewEventRow.id)
            )
        ]
        comments = [
            comment_view(row, email)
            for row, email in s.execute(
                select(CommentRow, UserRow.email)
                .join(UserRow, CommentRow.author_id == UserRow.id)
                .where(CommentRow.submission_id.in_(number))
                .order_by(CommentRow.created_at, CommentRow.id)
            )
        ]
        view = plan_view(plan)
    timeline = [
        Event(v.uploaded_at, "version", v.uploaded_by, v.version, v.filename or "")
        for v in versions
    ]
    timeline += decisions
    timeline += [
        Event(c.created_at, "comment", c.author, number.get(c.submission_id, 0), c.body)
        for c in comments
    ]
    order = {"version": 0, "comment": 1, "approved": 2, "returned": 2}
    timeline.sort(key=lambda e: (e.at, order[e.kind]))
    return PlanHistory(view, versions, timeline, comments, next_moves(view.status))


def next_moves(status: PlanStatus | None) -> list[Move]:
    """Where a plan in `status` can go next (None: not started, which uploads as a draft)."""
    current = status or PlanStatus.DRAFT
    moves: list[Move] = []
    for final, how in (
        (False, "a draft upload"),
        (True, "a certified submit"),
    ):
        with contextlib.suppress(Conflict):
            moves.append(Move(after_upload(current, final), how))
    for decision, how in (
        (Decision.APPROVE, "the reviewer approves it"),
        (Decision.RETURN, "the reviewer returns it for changes"),
    ):
        with contextlib.suppress(Conflict):
            moves.append(Move(after_review(current, decision), how))
    return moves
