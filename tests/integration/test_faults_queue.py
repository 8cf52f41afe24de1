"""Fault: Redis down. The portal (gunicorn) and a Celery worker run on PostgreSQL with
Redis as the job queue; Redis is killed. Coordinators' uploads through the API still
work; a statewide summary asked for meanwhile waits in the database (`aip jobs dispatch`
says so, exit 3) instead of failing; once Redis is back (same port, empty: its queue was
lost with it) `aip jobs dispatch` hands the job over and the running worker makes it,
once, with one result."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from aip_forms.bootstrap import App
from aip_forms.db.models import JobRow
from aip_forms.jobs.service import WAITING_FOR_QUEUE, job_status, request_statewide
from aip_forms.services.users import add_user
from tests.support.faults import (
    FISCAL_YEAR,
    RestartableRedis,
    aip,
    aip_process,
    prepare_schools,
    restartable_redis,
    upload,
    versions_per_school,
    wait_portal,
    wait_until,
)
from tests.support.postgres import PostgresServer
from tests.support.s3 import closed_port

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("faults")]
PED = "ped@ped.example.gov"


@pytest.fixture
def layout(
    postgres: PostgresServer, tmp_path: Path
) -> Iterator[tuple[RestartableRedis, dict[str, str]]]:
    database = postgres.create_database()
    with restartable_redis() as redis:
        home = tmp_path / "home"
        home.mkdir()
        yield (
            redis,
            {
                "AIP_HOME": str(home),
                "AIP_SECRET_KEY": "queue-fault-key",
                "AIP_BASE_URL": f"http://127.0.0.1:{closed_port()}",
                "AIP_DATABASE_URL": postgres.url(database),
                "AIP_REDIS_URL": redis.url,
            },
        )
    postgres.drop_database(database)


def test_with_redis_down_uploads_go_on_and_a_job_waits_then_runs_once(
    layout: tuple[RestartableRedis, dict[str, str]],
) -> None:
    redis, env = layout
    schools = prepare_schools(env, 3)
    with App.from_env(env) as core:
        add_user(PED, "ped_coordinator", uow=core.uow)
    base = env["AIP_BASE_URL"]
    port = base.rsplit(":", 1)[1]
    with (
        aip_process(env, "serve", "--host", "127.0.0.1", "--port", port, "--workers", "2") as p,
        aip_process(env, "worker", "--concurrency", "1", "--recover-after", "5") as worker,
    ):
        wait_portal(base, p)
        assert upload(base, schools[0]).status_code == 201

        redis.stop()
        answers = [upload(base, school) for school in schools[1:]]
        assert [a.status_code for a in answers] == [201, 201], [a.text[:300] for a in answers]

        with App.from_env(env) as core:
            job = request_statewide(FISCAL_YEAR, user_email=PED, uow=core.uow, queue=core.queue)
            assert (job.status, job.progress_text) == ("queued", WAITING_FOR_QUEUE)
        still = aip(env, "jobs", "dispatch")
        assert still.returncode == 3, still.stdout + still.stderr
        assert "0 job(s) handed to the queue, 1 still waiting." in still.stdout
        assert still.stderr.strip().splitlines()[-1].startswith("Error: the job queue (Redis)")
        assert "Traceback" not in still.stderr

        redis.start()  # empty: whatever was queued in it is gone
        handed = aip(env, "jobs", "dispatch")
        assert handed.returncode == 0, handed.stdout + handed.stderr
        assert "1 job(s) handed to the queue, 0 still waiting." in handed.stdout

        with App.from_env(env) as core:

            def ended() -> bool:
                return job_status(job.id, user_email=PED, uow=core.uow).status in ("done", "failed")

            wait_until("the job ended", ended, 240)
            done = job_status(job.id, user_email=PED, uow=core.uow)
            again = aip(env, "jobs", "dispatch")  # nothing waits any more: nothing sent twice
            with core.uow() as u:
                pending = u.session.scalar(
                    select(JobRow.dispatch_pending).where(JobRow.id == job.id)
                )
            keys = list(core.store.iter_keys(f"jobs/{job.id}/"))
        assert worker.poll() is None
    assert done.status == "done", done.error
    assert done.attempts == 1 and pending is False
    assert "0 job(s) handed to the queue, 0 still waiting." in again.stdout
    assert keys == [f"jobs/{job.id}/{done.filename}"]
    assert versions_per_school(env) == {s.code: 1 for s in schools}
