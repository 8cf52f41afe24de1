"""The production layout of README "Deployment", started on loopback from its documented
commands: PostgreSQL, S3 over HTTP (moto's server), Redis, an SMTP server, `aip
check-config`, the portal under gunicorn (`aip serve`) and a Celery worker (`aip worker`),
each a process of its own. A coordinator submits a plan through the portal's API, PED asks
for the district packet, the worker makes it and mails the link; /readyz, /metrics and the
stored objects agree. Processes are stopped by their own ids."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from aip_forms.bootstrap import App
from aip_forms.jobs.service import job_result, job_status, request_packet
from aip_forms.services.submissions import submit
from aip_forms.services.tokens import create_token
from aip_forms.services.users import add_user
from tests.integration.test_jobs import DISTRICT, FY, PED, SCHOOL
from tests.integration.test_render_stored import USERS, example
from tests.support.nm import approve as approve_plan
from tests.support.postgres import PostgresServer
from tests.support.redis import redis_server
from tests.support.s3 import closed_port, moto_server, new_bucket, s3_client_for, s3_env
from tests.support.smtp import Inbox, smtp_server
from tests.unit.test_generate_queries import seed

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.libreoffice,
    pytest.mark.slow,
    pytest.mark.xdist_group("deploy-layout"),
]
ROOT = Path(__file__).parents[2]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@contextlib.contextmanager
def process(env: dict[str, str], *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """`aip ARGS` in a process group of its own, stopped by its id when the block ends."""
    log = Path(env["AIP_HOME"]) / f"{args[0]}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "aip_forms", *args],
            env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
            cwd=env["AIP_HOME"],
            start_new_session=True,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the portal stopped"
        with contextlib.suppress(OSError):
            if get(f"{base}/readyz")[0] == 200:
                return
        time.sleep(0.3)
    raise AssertionError("the portal did not become ready")


def scrape(base: str, timeout: float = 20) -> str:
    """/metrics once each gunicorn worker has written the counts it has (every 5 s)."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = get(f"{base}/metrics")
        assert status == 200
        text = body.decode()
        if 'endpoint="api.upload"' in text or time.monotonic() > deadline:
            return text
        time.sleep(0.5)


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
        port = closed_port()
        yield (
            {
                "AIP_HOME": str(home),
                "AIP_SECRET_KEY": "d3" * 32,
                "AIP_BASE_URL": f"http://127.0.0.1:{port}",
                "AIP_DATABASE_URL": postgres.url(database),
                "AIP_REDIS_URL": redis,
                "AIP_SMTP_HOST": "127.0.0.1",
                "AIP_SMTP_PORT": str(inbox.port),
                "AIP_MAIL_FROM": "aip-forms@ped.example.gov",
                "AIP_TRUSTED_PROXIES": "1",
                "AIP_PDF_CONVERTER": "batch",
                "AIP_PROGRAM_CONFIG": "",
                **s3_env(endpoint, new_bucket(client), "prod"),
            },
            inbox,
        )
    postgres.drop_database(database)


def test_the_documented_layout_runs_a_submit_and_a_packet(
    layout: tuple[dict[str, str], Inbox],
) -> None:
    env, inbox = layout
    base = env["AIP_BASE_URL"]
    checked = subprocess.run([sys.executable, "-m", "aip_forms", "check-config"],
                             env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr

    with App.from_env(env) as core:  # PED's set-up: reference data, users, the district plan
        seed(core.engine)
        for email, role, grant in USERS:
            add_user(email, role, uow=core.uow, **grant)
        district = submit(example(core, None), user_email=DISTRICT, uow=core.uow,
                          store=core.store, validate=core.validator, final=True,
                          filename="district.xlsx")  # fmt: skip
        assert district.submission is not None, district.message
        approve_plan(district.submission.id, reviewer_email=PED, uow=core.uow)
        _, secret = create_token(SCHOOL, "layout test", ["plans:write"], uow=core.uow)
        workbook = example(core, "001001")

    port = base.rsplit(":", 1)[1]
    with (
        process(env, "serve", "--host", "127.0.0.1", "--port", port, "--workers", "2") as portal,
        process(env, "worker", "--concurrency", "1"),
    ):
        wait_ready(base, portal)
        form = MultiDict({"mode": "submit"})
        form["file"] = FileStorage(io.BytesIO(workbook), "plan.xlsx", content_type=XLSX)
        boundary, body = encode_multipart(form)
        headers = {
            "Authorization": f"Bearer {secret}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-Request-ID": "layout-submit-0001",
        }
        request = urllib.request.Request(
            f"{base}/api/v1/uploads", data=body, method="POST", headers=headers
        )
        with urllib.request.urlopen(request, timeout=120) as r:
            answer, submitted = json.loads(r.read()), r.status
            assert r.headers["X-Request-ID"] == "layout-submit-0001"
        assert answer["submission"]["version"] == 1, answer

        with App.from_env(env) as core:
            job = request_packet(FY, "001", user_email=DISTRICT, uow=core.uow, queue=core.queue)
            deadline = time.monotonic() + 300
            while job.status not in ("done", "failed") and time.monotonic() < deadline:
                time.sleep(0.5)
                job = job_status(job.id, user_email=DISTRICT, uow=core.uow)
            assert job.status == "done", (job.status, job.error)
            filename, data = job_result(job.id, user_email=DISTRICT, uow=core.uow,
                                        store=core.store)  # fmt: skip
            assert data.startswith(b"%PDF") and filename.endswith(".pdf")
            keys = list(core.store.iter_keys())
        text = scrape(base)  # every worker's counts within a few seconds
        upload_line = (
            f'aip_http_requests_total{{endpoint="api.upload",method="POST",status="{submitted}"}} 1'
        )
        assert upload_line in text.splitlines(), text[:3000]
        assert 'aip_uploads_checked_total{outcome="accepted"}' in text
        assert 'aip_jobs{status="done"} 1' in text
        deadline = time.monotonic() + 60
        while not inbox.to(DISTRICT) and time.monotonic() < deadline:
            time.sleep(0.3)
    assert any(job.id in m.get_content() for m in inbox.to(DISTRICT))
    assert "fy2027/lea-001/school-001001/school/v0001.xlsx" in keys
    assert any(key.startswith(f"jobs/{job.id}/") for key in keys)
    worker_log = (Path(env["AIP_HOME"]) / "worker.log").read_text()
    started = [json.loads(line) for line in worker_log.splitlines()
               if line.startswith("{") and '"job started"' in line]  # fmt: skip
    assert started and started[0]["job_id"] == job.id
