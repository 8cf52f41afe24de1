"""Every hostile upload of issue 3, through validate_upload and through `aip workbook
validate`: the expected exit code (2 unreadable, unsafe or not ours; 1 a plan with errors),
structured problems with the expected codes and places, never a traceback, in bounded
memory. The files are real workbooks made hostile in code (tests.support.mutate)."""

from __future__ import annotations

import json
import re
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from aip_forms.cli import cli
from aip_forms.domain import PlanKind
from aip_forms.spec import META_SHEET
from aip_forms.workbook_format.metadata import read_metadata
from tests.support import guard, hostile, mutate
from validators.problems import CATALOGUE, Problem
from validators.validate import Expectation, ValidationReport, validate_upload

SCHOOL = PlanKind.SCHOOL
HANG_GUARD = 30  # seconds: a hang detector, not a speed goal (see bench/bench_validate.py)
MiB = 1 << 20


@pytest.fixture(autouse=True)
def hang_guard() -> Iterator[None]:
    with guard.hang_guard(HANG_GUARD):
        yield


def example() -> bytes:
    return mutate.example(SCHOOL)


def edited_signature() -> bytes:
    book = mutate.book(SCHOOL)
    cell = book[META_SHEET].cell(mutate.meta_row(book, "signature"), 2)
    cell.value = "f" * 64
    return mutate.save(book)


def metadata_of_another_school() -> bytes:
    book = mutate.book(SCHOOL)
    mutate.write_metadata(book, read_metadata(mutate.book(SCHOOL, mutate.OTHER_SCHOOL)))
    return mutate.save(book)


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[], bytes]
    exit_code: int
    codes: list[str]
    places: list[str] = field(default_factory=list)  # "Sheet!A1" of the errors, when placed
    expect_school: str | None = None
    advice: str = ""  # words every error's message must hold


ROOT_CAUSE = "3 Root Cause Analysis"
TIERS = "4 Tiers of Support"

CASES = [
    Case(
        "truncated",
        lambda: example()[: len(example()) // 2],
        2,
        ["INTAKE_TRUNCATED"],
        advice="Upload it again",
    ),
    Case("random-bytes", hostile.random_bytes, 2, ["INTAKE_NOT_ZIP"], advice="Save As"),
    Case("xls-renamed", hostile.legacy_xls, 2, ["INTAKE_XLS"], advice="Excel 97-2003"),
    Case(
        "xlsm-renamed",
        lambda: mutate.as_macro_enabled(example()),
        2,
        ["INTAKE_MACRO", "INTAKE_MACRO"],
        advice="not Excel Macro-Enabled Workbook",
    ),
    Case("ods-renamed", hostile.ods, 2, ["INTAKE_ODS"], advice="OpenDocument"),
    Case("encrypted", hostile.encrypted_xlsx, 2, ["INTAKE_ENCRYPTED"], advice="password"),
    Case(
        "zip-bomb",
        hostile.zip_bomb,
        2,
        ["INTAKE_COMPRESSION_RATIO", "INTAKE_UNCOMPRESSED_TOO_LARGE"],
    ),
    Case(
        "billion-laughs",
        lambda: mutate.with_billion_laughs(example()),
        2,
        ["INTAKE_XML_UNSAFE"],
        advice="xl/sharedStrings.xml",
    ),
    Case(
        "external-entity",
        lambda: mutate.with_external_entity(example()),
        2,
        ["INTAKE_XML_UNSAFE"],
        advice="document type",
    ),
    Case(
        "missing-sheets",
        lambda: mutate.without_sheet(
            mutate.without_sheet(example(), ROOT_CAUSE), "5 Final Submission"
        ),
        1,
        ["SHEET_MISSING", "SHEET_MISSING"],
        advice="is missing from the workbook",
    ),
    Case(
        "metadata-deleted",
        lambda: mutate.without_sheet(example(), META_SHEET),
        2,
        ["META_MISSING"],
        advice="metadata sheet is missing",
    ),
    Case(
        "metadata-of-another-school",
        metadata_of_another_school,
        2,
        ["WRONG_SCHOOL"],
        expect_school=mutate.SCHOOL.code,
        advice="school 001-005",
    ),
    Case("edited-hmac", edited_signature, 2, ["META_SIGNATURE_INVALID"], advice="altered"),
    Case(
        "30000-rows",
        lambda: mutate.with_long_sheet(example(), TIERS, rows=30_000),
        1,
        ["SHEET_TOO_LONG"],
        [f"{TIERS}!A5001"],
        advice="Delete the rows below the plan",
    ),
    Case(
        "formula-in-input",
        lambda: mutate.with_cells(
            example(),
            {mutate.cell_of(SCHOOL, "contact.title"): mutate.Formula('HYPERLINK("http://x","y")')},
        ),
        1,
        ["FORMULA_IN_INPUT", "REQUIRED_MISSING"],
        ["1 Contact Information!C12", "1 Contact Information!C12"],
    ),
    Case(
        "40000-characters",
        lambda: mutate.with_cells(
            example(), {mutate.cell_of(SCHOOL, "root_cause.research"): "x" * 40_000}
        ),
        1,
        ["TEXT_TOO_LONG"],
        [f"{ROOT_CAUSE}!B6"],
        advice="40000 characters long; at most 4000",
    ),
]


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return {case.id: case.build() for case in CASES}


CELL = re.compile(r"^[A-Z]{1,3}[1-9][0-9]*$")


def structured(problems: list[Problem]) -> None:
    for p in problems:
        assert p.code in CATALOGUE, p
        assert p.severity == CATALOGUE[p.code].severity
        assert p.message.strip() and "{" not in p.message
        assert p.cell is None or (p.sheet and CELL.match(p.cell)), p


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_validate_upload(case: Case, files: dict[str, bytes]) -> None:
    expect = Expectation(school_code=case.expect_school)

    tracemalloc.start()
    try:
        report = validate_upload(
            files[case.id],
            key=mutate.KEY,
            config=mutate.CONFIG,
            filename="plan.xlsx",
            expect=expect,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert isinstance(report, ValidationReport)
    assert report.exit_code == case.exit_code
    assert [p.code for p in report.errors] == case.codes
    structured(report.problems)
    if case.places:
        assert [f"{p.sheet}!{p.cell}" for p in report.errors] == case.places
    for p in report.errors:
        assert case.advice in p.message
    assert (report.plan is None) == (case.exit_code == 2)
    assert peak < 200 * MiB


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_command_line(
    case: Case, files: dict[str, bytes], aip_home: Path, tmp_path: Path
) -> None:
    upload = tmp_path / "plan.xlsx"
    upload.write_bytes(files[case.id])
    options = ["--expect-school", case.expect_school] if case.expect_school else []
    runner = CliRunner()

    shown = runner.invoke(cli, ["workbook", "validate", str(upload), *options])
    as_json = runner.invoke(cli, ["workbook", "validate", str(upload), "--json", *options])

    for result in (shown, as_json):
        assert isinstance(result.exception, SystemExit), result.exception
        assert result.exit_code == case.exit_code, result.output
        assert "Traceback" not in result.output
    lines = [line.split("  ", 2) for line in shown.stdout.splitlines()]
    assert [code for _, code, _ in lines] == case.codes
    assert all(message.strip() for _, _, message in lines)
    if case.places:
        assert [where for where, _, _ in lines] == case.places
    assert ("not accepted" if case.exit_code == 2 else "not valid") in shown.stderr
    report = json.loads(as_json.stdout)
    assert report["valid"] is False
    assert [e["code"] for e in report["errors"]] == case.codes
    assert (report["plan"] is None) == (case.exit_code == 2)


def test_an_external_entity_is_never_read(files: dict[str, bytes]) -> None:
    report = validate_upload(
        files["external-entity"], key=mutate.KEY, config=mutate.CONFIG, filename="plan.xlsx"
    )

    assert "root:" not in json.dumps(report.to_dict())


def test_missing_sheets_are_named(files: dict[str, bytes]) -> None:
    report = validate_upload(files["missing-sheets"], key=mutate.KEY, config=mutate.CONFIG)

    assert [p.sheet for p in report.errors] == [ROOT_CAUSE, "5 Final Submission"]
    assert ROOT_CAUSE in report.errors[0].message


def test_a_long_sheet_is_read_in_little_memory(files: dict[str, bytes]) -> None:
    """The 30,000 rows are refused after the first few thousand, not held in memory (100,000
    are more elements than intake reads: see test_validate_issue9.py)."""
    data = files["30000-rows"]
    tracemalloc.start()
    try:
        report = validate_upload(data, key=mutate.KEY, config=mutate.CONFIG)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert [p.code for p in report.errors] == ["SHEET_TOO_LONG"]
    assert peak < 20 * MiB


def test_a_workbook_with_a_formula_keeps_the_rest_of_its_plan(files: dict[str, bytes]) -> None:
    report = validate_upload(files["formula-in-input"], key=mutate.KEY, config=mutate.CONFIG)

    assert report.plan is not None
    assert report.plan.field("contact", "title") is None  # the formula is not the answer
    assert report.plan.field("contact", "first_name") == "Kristin"
    assert report.errors[0].value == '=HYPERLINK("http://x","y")'


@pytest.mark.parametrize("encoding", ["STF-8", "utf-32", "rot13", "idna", "x" * 200])
def test_an_xml_part_in_an_unknown_encoding_is_refused(encoding: str) -> None:
    """Regression: LookupError or ValueError from the XML parser escaped intake."""

    def declare(files: dict[str, bytes]) -> None:
        part = mutate.sheet_parts(files)["1 Contact Information"]
        assert not files[part].startswith(b"<?xml")
        files[part] = f'<?xml version="1.0" encoding="{encoding}"?>'.encode() + files[part]

    report = validate_upload(
        mutate.edit_parts(example(), declare), key=mutate.KEY, config=mutate.CONFIG
    )

    assert report.exit_code == 2
    assert [p.code for p in report.errors] == ["INTAKE_XML_MALFORMED"]
    assert "unsupported encoding" in report.errors[0].message
