"""validate_upload on real generated and example workbooks: identity and tamper checks, and
reading by the spec as Excel, LibreOffice and Google Sheets save values. Each workbook is
made in code from a real one (tests.support.mutate); each test names the codes it pins."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import string
import zipfile

import openpyxl
import pytest

from aip_forms.domain import PlanKind
from aip_forms.spec import META_SHEET
from aip_forms.workbook_format.metadata import Metadata, read_metadata, sign
from tests.support import hostile, mutate
from tests.support.mutate import KEY
from validators.cells import WorkbookCells
from validators.problems import CATALOGUE, problem
from validators.validate import Expectation, ValidationReport, validate_upload

SCHOOL, DISTRICT = PlanKind.SCHOOL, PlanKind.DISTRICT
CONTACT = "1 Contact Information"
TARGETS = "2A Demographic Targets"


def validate(data: bytes, **options: object) -> ValidationReport:
    return validate_upload(data, key=KEY, config=mutate.CONFIG, filename="plan.xlsx", **options)


def codes(report: ValidationReport) -> list[str]:
    return [p.code for p in report.problems]


def at(report: ValidationReport, code: str) -> list[str]:
    return [f"{p.sheet}!{p.cell}" for p in report.problems if p.code == code]


def issued(data: bytes) -> Metadata:
    return read_metadata(openpyxl.load_workbook(io.BytesIO(data)))


def percent(fraction: object) -> str:
    assert isinstance(fraction, float)
    return f"{round(fraction * 100, 2):g}%"


def plan_of(report: ValidationReport) -> dict:
    assert report.plan is not None
    return report.plan.to_json_dict()


@pytest.fixture(scope="module")
def example_plans() -> dict[PlanKind, dict]:
    return {kind: plan_of(validate(mutate.example(kind))) for kind in (SCHOOL, DISTRICT)}


# ---- identity ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "school"), [(SCHOOL, mutate.SCHOOL.code), (DISTRICT, None)], ids=str
)
def test_an_example_workbook_is_ours_untampered_and_valid(kind, school):
    report = validate(mutate.example(kind), final=True)

    assert report.outcome == "valid" and report.exit_code == 0
    assert report.errors == [] and report.warnings == []
    assert report.identity is not None
    assert report.identity.to_dict() == {
        "kind": str(kind),
        "spec_version": 1,
        "fiscal_year": mutate.FISCAL_YEAR,
        "lea_code": mutate.LEA.code,
        "school_code": school,
        "issued_at": mutate.ISSUED,
        "signature_valid": True,
    }
    assert report.plan is not None
    assert (report.plan.kind, report.plan.lea_code, report.plan.school_code) == (
        kind,
        mutate.LEA.code,
        school,
    )


def test_an_issued_workbook_is_ours_but_its_plan_is_not_filled_in():
    report = validate(mutate.generated(SCHOOL))

    assert report.outcome == "invalid" and report.exit_code == 1
    assert report.identity is not None and report.identity.signature_valid
    assert {"META_MISSING", "META_SIGNATURE_INVALID", "PREFILL_CHANGED"}.isdisjoint(codes(report))
    assert f"{CONTACT}!C10" in at(report, "REQUIRED_MISSING")


def test_an_upload_for_the_workbook_it_is_passes_every_expectation():
    expect = Expectation(SCHOOL, mutate.FISCAL_YEAR, mutate.LEA.code, mutate.SCHOOL.code)

    assert validate(mutate.example(SCHOOL), expect=expect).outcome == "valid"


MISMATCHES = [
    pytest.param(
        SCHOOL, Expectation(kind=DISTRICT), "WRONG_KIND", "a district plan", id="WRONG_KIND"
    ),
    pytest.param(
        SCHOOL, Expectation(fiscal_year=2028), "WRONG_FISCAL_YEAR", "FY2027", id="WRONG_FISCAL_YEAR"
    ),
    pytest.param(SCHOOL, Expectation(lea_code="002"), "WRONG_LEA", "LEA 001", id="WRONG_LEA"),
    pytest.param(
        SCHOOL,
        Expectation(school_code="001-005"),
        "WRONG_SCHOOL",
        "school 001-004",
        id="WRONG_SCHOOL",
    ),
    pytest.param(
        DISTRICT,
        Expectation(school_code="001-004"),
        "WRONG_SCHOOL",
        "none (district plan)",
        id="WRONG_SCHOOL-district-workbook",
    ),
]


@pytest.mark.parametrize(("kind", "expect", "code", "words"), MISMATCHES)
def test_a_workbook_for_another_plan_is_not_accepted(kind, expect, code, words):
    report = validate(mutate.example(kind), expect=expect)

    assert report.outcome == "unreadable" and report.exit_code == 2
    assert codes(report) == [code]
    assert words in report.errors[0].message
    assert report.plan is None
    assert report.identity is not None  # says whose workbook it is


def test_every_mismatch_is_reported_at_once():
    expect = Expectation(fiscal_year=2028, lea_code="002", school_code="002-001")

    assert codes(validate(mutate.example(SCHOOL), expect=expect)) == [
        "WRONG_FISCAL_YEAR",
        "WRONG_LEA",
        "WRONG_SCHOOL",
    ]


def test_META_MISSING_when_the_metadata_sheet_is_deleted():
    report = validate(mutate.without_sheet(mutate.example(SCHOOL), META_SHEET))

    assert report.exit_code == 2
    assert codes(report) == ["META_MISSING"]
    assert "metadata sheet is missing" in report.errors[0].message
    assert "Download a fresh workbook" in report.errors[0].message


def test_META_MISSING_for_a_workbook_aip_forms_did_not_make():
    report = validate(hostile.workbook())

    assert codes(report) == ["META_MISSING"]


def test_META_MISSING_when_the_metadata_is_damaged():
    book = mutate.book(SCHOOL)
    book[META_SHEET].cell(mutate.meta_row(book, "prefilled_parts"), 2).value = "two"

    report = validate(mutate.save(book))

    assert codes(report) == ["META_MISSING"]
    assert "damaged" in report.errors[0].message


def test_META_SIGNATURE_INVALID_when_the_signature_is_edited():
    book = mutate.book(SCHOOL)
    cell = book[META_SHEET].cell(mutate.meta_row(book, "signature"), 2)
    signature = str(cell.value)
    cell.value = ("1" if signature.startswith("0") else "0") + signature[1:]

    report = validate(mutate.save(book))

    assert report.exit_code == 2
    assert codes(report) == ["META_SIGNATURE_INVALID"]
    assert report.identity is not None and not report.identity.signature_valid
    assert report.plan is None


def test_META_SIGNATURE_INVALID_when_the_identity_is_copied_from_another_school():
    """Another school's code and name typed into the metadata: the signature no longer fits."""
    book = mutate.book(SCHOOL)
    book[META_SHEET].cell(mutate.meta_row(book, "school_code"), 2).value = "001-005"

    assert codes(validate(mutate.save(book))) == ["META_SIGNATURE_INVALID"]


def test_META_SIGNATURE_INVALID_when_signed_with_another_deployments_key():
    book = mutate.book(SCHOOL)
    mutate.write_metadata(book, sign(read_metadata(book), b"another-deployment"))

    assert codes(validate(mutate.save(book))) == ["META_SIGNATURE_INVALID"]


@pytest.mark.parametrize("issued_json", ['{"X!A1": [1, 2]}', '{"X!A1": NaN}', '{"X!A1": true}'])
def test_META_SIGNATURE_INVALID_when_issued_values_are_not_cell_values(issued_json):
    """Regression: verifying such metadata raised TypeError or ValueError (a crash)."""
    book = mutate.book(SCHOOL)
    book[META_SHEET].cell(mutate.meta_row(book, "prefilled_1"), 2).value = issued_json

    report = validate(mutate.save(book))

    assert codes(report) == ["META_SIGNATURE_INVALID"]


def test_metadata_copied_whole_from_another_schools_workbook():
    """A real signature, but of another school's workbook: that upload is refused, and the
    locked cells say whose data this workbook really holds."""
    book = mutate.book(SCHOOL)
    donor = mutate.book(SCHOOL, mutate.OTHER_SCHOOL)
    mutate.write_metadata(book, read_metadata(donor))
    data = mutate.save(book)

    refused = validate(data, expect=Expectation(school_code=mutate.SCHOOL.code))
    assert refused.exit_code == 2
    assert codes(refused) == ["WRONG_SCHOOL"]
    assert "school 001-005" in refused.errors[0].message

    report = validate(data)
    assert report.exit_code == 1
    changed = {p.cell: p.message for p in report.errors if p.sheet == CONTACT}
    assert "it was issued as BELEN MIDDLE" in changed["C7"]
    assert "it was issued as 001-005" in changed["C8"]


def test_SPEC_VERSION_UNSUPPORTED():
    book = mutate.book(SCHOOL)
    mutate.resigned(book, spec_version=99)

    report = validate(mutate.save(book))

    assert report.exit_code == 2
    assert codes(report) == ["SPEC_VERSION_UNSUPPORTED"]
    assert "version 99" in report.errors[0].message
    assert "Download a fresh workbook" in report.errors[0].message


# ---- locked values -----------------------------------------------------------------------


def test_PREFILL_CHANGED_once_per_changed_cell_with_the_issued_value():
    data = mutate.example(SCHOOL)
    was = issued(data).prefilled
    changed = mutate.with_cells(
        data,
        {(CONTACT, "C7"): "BELEN MIDDLE", (TARGETS, "D6"): 0.5, (TARGETS, "B7"): None},
    )

    report = validate(changed)

    assert report.exit_code == 1
    assert at(report, "PREFILL_CHANGED") == [f"{CONTACT}!C7", f"{TARGETS}!D6", f"{TARGETS}!B7"]
    messages = {p.cell: p for p in report.errors}
    assert "it was issued as BELEN HIGH" in messages["C7"].message
    assert messages["C7"].value == "BELEN MIDDLE"
    assert f"it was issued as {was[f'{TARGETS}!B7']}" in messages["B7"].message
    assert messages["B7"].value == "(empty)"
    # a rate is shown as the workbook shows it: 38.34%, not 0.3834
    assert f"it was issued as {percent(was[f'{TARGETS}!D6'])}" in messages["D6"].message
    assert messages["D6"].value == "50%"
    assert report.plan is not None  # the plan is still read


def test_locked_values_saved_in_another_form_are_unchanged():
    """Excel and LibreOffice save 120 as 120.0 and rates with float noise."""
    data = mutate.example(SCHOOL)
    was = issued(data).prefilled
    rate = was[f"{TARGETS}!E6"]
    assert isinstance(rate, float)
    resaved = mutate.with_cells(
        data,
        {
            (TARGETS, "B6"): float(was[f"{TARGETS}!B6"]),  # type: ignore[arg-type]
            (TARGETS, "E6"): rate + 1e-12,
            (CONTACT, "C6"): f"{was[f'{CONTACT}!C6']}",
        },
    )

    assert validate(resaved).outcome == "valid"


# ---- reading by the spec -----------------------------------------------------------------


@pytest.mark.parametrize("kind", [SCHOOL, DISTRICT], ids=str)
def test_fields_are_found_at_their_spec_positions_when_the_names_are_dropped(kind, example_plans):
    data = mutate.example(kind)
    names = mutate.defined_names(data)
    assert len(names) > 20
    unnamed = mutate.with_names(data, dict.fromkeys(names))
    assert mutate.defined_names(unnamed) == {}

    report = validate(unnamed)

    assert report.outcome == "valid"
    assert plan_of(report) == example_plans[kind]


def test_a_redirected_name_is_reported_and_the_issued_cell_is_read(example_plans):
    """NAME_MOVED: the plan is read where it was issued, whatever the names say."""
    name = "aip_contact_email"
    data = mutate.with_names(mutate.example(SCHOOL), {name: f"'{CONTACT}'!$E$13"})
    moved = mutate.with_cells(data, {(CONTACT, "E13"): "moved@belen.k12.nm.us"})

    report = validate(moved)

    assert [(p.code, p.sheet, p.cell) for p in report.errors] == [("NAME_MOVED", CONTACT, "C13")]
    assert f"{CONTACT}!E13" in report.errors[0].message
    assert plan_of(report) == example_plans[SCHOOL]


def test_a_broken_name_is_harmless_and_a_name_to_another_sheet_is_reported(example_plans):
    data = mutate.with_names(
        mutate.example(SCHOOL),
        {
            "aip_contact_email": "#REF!",
            "aip_contact_first_name": f"'{CONTACT}'!$C$0",
            "aip_contact_last_name": "'No Such Sheet'!$C$11",
        },
    )

    report = validate(data)

    assert [p.code for p in report.errors] == ["NAME_MOVED"]
    assert "No Such Sheet!C11" in report.errors[0].message
    assert plan_of(report) == example_plans[SCHOOL]


def test_blank_rows_between_strategies_are_allowed():
    sheet, _ = mutate.cell_of(SCHOOL, "tiers.tier1.strategy.0")
    columns = "ABCDEF"
    blank = {(sheet, f"{c}8"): None for c in columns}  # tier 1, second row
    later = {
        (sheet, mutate.cell_of(SCHOOL, f"tiers.tier1.{key}.5")[1]): value
        for key, value in {
            "strategy": "Other",
            "other_strategy": "Walking school bus",
            "action_steps": "Walk students to school from two stops",
            "responsible": "Parent volunteers",
            "resources": "Safety vests",
            "timeline": "From October 1",
        }.items()
    }

    report = validate(mutate.with_cells(mutate.example(SCHOOL), {**blank, **later}))

    assert report.outcome == "valid", report.problems
    assert report.plan is not None
    rows = report.plan.rows("tiers", "tier1")
    assert rows[1].is_blank
    assert rows[5].get("other_strategy") == "Walking school bus"


@pytest.mark.parametrize(
    "typed",
    [0.25, 25, "25%", "25", " 25 %", "25\u00a0%", "0.25", "\u00a025%\u00a0"],
    ids=repr,
)
def test_percentages_as_clients_save_them(typed):
    cell = (TARGETS, "F6")

    report = validate(mutate.with_cells(mutate.example(SCHOOL), {cell: typed}))

    assert report.errors == []
    assert report.plan is not None
    assert report.plan.rows("demographics", "subgroups")[0].get("target") == pytest.approx(0.25)


@pytest.mark.parametrize(
    "typed",
    [46280, 46280.0, "9/15/2026", "09/15/26", "2026-09-15", "September 15, 2026", "15 Sep 2026",
     "2026-09-15T00:00:00", " 9/15/2026\u00a0"],
    ids=repr,
)  # fmt: skip
def test_dates_as_serial_numbers_or_text(typed):
    cell = mutate.cell_of(SCHOOL, "certification.date")

    report = validate(mutate.with_cells(mutate.example(SCHOOL), {cell: typed}), final=True)

    assert report.errors == []
    assert report.plan is not None
    assert report.plan.field("certification", "date") == dt.date(2026, 9, 15)


def test_stray_and_non_breaking_spaces_are_trimmed():
    values = {
        mutate.cell_of(SCHOOL, "contact.first_name"): "\u00a0Kristin\u00a0 ",
        mutate.cell_of(SCHOOL, "contact.title"): "School\u00a0 Attendance\u2007Coordinator",
        mutate.cell_of(SCHOOL, "contact.email"): " kgarcia@belen.k12.nm.us\u00a0",
    }

    report = validate(mutate.with_cells(mutate.example(SCHOOL), values))

    assert report.errors == []
    assert report.plan is not None
    contact = report.plan.sections["contact"].fields
    assert contact["first_name"] == "Kristin"
    assert contact["title"] == "School Attendance Coordinator"
    assert contact["email"] == "kgarcia@belen.k12.nm.us"


def test_a_space_alone_is_an_empty_answer():
    cell = mutate.cell_of(SCHOOL, "contact.first_name")

    report = validate(mutate.with_cells(mutate.example(SCHOOL), {cell: "\u00a0 \t"}))

    assert at(report, "REQUIRED_MISSING") == [f"{CONTACT}!C10"]


def test_text_in_shared_strings_reads_the_same_plan(example_plans):
    data = mutate.with_shared_strings(mutate.example(SCHOOL))
    assert "xl/sharedStrings.xml" in mutate.parts(data)

    report = validate(data)

    assert report.outcome == "valid"
    assert plan_of(report) == example_plans[SCHOOL]


@pytest.mark.parametrize("typed", [float("nan"), float("inf"), float("-inf")], ids=repr)
def test_not_a_number_is_not_a_target(typed):
    """Regression: a target saved as NaN was taken as a valid target (every comparison with
    NaN is false); infinity crashed the target rules."""
    report = validate(mutate.with_cells(mutate.example(SCHOOL), {(TARGETS, "F6"): typed}))

    assert at(report, "VALUE_INVALID") == [f"{TARGETS}!F6"]
    json.dumps(report.to_dict(), allow_nan=False)  # the plan holds no NaN


def test_a_non_number_in_a_locked_number_cell_is_tampering_not_a_crash():
    report = validate(mutate.with_cells(mutate.example(SCHOOL), {(TARGETS, "B6"): float("inf")}))

    assert at(report, "PREFILL_CHANGED") == [f"{TARGETS}!B6"]
    json.dumps(report.to_dict(), allow_nan=False)


# ---- sheets and damaged workbooks --------------------------------------------------------


def test_SHEET_MISSING_names_the_sheet():
    """Regression: formatting this message raised KeyError (its {sheet} was not passed)."""
    report = validate(mutate.without_sheet(mutate.example(SCHOOL), "3 Root Cause Analysis"))

    assert report.exit_code == 1
    assert codes(report) == ["SHEET_MISSING"]
    assert report.errors[0].sheet == "3 Root Cause Analysis"
    assert "The sheet 3 Root Cause Analysis (Step 3 - Root Cause Analysis) is missing" in (
        report.errors[0].message
    )


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_catalogue_message_formats_with_its_place(code):
    """A message may name {sheet} and {cell}: they are the problem's place, not parameters."""
    fields = {name for _, name, _, _ in string.Formatter().parse(CATALOGUE[code].template) if name}
    params = dict.fromkeys(fields - {"sheet", "cell"}, "x")

    found = problem(code, sheet="S", cell="A1", **params)

    assert found.message and "{" not in found.message


def _damaged_workbooks() -> dict[str, tuple[bytes, str]]:
    example = mutate.example(SCHOOL)
    shared = mutate.with_shared_strings(example)
    part = mutate.sheet_parts(mutate.parts(example))[CONTACT]

    def drop_part(files: dict[str, bytes]) -> None:
        del files[part]

    def bad_index(files: dict[str, bytes]) -> None:
        sheet = mutate.sheet_parts(files)[CONTACT]
        pattern = rb'(<c [^>]*t="s"[^>]*><v>)\d+(</v>)'
        files[sheet], count = re.subn(pattern, rb"\g<1>99999\2", files[sheet], count=1)
        assert count == 1

    def bad_row(files: dict[str, bytes]) -> None:
        files[part] = files[part].replace(b'<row r="10"', b'<row r="ten"', 1)

    def not_xml(files: dict[str, bytes]) -> None:
        """The sheet's relationship points to a part intake does not take for XML."""
        files["xl/media/sheet.bin"] = b"\x89PNG\r\n\x1a\n"
        rels = "xl/_rels/workbook.xml.rels"
        files[rels] = files[rels].replace(f"/{part}".encode(), b"/xl/media/sheet.bin")

    return {
        "part-missing": (
            mutate.edit_parts(example, drop_part),
            f"the part of sheet '{CONTACT}', {part}, is missing",
        ),
        "shared-string-missing": (
            mutate.edit_parts(shared, bad_index),
            f"of sheet '{CONTACT}' refers to text that is not in it",
        ),
        "row-number": (mutate.edit_parts(example, bad_row), "has a row numbered 'ten'"),
        "not-xml": (
            mutate.edit_parts(example, not_xml),
            f"the part of sheet '{CONTACT}', xl/media/sheet.bin, is not readable",
        ),
    }


@pytest.mark.parametrize("case", ["part-missing", "shared-string-missing", "row-number", "not-xml"])
def test_WORKBOOK_UNREADABLE_when_its_parts_do_not_fit_together(case):
    """Regression: each of these raised KeyError or ValueError out of validate_upload."""
    data, reason = _damaged_workbooks()[case]

    report = validate(data)

    assert report.exit_code == 2
    assert codes(report) == ["WORKBOOK_UNREADABLE"]
    assert reason in report.errors[0].message


def test_SHEET_TOO_LONG_names_the_first_entry_below_the_rows_read():
    """Regression: entries below row 5,000 were silently ignored (and a 100,000-row sheet
    was parsed whole, 500 MB)."""
    data = mutate.with_long_sheet(mutate.example(SCHOOL), "4 Tiers of Support", rows=6000)

    report = validate(data)

    assert report.exit_code == 1
    assert at(report, "SHEET_TOO_LONG") == ["4 Tiers of Support!A5001"]
    assert codes(report) == ["SHEET_TOO_LONG"]
    assert "the first at A5001" in report.errors[0].message
    assert "only its first 5,000 rows are read" in report.errors[0].message


def test_empty_formatted_rows_below_the_plan_are_not_entries():
    """Some programs write empty rows with a format far down a sheet: not a problem."""
    files = mutate.parts(mutate.example(SCHOOL))
    part = mutate.sheet_parts(files)["4 Tiers of Support"]
    rows = "".join(f'<row r="{r}" ht="15" customHeight="1"/>' for r in range(5001, 5100))
    files[part] = files[part].replace(b"</sheetData>", rows.encode() + b"</sheetData>")

    assert validate(mutate.rezip(files)).outcome == "valid"


def test_the_cell_reader_stops_below_its_row_limit():
    data = mutate.with_long_sheet(mutate.example(SCHOOL), "4 Tiers of Support", rows=3000)

    cells = WorkbookCells(zipfile.ZipFile(io.BytesIO(data)), max_rows=1000)
    sheet = cells.sheet("4 Tiers of Support")

    assert sheet.max_row == 1000
    assert sheet.overflow == (1001, 1)
    assert sheet.get(1000, 1) == "note 1000"
    assert sheet.get(1001, 1) is None
