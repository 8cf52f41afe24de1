"""`aip check-config`'s checks of the settings themselves, on a local home (SQLite, a
folder store, no Redis, no SMTP): each wrong value is named, with the exit status of its
kind; production needs real secrets, https and a mail server."""

from __future__ import annotations

from pathlib import Path

import pytest

from aip_forms.errors import InvalidInput, Unavailable
from aip_forms.services.health import Check, check_config, exit_code
from tests.support.s3 import closed_port

GOOD_KEY = "8f2c" * 16


def env_of(tmp_path: Path, **extra: str) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {"AIP_HOME": str(home), "AIP_SECRET_KEY": GOOD_KEY, **extra}


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def test_a_local_setup_passes_with_warnings(tmp_path: Path) -> None:
    checks = check_config(env_of(tmp_path))
    found = by_name(checks)
    assert exit_code(checks) == 0, [str(c) for c in checks]
    assert found["storage"].status == "ok" and "reachable and writable" in found["storage"].detail
    assert found["smtp"].status == "warn" and "outbox" in found["smtp"].detail
    assert found["settings"].detail == "not production (no TLS)"
    assert list((tmp_path / "home" / "objects").rglob("probe-*")) == []  # the probe is gone


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("AIP_BASE_URL", "aip.ped.nm.gov", "AIP_BASE_URL must be http(s)://host[:port]"),
        ("AIP_TLS", "maybe", "AIP_TLS must be on or off, not 'maybe'"),
        ("AIP_MAIL_FROM", "aip forms", "AIP_MAIL_FROM must be an email address"),
        ("AIP_PDF_CONVERTER", "word", "AIP_PDF_CONVERTER must be uno or batch, not 'word'"),
        ("AIP_SMTP_TLS", "ssl", "AIP_SMTP_TLS must be starttls or none, not 'ssl'"),
        ("AIP_SMTP_USER", "aip", "AIP_SMTP_USER is set but AIP_SMTP_PASSWORD is not"),
        ("AIP_PROGRAM_CONFIG", "/nonexistent/program.json", "program.json: No such file"),
        ("AIP_STORAGE_URL", "ftp://bucket", "unsupported scheme 'ftp'"),
        ("AIP_DATABASE_URL", "notadatabase", "AIP_DATABASE_URL"),
        ("AIP_METRICS_ALLOW", "10.0.0.0/8,lan", "AIP_METRICS_ALLOW must list networks"),
    ],
)
def test_a_wrong_setting_is_named_and_exits_2(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    checks = check_config(env_of(tmp_path, **{name: value}))
    failures = [c for c in checks if c.status == "fail"]
    assert failures, [str(c) for c in checks]
    assert any(message in c.detail and c.kind is InvalidInput for c in failures), failures
    assert exit_code(checks) == 2


def test_a_setting_that_breaks_the_composition_root_is_one_failure(tmp_path: Path) -> None:
    checks = check_config(env_of(tmp_path, AIP_SMTP_PORT="smtp"))
    assert [str(c) for c in checks] == [
        "fail  settings: configuration: AIP_SMTP_PORT must be a port number, not 'smtp'"
    ]
    assert exit_code(checks) == 2


def test_a_misspelt_setting_is_pointed_out(tmp_path: Path) -> None:
    checks = check_config(env_of(tmp_path, AIP_DATABSE_URL="postgresql://x"))
    typo = by_name(checks)["AIP_DATABSE_URL"]
    assert (typo.status, typo.detail) == (
        "warn", "not a setting aip-forms reads (did you mean AIP_DATABASE_URL?)"
    )  # fmt: skip


def test_unreachable_services_are_named_and_exit_3(tmp_path: Path) -> None:
    port = closed_port()
    checks = check_config(env_of(tmp_path, AIP_REDIS_URL=f"redis://:hunter2@127.0.0.1:{port}/0",
                                 AIP_SMTP_HOST="127.0.0.1", AIP_SMTP_PORT=str(port)))  # fmt: skip
    found = by_name(checks)
    assert found["redis"].kind is Unavailable
    assert (
        f"AIP_REDIS_URL redis://:***@127.0.0.1:{port}/0: Redis unreachable" in found["redis"].detail
    )
    assert found["smtp"].kind is Unavailable
    assert f"AIP_SMTP_HOST 127.0.0.1:{port}: cannot speak SMTP" in found["smtp"].detail
    assert "hunter2" not in "\n".join(str(c) for c in checks)
    assert exit_code(checks) == 3


def test_a_missing_libreoffice_is_named(tmp_path: Path) -> None:
    checks = check_config(env_of(tmp_path, AIP_SOFFICE="/nonexistent/soffice"))
    office = by_name(checks)["libreoffice"]
    assert office.kind is Unavailable
    assert "LibreOffice not found (AIP_SOFFICE '/nonexistent/soffice')" in office.detail


def test_production_needs_a_real_key_https_and_a_mail_server(tmp_path: Path) -> None:
    env = env_of(tmp_path, AIP_BASE_URL="https://aip.ped.nm.gov")
    del env["AIP_SECRET_KEY"]
    found = by_name(check_config(env))
    assert "AIP_SECRET_KEY is not set: in production" in found["AIP_SECRET_KEY"].detail
    assert "mail must go to a server" in found["AIP_SMTP_HOST"].detail
    short = by_name(check_config(env_of(tmp_path, AIP_BASE_URL="https://aip.ped.nm.gov",
                                        AIP_SECRET_KEY="short")))  # fmt: skip
    assert "AIP_SECRET_KEY is 5 characters; production needs at least 32" in (
        short["AIP_SECRET_KEY"].detail
    )
    plain = by_name(check_config(env_of(tmp_path, AIP_BASE_URL="http://aip.example"),
                                 production=True))  # fmt: skip
    assert "production needs https://" in plain["AIP_BASE_URL"].detail


def test_production_behind_a_proxy_is_reminded_of_trusted_proxies(tmp_path: Path) -> None:
    found = by_name(check_config(env_of(tmp_path, AIP_BASE_URL="https://aip.ped.nm.gov")))
    assert found["AIP_TRUSTED_PROXIES"].status == "warn"
    wrong = by_name(check_config(env_of(tmp_path, AIP_TRUSTED_PROXIES="all")))
    assert wrong["AIP_TRUSTED_PROXIES"].kind is InvalidInput


BACKUP_KEY = "M2J0bVdqb0lRdHhHc0Y4c1pGeXlsWWVzbGJ1dXpJb1k="


@pytest.mark.parametrize(
    "key", ["8f2c" * 16, BACKUP_KEY[:-1], BACKUP_KEY.replace("M", "/"), BACKUP_KEY[:-2] + "=="]
)
def test_a_backup_key_that_is_not_32_bytes_of_urlsafe_base64_is_refused(
    tmp_path: Path, key: str
) -> None:
    checks = check_config(env_of(tmp_path, AIP_BACKUP_KEY=key))
    found = by_name(checks)["AIP_BACKUP_KEY"]
    assert (found.status, found.kind, exit_code(checks)) == ("fail", InvalidInput, 2)
    assert found.detail.startswith("AIP_BACKUP_KEY must be 32 random bytes in urlsafe base64")
    assert "base64.urlsafe_b64encode(os.urandom(32))" in found.detail
    assert key not in "\n".join(str(c) for c in checks)


def test_a_backup_key_is_reported_set_and_never_shown(tmp_path: Path) -> None:
    checks = check_config(env_of(tmp_path, AIP_BACKUP_KEY=BACKUP_KEY))
    found = by_name(checks)["AIP_BACKUP_KEY"]
    assert (found.status, exit_code(checks)) == ("ok", 0), [str(c) for c in checks]
    assert "encrypted (AES-256-GCM)" in found.detail
    assert BACKUP_KEY not in "\n".join(str(c) for c in checks)


def test_production_without_a_backup_key_is_warned_of_plaintext_backups(tmp_path: Path) -> None:
    assert "AIP_BACKUP_KEY" not in by_name(check_config(env_of(tmp_path)))
    found = by_name(check_config(env_of(tmp_path), production=True))["AIP_BACKUP_KEY"]
    assert found.status == "warn" and "backups are written unencrypted" in found.detail
    assert "os.urandom(32)" in found.detail
