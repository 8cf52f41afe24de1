"""The reviewer flow in chromium, over real plans: the district coordinator finds Belen
Elementary's submitted plan in the queue, comments on a cell, returns the plan with a
reason; the school coordinator reads the mail, downloads the revision workbook (the comment
is its cell's note), revises and resubmits it (through the submit service: the upload page
is another page's work); the district coordinator approves it. Then a custom report is
printed as a PDF and its text read back, and a token is made on the account page. Every
page passes axe-core and is photographed into `screenshots/`."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page
from pypdf import PdfReader
from werkzeug.serving import make_server

from aip_forms.services import accounts
from aip_forms.services.repository import user_by_email
from aip_forms.services.users import issue_password_link
from tests.e2e.browser import _free_port, browser, check, page
from tests.integration.test_submit import CERTIFY, edited
from tests.support.review_world import DISTRICT, SCHOOL, World, make_world
from web import create_app

__all__ = ["browser", "page"]
pytestmark = [pytest.mark.slow, pytest.mark.libreoffice]
PASSWORD = "Mesa-Verde#2026!"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[World, str]]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    world = make_world(tmp_path / "home", base_url=url)
    core = world.core
    for email in (DISTRICT, SCHOOL):
        with core.uow() as u:
            user = user_by_email(u.session, email)
            assert user is not None
            link = issue_password_link(u.session, user, purpose="reset", hours=1,
                                       now=world.portal.clock())  # fmt: skip
            u.commit()
        clock = world.portal.clock
        accounts.set_password(link, PASSWORD, uow=core.uow, mailer=core.mailer,
                              policy=core.accounts, site=core.site, clock=clock)  # fmt: skip
    server = make_server("127.0.0.1", port, create_app(core), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield world, url
    server.shutdown()
    thread.join(timeout=10)
    core.close()


def sign_in(page: Page, world: World, url: str, email: str, shot: str) -> None:
    import re

    page.goto(url + "/sign-in")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    body = world.portal.mails(email)[-1].get_content()
    code = re.search(r"Your sign-in code is (\d{6})", body)
    assert code, body
    page.fill("#code", code.group(1))
    page.click("main button >> text=Continue")
    check(page, shot)


def sign_out(page: Page) -> None:
    page.click("header button >> text=Sign out")


def test_return_with_a_cell_comment_revise_resubmit_approve_and_print(
    page: Page, served: tuple[World, str]
) -> None:
    world, url = served
    plan = world.school_plan
    sign_in(page, world, url, DISTRICT, "r01-district-home")
    page.click("nav >> text=Review")
    # the portal's clock is September's here, the browser's today's: the countdown goes by
    # the portal's count of the seconds left, not by the computer's clock
    assert page.locator("#session-countdown").inner_text() == "(30 min left)"
    check(page, "r02-queue")
    page.select_option("#sort", "name")
    page.click("main button >> text=Show plans")
    assert "sort=name" in page.url
    check(page, "r03-queue-sorted")
    page.click("main a >> text=BELEN ELEMENTARY")
    assert "Step 3 - Root Cause Analysis" in page.locator("main").inner_text()
    check(page, "r04-plan")
    page.click("a[aria-label='Comment on Barriers']")
    assert page.input_value("#cell") == "B10" and page.input_value("#section") == "root_cause"
    page.fill("#body", "Name the bus routes that run late, and since when.")
    page.click("main button >> text=Add comment")
    assert "Open: 3 Root Cause Analysis!B10" in page.locator("main").inner_text()
    check(page, "r05-commented")
    page.select_option("#section", "root_cause")
    page.fill("#cell", "Z99")
    page.fill("#body", "A cell with no answer.")
    page.click("main button >> text=Add comment")
    assert "There is no answer of this plan in cell" in page.locator("#cell-error").inner_text()
    check(page, "r06-comment-error")
    page.click("label[for=decision-return]")
    page.fill("#reason", "Please revise step 3 as the comment asks.")
    page.click("main button >> text=Record the decision")
    assert "returned" in page.locator(".usa-alert--success").inner_text()
    check(page, "r07-returned")
    sign_out(page)

    mail = world.portal.mails(SCHOOL)[-1]
    assert mail["Subject"] == "Your FY2027 school plan was returned for revision"
    sign_in(page, world, url, SCHOOL, "r08-school-home")
    page.goto(f"{url}/review/plans/{plan}")
    check(page, "r09-school-plan")
    with page.expect_download() as got:
        page.click("main a >> text=Download the revision workbook")
    revision = Path(got.value.path()).read_bytes()
    note = load_workbook(io.BytesIO(revision))["3 Root Cause Analysis"]["B10"].comment
    assert note is not None and "Name the bus routes" in note.text
    revised = edited(revision, {"3 Root Cause Analysis!B10": "Routes 4 and 9, since August.",
                                **CERTIFY})  # fmt: skip
    world.submit(revised, SCHOOL)
    sign_out(page)

    sign_in(page, world, url, DISTRICT, "r10-district-again")
    page.goto(f"{url}/review/plans/{plan}")
    assert "Routes 4 and 9, since August." in page.locator("main").inner_text()
    page.click("main button >> text=Resolve comment")
    check(page, "r11-resolved")
    page.click("label[for=decision-approve]")
    page.click("main button >> text=Record the decision")
    assert "approved" in page.locator(".usa-alert--success").inner_text()
    check(page, "r12-approved")

    page.click("main a >> text=Print plan")
    check(page, "r13-print")
    page.click("label[for=report-custom]")
    for key in ("contact", "demographics", "grades", "tiers", "certification", "review",
                "progress", "charts"):  # fmt: skip
        page.click(f"label[for=section-{key}]")  # USWDS draws the box on the label
    with page.expect_download(timeout=180_000) as got:
        page.click("main button >> text=Download the report")
    pdf = PdfReader(io.BytesIO(Path(got.value.path()).read_bytes()))
    words = " ".join(p.extract_text() for p in pdf.pages)
    assert "Routes 4 and 9, since August." in words and "Tiers of Support" not in words

    page.goto(url + "/account/tokens")
    check(page, "r14-tokens")
    page.fill("#name", "nightly sync")
    page.click("label[for=scope-1]")
    page.click("main button >> text=Make the token")
    assert page.locator("#new-token").inner_text().startswith("aip_")
    check(page, "r15-token-made")
    page.goto(url + "/documents")
    check(page, "r16-documents")
