"""Review: approve or return the version under review, and comment on a section or a cell.

School plans are reviewed by their district coordinator, district plans by the PED
coordinator (`access`). Only the latest version of a plan under review (submitted or
resubmitted) can be decided (`workflow`). Returning a plan needs at least one comment, given
with the decision or before it, so the coordinator knows what to change.

A comment points at the whole plan, a section (`tiers`, or its step "4", or its sheet) or a
cell (`'4 Tiers of Support'!C7`), resolved against the spec of what was submitted: the
plan's, or for a progress update the progress spec (`'3 Strategy Reflection'!G6`). A cell
that holds a field is also recorded by the field's path, so it survives a change of layout.
A comment stays open, on every later version too, until a reviewer resolves it
(`resolve_comment`); the revision workbook carries the open ones (`open_comments`).
`notify_coordinator` mails the decision to whoever uploaded the version.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from aip_forms.config import ProgramConfig
from aip_forms.db.models import CommentRow, ReviewEventRow, SubmissionRow, UserRow
from aip_forms.domain import PlanKind
from aip_forms.errors import Conflict, InvalidInput, NotFound
from aip_forms.mail import Mail, Mailer
from aip_forms.services import audit
from aip_forms.services.access import Action
from aip_forms.services.diff import place_of
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
from aip_forms.spec import FormSpec

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
    resolved_at: dt.datetime | None = None
    resolved_by: str | None = None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

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
    sheet, ref = split_cell(cell)
    place = place_of(spec, sheet, ref)
    if place.path is None:
        raise InvalidInput(
            f"cell {ref} of {sheet!r} holds no answer of the plan; comment on the section "
            f"(step {place.section.step}) instead"
        )
    if chosen and chosen != place.section.key:
        raise InvalidInput(f"cell {cell} is in section {place.section.key}, not {chosen}")
    return _Target(place.section.key, sheet, ref, place.path)


def split_cell(cell: str) -> tuple[str, str]:
    """("Sheet name", "C5") from 'Sheet name'!$c$5 (quotes, dollars and case as typed)."""
    sheet, bang, ref = cell.rpartition("!")
    if not bang or not sheet.strip():
        raise InvalidInput(f"write a cell as 'Sheet name'!C5, not {cell[:60]!r}")
    sheet = sheet.strip()
    if len(sheet) > 1 and sheet[0] == sheet[-1] == "'":
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, ref.replace("$", "").strip().upper()


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
    view = comment_view(row, author.email)
    audit.Trail(session, author.id, at).plan(
        "comment.added",
        submission.plan_id,
        after={"comment": row.id, "submission": submission.id, "where": view.where, "body": text},
    )
    return view


def comment_view(row: CommentRow, author: str, resolver: str | None = None) -> CommentView:
    """A comment as services show it (its author and, once resolved, who resolved it)."""
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
        aware(row.resolved_at) if row.resolved_at else None,
        resolver,
    )


def add_comment(
    submission_id: int,
    body: str,
    *,
    author_email: str,
    uow: UowFactory,
    config: ProgramConfig,
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
            config.form_spec(PlanKind(plan.kind), plan.period),
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
    config: ProgramConfig,
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
            raise Conflict(
                f"submission {sub.id} (version {sub.version}) is not the version under review"
                + (f"; submission {latest.id} (version {latest.version}) is" if latest else "")
            )
        now = clock()
        note = None
        if comment:
            spec = config.form_spec(PlanKind(plan.kind), plan.period)
            note = _comment(
                s, sub, spec, author=reviewer, body=comment, cell=cell, section=section, at=now
            )
        elif cell or section:
            raise InvalidInput("--cell and --section point a --comment; give its text too")
        if decision is Decision.RETURN and note is None and not _has_comments(s, sub.id):
            raise Conflict("say what to change: returning a plan needs a comment")
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
        audit.Trail(s, reviewer.id, now).plan(
            f"plan.{'approved' if decision is Decision.APPROVE else 'returned'}",
            plan.id,
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
        return _comments(u.session, CommentRow.submission_id == submission_id)


def _comments(session: Session, *where: Any) -> list[CommentView]:
    resolver = aliased(UserRow)
    rows = session.execute(
        select(CommentRow, UserRow.email, resolver.email)
        .join(UserRow, CommentRow.author_id == UserRow.id)
        .outerjoin(resolver, CommentRow.resolved_by == resolver.id)
        .where(*where)
        .order_by(CommentRow.id)
    )
    return [comment_view(row, email, resolved_by) for row, email, resolved_by in rows]


def plan_comments(
    plan_id: int, *, uow: UowFactory, user_email: str | None = None, open_only: bool = False
) -> list[CommentView]:
    """The comments on every version of the plan, oldest first (only the open ones with
    `open_only`): what a reviewer still waits for, and what a revision workbook carries."""
    with uow() as u:
        authorize(u.session, user_email, Action.READ, require_plan(u.session, plan_id))
        versions = select(SubmissionRow.id).where(SubmissionRow.plan_id == plan_id)
        where = [CommentRow.submission_id.in_(versions)]
        if open_only:
            where.append(CommentRow.resolved_at.is_(None))
        return _comments(u.session, *where)


open_comments = functools.partial(plan_comments, open_only=True)


def resolve_comment(
    comment_id: int, *, reviewer_email: str, uow: UowFactory, clock: Clock = utc_now
) -> CommentView:
    """Mark a comment resolved (by a reviewer of its plan); resolving it again is refused,
    so two reviewers never both think they closed it."""
    if isinstance(comment_id, bool) or not isinstance(comment_id, int):
        raise InvalidInput(f"a comment id is a number, not {comment_id!r}")
    with uow() as u:
        s = u.session
        row = s.get(CommentRow, comment_id)
        if row is None:
            raise NotFound(f"no comment {comment_id}")
        sub = require_submission(s, row.submission_id)
        reviewer = authorize(s, reviewer_email, Action.REVIEW, require_plan(s, sub.plan_id))
        assert reviewer is not None
        if row.resolved_at is not None:
            raise Conflict(f"comment {comment_id} is resolved already")
        now = clock()
        row.resolved_at, row.resolved_by = now, reviewer.id
        author = s.get(UserRow, row.author_id)
        s.flush()
        view = comment_view(row, author.email if author else "?", reviewer.email)
        audit.Trail(s, reviewer.id, now).plan(
            "comment.resolved",
            sub.plan_id,
            before={"comment": row.id, "open": True},
            after={"comment": row.id, "open": False, "where": view.where},
        )
        u.commit()
    return view


# ---- telling the coordinator ---------------------------------------------------------------


def decision_mail(result: ReviewResult, *, reason: str | None, base_url: str) -> Mail:
    """The mail to the coordinator who uploaded the decided version: the plan, the
    decision, the reviewer's reason and a link to the plan's page."""
    ref = result.plan.ref
    decided = "approved" if result.decision is Decision.APPROVE else "returned for revision"
    link = f"{base_url.rstrip('/')}/review/plans/{result.plan.id}"
    lines = [
        f"Version {result.submission.version} of {ref} was {decided}.",
        "",
        f"Reason: {reason.strip()}" if reason and reason.strip() else "No reason was given.",
        "",
    ]
    if result.decision is Decision.RETURN:
        lines += [
            "Download the revision workbook from the plan's page: it holds your last answers "
            "and the reviewers' open comments as cell notes. Revise it and submit it again.",
            "",
        ]
    lines += [f"The plan: {link}", "", "Sign in to see it; the link works only for you."]
    subject = f"Your FY{ref.fiscal_year} {ref.kind} plan was {decided}"
    return Mail([result.submission.uploaded_by], subject, "\n".join(lines))


def notify_coordinator(
    result: ReviewResult, *, reason: str | None, mailer: Mailer, base_url: str
) -> None:
    """Mail the decision to the coordinator (the decision stands if the mail fails: the
    mailer's Unavailable is for the caller to show)."""
    mailer.send(decision_mail(result, reason=reason, base_url=base_url))
