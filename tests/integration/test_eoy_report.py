"""The end-of-year public report (`aip report eoy`, issue 12 point 5) over the stored plans of
`test_render_stored`'s world (LEA 001's district plan approved, its elementary school's plan
returned; LEA 002 without plans), with end-of-year rates loaded through `aip data load`:
targets against results per plan, subgroup and grade, suppressed as in documents, as .xlsx
and as PDF (LibreOffice); and each refusal, with nothing written."""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from aip_forms.data.load import load_paths
from aip_forms.data.queries import lea_plan_data
from aip_forms.db.models import EnrollmentRow
from aip_forms.errors import Forbidden
from aip_forms.services.access import Grant, Role
from aip_forms.services.eoy_report import EoyReport, check_scope, eoy_report
from exports.suppression import SUBGROUP, suppress_by_lea
from tests.integration.test_render_stored import World, build_world, run, world_env

__all__ = ["world_env"]

pytestmark = pytest.mark.xdist_group("render-stored")

SMALL = ("001", "001001", "grade", "K")  # shown in the year's data, 6 students at year end


def counts_of(lea: str, school: str, gtype: str, code: str, n: int) -> tuple[int, float]:
    """Made-up end-of-year counts of a group (synthetic test data): (absent, rate %)."""
    absent = round(n * (8.0 + (sum(map(ord, lea + school + gtype + code)) % 170) / 10) / 100)
    return absent, round(100 * absent / n, 4) if n else 0.0


@pytest.fixture(scope="module")
def eoy_world(world_env: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = build_world()
    folder = tmp_path_factory.mktemp("eoy-data")
    with built.app.engine.connect() as c:
        enrolled = list(c.execute(select(EnrollmentRow).where(EnrollmentRow.fiscal_year == 2027)))
    with (folder / "period_rates.csv").open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["fiscal_year", "period", "lea_code", "school_code", "group_type",
                      "group_code", "students", "chronically_absent", "rate_pct"])  # fmt: skip
        for r in enrolled:
            key = (r.lea_code, r.school_code, r.group_type, r.group_code)
            n = 6 if key == SMALL else r.enrollment
            out.writerow([2027, "EOY", *key, n, *counts_of(*key, n)])
    report = load_paths(built.app.engine, built.app.config, [folder])
    assert report.ok, report
    yield built
    built.app.engine.dispose()


def report_of(world: World, lea: str | None) -> EoyReport:
    app = world.app
    return eoy_report(engine=app.engine, uow=world.uow, config=app.config, fiscal_year=2027,
                      lea_code=lea)  # fmt: skip


def test_the_lea_workbook_runs_from_the_command_line(eoy_world: World, tmp_path: Path) -> None:
    out = tmp_path / "belen.xlsx"
    result = run("report", "eoy", "--fy", "2027", "--lea", "001", "--format", "xlsx",
                 "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "BELEN CONSOLIDATED SCHOOLS, 3 plans, results End of year FY2027" in result.output
    book = load_workbook(out)
    sheet = book["Results"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)]
    # this small world's LEA hides nearly every cell: exactly the documents' suppression
    hidden = suppress_by_lea(lea_plan_data(eoy_world.app.engine, eoy_world.app.config, 2027,
                                           "001"), eoy_world.app.config)  # fmt: skip
    labels = {s.code: s.label for s in eoy_world.app.config.subgroups}
    for key in hidden.hidden:
        if key[2] == SUBGROUP and key[0] == "school":
            (row,) = [r for r in rows if (r["School Code"], r["Group"]) == (key[1], labels[key[3]])]
            assert (row["Target"], row["Result"], row["Met Target"]) == ("*", "*", None), key
    everyone = next(r for r in rows if (r["School Code"], r["Group"]) == ("001001", "All Students"))
    assert everyone["Plan Status"] == "Returned for revision"
    assert {r["Plan Status"] for r in rows if r["School Code"] == "001002"} == {"No plan received"}
    assert {r["Target"] for r in rows if r["School Code"] == "001002"} <= {None, "*"}
    about = " ".join(str(c) for row in book["About"].values for c in row if c)
    assert "Hidden to protect student privacy: fewer than 10 students" in about
    assert "End of year FY2027" in about and "Data date" in about


def test_the_statewide_pdf_has_a_title_a_legend_and_the_data_date(
    eoy_world: World, tmp_path: Path
) -> None:
    out = tmp_path / "state.pdf"
    result = run("report", "eoy", "--fy", "FY2027", "--statewide", "--format", "pdf",
                 "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    reader = PdfReader(out)
    assert reader.metadata is not None
    assert reader.metadata.title == "Attendance plans FY2027, targets and results: Statewide"
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    flat = " ".join(text.split())
    assert "Overview by LEA" in flat
    assert "BELEN CONSOLIDATED Approved * * * 0 of 2 SCHOOLS (001)" in flat
    assert "VISTA CHARTER (002) No plan received * * * 0 of 1" in flat
    assert "Results: End of year FY2027, data loaded" in flat
    assert "* Hidden to protect student privacy" in flat
    assert "— No data" not in flat  # no table here shows —: no legend for it


def test_the_lea_pdf_shows_each_plan_with_its_status(eoy_world: World, tmp_path: Path) -> None:
    out = tmp_path / "belen.pdf"
    result = run("report", "eoy", "--fy", "2027", "--lea", "001", "--format", "pdf",
                 "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    text = " ".join(subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())  # fmt: skip
    assert "BELEN ELEMENTARY: school plan" in text
    assert "Status: Returned for revision" in text
    assert "Status: Approved" in text and "Status: No plan received" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lea", "999", "--format", "xlsx", "--out", "x.xlsx"], "unknown LEA '999'"),
        (["--lea", "001", "--statewide", "--format", "xlsx", "--out", "x.xlsx"], "one of them"),
        (["--lea", "001", "--format", "docx", "--out", "x.docx"], "'docx' is not one of"),
        (["--lea", "001", "--format", "pdf", "--out", "x.xlsx"], "--out must be a .pdf file"),
        (["--lea", "001", "--format", "xlsx", "--out", "file/x.xlsx"], "is not a folder"),
        (["--lea", "001", "--format", "xlsx", "--out", "dir.xlsx"], "is a folder"),
    ],
)
def test_refusals_name_what_is_wrong_and_write_nothing(
    eoy_world: World, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "file").write_text("a file, not a folder")
    (tmp_path / "dir.xlsx").mkdir()  # a folder named like a file
    args = [str(tmp_path / a) if a.startswith(("x.", "file/", "dir.")) else a for a in args]
    result = run("report", "eoy", "--fy", "2027", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["dir.xlsx", "file"]
    assert not any((tmp_path / "dir.xlsx").iterdir())


def test_a_year_without_period_data_is_refused(eoy_world: World, tmp_path: Path) -> None:
    result = run("report", "eoy", "--fy", "2026", "--statewide", "--format", "xlsx",
                 "--out", str(tmp_path / "x.xlsx"))  # fmt: skip
    assert result.exit_code == 2
    assert "no results for FY2026: no reporting period's data is loaded" in result.output


def test_who_may_download_which_report() -> None:
    ped = Grant(Role.PED_REVIEWER)
    district = Grant(Role.DISTRICT_COORDINATOR, lea_code="001")
    school = Grant(Role.SCHOOL_COORDINATOR, lea_code="001", school_code="001001")
    check_scope(ped, None)
    check_scope(ped, "002")
    check_scope(district, "001")
    for grant, lea in ((district, "002"), (district, None), (school, "001")):
        with pytest.raises(Forbidden, match="may not download the end-of-year report"):
            check_scope(grant, lea)


def test_stored_plans_and_packets_show_progress_from_the_store(
    eoy_world: World, tmp_path: Path
) -> None:
    """Issue 12 point 6 through the store: the school plan reports at the end of the year,
    whose rates are loaded here; the district plan at 40, 80 and 120 days, of which the
    seed has the first two."""
    out = tmp_path / "school.docx"
    result = run("render", "--plan", str(eoy_world.school_plan), "--format", "docx",
                 "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    from tests.unit.test_render_docx import document_text, squash

    text = squash(document_text(out.read_bytes()))
    assert "Progress Through the Year" in text
    assert "End of year: rates against the targets in force" in text
    assert "The progress update for this period is not approved yet (not started)." in text
    district = tmp_path / "district.docx"
    assert run("render", "--plan", str(eoy_world.district_plan), "--format", "docx",
               "--out", str(district)).exit_code == 0  # fmt: skip
    said = squash(document_text(district.read_bytes()))
    assert "40-day: rates against the targets in force" in said
    assert "80-day: rates against the targets in force" in said
    assert "120-day: rates" not in said and "120-day Not started" in said

    packet = tmp_path / "packet.pdf"
    result = run("compile", "--fy", "2027", "--lea", "001", "--out", str(packet))
    assert result.exit_code == 0, result.output
    pdf = " ".join(subprocess.run(["pdftotext", str(packet), "-"], capture_output=True,
                                  text=True, check=True).stdout.split())  # fmt: skip
    assert "End of year: rates against the targets in force" in pdf


def test_the_sign_off_page_identifies_the_stored_version(eoy_world: World, tmp_path: Path) -> None:
    """Issue 13 point 3: certifier, decision and date, signature lines, and the stored
    version with its SHA-256, which `aip submissions list` shows for the official copy."""
    from aip_forms.services.submissions import list_submissions
    from tests.unit.test_render_docx import document_text, squash

    (stored,) = [v for v in list_submissions(uow=eoy_world.uow, fiscal_year=2027)
                 if v.plan.id == eoy_world.district_plan]  # fmt: skip
    out = tmp_path / "district.docx"
    assert run("render", "--plan", str(eoy_world.district_plan), "--format", "docx",
               "--out", str(out)).exit_code == 0  # fmt: skip
    text = squash(document_text(out.read_bytes()))
    signoff = text.split("Sign-off", 1)[1]
    assert "PED decision Approved" in signoff
    assert "Decided by ped@ped.nm.gov" in signoff
    assert f"Stored version {stored.version}" in signoff
    assert f"SHA-256 of the stored workbook {stored.sha256}" in signoff
    assert "Superintendent (signature)" in signoff
    assert "Local school board approval date" in signoff
    assert "Certified by Not certified" not in signoff  # the example plan is certified
