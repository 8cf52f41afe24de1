"""The end-of-year report's service on SQLite and PostgreSQL, over the dashboards' world
(`seed_dashboard`: Belen 006 and Bernalillo 007, approved plans with stored targets, 80- and
120-day rates loaded, no end-of-year data yet): every plan's targets against the latest
period's results by subgroup and grade, small groups hidden as in documents, statuses, and
the workbook and Word document it makes."""

from __future__ import annotations

import io

import docx
import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from aip_forms.domain import PlanKind
from aip_forms.errors import Forbidden, NotFound
from aip_forms.services.access import Grant, Role
from aip_forms.services.eoy_report import EoyReport, eoy_report, report_document
from aip_forms.services.uow import UowFactory
from exports.eoy import eoy_docx
from tests.integration.test_dashboards import CONFIG, GROUPS, seed_dashboard


@pytest.fixture
def uow(engine: Engine) -> UowFactory:
    return seed_dashboard(engine)


def report(
    engine: Engine, uow: UowFactory, lea: str | None, grant: Grant | None = None
) -> EoyReport:
    return eoy_report(engine=engine, uow=uow, config=CONFIG, fiscal_year=2027, lea_code=lea,
                      grant=grant)  # fmt: skip


def groups_of(found: EoyReport, school: str | None) -> dict[tuple[str, str], object]:
    (plan,) = [p for p in found.plans if p.school_code == school]
    return {(g.group_type, g.code): g for g in plan.groups}


def test_targets_against_the_latest_periods_results(engine: Engine, uow: UowFactory) -> None:
    found = report(engine, uow, "006")
    assert (found.period.code, found.end_of_year) == ("120", False)
    assert found.results_label == "120-day FY2027 (latest period loaded)"
    assert found.data_date.isoformat() == "2027-02-01"
    groups = groups_of(found, "006001")
    for key, (_, _, r120, target) in GROUPS[("006", "006001")].items():
        g = groups[key]
        if key[1] in ("amind", "hispanic"):  # under 10, and its complement
            assert (g.target_hidden, g.result_hidden, g.met) == (True, True, ""), key
            continue
        assert (g.target, g.result) == (pytest.approx(target), pytest.approx(r120)), key
        assert g.met == ("Yes" if r120 <= target else "No"), key
    statuses = {(p.kind, p.school_code): p.status for p in found.plans}
    assert statuses == {(PlanKind.DISTRICT, None): "Approved",
                        (PlanKind.SCHOOL, "006001"): "Approved"}  # fmt: skip


def test_statewide_lists_every_lea_and_a_plan_never_started(
    engine: Engine, uow: UowFactory
) -> None:
    found = report(engine, uow, None)
    assert found.scope_name == "Statewide"
    plans = {(p.lea_code, p.school_code): p for p in found.plans}
    assert set(plans) == {("006", None), ("006", "006001"), ("007", None), ("007", "007001")}
    assert plans[("007", None)].status == "No plan received"
    assert all(g.target is None for g in plans[("007", None)].groups)
    bernalillo_high = groups_of(found, "007001")
    assert bernalillo_high[("subgroup", "male")].met == "No"  # type: ignore[attr-defined]


def test_the_workbook_and_document_show_the_same_cells(engine: Engine, uow: UowFactory) -> None:
    found = report(engine, uow, "006")
    book = load_workbook(io.BytesIO(report_document(found, "xlsx", None)))
    rows = list(book["Results"].iter_rows(min_row=2, values_only=True))
    male = next(r for r in rows if r[3] == "006001" and r[8] == "Male")
    assert male[9:13] == (pytest.approx(0.14), pytest.approx(0.24), pytest.approx(0.10), "No")
    amind = next(r for r in rows if r[3] == "006001" and r[8] == "American Indian or Alaska Native")
    assert amind[9:13] == ("*", "*", "*", None)
    document = docx.Document(io.BytesIO(eoy_docx(found)))
    assert document.core_properties.title == (
        "Attendance plans FY2027, targets and results: BELEN CONSOLIDATED"
    )
    assert document.core_properties.language == "en-US"
    cells = [[c.text for c in row.cells] for t in document.tables for row in t.rows]
    assert ["Male", "Subgroup", "14.0%", "24.0%", "Not met"] in cells
    assert ["American Indian or Alaska Native", "Subgroup", "*", "*", "*"] in cells
    text = "\n".join(p.text for p in document.paragraphs)
    assert text.count("*  Hidden to protect student privacy") == 1  # under the one table with *
    assert "The end-of-year data is not loaded yet; the latest period stands in." in text


def test_refusals(engine: Engine, uow: UowFactory) -> None:
    with pytest.raises(NotFound, match="unknown LEA '999'"):
        report(engine, uow, "999")
    with pytest.raises(NotFound, match="no results for FY2028"):
        eoy_report(engine=engine, uow=uow, config=CONFIG, fiscal_year=2028, lea_code=None)
    with pytest.raises(Forbidden):
        report(engine, uow, "007", Grant(Role.DISTRICT_COORDINATOR, "006"))
    assert report(engine, uow, "006", Grant(Role.DISTRICT_COORDINATOR, "006")).plans
