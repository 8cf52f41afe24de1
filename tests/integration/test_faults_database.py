"""Fault: PostgreSQL restarted while coordinators upload. The portal runs under gunicorn
(`aip serve`, two workers) on a PostgreSQL of the test's own; eight clients submit sixteen
schools' plans through the API, each sending an upload again after a refusal, while the
server is stopped (`pg_ctl stop -m fast`: sessions cut mid-way) and started again. Every
answer is a stored plan (201) or a clear refusal (503, one line naming the database),
never a 500; each plan ends with exactly one version, and `aip storage verify` finds every
object recorded and no orphan (a workbook stored before its record failed is deleted)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.faults import (
    Answer,
    RestartablePostgres,
    aip,
    aip_process,
    outage_refusals,
    prepare_schools,
    refusal_message,
    restartable_postgres,
    rush,
    versions_per_school,
    wait_portal,
    wait_until,
)
from tests.support.s3 import closed_port

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("faults")]
SCHOOLS, CLIENTS = 16, 8


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[RestartablePostgres, dict[str, str]]]:
    with restartable_postgres() as pg:
        home = tmp_path / "home"
        home.mkdir()
        port = closed_port()
        yield (
            pg,
            {
                "AIP_HOME": str(home),
                "AIP_SECRET_KEY": "db-fault-key",
                "AIP_BASE_URL": f"http://127.0.0.1:{port}",
                "AIP_DATABASE_URL": pg.server.url(pg.server.create_database("aip")),
            },
        )


def test_uploads_through_a_database_restart_are_refused_clearly_then_stored_once(
    database: tuple[RestartablePostgres, dict[str, str]],
) -> None:
    pg, env = database
    schools = prepare_schools(env, SCHOOLS)
    base = env["AIP_BASE_URL"]
    port = base.rsplit(":", 1)[1]
    with aip_process(env, "serve", "--host", "127.0.0.1", "--port", port, "--workers", "2") as p:
        wait_portal(base, p)
        held: dict[str, subprocess.CompletedProcess[str]] = {}

        def restart(answers: list[Answer]) -> None:
            pg.stop()  # mid-way: other uploads are being read, checked or committed
            refused_at = len(answers)
            wait_until("uploads refused", lambda: len(answers) >= refused_at + CLIENTS, 60, 0.1)
            held["verify"] = aip(env, "storage", "verify")
            pg.start()

        answers = rush(base, schools, CLIENTS, restart)
        down = held["verify"]
        assert p.poll() is None

    assert down.returncode == 3, down.stdout + down.stderr
    assert down.stderr.strip().splitlines() == [down.stderr.strip()]
    assert "database is unavailable" in down.stderr

    refusals = outage_refusals(answers)
    assert len(refusals) >= CLIENTS
    for text in refusals:  # a refused submit, or a token that could not be looked up
        assert "database" in refusal_message(text)
    stored = sorted(code for code, status, _ in answers if status == 201)
    assert stored == sorted(s.code for s in schools)  # each plan stored by exactly one answer
    assert versions_per_school(env) == {s.code: 1 for s in schools}

    verified = aip(env, "storage", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"{SCHOOLS} recorded, {SCHOOLS} ok, 0 missing, 0 corrupt, 0 orphaned" in verified.stdout
