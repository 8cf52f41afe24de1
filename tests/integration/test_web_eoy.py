"""The end-of-year report page (`/reports/eoy`): the form, refusals beside their field with
the error table's status, and the PDF download (LibreOffice), over the dashboards' world."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.integration.test_dashboards import seed_dashboard
from tests.support.web import Portal, open_session, portal, text

__all__ = ["portal"]

PED = "ped@ped.nm.gov"


def test_the_form_refuses_bad_input_beside_the_field(portal: Portal) -> None:
    seed_dashboard(portal.core.engine, users=False)
    client = portal.client()
    open_session(portal, client, PED)
    page = client.get("/reports/eoy")
    assert page.status_code == 200 and "Download the report" in text(page)
    r = client.get("/reports/eoy?fy=20x7&scope=&format=doc")
    assert r.status_code == 400
    said = text(r)
    assert "There are 3 problems" in said
    assert "Write the fiscal year as four digits" in said
    assert "Choose statewide or a district" in said and "Choose PDF or Excel" in said
    r = client.get("/reports/eoy?fy=2026&scope=statewide&format=xlsx")
    assert r.status_code == 404
    assert "No results for FY2026: no reporting period" in text(r)
    r = client.get("/reports/eoy?fy=2027&scope=999&format=xlsx")
    assert r.status_code == 404 and "Unknown LEA &#39;999&#39;: no such LEA" in text(r)


def test_the_pdf_download(portal: Portal) -> None:
    seed_dashboard(portal.core.engine, users=False)
    client = portal.client()
    open_session(portal, client, PED)
    r = client.get("/reports/eoy?fy=FY2027&scope=006&format=pdf")
    assert r.status_code == 200, text(r)
    assert r.headers["Content-Disposition"].endswith("filename=eoy-report-FY2027-006.pdf")
    reader = PdfReader(io.BytesIO(r.data))
    body = " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)
    assert "Results: 120-day FY2027 (latest period loaded)" in body
    assert "Male Subgroup 14.0% 24.0% Not met" in body
