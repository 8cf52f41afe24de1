"""Stored objects against the records: verify, and clear orphans.

An orphan is a submission-shaped object (`fyYYYY/lea-X/.../vNNNN.xlsx`) that no submission
records: what a submit leaves behind when its database write fails and the clean-up cannot
run. Other objects in the store are counted, not judged: the results of background jobs
(`jobs/<job id>/<file>`, `aip_forms.jobs`), which `job_results` also counts, and any other
rendered document.

Clearing an orphan takes the plan's lock first and re-checks that no record names the key,
so it never races a submit that has written its object and not yet committed its record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from aip_forms.db.models import PlanRecordRow, SubmissionRow
from aip_forms.errors import Unavailable
from aip_forms.services import audit
from aip_forms.services.repository import lock_plan, submission_by_key
from aip_forms.services.uow import Clock, UowFactory, utc_now
from aip_forms.storage import (
    ObjectCorrupt,
    ObjectNotFound,
    ObjectStore,
    StorageError,
    StorageUnavailable,
)
from aip_forms.storage.base import sha256_hex

SUBMISSION_KEY = re.compile(
    r"^fy\d{4}/lea-[A-Za-z0-9_-]+/(school-[A-Za-z0-9_-]+|district)/(district|school)/v\d{4}\.xlsx$"
)

JOB_RESULT_KEY = re.compile(r"^jobs/[0-9a-f]{32}/[^/]+$")

ProblemKind = Literal["missing", "corrupt", "orphan"]


@dataclass(frozen=True)
class ObjectProblem:
    key: str
    kind: ProblemKind
    detail: str = ""
    submission_id: int | None = None

    def __str__(self) -> str:
        owner = f" (submission {self.submission_id})" if self.submission_id else ""
        return f"{self.kind:8} {self.key}{owner}" + (f": {self.detail}" if self.detail else "")


@dataclass
class VerifyReport:
    records: int = 0
    ok: int = 0
    other_objects: int = 0  # not submissions: counted, not checked
    job_results: int = 0  # of those, background jobs' results
    problems: list[ObjectProblem] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems

    def of_kind(self, kind: ProblemKind) -> list[ObjectProblem]:
        return [p for p in self.problems if p.kind == kind]


@dataclass
class ReconcileReport:
    deleted: list[str] = field(default_factory=list)
    kept: list[ObjectProblem] = field(default_factory=list)  # orphans that could not be cleared


def verify(*, uow: UowFactory, store: ObjectStore) -> VerifyReport:
    """Re-read and re-hash every recorded object; list missing, corrupt and orphaned ones."""
    try:
        with uow() as u:
            recorded = {
                key: (sid, digest)
                for sid, key, digest in u.session.execute(
                    select(SubmissionRow.id, SubmissionRow.object_key, SubmissionRow.sha256)
                )
            }
    except SQLAlchemyError as e:
        raise Unavailable(f"database unavailable: {getattr(e, 'orig', None) or e}") from None
    report = VerifyReport(records=len(recorded))
    try:
        for key, (sid, digest) in sorted(recorded.items()):
            problem = _check(store, key, sid, digest)
            if problem:
                report.problems.append(problem)
            else:
                report.ok += 1
        for key in store.iter_keys():
            if key in recorded:
                continue
            if SUBMISSION_KEY.match(key):
                report.problems.append(ObjectProblem(key, "orphan", "no submission records it"))
            else:
                report.other_objects += 1
                report.job_results += bool(JOB_RESULT_KEY.match(key))
    except StorageUnavailable as e:
        raise Unavailable(str(e)) from None
    return report


def _check(store: ObjectStore, key: str, sid: int, digest: str) -> ObjectProblem | None:
    try:
        data = store.get(key)
    except ObjectNotFound:
        return ObjectProblem(key, "missing", "the record's object is not in the store", sid)
    except ObjectCorrupt as e:
        return ObjectProblem(key, "corrupt", str(e), sid)
    except StorageUnavailable:
        raise
    except StorageError as e:
        return ObjectProblem(key, "corrupt", f"unreadable: {e}", sid)
    actual = sha256_hex(data)
    if actual != digest:
        return ObjectProblem(key, "corrupt", f"recorded sha256 {digest}, read {actual}", sid)
    return None


def reconcile(*, uow: UowFactory, store: ObjectStore, clock: Clock = utc_now) -> ReconcileReport:
    """Delete every orphan (re-checked under its plan's lock)."""
    report = ReconcileReport()
    for problem in verify(uow=uow, store=store).of_kind("orphan"):
        if discard_orphan(problem.key, uow=uow, store=store, clock=clock):
            report.deleted.append(problem.key)
        else:
            report.kept.append(problem)
    return report


def discard_orphan(
    key: str,
    *,
    uow: UowFactory,
    store: ObjectStore,
    clock: Clock = utc_now,
    actor_id: int | None = None,
) -> bool:
    """Delete `key` if no submission records it; False when it is recorded or could not be
    deleted (the database or store failing: `aip storage reconcile` tries again later)."""
    prefix = key.rpartition("/")[0] + "/"
    deleted = False
    try:
        with uow() as u:
            s = u.session
            plan_id = s.scalar(
                select(PlanRecordRow.id).where(PlanRecordRow.storage_prefix == prefix)
            )
            if plan_id is not None:
                lock_plan(s, plan_id, clock)
            if submission_by_key(s, key) is not None:
                return False
            try:
                store.delete(key)
            except ObjectNotFound:
                return True
            deleted = True
            audit.Trail(s, actor_id, clock()).orphan_deleted(key)
            u.commit()
            return True
    except (SQLAlchemyError, StorageError):
        return deleted  # the audit line may be lost; the object is what matters
