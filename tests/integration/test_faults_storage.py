"""Fault: S3 unreachable. The portal (gunicorn) stores workbooks in a bucket of moto's S3
server reached through a relay that the test cuts (the server and its objects stay; the
network to it goes, as in an outage of the storage service or the link to it). Submits in
flight and sent meanwhile are refused with 503 and one line naming the storage, and leave
no record; `aip storage verify` exits 3 while it is cut. Once it is back, the same uploads
are stored once each, and `aip storage verify` finds every object recorded and no orphan."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.faults import (
    Answer,
    Relay,
    aip,
    aip_process,
    outage_refusals,
    prepare_schools,
    refusal_message,
    relay,
    rush,
    versions_per_school,
    wait_portal,
    wait_until,
)
from tests.support.postgres import PostgresServer
from tests.support.s3 import closed_port, moto_server, new_bucket, s3_client_for, s3_env

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("faults")]
SCHOOLS, CLIENTS = 16, 8


@pytest.fixture
def layout(postgres: PostgresServer, tmp_path: Path) -> Iterator[tuple[Relay, dict[str, str]]]:
    database = postgres.create_database()
    with moto_server() as endpoint, s3_client_for(endpoint) as client:
        bucket = new_bucket(client)
        with relay(int(endpoint.rsplit(":", 1)[1])) as link:
            home = tmp_path / "home"
            home.mkdir()
            yield (
                link,
                {
                    "AIP_HOME": str(home),
                    "AIP_SECRET_KEY": "s3-fault-key",
                    "AIP_BASE_URL": f"http://127.0.0.1:{closed_port()}",
                    "AIP_DATABASE_URL": postgres.url(database),
                    **s3_env(f"http://127.0.0.1:{link.port}", bucket, "plans"),
                },
            )
    postgres.drop_database(database)


def test_submits_while_storage_is_unreachable_are_refused_and_leave_nothing(
    layout: tuple[Relay, dict[str, str]],
) -> None:
    link, env = layout
    schools = prepare_schools(env, SCHOOLS)
    base = env["AIP_BASE_URL"]
    port = base.rsplit(":", 1)[1]
    with aip_process(env, "serve", "--host", "127.0.0.1", "--port", port, "--workers", "2") as p:
        wait_portal(base, p)
        held: dict[str, subprocess.CompletedProcess[str]] = {}
        recorded: dict[str, dict[str, int]] = {}

        def outage(answers: list[Answer]) -> None:
            link.cut()  # mid-way: other workbooks are being stored
            refused_at = len(answers)
            wait_until("uploads refused", lambda: len(answers) >= refused_at + CLIENTS, 90, 0.1)
            held["verify"] = aip(env, "storage", "verify")
            stored = {code for code, status, _ in answers if status == 201}
            recorded["during"] = versions_per_school(env)
            recorded["stored"] = {code: 1 for code in stored}
            link.mend()

        answers = rush(base, schools, CLIENTS, outage)
        assert p.poll() is None

    down = held["verify"]
    assert down.returncode == 3, down.stdout + down.stderr
    assert "Traceback" not in down.stderr and len(down.stderr.strip().splitlines()) == 1
    # while it was cut, a plan had at most its one version (in-flight ones included)
    assert recorded["during"] and set(recorded["during"].values()) == {1}
    assert len(recorded["during"]) <= len(recorded["stored"]) + CLIENTS

    refusals = outage_refusals(answers)
    assert len(refusals) >= CLIENTS
    for text in refusals:
        message = refusal_message(text)
        assert "storage" in message.lower() or "s3" in message.lower(), message
    stored = sorted(code for code, status, _ in answers if status == 201)
    assert stored == sorted(s.code for s in schools)
    assert versions_per_school(env) == {s.code: 1 for s in schools}

    verified = aip(env, "storage", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"{SCHOOLS} recorded, {SCHOOLS} ok, 0 missing, 0 corrupt, 0 orphaned" in verified.stdout
