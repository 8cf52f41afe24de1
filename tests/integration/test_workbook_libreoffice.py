"""Generated and example workbooks open in LibreOffice, and survive its round trip.

Each run uses a fresh LibreOffice profile, a time limit and its own process group, which is
checked to be gone afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from aip_forms.config import ProgramConfig, Settings
from aip_forms.domain import Lea, PlanKind, School
from aip_forms.spec import LOOKUP_SHEET, spec_for
from aip_forms.workbook_format.metadata import changed_prefilled, read_metadata, verify
from workbook_templates import synthetic
from workbook_templates.compiled import compile_template, write_workbook
from workbook_templates.example import example_workbook

pytestmark = pytest.mark.libreoffice

KEY = b"test-secret"
ISSUED = "2026-08-03T14:05:00Z"
TIME_LIMIT = 240


def soffice(tmp_path: Path, convert_to: str, out_dir: Path, *files: Path) -> None:
    """Convert `files` headless; fails on a timeout or a non-zero exit, leaves no process."""
    binary = shutil.which("soffice")
    assert binary, "LibreOffice (soffice) is not installed"
    profile = tmp_path / "lo-profile"
    command = [
        binary,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--nologo",
        "--convert-to",
        convert_to,
        "--outdir",
        str(out_dir),
        *map(str, files),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        output, _ = process.communicate(timeout=TIME_LIMIT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    finally:
        _end_group(process.pid)
    assert process.returncode == 0, output.decode(errors="replace")


def _end_group(group: int) -> None:
    """Kill whatever soffice left in its process group and wait until the group is empty."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError(f"LibreOffice processes of group {group} are still running")


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory) -> dict[str, Path]:
    config = ProgramConfig()
    settings = Settings(
        home=tmp_path_factory.mktemp("home"),
        database_url="sqlite://",
        secret_key=KEY,
        workbook_password="pw",
    )
    lea = Lea(code="001", name="BELEN CONSOLIDATED SCHOOLS")
    school = School(code="001-004", lea_code="001", name="BELEN HIGH", grade_low="9")
    schools = tuple(
        School(code=f"001-{i:03d}", lea_code="001", name=f"BELEN SCHOOL {i}") for i in range(1, 31)
    )
    folder = tmp_path_factory.mktemp("generated")
    paths = {}
    for name, data in (
        ("school", synthetic.plan_data(config, 2027, lea, school)),
        ("district", synthetic.plan_data(config, 2027, lea, None, schools)),
    ):
        template = compile_template(spec_for(data.kind), config, settings, 2027)
        paths[name] = write_workbook(template, data, folder / f"{name}.xlsx", ISSUED)
    data = synthetic.plan_data(config, 2027, lea, school)
    paths["example"] = folder / "example.xlsx"
    example_workbook(spec_for(PlanKind.SCHOOL), data, config, settings, issued_at=ISSUED).save(
        paths["example"]
    )
    return paths


def test_generated_and_example_workbooks_convert_to_pdf(workbooks, tmp_path):
    out = tmp_path / "pdf"
    soffice(tmp_path, "pdf", out, *workbooks.values())
    for name in workbooks:
        pdf = out / f"{name}.pdf"
        assert pdf.read_bytes()[:5] == b"%PDF-", name
        assert pdf.stat().st_size > 10_000
    pdftotext = shutil.which("pdftotext")
    assert pdftotext
    text = subprocess.run(
        [pdftotext, str(out / "example.pdf"), "-"], capture_output=True, text=True, timeout=60
    ).stdout
    assert "BELEN HIGH" in text and "Kristin" in text and "FY2024" in text


def test_a_libreoffice_round_trip_keeps_metadata_issued_values_and_validations(workbooks, tmp_path):
    out = tmp_path / "saved"
    soffice(
        tmp_path, "xlsx:Calc MS Excel 2007 XML", out, workbooks["district"], workbooks["example"]
    )
    for name in ("district", "example"):
        wb = load_workbook(out / f"{name}.xlsx")
        metadata = read_metadata(wb)
        assert verify(metadata, KEY), name
        assert changed_prefilled(wb, metadata) == [], name
        lists = [
            dv
            for ws in wb.worksheets
            for dv in ws.data_validations.dataValidation
            if dv.type == "list"
        ]
        assert lists and all(LOOKUP_SHEET in dv.formula1 for dv in lists)
        assert wb[LOOKUP_SHEET].sheet_state == "hidden"
    example = load_workbook(out / "example.xlsx")
    assert example["1 Contact Information"]["C10"].value == "Kristin"
