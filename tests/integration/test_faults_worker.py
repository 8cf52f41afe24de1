"""Fault: a worker killed mid-packet, in the production layout (PostgreSQL, S3 over HTTP,
Redis, SMTP, `aip worker` processes). The first worker is killed with SIGKILL (its whole
group: main process, pool, LibreOffice) while it renders a district packet; a second
worker takes the job up when Redis hands the unacknowledged message back, and ends it with
one result in the bucket, `aip storage verify` clean, and exactly one mail to the
requester."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aip_forms.bootstrap import App
from aip_forms.jobs.service import job_status, request_packet
from tests.integration.test_jobs import DISTRICT, FY, build_world
from tests.integration.test_jobs_worker import leftovers
from tests.support.faults import aip, aip_process, wait_until
from tests.support.postgres import PostgresServer
from tests.support.redis import redis_server
from tests.support.s3 import moto_server, new_bucket, s3_client_for, s3_env
from tests.support.smtp import Inbox, smtp_server

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.libreoffice,
    pytest.mark.slow,
    pytest.mark.xdist_group("faults"),
]


@pytest.fixture
def layout(postgres: PostgresServer, tmp_path: Path) -> Iterator[tuple[dict[str, str], Inbox]]:
    database = postgres.create_database()
    with (
        moto_server() as endpoint,
        s3_client_for(endpoint) as client,
        redis_server() as redis,
        smtp_server() as inbox,
    ):
        home = tmp_path / "home"
        home.mkdir()
        yield (
            {
                "AIP_HOME": str(home),
                "AIP_SECRET_KEY": "worker-fault-key",
                "AIP_BASE_URL": "https://aip.example.gov",
                "AIP_DATABASE_URL": postgres.url(database),
                "AIP_REDIS_URL": redis,
                "AIP_SMTP_HOST": "127.0.0.1",
                "AIP_SMTP_PORT": str(inbox.port),
                "AIP_MAIL_FROM": "aip-forms@ped.example.gov",
                "AIP_PDF_CONVERTER": "batch",
                **s3_env(endpoint, new_bucket(client), "prod"),
            },
            inbox,
        )
    postgres.drop_database(database)


@contextlib.contextmanager
def own_tmp(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """The worker's temporary files (and LibreOffice's) in a folder of its own: what a
    killed worker left running is found by it and killed."""
    tmp = Path(tempfile.mkdtemp(prefix="aip-fault-worker-"))
    try:
        yield {**env, "TMPDIR": str(tmp)}
    finally:
        for pid in leftovers(tmp):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)


def test_a_packet_whose_worker_is_killed_is_made_once_by_another(
    layout: tuple[dict[str, str], Inbox],
) -> None:
    env, inbox = layout
    with App.from_env(env) as core:
        build_world(core)
        job = request_packet(FY, "001", user_email=DISTRICT, uow=core.uow, queue=core.queue)

        def status() -> tuple[str, str]:
            seen = job_status(job.id, user_email=DISTRICT, uow=core.uow)
            return seen.status, seen.progress_text

        worker_args = ("worker", "--concurrency", "1", "--recover-after", "3")
        with own_tmp(env) as first_env, aip_process(first_env, *worker_args) as first:
            wait_until("the first worker rendering", lambda: "Rendering" in status()[1], 240, 0.05)
            os.killpg(first.pid, signal.SIGKILL)  # the whole worker: main, pool, soffice
            first.wait()
        assert status()[0] == "running"
        time.sleep(1)
        assert not inbox.to(DISTRICT)  # nothing told before the job ended

        with own_tmp(env) as second_env, aip_process(second_env, *worker_args):
            wait_until("the job ended", lambda: status()[0] in ("done", "failed"), 300)
            wait_until("the mail", lambda: bool(inbox.to(DISTRICT)), 60)
            time.sleep(2)  # a second copy would come now
        done = job_status(job.id, user_email=DISTRICT, uow=core.uow)
        keys = list(core.store.iter_keys(f"jobs/{job.id}/"))
        waiting = core.mail_outbox.waiting()

    assert done.status == "done", done.error
    assert done.attempts == 2
    assert keys == [f"jobs/{job.id}/{done.filename}"]
    verified = aip(env, "storage", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "0 missing, 0 corrupt, 0 orphaned" in verified.stdout
    (mail,) = inbox.to(DISTRICT)
    assert f"https://aip.example.gov/jobs/{job.id}" in mail.get_content()
    assert waiting == []
