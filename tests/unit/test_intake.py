"""Intake accepts plain workbooks by content, applies its limits, and reports problems as
data from one catalogue. Hostile files are in test_intake_hostile.py."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import hostile
from validators.intake import (
    DEFAULT_LIMITS,
    IntakeLimits,
    SafeWorkbook,
    assert_openpyxl_safe,
    check_upload,
)
from validators.problems import (
    CATALOGUE,
    INTAKE_MESSAGES,
    Message,
    Problem,
    UnreadableWorkbook,
    merge_catalogues,
    problem,
)

ROOT = Path(__file__).resolve().parents[2]


def codes_of(data: bytes, limits: IntakeLimits = DEFAULT_LIMITS) -> list[str]:
    with pytest.raises(UnreadableWorkbook) as refused:
        check_upload(data, "plan.xlsx", limits)
    return refused.value.codes


# ---- accepted ----------------------------------------------------------------------------


def test_an_openpyxl_workbook_passes_and_opens() -> None:
    safe = check_upload(hostile.workbook(), "plan.xlsx")

    assert isinstance(safe, SafeWorkbook)
    assert safe.warnings == ()
    names = {entry.name for entry in safe.entries}
    assert {"[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"} <= names
    book = openpyxl.load_workbook(safe.open())
    assert book["1. Contact"]["C2"].value == "Belen Consolidated Schools"


@pytest.mark.parametrize("filename", ["plan.xls", "plan.csv", "C:\\fakepath\\plan", "plan.XLSX"])
def test_judged_by_content_whatever_the_name(filename: str) -> None:
    safe = check_upload(hostile.workbook(), filename)

    shown = filename.replace("\\", "/").rpartition("/")[2]
    if filename.lower().endswith(".xlsx"):
        assert safe.warnings == ()
    else:
        (warning,) = safe.warnings
        assert (warning.code, warning.severity) == ("INTAKE_RENAMED", "warning")
        assert f"named {shown} " in warning.message


def test_no_name_no_warning() -> None:
    assert check_upload(hostile.workbook()).warnings == ()


def test_web_hyperlinks_are_ordinary_content() -> None:
    check_upload(hostile.hyperlinked_workbook())


def test_a_workbook_saved_as_template_passes() -> None:
    template = "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml"
    types = hostile.parts(hostile.workbook())["[Content_Types].xml"]
    data = hostile.edited(
        {"[Content_Types].xml": types.replace(hostile.XLSX_MAIN.encode(), template.encode())}
    )

    check_upload(data)


def test_a_default_content_type_of_main_for_xml_passes() -> None:
    """The OpenXML SDK declares every .xml part, [Content_Types].xml included, the
    workbook's main type by default and overrides the others (apache/poi's 59021.xlsx)."""
    types = hostile.parts(hostile.workbook())["[Content_Types].xml"].decode()
    default = re.search(r'<Default Extension="xml" ContentType="[^"]*"/>', types)
    assert default is not None
    sdk = f'<Default Extension="xml" ContentType="{hostile.XLSX_MAIN}"/>'

    check_upload(hostile.edited({"[Content_Types].xml": types.replace(default[0], sdk).encode()}))


def test_a_zip_with_data_descriptors_passes() -> None:
    """Streaming writers (LibreOffice among them) put sizes after the data, not before."""

    class Unseekable:
        def __init__(self) -> None:
            self.written = bytearray()

        def write(self, chunk: bytes) -> int:
            self.written += chunk
            return len(chunk)

        def flush(self) -> None:
            return None

    out = Unseekable()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:  # type: ignore[call-overload]
        for name, content in hostile.parts(hostile.workbook()).items():
            archive.writestr(name, content)
    data = bytes(out.written)
    assert data[6] & 0x08  # the first entry has a data descriptor

    check_upload(data)


# ---- limits ------------------------------------------------------------------------------


def test_default_limits() -> None:
    expected = IntakeLimits(
        max_upload_bytes=10 * 1024 * 1024,
        max_entries=1000,
        max_total_uncompressed_bytes=100 * 1024 * 1024,
        max_compression_ratio=1000.0,
        ratio_checked_above_bytes=1024 * 1024,
        max_part_elements=250_000,
        max_elements=1_000_000,
        max_structure_elements=50_000,
        max_seconds=1.5,
    )
    assert expected == DEFAULT_LIMITS


def test_upload_size_boundary() -> None:
    exactly = hostile.random_bytes(DEFAULT_LIMITS.max_upload_bytes)

    assert codes_of(exactly) == ["INTAKE_NOT_ZIP"]
    assert codes_of(exactly + b"x") == ["INTAKE_TOO_LARGE"]


def test_limits_can_be_tightened() -> None:
    data = hostile.workbook()
    total = sum(e.size for e in check_upload(data).entries)
    count = len(check_upload(data).entries)

    assert codes_of(data, IntakeLimits(max_upload_bytes=len(data) - 1)) == ["INTAKE_TOO_LARGE"]
    assert codes_of(data, IntakeLimits(max_entries=count - 1)) == ["INTAKE_TOO_MANY_ENTRIES"]
    check_upload(data, limits=IntakeLimits(max_entries=count))
    assert codes_of(data, IntakeLimits(max_total_uncompressed_bytes=total - 1)) == [
        "INTAKE_UNCOMPRESSED_TOO_LARGE"
    ]
    check_upload(data, limits=IntakeLimits(max_total_uncompressed_bytes=total))
    ratio_limits = IntakeLimits(max_compression_ratio=1.5, ratio_checked_above_bytes=1000)
    assert set(codes_of(data, ratio_limits)) == {"INTAKE_COMPRESSION_RATIO"}


def test_small_parts_may_compress_far_better_than_the_ratio() -> None:
    """The ratio applies above 1 MiB: 1 MiB of blanks compresses 1,000 to 1."""
    blank = b"<a>" + b" " * (1024 * 1024 - 7) + b"</a>"
    data = hostile.with_entries(hostile.entry("xl/media/blank.xml", blank))

    check_upload(data)
    assert codes_of(hostile.with_entries(hostile.entry("xl/media/blank.xml", blank + b"    "))) == [
        "INTAKE_COMPRESSION_RATIO"
    ]


# ---- problems as data --------------------------------------------------------------------


def test_a_problem_takes_its_message_and_severity_from_the_catalogue() -> None:
    found = problem("INTAKE_MACRO", part="xl/vbaProject.bin")

    assert found == Problem(
        code="INTAKE_MACRO",
        severity="error",
        message=CATALOGUE["INTAKE_MACRO"].template.format(part="xl/vbaProject.bin"),
    )
    assert found.to_dict() == {
        "code": "INTAKE_MACRO",
        "severity": "error",
        "message": found.message,
        "sheet": None,
        "cell": None,
        "field": None,
        "value": None,
    }


def test_untrusted_text_is_shortened_and_made_printable() -> None:
    found = problem("INTAKE_MACRO", part="a\x1b[31m" + "b" * 500, value="v" * 1000, cell="D14")

    assert "\x1b" not in found.message
    assert "a?[31m" in found.message
    assert len(found.message) < len(CATALOGUE["INTAKE_MACRO"].template) + 100
    assert found.value is not None and len(found.value) == 200
    assert found.cell == "D14"


def test_an_unknown_code_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        problem("INTAKE_NO_SUCH_CODE")


def test_every_intake_message_says_what_to_upload() -> None:
    for code, message in INTAKE_MESSAGES.items():
        assert code.startswith("INTAKE_")
        assert "(.xlsx)" in message.template, code


def test_a_code_is_defined_once() -> None:
    extra = {"INTAKE_EMPTY": Message("error", "again")}

    with pytest.raises(ValueError, match="INTAKE_EMPTY"):
        merge_catalogues(INTAKE_MESSAGES, extra)
    assert "READ_X" in merge_catalogues(INTAKE_MESSAGES, {"READ_X": Message("warning", "x")})


def test_unreadable_workbook_carries_every_problem() -> None:
    problems = [problem("INTAKE_EMPTY"), problem("INTAKE_PDF")]

    error = UnreadableWorkbook(problems)

    assert error.codes == ["INTAKE_EMPTY", "INTAKE_PDF"]
    assert str(error) == "; ".join(p.message for p in problems)
    with pytest.raises(ValueError):
        UnreadableWorkbook([])


# ---- openpyxl's own protection -----------------------------------------------------------


def test_openpyxl_is_safe_here() -> None:
    assert_openpyxl_safe()


def test_openpyxl_without_defusedxml_is_refused_at_start() -> None:
    script = "from validators.intake import assert_openpyxl_safe; assert_openpyxl_safe()"
    env = {**os.environ, "OPENPYXL_DEFUSEDXML": "False", "PYTHONPATH": str(ROOT)}

    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode != 0
    assert "RuntimeError: openpyxl is not using defusedxml" in result.stderr


# ---- whatever the bytes ------------------------------------------------------------------

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


OLE2 = bytes.fromhex("D0CF11E0A1B11AE1")
ANY_BYTES = st.one_of(
    st.binary(max_size=2048),
    st.binary(max_size=4096).map(lambda rest: OLE2 + rest),
    st.binary(max_size=2048).map(lambda rest: b"PK\x03\x04" + rest),
)


@FUZZ
@given(ANY_BYTES)
def test_any_bytes_are_accepted_or_refused_with_problems(data: bytes) -> None:
    try:
        check_upload(data)
    except UnreadableWorkbook as refused:
        assert refused.problems


@FUZZ
@given(st.data())
def test_a_workbook_cut_anywhere_is_refused(data: st.DataObject) -> None:
    whole = hostile.workbook()
    cut = data.draw(st.integers(0, len(whole) - 1))

    with pytest.raises(UnreadableWorkbook):
        check_upload(whole[:cut])


@FUZZ
@given(st.data())
def test_a_damaged_workbook_is_refused_or_opens_in_openpyxl(data: st.DataObject) -> None:
    """One byte changed anywhere: intake refuses the file, or openpyxl reads it cleanly."""
    whole = bytearray(hostile.workbook())
    at = data.draw(st.integers(0, len(whole) - 1))
    whole[at] ^= data.draw(st.integers(1, 255))

    try:
        safe = check_upload(bytes(whole))
    except UnreadableWorkbook as refused:
        assert refused.problems
        return
    openpyxl.load_workbook(safe.open())


@FUZZ
@given(st.data())
def test_a_damaged_compound_file_is_still_named(data: st.DataObject) -> None:
    """Bytes changed in an OLE2 file's header, FAT or directory: still one refusal, no crash."""
    damaged = bytearray(hostile.encrypted_xlsx())
    for _ in range(data.draw(st.integers(1, 8))):
        damaged[data.draw(st.integers(8, 1535))] = data.draw(st.integers(0, 255))

    with pytest.raises(UnreadableWorkbook) as refused:
        check_upload(bytes(damaged))

    assert refused.value.codes in (["INTAKE_ENCRYPTED"], ["INTAKE_XLS"], ["INTAKE_NOT_ZIP"])
