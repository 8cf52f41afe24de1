"""Encrypted backups refused, and nothing changed, without their key, with another key, or
with a file changed or moved; an unencrypted backup still restores with a key set, and a
malformed key stops a backup before it is written. The round trip (SQLite + local store,
PostgreSQL + S3) is in test_backup_restore.py. One encrypted backup is made per module and
copied for each test that damages it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from aip_forms.services.backup import MANIFEST
from tests.integration.test_backup_restore import (
    BACKUP_KEY,
    System,
    local_system,
    populate,
    resign,
)

OTHER_KEY = "a2V5LW9mLWFub3RoZXItZGVwbG95bWVudC0zMmJ5dGU="
V1 = "objects/fy2027/lea-006/school-006001/school/v0001.xlsx"
V2 = "objects/fy2027/lea-006/school-006001/school/v0002.xlsx"


def keyed(home: Path, key: str | None) -> System:
    system = local_system(home)
    if key:
        system.env["AIP_BACKUP_KEY"] = key
    return system


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An encrypted backup of a populated SQLite + local system."""
    root = tmp_path_factory.mktemp("encrypted")
    source = keyed(root / "source", BACKUP_KEY)
    populate(source, root)
    assert source.run("backup", "create", "--out", str(root / "backup")).exit_code == 0
    return root / "backup"


@pytest.fixture
def made(pristine: Path, tmp_path: Path) -> Path:
    shutil.copytree(pristine, tmp_path / "backup")
    return tmp_path / "backup"


def assert_refused(backup: Path, target: System, code: int, *needles: str) -> None:
    for command in ("restore", "verify"):
        result = target.run("backup", command, str(backup))
        assert result.exit_code == code, result.output + result.stderr
        assert result.stderr.startswith("Error: ") and len(result.stderr.strip().splitlines()) == 1
        for needle in needles:
            assert needle in result.stderr, result.stderr
        assert BACKUP_KEY not in result.stderr and OTHER_KEY not in result.stderr
        assert not any(target.counts().values()) and target.keys() == []


def test_an_encrypted_backup_needs_its_key(made: Path, tmp_path: Path) -> None:
    target = keyed(tmp_path / "target", None)
    assert_refused(made, target, 2, "the backup is encrypted (AES-256-GCM)", "AIP_BACKUP_KEY")


def test_another_key_is_refused(made: Path, tmp_path: Path) -> None:
    target = keyed(tmp_path / "target", OTHER_KEY)
    assert_refused(made, target, 2, "encrypted with another AIP_BACKUP_KEY")


@pytest.mark.parametrize(
    ("first", "second"), [(V1, V2), ("tables/plan.jsonl", "tables/school.jsonl")]
)
def test_files_swapped_between_paths_are_refused(
    made: Path, tmp_path: Path, first: str, second: str
) -> None:
    a, b = made / first, made / second
    data = a.read_bytes()
    a.write_bytes(b.read_bytes())
    b.write_bytes(data)
    target = keyed(tmp_path / "target", BACKUP_KEY)
    assert_refused(made, target, 4, "does not decrypt", "moved from another place")


@pytest.mark.parametrize("victim", [V2, "tables/app_user.jsonl"])
def test_a_flipped_byte_is_refused(made: Path, tmp_path: Path, victim: str) -> None:
    path = made / victim
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    target = keyed(tmp_path / "target", BACKUP_KEY)
    assert_refused(made, target, 4, str(path), "does not decrypt")


def test_a_cut_file_is_refused(made: Path, tmp_path: Path) -> None:
    (made / V1).write_bytes((made / V1).read_bytes()[:20])
    target = keyed(tmp_path / "target", BACKUP_KEY)
    assert_refused(made, target, 4, "too short to be an encrypted backup file")


def test_the_manifest_cannot_be_downgraded_to_plaintext(made: Path, tmp_path: Path) -> None:
    manifest = json.loads((made / MANIFEST).read_text())
    manifest["encryption"] = "none"
    (made / MANIFEST).write_text(json.dumps(manifest))
    target = keyed(tmp_path / "target", BACKUP_KEY)
    assert_refused(made, target, 2, "signature does not match")


def test_an_unknown_cipher_is_refused(made: Path, tmp_path: Path) -> None:
    resign(made, {"encryption": "ROT13"})
    target = keyed(tmp_path / "target", BACKUP_KEY)
    assert_refused(made, target, 2, "encrypted with 'ROT13'")


def test_an_unencrypted_backup_restores_with_a_key_set(tmp_path: Path) -> None:
    source = keyed(tmp_path / "source", None)
    populate(source, tmp_path)
    plain = tmp_path / "plain"
    made = source.run("backup", "create", "--out", str(plain))
    assert made.exit_code == 0 and "Not encrypted: AIP_BACKUP_KEY is not set" in made.output
    assert json.loads((plain / MANIFEST).read_text())["encryption"] == "none"
    target = keyed(tmp_path / "target", BACKUP_KEY)
    restored = target.run("backup", "restore", str(plain))
    assert restored.exit_code == 0, restored.stderr
    assert target.counts() == source.counts()
    assert target.run("backup", "verify", str(plain)).exit_code == 0

    # A manifest without "encryption" (made before it) is an unencrypted backup too.
    manifest = json.loads((plain / MANIFEST).read_text())
    del manifest["encryption"]
    (plain / MANIFEST).write_text(json.dumps(manifest))
    resign(plain, {})
    older = keyed(tmp_path / "older", None)
    assert older.run("backup", "restore", str(plain)).exit_code == 0
    assert older.counts() == source.counts()


@pytest.mark.parametrize("key", ["too-short", BACKUP_KEY.replace("M", "+"), BACKUP_KEY[1:] + "A"])
def test_a_malformed_key_stops_the_backup(tmp_path: Path, key: str) -> None:
    source = keyed(tmp_path / "source", key)
    result = source.run("backup", "create", "--out", str(tmp_path / "backup"))
    assert result.exit_code == 2
    assert "AIP_BACKUP_KEY must be 32 random bytes in urlsafe base64" in result.stderr
    assert "os.urandom(32)" in result.stderr and key not in result.stderr
    assert not (tmp_path / "backup").exists()
