"""Running a job: `run_job(job_id, app=app)`, called by a worker (Celery) or the inline queue.

The work is what `aip compile` does, through the same services: `documents.compile_lea`
or `compile_statewide` over `stored_plans.stored_source`, as the user who asked (their
right to the plans is checked again). Progress goes into the job's record as it goes.

Safe to run again, in any state, as a redelivered message does:
- a job that is done or failed is left as it is (its requester is mailed if that was not
  done yet); a claim is one conditional UPDATE, so two runs never both start it from queued;
- the result has one key, derived from the job id (`jobs/<id>/<file>`), in a write-once
  store: a run that finds it there already (an earlier attempt stored it and died before
  recording it) adopts it without rendering again; a run that loses the race to store it
  adopts the winner's. So a job never has two results;
- the document is made in a temporary folder and stored with one `store.put`, so a job
  killed mid-way leaves no half file in the store;
- a job that has killed its worker MAX_ATTEMPTS times is failed rather than tried forever.

Every failure ends the job `failed` with the error's one-line message, and the requester
is mailed a link to the job's page (`{base_url}/jobs/<id>`) when it ends either way: the
mail is queued in the mail outbox in the same transaction that ends the job, so a worker
stopped right after never loses it, and a mail server that is down only delays it. Only
a database that cannot record the failure makes `run_job` raise (Unavailable): the queue
tries the message again later.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, func, select, update

from aip_forms.db.models import JobRow, UserRow
from aip_forms.errors import INTERNAL, Corrupt, NotFound, one_line
from aip_forms.jobs.service import JobView, job_view, result_key
from aip_forms.mail import Mail
from aip_forms.services import audit
from aip_forms.services.plan_sources import Item, PlanSource
from aip_forms.storage import ObjectExists, StoredObject
from aip_forms.storage.base import sha256_hex

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from aip_forms.bootstrap import App
    from aip_forms.issued_data import PlanData
    from aip_forms.services.uow import Clock, UowFactory
    from aip_forms.site import Site

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
Progress = Callable[[int, str], None]


def run_job(job_id: str, *, app: App) -> JobView:
    """Do the job (or nothing, if it is finished) and return it as it ended."""
    job = _claim(job_id, app.uow, app.clock)
    if job is not None and job.attempts > MAX_ATTEMPTS:
        _fail(job, f"the job stopped its worker {MAX_ATTEMPTS} times; ask for it again", app)
    elif job is not None:
        try:
            stored = _result(job, app)
        except Exception as error:
            outcome, message = one_line(error)
            if outcome is INTERNAL:
                log.exception("job %s failed", job_id)
            _fail(job, message, app)
        else:
            _done(job, stored, app)
    _notify(job_id, app)
    return _view(job_id, app.uow)


def _view(job_id: str, uow: UowFactory) -> JobView:
    with uow() as u:
        found = u.session.execute(
            select(JobRow, UserRow.email)
            .join(UserRow, JobRow.requested_by == UserRow.id)
            .where(JobRow.id == job_id)
        ).first()
        if found is None:
            raise NotFound(f"no job {job_id[:40]!r}")
        return job_view(*found)


def _changed(
    uow: UowFactory, job_id: str, states: Sequence[str], *where: Any, **values: Any
) -> bool:
    """UPDATE the job if it is in one of `states` (and `where`); True when it was: one
    atomic step on both databases, so two runs never both take the same step."""
    with uow() as u:
        result = u.session.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status.in_(states), *where)
            .values(**values)
        )
        u.commit()
        return cast("CursorResult[Any]", result).rowcount == 1


def _claim(job_id: str, uow: UowFactory, clock: Clock) -> JobView | None:
    """The job, now running (one more attempt); None when it is finished already."""
    now = clock()
    claimed = _changed(
        uow,
        job_id,
        ("queued", "running"),
        status="running",
        attempts=JobRow.attempts + 1,
        started_at=func.coalesce(JobRow.started_at, now),
        progress_text="Started",
    )
    view = _view(job_id, uow)
    return view if claimed else None


def _progress(job: JobView, app: App) -> Progress:
    def report(percent: int, text: str) -> None:
        _changed(app.uow, job.id, ("running",), progress=percent, progress_text=text[:200])

    return report


def _result(job: JobView, app: App) -> StoredObject:
    key = result_key(job.id, job.filename)
    progress = _progress(job, app)
    existing = app.store.head(key)
    if existing is not None and existing.sha256:
        progress(95, "Found the document an earlier attempt stored")
        return existing
    with tempfile.TemporaryDirectory(prefix="aip-job-") as tmp:
        out = Path(tmp) / job.filename
        _make(job, app, out, progress)
        data = out.read_bytes()
    progress(95, "Storing the document")
    try:
        return app.store.put(key, data, sha256=sha256_hex(data), metadata={"job": job.id})
    except ObjectExists:  # another run of this job stored it first: keep that one
        winner = app.store.head(key)
        if winner is None or not winner.sha256:
            raise Corrupt(f"the stored result of job {job.id} has no recorded SHA-256") from None
        return winner


def _make(job: JobView, app: App, out: Path, progress: Progress) -> None:
    from aip_forms.services import documents
    from aip_forms.services.stored_plans import stored_source

    progress(5, "Reading the plans")
    source = stored_source(
        uow=app.uow,
        store=app.store,
        key=app.settings.secret_key,
        config=app.config,
        fiscal_year=job.fiscal_year,
        user_email=job.requested_by,
    )
    if job.kind == "statewide":
        counted = _counting(source, progress, 5, 90, "Writing the summary workbook")
        documents.compile_statewide(app.engine, app.config, job.fiscal_year, counted, out)
        return
    assert job.lea_code is not None
    counted = _counting(source, progress, 5, 50, "Rendering the plans and converting to PDF")
    documents.compile_lea(
        app.engine,
        app.config,
        job.fiscal_year,
        job.lea_code,
        counted,
        out,
        converter=app.converter,
        sections=",".join(job.sections) if job.sections else None,
        chart_store=app.store,
    )


def _counting(source: PlanSource, progress: Progress, low: int, high: int, then: str) -> PlanSource:
    """The source, reporting each plan read as progress from `low` to `high` percent."""

    def counted(datas: Sequence[PlanData]) -> Iterator[Item]:
        total, shown = len(datas), low
        for n, item in enumerate(source(datas), 1):
            percent = low + (high - low) * n // max(total, 1)
            if percent != shown:
                progress(percent, f"Read {n} of {total} plans")
                shown = percent
            yield item
        progress(high, then)

    return counted


def _done(job: JobView, stored: StoredObject, app: App) -> None:
    _finish(
        job.id,
        app,
        ("running",),
        "job.done",
        {"sha256": stored.sha256, "size": stored.size},
        status="done",
        progress=100,
        progress_text="Done",
        result_key=stored.key,
        result_sha256=stored.sha256,
        result_size=stored.size,
        error="",
    )


def _fail(job: JobView, message: str, app: App) -> None:
    _finish(
        job.id,
        app,
        ("queued", "running"),
        "job.failed",
        {"error": message[:300]},
        status="failed",
        progress_text="Failed",
        error=message[:1000],
    )


def _finish(
    job_id: str,
    app: App,
    states: Sequence[str],
    action: str,
    details: dict[str, Any],
    **values: Any,
) -> None:
    """End the job, audit it and queue the requester's mail in one transaction: a worker
    stopped at any point leaves either a running job (run again) or an ended one whose mail
    is in the outbox; then hand the mail to the server."""
    now = app.clock()
    with app.uow() as u:
        ended = u.session.execute(
            update(JobRow)
            .where(JobRow.id == job_id, JobRow.status.in_(states))
            .values(finished_at=now, notified_at=now, **values)
        )
        if cast("CursorResult[Any]", ended).rowcount != 1:
            return
        audit.Trail(u.session, None, now).job(action, job_id, **details)
        queued = _queue_mail(u.session, job_id, app)
        u.commit()
    app.mail_outbox.deliver(queued)


def _queue_mail(session: Session, job_id: str, app: App) -> int:
    row, requester = session.execute(
        select(JobRow, UserRow.email)
        .join(UserRow, JobRow.requested_by == UserRow.id)
        .where(JobRow.id == job_id)
    ).one()
    return app.mail_outbox.add(session, _mail(job_view(row, requester), app.site)).id


def _notify(job_id: str, app: App) -> None:
    """Queue the requester's mail, once, for a job that ended without one (one that ended
    before the mail outbox existed: every end since queues its mail with it)."""
    now = app.clock()
    with app.uow() as u:
        claimed = u.session.execute(
            update(JobRow)
            .where(
                JobRow.id == job_id,
                JobRow.status.in_(("done", "failed")),
                JobRow.notified_at.is_(None),
            )
            .values(notified_at=now)
        )
        if cast("CursorResult[Any]", claimed).rowcount != 1:
            return
        queued = _queue_mail(u.session, job_id, app)
        u.commit()
    app.mail_outbox.deliver(queued)


def _mail(job: JobView, site: Site) -> Mail:
    link = f"{site.base_url}/jobs/{job.id}"
    what = job.title[0].upper() + job.title[1:]
    if job.status == "done":
        return Mail(
            [job.requested_by],
            f"{what} is ready",
            f"{what} is ready to download:\n\n{link}\n\n"
            f"Sign in to download it; the link works only for you and {site.agency_short}.",
        )
    return Mail(
        [job.requested_by],
        f"{what} could not be made",
        f"{what} could not be made:\n\n{job.error}\n\nThe job: {link}\n",
    )
