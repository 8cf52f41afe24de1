"""The portal's front door in chromium: register, PED approves, first sign-in with the
emailed code, role choice, home with an announcement, sign-out; the bad inputs with their
error summary and field messages; and the main flow by keyboard alone. Every page passes
axe-core (no serious or critical violations) and is photographed into `screenshots/`."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import Page

from tests.e2e.browser import (
    PED,
    Served,
    browser,
    check,
    error_summary,
    field_error,
    page,
    served,
)

__all__ = ["browser", "page", "served"]

APPLICANT = "ana.garcia@belenschools.org"
PASSWORD = "Mesa-Verde#2026!"
PED_PASSWORD = "Rio-Grande#2026!"


def set_password(page: Page, link: str, password: str, shot: str) -> None:
    page.goto(link)
    check(page, shot)
    page.fill("#password", password)
    page.fill("#confirm", password)
    page.click("button[type=submit] >> text=Save password")
    assert page.locator("h1").inner_text() == "Password saved"
    check(page, f"{shot}-saved")


def sign_in(page: Page, served: Served, email: str, password: str, shot: str) -> None:
    page.goto(served.url + "/sign-in")
    check(page, f"{shot}-sign-in")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    assert page.locator("h1").inner_text() == "Enter your code"
    check(page, f"{shot}-code")
    page.fill("#code", served.last_code(email))
    page.click("main button >> text=Continue")


def sign_out(page: Page, shot: str) -> None:
    page.click("header button >> text=Sign out")
    assert page.locator("h1").inner_text() == "You are signed out"
    check(page, shot)


def register(page: Page, served: Served, email: str, password: str) -> None:
    page.goto(served.url + "/register")
    page.fill("#first_name", "Ana")
    page.fill("#last_name", "Garcia")
    page.fill("#email", email)
    page.select_option("#lea_code", "006")
    page.fill("#phone", "(505) 966-1000")
    page.click("label[for=role-1]")
    page.fill("#password", password)
    page.click("main button >> text=Submit request")


def test_register_approve_first_sign_in_role_choice_home_and_sign_out(
    page: Page, served: Served
) -> None:
    set_password(page, served.add_ped(), PED_PASSWORD, "01-ped-set-password")

    register(page, served, APPLICANT, PASSWORD)
    assert page.locator("h1").inner_text() == "Registration received"
    check(page, "03-registration-received")

    sign_in(page, served, PED, PED_PASSWORD, "04-ped")
    check(page, "05-ped-home")
    page.click("nav >> text=Registrations")
    check(page, "06-registrations")
    page.click(f"button:has-text('Approve {APPLICANT}')")
    assert "approved" in page.locator(".usa-alert--success").inner_text()
    check(page, "07-registration-approved")
    assert "approved" in served.mails(APPLICANT)[-1]

    page.click("nav >> text=Users")
    check(page, "08-users")
    page.click("text=Ana Garcia")
    check(page, "09-user")
    page.select_option("#role", "school_coordinator")
    page.select_option("#lea_code", "006")
    page.fill("#school_code", "006001")
    page.click("main button >> text=Add role")
    assert "School coordinator (school 006001)" in page.locator("main").inner_text()

    page.click("nav >> text=Announcements")
    check(page, "10-announcements")
    page.click("text=New announcement")
    today = dt.date.today()
    page.fill("#title", "District plans due October 1")
    page.fill("#body", "Submit your FY2027 district plan by October 1.")
    page.click("label[for=audience-1]")
    page.fill("#starts_on", today.isoformat())
    page.fill("#ends_on", (today + dt.timedelta(days=30)).isoformat())
    check(page, "11-announcement-form")
    page.click("main button >> text=Save announcement")
    assert "District plans due October 1" in page.locator("main").inner_text()
    check(page, "12-announcement-saved")
    sign_out(page, "13-ped-signed-out")

    sign_in(page, served, APPLICANT, PASSWORD, "14-applicant")
    assert page.locator("h1").inner_text() == "Choose your role"
    check(page, "15-choose-role")
    page.click("label[for=role-2]")
    page.click("main button >> text=Continue")
    main = page.locator("main").inner_text()
    assert "District plans due October 1" in main and "BELEN HIGH" in main
    assert "acting as School coordinator" in page.locator("header.usa-header").inner_text()
    check(page, "16-home-school")
    page.select_option("#switch-role", index=0)
    page.click("header button >> text=Switch role")
    assert (
        "acting as District Absence Coordinator" in page.locator("header.usa-header").inner_text()
    )
    check(page, "17-home-district")
    page.click("nav >> text=Account")
    check(page, "18-account")
    sign_out(page, "19-signed-out")


def test_bad_inputs_show_the_summary_and_the_field_message(page: Page, served: Served) -> None:
    register(page, served, "ana.garcia@gmail.com", "mesa-verde#2026!")
    summary = error_summary(page)
    assert "There are 2 problems" in summary
    assert "not a personal one" in field_error(page, "email")
    assert "must contain an upper-case letter" in field_error(page, "password")
    check(page, "20-register-errors")
    page.click("#error-summary a >> nth=0")
    assert page.evaluate("location.hash") == "#email"

    set_password(page, served.add_ped(), PED_PASSWORD, "21-set-password")
    page.goto(served.url + "/sign-in")
    page.fill("#email", PED)
    page.fill("#password", PED_PASSWORD)
    page.click("main button[type=submit]")
    code = served.last_code(PED)
    page.fill("#code", "000000" if code != "000000" else "111111")
    page.click("main button >> text=Continue")
    assert "not right" in field_error(page, "code") and "There is a problem" in error_summary(page)
    check(page, "22-wrong-code")

    page.goto(served.url + "/sign-in")
    page.fill("#email", PED)
    page.fill("#password", "Wrong-Password#1")
    page.click("main button[type=submit]")
    assert "not right" in field_error(page, "email")
    check(page, "23-wrong-password")
    page.goto(served.url + "/no-such-page")
    check(page, "24-not-found")


def tab_to(page: Page, selector: str, limit: int = 60) -> None:
    """Press Tab until `selector` has the focus (as a keyboard user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def sign_in_by_keyboard(page: Page, served: Served, email: str, password: str) -> None:
    page.goto(served.url + "/sign-in")
    tab_to(page, "#email")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_selector("#code")
    assert page.evaluate("document.activeElement.id") == "code"  # autofocus
    page.keyboard.type(served.last_code(email))
    page.keyboard.press("Enter")


def sign_out_by_keyboard(page: Page) -> None:
    tab_to(page, "header button.usa-button--unstyled")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1 >> text=You are signed out")


def test_the_main_flow_works_by_keyboard_alone(page: Page, served: Served) -> None:
    from aip_forms.services import accounts

    link = served.add_ped()
    page.goto(link)
    tab_to(page, "#password")
    page.keyboard.type(PED_PASSWORD)
    page.keyboard.press("Tab")
    page.keyboard.type(PED_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("h1 >> text=Password saved")

    page.goto(served.url + "/register")
    for name, typed in [("#first_name", "Ana"), ("#last_name", "Garcia"), ("#email", APPLICANT)]:
        tab_to(page, name)
        page.keyboard.type(typed)
    tab_to(page, "#lea_code")
    page.keyboard.type("BELEN")
    tab_to(page, "#phone")
    page.keyboard.type("(505) 966-1000")
    tab_to(page, "#password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("h1 >> text=Registration received")
    (waiting,) = accounts.pending_registrations(actor_email=PED, uow=served.core.uow)
    assert waiting.lea_code == "006" and waiting.role.value == "district_coordinator"

    sign_in_by_keyboard(page, served, PED, PED_PASSWORD)
    page.wait_for_selector("text=FY")
    tab_to(page, "a.usa-nav-link[href='/admin/registrations']")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1 >> text=Pending registrations")
    tab_to(page, "main button.usa-button:not(.usa-button--secondary)")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=No registrations are waiting")
    sign_out_by_keyboard(page)

    sign_in_by_keyboard(page, served, APPLICANT, PASSWORD)
    page.wait_for_selector("h1 >> text=plans")
    assert "BELEN CONSOLIDATED" in page.locator("main").inner_text()
    sign_out_by_keyboard(page)
