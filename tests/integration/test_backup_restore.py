"""Restore drills through the command line: a system with users, submitted versions, a
review with a comment and the audit log is backed up, restored into a fresh database and
store, and proved by `aip backup verify` and `aip storage verify`; on SQLite with the local
store, and on PostgreSQL with S3 over HTTP (moto's server). Hostile or damaged backups are
refused with a message naming what is wrong, and the target is left as it was."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select, text

from aip_forms.bootstrap import App
from aip_forms.cli import cli as aip
from aip_forms.db.models import AuditRow, SubmissionRow
from aip_forms.db.session import HEAD_REVISION
from aip_forms.services.backup import MANIFEST, sign, tables
from aip_forms.storage.base import sha256_hex
from tests.integration.test_submissions_cli import example_file
from tests.integration.test_submit import edited
from tests.support.postgres import PostgresServer
from tests.support.s3 import moto_server, new_bucket, s3_client_for, s3_env
from tests.unit.test_workflow import seed_reference

KEY = "backup-drill-secret-key"
BACKUP_KEY = "M2J0bVdqb0lRdHhHc0Y4c1pGeXlsWWVzbGJ1dXpJb1k="  # 32 bytes, urlsafe base64


@dataclass
class System:
    """One deployment's environment: a database and a store, and the CLI run against them."""

    env: dict[str, str]

    def run(self, *args: str) -> Result:
        result = CliRunner(env=self.env).invoke(aip, list(args), terminal_width=200)
        assert "Traceback" not in result.output + result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        return result

    def app(self) -> App:
        return App.from_env(self.env)

    def counts(self) -> dict[str, int]:
        with self.app() as core, core.engine.connect() as conn:
            return {
                t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0) for t in tables()
            }

    def keys(self) -> list[str]:
        with self.app() as core:
            return list(core.store.iter_keys())


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


def local_system(home: Path) -> System:
    home.mkdir(parents=True, exist_ok=True)
    blank = ("AIP_DATABASE_URL", "AIP_STORAGE_URL", "AIP_PROGRAM_CONFIG", "AIP_REDIS_URL",
             "AIP_BACKUP_KEY")  # fmt: skip
    return System({"AIP_HOME": str(home), "AIP_SECRET_KEY": KEY} | dict.fromkeys(blank, ""))


@pytest.fixture(params=["sqlite-local", pytest.param("postgresql-s3", marks=pytest.mark.postgres)])
def systems(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[System, System]]:
    """A source and an empty target system of one kind."""
    if request.param == "sqlite-local":
        yield local_system(tmp_path / "source"), local_system(tmp_path / "target")
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    endpoint: str = request.getfixturevalue("moto_endpoint")
    made = []
    with s3_client_for(endpoint) as client:
        pair = []
        for name in ("source", "target"):
            database = server.create_database()
            made.append(database)
            system = local_system(tmp_path / name)
            system.env |= s3_env(endpoint, new_bucket(client), "aip")
            system.env["AIP_DATABASE_URL"] = server.url(database)
            pair.append(system)
        yield pair[0], pair[1]
    for database in made:
        server.drop_database(database)


def populate(system: System, tmp_path: Path) -> None:
    """Reference data, users, two versions of a school plan, a return with a comment."""
    with system.app() as core:
        seed_reference(core.engine)
        plan = example_file(core, tmp_path / "plan.xlsx")
    for args in (
        ("school@belen.org", "--role", "school_coordinator", "--school", "006001"),
        ("district@belen.org", "--role", "district_coordinator", "--lea", "006"),
    ):
        assert system.run("users", "add", *args).exit_code == 0
    first = system.run("submit", str(plan), "--user", "school@belen.org", "--final")
    assert first.exit_code == 0, first.stderr
    returned = system.run("review", "return", "1", "--user", "district@belen.org",
                          "--comment", "Name the bus routes.",
                          "--cell", "'3 Root Cause Analysis'!B10")  # fmt: skip
    assert returned.exit_code == 0, returned.stderr
    revised = revision(plan, tmp_path / "revised.xlsx", "Routes 4 and 9.")
    second = system.run("submit", str(revised), "--user", "school@belen.org", "--final")
    assert second.exit_code == 0, second.stderr


def revision(plan: Path, out: Path, answer: str) -> Path:
    out.write_bytes(edited(plan.read_bytes(), {"3 Root Cause Analysis!B10": answer}))
    return out


def test_restore_drill(systems: tuple[System, System], tmp_path: Path) -> None:
    source, target = systems
    populate(source, tmp_path)
    before = source.counts()
    assert before["submission"] == 2 and before["review_comment"] == 1 and before["audit_log"] > 3

    made = source.run("backup", "create", "--out", str(tmp_path / "backup"))
    assert made.exit_code == 0, made.stderr
    assert "2 objects" in made.output and f"schema revision {HEAD_REVISION}" in made.output
    manifest = json.loads((tmp_path / "backup" / MANIFEST).read_text())
    assert [o["key"] for o in manifest["objects"]] == [
        "fy2027/lea-006/school-006001/school/v0001.xlsx",
        "fy2027/lea-006/school-006001/school/v0002.xlsx",
    ]
    assert source.run("backup", "verify", str(tmp_path / "backup")).exit_code == 0

    restored = target.run("backup", "restore", str(tmp_path / "backup"))
    assert restored.exit_code == 0, restored.stderr
    assert f"Restored {sum(before.values())} rows and 2 objects" in restored.output
    assert target.counts() == before
    proved = target.run("backup", "verify", str(tmp_path / "backup"))
    assert proved.exit_code == 0, proved.output
    assert f"{sum(before.values())} records and 2 objects checked: 0 problem(s)" in proved.output
    storage = target.run("storage", "verify")
    assert (storage.exit_code, "2 recorded, 2 ok" in storage.output) == (0, True)
    listed = target.run("submissions", "list")
    assert "2 submissions" in listed.output and "school@belen.org" in listed.output

    # The restored system goes on working: new ids follow the restored ones.
    cell = "'3 Root Cause Analysis'!B10"
    back = target.run("review", "return", "2", "--user", "district@belen.org",
                      "--comment", "And route 12?", "--cell", cell)  # fmt: skip
    assert (back.exit_code, "Comment 2 on" in back.output) == (0, True), back.stderr
    plan = revision(tmp_path / "plan.xlsx", tmp_path / "third.xlsx", "Routes 4, 9 and 12.")
    third = target.run("submit", str(plan), "--user", "school@belen.org", "--final")
    assert third.exit_code == 0, third.stderr
    assert "Submission 3: plan 1, version 3" in third.output

    # A second restore into the now busy system is refused, and changes nothing ...
    busy = target.counts()
    again = target.run("backup", "restore", str(tmp_path / "backup"))
    assert again.exit_code == 2
    assert "the database is not empty" in again.stderr and "--force" in again.stderr
    assert target.counts() == busy
    # ... unless forced: the backup's rows replace the database's, objects are kept.
    forced = target.run("backup", "restore", "--force", str(tmp_path / "backup"))
    assert forced.exit_code == 0, forced.stderr
    assert target.counts() == before
    assert target.run("backup", "verify", str(tmp_path / "backup")).exit_code == 0
    orphan = target.run("storage", "verify")
    assert orphan.exit_code == 1 and "orphan   fy2027/lea-006/school-006001/school/v0003.xlsx" in (
        orphan.output
    )


def test_an_encrypted_backup_holds_no_plaintext_and_restores_with_its_key(
    systems: tuple[System, System], tmp_path: Path
) -> None:
    source, target = systems
    for system in systems:
        system.env["AIP_BACKUP_KEY"] = BACKUP_KEY
    populate(source, tmp_path)
    before = source.counts()
    backup = tmp_path / "backup"
    made = source.run("backup", "create", "--out", str(backup))
    assert made.exit_code == 0, made.stderr
    assert "Encrypted with AIP_BACKUP_KEY (AES-256-GCM)" in made.output
    assert BACKUP_KEY not in made.output + made.stderr
    manifest = json.loads((backup / MANIFEST).read_text())
    assert manifest["encryption"] == "AES-256-GCM" and BACKUP_KEY not in json.dumps(manifest)
    files = [p for p in backup.rglob("*") if p.is_file()]
    assert len(files) == 1 + len(tables()) + 2
    for path in files:
        data = path.read_bytes()
        assert b"school@belen.org" not in data and b"$argon2" not in data, path
        assert b"PK\x03\x04" not in data and b"Root Cause" not in data, path
    workbook = source.keys()[0]
    with source.app() as core:  # the manifest keeps the plaintext's checksum
        assert manifest["objects"][0]["sha256"] == sha256_hex(core.store.get(workbook))
    assert source.run("backup", "verify", str(backup)).exit_code == 0

    restored = target.run("backup", "restore", str(backup))
    assert restored.exit_code == 0, restored.stderr
    assert target.counts() == before
    proved = target.run("backup", "verify", str(backup))
    assert proved.exit_code == 0, proved.output
    assert f"{sum(before.values())} records and 2 objects checked: 0 problem(s)" in proved.output
    storage = target.run("storage", "verify")
    assert (storage.exit_code, "2 recorded, 2 ok" in storage.output) == (0, True)


def test_verify_names_what_differs_in_the_live_system(tmp_path: Path) -> None:
    source = local_system(tmp_path / "source")
    populate(source, tmp_path)
    assert source.run("backup", "create", "--out", str(tmp_path / "b")).exit_code == 0
    with source.app() as core:
        with core.engine.begin() as conn:
            conn.execute(text("DELETE FROM review_comment"))
            conn.execute(text("UPDATE plan SET status = 'approved'"))
        key = "fy2027/lea-006/school-006001/school/v0001.xlsx"
        path = tmp_path / "source" / "objects" / key
        path.chmod(0o644)
        path.write_bytes(b"not the workbook")
    checked = source.run("backup", "verify", str(tmp_path / "b"))
    assert checked.exit_code == 1
    assert "missing  row review_comment [1]" in checked.output
    assert "changed  row plan [1]: status" in checked.output
    assert f"corrupt  object {key}" in checked.output


# ---- hostile and damaged backups -----------------------------------------------------------


@pytest.fixture
def made(tmp_path: Path) -> Path:
    """A backup of a populated SQLite + local system."""
    source = local_system(tmp_path / "source")
    populate(source, tmp_path)
    assert source.run("backup", "create", "--out", str(tmp_path / "backup")).exit_code == 0
    return tmp_path / "backup"


def resign(backup: Path, change: dict[str, object], key: str = KEY) -> None:
    """Edit the manifest as someone holding the key would (or not: `key`)."""
    path = backup / MANIFEST
    manifest = json.loads(path.read_text()) | change
    manifest["signature"] = sign(manifest, key.encode())
    path.write_text(json.dumps(manifest))


def assert_refused(backup: Path, tmp_path: Path, code: int, *needles: str) -> None:
    target = local_system(tmp_path / "target")
    result = target.run("backup", "restore", str(backup))
    assert result.exit_code == code, result.output + result.stderr
    assert result.stderr.startswith("Error: ") and len(result.stderr.strip().splitlines()) == 1
    for needle in needles:
        assert needle in result.stderr
    assert not any(target.counts().values()) and target.keys() == []


def test_a_tampered_object_is_refused(made: Path, tmp_path: Path) -> None:
    victim = made / "objects" / "fy2027/lea-006/school-006001/school/v0002.xlsx"
    victim.write_bytes(victim.read_bytes()[:-10] + b"0123456789")
    assert_refused(made, tmp_path, 4, str(victim), "does not match its sha256")


def test_a_missing_object_file_is_refused(made: Path, tmp_path: Path) -> None:
    victim = made / "objects" / "fy2027/lea-006/school-006001/school/v0001.xlsx"
    victim.unlink()
    assert_refused(made, tmp_path, 2, str(victim), "cannot be read")


def test_a_missing_table_file_is_refused(made: Path, tmp_path: Path) -> None:
    (made / "tables" / "plan.jsonl").unlink()
    assert_refused(made, tmp_path, 2, "plan.jsonl", "cannot read table plan")


def test_an_edited_table_is_refused(made: Path, tmp_path: Path) -> None:
    table = made / "tables" / "app_user.jsonl"
    table.write_text(table.read_text().replace("school@belen.org", "intruder@evil.example"))
    assert_refused(made, tmp_path, 4, "app_user.jsonl", "does not match the sha256")


def test_an_unsigned_manifest_edit_is_refused(made: Path, tmp_path: Path) -> None:
    manifest = json.loads((made / MANIFEST).read_text())
    manifest["revision"] = "0005"
    (made / MANIFEST).write_text(json.dumps(manifest))
    assert_refused(made, tmp_path, 2, "signature does not match")


def test_a_backup_made_with_another_key_is_refused(made: Path, tmp_path: Path) -> None:
    resign(made, {}, key="some-other-key")
    assert_refused(made, tmp_path, 2, "another AIP_SECRET_KEY")


def test_a_manifest_pointing_outside_the_folder_is_refused(made: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.jsonl"
    shutil.copy(made / "tables" / "plan.jsonl", outside)
    manifest = json.loads((made / MANIFEST).read_text())
    for entry in manifest["tables"]:
        if entry["name"] == "plan":
            entry["file"] = "../outside.jsonl"
    resign(made, {"tables": manifest["tables"]})
    assert_refused(made, tmp_path, 2, "'../outside.jsonl' points outside the backup folder")


def test_an_object_key_climbing_out_is_refused(made: Path, tmp_path: Path) -> None:
    manifest = json.loads((made / MANIFEST).read_text())
    manifest["objects"][0]["key"] = "../../etc/passwd"
    resign(made, {"objects": manifest["objects"]})
    assert_refused(made, tmp_path, 2, "object 1", "bad path component '..'")


def test_a_symlink_out_of_the_folder_is_refused(made: Path, tmp_path: Path) -> None:
    victim = made / "objects" / "fy2027/lea-006/school-006001/school/v0001.xlsx"
    outside = tmp_path / "elsewhere.xlsx"
    shutil.copy(victim, outside)
    victim.unlink()
    victim.symlink_to(outside)
    assert_refused(made, tmp_path, 2, "points outside the backup folder")


def test_a_backup_of_another_schema_revision_is_refused(made: Path, tmp_path: Path) -> None:
    resign(made, {"revision": "0005"})
    assert_refused(
        made, tmp_path, 2, "schema revision 0005", f"restores revision {HEAD_REVISION} only"
    )


def test_a_folder_that_is_not_a_backup_is_refused(tmp_path: Path) -> None:
    (tmp_path / "nothing").mkdir()
    assert_refused(tmp_path / "nothing", tmp_path, 2, "manifest.json: missing")
    assert_refused(tmp_path / "absent", tmp_path, 2, "no such backup folder")


def test_rows_the_database_refuses_leave_nothing_behind(made: Path, tmp_path: Path) -> None:
    """A row that breaks a constraint fails the restore's one transaction; the objects it
    had written already are deleted again."""
    table = made / "tables" / "submission.jsonl"
    lines = [json.loads(line) for line in table.read_text().splitlines()]
    lines[1]["version"] = 0  # the schema requires version >= 1
    table.write_text("".join(json.dumps(row) + "\n" for row in lines))
    manifest = json.loads((made / MANIFEST).read_text())
    for entry in manifest["tables"]:
        if entry["name"] == "submission":
            entry["sha256"] = sha256_hex(table.read_bytes())
    resign(made, {"tables": manifest["tables"]})
    assert_refused(made, tmp_path, 2, "conflicts")


# ---- creating a backup ---------------------------------------------------------------------


def test_a_backup_of_a_damaged_store_is_not_written(tmp_path: Path) -> None:
    source = local_system(tmp_path / "source")
    populate(source, tmp_path)
    key = "fy2027/lea-006/school-006001/school/v0001.xlsx"
    with source.app() as core:
        core.store.delete(key)
    result = source.run("backup", "create", "--out", str(tmp_path / "backup"))
    assert result.exit_code == 4
    assert f"{key}: recorded, not in the store" in result.stderr
    assert not (tmp_path / "backup").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_backup_goes_into_a_new_folder(tmp_path: Path) -> None:
    source = local_system(tmp_path / "source")
    with source.app() as core:
        seed_reference(core.engine)
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "keep.txt").write_text("mine")
    result = source.run("backup", "create", "--out", str(tmp_path / "used"))
    assert result.exit_code == 2 and "exists and is not an empty folder" in result.stderr
    assert (tmp_path / "used" / "keep.txt").read_text() == "mine"


def test_the_audit_log_survives_a_forced_restore_intact(made: Path, tmp_path: Path) -> None:
    """--force lifts the audit log's append-only triggers only inside its transaction."""
    target = local_system(tmp_path / "target")
    assert target.run("backup", "restore", str(made)).exit_code == 0
    assert target.run("backup", "restore", "--force", str(made)).exit_code == 0
    with target.app() as core, core.engine.begin() as conn:
        audit_rows = conn.scalar(select(func.count()).select_from(AuditRow.__table__))
        assert audit_rows and audit_rows > 3
        with pytest.raises(Exception, match="append-only"):
            conn.execute(text("DELETE FROM audit_log"))
    with target.app() as core, core.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(SubmissionRow.__table__)) == 2
