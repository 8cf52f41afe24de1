"""Submitting a plan workbook, and reading submissions back.

`submit` checks who is submitting, validates the workbook, then stores the object and
records the version as one unit, under the plan's lock (`repository.lock_plan`):

1. the version number is the latest + 1, and the key comes from `storage.object_key`;
2. the object is written (write-once; an orphan left at that key by an earlier failed
   submit is adopted when identical, else deleted first: under the lock, no record names it);
3. the version, the plan's new status and the audit line are committed together.

If the database fails after the object was written, the object is deleted again (after
re-checking under the lock that no record names it); if even that fails, the object stays
an orphan for `aip storage verify` to report and `aip storage reconcile` to clear. So there
is never a record without its object, and no object outlives a failed submit for long.

Decisions (documented for the portal):
- Only uploads without errors are stored, drafts included: a draft may be incomplete only
  as far as the validator allows without `final` (certification is checked with `final`).
- The same content as the plan's latest version changes nothing (outcome "unchanged"),
  except that a draft sent again with `final` becomes the submitted version ("finalized"),
  and that a returned version sent again with `final` is refused: it needs revising.
- PED users do not submit plans; coordinators submit their own LEA's or school's plan.
- Concurrent submits of one plan queue on the lock and get consecutive versions; a lost
  race on the database is retried, then refused with a message to try again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from aip_forms.db.models import PlanRecordRow, SubmissionRow
from aip_forms.domain import PlanKind
from aip_forms.errors import AipError, Conflict, Corrupt, Unavailable
from aip_forms.services import audit
from aip_forms.services.access import Action, PlanRef, can, may_submit_any, refusal
from aip_forms.services.integrity import discard_orphan
from aip_forms.services.repository import (
    SubmissionView,
    authorize,
    ensure_plan,
    grants_of,
    latest_submission,
    lock_plan,
    plan_ref,
    require_plan,
    require_submission,
    require_user,
    submission_by_key,
    submission_view,
    user_by_email,
)
from aip_forms.services.uow import Clock, UowFactory, utc_now
from aip_forms.services.workflow import PlanStatus, after_upload, version_status
from aip_forms.storage import (
    ObjectCorrupt,
    ObjectExists,
    ObjectNotFound,
    ObjectStore,
    StorageError,
    StoredObject,
    object_key,
)
from aip_forms.storage.base import sha256_hex
from validators.validate import Expectation, ValidationReport


class Validator(Protocol):
    """Validates an upload (the composition root binds the signing key and program)."""

    def __call__(
        self, data: bytes, *, filename: str | None, expect: Expectation, final: bool
    ) -> ValidationReport: ...


Outcome = Literal["stored", "finalized", "unchanged", "invalid", "unreadable", "refused", "failed"]
EXIT_CODES: dict[Outcome, int] = {
    "stored": 0,
    "finalized": 0,
    "unchanged": 0,
    "invalid": 1,
    "unreadable": 2,
    "refused": 2,
    "failed": 3,
}


@dataclass(frozen=True)
class SubmitResult:
    outcome: Outcome
    message: str
    report: ValidationReport | None = None
    submission: SubmissionView | None = None

    @property
    def ok(self) -> bool:
        return self.outcome in ("stored", "finalized", "unchanged")

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.outcome]


class _Contention(Exception):
    """Another transaction won a race on this plan; try the unit again."""


def submit(
    data: bytes,
    *,
    user_email: str,
    uow: UowFactory,
    store: ObjectStore,
    validate: Validator,
    final: bool = False,
    filename: str | None = None,
    plan: PlanRef | None = None,
    clock: Clock = utc_now,
    attempts: int = 3,
) -> SubmitResult:
    """Validate, store and record one upload. `plan`, when given, is what the upload must be
    (the portal's upload page); else the workbook's own identity names the plan."""
    try:
        with uow() as u:
            user = user_by_email(u.session, user_email)
            if user is None:
                return SubmitResult(
                    "refused", f"no user {user_email!r} (add one with `aip users add`)"
                )
            user_id, email, grants = user.id, user.email, grants_of(u.session, user.id)
    except SQLAlchemyError as e:
        return SubmitResult("failed", _db_message(e))
    if not may_submit_any(grants):
        return SubmitResult(
            "refused",
            f"{email} holds no district or school coordinator role; only coordinators submit plans",
        )
    if plan is not None and (reason := refusal(email, grants, Action.SUBMIT, plan)):
        return SubmitResult("refused", reason)

    expect = (
        Expectation(plan.kind, plan.fiscal_year, plan.lea_code, plan.school_code or "", plan.period)
        if plan
        else Expectation()
    )
    report = validate(data, filename=filename, expect=expect, final=final)
    if report.outcome != "valid" or report.identity is None:
        return SubmitResult(
            "unreadable" if report.outcome == "unreadable" else "invalid",
            f"{_count(len(report.errors), 'error')} in {filename or 'the workbook'}; "
            "nothing was stored",
            report,
        )
    identity = report.identity
    ref = PlanRef(
        PlanKind(identity.kind),
        identity.fiscal_year,
        identity.lea_code,
        identity.school_code,
        identity.period,
    )
    if reason := refusal(email, grants, Action.SUBMIT, ref):
        return SubmitResult("refused", f"{reason}; nothing was stored", report)

    unit = _Unit(data, sha256_hex(data), filename, final, report, user_id, ref, uow, store, clock)
    try:
        unit.plan_id = ensure_plan(uow, ref, actor_id=user_id, clock=clock)
    except AipError as e:
        return SubmitResult("refused", f"{e}; nothing was stored", report)
    except SQLAlchemyError as e:
        return SubmitResult("failed", _db_message(e), report)
    for _ in range(attempts):
        try:
            return unit.run()
        except _Contention:
            continue
    return SubmitResult(
        "refused",
        f"{ref} is being changed by another submission right now; nothing was stored. Try again.",
        report,
    )


@dataclass
class _Unit:
    """One attempt to store and record an upload (see the module docstring)."""

    data: bytes
    sha256: str
    filename: str | None
    final: bool
    report: ValidationReport
    user_id: int
    ref: PlanRef
    uow: UowFactory
    store: ObjectStore
    clock: Clock
    plan_id: int = 0

    def run(self) -> SubmitResult:
        attempted: str | None = None  # a key this attempt may have written, to clear on failure
        try:
            with self.uow() as u:
                plan = lock_plan(u.session, self.plan_id, self.clock)
                latest = latest_submission(u.session, plan.id)
                if latest is not None and latest.sha256 == self.sha256:
                    if self.final and plan.status == PlanStatus.RETURNED:
                        raise Conflict(
                            f"the workbook is version {latest.version} as it was returned; "
                            "revise it as the reviewer's comments ask before resubmitting"
                        )
                    if latest.final or not self.final:
                        view = submission_view(u.session, latest)
                        return SubmitResult(
                            "unchanged",
                            f"identical to version {latest.version} of {self.ref}; "
                            "nothing new was stored",
                            self.report,
                            view,
                        )
                    return self._finalize(u.session, plan, latest, u.commit)
                status = after_upload(PlanStatus(plan.status), self.final)
                version = (latest.version if latest else 0) + 1
                key = object_key(
                    self.ref.fiscal_year,
                    self.ref.lea_code,
                    self.ref.school_code,
                    self.ref.storage_kind,
                    version,
                )
                attempted = key  # a put that fails may still have written (a lost reply)
                self._put(u.session, key, plan.id, version)
                view = self._record(u.session, plan, key, version, status)
                u.commit()
                attempted = None
                message = f"stored version {version} of {self.ref} ({plan.status})"
                return SubmitResult("stored", message, self.report, view)
        except Conflict as e:
            return SubmitResult("refused", f"{self.ref}: {e}; nothing was stored", self.report)
        except StorageError as e:
            return self._failed(attempted, f"object storage failed: {e}")
        except SQLAlchemyError as e:
            if _is_contention(e) and self._discard(attempted):
                raise _Contention from e
            return self._failed(attempted, _db_message(e))

    def _put(self, session: Session, key: str, plan_id: int, version: int) -> StoredObject:
        metadata = {"plan-id": str(plan_id), "version": str(version)}
        try:
            return self.store.put(key, self.data, sha256=self.sha256, metadata=metadata)
        except ObjectExists:
            # Under the lock, with no record at `key`: an orphan of a failed submit.
            if submission_by_key(session, key) is not None:
                raise
            self.store.delete(key)
            audit.Trail(session, self.user_id, self.clock()).orphan_deleted(key)
            return self.store.put(key, self.data, sha256=self.sha256, metadata=metadata)

    def _record(
        self, session: Session, plan: PlanRecordRow, key: str, version: int, status: PlanStatus
    ) -> SubmissionView:
        now = self.clock()
        row = SubmissionRow(
            plan_id=plan.id,
            version=version,
            object_key=key,
            sha256=self.sha256,
            size=len(self.data),
            filename=(self.filename or "")[-255:] or None,
            uploaded_by=self.user_id,
            uploaded_at=now,
            final=self.final,
            status=version_status(self.final).value,
            report=self.report.to_dict(),
        )
        session.add(row)
        before = {"status": plan.status}
        plan.status = status.value
        plan.updated_at = now
        session.flush()
        audit.Trail(session, self.user_id, now).plan(
            "submission.stored",
            plan.id,
            before=before,
            after={
                "status": plan.status,
                "submission": row.id,
                "version": version,
                "final": self.final,
                "sha256": self.sha256,
                "key": key,
            },
        )
        return submission_view(session, row)

    def _finalize(
        self,
        session: Session,
        plan: PlanRecordRow,
        latest: SubmissionRow,
        commit: Callable[[], None],
    ) -> SubmitResult:
        """The latest draft, sent again with `final`: it becomes the submitted version."""
        status = after_upload(PlanStatus(plan.status), final=True)
        now = self.clock()
        before = {"status": plan.status, "version_status": latest.status, "final": False}
        latest.final = True
        latest.status = version_status(True).value
        latest.report = self.report.to_dict()
        plan.status = status.value
        plan.updated_at = now
        audit.Trail(session, self.user_id, now).plan(
            "submission.finalized",
            plan.id,
            before=before,
            after={
                "status": plan.status,
                "version_status": latest.status,
                "final": True,
                "submission": latest.id,
            },
        )
        session.flush()
        view = submission_view(session, latest)
        commit()
        return SubmitResult(
            "finalized",
            f"version {latest.version} of {self.ref} is now submitted ({plan.status})",
            self.report,
            view,
        )

    def _discard(self, written: str | None) -> bool:
        if written is None:
            return True
        return discard_orphan(
            written, uow=self.uow, store=self.store, clock=self.clock, actor_id=self.user_id
        )

    def _failed(self, written: str | None, why: str) -> SubmitResult:
        if self._discard(written):
            tail = "nothing was stored or recorded. Try again."
        else:
            tail = (
                f"nothing was recorded; a stored copy may remain at {written}, which "
                "`aip storage verify` reports and `aip storage reconcile` clears. Try again."
            )
        return SubmitResult("failed", f"{why}; {tail}", self.report)


def _is_contention(e: SQLAlchemyError) -> bool:
    if isinstance(e, IntegrityError):
        return True
    if not isinstance(e, OperationalError):
        return False
    code = getattr(e.orig, "sqlstate", None)
    return code in ("40001", "40P01") or "database is locked" in str(e.orig)


def _db_message(e: SQLAlchemyError) -> str:
    detail = str(getattr(e, "orig", None) or e).strip().splitlines()
    return f"database error: {detail[0] if detail else type(e).__name__}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# ---- reading ---------------------------------------------------------------------------


def list_submissions(
    *,
    uow: UowFactory,
    user_email: str | None = None,
    fiscal_year: int | None = None,
    lea_code: str | None = None,
    status: PlanStatus | str | None = None,
) -> list[SubmissionView]:
    """Every version the user may read (all for the operator), newest plan changes first;
    `status` is the plan's status."""
    with uow() as u:
        query = select(SubmissionRow, PlanRecordRow).join(
            PlanRecordRow, SubmissionRow.plan_id == PlanRecordRow.id
        )
        if fiscal_year is not None:
            query = query.where(PlanRecordRow.fiscal_year == fiscal_year)
        if lea_code is not None:
            query = query.where(PlanRecordRow.lea_code == lea_code)
        if status is not None:
            query = query.where(PlanRecordRow.status == PlanStatus(status).value)
        query = query.order_by(PlanRecordRow.id, SubmissionRow.version)
        grants = None
        if user_email is not None:
            grants = grants_of(u.session, require_user(u.session, user_email).id)
        return [
            submission_view(u.session, row)
            for row, plan in u.session.execute(query)
            if grants is None or can(grants, Action.READ, plan_ref(plan))
        ]


def get_submission(
    submission_id: int, *, uow: UowFactory, store: ObjectStore, user_email: str | None = None
) -> tuple[SubmissionView, bytes]:
    """The version's record and its bytes, re-hashed against the recorded SHA-256."""
    with uow() as u:
        row = require_submission(u.session, submission_id)
        authorize(u.session, user_email, Action.READ, require_plan(u.session, row.plan_id))
        view = submission_view(u.session, row)
    try:
        data = store.get(view.object_key)
    except ObjectNotFound:
        raise Corrupt(
            f"submission {submission_id}: its object {view.object_key} is missing from storage "
            "(run `aip storage verify`)"
        ) from None
    except ObjectCorrupt as e:
        raise Corrupt(f"submission {submission_id} is corrupt in storage: {e}") from None
    except StorageError as e:
        raise Unavailable(f"object storage failed: {e}") from None
    if sha256_hex(data) != view.sha256:
        raise Corrupt(
            f"submission {submission_id}: stored bytes do not match the recorded sha256 "
            f"{view.sha256}"
        )
    return view, data


def stored_report(
    submission_id: int, *, uow: UowFactory, user_email: str | None = None
) -> tuple[SubmissionView, dict[str, Any]]:
    """The version's record and the validation report stored with it (plan JSON inside)."""
    with uow() as u:
        row = require_submission(u.session, submission_id)
        authorize(u.session, user_email, Action.READ, require_plan(u.session, row.plan_id))
        return submission_view(u.session, row), dict(row.report)
