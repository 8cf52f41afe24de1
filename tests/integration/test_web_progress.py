"""Progress updates in the portal (issue 12): My plans lists an approved plan's reporting
periods with their state and deadline; the progress workbook is downloaded, uploaded, checked
and submitted through the plan pages; the refusals (plan not approved, data not loaded, a
plan workbook where a progress workbook is expected and the reverse, another period's
workbook, a period the plan's kind does not report) are said on the page, never a 500; the
update is reviewed in the review queue with comments on its own cells."""

from __future__ import annotations

import io

import openpyxl
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from aip_forms.db.models import CommentRow, PlanRecordRow, SubmissionRow
from aip_forms.errors import InvalidInput
from aip_forms.services import review
from tests.integration.test_web_plans import download, followed, signed_in, submit_checked, upload
from tests.support.plans import SCHOOL, XLSX, issued
from tests.support.progress import (
    COORDINATOR,
    PLAN,
    REVIEWER,
    UPDATE,
    approved_plan,
    fill,
    load_period,
)
from tests.support.web import Portal, portal, post, text

__all__ = ["portal"]


def stored(portal: Portal) -> int:
    with portal.core.uow() as u:
        return int(u.session.scalar(select(func.count()).select_from(SubmissionRow)) or 0)


def checked(client: FlaskClient, data: bytes, key: str = UPDATE) -> str:
    """Check `data` as the upload to `key`; the report page's text."""
    return text(followed(client, upload(client, data, key=key)))


def test_my_plans_shows_each_period_of_an_approved_plan_with_its_state(portal: Portal) -> None:
    client = signed_in(portal)
    assert "80-day progress update" not in text(client.get("/plans"))  # no approved plan
    approved_plan(portal.core)
    page = text(client.get("/plans"))
    assert "80-day progress update" in page and "120-day progress update" in page
    assert "End of year progress update" in page
    assert "data not loaded yet" in page and f"/plans/{UPDATE}/workbook" not in page
    assert "approved" in page  # the plan's own row keeps its status

    r = client.get(f"/plans/{UPDATE}/workbook")
    assert r.status_code == 409 and "has not loaded the 80-day attendance data" in text(r)
    r = client.get(f"/plans/{UPDATE}/upload")
    assert r.status_code == 409 and "Not open for upload yet" in text(r)
    assert 'type="file"' not in text(r)

    load_period(portal.core)
    page = text(client.get("/plans"))
    assert "ready to report" in page and f"/plans/{UPDATE}/workbook" in page
    assert f"/plans/{UPDATE}/upload" in page
    assert f"/plans/{SCHOOL}-120/workbook" not in page  # 120-day data not loaded

    portal.clock.advance(days=40)  # past the plan's deadline: an approved plan has no count
    page = text(signed_in(portal).get("/plans"))
    assert "October 15, 2026" in page and "past the deadline" not in page
    assert "days left" in page  # the periods' own deadlines still count


def test_a_period_waits_for_the_plans_approval(portal: Portal) -> None:
    load_period(portal.core)
    client = signed_in(portal)
    r = client.get(f"/plans/{UPDATE}/workbook")
    assert r.status_code == 409 and "once the plan is approved" in text(r)
    assert client.get(f"/plans/{SCHOOL}-40/upload").status_code == 404  # schools skip 40
    assert client.get(f"/plans/{SCHOOL}-99/workbook").status_code == 404


def test_the_progress_update_is_checked_submitted_and_has_history_and_receipt(
    portal: Portal,
) -> None:
    approved_plan(portal.core)
    load_period(portal.core)
    client = signed_in(portal)
    r = client.get(f"/plans/{UPDATE}/workbook")
    assert r.status_code == 200 and r.mimetype == XLSX
    assert "FY2027-progress-80-006001-FY2027.xlsx" in r.headers["Content-Disposition"]
    workbook = r.data

    incomplete = checked(client, fill(workbook, skip_reflection=True))
    assert "Check of the BELEN HIGH 80-day progress update" in incomplete
    assert "G6" in incomplete and "3 Strategy Reflection" in incomplete
    before = stored(portal)

    r = upload(client, fill(workbook), key=UPDATE)
    report_path = r.headers["Location"]
    assert "no errors" in text(client.get(report_path)).lower()
    assert stored(portal) == before  # check only stores nothing
    receipt = followed(client, submit_checked(client, report_path))
    page = text(receipt)
    assert "Your progress update is submitted" in page and "Receipt: BELEN HIGH" in page
    assert stored(portal) == before + 1
    mail = portal.mails(COORDINATOR)[-1]
    assert "80-day progress update of the school plan of BELEN HIGH" in mail["Subject"]

    with portal.core.uow() as u:
        periods = list(u.session.scalars(select(PlanRecordRow.period).order_by(PlanRecordRow.id)))
    assert periods == [None, "80"]
    mine = text(client.get("/plans"))
    assert "submitted" in mine and "Nothing to do now: the update is under review." in mine
    history = text(client.get(f"/plans/{UPDATE}/history"))
    assert "History of the BELEN HIGH 80-day progress update" in history
    assert "Version 1" in history


def test_the_wrong_workbook_is_refused_on_the_report_page(portal: Portal) -> None:
    approved_plan(portal.core)
    load_period(portal.core)
    load_period(portal.core, "120")
    client = signed_in(portal)
    progress = fill(download(client, UPDATE))
    before = stored(portal)

    page = checked(client, issued(portal.core, PLAN))
    assert "This is the plan workbook, not the 80-day progress workbook." in page
    assert "Contact First Name is required" not in page  # its cells are not checked
    page = checked(client, progress, key=SCHOOL)
    assert "This is the 80-day progress workbook, not the plan workbook." in page
    page = checked(client, fill(download(client, f"{SCHOOL}-120")))
    assert "This is the 120-day progress workbook, but this upload is for the 80-day" in page

    # Submit without a check: the same refusal, nothing stored, no receipt.
    r = upload(client, issued(portal.core, PLAN), key=UPDATE, action="submit", certify=True)
    assert "This is the plan workbook" in text(followed(client, r))
    r = upload(client, progress, key=SCHOOL, action="submit", certify=True)
    assert "not the plan workbook" in text(followed(client, r))
    assert stored(portal) == before


def test_a_reviewer_comments_on_a_progress_cell_returns_and_approves(portal: Portal) -> None:
    approved_plan(portal.core)
    load_period(portal.core)
    coordinator = signed_in(portal)
    first = fill(download(coordinator, UPDATE))
    r = upload(coordinator, first, key=UPDATE, action="submit", certify=True)
    assert r.status_code == 302 and "/versions/" in r.headers["Location"]
    with portal.core.uow() as u:
        update_id = u.session.scalar(select(PlanRecordRow.id).where(PlanRecordRow.period == "80"))
    reviewer = signed_in(portal, REVIEWER)
    queue = text(reviewer.get("/review"))
    assert "School plan: 80-day progress update" in queue
    path = f"/review/plans/{update_id}"
    page = text(reviewer.get(path))
    assert "BELEN HIGH" in page and "FY2027 school plan: 80-day progress update" in page
    assert "Strategy Effectiveness" in page and "Targets and Current Rates by Subgroup" in page
    assert "Print plan" not in page

    r = post(reviewer, f"{path}/comments", {"body": "Say which families.",
             "cell": "'3 Strategy Reflection'!G6"}, page=path)  # fmt: skip
    assert r.status_code == 302, text(r)[-400:]
    r = post(reviewer, f"{path}/comments", {"body": "Not a progress cell.",
             "cell": "'4 Tiers of Support'!C7"}, page=path)  # fmt: skip
    assert r.status_code == 400 and "There is no answer of this plan in cell" in text(r)
    with portal.core.uow() as u:
        sheet, cell, field = u.session.execute(
            select(CommentRow.sheet, CommentRow.cell, CommentRow.field)
        ).one()
    assert (sheet, cell) == ("3 Strategy Reflection", "G6")
    assert field is not None and field.startswith("strategies.")

    r = post(reviewer, f"{path}/decision", {"decision": "return",
             "reason": "Add the families."}, page=path)  # fmt: skip
    assert r.status_code == 302
    assert "returned" in text(coordinator.get("/plans"))
    assert "returned" in portal.mails(COORDINATOR)[-1]["Subject"]

    r = upload(coordinator, first, key=UPDATE, action="submit", certify=True)
    # the same file as returned: refused, the coordinator is told to revise it
    assert "revise it as the reviewer" in text(followed(coordinator, r))
    r = upload(coordinator, revised(first), key=UPDATE, action="submit", certify=True)
    assert r.status_code == 302 and "/versions/" in r.headers["Location"]
    assert "Version 2" in text(reviewer.get(path))
    r = post(reviewer, f"{path}/decision", {"decision": "approve", "reason": ""}, page=path)
    assert r.status_code == 302
    assert "Nothing to do: the update is approved." in text(coordinator.get("/plans"))


def revised(workbook: bytes) -> bytes:
    """The progress workbook with the first reflection rewritten, as the reviewer asked."""
    wb = openpyxl.load_workbook(io.BytesIO(workbook))
    wb["3 Strategy Reflection"]["G6"] = "Reached 40 families: the 12 with most absences first."
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_review_resolves_progress_cells_against_the_progress_spec(portal: Portal) -> None:
    approved_plan(portal.core)
    load_period(portal.core)
    coordinator = signed_in(portal)
    r = upload(coordinator, fill(download(coordinator, UPDATE)), key=UPDATE, action="submit",
               certify=True)  # fmt: skip
    assert r.status_code == 302
    core = portal.core
    with core.uow() as u:
        sub_id = u.session.scalars(
            select(SubmissionRow.id)
            .join(PlanRecordRow, PlanRecordRow.id == SubmissionRow.plan_id)
            .where(PlanRecordRow.period == "80")
        ).one()
    add = {"author_email": REVIEWER, "uow": core.uow, "config": core.config}
    note = review.add_comment(sub_id, "Which families?", cell="'3 Strategy Reflection'!G6", **add)
    assert note.field and note.field.startswith("strategies.strategies[")
    on_section = review.add_comment(sub_id, "Targets look low.", section="2A Subgroup Progress",
                                    **add)  # fmt: skip
    assert on_section.section is not None and on_section.cell is None
    with pytest.raises(InvalidInput, match=r"no sheet '4 Tiers of Support'.*3 Strategy Reflection"):
        review.add_comment(sub_id, "x", cell="'4 Tiers of Support'!C7", **add)
    result = review.approve(
        sub_id,
        reviewer_email=REVIEWER,
        uow=core.uow,
        config=core.config,
        comment="Good reflections.",
        cell="'3 Strategy Reflection'!G7",
    )
    assert result.comment is not None and result.comment.cell == "G7"
    assert "approved" in text(coordinator.get("/plans"))
