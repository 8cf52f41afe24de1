"""Asking for a background job, and reading it back: what the portal and the API call.

- `request_packet`, `request_statewide`: check the request and the user's right to it,
  record a `queued` job with a random 128-bit id, then hand the id to the queue; when the
  queue (Redis) is down the job waits in the database, marked `dispatch_pending`, and
  `dispatch_waiting` (`aip jobs dispatch`, every minute) hands it over once it is back;
- `job_status`: the job as its page shows it (status, progress, result or error);
- `job_result`: the result's file name and bytes, read through the store (which re-hashes
  them) and checked against the SHA-256 the job recorded.

Who may see a job, checked on every call: a PED user (coordinator or reviewer), or the
user who asked for it while their roles still reach what it compiles. Anyone else gets
the same NotFound as for an id that does not exist, so ids cannot be probed.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from aip_forms.db.models import JobRow, LeaRow, UserRow
from aip_forms.domain import PlanKind
from aip_forms.errors import Conflict, Corrupt, Forbidden, InvalidInput, NotFound, Unavailable
from aip_forms.services import audit
from aip_forms.services.access import Action, Grant, PlanRef, Role, refusal
from aip_forms.services.repository import grants_of, require_user
from aip_forms.services.uow import Clock, UowFactory, aware, utc_now
from aip_forms.storage import ObjectStore
from aip_forms.storage.base import sha256_hex

KINDS = ("packet", "statewide")
STATUSES = ("queued", "running", "done", "failed")
PED_ROLES = frozenset({Role.PED_COORDINATOR, Role.PED_REVIEWER})
WAITING_FOR_QUEUE = "Waiting for the job queue to come back"

log = logging.getLogger(__name__)


class JobQueue(Protocol):
    """Where a recorded job's id goes to be run (`run.run_job`), now or by a worker."""

    def enqueue(self, job_id: str) -> None: ...


@dataclass(frozen=True)
class JobView:
    id: str
    kind: str  # packet, statewide
    fiscal_year: int
    lea_code: str | None
    sections: tuple[str, ...] | None
    fmt: str  # pdf, xlsx
    requested_by: str  # email
    status: str  # queued, running, done, failed
    progress: int  # 0-100
    progress_text: str
    error: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    attempts: int
    size: int | None = None
    sha256: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def title(self) -> str:
        """What a page or a mail calls the document."""
        if self.kind == "statewide":
            return f"the FY{self.fiscal_year} statewide summary"
        return f"the FY{self.fiscal_year} district packet of LEA {self.lea_code}"

    @property
    def filename(self) -> str:
        return result_filename(self.kind, self.fiscal_year, self.lea_code)


def result_filename(kind: str, fiscal_year: int, lea_code: str | None) -> str:
    if kind == "statewide":
        return f"statewide-summary-FY{fiscal_year}.xlsx"
    return f"district-packet-FY{fiscal_year}-lea-{lea_code}.pdf"


def result_key(job_id: str, filename: str) -> str:
    """Where a job's result is stored: one object per job, named by the job's id."""
    return f"jobs/{job_id}/{filename}"


def new_job_id() -> str:
    """128 random bits, as 32 hex digits."""
    return secrets.token_hex(16)


def job_view(row: JobRow, requester: str) -> JobView:
    p: dict[str, Any] = row.parameters or {}
    sections = p.get("sections")
    return JobView(
        id=row.id,
        kind=row.kind,
        fiscal_year=int(p["fiscal_year"]),
        lea_code=p.get("lea_code"),
        sections=tuple(sections) if sections else None,
        fmt=str(p.get("format", "")),
        requested_by=requester,
        status=row.status,
        progress=row.progress,
        progress_text=row.progress_text,
        error=row.error,
        created_at=aware(row.created_at),
        started_at=aware(row.started_at) if row.started_at else None,
        finished_at=aware(row.finished_at) if row.finished_at else None,
        attempts=row.attempts,
        size=row.result_size,
        sha256=row.result_sha256,
    )


# ---- asking -------------------------------------------------------------------------------


def request_packet(
    fiscal_year: int,
    lea_code: str,
    *,
    user_email: str,
    uow: UowFactory,
    queue: JobQueue,
    clock: Clock = utc_now,
    sections: str | Iterable[str] | None = None,
    fmt: str = "pdf",
) -> JobView:
    """A job making the LEA's district packet (a PDF); the user must read the LEA's plans."""
    if fmt != "pdf":
        raise InvalidInput(f"a district packet is a PDF, not {fmt!r}")
    keys = _checked_sections(sections)
    params = {
        "fiscal_year": _checked_year(fiscal_year),
        "lea_code": str(lea_code).strip(),
        "sections": list(keys) if keys else None,
        "format": fmt,
    }
    return _request("packet", params, user_email=user_email, uow=uow, queue=queue, clock=clock)


def request_statewide(
    fiscal_year: int,
    *,
    user_email: str,
    uow: UowFactory,
    queue: JobQueue,
    clock: Clock = utc_now,
    fmt: str = "xlsx",
) -> JobView:
    """A job making the statewide summary workbook; for PED users only."""
    if fmt != "xlsx":
        raise InvalidInput(f"the statewide summary is a workbook (xlsx), not {fmt!r}")
    params = {"fiscal_year": _checked_year(fiscal_year), "lea_code": None, "format": fmt}
    return _request("statewide", params, user_email=user_email, uow=uow, queue=queue, clock=clock)


def _checked_year(fiscal_year: int) -> int:
    if isinstance(fiscal_year, bool) or not isinstance(fiscal_year, int):
        raise InvalidInput(f"a fiscal year is a number such as 2027, not {fiscal_year!r}")
    if not 2000 <= fiscal_year <= 2999:
        raise InvalidInput(f"fiscal year out of range: {fiscal_year}")
    return fiscal_year


def _checked_sections(sections: str | Iterable[str] | None) -> tuple[str, ...] | None:
    from aip_forms.services.documents import check_sections  # renders: imported when asked
    from exports.layout import parse_keys

    keys = parse_keys(sections)
    return check_sections(",".join(keys)) if keys else None


def _request(
    kind: str,
    params: dict[str, Any],
    *,
    user_email: str,
    uow: UowFactory,
    queue: JobQueue,
    clock: Clock,
) -> JobView:
    now = clock()
    with uow() as u:
        s = u.session
        user = _active_user(s, user_email)
        lea = params["lea_code"]
        if lea is not None and s.get(LeaRow, lea) is None:
            raise NotFound(f"Unknown LEA code {lea!r}: load the reference data with aip data load")
        if reason := _refusal(user.email, grants_of(s, user.id), kind, params):
            raise Forbidden(reason)
        row = JobRow(
            id=new_job_id(),
            kind=kind,
            parameters=params,
            requested_by=user.id,
            status="queued",
            progress=0,
            progress_text="Waiting for a worker",
            error="",
            created_at=now,
            attempts=0,
        )
        s.add(row)
        audit.Trail(s, user.id, now).job("job.requested", row.id, kind=kind, **params)
        u.commit()
        view = job_view(row, user.email)
    try:
        queue.enqueue(view.id)
    except Unavailable as error:
        # the job waits in the database; `aip jobs dispatch` hands it over once Redis is back
        log.warning("job %s waits for the queue: %s", view.id, error)
        with uow() as u:
            u.session.execute(
                update(JobRow)
                .where(JobRow.id == view.id, JobRow.status == "queued")
                .values(dispatch_pending=True, progress_text=WAITING_FOR_QUEUE)
            )
            u.commit()
        return replace(view, progress_text=WAITING_FOR_QUEUE)
    return view


def dispatch_waiting(*, uow: UowFactory, queue: JobQueue) -> tuple[int, int]:
    """Hand the jobs asked for while the queue was down to it, oldest first; (handed over,
    still waiting). Stops at the first the queue does not take (it is still down)."""
    with uow() as u:
        waiting = list(
            u.session.scalars(
                select(JobRow.id)
                .where(JobRow.dispatch_pending.is_(True), JobRow.status == "queued")
                .order_by(JobRow.created_at)
            )
        )
    handed = 0
    for job_id in waiting:
        try:
            queue.enqueue(job_id)
        except Unavailable as error:
            log.warning("the job queue is still unavailable: %s", error)
            break
        with uow() as u:
            u.session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status == "queued")
                .values(dispatch_pending=False, progress_text="Waiting for a worker")
            )
            u.commit()
        handed += 1
    return handed, len(waiting) - handed


def _refusal(email: str, grants: list[Grant], kind: str, params: dict[str, Any]) -> str | None:
    """Why the user may not have this job's document; None when they may."""
    if kind == "statewide":
        if any(g.role in PED_ROLES for g in grants):
            return None
        roles = "; ".join(str(g) for g in grants) or "no roles"
        return (
            f"{email} may not compile the statewide summary: it is for the program's Absence "
            f"Coordinator and reviewers (roles: {roles})"
        )
    # a packet holds every plan of the LEA: whoever reads its district plan reads them all
    ref = PlanRef(PlanKind.DISTRICT, params["fiscal_year"], params["lea_code"])
    return refusal(email, grants, Action.READ, ref)


def _active_user(s: Session, email: str) -> UserRow:
    user = require_user(s, email)
    if not user.active:
        raise Forbidden(f"{user.email} is deactivated")
    return user


# ---- reading back -------------------------------------------------------------------------


def job_status(job_id: str, *, user_email: str, uow: UowFactory) -> JobView:
    """The job, if the user may see it; NotFound otherwise (as for an unknown id)."""
    with uow() as u:
        return _visible(u.session, job_id, user_email)


def job_result(
    job_id: str, *, user_email: str, uow: UowFactory, store: ObjectStore
) -> tuple[str, bytes]:
    """The finished job's file name and bytes; Conflict while it is not done."""
    with uow() as u:
        view = _visible(u.session, job_id, user_email)
        key = u.session.scalar(select(JobRow.result_key).where(JobRow.id == view.id))
    if view.status != "done" or not key or not view.sha256:
        raise Conflict(f"{view.title} is not ready: the job is {view.status}")
    data = store.get(key)  # the store re-hashes against what it recorded
    if sha256_hex(data) != view.sha256:
        raise Corrupt(f"the stored result of job {view.id} does not match its recorded SHA-256")
    return view.filename, data


def _visible(s: Session, job_id: str, user_email: str) -> JobView:
    unknown = NotFound(f"no job {str(job_id)[:40]!r}")
    if not isinstance(job_id, str) or len(job_id) != 32:
        raise unknown
    user = _active_user(s, user_email)
    found = s.execute(
        select(JobRow, UserRow.email)
        .join(UserRow, JobRow.requested_by == UserRow.id)
        .where(JobRow.id == job_id)
    ).first()
    if found is None:
        raise unknown
    row, requester = found
    grants = grants_of(s, user.id)
    if not any(g.role in PED_ROLES for g in grants) and (
        row.requested_by != user.id or _refusal(user.email, grants, row.kind, row.parameters)
    ):
        raise unknown
    return job_view(row, requester)
