"""The command line over the services: users, submit, submissions, review, the revision
workbook and storage verify, in-process with the environment a user would set (AIP_HOME,
AIP_DATABASE_URL), on SQLite and PostgreSQL. Failures end in one line and an exit status,
never a traceback."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result

from aip_forms.bootstrap import App
from aip_forms.cli import cli as aip
from aip_forms.data.queries import plan_data
from aip_forms.spec import spec_for
from aip_forms.storage import LocalObjectStore
from aip_forms.storage.base import sha256_hex
from tests.integration.test_submit import CERTIFY, edited, moto_endpoint
from tests.support.s3 import new_bucket, s3_client_for, s3_env
from tests.unit.test_workflow import seed_reference
from workbook_templates.example import example_workbook

__all__ = ["moto_endpoint"]  # a fixture, imported


def run(*args: str) -> Result:
    result = CliRunner().invoke(aip, list(args), terminal_width=200)
    assert "Traceback" not in result.output + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture
def app(aip_home: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    monkeypatch.setenv("AIP_DATABASE_URL", database_url)
    app = App.from_env()
    seed_reference(app.engine)
    yield app
    app.engine.dispose()


def example_file(app: App, path: Path) -> Path:
    data = plan_data(app.engine, app.config, 2027, "006", "006001")
    example_workbook(spec_for(data.kind), data, app.config, app.settings).save(path)
    return path


def add_users() -> None:
    for args in (
        ("school@belen.org", "--role", "school_coordinator", "--school", "006001"),
        ("district@belen.org", "--role", "district_coordinator", "--lea", "006",
         "--name", "Kristin Garcia"),
        ("school@bernalillo.org", "--role", "school_coordinator", "--school", "007001"),
    ):  # fmt: skip
        result = run("users", "add", *args)
        assert result.exit_code == 0, result.stderr
        assert result.output.startswith("Added ")


def test_users_add_refuses_with_one_line(app: App) -> None:
    result = run("users", "add", "x@nm.org", "--role", "district_coordinator", "--lea", "999")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "Error: no LEA '999' (load reference data with `aip data load`)"
    )
    add_users()
    again = run("users", "add", "school@belen.org", "--role", "school_coordinator",
                "--school", "006001")  # fmt: skip
    assert (again.exit_code, "nothing changed" in again.output) == (0, True)
    listed = run("users", "list")
    assert "district@belen.org (Kristin Garcia): district coordinator of LEA 006" in listed.output


def test_submit_refusals_print_the_report_and_exit_by_kind(app: App, tmp_path: Path) -> None:
    add_users()
    good = example_file(app, tmp_path / "plan.xlsx")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(edited(good.read_bytes(), {"1 Contact Information!C13": "nope"}))
    invalid = run("submit", str(bad), "--user", "school@belen.org", "--final")
    assert invalid.exit_code == 1
    assert "1 Contact Information!C13  " in invalid.stderr  # as `aip workbook validate` says
    assert invalid.stderr.rstrip().splitlines()[-1].startswith("Error: 1 error in bad.xlsx")

    text = tmp_path / "plan.csv"
    text.write_text("group,target\nall,10\n")
    assert run("submit", str(text), "--user", "school@belen.org").exit_code == 2
    other = run("submit", str(good), "--user", "school@bernalillo.org", "--final")
    assert other.exit_code == 2
    assert "may not submit the FY2027 school plan of school 006001" in other.stderr
    nobody = run("submit", str(good), "--user", "nobody@nm.org")
    assert (nobody.exit_code, "no user 'nobody@nm.org'" in nobody.stderr) == (2, True)
    missing = run("submit", str(tmp_path / "none.xlsx"), "--user", "school@belen.org")
    assert (missing.exit_code, missing.stderr.startswith("Error: cannot read")) == (2, True)
    assert "0 submissions" in run("submissions", "list").output


def test_submit_return_revise_approve_verify(app: App, tmp_path: Path) -> None:
    add_users()
    plan = example_file(app, tmp_path / "plan.xlsx")
    first = run("submit", str(plan), "--user", "school@belen.org", "--final")
    assert first.exit_code == 0, first.stderr
    assert "Submission 1: plan 1, version 1, submitted." in first.output
    listed = run("submissions", "list", "--fy", "FY2027", "--lea", "006", "--status", "submitted")
    assert "1 submission." in listed.output and "school@belen.org" in listed.output
    assert "0 submissions" in run("submissions", "list", "--status", "approved").output

    early = run("review", "return", "1", "--user", "district@belen.org")
    assert (early.exit_code, "needs a comment" in early.stderr) == (2, True)
    returned = run("review", "return", "1", "--user", "district@belen.org",
                   "--comment", "Name the bus routes.",
                   "--cell", "'3 Root Cause Analysis'!B10")  # fmt: skip
    assert returned.exit_code == 0, returned.stderr
    assert "is returned" in returned.output
    assert "Comment 1 on 3 Root Cause Analysis!B10." in returned.output

    revision = run("submissions", "workbook", "1", "--out", str(tmp_path / "revise"),
                   "--user", "school@belen.org")  # fmt: skip
    assert revision.exit_code == 0, revision.stderr
    path = tmp_path / "revise" / "school-006001-FY2027-revision-of-v1.xlsx"
    wb = openpyxl.load_workbook(path)
    note = wb["3 Root Cause Analysis"]["B10"].comment
    assert note is not None and "Name the bus routes." in note.text
    revised = tmp_path / "revised.xlsx"
    answers = {"3 Root Cause Analysis!B10": "Routes 4 and 9.", **CERTIFY}
    revised.write_bytes(edited(path.read_bytes(), answers))
    second = run("submit", str(revised), "--user", "school@belen.org", "--final")
    assert second.exit_code == 0, second.stderr
    assert "Submission 2: plan 1, version 2, submitted." in second.output

    table = run("submissions", "diff", "1", "2")
    assert table.exit_code == 0 and "Barriers" in table.output and "Routes 4 and 9." in table.output
    data = json.loads(run("submissions", "diff", "1", "2", "--json").output)
    barriers = next(c for c in data["changes"] if c["path"] == "root_cause.barriers")
    assert (barriers["cell"], barriers["after"]) == ("B10", "Routes 4 and 9.")

    wrong = run("review", "approve", "2", "--user", "school@belen.org")
    assert (wrong.exit_code, "may not review" in wrong.stderr) == (2, True)
    approved = run("review", "approve", "2", "--user", "district@belen.org")
    assert approved.exit_code == 0 and "is approved" in approved.output

    out = tmp_path / "got.xlsx"
    assert run("submissions", "get", "2", "--out", str(out)).exit_code == 0
    assert out.read_bytes() == revised.read_bytes()
    verified = run("storage", "verify")
    assert verified.exit_code == 0
    assert "2 recorded, 2 ok, 0 missing, 0 corrupt, 0 orphaned" in verified.output


def test_storage_verify_finds_orphans_and_corruption(app: App, tmp_path: Path) -> None:
    add_users()
    plan = example_file(app, tmp_path / "plan.xlsx")
    assert run("submit", str(plan), "--user", "school@belen.org").exit_code == 0
    store = app.store
    assert isinstance(store, LocalObjectStore)
    orphan = "fy2027/lea-006/school-006001/school/v0002.xlsx"
    store.put(orphan, b"left behind", sha256=sha256_hex(b"left behind"))
    found = run("storage", "verify")
    assert found.exit_code == 1
    assert f"orphan   {orphan}" in found.output
    fixed = run("storage", "verify", "--fix")
    assert (fixed.exit_code, f"deleted  {orphan}" in fixed.output) == (0, True)
    assert run("storage", "verify").exit_code == 0

    key = "fy2027/lea-006/school-006001/school/v0001.xlsx"
    os.chmod(store.root / key, 0o644)
    (store.root / key).write_bytes(b"PK\x03\x04 damaged")
    broken = run("storage", "verify")
    assert broken.exit_code == 1 and f"corrupt  {key} (submission 1)" in broken.output
    got = run("submissions", "get", "1", "--out", str(tmp_path / "x.xlsx"))
    assert got.exit_code == 4  # corrupt
    assert got.stderr.startswith("Error: submission 1 is corrupt in storage")
    assert not (tmp_path / "x.xlsx").exists()
    assert run("submissions", "diff", "1", "9").exit_code == 2


def test_the_revision_workbook_opens_with_the_answers(app: App, tmp_path: Path) -> None:
    add_users()
    plan = example_file(app, tmp_path / "plan.xlsx")
    assert run("submit", str(plan), "--user", "school@belen.org").exit_code == 0
    out = tmp_path / "r.xlsx"
    assert run("submissions", "workbook", "1", "--out", str(out)).exit_code == 0
    wb = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))
    original = openpyxl.load_workbook(plan)
    sheet = "3 Root Cause Analysis"
    assert [wb[sheet][c].value for c in ("B6", "B8", "B10")] == [
        original[sheet][c].value for c in ("B6", "B8", "B10")
    ]
    denied = run("submissions", "workbook", "1", "--out", str(out), "--user",
                 "school@bernalillo.org")  # fmt: skip
    assert denied.exit_code == 2


def test_submit_and_verify_on_s3(
    app: App, tmp_path: Path, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with s3_client_for(moto_endpoint) as client:
        bucket = new_bucket(client)
    for name, value in s3_env(moto_endpoint, bucket, "aip").items():
        monkeypatch.setenv(name, value)
    add_users()
    plan = example_file(app, tmp_path / "plan.xlsx")
    stored = run("submit", str(plan), "--user", "school@belen.org")
    assert stored.exit_code == 0, stored.stderr
    with s3_client_for(moto_endpoint) as client:
        listed = client.list_objects_v2(Bucket=bucket)["Contents"]
    assert [o["Key"] for o in listed] == ["aip/fy2027/lea-006/school-006001/school/v0001.xlsx"]
    assert "1 recorded, 1 ok" in run("storage", "verify").output
    out = tmp_path / "back.xlsx"
    assert run("submissions", "get", "1", "--out", str(out)).exit_code == 0
    assert out.read_bytes() == plan.read_bytes()
