"""The holes issue 9's outside test found, each pinned by a hostile variant of the signed
example workbook (tests.support.hostile_plans): tampered values reported at their cells,
no crash on nested metadata, work bounded per upload, ambiguous structure refused, benign
additions accepted. Every case goes through validate_upload and `aip workbook validate`:
exit 0, 1 or 2, never a traceback. Time is measured in bench/bench_validate.py; here
tracemalloc bounds memory and a generous alarm only catches a hang."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from aip_forms.cli import cli
from aip_forms.domain import PlanKind
from aip_forms.workbook_format.metadata import (
    MetadataError,
    metadata_from_rows,
    metadata_rows,
    prefilled_text,
    verify,
)
from tests.support import guard, hostile, hostile_plans, mutate
from validators.intake import check_upload
from validators.problems import UnreadableWorkbook
from validators.validate import ValidationReport, validate_upload

SCHOOL = PlanKind.SCHOOL
CONTACT = "1 Contact Information"
SUBGROUPS = "2A Demographic Targets"
HANG_GUARD = 30
MiB = 1 << 20


@pytest.fixture(autouse=True)
def hang_guard() -> Iterator[None]:
    with guard.hang_guard(HANG_GUARD):
        yield


def example() -> bytes:
    return mutate.example(SCHOOL)


SPREAD = (CONTACT, SUBGROUPS, "2B Grade Targets", "3 Root Cause Analysis", "5 Final Submission")


def spread_elements(count: int, sheets: tuple[str, ...]) -> bytes:
    """`count` elements in each of `sheets`: each part under its bound, the upload over."""
    data = example()
    for sheet in sheets:
        data = hostile_plans.with_elements(data, sheet, count)
    return data


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[], bytes]
    exit_code: int
    codes: list[str]
    places: list[str] = field(default_factory=list)  # "Sheet!A1" of each error, if pinned
    advice: str = ""


CASES = [
    # class 1: signed values changed
    Case(
        "lea-name-redirected",
        lambda: hostile_plans.redirected(
            example(), "aip_contact_lea_name", f"'{CONTACT}'!$E$20", {(CONTACT, "E20"): "FAKE"}
        ),
        1,
        ["NAME_MOVED"],
        [f"{CONTACT}!C5"],
        f"now points to {CONTACT}!E20",
    ),
    Case(
        "enrollment-redirected",
        lambda: hostile_plans.redirected(
            example(),
            "aip_demographics_subgroups_enrollment",
            f"'{SUBGROUPS}'!$J$6:$J$22",
            {(SUBGROUPS, f"J{row}"): 999 for row in range(6, 23)},
        ),
        1,
        ["NAME_MOVED"],
        [f"{SUBGROUPS}!B6"],
        "was issued as 2A Demographic Targets!B6:B22",
    ),
    Case(
        "formula-keeps-issued-value",
        lambda: hostile_plans.with_cached_formula(
            example(), CONTACT, "C5", '"BELEN CONSOLIDATED SCHOOLS"', "BELEN CONSOLIDATED SCHOOLS"
        ),
        1,
        ["PREFILL_FORMULA"],
        [f"{CONTACT}!C5"],
        "now holds a formula",
    ),
    Case(
        "cached-value-changed",
        lambda: mutate.with_cells(example(), {(SUBGROUPS, "B6"): 12345}),
        1,
        ["PREFILL_CHANGED"],
        [f"{SUBGROUPS}!B6"],
    ),
    # class 2: a crash before the signature
    Case(
        "nested-metadata",
        lambda: hostile_plans.with_nested_metadata(example()),
        2,
        ["META_SIGNATURE_INVALID"],
        advice="altered",
    ),
    # class 3: work, not bytes
    Case(
        "elements-in-a-read-sheet",
        lambda: hostile_plans.with_elements(example(), CONTACT, 250_001),
        2,
        ["INTAKE_TOO_MANY_ELEMENTS"],
        advice="more than 250,000 XML elements",
    ),
    Case(
        "100000-rows-of-notes",
        lambda: mutate.with_long_sheet(example(), "4 Tiers of Support", rows=100_000),
        2,
        ["INTAKE_TOO_MANY_ELEMENTS"],
        advice="Part xl/worksheets/sheet6.xml (sheet 4 Tiers of Support)",
    ),
    Case(
        "a-million-levels-deep",
        lambda: hostile_plans.with_deep_nesting(example(), CONTACT, 1_000_000),
        2,
        ["INTAKE_TOO_MANY_ELEMENTS"],
    ),
    Case(
        "elements-in-the-workbook-part",
        lambda: hostile_plans.with_elements(example(), "xl/workbook.xml", 60_000),
        2,
        ["INTAKE_TOO_MANY_ELEMENTS"],
        advice="xl/workbook.xml holds more than 50,000",
    ),
    Case(
        "elements-spread-over-parts",
        lambda: spread_elements(240_000, SPREAD),
        2,
        ["INTAKE_TOO_MANY_ELEMENTS_IN_ALL"],
        advice="more than 1,000,000 XML elements in all",
    ),
    Case(
        "two-million-cell-row",
        lambda: hostile_plans.with_wide_row(example(), CONTACT, 5, 2_000_000),
        2,
        ["INTAKE_TOO_MANY_ELEMENTS"],
    ),
    Case(
        "row-wider-than-excel",
        lambda: hostile_plans.with_wide_row(example(), CONTACT, 5, 16_385),
        2,
        ["INTAKE_ROW_TOO_WIDE"],
        advice="Row 5 of sheet 1 Contact Information",
    ),
    Case(
        "deep-nesting",
        lambda: hostile_plans.with_deep_nesting(example(), CONTACT, 65),
        2,
        ["INTAKE_TOO_DEEP"],
        advice="more than 64 levels",
    ),
    # class 4: ambiguous structure
    Case(
        "duplicate-sheet",
        lambda: hostile_plans.with_duplicate_sheet(example(), CONTACT, {"C13": "x@example.org"}),
        2,
        ["INTAKE_DUPLICATE_SHEET"],
        advice="two sheets named 1 Contact Information",
    ),
    Case(
        "duplicate-sheet-other-case",
        lambda: hostile_plans.with_duplicate_sheet(
            example(), CONTACT, {}, state="visible", named=CONTACT.upper()
        ),
        2,
        ["INTAKE_DUPLICATE_SHEET"],
    ),
    Case(
        "duplicate-cell",
        lambda: hostile_plans.with_duplicate_cell(example(), CONTACT, "C13", "x@example.org"),
        2,
        ["INTAKE_DUPLICATE_CELL"],
        [f"{CONTACT}!C13"],
        "holds cell C13 twice",
    ),
    Case(
        "duplicate-row",
        lambda: hostile_plans.with_duplicate_row(example(), CONTACT, 13),
        2,
        ["INTAKE_DUPLICATE_ROW"],
        advice="row 13 twice",
    ),
    Case(
        "external-link-by-default-type",
        lambda: hostile_plans.with_hidden_external_link(example(), "default"),
        2,
        ["INTAKE_EXTERNAL_LINK"],
        advice="Break Link",
    ),
    Case(
        "external-link-by-relationship-only",
        lambda: hostile_plans.with_hidden_external_link(example(), "relationship"),
        2,
        ["INTAKE_EXTERNAL_LINK"],
        advice="Break Link",
    ),
    # class 5: benign additions
    Case(
        "pasted-picture-shape-comment", lambda: hostile_plans.with_pasted_picture(example()), 0, []
    ),
]


@cache
def built(case_id: str) -> bytes:
    return next(c for c in CASES if c.id == case_id).build()


def report_of(data: bytes) -> tuple[ValidationReport, float]:
    tracemalloc.start()
    try:
        report = validate_upload(data, key=mutate.KEY, config=mutate.CONFIG, filename="plan.xlsx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return report, peak


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_validate_upload(case: Case) -> None:
    data = built(case.id)
    assert len(data) < 10 * MiB  # under the upload limit: the bounds are on work

    report, peak = report_of(data)

    assert report.exit_code == case.exit_code
    assert [p.code for p in report.errors] == case.codes
    if case.places:
        assert [f"{p.sheet}!{p.cell}" for p in report.errors] == case.places
    for found in report.errors:
        assert case.advice in found.message
        assert "{" not in found.message
    assert (report.plan is None) == (case.exit_code == 2)
    assert peak < 100 * MiB


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_command_line(case: Case, aip_home: Path, tmp_path: Path) -> None:
    upload = tmp_path / "plan.xlsx"
    upload.write_bytes(built(case.id))

    result = CliRunner().invoke(cli, ["workbook", "validate", str(upload), "--json"])

    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == case.exit_code, result.output
    assert "Traceback" not in result.output
    assert [e["code"] for e in json.loads(result.stdout)["errors"]] == case.codes


def test_a_redirected_name_changes_nothing_in_the_plan() -> None:
    """The plan holds the issued LEA name and enrollments, not the values the names point to."""
    plain, _ = report_of(example())
    lea, _ = report_of(built("lea-name-redirected"))
    enrollment, _ = report_of(built("enrollment-redirected"))

    assert plain.plan is not None and lea.plan is not None and enrollment.plan is not None
    assert lea.plan.field("contact", "lea_name") == plain.plan.field("contact", "lea_name")
    assert lea.plan.field("contact", "lea_name") != "FAKE"
    assert enrollment.plan.to_json_dict() == plain.plan.to_json_dict()


def test_the_picture_would_have_been_parsed_as_xml() -> None:
    """The pasted photo has "<" at the start of a 64 KiB chunk, as in the false refusal."""
    parts = mutate.parts(built("pasted-picture-shape-comment"))
    picture = next(content for name, content in parts.items() if name.startswith("xl/media/"))

    assert len(picture) > 2 * hostile_plans.CHUNK
    assert picture[hostile_plans.CHUNK : hostile_plans.CHUNK + 1] == b"<"
    assert "xl/printerSettings/printerSettings1.bin" in parts
    assert parts["xl/printerSettings/printerSettings1.bin"].startswith("<".encode("utf-16-le"))
    assert any(b"Rectangle 8" in c for n, c in parts.items() if n.startswith("xl/drawings/"))
    assert any(n.startswith("xl/comments") for n in parts)


def issued_rows() -> dict[str, str | None]:
    return dict(metadata_rows(mutate.read_metadata(mutate.load(example()))))


def test_the_signature_is_checked_over_the_issued_text_as_read() -> None:
    rows = issued_rows()
    metadata = metadata_from_rows(rows, mutate.KEY)
    assert rows["prefilled_1"] == prefilled_text(metadata.prefilled)  # written as signed
    assert verify(metadata, mutate.KEY)

    rows["prefilled_1"] = (rows["prefilled_1"] or "").replace("BELEN", "BELEM", 1)
    assert not verify(metadata_from_rows(rows, mutate.KEY), mutate.KEY)


def test_nested_issued_values_are_never_parsed() -> None:
    """With the key, text that is neither signed nor flat stays unread; without it, the
    structure is refused before json.loads (which recursed into RecursionError)."""
    rows = issued_rows()
    rows["prefilled_parts"] = "1"
    for nested in ("[" * 100_000, '{"a":' * 50_000, '{"Sheet!A1": [1]}'):
        rows["prefilled_1"] = nested

        unread = metadata_from_rows(rows, mutate.KEY)
        assert unread.prefilled == {}
        assert not verify(unread, mutate.KEY)
        with pytest.raises(MetadataError, match="nested"):
            metadata_from_rows(rows)


def test_a_workbook_issued_with_unsorted_text_still_verifies() -> None:
    """Workbooks issued before the text was written as signed: checked over the values."""
    rows = issued_rows()
    values = json.loads(rows["prefilled_1"] or "")
    rows["prefilled_1"] = json.dumps(dict(reversed(values.items())), separators=(",", ":"))
    assert rows["prefilled_1"] != prefilled_text(values)

    assert verify(metadata_from_rows(rows, mutate.KEY), mutate.KEY)


def test_brackets_inside_text_are_not_nesting() -> None:
    rows = issued_rows()
    rows["prefilled_parts"] = "1"
    rows["prefilled_1"] = '{"S!A1": "[{ \\" [[ {{"}'

    assert metadata_from_rows(rows).prefilled == {"S!A1": '[{ " [[ {{'}


# ---- intake: formats and messages ----------------------------------------------------------


def intake_codes(data: bytes) -> list[str]:
    with pytest.raises(UnreadableWorkbook) as refused:
        check_upload(data)
    return [p.code for p in refused.value.problems]


@pytest.mark.parametrize("version", [2, 3, 4, 5])
def test_old_biff_workbooks_are_asked_to_be_saved_as_xlsx(version: int) -> None:
    with pytest.raises(UnreadableWorkbook) as refused:
        check_upload(hostile.old_xls(version))

    assert [p.code for p in refused.value.problems] == ["INTAKE_XLS_OLD"]
    assert "Save As > Excel Workbook (.xlsx)" in refused.value.problems[0].message


@pytest.mark.parametrize("pdf_marker", [True, False])
def test_an_emf_is_a_picture_not_a_pdf(pdf_marker: bool) -> None:
    data = hostile.emf(pdf_marker)
    assert (b"%\x00P\x00D\x00F" in data) == pdf_marker

    assert intake_codes(data) == ["INTAKE_PICTURE"]


def test_long_repetitive_text_is_not_called_a_bomb() -> None:
    """Regression: 100 KiB parts compressing over 100 to 1 were called a malicious zip bomb."""
    text = ("Attendance team meets every Tuesday. " * 900)[:32_000]
    strings = "".join(f"<si><t>{text}</t></si>" for _ in range(60)).encode()
    shared = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    data = hostile.with_entries(hostile.entry("xl/notes.xml", shared + strings + b"</sst>"))

    check_upload(data)


def test_a_binary_part_in_utf16_is_not_xml() -> None:
    """Regression: printer settings whose bytes look like UTF-16 text were parsed as XML."""
    data = hostile.with_entries(
        hostile.entry("xl/printerSettings/printerSettings1.bin", hostile_plans.printer_settings())
    )

    check_upload(data)
