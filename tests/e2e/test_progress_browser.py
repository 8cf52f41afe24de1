"""The progress cycle in chromium: a school plan approved and the 80-day data loaded
(synthetic), the coordinator finds the period on My plans, downloads the progress
workbook, fills it with openpyxl, uploads the plan workbook by mistake (refused on the
report page), uploads the progress workbook, checks it, submits it with the certification
and finds the receipt on the SMTP server; the district coordinator finds it in the review
queue, approves it, and the dashboard shows it approved. Every page passes axe-core and is
photographed into `screenshots/`."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from aip_forms.services.users import add_user
from tests.e2e.browser import Served, browser, check, page, served
from tests.e2e.test_portal_browser import set_password, sign_in, sign_out
from tests.support.plans import issued
from tests.support.progress import PLAN, approved_plan, fill, load_period

__all__ = ["browser", "page", "served"]

COORDINATOR = "school@belen.org"
REVIEWER = "district@belen.org"
PASSWORD = "Mesa-Verde#2026!"


def test_progress_update_through_the_portal(page: Page, served: Served, tmp_path: Path) -> None:
    core = served.core
    for email, role, place in (
        (COORDINATOR, "school_coordinator", {"school_code": "006001"}),
        (REVIEWER, "district_coordinator", {"lea_code": "006"}),
    ):
        add_user(
            email,
            role,
            uow=core.uow,
            name=email.split("@")[0].title(),
            mailer=core.mailer,
            site=core.site,
            policy=core.accounts,
            **place,
        )
        set_password(page, served.last_link(email), PASSWORD, f"p00-{role}-password")
    approved_plan(core)
    load_period(core)

    sign_in(page, served, COORDINATOR, PASSWORD, "p01")
    page.click("nav >> text=My plans")
    main = page.locator("main").inner_text().lower()  # status tags are shown in capitals
    assert "80-day progress update" in main and "ready to report" in main
    assert "120-day progress update" in main and "data not loaded yet" in main
    check(page, "p02-my-plans-periods")

    with page.expect_download() as download:
        page.click("main a >> text=Download the progress workbook")
    assert download.value.suggested_filename == "FY2027-progress-80-006001-FY2027.xlsx"
    workbook = Path(download.value.path()).read_bytes()

    page.click("main a >> text=Upload and check")
    assert page.locator("h1").inner_text() == "Upload the 80-day progress update of BELEN HIGH"
    check(page, "p03-upload")
    wrong = tmp_path / "plan.xlsx"
    wrong.write_bytes(issued(core, PLAN))
    page.set_input_files("#workbook", str(wrong))
    page.click("main button >> text=Check only")
    page.wait_for_selector("h1 >> text=Check of the BELEN HIGH 80-day progress update")
    assert "This is the plan workbook, not the 80-day progress workbook." in (
        page.locator("main").inner_text()
    )
    check(page, "p04-wrong-workbook")

    progress = tmp_path / "progress-80.xlsx"
    progress.write_bytes(fill(workbook))
    page.goto(page.url.rsplit("/checks/", 1)[0] + "/upload")
    page.set_input_files("#workbook", str(progress))
    page.click("main button >> text=Check only")
    page.wait_for_selector("h1 >> text=Check of the BELEN HIGH 80-day progress update")
    assert "Ready to submit" in page.locator("main").inner_text()
    check(page, "p05-report-ready")
    page.click("label[for=certify]")
    page.click("main button >> text=Submit the progress update")
    page.wait_for_selector("h1 >> text=Receipt: BELEN HIGH, version 1")
    check(page, "p06-receipt")
    assert "80-day progress update" in served.inbox.to(COORDINATOR)[-1]["Subject"]
    page.click("nav >> text=My plans")
    assert "Nothing to do now: the update is under review." in page.locator("main").inner_text()
    check(page, "p07-my-plans-submitted")
    sign_out(page, "p08-signed-out")

    sign_in(page, served, REVIEWER, PASSWORD, "p09")
    page.click("nav >> text=Review")
    page.locator("main tr:has-text('80-day progress update') a").first.click()
    assert "80-day progress update" in page.locator("h1").inner_text()
    assert "Strategy Effectiveness" in page.locator("main").inner_text()
    check(page, "p10-review-update")
    page.click("label[for=decision-approve]")
    page.click("main button >> text=Record the decision")
    assert "The plan is approved" in page.locator("main").inner_text()
    check(page, "p11-approved")

    page.click("nav >> text=Dashboard")
    main = page.locator("main").inner_text()
    assert "BELEN HIGH" in main and "80-day period" in main
    assert "every target shown is the approved plan's" in main
    check(page, "p12-dashboard")
