"""The public pages through the Flask test client on the real App: registration (user guide
§2.1), sign-in with the code read from the outbox (§2.2), its failures and throttling,
TOTP, password reset and set-password links, change of password, sign-out. Every refusal
shows the summary and the message beside the field, and saves nothing."""

from __future__ import annotations

import html
import re

import pyotp
import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from aip_forms.services import accounts
from aip_forms.services.users import set_active
from tests.support.web import PASSWORD, Portal, portal, post, text

__all__ = ["portal"]

REGISTRATION = {
    "first_name": "Ana",
    "last_name": "Garcia",
    "email": "agarcia@belenschools.org",
    "phone": "(505) 966-1000",
    "lea_code": "006",
    "school_code": "",
    "role": "district_coordinator",
    "password": PASSWORD,
}


def shown(response: TestResponse) -> str:
    """The page as a person reads it: entities decoded, runs of spaces made one."""
    return " ".join(html.unescape(text(response)).split())


def field_error(response: TestResponse, name: str) -> str:
    """The message shown beside field `name` ("" when none)."""
    found = re.search(rf'id="{name}-error">([^<]*)<', text(response))
    return html.unescape(found.group(1)) if found else ""


def summary(response: TestResponse) -> str:
    found = re.search(r'id="error-summary".*?</ul>', text(response), re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(0))).split()) if found else ""


def pending(portal: Portal) -> list[accounts.RegistrationView]:
    return accounts.pending_registrations(actor_email="ped@ped.nm.gov", uow=portal.core.uow)


def register(client: FlaskClient, **changes: str) -> TestResponse:
    return post(client, "/register", {**REGISTRATION, **changes})


def sign_in(portal: Portal, client: FlaskClient, email: str, password: str = PASSWORD) -> str:
    """Email and password; returns the emailed code."""
    r = post(client, "/sign-in", {"email": email, "password": password})
    assert r.status_code == 302 and r.headers["Location"] == "/sign-in/code", shown(r)
    return portal.last_code(email)


def enter(client: FlaskClient, code: str) -> TestResponse:
    return post(client, "/sign-in/code", {"code": code})


# ---- registration ---------------------------------------------------------------------


def test_a_good_registration_is_received_and_waits_for_pED(portal: Portal) -> None:
    client = portal.client()
    page = client.get("/register")
    assert page.status_code == 200 and "BELEN CONSOLIDATED (006)" in text(page)
    r = register(client)
    assert r.status_code == 302 and r.headers["Location"] == "/register/received"
    assert "Registration received" in shown(client.get(r.headers["Location"]))
    assert [p.email for p in pending(portal)] == ["agarcia@belenschools.org"]
    assert portal.mails("agarcia@belenschools.org")[-1]["Subject"].startswith("Your registration")


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"email": "ana.garcia@gmail.com"}, "email", "not a personal one"),
        ({"email": "ana@mail.yahoo.com"}, "email", "not a personal one"),
        ({"password": "mesa-verde#2026!"}, "password", "must contain an upper-case letter"),
        ({"password": "Mesa-Verde#Mesa"}, "password", "must contain a number"),
        ({"password": "MesaVerde2026x"}, "password", "must contain a special character"),
        ({"password": "Me#2026a"}, "password", "at least 12 characters"),
        ({"password": "John!20130605at1753"}, "password", "most common passwords"),
        ({"password": "Garcia-Rocks#2026"}, "password", "must not contain your last name"),
        ({"role": "school_coordinator", "school_code": "007001"}, "school_code", "LEA 006"),
        ({"role": "school_coordinator", "school_code": ""}, "school_code", "is required"),
        ({"lea_code": "999"}, "lea_code", "is not an LEA in the list"),
        ({"phone": "call me"}, "phone", "phone number"),
    ],
)
def test_a_bad_registration_names_the_field_and_saves_nothing(
    portal: Portal, changes: dict[str, str], field: str, says: str
) -> None:
    r = register(portal.client(), **changes)
    assert r.status_code == 400
    assert says in field_error(r, field)
    assert says in summary(r) and "There is a problem" in shown(r)
    assert 'aria-invalid="true"' in text(r) and f'aria-describedby="{field}' in text(r)
    assert pending(portal) == [] and portal.mails() == []
    if field not in ("password", "lea_code"):  # what was typed comes back, not a password
        assert 'value="' + html.escape(changes.get(field, ""), quote=True) in text(r)
    assert changes.get("password", PASSWORD) not in text(r)


def test_a_registration_with_every_field_missing_names_every_field(portal: Portal) -> None:
    r = post(portal.client(), "/register", {})
    assert r.status_code == 400
    for name in ("first_name", "last_name", "email", "phone", "lea_code", "role", "password"):
        assert field_error(r, name), name
    assert "First name is required." in summary(r)
    assert field_error(r, "email") == "District email is required."
    assert pending(portal) == []


def test_registering_a_known_address_looks_the_same(portal: Portal) -> None:
    client = portal.client()
    first = register(client)
    again = register(client, first_name="Eve")  # the address has a pending request now
    assert (first.status_code, first.headers["Location"]) == (302, "/register/received")
    assert (again.status_code, again.headers["Location"]) == (302, "/register/received")
    assert len(pending(portal)) == 1


# ---- sign-in --------------------------------------------------------------------------


def test_sign_in_with_the_code_from_the_outbox_goes_home(portal: Portal) -> None:
    email = portal.user_with_password("lee@belen.org", lea_code="006")
    client = portal.client()
    code = sign_in(portal, client, email)
    assert "We emailed you a 6-digit code" in shown(client.get("/sign-in/code"))
    r = enter(client, code)
    assert r.status_code == 302 and r.headers["Location"] == "/"
    home = shown(client.get("/"))
    assert "acting as District Absence Coordinator (LEA 006)" in home
    assert "BELEN CONSOLIDATED" in home and "FY2027 plans" in home


def test_sign_in_goes_back_to_the_page_asked_for_and_never_off_site(portal: Portal) -> None:
    email = portal.user_with_password("lee@belen.org", lea_code="006")
    client = portal.client()
    client.get("/account/password")
    r = post(
        client, "/sign-in", {"email": email, "password": PASSWORD, "next": "/account/password"}
    )
    assert enter(client, portal.last_code(email)).headers["Location"] == "/account/password"
    other = portal.client()
    r = post(other, "/sign-in", {"email": email, "password": PASSWORD,
                                 "next": "https://evil.example/"}, page="/sign-in")  # fmt: skip
    assert r.status_code == 302
    assert enter(other, portal.last_code(email)).headers["Location"] == "/"


def test_a_wrong_password_and_an_unknown_email_get_the_same_page(portal: Portal) -> None:
    email = portal.user_with_password("lee@belen.org", lea_code="006")
    client = portal.client()
    wrong = post(client, "/sign-in", {"email": email, "password": "Wrong-Password#1"})
    unknown = post(client, "/sign-in", {"email": "nobody@belen.org", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 400
    assert field_error(wrong, "email") == field_error(unknown, "email") != ""
    assert "The email or password is not right." in summary(wrong)


@pytest.mark.parametrize("how", ["wrong", "expired", "reused", "other sign-in"])
def test_a_code_that_does_not_fit_is_refused_beside_the_field(portal: Portal, how: str) -> None:
    email = portal.user_with_password("lee@belen.org", lea_code="006")
    client = portal.client()
    code = sign_in(portal, client, email)
    if how == "wrong":
        code = "000000" if code != "000000" else "111111"
        expected = "not right (4 tries left)"
    elif how == "expired":
        portal.clock.advance(minutes=10)
        expected = "expired"
    elif how == "reused":
        assert enter(client, code).status_code == 302
        post(client, "/sign-out", {}, page="/")
        sign_in(portal, client, email)  # a new sign-in; the old code is used up
        expected = "not right"
    else:
        code = sign_in(portal, portal.client(), email)  # bound to that other sign-in
        expected = "not right"
    r = enter(client, code)
    assert r.status_code == 400
    assert expected in field_error(r, "code") and expected in summary(r)
    assert client.get("/").status_code == 302  # not signed in


def test_five_wrong_codes_end_the_sign_in(portal: Portal) -> None:
    email = portal.user_with_password("lee@belen.org", lea_code="006")
    client = portal.client()
    code = sign_in(portal, client, email)
    for _ in range(5):
        r = enter(client, "000000" if code != "000000" else "111111")
    assert "sign in again" in field_error(r, "code")
    assert enter(client, code).status_code == 400  # even the right one, now


def test_resending_is_limited_and_the_newest_code_works(portal: Portal) -> None:
    email = portal.user_with_password("lee@belen.org", lea_code="006")
    client = portal.client()
    first = sign_in(portal, client, email)
    for _ in range(3):
        r = post(client, "/sign-in/code/resend", {}, page="/sign-in/code")
        assert r.status_code == 200 and "We sent a new code" in shown(r)
    r = post(client, "/sign-in/code/resend", {}, page="/sign-in/code")
    assert r.status_code == 409 and "no more codes can be sent" in summary(r).lower()
    newest = portal.last_code(email)
    if newest != first:
        assert enter(client, first).status_code == 400
    assert enter(client, newest).status_code == 302


def test_repeated_failures_throttle_the_same_way_for_known_and_unknown_emails(
    portal: Portal,
) -> None:
    email = portal.user_with_password("lee@belen.org", lea_code="006")
    pages = []
    for who in (email, "nobody@belen.org"):
        client = portal.client()
        for _ in range(6):
            post(client, "/sign-in", {"email": who, "password": "Wrong-Password#1"})
        r = post(client, "/sign-in", {"email": who, "password": PASSWORD})
        assert r.status_code == 429, who
        assert r.headers["Retry-After"] == "30"
        assert "try again in 1 minute" in summary(r)
        pages.append(summary(r))
    assert pages[0] == pages[1]
    portal.clock.advance(seconds=31)
    sign_in(portal, portal.client(), email)  # the wait is over; the right password works


# ---- authenticator app ----------------------------------------------------------------


def test_an_authenticator_app_is_set_up_and_then_used_to_sign_in(portal: Portal) -> None:
    email = portal.user_with_password("lee@belen.org", lea_code="006")
    client = portal.client()
    enter(client, sign_in(portal, client, email))
    page = client.get("/account/totp")
    assert page.status_code == 200 and "<svg" in text(page)
    secret = re.search(r'class="portal-code">([A-Z2-7]+)<', text(page))
    assert secret
    totp = pyotp.TOTP(secret.group(1))
    r = post(client, "/account/totp", {"code": "12345x"}, page="/account/password")
    assert r.status_code == 400 and "is not the code your app shows now" in field_error(r, "code")
    assert secret.group(1) in text(r)  # the same secret: no need to scan again
    when = portal.clock()
    r = post(client, "/account/totp", {"code": totp.at(when)}, page="/account/password")
    assert r.status_code == 302
    post(client, "/sign-out", {}, page="/")
    mails = len(portal.mails(email))
    client = portal.client()
    r = post(client, "/sign-in", {"email": email, "password": PASSWORD})
    assert r.status_code == 302 and len(portal.mails(email)) == mails  # no code mailed
    assert "authenticator app shows now" in shown(client.get("/sign-in/code"))
    portal.clock.advance(seconds=30)
    assert enter(client, totp.at(portal.clock())).headers["Location"] == "/"


# ---- passwords --------------------------------------------------------------------------


def test_a_reset_request_looks_the_same_for_known_and_unknown_emails(portal: Portal) -> None:
    email = portal.user_with_password("lee@belen.org", lea_code="006")
    client = portal.client()
    known = post(client, "/password/reset", {"email": email})
    unknown = post(client, "/password/reset", {"email": "nobody@belen.org"})
    assert known.status_code == unknown.status_code == 200
    assert shown(known) == shown(unknown) and "Check your email" in shown(known)
    r = post(client, "/password/reset", {"email": "not an email"})
    assert r.status_code == 400 and "not an email address" in field_error(r, "email")


def test_a_reset_link_sets_the_password_once(portal: Portal) -> None:
    email = portal.user_with_password("lee@belen.org", lea_code="006")
    client = portal.client()
    post(client, "/password/reset", {"email": email})
    link = f"/account/set-password/{portal.last_link(email)}"
    page = client.get(link)
    assert page.status_code == 200 and email in shown(page)
    r = post(client, link, {"password": "weakpassword", "confirm": "weakpassword"})
    assert r.status_code == 400 and "upper-case letter" in field_error(r, "password")
    r = post(client, link, {"password": "Sandia-Peak#2027", "confirm": "Sandia-Peak#2028"})
    assert r.status_code == 400 and "not the same" in field_error(r, "confirm")
    r = post(client, link, {"password": "Sandia-Peak#2027", "confirm": "Sandia-Peak#2027"})
    assert r.status_code == 200 and "Password saved" in shown(r)
    again = client.get(link)
    assert again.status_code == 400 and "expired or was already used" in summary(again)
    assert "<form" not in text(again).split("<main")[1].split("</main>")[0]
    sign_in(portal, portal.client(), email, "Sandia-Peak#2027")


def test_a_reset_link_expires_after_30_minutes(portal: Portal) -> None:
    email = portal.user_with_password("lee@belen.org", lea_code="006")
    client = portal.client()
    post(client, "/password/reset", {"email": email})
    link = f"/password/reset/{portal.last_link(email)}"
    portal.clock.advance(minutes=30)
    r = post(client, link, {"password": "Sandia-Peak#2027", "confirm": "Sandia-Peak#2027"},
             page="/password/reset")  # fmt: skip
    assert r.status_code == 400 and "expired" in summary(r)
    sign_in(portal, portal.client(), email)  # the old password still works


def test_a_new_accounts_set_password_link_opens_the_portal(portal: Portal) -> None:
    from aip_forms.services.users import add_user

    core = portal.core
    add_user("new@belen.org", "district_coordinator", lea_code="006", name="Ana Garcia",
             uow=core.uow, mailer=core.mailer, site=core.site, clock=portal.clock)  # fmt: skip
    client = portal.client()
    link = f"/account/set-password/{portal.last_link('new@belen.org')}"
    assert "Set your password" in shown(client.get(link))
    r = post(client, link, {"password": "Ana-Garcia#20260", "confirm": "Ana-Garcia#20260"})
    assert r.status_code == 400 and "must not contain your first name" in field_error(r, "password")
    r = post(client, link, {"password": "Sandia-Peak#2027", "confirm": "Sandia-Peak#2027"})
    assert r.status_code == 200
    enter(client, sign_in(portal, client, "new@belen.org", "Sandia-Peak#2027"))
    assert client.get("/").status_code == 200


def test_an_expired_password_must_be_changed_before_anything_else(portal: Portal) -> None:
    email = portal.user_with_password("lee@belen.org", lea_code="006")
    portal.clock.advance(days=61)
    client = portal.client()
    r = enter(client, sign_in(portal, client, email))
    assert r.headers["Location"] == "/account/password"
    assert client.get("/").headers["Location"] == "/account/password"
    page = shown(client.get("/account/password"))
    assert "Your password has expired" in page
    r = post(client, "/account/password",
             {"current": "Wrong#Password1", "password": "Sandia-Peak#2027",
              "confirm": "Sandia-Peak#2027"})  # fmt: skip
    assert r.status_code == 400 and "not your current password" in field_error(r, "current")
    r = post(client, "/account/password",
             {"current": PASSWORD, "password": PASSWORD, "confirm": PASSWORD})  # fmt: skip
    assert "must differ" in field_error(r, "password")
    r = post(client, "/account/password",
             {"current": PASSWORD, "password": "sandia", "confirm": "sandia"})  # fmt: skip
    assert "at least 12 characters" in field_error(r, "password")
    r = post(client, "/account/password",
             {"current": PASSWORD, "password": "Sandia-Peak#2027",
              "confirm": "Sandia-Peak#2027"})  # fmt: skip
    assert r.status_code == 302 and r.headers["Location"] == "/"
    assert "Your password is changed" in shown(client.get("/"))
    assert "password" in portal.mails(email)[-1]["Subject"].lower()
    other = portal.client()
    assert enter(other, sign_in(portal, other, email, "Sandia-Peak#2027")).status_code == 302


def test_sign_out_ends_the_session(portal: Portal) -> None:
    email = portal.user_with_password("lee@belen.org", lea_code="006")
    client = portal.client()
    enter(client, sign_in(portal, client, email))
    r = post(client, "/sign-out", {}, page="/")
    assert r.status_code == 200 and "You are signed out" in shown(r)
    assert client.get("/").headers["Location"].startswith("/sign-in")


def test_a_deactivated_user_is_refused_at_sign_in(portal: Portal) -> None:
    email = portal.user_with_password("lee@belen.org", lea_code="006")
    set_active(email, False, uow=portal.core.uow)
    r = post(portal.client(), "/sign-in", {"email": email, "password": PASSWORD})
    assert r.status_code == 403 and "deactivated" in summary(r)
