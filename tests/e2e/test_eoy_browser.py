"""The end-of-year report page in chromium: PED's form, a refusal shown beside its field, and
the .xlsx download. Every page passes axe-core and is photographed into `screenshots/`."""

from __future__ import annotations

import io

import openpyxl
from playwright.sync_api import Page

from tests.e2e.browser import PED, Served, browser, check, field_error, page, served
from tests.e2e.test_portal_browser import set_password, sign_in
from tests.integration.test_dashboards import seed_dashboard

__all__ = ["browser", "page", "served"]

PASSWORD = "Mesa-Verde#2026!"


def test_ped_downloads_the_end_of_year_report(page: Page, served: Served) -> None:
    set_password(page, served.add_ped(), PASSWORD, "y00-ped-password")
    seed_dashboard(served.core.engine, users=False)
    sign_in(page, served, PED, PASSWORD, "y00")
    page.goto(served.url + "/documents")
    page.click("main a >> text=end-of-year report")
    assert page.locator("h1").inner_text() == "End-of-year report"
    check(page, "y01-eoy-form")

    page.fill("#fy", "2026")
    page.select_option("#scope", "statewide")
    page.click("main button >> text=Download the report")
    assert "no reporting period" in field_error(page, "fy")
    check(page, "y02-eoy-no-data")

    page.fill("#fy", "2027")
    page.select_option("#scope", "006")
    page.click("label[for=format-2]")  # Excel (USWDS hides the input itself)
    with page.expect_download() as info:
        page.click("main button >> text=Download the report")
    download = info.value
    assert download.suggested_filename == "eoy-report-FY2027-006.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(download.path().read_bytes()))
    assert {r[1] for r in book["Results"].iter_rows(min_row=2, values_only=True)} == {"006"}
