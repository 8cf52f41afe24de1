"""Documents through the Flask test client, on real plans: Print Plan's full and custom
reports (Word here; the PDF is opened in the browser test), with sections that do not exist
and another LEA's plan; the statewide summary asked for on the page, made by the embedded
queue's thread, followed on its job page (progress, then the download) and mailed; jobs of
other users and ids that do not exist. The packet on Redis and a worker:
`test_web_documents_worker.py`."""

from __future__ import annotations

import io
import re
import time

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from tests.support.review_world import DISTRICT, PED, READER, SCHOOL, VISTA, World, world
from tests.support.web import open_session, post, text
from tests.unit.test_render_docx import document_text, squash

__all__ = ["world"]


def as_user(world: World, email: str) -> FlaskClient:
    client = world.portal.client()
    open_session(world.portal, client, email)
    return client


def print_plan(client: FlaskClient, plan: int, **data: object) -> object:
    page = f"/plans/{plan}/print"
    token = re.search(r'name="csrf_token" value="([^"]+)"', text(client.get(page)))
    assert token
    return client.post(page, data={**data, "csrf_token": token.group(1)})


def test_the_print_page_offers_the_plans_sections(world: World) -> None:
    page = text(as_user(world, SCHOOL).get(f"/plans/{world.school_plan}/print"))
    for key in ("contact", "root_cause", "tiers", "review", "charts"):
        assert f'value="{key}"' in page
    assert 'value="school_targets"' not in page  # a district plan's section
    assert "Full report, with charts" in page and "Word (DOCX)" in page


def test_a_custom_report_holds_only_the_ticked_sections(world: World) -> None:
    r = print_plan(as_user(world, SCHOOL), world.school_plan, report="custom", format="docx",
                   sections=["contact", "root_cause"])  # fmt: skip
    assert r.status_code == 200, text(r)[-2000:]  # type: ignore[attr-defined]
    assert r.headers["Content-Disposition"].startswith("attachment")  # type: ignore[attr-defined]
    words = squash(document_text(r.data))  # type: ignore[attr-defined]
    assert "Transportation gaps on rural bus routes" in words
    assert "Tiers of Support" not in words
    full = print_plan(as_user(world, DISTRICT), world.school_plan, report="full", format="docx")
    assert "Tiers of Support" in squash(document_text(full.data))  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"report": "custom", "format": "docx"}, "Tick at least one section"),
        (
            {"report": "custom", "format": "docx", "sections": ["budget"]},
            "not a section of a school",
        ),
        ({"report": "custom", "format": "docx", "sections": ["school_targets"]}, "not a section"),
        ({"report": "full", "format": "odt"}, "Choose PDF or Word"),
        ({"report": "most", "format": "pdf"}, "Choose the full report or a custom report"),
    ],
)
def test_bad_print_requests_are_refused_plainly(
    world: World, data: dict[str, object], message: str
) -> None:
    r = print_plan(as_user(world, SCHOOL), world.school_plan, **data)
    assert r.status_code == 400 and message in text(r)  # type: ignore[attr-defined,arg-type]


@pytest.mark.parametrize("email", [VISTA, "high@belen.org"])
def test_another_scope_cannot_print_the_plan(world: World, email: str) -> None:
    client = as_user(world, email)
    assert client.get(f"/plans/{world.school_plan}/print").status_code == 403
    r = post(client, f"/plans/{world.school_plan}/print", {"report": "full", "format": "docx"},
             page="/")  # fmt: skip
    assert r.status_code == 403 and not r.mimetype.endswith("document")


def wait_done(client: FlaskClient, path: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = text(client.get(path))
        if "Download" in page or "could not be made" in page:
            return page
        assert '<progress class="portal-progress" id="job-progress" max="100"' in page
        assert '<meta http-equiv="refresh" content="3">' in page
        time.sleep(0.2)
    raise AssertionError(f"{path} never finished")


def test_the_statewide_summary_is_a_job_with_a_page_a_download_and_a_mail(world: World) -> None:
    client = as_user(world, PED)
    assert "Statewide summary" in text(client.get("/documents"))
    district = text(as_user(world, DISTRICT).get("/documents"))  # a district's page: its packet
    assert "<h1>District packet</h1>" in district and "statewide" not in district.lower()
    r = post(client, "/documents/statewide", {"fiscal_year": "2027"}, page="/documents")
    assert r.status_code == 302 and re.fullmatch(r"/jobs/[0-9a-f]{32}", r.location)
    page = wait_done(client, r.location)
    assert "The document is ready" in page and "refresh" not in page
    download = client.get(r.location + "/download")
    assert download.status_code == 200
    rows = list(load_workbook(io.BytesIO(download.data))["Summary"].iter_rows(values_only=True))
    assert any("001001" in row for row in rows)
    mail = world.portal.mails(PED)[-1]
    assert mail["Subject"] == "The FY2027 statewide summary is ready"
    assert f"https://aip.ped.nm.gov{r.location}" in mail.get_content()
    # PED's reviewer may see it; coordinators get the page of an unknown job
    assert as_user(world, READER).get(r.location + "/download").status_code == 200
    for email in (DISTRICT, SCHOOL):
        other = as_user(world, email)
        assert other.get(r.location).status_code == 404
        assert other.get(r.location + "/download").status_code == 404


@pytest.mark.parametrize("job", ["0" * 32, "not-a-job", "x" * 200, "%00"])
def test_job_ids_that_do_not_exist(world: World, job: str) -> None:
    r = as_user(world, PED).get(f"/jobs/{job}")
    assert r.status_code == 404 and "Traceback" not in text(r)


@pytest.mark.parametrize(
    ("email", "path", "data", "status", "message"),
    [
        (DISTRICT, "/documents/packet", {"fiscal_year": "2027", "lea_code": "002"}, 403,
         "may not read"),
        (DISTRICT, "/documents/packet", {"fiscal_year": "27", "lea_code": "001"}, 400,
         "four digits"),
        (PED, "/documents/packet", {"fiscal_year": "2027", "lea_code": "999"}, 404,
         "Unknown LEA code"),
        (PED, "/documents/packet", {"fiscal_year": "2027"}, 400, "Choose the district"),
        (PED, "/documents/statewide", {"fiscal_year": "1999"}, 400, "four digits"),
        (DISTRICT, "/documents/statewide", {"fiscal_year": "2027"}, 403, "role does not allow"),
    ],
)  # fmt: skip
def test_bad_job_requests_are_refused_plainly(
    world: World, email: str, path: str, data: dict[str, str], status: int, message: str
) -> None:
    r = post(as_user(world, email), path, data, page="/")
    assert r.status_code == status and message in text(r), text(r)[-1500:]
