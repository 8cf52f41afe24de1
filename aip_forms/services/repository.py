"""Queries the services share, and the read-only views they hand out.

Plans are serialized per plan: `lock_plan` bumps the plan's `lock_version` with an UPDATE,
which holds the row lock on PostgreSQL and the database write lock on SQLite until the
transaction ends. A submit holds it from choosing the version number until the record is
committed, and so does the clean-up of an orphan object, so the two never cross.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aip_forms.db.models import PlanRecordRow, RoleGrantRow, SubmissionRow, UserRow
from aip_forms.domain import PlanKind
from aip_forms.errors import Forbidden, NotFound
from aip_forms.services import audit
from aip_forms.services.access import Action, Grant, PlanRef, Role, refusal
from aip_forms.services.uow import Clock, UowFactory, aware
from aip_forms.services.workflow import PlanStatus
from aip_forms.storage import object_key


@dataclass(frozen=True)
class PlanView:
    id: int
    ref: PlanRef
    status: PlanStatus
    updated_at: dt.datetime


@dataclass(frozen=True)
class SubmissionView:
    id: int
    plan: PlanView
    version: int
    object_key: str
    sha256: str
    size: int
    filename: str | None
    uploaded_by: str
    uploaded_at: dt.datetime
    final: bool
    status: str


def normalize_email(email: str) -> str:
    return email.strip().lower()


def user_by_email(session: Session, email: str) -> UserRow | None:
    return session.scalar(select(UserRow).where(UserRow.email == normalize_email(email)))


def require_user(session: Session, email: str) -> UserRow:
    user = user_by_email(session, email)
    if user is None:
        raise NotFound(f"no user {normalize_email(email)!r} (add one with `aip users add`)")
    return user


def grants_of(session: Session, user_id: int) -> list[Grant]:
    rows = session.scalars(
        select(RoleGrantRow).where(RoleGrantRow.user_id == user_id).order_by(RoleGrantRow.id)
    )
    return [Grant(Role(r.role), r.lea_code, r.school_code) for r in rows]


def plan_ref(row: PlanRecordRow) -> PlanRef:
    return PlanRef(PlanKind(row.kind), row.fiscal_year, row.lea_code, row.school_code, row.period)


def plan_view(row: PlanRecordRow) -> PlanView:
    return PlanView(row.id, plan_ref(row), PlanStatus(row.status), aware(row.updated_at))


def storage_prefix(ref: PlanRef) -> str:
    """The plan's folder in object storage: every version's key starts with it."""
    key = object_key(ref.fiscal_year, ref.lea_code, ref.school_code, ref.storage_kind, 1)
    return key.rpartition("/")[0] + "/"


def find_plan(session: Session, ref: PlanRef) -> PlanRecordRow | None:
    return session.scalar(
        select(PlanRecordRow).where(PlanRecordRow.storage_prefix == storage_prefix(ref))
    )


def require_plan(session: Session, plan_id: int) -> PlanRecordRow:
    plan = session.get(PlanRecordRow, plan_id)
    if plan is None:
        raise NotFound(f"no plan {plan_id}")
    return plan


def ensure_plan(uow: UowFactory, ref: PlanRef, *, actor_id: int, clock: Clock) -> int:
    """The id of the plan `ref`, created (as a draft, in its own transaction) if new."""
    for _ in range(3):
        with uow() as u:
            existing = find_plan(u.session, ref)
            if existing is not None:
                return existing.id
            now = clock()
            row = PlanRecordRow(
                kind=ref.kind.value,
                fiscal_year=ref.fiscal_year,
                lea_code=ref.lea_code,
                school_code=ref.school_code,
                period=ref.period,
                storage_prefix=storage_prefix(ref),
                status=PlanStatus.DRAFT.value,
                lock_version=0,
                created_at=now,
                updated_at=now,
            )
            u.session.add(row)
            try:
                u.session.flush()
                audit.Trail(u.session, actor_id, now).plan(
                    "plan.created", row.id, after={"ref": str(ref), "status": row.status}
                )
                u.commit()
            except IntegrityError:
                continue  # created meanwhile by a concurrent submit: read it back
            return row.id
    raise NotFound(f"{ref} could not be created")  # pragma: no cover - three lost races


def lock_plan(session: Session, plan_id: int, clock: Clock) -> PlanRecordRow:
    """Take the plan's write lock for the rest of the transaction; the row, fresh."""
    session.execute(
        update(PlanRecordRow)
        .where(PlanRecordRow.id == plan_id)
        .values(lock_version=PlanRecordRow.lock_version + 1)
        .execution_options(synchronize_session=False)
    )
    row = session.get(PlanRecordRow, plan_id, populate_existing=True)
    if row is None:
        raise NotFound(f"no plan {plan_id}")
    return row


def latest_submission(session: Session, plan_id: int) -> SubmissionRow | None:
    return session.scalar(
        select(SubmissionRow)
        .where(SubmissionRow.plan_id == plan_id)
        .order_by(SubmissionRow.version.desc())
        .limit(1)
    )


def submission_by_key(session: Session, key: str) -> SubmissionRow | None:
    return session.scalar(select(SubmissionRow).where(SubmissionRow.object_key == key))


def require_submission(session: Session, submission_id: int) -> SubmissionRow:
    row = session.get(SubmissionRow, submission_id)
    if row is None:
        raise NotFound(f"no submission {submission_id} (see `aip submissions list`)")
    return row


def submission_view(session: Session, row: SubmissionRow) -> SubmissionView:
    plan = require_plan(session, row.plan_id)
    uploader = session.get(UserRow, row.uploaded_by)
    return SubmissionView(
        id=row.id,
        plan=plan_view(plan),
        version=row.version,
        object_key=row.object_key,
        sha256=row.sha256,
        size=row.size,
        filename=row.filename,
        uploaded_by=uploader.email if uploader else "?",
        uploaded_at=aware(row.uploaded_at),
        final=row.final,
        status=row.status,
    )


def authorize(
    session: Session, email: str | None, action: Action, plan: PlanRecordRow
) -> UserRow | None:
    """The user, if their roles allow `action` on `plan`; Forbidden otherwise.

    `email=None` is the operator at the command line, who reads everything (the database is
    theirs anyway); the portal always passes its signed-in user.
    """
    if email is None:
        return None
    user = require_user(session, email)
    reason = refusal(user.email, grants_of(session, user.id), action, plan_ref(plan))
    if reason:
        raise Forbidden(reason)
    return user
