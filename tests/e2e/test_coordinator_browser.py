"""The coordinator's flow in chromium: sign in with the emailed code, My plans, download the
pre-filled workbook, fill it with openpyxl leaving a required cell empty, check it, see the
error at its cell with its sheet window, fix it, check again, submit with the certification,
see the receipt and find the receipt email on the SMTP server; then the history. Every page passes
axe-core and is photographed into `screenshots/`."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page

from aip_forms.domain import PlanKind
from aip_forms.services.access import PlanRef
from aip_forms.services.users import add_user
from tests.e2e.browser import Served, browser, check, page, served
from tests.e2e.test_portal_browser import set_password, sign_in
from tests.support.plans import filled

__all__ = ["browser", "page", "served"]

COORDINATOR = "kristin.garcia@belenschools.org"
PASSWORD = "Mesa-Verde#2026!"
REF = PlanRef(PlanKind.SCHOOL, 2027, "006", "006001")
FIRST_NAME = "1 Contact Information!C10"


def upload_and_check(page: Page, workbook: Path) -> None:
    page.set_input_files("#workbook", str(workbook))
    page.click("main button >> text=Check only")
    page.wait_for_selector("h1 >> text=Check of the BELEN HIGH plan")


def signed_in_coordinator(page: Page, served: Served, shot: str) -> None:
    """Kristin Garcia added by PED, her password set from the emailed link, signed in with
    the emailed code (screenshots named `shot`)."""
    core = served.core
    add_user(COORDINATOR, "school_coordinator", school_code="006001", uow=core.uow,
             name="Kristin Garcia", mailer=core.mailer, site=core.site,
             policy=core.accounts)  # fmt: skip
    set_password(page, served.last_link(COORDINATOR), PASSWORD, f"{shot}-set-password")
    sign_in(page, served, COORDINATOR, PASSWORD, shot)


def test_coordinator_downloads_fills_checks_fixes_submits_and_gets_a_receipt(
    page: Page, served: Served, tmp_path: Path
) -> None:
    core = served.core
    signed_in_coordinator(page, served, "c00")

    page.click("nav >> text=My plans")
    assert page.locator("h1").inner_text().startswith("My plans")
    assert "not started" in page.locator("main").inner_text().lower()
    check(page, "c01-my-plans")

    with page.expect_download() as download:
        page.click("main a >> text=Download the pre-filled workbook")
    issued = Path(download.value.path()).read_bytes()
    assert download.value.suggested_filename == "FY2027-school-006001.xlsx"

    incomplete = tmp_path / "plan-incomplete.xlsx"
    incomplete.write_bytes(filled(core, REF, issued, {FIRST_NAME: None}))
    page.click("main a >> text=Upload and check")
    assert "I certify this plan is complete." in page.locator("main").inner_text()
    check(page, "c02-upload")
    upload_and_check(page, incomplete)
    main = page.locator("main").inner_text()
    assert "Not ready to submit" in main and "Contact First Name is required." in main
    assert "'1 Contact Information'!C10" in main
    marked = page.locator("td.portal-sheet__problem").first
    assert "Problem cell C10" in marked.inner_text()
    assert page.locator("text=Submit the plan").count() == 0
    check(page, "c03-report-errors")

    complete = tmp_path / "plan.xlsx"
    complete.write_bytes(filled(core, REF, issued))
    page.click("main a >> text=Upload a corrected workbook")
    upload_and_check(page, complete)
    assert "Ready to submit" in page.locator("main").inner_text()
    check(page, "c04-report-ready")
    page.click("label[for=certify]")
    page.click("main button >> text=Submit the plan")
    page.wait_for_selector("h1 >> text=Receipt: BELEN HIGH, version 1")
    sha = re.search(r"[0-9a-f]{64}", page.locator("main").inner_text())
    assert sha is not None
    check(page, "c05-receipt")
    mails = served.mails(COORDINATOR)
    assert "Version: 1" in mails[-1] and sha.group(0) in mails[-1]

    page.click("main a >> text=The plan's history")
    main = page.locator("main").inner_text()
    assert "Version 1" in main and "Returned, after the reviewer returns it" in main
    check(page, "c06-history")
    page.click("nav >> text=My plans")
    assert "Nothing to do now: the plan is under review." in page.locator("main").inner_text()
    check(page, "c07-my-plans-submitted")


def test_an_upload_over_the_quota_is_refused_at_the_file_field(
    page: Page, served: Served, tmp_path: Path
) -> None:
    from aip_forms.services.throttle import TooManyUploads, spend_upload

    core = served.core
    signed_in_coordinator(page, served, "q00")
    workbook = tmp_path / "plan.xlsx"
    workbook.write_bytes(b"not a workbook")
    page.goto(f"{served.url}/plans/FY2027-school-006001/upload")
    for _ in range(2):  # the quota's window is the real clock's minute: once more if it turned
        try:  # the minute's uploads used up, as if made from another tab
            while True:
                spend_upload(core.throttle, COORDINATOR, core.accounts, core.clock())
        except TooManyUploads:
            pass
        page.set_input_files("#workbook", str(workbook))
        page.click("main button >> text=Check only")
        page.wait_for_load_state("load")
        if "workbooks in this minute" in page.locator("main").inner_text():
            break
    assert "You have uploaded 10 workbooks in this minute" in page.locator("main").inner_text()
    assert page.locator("#workbook").count() == 1  # the form is still there
    check(page, "q01-upload-over-quota")
