"""The real client round trip: generated and example workbooks opened in LibreOffice Calc
(headless, through its Python UNO bridge: tests/support/lo_edit.py), changed as a user would,
saved as .xlsx and validated.

All edits run in one LibreOffice session (a fresh profile, a time limit, its own process
group, checked to be gone afterwards); each test then validates its file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aip_forms.domain import PlanKind
from tests.support import mutate
from tests.support.lo_edit import Edit, Job, edit_in_libreoffice
from validators.validate import ValidationReport, validate_upload

# One worker runs the module, so one LibreOffice session serves every test.
pytestmark = [pytest.mark.libreoffice, pytest.mark.xdist_group("validate-libreoffice")]

SCHOOL, DISTRICT = PlanKind.SCHOOL, PlanKind.DISTRICT
CONTACT = "1 Contact Information"
TARGETS = "2A Demographic Targets"
PASSWORD = mutate.SETTINGS.workbook_password

# name -> (source workbook, edits)
EDITS: dict[str, tuple[str, list[Edit]]] = {
    "school-unchanged": ("example-school", []),
    "district-unchanged": ("example-district", []),
    "cleared-required": ("example-school", [Edit(CONTACT, "C10", "clear")]),
    "cleared-strategy-plan": ("example-school", [Edit("4 Tiers of Support", "F7", "clear")]),
    "changed-locked-text": ("example-school", [Edit(CONTACT, "C7", "text", "BELEN MIDDLE")]),
    "changed-locked-rate": ("example-school", [Edit(TARGETS, "D6", "type", "50%")]),
    "typed-into-generated": (
        "generated-school",
        [
            Edit(CONTACT, "C10", "type", "Kristin"),
            Edit(CONTACT, "C13", "type", "kgarcia@belen.k12.nm.us"),
            Edit(TARGETS, "F6", "type", "12%"),
            Edit(TARGETS, "F7", "type", "0.2"),
            Edit("5 Final Submission", "C8", "type", "9/15/2026"),
        ],
    ),
    "formula-typed": ("example-school", [Edit(CONTACT, "C12", "type", "=UPPER(C10)")]),
}
SOURCES = {
    "example-school": lambda: mutate.example(SCHOOL),
    "example-district": lambda: mutate.example(DISTRICT),
    "generated-school": lambda: mutate.generated(SCHOOL),
}


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every edited workbook, as LibreOffice saved it."""
    assert shutil.which("soffice"), "LibreOffice (soffice) is not installed"
    folder = tmp_path_factory.mktemp("libreoffice")
    sources = {}
    for name, build in SOURCES.items():
        sources[name] = folder / f"{name}.xlsx"
        sources[name].write_bytes(build())
    jobs = [
        Job(str(sources[source]), str(folder / f"{name}-saved.xlsx"), edits, PASSWORD)
        for name, (source, edits) in EDITS.items()
    ]
    edit_in_libreoffice(jobs, folder / "run")
    return {name: folder / f"{name}-saved.xlsx" for name in EDITS}


def validate(data: bytes, final: bool = False) -> ValidationReport:
    return validate_upload(data, key=mutate.KEY, config=mutate.CONFIG, final=final)


def errors_at(report: ValidationReport) -> list[tuple[str, str, str]]:
    return [(p.code, p.sheet or "", p.cell or "") for p in report.errors]


@pytest.mark.parametrize(
    ("name", "kind"), [("school-unchanged", SCHOOL), ("district-unchanged", DISTRICT)]
)
def test_an_example_saved_unchanged_stays_valid_with_the_same_plan(saved, name, kind):
    data = saved[name].read_bytes()
    assert data != mutate.example(kind)  # LibreOffice wrote its own file
    assert b"xl/sharedStrings.xml" in data  # with its text in shared strings

    report = validate(data, final=True)
    original = validate(mutate.example(kind), final=True)

    assert report.outcome == "valid", errors_at(report)
    assert report.warnings == original.warnings
    assert report.identity == original.identity
    assert report.plan is not None and original.plan is not None
    assert report.plan.to_json_dict() == original.plan.to_json_dict()


def test_a_cleared_required_cell_is_reported_at_that_cell(saved):
    report = validate(saved["cleared-required"].read_bytes())

    assert errors_at(report) == [("REQUIRED_MISSING", CONTACT, "C10")]


def test_a_cleared_part_of_a_strategy_plan_is_reported_at_that_cell(saved):
    report = validate(saved["cleared-strategy-plan"].read_bytes())

    assert errors_at(report) == [("STRATEGY_PLAN_INCOMPLETE", "4 Tiers of Support", "F7")]


@pytest.mark.parametrize(
    ("name", "sheet", "cell", "found"),
    [
        ("changed-locked-text", CONTACT, "C7", "BELEN MIDDLE"),
        ("changed-locked-rate", TARGETS, "D6", "50%"),
    ],
)
def test_a_changed_locked_value_is_reported_as_tampered(saved, name, sheet, cell, found):
    issued = validate(mutate.example(SCHOOL))
    assert issued.plan is not None

    report = validate(saved[name].read_bytes())

    assert report.exit_code == 1
    assert errors_at(report) == [("PREFILL_CHANGED", sheet, cell)]
    (changed,) = report.errors
    assert changed.value == found
    assert "it was issued as" in changed.message


def test_answers_typed_into_an_issued_workbook_are_read_as_typed(saved):
    report = validate(saved["typed-into-generated"].read_bytes())

    assert report.identity is not None and report.identity.signature_valid
    assert report.plan is not None
    contact = report.plan.sections["contact"].fields
    assert contact["first_name"] == "Kristin"
    assert contact["email"] == "kgarcia@belen.k12.nm.us"
    rows = report.plan.rows("demographics", "subgroups")
    assert rows[0].get("target") == pytest.approx(0.12)
    assert rows[1].get("target") == pytest.approx(0.2)
    places = {(p.sheet, p.cell) for p in report.problems}
    for cell in ("C10", "C13"):
        assert (CONTACT, cell) not in places
    assert (CONTACT, "C11") in places  # still empty: still required
    assert not {(TARGETS, "F6"), (TARGETS, "F7")} & places - {
        (p.sheet, p.cell) for p in report.warnings
    }
    final = validate(saved["typed-into-generated"].read_bytes(), final=True)
    assert final.plan is not None
    assert str(final.plan.field("certification", "date")) == "2026-09-15"


def test_a_formula_typed_in_libreoffice_is_refused(saved):
    report = validate(saved["formula-typed"].read_bytes())

    assert ("FORMULA_IN_INPUT", CONTACT, "C12") in errors_at(report)
    assert report.plan is not None and report.plan.field("contact", "title") is None
