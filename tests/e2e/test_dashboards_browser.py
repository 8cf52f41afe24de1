"""The dashboards in chromium: the PED coordinator's statewide view, filtered by the form
(GET, no script needed), the words behind an off-track school, the deadlines admin page
with a date set; then a district coordinator's view, which holds its own schools only.
Every page passes axe-core and is photographed into `screenshots/`."""

from __future__ import annotations

from playwright.sync_api import Page

from aip_forms.services.users import add_user
from tests.e2e.browser import PED, Served, browser, check, page, served
from tests.e2e.test_portal_browser import set_password, sign_in, sign_out
from tests.integration.test_dashboards import seed_dashboard

__all__ = ["browser", "page", "served"]

PASSWORD = "Mesa-Verde#2026!"
DISTRICT = "district.coordinator@belenschools.org"


def test_ped_and_district_dashboards(page: Page, served: Served) -> None:
    core = served.core
    set_password(page, served.add_ped(), PASSWORD, "d00-ped-password")
    add_user(DISTRICT, "district_coordinator", lea_code="006", uow=core.uow, name="Ana Garcia",
             mailer=core.mailer, site=core.site, policy=core.accounts)  # fmt: skip
    seed_dashboard(core.engine, users=False)
    sign_in(page, served, PED, PASSWORD, "d00")

    page.click("nav >> text=Dashboard")
    assert page.locator("h1").inner_text() == "Statewide dashboard, FY2027"
    main = page.locator("main").inner_text()
    assert "BERNALILLO HIGH" in main and "BELEN HIGH" in main
    assert page.locator("svg[role=img] title").count() >= 4
    check(page, "d01-statewide")

    page.select_option("#period", "80")
    page.select_option("#status", "approved")
    page.click("main button >> text=Apply filters")
    assert "period=80" in page.url and "status=approved" in page.url
    assert page.locator("#period").input_value() == "80"
    check(page, "d02-statewide-filtered")

    page.goto(served.url + "/dashboards?fy=20x7")
    assert "fiscal year" in page.locator("#error-summary").inner_text()
    check(page, "d03-bad-filter")

    page.goto(served.url + "/dashboards?lea=006")
    page.locator("main a:has-text('Why'):has-text('BELEN HIGH, Male')").click()
    assert page.locator("h1").inner_text() == "BELEN HIGH: the words behind the numbers"
    assert "Mentors met 42 students weekly." in page.locator("main").inner_text()
    check(page, "d04-words")

    page.click("nav >> text=Deadlines")
    assert page.locator("h1").inner_text().startswith("Deadlines, FY2027")
    assert "NMSA 22-12A-7" in page.locator("main").inner_text()
    check(page, "d05-deadlines")
    page.select_option("#which", "school/120")
    page.fill("#due_on", "2027-02-01")
    page.click("main button >> text=Set deadline")
    assert "The deadline is set to February 1, 2027." in page.locator("main").inner_text()
    check(page, "d06-deadline-set")
    sign_out(page, "d07-signed-out")

    set_password(page, served.last_link(DISTRICT), PASSWORD, "d08-district-password")
    sign_in(page, served, DISTRICT, PASSWORD, "d08")
    page.click("nav >> text=Dashboard")
    assert page.locator("h1").inner_text() == "District dashboard, FY2027"
    main = page.locator("main").inner_text()
    assert "BELEN HIGH" in main and "BERNALILLO" not in main
    assert page.locator("#lea").count() == 0  # no LEA filter: its own district only
    check(page, "d09-district")
