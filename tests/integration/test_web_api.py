"""The machine API and the tokens page, through the Flask test client, on real plans: the
tokens page (made with a name and scopes, the secret shown once, listed, revoked), and
every endpoint with a good token and with hostile ones (none, malformed, revoked, the wrong
scope, a session cookie instead), another LEA's plan and submission, sections and formats
that do not exist, uploads of another LEA's workbook and over 10 MB."""

from __future__ import annotations

import io
import re

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from werkzeug.test import EnvironBuilder

from aip_forms.services import tokens
from aip_forms.services.submissions import list_submissions
from tests.support.review_world import DISTRICT, PED, SCHOOL, VISTA, World, world
from tests.support.web import open_session, post, text
from tests.unit.test_render_docx import document_text

__all__ = ["world"]
ALL = ("plans:read", "plans:write", "documents:read")


def token_for(world: World, email: str, scopes: tuple[str, ...] = ALL) -> dict[str, str]:
    _, secret = tokens.create_token(email, "test", scopes, uow=world.core.uow,
                                    clock=world.portal.clock)  # fmt: skip
    return {"Authorization": f"Bearer {secret}"}


def error_of(r: object) -> tuple[int, str, str]:
    body = r.json  # type: ignore[attr-defined]
    assert body and set(body) == {"error"}, body
    return r.status_code, body["error"]["kind"], body["error"]["message"]  # type: ignore[attr-defined]


# ---- the tokens page -----------------------------------------------------------------------


def test_a_token_is_made_shown_once_listed_used_and_revoked(world: World) -> None:
    client = world.portal.client()
    open_session(world.portal, client, DISTRICT)
    r = post(client, "/account/tokens", {"name": "nightly sync", "scopes": "plans:read",
                                         "days": "30"})  # fmt: skip
    assert r.status_code == 201
    secret = re.search(r'id="new-token">(aip_[\w-]{43})<', text(r))
    assert secret, text(r)
    listing = text(client.get("/account/tokens"))
    assert "nightly sync" in listing and secret.group(1) not in listing
    api = world.portal.client()
    bearer = {"Authorization": f"Bearer {secret.group(1)}"}
    assert api.get("/api/v1/plans", headers=bearer).status_code == 200
    (made,) = tokens.list_tokens(DISTRICT, uow=world.core.uow)
    r = post(client, f"/account/tokens/{made.id}/revoke", {}, page="/account/tokens")
    assert r.status_code == 302 and "revoked" in text(client.get("/account/tokens"))
    assert error_of(api.get("/api/v1/plans", headers=bearer))[:2] == (401, "Unauthorized")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "scopes": "plans:read", "days": "30"}, "name", "Give the token a name"),
        ({"name": "x", "days": "30"}, "scopes", "Tick at least one scope"),
        ({"name": "x", "scopes": "admin:all", "days": "30"}, "name", "must be some of"),
        ({"name": "x", "scopes": "plans:read", "days": "9999"}, "days", "how long"),
        ({"name": "\x07bell", "scopes": "plans:read", "days": "30"}, "name", "control characters"),
    ],
)
def test_bad_token_requests_are_refused_plainly(
    world: World, data: dict[str, str], field: str, message: str
) -> None:
    client = world.portal.client()
    open_session(world.portal, client, DISTRICT)
    r = post(client, "/account/tokens", data)
    assert r.status_code == 400 and message in text(r)
    assert tokens.list_tokens(DISTRICT, uow=world.core.uow) == []


def test_another_users_token_cannot_be_revoked(world: World) -> None:
    token_for(world, VISTA)
    (theirs,) = tokens.list_tokens(VISTA, uow=world.core.uow)
    client = world.portal.client()
    open_session(world.portal, client, DISTRICT)
    r = post(client, f"/account/tokens/{theirs.id}/revoke", {}, page="/account/tokens")
    assert r.status_code == 404
    assert tokens.list_tokens(VISTA, uow=world.core.uow)[0].revoked_at is None


# ---- reading -------------------------------------------------------------------------------


def test_plans_in_scope_and_their_versions(world: World) -> None:
    api = world.portal.client()
    mine = token_for(world, DISTRICT)
    listed = api.get("/api/v1/plans?fiscal_year=2027", headers=mine).json
    assert {p["id"] for p in listed["plans"]} == {world.district_plan, world.school_plan}
    assert api.get("/api/v1/plans?fiscal_year=1999", headers=mine).status_code == 400
    everyone = api.get("/api/v1/plans", headers=token_for(world, PED)).json["plans"]
    assert len(everyone) == 3
    detail = api.get(f"/api/v1/plans/{world.school_plan}", headers=mine).json
    assert detail["status"] == "submitted" and detail["versions"][0]["version"] == 1
    assert detail["period"] is None  # a plan, not a progress update
    assert {p["period"] for p in listed["plans"]} == {None}
    assert "Set-Cookie" not in api.get("/api/v1/plans", headers=mine).headers
    report = api.get(f"/api/v1/plans/{world.school_plan}/report", headers=mine).json
    assert report["report"]["valid"] is True and report["version"] == 1


@pytest.mark.parametrize(
    "path",
    [
        "/plans/{other}",
        "/plans/{other}/workbook",
        "/plans/{other}/workbook?which=prefilled",
        "/plans/{other}/report",
        "/plans/{other}/document?format=docx",
        "/submissions/{other}",
    ],
)
def test_another_leas_plan_is_forbidden(world: World, path: str) -> None:
    r = world.portal.client().get(
        "/api/v1" + path.format(other=world.vista_school_plan), headers=token_for(world, DISTRICT)
    )
    status, kind, message = error_of(r)
    assert (status, kind) == (403, "Forbidden") and "may not read" in message


@pytest.mark.parametrize(
    ("path", "status", "kind"),
    [
        ("/plans/999", 404, "NotFound"),
        ("/submissions/999", 404, "NotFound"),
        ("/plans/{plan}/workbook?which=oldest", 400, "InvalidInput"),
        ("/plans/{plan}/document?format=odt", 400, "InvalidInput"),
        ("/plans/{plan}/document?format=docx&sections=budget", 400, "InvalidInput"),
        ("/plans/{plan}/document?format=docx&sections=contact,nope", 400, "InvalidInput"),
        ("/no-such-endpoint", 404, "NotFound"),
    ],
)
def test_things_that_do_not_exist_are_plain_json_errors(
    world: World, path: str, status: int, kind: str
) -> None:
    r = world.portal.client().get(
        "/api/v1" + path.format(plan=world.school_plan), headers=token_for(world, DISTRICT)
    )
    assert error_of(r)[:2] == (status, kind)


def test_workbooks_and_documents(world: World) -> None:
    api = world.portal.client()
    mine = token_for(world, DISTRICT)
    latest = api.get(f"/api/v1/plans/{world.school_plan}/workbook", headers=mine)
    assert latest.status_code == 200 and latest.mimetype.endswith("spreadsheetml.sheet")
    stored = load_workbook(io.BytesIO(latest.data))
    assert stored["1 Contact Information"]["C10"].value == "Kristin"
    fresh = api.get(f"/api/v1/plans/{world.school_plan}/workbook?which=prefilled", headers=mine)
    assert load_workbook(io.BytesIO(fresh.data))["1 Contact Information"]["C10"].value is None
    doc = api.get(f"/api/v1/plans/{world.school_plan}/document?format=docx&sections=contact",
                  headers=mine)  # fmt: skip
    assert doc.status_code == 200 and doc.mimetype.endswith("wordprocessingml.document")
    words = document_text(doc.data)
    assert "BELEN ELEMENTARY" in words and "Root Cause" not in words


def test_hostile_tokens(world: World) -> None:
    api = world.portal.client()
    plans = "/api/v1/plans"
    assert error_of(api.get(plans))[:2] == (401, "Unauthorized")
    assert api.get(plans).headers["WWW-Authenticate"].startswith("Bearer")
    for header in (
        "Bearer",
        "Bearer aip_short",
        "Basic dXNlcjpwYXNz",
        "Bearer " + "aip_" + "A" * 43,
    ):
        assert error_of(api.get(plans, headers={"Authorization": header}))[0] == 401
    reader_only = token_for(world, DISTRICT, ("plans:read",))
    r = api.get(f"/api/v1/plans/{world.school_plan}/document?format=docx", headers=reader_only)
    assert error_of(r)[:2] == (403, "Forbidden") and "documents:read" in error_of(r)[2]
    r = api.post("/api/v1/uploads", headers=reader_only, data={"mode": "check"})
    assert error_of(r)[:2] == (403, "Forbidden")
    # a signed-in browser session is no API credential
    browser = world.portal.client()
    open_session(world.portal, browser, DISTRICT)
    assert error_of(browser.get(plans))[0] == 401


# ---- uploads -------------------------------------------------------------------------------


def upload(api: FlaskClient, headers: dict[str, str], data: bytes, mode: str) -> object:
    return api.post("/api/v1/uploads", headers=headers,
                    data={"mode": mode, "file": (io.BytesIO(data), "plan.xlsx")})  # fmt: skip


def test_check_and_submit_keep_to_the_users_plans(world: World) -> None:
    api = world.portal.client()
    high = token_for(world, "high@belen.org")
    own = world.workbook("001", "001002")
    checked = upload(api, high, own, "check")
    assert checked.status_code == 200 and checked.json["outcome"] == "valid"  # type: ignore[attr-defined]
    before = len(list_submissions(uow=world.core.uow))
    assert len(list_submissions(uow=world.core.uow)) == before  # a check stores nothing
    submitted = upload(api, high, own, "submit")
    assert submitted.status_code == 201, submitted.json  # type: ignore[attr-defined]
    assert submitted.json["submission"]["version"] == 1  # type: ignore[attr-defined]
    assert len(list_submissions(uow=world.core.uow)) == before + 1

    theirs = world.workbook("002", "002001")
    assert error_of(upload(api, high, theirs, "check"))[:2] == (403, "Forbidden")
    refused = upload(api, high, theirs, "submit")
    assert refused.status_code == 409 and refused.json["outcome"] == "refused"  # type: ignore[attr-defined]
    assert len(list_submissions(uow=world.core.uow)) == before + 1
    assert error_of(upload(api, token_for(world, PED), own, "check"))[:2] == (403, "Forbidden")


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"mode": "check"}, 400, "multipart field 'file'"),
        ({"mode": "store", "file": (io.BytesIO(b"x"), "a.xlsx")}, 400, "mode is check or submit"),
        ({"mode": "check", "file": (io.BytesIO(b"x" * (10 * 1024 * 1024 + 10)), "big.xlsx")},
         413, "larger than 10 MB"),
    ],
)  # fmt: skip
def test_bad_uploads(world: World, data: dict[str, object], status: int, message: str) -> None:
    # the builder spools a large body to a temporary file: closed here, not left to the GC
    builder = EnvironBuilder(path="/api/v1/uploads", method="POST",
                             headers=token_for(world, SCHOOL), data=data)  # fmt: skip
    environ = builder.get_environ()
    try:
        r = world.portal.client().open(environ)
    finally:
        environ["wsgi.input"].close()
        builder.close()
    got, _, said = error_of(r)
    assert got == status and message in said


def test_a_non_workbook_is_checked_as_unreadable(world: World) -> None:
    r = upload(world.portal.client(), token_for(world, SCHOOL), b"%PDF-1.4 not a workbook", "check")
    assert r.status_code == 200 and r.json["outcome"] == "unreadable"  # type: ignore[attr-defined]
    assert r.json["report"]["errors"][0]["message"]  # type: ignore[attr-defined]


def test_uploads_over_the_users_quota_are_429_with_retry_after(world: World) -> None:
    api, school = world.portal.client(), token_for(world, SCHOOL)
    per_minute = world.core.accounts.uploads_per_minute
    for _ in range(per_minute):
        assert upload(api, school, b"not a workbook", "check").status_code == 200  # type: ignore[attr-defined]
    refused = upload(api, school, b"not a workbook", "submit")
    status, kind, message = error_of(refused)
    assert (status, kind) == (429, "TooManyUploads")
    assert f"you have uploaded {per_minute} workbooks in this minute" in message
    assert refused.headers["Retry-After"] == "60"  # type: ignore[attr-defined]  # START is on the minute
    other = upload(api, token_for(world, "high@belen.org"), b"not a workbook", "check")
    assert other.status_code == 200  # type: ignore[attr-defined]  # a quota per user
    world.portal.clock.advance(seconds=60)
    assert upload(api, school, b"not a workbook", "check").status_code == 200  # type: ignore[attr-defined]
