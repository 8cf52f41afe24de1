"""Packet jobs end to end on the real queue: a `redis-server` on loopback, `aip worker`
processes started by the test (each in its own process group, stopped by its id), SQLite,
the local object store and LibreOffice. The job is asked for as the portal would
(`request_packet` with the composition root's queue), made by the worker, and read back;
a worker killed with SIGKILL mid-job leaves the job to the next worker, which ends it done
with one result object and no orphan."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from aip_forms.bootstrap import App
from aip_forms.db.models import JobRow, MailOutboxRow
from aip_forms.jobs.celery_queue import CeleryQueue
from aip_forms.jobs.service import JobView, job_result, job_status, request_packet
from aip_forms.mail import OutboxMailer
from aip_forms.services.integrity import verify
from tests.integration.test_jobs import BASE_URL, DISTRICT, FY, build_world
from tests.integration.test_packet import top_bookmarks
from tests.support.redis import redis_server

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow, pytest.mark.xdist_group("jobs-worker")]
ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("aip-home")
    with redis_server() as url:
        yield {
            "AIP_HOME": str(home),
            "AIP_SECRET_KEY": "jobs-worker-key",
            "AIP_BASE_URL": BASE_URL,
            "AIP_REDIS_URL": url,
            "AIP_DATABASE_URL": f"sqlite:///{home / 'aip.db'}",
        }


@pytest.fixture(scope="module")
def app(env: dict[str, str]) -> Iterator[App]:
    made = App.from_env(env)
    build_world(made)
    yield made
    made.close()


def leftovers(folder: Path) -> list[int]:
    """Processes whose command line names `folder`: a killed worker's LibreOffice, which
    runs in a session of its own (`exports.office`) and so outlives its worker's group."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if str(folder).encode() in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
    return found


@contextlib.contextmanager
def worker(env: dict[str, str], *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """`aip worker` in its own process group, its temporary files in a folder of its own;
    stopped (by its id) when the block ends, with what it left running."""
    tmp = Path(tempfile.mkdtemp(prefix="aip-worker-"))
    process = subprocess.Popen(
        [sys.executable, "-m", "aip_forms", "worker", "--concurrency", "1", *args],
        env={**os.environ, **env, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp)},
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        stop(process)
        for pid in leftovers(tmp):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)


def stop(process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    """Stop a worker as systemd does (`KillMode=mixed` in deploy/systemd/aip-worker.service):
    SIGTERM to the main process only, whose warm shutdown lets the job in hand end (its
    pool processes signalled too would die mid-job); SIGKILL to the group if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # anything of its group left behind


def wait_for(app: App, job_id: str, done: tuple[str, ...], timeout: float = 240) -> JobView:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = job_status(job_id, user_email=DISTRICT, uow=app.uow)
        if job.status in done:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job.status} ({job.progress_text})")


def ask(app: App) -> JobView:
    assert isinstance(app.queue, CeleryQueue)
    return request_packet(FY, "001", user_email=DISTRICT, uow=app.uow, queue=app.queue)


def test_a_worker_makes_the_packet_and_mails_the_link(app: App, env: dict[str, str]) -> None:
    job = ask(app)
    with worker(env):
        seen = {wait_for(app, job.id, ("running", "done")).status}
        done = wait_for(app, job.id, ("done", "failed"))
    assert done.status == "done", done.error
    assert done.attempts == 1 and "running" in seen
    filename, data = job_result(job.id, user_email=DISTRICT, uow=app.uow, store=app.store)
    assert filename == "district-packet-FY2027-lea-001.pdf" and data.startswith(b"%PDF")
    out = Path(env["AIP_HOME"]) / filename
    out.write_bytes(data)
    titles = [title for title, _ in top_bookmarks(PdfReader(out))]
    assert titles == ["District plan: BELEN CONSOLIDATED SCHOOLS", "BELEN ELEMENTARY (001001)"]
    mailer = app.mailer
    assert isinstance(mailer, OutboxMailer)
    (mail,) = [m for m in mailer.sent() if job.id in m.get_content()]
    assert mail["To"] == DISTRICT and f"{BASE_URL}/jobs/{job.id}" in mail.get_content()
    with app.uow() as u:  # queued with the job's end, and marked sent by the worker
        (queued,) = u.session.execute(
            select(MailOutboxRow.sent_at, MailOutboxRow.attempts).where(
                MailOutboxRow.message_id == mail["Message-ID"]
            )
        ).all()
    assert queued.sent_at is not None and queued.attempts == 1


def test_a_job_whose_worker_is_killed_is_finished_by_another(app: App, env: dict[str, str]) -> None:
    job = ask(app)
    with worker(env, "--recover-after", "3") as first:
        running = wait_for(app, job.id, ("running", "done", "failed"))
        while "Rendering" not in running.progress_text and running.status == "running":
            time.sleep(0.1)
            running = job_status(job.id, user_email=DISTRICT, uow=app.uow)
        assert running.status == "running"
        os.killpg(first.pid, signal.SIGKILL)  # the whole worker: main process, pool, soffice
        first.wait()
    assert job_status(job.id, user_email=DISTRICT, uow=app.uow).status == "running"
    with worker(env, "--recover-after", "3"):
        done = wait_for(app, job.id, ("done", "failed"))
    assert done.status == "done", done.error
    assert done.attempts == 2
    assert list(app.store.iter_keys(f"jobs/{job.id}/")) == [
        f"jobs/{job.id}/district-packet-FY2027-lea-001.pdf"
    ]
    report = verify(uow=app.uow, store=app.store)
    assert report.clean, [str(p) for p in report.problems]
    with app.uow() as u:
        finished = u.session.scalars(select(JobRow.id).where(JobRow.status == "done")).all()
    assert report.job_results == len(finished)  # one object per job done, no orphan
