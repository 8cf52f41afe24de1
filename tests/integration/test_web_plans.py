"""My plans with the real App: the list (status, deadline, days left, next step), the
pre-filled workbook, upload with Check only and Submit, the report at its cells with a window
of the sheet, the annotated copy, the certification, the receipt page and email, a
double-clicked submit, storage down during a submit, and the history."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import TestResponse, encode_multipart

from aip_forms.db.models import SubmissionRow
from aip_forms.domain import PlanKind
from aip_forms.services.access import PlanRef
from tests.support.plans import DISTRICT, SCHOOL, XLSX, filled, submitted
from tests.support.web import Portal, open_session, portal, text, token
from validators.validate import Expectation

__all__ = ["portal"]

REF = PlanRef(PlanKind.SCHOOL, 2027, "006", "006001")
COORDINATOR = "school@belen.org"
FIRST_NAME = "1 Contact Information!C10"


def signed_in(portal: Portal, email: str = COORDINATOR) -> FlaskClient:
    client = portal.client()
    open_session(portal, client, email)
    return client


def download(client: FlaskClient, key: str = SCHOOL) -> bytes:
    r = client.get(f"/plans/{key}/workbook")
    assert r.status_code == 200 and r.mimetype == XLSX
    return r.data


def upload(
    client: FlaskClient,
    data: bytes,
    *,
    action: str = "check",
    filename: str = "plan.xlsx",
    certify: bool = False,
    key: str = SCHOOL,
) -> TestResponse:
    path = f"/plans/{key}/upload"
    form = MultiDict({"csrf_token": token(client, path), "action": action})
    if certify:
        form["certify"] = "yes"
    form["workbook"] = FileStorage(io.BytesIO(data), filename, content_type=XLSX)
    # encoded here, in memory: the test client spools a large body to a file it never closes
    boundary, body = encode_multipart(form)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def followed(client: FlaskClient, r: TestResponse) -> TestResponse:
    assert r.status_code == 302, (r.status_code, text(r)[-500:])
    return client.get(r.headers["Location"])


def versions(portal: Portal) -> int:
    with portal.core.uow() as u:
        return int(u.session.scalar(select(func.count()).select_from(SubmissionRow)) or 0)


def submit_checked(client: FlaskClient, report_path: str, *, certify: bool = True) -> TestResponse:
    form = {"csrf_token": token(client, report_path)}
    if certify:
        form["certify"] = "yes"
    return client.post(report_path + "/submit", data=form)


# ---- my plans and the workbook ------------------------------------------------------------


def test_my_plans_lists_the_roles_plans_with_status_deadline_days_left_and_next_step(
    portal: Portal,
) -> None:
    page = text(signed_in(portal, "district@belen.org").get("/plans"))
    assert "BELEN CONSOLIDATED" in page and "BELEN HIGH" in page and "BERNALILLO" not in page
    assert "October 1, 2026" in page and "17 days left" in page  # district plan, from Sept 14
    assert "October 15, 2026" in page and "31 days left" in page  # school plan
    assert page.count("not started") == 2
    assert "Not started yet by its coordinator." in page  # the school's, for the district
    assert f"/plans/{DISTRICT}/upload" in page and f"/plans/{SCHOOL}/upload" not in page

    portal.clock.advance(days=20)
    page = text(signed_in(portal, COORDINATOR).get("/plans"))
    assert "11 days left" in page and "BELEN CONSOLIDATED</th>" not in page
    assert "Download the pre-filled workbook, fill it in" in page
    portal.clock.advance(days=14)
    assert "3 days past the deadline" in text(signed_in(portal).get("/plans"))


def test_the_home_page_marks_plans_late_once_their_deadline_passed(portal: Portal) -> None:
    page = text(signed_in(portal, "district@belen.org").get("/"))
    assert "October 1, 2026" in page and ">late<" not in page  # September 14: not yet
    portal.clock.advance(days=18)  # October 2: the district plan is late, the school's not
    page = text(signed_in(portal, "district@belen.org").get("/"))
    assert page.count(">late<") == 1
    submitted(portal.core, PlanRef(PlanKind.DISTRICT, 2027, "006", None), "district@belen.org")
    assert ">late<" not in text(signed_in(portal, "district@belen.org").get("/"))


def test_the_pre_filled_workbook_is_issued_for_the_plan_on_every_request(portal: Portal) -> None:
    client = signed_in(portal)
    r = client.get(f"/plans/{SCHOOL}/workbook")
    assert r.headers["Cache-Control"] == "no-store"
    assert "FY2027-school-006001.xlsx" in r.headers["Content-Disposition"]
    report = portal.core.validator(
        r.data, filename="x.xlsx", expect=Expectation(PlanKind.SCHOOL, 2027, "006", "006001"),
        final=False,
    )  # fmt: skip
    assert report.identity is not None and report.identity.signature_valid
    assert report.identity.school_code == "006001"
    assert portal.client().get(f"/plans/{SCHOOL}/workbook").status_code == 302  # signed out


def test_the_upload_page_asks_for_the_guides_certification_of_each_kind(portal: Portal) -> None:
    school = text(signed_in(portal).get(f"/plans/{SCHOOL}/upload"))
    assert "I certify this plan is complete." in school
    assert 'accept=".xlsx' in school and 'enctype="multipart/form-data"' in school
    district = text(signed_in(portal, "district@belen.org").get(f"/plans/{DISTRICT}/upload"))
    assert "I confirm that my submission is complete and final." in district


# ---- check, report, submit ----------------------------------------------------------------


def test_a_check_shows_each_error_at_its_cell_with_its_sheet_and_stores_nothing(
    portal: Portal,
) -> None:
    client = signed_in(portal)
    blank = filled(portal.core, REF, download(client), {FIRST_NAME: None})
    r = followed(client, upload(client, blank))
    page = text(r)
    assert "1 error must be fixed" in page and "Nothing was stored" in page
    assert "Step 1 - Contact Information" in page
    assert "&#39;1 Contact Information&#39;!C10" in page  # 'Sheet'!C10, as Excel writes it
    assert "Contact First Name is required." in page
    marked = re.search(r'<td class="portal-sheet__problem">(.*?)</td>', page)
    assert marked and "Problem cell C10" in marked.group(1)
    assert '<th scope="row">10</th>' in page and '<th scope="col">C</th>' in page
    assert "Contact Last Name" in page  # the neighbouring row of the window
    assert "Submit the plan" not in page  # not offered while errors remain
    assert versions(portal) == 0

    annotated = client.get(r.request.path + "/annotated")
    assert annotated.status_code == 200 and annotated.mimetype == XLSX
    wb = openpyxl.load_workbook(io.BytesIO(annotated.data))
    assert wb.sheetnames[0] == "Problems"
    assert wb["1 Contact Information"]["C10"].comment is not None


def test_check_then_submit_with_the_certification_stores_one_version_and_mails_a_receipt(
    portal: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    client = signed_in(portal)
    r = followed(client, upload(client, filled(portal.core, REF, download(client))))
    page = text(r)
    assert "Ready to submit" in page and "I certify this plan is complete." in page
    report_path = r.request.path

    refused = submit_checked(client, report_path, certify=False)
    assert refused.status_code == 400 and "To submit, tick" in text(refused)
    assert versions(portal) == 0

    receipt = followed(client, submit_checked(client, report_path))
    page = text(receipt)
    assert "Receipt: BELEN HIGH, version 1" in page
    view_sha = re.search(r"[0-9a-f]{64}", page)
    assert view_sha is not None
    assert f"A receipt was emailed to {COORDINATOR}" in page
    mails = portal.mails(COORDINATOR)
    assert len(mails) == 1 and "version 1" in mails[0]["Subject"]
    body = mails[0].get_content()
    assert view_sha.group(0) in body and "Version: 1" in body and "/plans/" in body

    again = submit_checked(client, report_path)  # a double click
    assert again.status_code == 302 and again.headers["Location"] == receipt.request.path
    assert versions(portal) == 1 and len(portal.mails(COORDINATOR)) == 1
    mine = text(client.get("/plans"))
    assert "submitted" in mine and "under review" in mine
    # the version's charts are drawn after the answer, in the background (this portal's
    # reference data has too little for charts: the attempt is logged from that thread)
    portal.core.afterwards.wait()
    drawn = [r for r in caplog.records if "charts of plan 1 version 1" in r.getMessage()]
    assert drawn and drawn[0].threadName.startswith("aip-after")


def test_submit_from_the_upload_form_needs_the_certification_and_a_clean_workbook(
    portal: Portal,
) -> None:
    client = signed_in(portal)
    good = filled(portal.core, REF, download(client))
    r = upload(client, good, action="submit")
    assert r.status_code == 400 and "To submit, tick" in text(r) and versions(portal) == 0

    bad = filled(portal.core, REF, download(client), {FIRST_NAME: None})
    page = text(followed(client, upload(client, bad, action="submit", certify=True)))
    assert "Contact First Name is required." in page and versions(portal) == 0

    page = text(followed(client, upload(client, good, action="submit", certify=True)))
    assert "Receipt: BELEN HIGH, version 1" in page and versions(portal) == 1
    # the same file again: the plan is under review, so it is refused on the report page
    page = text(followed(client, upload(client, good, action="submit", certify=True)))
    assert "This file is identical to the version already stored" in page
    changed = filled(portal.core, REF, download(client), {FIRST_NAME: "Rosa"})
    page = text(followed(client, upload(client, changed, action="submit", certify=True)))
    assert "Not submitted" in page and "under review" in page and versions(portal) == 1


def test_storage_down_during_a_submit_is_a_503_page_and_the_same_check_succeeds_later(
    portal: Portal,
) -> None:
    client = signed_in(portal)
    r = followed(client, upload(client, filled(portal.core, REF, download(client))))
    report_path = r.request.path
    objects = portal.home / "objects"
    objects.rmdir() if objects.is_dir() else None
    objects.write_text("not a folder")  # the store cannot write (the tests run as root)
    down = submit_checked(client, report_path)
    assert down.status_code == 503
    page = text(down)
    assert "nothing was stored" in page and "Traceback" not in page and "objects" not in page
    assert versions(portal) == 0 and portal.mails(COORDINATOR) == []

    objects.unlink()
    receipt = followed(client, submit_checked(client, report_path))
    assert "version 1" in text(receipt) and versions(portal) == 1


# ---- history --------------------------------------------------------------------------------


def test_history_shows_versions_differences_review_and_what_can_happen_next(
    portal: Portal,
) -> None:
    from aip_forms.services.review import return_plan

    client = signed_in(portal)
    issued = download(client)
    followed(client, upload(client, filled(portal.core, REF, issued), action="submit",
                            certify=True))  # fmt: skip
    page = text(client.get(f"/plans/{SCHOOL}/history"))
    assert "Version 1" in page and COORDINATOR in page
    assert "Returned, after the reviewer returns it for changes" in page
    assert "Approved, after the reviewer approves it" in page

    with portal.core.uow() as u:
        first = u.session.scalar(select(SubmissionRow.id))
    assert first is not None
    return_plan(first, reviewer_email="district@belen.org", uow=portal.core.uow,
                config=portal.core.config, comment="Name the counselor.",
                cell="'1 Contact Information'!C10", clock=portal.clock)  # fmt: skip
    assert "Download the revision workbook" in text(client.get("/plans"))
    revision = client.get(f"/plans/{SCHOOL}/revision")
    assert revision.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(revision.data))
    assert "Name the counselor." in wb["1 Contact Information"]["C10"].comment.text

    portal.clock.advance(minutes=10)
    revised = filled(portal.core, REF, revision.data, {FIRST_NAME: "Rosa"})
    followed(client, upload(client, revised, action="submit", certify=True))
    with portal.core.uow() as u:
        second = u.session.scalar(select(func.max(SubmissionRow.id)))
    page = text(client.get(f"/plans/{SCHOOL}/history?from={first}&to={second}"))
    assert "Version 2" in page and "Name the counselor." in page and "returned" in page
    assert "Contact First Name" in page and "Rosa" in page and "Kristin" in page
    assert text(client.get(f"/plans/{SCHOOL}/history?from=1&to=999")).count("Choose two") == 1


# ---- hostile uploads ------------------------------------------------------------------------


def refused_at_top(client: FlaskClient, data: bytes, filename: str = "plan.xlsx") -> str:
    r = followed(client, upload(client, data, filename=filename))
    page = text(r)
    assert r.status_code == 200 and "Traceback" not in page
    assert "The file itself" in page and "Submit the plan" not in page
    return page


def test_hostile_and_wrong_uploads_get_their_plain_message_and_change_nothing(
    portal: Portal,
) -> None:
    from tests.support import hostile

    client = signed_in(portal)
    assert "Excel 97-2003 workbook (.xls)" in refused_at_top(client, hostile.legacy_xls(), "p.xls")
    assert "This is a PDF" in refused_at_top(client, hostile.pdf(), "renamed.xlsx")
    assert "expands" in refused_at_top(client, hostile.zip_bomb())
    assert "The file is empty (0 bytes)" in refused_at_top(client, b"")

    other = PlanRef(PlanKind.SCHOOL, 2027, "007", "007001")
    from tests.support.plans import complete

    page = refused_at_top(client, complete(portal.core, other))
    assert "007001" in page and "could not be accepted" in page

    tampered = filled(portal.core, REF, download(client), {"1 Contact Information!C8": "999999"})
    page = refused_at_top(client, tampered)
    assert "&#39;1 Contact Information&#39;!C8" in page and "portal-sheet__problem" in page
    assert versions(portal) == 0


def test_an_upload_over_10_mb_is_a_413_page(portal: Portal) -> None:
    client = signed_in(portal)
    r = upload(client, b"PK\x03\x04" + bytes(11 * 1024 * 1024))
    assert r.status_code == 413
    assert "larger than 10 MB" in text(r) and versions(portal) == 0
    # the limit is the upload form's only: another form still refuses a large body
    big = client.post("/role/switch", data={"role": "x" * 100_000})
    assert big.status_code == 413 and "larger than 10 MB" not in text(big)


def test_a_missing_file_or_action_is_a_plain_message(portal: Portal) -> None:
    client = signed_in(portal)
    path = f"/plans/{SCHOOL}/upload"
    r = client.post(path, data={"csrf_token": token(client, path), "action": "check"})
    assert r.status_code == 400 and "Choose the plan workbook (.xlsx) to upload." in text(r)
    r = client.post(path, data={"csrf_token": token(client, path), "action": "delete",
                                "workbook": (io.BytesIO(b"x"), "a.xlsx")},
                    content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 400 and "Choose Check only or Submit." in text(r)
    r = client.post(path, data={"action": "check"})  # no CSRF token
    assert r.status_code == 400
    assert versions(portal) == 0


def test_a_filename_with_folders_or_markup_is_shown_as_text(portal: Portal) -> None:
    client = signed_in(portal)
    name = "..\\..\\etc/<img src=x onerror=alert(1)>.xlsx"
    page = text(followed(client, upload(client, b"not a workbook", filename=name)))
    assert "<img src=x" not in page and "etc" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;.xlsx" in page


def test_a_check_is_only_its_uploaders_in_their_session(portal: Portal) -> None:
    client = signed_in(portal)
    r = upload(client, b"not a workbook")
    report_path = r.headers["Location"]
    assert client.get(report_path).status_code == 200
    assert signed_in(portal).get(report_path).status_code == 404  # a new session
    district = signed_in(portal, "district@belen.org")
    assert district.get(report_path).status_code == 404
    assert client.get(report_path.rsplit("/", 1)[0] + "/AAAAAAAAAAAAAAAAAAAAAA").status_code == 404
    names = {p.suffix for p in (portal.home / "checks").iterdir()}
    assert names == {".xlsx", ".json"}
    assert not zipfile.is_zipfile(io.BytesIO(b"not a workbook"))


def test_uploads_over_the_users_quota_are_refused_on_the_form_with_retry_after(
    portal: Portal,
) -> None:
    client = signed_in(portal)
    per_minute = portal.core.accounts.uploads_per_minute
    for _ in range(per_minute):
        assert upload(client, b"not a workbook").status_code == 302  # to its report
    before = versions(portal)
    r = upload(client, b"not a workbook", action="submit", certify=True)
    assert r.status_code == 429 and r.headers["Retry-After"] == "60"
    page = text(r)
    assert f"You have uploaded {per_minute} workbooks in this minute" in page
    assert "Try again in 60 seconds." in page and "Upload" in page  # the form, kept
    assert versions(portal) == before
    portal.clock.advance(seconds=60)
    assert upload(client, b"not a workbook").status_code == 302
