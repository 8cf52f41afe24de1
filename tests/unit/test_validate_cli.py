"""`aip workbook validate FILE [--json] [--final] [--annotate OUT] [--expect-...]`: exit
codes, the `Sheet!A1  CODE  message` lines, the JSON report and the annotated copy."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result

from aip_forms.cli import cli
from aip_forms.domain import PlanKind
from tests.support import hostile, mutate
from validators.annotate import ERROR_FILL, PROBLEMS_SHEET
from validators.validate import validate_upload

SCHOOL, DISTRICT = PlanKind.SCHOOL, PlanKind.DISTRICT
# "Sheet!A1  CODE  message"; "(file)" or the sheet alone when the problem has no cell
LINE = re.compile(r"^(?P<where>\S.*?)  (?P<code>[A-Z_]+)  (?P<message>\S.*)$")
PLACE = re.compile(r"^(\(file\)|[^!]+(![A-Z]{1,3}[1-9][0-9]*)?)$")
PROBLEM_KEYS = {"code", "severity", "sheet", "cell", "field", "message"}


@pytest.fixture
def run(aip_home: Path, tmp_path: Path):
    """Write `data` to a file and run the command on it with `options`."""

    def run(data: bytes, *options: str, name: str = "plan.xlsx") -> Result:
        upload = tmp_path / name
        upload.write_bytes(data)
        result = CliRunner().invoke(cli, ["workbook", "validate", str(upload), *options])
        # exit 0 leaves no exception; any other code is a SystemExit, never an error
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        assert "Traceback" not in result.output
        return result

    return run


@pytest.mark.parametrize("kind", [SCHOOL, DISTRICT], ids=str)
def test_the_example_workbook_is_valid(run, kind):
    result = run(mutate.example(kind))

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "plan.xlsx: valid (draft); 0 error(s), 0 warning(s)" in result.stderr


def test_the_example_workbook_is_valid_as_a_final_submission(run):
    result = run(mutate.example(SCHOOL), "--final")

    assert result.exit_code == 0
    assert "valid (final)" in result.stderr


def test_an_empty_generated_workbook_has_errors_one_line_each(run):
    result = run(mutate.generated(SCHOOL))

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) > 10
    for line in lines:
        match = LINE.match(line)
        assert match and PLACE.match(match["where"]), line
    assert "1 Contact Information!C10  REQUIRED_MISSING  Contact First Name is required." in lines
    assert any(line.startswith("2A Demographic Targets!F6  TARGET_MISSING  ") for line in lines)
    assert "not valid" in result.stderr


def test_certification_is_checked_only_for_a_final_submission(run):
    unconfirmed = mutate.with_cells(
        mutate.example(SCHOOL), {mutate.cell_of(SCHOOL, "certification.confirm"): "No"}
    )

    assert run(unconfirmed).exit_code == 0
    final = run(unconfirmed, "--final")
    assert final.exit_code == 1
    assert final.stdout.startswith("5 Final Submission!C5  CERTIFICATION_NOT_CONFIRMED  ")


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (hostile.random_bytes, "INTAKE_NOT_ZIP"),
        (hostile.legacy_xls, "INTAKE_XLS"),
        (hostile.encrypted_xlsx, "INTAKE_ENCRYPTED"),
        (hostile.ods, "INTAKE_ODS"),
        (hostile.billion_laughs, "INTAKE_XML_UNSAFE"),
        (hostile.workbook, "META_MISSING"),
    ],
    ids=["random", "xls", "encrypted", "ods", "billion-laughs", "not-ours"],
)
def test_a_hostile_file_exits_2_with_a_file_level_line(run, build, code):
    result = run(build())

    assert result.exit_code == 2
    (line,) = result.stdout.splitlines()
    match = LINE.match(line)
    assert match and match["where"] == "(file)" and match["code"] == code
    assert "not accepted" in result.stderr


def test_a_file_that_cannot_be_read_exits_2(aip_home, tmp_path):
    result = CliRunner().invoke(cli, ["workbook", "validate", str(tmp_path / "nowhere.xlsx")])

    assert result.exit_code == 2
    assert "cannot read the file" in result.stderr


def test_a_renamed_workbook_is_read_with_a_warning(run):
    result = run(mutate.example(SCHOOL), name="plan.xls")

    assert result.exit_code == 0
    assert result.stdout.startswith("(file)  INTAKE_RENAMED  ")
    assert "1 warning(s)" in result.stderr


@pytest.mark.parametrize(
    ("options", "code"),
    [
        (["--expect-lea", "002"], "WRONG_LEA"),
        (["--expect-school", "001-005"], "WRONG_SCHOOL"),
        (["--expect-fy", "2028"], "WRONG_FISCAL_YEAR"),
    ],
)
def test_expectations_from_the_command_line(run, options, code):
    result = run(mutate.example(SCHOOL), *options)

    assert result.exit_code == 2
    assert f"  {code}  " in result.stdout


def test_matching_expectations_pass(run):
    result = run(
        mutate.example(SCHOOL),
        *["--expect-lea", "001", "--expect-school", "001-004", "--expect-fy", "2027"],
    )

    assert result.exit_code == 0


# ---- --json ------------------------------------------------------------------------------


def strict_json(text: str) -> dict:
    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    document = json.loads(text, parse_constant=refuse)
    assert isinstance(document, dict)
    return document


def test_json_of_an_invalid_plan(run):
    result = run(mutate.generated(SCHOOL), "--json")

    assert result.exit_code == 1
    report = strict_json(result.stdout)
    assert {"valid", "errors", "warnings", "identity", "plan"} <= report.keys()
    assert report["valid"] is False
    assert report["errors"]
    for error in report["errors"]:
        assert error.keys() >= PROBLEM_KEYS
        assert error["severity"] == "error"
    first = report["errors"][0]
    assert (first["code"], first["sheet"], first["cell"], first["field"]) == (
        "REQUIRED_MISSING",
        "1 Contact Information",
        "C10",
        "contact.first_name",
    )
    assert report["identity"] == {
        "kind": "school",
        "spec_version": 1,
        "fiscal_year": 2027,
        "lea_code": "001",
        "school_code": "001-004",
        "issued_at": mutate.ISSUED,
        "signature_valid": True,
    }
    assert report["plan"]["kind"] == "school"
    assert report["plan"]["sections"]["contact"]["fields"]["lea_name"] == mutate.LEA.name
    assert report["plan"]["sections"]["contact"]["fields"]["first_name"] is None


def test_json_of_a_valid_plan_is_the_extracted_plan(run):
    data = mutate.example(SCHOOL)

    result = run(data, "--json", "--final")

    report = strict_json(result.stdout)
    assert report["valid"] is True and report["errors"] == [] and report["warnings"] == []
    expected = validate_upload(data, key=mutate.KEY, config=mutate.CONFIG, final=True)
    assert expected.plan is not None
    assert report["plan"] == json.loads(json.dumps(expected.plan.to_json_dict()))
    certified = report["plan"]["sections"]["certification"]["fields"]["date"]
    assert dt.date.fromisoformat(certified) == expected.plan.field("certification", "date")


def test_json_warnings_are_listed_apart(run):
    data = mutate.with_cells(mutate.example(SCHOOL), {("2A Demographic Targets", "F6"): 0.99})

    result = run(data, "--json")

    assert result.exit_code == 0
    report = strict_json(result.stdout)
    assert report["valid"] is True and report["errors"] == []
    (warning,) = report["warnings"]
    assert warning.keys() >= PROBLEM_KEYS
    assert (warning["code"], warning["severity"], warning["cell"]) == (
        "TARGET_NOT_BELOW_LATEST",
        "warning",
        "F6",
    )


def test_json_of_a_hostile_file(run):
    result = run(hostile.encrypted_xlsx(), "--json")

    assert result.exit_code == 2
    report = strict_json(result.stdout)
    assert report["valid"] is False
    assert report["identity"] is None and report["plan"] is None
    assert [e["code"] for e in report["errors"]] == ["INTAKE_ENCRYPTED"]
    assert report["errors"][0]["sheet"] is None


# ---- --annotate --------------------------------------------------------------------------


def test_annotate_marks_every_problem_and_lists_it_first(run, tmp_path):
    out = tmp_path / "annotated" / "plan-problems.xlsx"
    data = mutate.with_cells(mutate.generated(SCHOOL), {("2A Demographic Targets", "F7"): 0.99})

    result = run(data, "--annotate", str(out))

    assert result.exit_code == 1
    assert f"Annotated copy: {out}" in result.stderr
    report = validate_upload(data, key=mutate.KEY, config=mutate.CONFIG)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[0] == PROBLEMS_SHEET
    listing = book[PROBLEMS_SHEET]
    rows = list(listing.iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (p.severity, p.sheet, p.cell, p.code) for p in report.problems
    ]
    assert any(r[0] == "warning" for r in rows)  # warnings are listed too
    for number, p in enumerate(report.problems, start=2):
        link = listing.cell(number, 3).hyperlink
        assert link is not None and link.location == f"'{p.sheet}'!{p.cell}"
        assert listing.cell(number, 5).value == p.message
        cell = book[p.sheet][p.cell]
        assert cell.comment is not None and p.code in cell.comment.text
        if p.severity == "error":
            assert cell.fill.fgColor.rgb == ERROR_FILL.fgColor.rgb
    assert book.active is not None and book.active.title == PROBLEMS_SHEET
    assert [ws.title for ws in book.worksheets if ws.sheet_view.tabSelected] == [PROBLEMS_SHEET]


def test_an_annotated_copy_validates_to_the_same_problems(run, tmp_path):
    """The copy can be fixed and uploaded again: it is still our workbook."""
    out = tmp_path / "annotated.xlsx"
    data = mutate.generated(DISTRICT)

    run(data, "--annotate", str(out))

    before = validate_upload(data, key=mutate.KEY, config=mutate.CONFIG)
    after = validate_upload(out.read_bytes(), key=mutate.KEY, config=mutate.CONFIG)
    assert [(p.code, p.sheet, p.cell) for p in after.problems] == [
        (p.code, p.sheet, p.cell) for p in before.problems
    ]


def test_annotate_on_a_valid_plan_says_so(run, tmp_path):
    out = tmp_path / "annotated.xlsx"

    assert run(mutate.example(SCHOOL), "--annotate", str(out)).exit_code == 0

    listing = openpyxl.load_workbook(out)[PROBLEMS_SHEET]
    assert listing.cell(2, 5).value == "No problems found."


def test_no_annotated_copy_of_a_file_that_was_not_accepted(run, tmp_path):
    out = tmp_path / "annotated.xlsx"

    result = run(hostile.legacy_xls(), "--annotate", str(out))

    assert result.exit_code == 2
    assert not out.exists()
    assert "No annotated copy" in result.stderr
