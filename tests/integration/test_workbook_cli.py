"""`aip workbook generate|example` against a real SQLite database in a temporary AIP_HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from aip_forms.cli import cli
from aip_forms.config import Settings
from aip_forms.db.session import make_engine, upgrade
from aip_forms.workbook_format.metadata import read_metadata, verify
from tests.unit.test_generate_queries import seed


@pytest.fixture
def home(aip_home: Path) -> Path:
    """AIP_HOME whose default database holds the small data set of the query tests."""
    engine = make_engine(Settings.from_env().database_url)
    upgrade(engine)
    seed(engine)
    engine.dispose()
    return aip_home


def run(*args: str):
    return CliRunner().invoke(cli, ["workbook", *args])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lea", "NOPE"], "Error: Unknown LEA code 'NOPE'."),
        (["--lea", "001", "--school", "NOPE"], "Error: Unknown school code 'NOPE'."),
        (
            ["--lea", "001", "--school", "002001"],
            "Error: School 002001 belongs to LEA 002, not 001.",
        ),
    ],
)
def test_an_unknown_lea_or_school_is_one_line_and_exit_code_2(home, tmp_path, args, message):
    for command in ("generate", "example"):
        result = run(command, "--fy", "2027", *args, "--out", str(tmp_path / "x.xlsx"))
        assert result.exit_code == 2, result.output
        assert result.stderr.strip() == message
        assert "Traceback" not in result.output
        assert not (tmp_path / "x.xlsx").exists()


def test_the_installed_command_prints_no_traceback_for_an_unknown_lea(home, tmp_path):
    env = {**os.environ, "AIP_HOME": str(home)}
    code = "from aip_forms.cli import main; main()"
    args = ["workbook", "generate", "--fy", "FY2027", "--lea", "NOPE", "--out", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["Error: Unknown LEA code 'NOPE'."]
    assert "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--fy", "2027", "--out", "x"],  # neither --lea nor --all
        ["--fy", "2027", "--all", "--lea", "001", "--out", "x"],
        ["--fy", "2027", "--school", "001001", "--out", "x"],
        ["--fy", "next year", "--lea", "001", "--out", "x"],
    ],
)
def test_bad_arguments_are_refused_with_exit_code_2(home, args):
    result = run("generate", *args)
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.output


def test_generate_writes_one_school_workbook(home, tmp_path):
    out = tmp_path / "belen-elementary.xlsx"
    result = run(
        "generate", "--fy", "2027", "--lea", "001", "--school", "001001", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"Wrote {out}"
    metadata = read_metadata(load_workbook(out))
    assert (metadata.kind, metadata.lea_code, metadata.school_code) == ("school", "001", "001001")
    assert verify(metadata, b"test-secret-key")


def test_generate_into_a_folder_names_the_district_workbook(home, tmp_path):
    result = run("generate", "--fy", "2027", "--lea", "001", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    wb = load_workbook(tmp_path / "district-001.xlsx")
    assert wb["2 School Targets"]["B7"].value == "BELEN HIGH"


def test_generate_all_writes_every_plan_and_a_summary(home, tmp_path):
    result = run("generate", "--fy", "2027", "--all", "--out", str(tmp_path), "--workers", "2")
    assert result.exit_code == 0, result.output
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.xlsx"))
    assert written == [
        "FY2027/001/district-001.xlsx",
        "FY2027/001/school-001001.xlsx",
        "FY2027/001/school-001002.xlsx",
        "FY2027/002/district-002.xlsx",
        "FY2027/002/school-002001.xlsx",
    ]
    assert "5 workbooks in" in result.output and str(tmp_path / "FY2027") in result.output
    assert "district" in result.output and "school" in result.output


def test_generate_all_for_a_year_without_data_says_so(home, tmp_path):
    result = run("generate", "--fy", "2031", "--all", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "no plans for FY2031" in result.stderr


def test_example_writes_a_filled_workbook(home, tmp_path):
    out = tmp_path / "example.xlsx"
    result = run("example", "--fy", "2027", "--lea", "001", "--school", "001001", "--out", str(out))
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)
    assert wb["1 Contact Information"]["C10"].value == "Kristin"
    assert wb["5 Final Submission"]["C5"].value == "Yes"


def test_an_output_path_that_cannot_be_written_is_one_line_and_exit_code_2(home, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = blocker / "plan.xlsx"
    result = run("generate", "--fy", "2027", "--lea", "001", "--out", str(out))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {blocker}: ") and result.stderr.count("\n") == 1
