"""The dashboard pages with the Flask test client: the view of each role, filters as GET
parameters, hostile filter values, the .xlsx downloads (text stays text, hidden cells "*"),
the words behind a plan, charts with their title and description, and the deadlines admin
page."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from tests.integration.test_dashboards import seed_dashboard
from tests.support.web import Portal, open_session, portal, post, text

__all__ = ["portal"]

PED, READER = "ped@ped.nm.gov", "reader@ped.nm.gov"
BELEN, BELEN_HIGH = "district@belen.org", "school@belen.org"


@pytest.fixture
def seeded(portal: Portal) -> Portal:
    seed_dashboard(portal.core.engine, users=False)
    portal.clock.now = dt.datetime(2027, 1, 20, 15, 0, tzinfo=dt.UTC)
    return portal


def signed_in(portal: Portal, email: str):  # type: ignore[no-untyped-def]
    client = portal.client()
    open_session(portal, client, email)
    return client


def test_ped_sees_the_state_with_charts_beside_their_tables(seeded: Portal) -> None:
    page = text(signed_in(seeded, PED).get("/dashboards"))
    assert "<h1>Statewide dashboard, FY2027</h1>" in page
    for school in ("BELEN HIGH", "BERNALILLO HIGH"):
        assert school in page
    assert page.count('role="img"') >= 4
    assert '<title id="chart-on-track-title">Share of plans on track per period</title>' in page
    assert '<desc id="chart-by-subgroup-desc">' in page
    assert "19.0 points above target; rising since the last period" in page
    assert "(late)" in page
    assert "style=" not in page and "<script>" not in page  # CSP: no inline style or script


def test_a_district_never_sees_another_leas_schools(seeded: Portal) -> None:
    client = signed_in(seeded, BELEN)
    for query in ("", "?lea=007", "?status=late", "?period=80"):
        r = client.get(f"/dashboards{query}")
        assert r.status_code == 200, query
        page = text(r)
        assert "<h1>District dashboard, FY2027</h1>" in page
        assert "BELEN HIGH" in page and "BERNALILLO" not in page, query
    r = client.get("/dashboards/download/off-track.xlsx?lea=007")
    rows = list(openpyxl.load_workbook(io.BytesIO(r.data)).active.values)  # type: ignore[union-attr]
    assert all("BERNALILLO" not in str(row) for row in rows)
    assert client.get("/dashboards/plans/FY2027-school-007001").status_code == 404


def test_a_school_sees_its_own_trend(seeded: Portal) -> None:
    page = text(signed_in(seeded, BELEN_HIGH).get("/dashboards"))
    assert "<h1>School dashboard, FY2027</h1>" in page
    assert "All students: chronic absence per period" in page
    assert "Rates per period against the target" in page
    assert "BERNALILLO" not in page


def test_filters_narrow_the_tables(seeded: Portal) -> None:
    client = signed_in(seeded, PED)
    page = text(client.get("/dashboards?fy=2027&period=40&status=returned"))
    assert "1 plan with status “returned”" in page
    assert '<option value="40" selected>' in page and '<option value="returned" selected>' in page
    assert "BELEN CONSOLIDATED" in page
    page = text(client.get("/dashboards?lea=007"))
    assert "BELEN HIGH" not in page.split("Share of plans on track")[0]


@pytest.mark.parametrize(
    "query",
    ["fy=abc", "fy=1", "period=%3Cscript%3Ealert(1)%3C/script%3E", "lea=006%27--", "status=%00",
     "fy=20271", "period=" + "9" * 500],
)  # fmt: skip
def test_hostile_filters_get_a_400_page_with_the_form(seeded: Portal, query: str) -> None:
    r = signed_in(seeded, PED).get(f"/dashboards?{query}")
    page = text(r)
    assert r.status_code == 400
    assert "There is a problem" in page and "Apply filters" in page
    assert "<script>alert" not in page and "Traceback" not in page
    r = signed_in(seeded, PED).get(f"/dashboards/download/plans.xlsx?{query}")
    assert r.status_code == 400 and "Traceback" not in text(r)


def test_every_table_downloads_with_hidden_cells_and_text_kept_text(seeded: Portal) -> None:
    client = signed_in(seeded, BELEN_HIGH)
    for name in ("plans", "on-track", "by-subgroup", "by-grade", "off-track", "trend"):
        r = client.get(f"/dashboards/download/{name}.xlsx?period=120")
        assert r.status_code == 200, name
        assert r.headers["Content-Disposition"].endswith(f"dashboard-FY2027-{name}.xlsx")
    r = client.get("/dashboards/download/trend.xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
    assert ws is not None
    rows = {row[0]: row for row in ws.iter_rows(min_row=5, values_only=True)}
    assert rows["All Students"][1:] == (12.0, 14.5, 16.0)
    assert rows["American Indian or Alaska Native"][1:] == ("*", "*", "*")
    assert "* = hidden" in str(ws["A2"].value)
    assert client.get("/dashboards/download/nothing.xlsx").status_code == 404
    assert client.get("/dashboards/download/..%2Fetc.xlsx").status_code == 404


def test_text_that_looks_like_a_formula_stays_text() -> None:
    from web.dashboards.tables import Table
    from web.dashboards.xlsx import table_workbook

    hostile = ['=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)", "\tcmd"]
    data = table_workbook(Table("t", "T", ("A",), [(v,) for v in hostile]), "sub")
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws is not None
    cells = [ws.cell(r, 1) for r in range(5, 10)]
    assert [c.value for c in cells] == hostile
    assert all(c.data_type == "s" for c in cells)


def test_the_words_behind_a_plan_are_one_click_away(seeded: Portal) -> None:
    client = signed_in(seeded, BELEN)
    board = text(client.get("/dashboards"))
    assert 'href="/dashboards/plans/FY2027-school-006001"' in board
    page = text(client.get("/dashboards/plans/FY2027-school-006001"))
    assert "Transportation barriers affect 30% of students." in page
    assert "=Strong parent-engagement programs." in page
    assert "Latest reflections: 80-day update" in page and "Mentors met 42 students" in page
    assert client.get("/dashboards/plans/nonsense").status_code == 404


def test_the_deadlines_page_shows_sources_and_sets_a_date(seeded: Portal) -> None:
    client = signed_in(seeded, PED)
    page = text(client.get("/admin/deadlines?fy=2027"))
    assert "45 school days in (NMSA 22-12A-7)" in page
    assert "program config" in page and "14 days after the 80-day period" in page
    r = post(client, "/admin/deadlines?fy=2027", {"which": "school/120", "due_on": "2027-01-15"},
             page="/admin/deadlines?fy=2027")  # fmt: skip
    assert r.status_code == 302
    page = text(client.get("/admin/deadlines?fy=2027"))
    assert "January 15, 2027" in page and '<span class="usa-tag">PED</span>' in page
    late = text(client.get("/dashboards?status=late&period=120"))
    assert "BELEN HIGH" in late
    for data, message in (
        ({"which": "school/120", "due_on": "2030-01-01"}, "outside FY2027"),
        ({"which": "school/40", "due_on": "2027-01-01"}, "school plans report at 80"),
        ({"which": "nothing", "due_on": "2027-01-01"}, "Choose the deadline"),
        ({"which": "school/plan", "due_on": "soon"}, "Enter a date like"),
    ):
        r = post(client, "/admin/deadlines?fy=2027", data, page="/admin/deadlines?fy=2027")
        assert r.status_code == 400 and message in text(r), data
    reader = signed_in(seeded, READER)
    assert reader.get("/admin/deadlines").status_code == 403
