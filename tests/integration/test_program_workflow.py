"""Both program profiles through the same workflow (issue 14): the synthetic sample (scaled
small), load, generate, fill (the example answers), validate, submit, review (approve),
render (docx and pdf) and the district packet, each at the command line as an operator
would run it. What differs is the program's, and is checked: the wording of the documents,
LAUSD's counselor time and targeted grades, and which schools file a plan."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result

from aip_forms.bootstrap import App
from aip_forms.cli import cli as aip
from aip_forms.config import ProgramConfig
from aip_forms.data.queries import plan_targets
from aip_forms.data.sample import write_sample
from aip_forms.services.selection import select_schools

FY = "2027"


def run(*args: str) -> Result:
    result = CliRunner().invoke(aip, list(args), terminal_width=200)
    assert "Traceback" not in result.output + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def ok(*args: str) -> Result:
    result = run(*args)
    assert result.exit_code == 0, result.output + result.stderr
    return result


def pdf_text(path: Path) -> str:
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    return " ".join(text.stdout.split())


def docx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read("word/document.xml").decode()


@pytest.fixture(params=["nm", "lausd"])
def program(
    request: pytest.FixtureRequest, aip_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    profile: str = request.param
    monkeypatch.setenv("AIP_PROGRAM", profile)
    data = tmp_path / "data"
    write_sample(data, config=ProgramConfig.load(None, profile), scale=0.05)
    ok("data", "load", str(data))
    return profile


def test_a_school_plan_goes_through_the_whole_workflow(program: str, tmp_path: Path) -> None:
    app = App.from_env()
    plans = plan_targets(app.engine, int(FY), app.config)
    lea, school = next((lea, s) for lea, s in plans if s is not None)
    if program == "lausd":  # the selected schools only, and each of them
        chosen = select_schools(uow=app.uow, config=app.config, fiscal_year=int(FY))
        assert {s for _, s in plans if s} == {s.school_code for s in chosen.schools}
        assert 0 < len(chosen.schools) < chosen.considered
    app.close()

    generated = tmp_path / "generated.xlsx"
    ok(
        "workbook",
        "generate",
        "--fy",
        FY,
        "--lea",
        lea,
        "--school",
        school,
        "--out",
        str(generated),
    )
    wb = openpyxl.load_workbook(generated)
    filled = tmp_path / "filled.xlsx"
    ok("workbook", "example", "--fy", FY, "--lea", lea, "--school", school, "--out", str(filled))
    checked = ok("workbook", "validate", str(filled))
    assert "0 errors" in checked.output or "valid" in checked.output.lower(), checked.output

    ok("users", "add", "school@example.org", "--role", "school_coordinator", "--school", school)
    ok("users", "add", "district@example.org", "--role", "district_coordinator", "--lea", lea)
    submitted = ok("submit", str(filled), "--user", "school@example.org", "--final")
    assert "Submission 1: plan 1, version 1, submitted." in submitted.output
    ok("review", "approve", "1", "--user", "district@example.org")

    docx, pdf = tmp_path / "plan.docx", tmp_path / "plan.pdf"
    ok("render", "--plan", "1", "--user", "district@example.org", "--out", str(docx))
    ok("render", "--plan", "1", "--user", "district@example.org", "--out", str(pdf))
    packet = tmp_path / "packet.pdf"
    compiled = ok("compile", "--fy", FY, "--lea", lea, "--user", "district@example.org",
                  "--out", str(packet))  # fmt: skip
    assert f"Wrote {packet}" in compiled.output

    text, document, packed = pdf_text(pdf), docx_text(docx), pdf_text(packet)
    assert "Approved" in text and "Approved" in packed
    if program == "nm":
        assert wb.sheetnames[:4] == ["Instructions", "1 Contact Information",
                                     "2A Demographic Targets", "2B Grade Targets"]  # fmt: skip
        assert "Chronic Absence" in document and "Root Cause Analysis" in text
        assert "Counselor Days" not in text  # no staffing
        assert "3 Counselor Time" not in wb.sheetnames
        return
    # LAUSD: its own words, its plan's sections, counselor time and targeted grades
    assert "3 Counselor Time" in wb.sheetnames and "4C Prevention Programs" in wb.sheetnames
    days = wb["3 Counselor Time"]["C6"].value
    assert days in {"1", "2", "3", "4", "5"}
    grades = wb["2B Grade Targets"]
    asked = {
        grades[f"A{r}"].value: grades[f"F{r}"].value
        for r in range(6, grades.max_row + 1)
        if grades[f"A{r}"].value
    }
    assert all(v == "n/a" for g, v in asked.items() if g not in ("Kindergarten", "Grade 9"))
    for words in ("Attending 96%+", "Objective 3 - Prevention and Intervention Programs",
                  "Assigned Counselor Days per Week", "What Will Be Measured"):  # fmt: skip
        assert words in text, words
    for words in ("Chronic", "chronic", "New Mexico", "NMSA", "PED ", "nm.us", "505-555"):
        assert words not in text and words not in packed, words
    contact = openpyxl.load_workbook(filled)["1 Contact Information"]
    typed = " ".join(str(c.value) for row in contact.iter_rows() for c in row if c.value)
    assert "@lausd.net" in typed and "213-555-" in typed and "nm.us" not in typed


def test_lausd_refuses_a_plan_for_a_school_it_did_not_select(
    aip_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIP_PROGRAM", "lausd")
    data = tmp_path / "data"
    write_sample(data, config=ProgramConfig.load(None, "lausd"), scale=0.05)
    ok("data", "load", str(data))
    app = App.from_env()
    chosen = {s.school_code for s in select_schools(uow=app.uow, config=app.config,
                                                    fiscal_year=int(FY)).schools}  # fmt: skip
    every = plan_targets(app.engine, int(FY))  # without the program: every enrolled school
    app.close()
    lea, school = next((lea, s) for lea, s in every if s is not None and s not in chosen)
    out = tmp_path / "w.xlsx"
    refused = run("workbook", "generate", "--fy", FY, "--lea", lea, "--school", school,
                  "--out", str(out))  # fmt: skip
    assert refused.exit_code != 0 and not out.exists()
    assert f"School {school} was not selected for the program in FY{FY}" in refused.stderr
