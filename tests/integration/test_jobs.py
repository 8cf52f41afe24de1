"""Background jobs on the inline queue, on SQLite and PostgreSQL, with the local object
store and the outbox mailer: the statewide summary made from the submissions store, who may
ask for, see and download a job, a job run twice (or after dying between storing its result
and recording it) with one result, and a packet job that fails because LibreOffice is
missing, told to its requester. The Celery worker: `test_jobs_worker.py`."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from aip_forms.bootstrap import App
from aip_forms.db.models import AuditRow, JobRow
from aip_forms.errors import Conflict, Forbidden, InvalidInput, NotFound
from aip_forms.jobs.queues import InlineQueue
from aip_forms.jobs.run import run_job
from aip_forms.jobs.service import (
    JobView,
    job_result,
    job_status,
    request_packet,
    request_statewide,
    result_key,
)
from aip_forms.mail import OutboxMailer
from aip_forms.services.integrity import verify
from aip_forms.services.submissions import submit
from aip_forms.services.users import add_user, revoke_role
from aip_forms.storage.base import sha256_hex
from tests.integration.test_render_stored import USERS, example
from tests.support.nm import approve as approve_plan
from tests.unit.test_generate_queries import seed

FY = 2027
BASE_URL = "https://aip.ped.nm.gov"
PED, READER = "ped@ped.nm.gov", "reader@ped.nm.gov"
DISTRICT, OTHER_DISTRICT = "district@belen.org", "district@vista.org"
SCHOOL = "elementary@belen.org"


def make_app(home: Path, database_url: str | None = None, **env: str) -> App:
    settings = {
        "AIP_HOME": str(home),
        "AIP_SECRET_KEY": "jobs-test-key",
        "AIP_BASE_URL": BASE_URL,
        **env,
    }
    if database_url:
        settings["AIP_DATABASE_URL"] = database_url
    return App.from_env(settings)


def build_world(app: App) -> None:
    """LEA 001's district plan submitted and approved, its elementary school's submitted."""
    seed(app.engine)
    for email, role, grant in USERS:
        add_user(email, role, uow=app.uow, **grant)
    for workbook, user in ((example(app, None), DISTRICT), (example(app, "001001"), SCHOOL)):
        result = submit(
            workbook,
            user_email=user,
            uow=app.uow,
            store=app.store,
            validate=app.validator,
            final=True,
            filename="plan.xlsx",
        )
        assert result.submission is not None, result.message
        if user == DISTRICT:
            approve_plan(result.submission.id, reviewer_email=PED, uow=app.uow)


@dataclass
class World:
    app: App

    @property
    def queue(self) -> InlineQueue:
        return InlineQueue(lambda job_id: run_job(job_id, app=self.app), background=False)

    def statewide(self, user: str = PED) -> JobView:
        return request_statewide(
            FY, user_email=user, uow=self.app.uow, queue=self.queue, clock=self.app.clock
        )

    def packet(self, user: str = DISTRICT, lea: str = "001", **kw: str) -> JobView:
        return request_packet(
            FY, lea, user_email=user, uow=self.app.uow, queue=self.queue, clock=self.app.clock, **kw
        )

    def status(self, job_id: str, user: str) -> JobView:
        return job_status(job_id, user_email=user, uow=self.app.uow)

    def result(self, job_id: str, user: str) -> tuple[str, bytes]:
        return job_result(job_id, user_email=user, uow=self.app.uow, store=self.app.store)

    def objects(self, job_id: str) -> list[str]:
        return list(self.app.store.iter_keys(f"jobs/{job_id}/"))

    def mails(self, to: str) -> list[tuple[str, str]]:
        mailer = self.app.mailer
        assert isinstance(mailer, OutboxMailer)
        return [(m["Subject"], m.get_content()) for m in mailer.sent() if m["To"] == to]


def world_on(tmp_path: Path, database_url: str | None, **env: str) -> World:
    app = make_app(tmp_path / "home", database_url, **env)
    build_world(app)
    return World(app)


@pytest.fixture
def world(tmp_path: Path, database_url: str) -> Iterator[World]:
    made = world_on(tmp_path, database_url)
    yield made
    made.app.close()


def test_the_statewide_summary_is_made_stored_and_mailed(world: World) -> None:
    queued = world.statewide()
    assert queued.status == "queued" and re.fullmatch(r"[0-9a-f]{32}", queued.id)
    job = world.status(queued.id, PED)
    assert (job.status, job.progress, job.progress_text, job.attempts) == ("done", 100, "Done", 1)
    assert job.started_at is not None and job.finished_at is not None
    filename, data = world.result(job.id, PED)
    assert filename == "statewide-summary-FY2027.xlsx"
    assert sha256_hex(data) == job.sha256 and len(data) == job.size
    rows = list(load_workbook(io.BytesIO(data))["Summary"].iter_rows(min_row=2, values_only=True))
    assert {(r[1], r[3]) for r in rows} >= {("001", None), ("001", "001001"), ("001", "001002")}
    assert world.objects(job.id) == [result_key(job.id, filename)]
    ((subject, body),) = world.mails(PED)
    assert subject == "The FY2027 statewide summary is ready"
    assert f"{BASE_URL}/jobs/{job.id}" in body
    with world.app.uow() as u:
        actions = u.session.scalars(
            select(AuditRow.action).where(AuditRow.entity == "job", AuditRow.entity_id == job.id)
        ).all()
    assert actions == ["job.requested", "job.done"]
    report = verify(uow=world.app.uow, store=world.app.store)
    assert report.clean and report.records == 2
    assert (report.job_results, report.other_objects) == (1, 1)


def test_a_job_is_seen_only_by_its_requester_and_ped(world: World) -> None:
    job = world.statewide()
    assert world.status(job.id, READER).status == "done"  # a PED reviewer sees every job
    for outsider in (DISTRICT, OTHER_DISTRICT, SCHOOL):
        with pytest.raises(NotFound, match="no job"):
            world.status(job.id, outsider)
        with pytest.raises(NotFound, match="no job"):
            world.result(job.id, outsider)
    for guess in ("0" * 32, job.id[:-1] + ("0" if job.id[-1] != "0" else "1"), "../" + job.id):
        with pytest.raises(NotFound):
            world.status(guess, PED)
    assert job.id != world.statewide().id
    assert len(job.id) * 4 == 128


def test_coordinators_may_ask_only_for_their_own_leas_packet(world: World) -> None:
    with pytest.raises(Forbidden, match="may not read the FY2027 district plan of LEA 001"):
        world.packet(OTHER_DISTRICT)
    with pytest.raises(Forbidden, match="may not read"):
        world.packet(SCHOOL)  # a school coordinator reads one school, not the packet
    with pytest.raises(Forbidden, match="statewide summary: it is for the program's Absence"):
        world.statewide(DISTRICT)
    with pytest.raises(NotFound, match="Unknown LEA code"):
        world.packet(PED, "999")
    with pytest.raises(InvalidInput, match="unknown section 'appendix'"):
        world.packet(sections="contact,appendix")
    with pytest.raises(InvalidInput, match="a district packet is a PDF"):
        world.packet(fmt="docx")
    with world.app.uow() as u:
        assert u.session.scalars(select(JobRow)).all() == []  # nothing refused was recorded


def test_a_job_run_again_changes_nothing_and_keeps_one_result(world: World) -> None:
    job = world.status(world.statewide().id, PED)
    again = run_job(job.id, app=world.app)  # a redelivered message
    assert (again.status, again.attempts, again.sha256) == ("done", 1, job.sha256)
    assert len(world.objects(job.id)) == 1
    assert len(world.mails(PED)) == 1


def test_a_job_that_died_after_storing_its_result_adopts_it(world: World) -> None:
    job = world.status(world.statewide().id, PED)
    (key,) = world.objects(job.id)
    stored = world.app.store.head(key)
    with world.app.uow() as u:  # as if the worker died between `store.put` and recording
        u.session.execute(
            update(JobRow)
            .where(JobRow.id == job.id)
            .values(status="running", result_key=None, result_sha256=None, notified_at=None)
        )
        u.commit()
    again = run_job(job.id, app=world.app)
    assert (again.status, again.attempts, again.sha256) == ("done", 2, job.sha256)
    assert world.objects(job.id) == [key] and world.app.store.head(key) == stored
    assert len(world.mails(PED)) == 2  # the first run never recorded its mail


def test_a_job_keeps_whatever_another_run_of_it_stored_first(world: World) -> None:
    job = world.statewide()
    with world.app.uow() as u:  # the job queued again, as a duplicate message finds it
        u.session.execute(
            update(JobRow)
            .where(JobRow.id == job.id)
            .values(status="queued", result_key=None, result_sha256=None, attempts=0)
        )
        u.commit()
    (key,) = world.objects(job.id)
    winner = world.app.store.head(key)
    assert winner is not None
    world.app.store.delete(key)  # another run of the job stored other bytes (a later time)
    other = b"the other run's summary"
    world.app.store.put(key, other, sha256=sha256_hex(other))
    again = run_job(job.id, app=world.app)
    assert (again.status, again.sha256) == ("done", sha256_hex(other))
    assert world.result(job.id, PED)[1] == other
    assert world.objects(job.id) == [key]


def test_a_requester_who_loses_the_role_loses_the_job(world: World) -> None:
    job = world.statewide()
    revoke_role(PED, "ped_coordinator", uow=world.app.uow)
    with pytest.raises(NotFound):
        world.status(job.id, PED)
    assert world.status(job.id, READER).status == "done"


@pytest.mark.libreoffice
def test_a_packet_job_without_libreoffice_fails_and_says_why(
    tmp_path: Path, database_url: str
) -> None:
    world = world_on(
        tmp_path, database_url, AIP_PDF_CONVERTER="batch", AIP_SOFFICE="/nonexistent/soffice"
    )
    try:
        job = world.status(world.packet().id, DISTRICT)
        assert job.status == "failed" and job.attempts == 1
        assert "LibreOffice" in job.error and "\n" not in job.error
        assert "Traceback" not in job.error and job.sha256 is None
        assert world.objects(job.id) == []
        ((subject, body),) = world.mails(DISTRICT)
        assert subject == "The FY2027 district packet of LEA 001 could not be made"
        assert job.error in body and f"{BASE_URL}/jobs/{job.id}" in body
        with pytest.raises(Conflict, match="not ready: the job is failed"):
            world.result(job.id, DISTRICT)
        assert world.status(job.id, PED).status == "failed"
        with pytest.raises(NotFound):
            world.status(job.id, OTHER_DISTRICT)
        assert run_job(job.id, app=world.app).status == "failed"  # final: not run again
        assert len(world.mails(DISTRICT)) == 1
    finally:
        world.app.close()
