"""`aip check-config` against the real services a production layout uses: PostgreSQL,
S3 over HTTP (moto's server), Redis and an SMTP server, all on loopback; then with each
one missing, named in its own line, exit status 3."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from aip_forms.cli import cli as aip
from tests.support.postgres import PostgresServer
from tests.support.redis import redis_server
from tests.support.s3 import closed_port, moto_server, new_bucket, s3_client_for, s3_env
from tests.support.smtp import smtp_server

pytestmark = pytest.mark.postgres


@pytest.fixture
def production(postgres: PostgresServer, tmp_path: Path) -> Iterator[dict[str, str]]:
    database = postgres.create_database()
    with (
        moto_server() as endpoint,
        s3_client_for(endpoint) as client,
        redis_server() as redis,
        smtp_server() as inbox,
    ):
        home = tmp_path / "home"
        home.mkdir()
        yield {
            "AIP_HOME": str(home),
            "AIP_SECRET_KEY": "5e" * 32,
            "AIP_BASE_URL": "https://aip.ped.example",
            "AIP_TRUSTED_PROXIES": "1",
            "AIP_BACKUP_KEY": base64.urlsafe_b64encode(bytes(range(32))).decode(),
            "AIP_DATABASE_URL": postgres.url(database),
            "AIP_REDIS_URL": redis,
            "AIP_SMTP_HOST": "127.0.0.1",
            "AIP_SMTP_PORT": str(inbox.port),
            "AIP_PROGRAM_CONFIG": "",
            **s3_env(endpoint, new_bucket(client), "aip"),
        }
        assert inbox.messages == []  # checking mail sends none
    postgres.drop_database(database)


def run(env: dict[str, str], *args: str) -> Result:
    result = CliRunner(env=env).invoke(aip, ["check-config", *args], terminal_width=200)
    assert "Traceback" not in result.output
    return result


def test_a_production_layout_passes(production: dict[str, str]) -> None:
    result = run(production)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "ok    settings: production" in lines
    assert any(line.startswith("ok    storage: S3ObjectStore") and "writable" in line
               for line in lines), lines  # fmt: skip
    assert any(line.startswith("ok    redis: redis://127.0.0.1:") for line in lines)
    assert any(line.startswith("ok    smtp: 127.0.0.1:") for line in lines)
    assert any(line.startswith("warn  database: postgresql+psycopg://aip@127.0.0.1")
               and "empty" in line for line in lines), lines  # fmt: skip
    assert lines[-1].endswith("0 failed, 1 warning(s).")


@pytest.mark.parametrize(
    ("setting", "name", "needle"),
    [
        ("AIP_DATABASE_URL", "database", "AIP_DATABASE_URL postgresql+psycopg://aip@127.0.0.1:"),
        ("AIP_S3_ENDPOINT_URL", "storage", "AIP_STORAGE_URL"),
        ("AIP_REDIS_URL", "redis", "Redis unreachable"),
        ("AIP_SMTP_PORT", "smtp", "cannot speak SMTP"),
    ],
)
def test_a_service_that_cannot_be_reached_is_named(
    production: dict[str, str], setting: str, name: str, needle: str
) -> None:
    port = closed_port()
    broken = dict(production)
    if setting == "AIP_DATABASE_URL":
        broken[setting] = f"postgresql+psycopg://aip@127.0.0.1:{port}/aip"
    elif setting == "AIP_S3_ENDPOINT_URL":
        broken[setting] = f"http://127.0.0.1:{port}"
    elif setting == "AIP_REDIS_URL":
        broken[setting] = f"redis://127.0.0.1:{port}/0"
    else:
        broken[setting] = str(port)
    result = run(broken)
    assert result.exit_code == 3, result.output
    [failure] = [line for line in result.output.splitlines() if line.startswith("fail")]
    assert failure.startswith(f"fail  {name}: ") and needle in failure, failure


def test_a_bucket_that_does_not_exist_is_named(production: dict[str, str]) -> None:
    broken = production | {"AIP_STORAGE_URL": "s3://no-such-bucket-here/aip"}
    result = run(broken)
    assert result.exit_code == 3, result.output
    assert "no-such-bucket-here" in result.output
