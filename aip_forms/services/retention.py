"""Retention: plan records past their keeping period, listed, and removed only on purpose.

PED keeps plan records five years (`ProgramConfig.retention_years`). A plan's years are
counted from the end of its fiscal year (June 30): an FY2021 plan is kept until
2026-06-30 and listed from the day after. Removing a plan removes its progress updates,
every submitted version, the reviews and comments on them, and their stored objects.

`purge` writes one audit entry per plan (what was removed) in the same transaction as the
removal; the audit log itself is never purged. The records go first, the objects after: an
object that cannot be deleted (S3 Object Lock still retaining it, storage failing) is kept
and reported, and `aip storage verify` lists it as an orphan until it can be cleared.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from aip_forms.db.models import CommentRow, PlanRecordRow, ReviewEventRow, SubmissionRow
from aip_forms.errors import InvalidInput
from aip_forms.services import audit
from aip_forms.services.uow import Clock, UowFactory, utc_now
from aip_forms.storage import ObjectNotFound, ObjectStore, StorageError


@dataclass(frozen=True)
class ExpiredPlan:
    plan_id: int
    fiscal_year: int
    kind: str
    lea_code: str
    school_code: str | None
    period: str | None
    status: str
    versions: int
    object_keys: tuple[str, ...]

    def __str__(self) -> str:
        place = f"school {self.school_code}" if self.school_code else f"LEA {self.lea_code}"
        what = f"progress {self.period}" if self.period else f"{self.kind} plan"
        return (
            f"plan {self.plan_id}: FY{self.fiscal_year} {what} of {place}, {self.status}, "
            f"{self.versions} version(s)"
        )


@dataclass
class PurgeReport:
    purged: list[ExpiredPlan] = field(default_factory=list)
    objects_deleted: int = 0
    objects_kept: list[str] = field(default_factory=list)  # could not be deleted


def last_fiscal_year_past(years: int, today: dt.date) -> int:
    """The newest fiscal year whose records are past `years` years of keeping on `today`."""
    if years < 1:
        raise InvalidInput(f"--older-than-years must be 1 or more, not {years}")
    # FY N ends on June 30 of N; kept through June 30 of N + years.
    return today.year - years - (1 if (today.month, today.day) <= (6, 30) else 0)


def expired_plans(uow: UowFactory, *, years: int, today: dt.date) -> list[ExpiredPlan]:
    """Plans (and progress updates) whose fiscal year ended more than `years` years ago."""
    newest = last_fiscal_year_past(years, today)
    with uow() as u:
        return _expired(u.session, newest)


def _expired(session: Session, newest: int) -> list[ExpiredPlan]:
    plans = session.scalars(
        select(PlanRecordRow)
        .where(PlanRecordRow.fiscal_year <= newest)
        .order_by(PlanRecordRow.fiscal_year, PlanRecordRow.id)
    ).all()
    keys: dict[int, list[str]] = {}
    for plan_id, key in session.execute(
        select(SubmissionRow.plan_id, SubmissionRow.object_key)
        .where(SubmissionRow.plan_id.in_([p.id for p in plans]))
        .order_by(SubmissionRow.version)
    ):
        keys.setdefault(plan_id, []).append(key)
    return [
        ExpiredPlan(
            p.id,
            p.fiscal_year,
            p.kind,
            p.lea_code,
            p.school_code,
            p.period,
            p.status,
            len(keys.get(p.id, [])),
            tuple(keys.get(p.id, [])),
        )
        for p in plans
    ]


def purge(
    *,
    uow: UowFactory,
    store: ObjectStore,
    years: int,
    today: dt.date,
    clock: Clock = utc_now,
    actor_id: int | None = None,
) -> PurgeReport:
    """Remove every plan past `years` years, with an audit entry each; then their objects."""
    report = PurgeReport()
    newest = last_fiscal_year_past(years, today)
    with uow() as u:
        s = u.session
        expired = _expired(s, newest)
        if not expired:
            return report
        ids = [p.plan_id for p in expired]
        submissions = select(SubmissionRow.id).where(SubmissionRow.plan_id.in_(ids))
        s.execute(delete(CommentRow).where(CommentRow.submission_id.in_(submissions)))
        s.execute(delete(ReviewEventRow).where(ReviewEventRow.plan_id.in_(ids)))
        s.execute(delete(SubmissionRow).where(SubmissionRow.plan_id.in_(ids)))
        s.execute(delete(PlanRecordRow).where(PlanRecordRow.id.in_(ids)))
        trail = audit.Trail(s, actor_id, clock())
        for plan in expired:
            trail.record_purged(
                plan.plan_id,
                fiscal_year=plan.fiscal_year,
                kind=plan.kind,
                lea_code=plan.lea_code,
                school_code=plan.school_code,
                period=plan.period,
                status=plan.status,
                versions=plan.versions,
                objects=list(plan.object_keys),
                retention_years=years,
            )
        u.commit()
    report.purged = expired
    for plan in expired:
        for key in plan.object_keys:
            try:
                store.delete(key)
                report.objects_deleted += 1
            except ObjectNotFound:
                pass
            except StorageError:
                report.objects_kept.append(key)
    return report
