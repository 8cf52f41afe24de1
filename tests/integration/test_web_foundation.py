"""The portal's foundation with the real App: headers and CSP on every response, CSRF,
error pages from the project's table (never a traceback), sessions (new id at sign-in,
idle and absolute time-outs, back to the page asked for), the role switch and `next`."""

from __future__ import annotations

import re

import pytest
from flask import abort

from aip_forms.errors import OUTCOMES, AipError
from tests.support.web import Portal, open_session, portal, post, text, token
from web.access import PUBLIC, requires
from web.security import CSP, safe_next

__all__ = ["portal"]


def test_every_response_carries_the_security_headers(portal: Portal) -> None:
    client = portal.client()
    for path in ("/sign-in", "/no-such-page", "/static/css/portal.css"):
        r = client.get(path)
        assert r.headers["Content-Security-Policy"] == CSP
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in r.headers  # no TLS configured
        r.close()
    assert "script-src 'self';" in CSP and "frame-ancestors 'none'" in CSP


def test_pages_have_no_inline_scripts_or_styles(portal: Portal) -> None:
    html = text(portal.client().get("/register"))
    assert "<style" not in html and " style=" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    assert "/static/uswds/css/uswds.min.css" in html


def test_behind_tls_cookies_are_secure_and_hsts_is_sent(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.support.web import make_portal

    tls = make_portal(tmp_path / "tls", env={"AIP_TLS": "1"})
    client = tls.client()
    open_session(tls, client, "ped@ped.nm.gov")
    r = client.get("/role", base_url="https://localhost")
    assert "max-age=" in r.headers["Strict-Transport-Security"]
    cookie = r.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    tls.core.close()


def test_a_form_without_its_csrf_token_is_a_400_page_and_changes_nothing(portal: Portal) -> None:
    client = portal.client()
    open_session(portal, client, "school@belen.org")
    r = client.post("/sign-out")
    assert r.status_code == 400
    assert "security token" in text(r)
    assert client.get("/role").status_code == 200  # still signed in


def test_unknown_pages_and_methods_have_their_own_pages(portal: Portal) -> None:
    client = portal.client()
    r = client.get("/nowhere")
    assert r.status_code == 404 and "There is no page at this address" in text(r)
    r = client.delete("/sign-in")
    assert r.status_code == 405 and "does not accept" in text(r)


@pytest.mark.parametrize("kind", list(OUTCOMES))
def test_every_project_error_is_its_page_with_its_status(
    portal: Portal, kind: type[AipError]
) -> None:
    @portal.flask.route(f"/boom-{kind.__name__}")
    @requires(PUBLIC)
    def boom() -> str:
        raise kind("the plan of <b>BELEN</b> is locked")

    r = portal.client().get(f"/boom-{kind.__name__}")
    assert r.status_code == OUTCOMES[kind].http_status
    html = text(r)
    assert OUTCOMES[kind].title in html
    assert "the plan of &lt;b&gt;BELEN&lt;/b&gt; is locked" in html  # escaped, shown as text


def test_an_unexpected_exception_is_a_plain_500_page(portal: Portal) -> None:
    @portal.flask.route("/crash")
    @requires(PUBLIC)
    def crash() -> str:
        raise KeyError("SELECT secret FROM internals")

    r = portal.client().get("/crash")
    assert r.status_code == 500
    html = text(r)
    assert "Traceback" not in html and "SELECT secret" not in html and "KeyError" not in html
    assert "report reference" in html


def test_a_403_names_no_internals(portal: Portal) -> None:
    @portal.flask.route("/forbid")
    @requires(PUBLIC)
    def forbid() -> str:
        abort(403)

    assert portal.client().get("/forbid").status_code == 403


def test_sign_in_regenerates_the_session_id_and_sign_out_destroys_it(portal: Portal) -> None:
    from web import sessions

    client = portal.client()
    client.get("/sign-in")
    with portal.flask.test_request_context():
        pass
    before = client.get_cookie("aip_session")
    with portal.flask.test_request_context("/"):
        from flask import session

        session["challenge"] = {"id": "x", "method": "email", "next": None}
        old = session.sid  # type: ignore[attr-defined]
        user_id, grants = portal.grants("school@belen.org")
        sessions.sign_in(user_id=user_id, email="school@belen.org", name="K", grants=grants,
                         password_expired=False)  # fmt: skip
        assert session.sid != old  # type: ignore[attr-defined]
        assert "challenge" not in session and session["role"] is not None
    assert before is None or before.value  # the anonymous visit made no signed-in session
    open_session(portal, client, "school@belen.org")
    sid = client.get_cookie("aip_session")
    assert sid is not None
    r = post(client, "/sign-out", {}, page="/role")
    assert "signed out" in text(r)
    assert client.get_cookie("aip_session") is None
    assert client.get("/role").status_code == 302


def test_idle_time_out_returns_to_sign_in_then_to_the_page_asked_for(portal: Portal) -> None:
    client = portal.client()
    open_session(portal, client, "ped@ped.nm.gov")
    html = text(client.get("/role"))
    assert "Your session ends at" in html and "MDT" in html
    portal.clock.advance(minutes=29)
    assert client.get("/role").status_code == 200  # activity keeps it alive
    portal.clock.advance(minutes=31)
    r = client.get("/role?x=1")
    assert r.status_code == 302
    assert r.headers["Location"] == "/sign-in?next=/role?x%3D1"
    assert "session ended" in text(client.get(r.headers["Location"]))


def test_the_absolute_lifetime_ends_even_a_busy_session(portal: Portal) -> None:
    client = portal.client()
    open_session(portal, client, "ped@ped.nm.gov")
    for _ in range(25):  # every 29 minutes for 12 h 5 min
        portal.clock.advance(minutes=29)
        last = client.get("/role")
    assert last.status_code == 302 and "/sign-in" in last.headers["Location"]


def test_a_person_with_several_roles_picks_one_and_switches(portal: Portal) -> None:
    from aip_forms.services.users import add_user

    add_user("district@belen.org", "school_coordinator", school_code="006001", uow=portal.core.uow)
    client = portal.client()
    open_session(portal, client, "district@belen.org", role=None)
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/role")
    html = text(client.get("/role"))
    assert "district_coordinator:006:" in html and "school_coordinator:006:006001" in html
    r = post(client, "/role", {"role": "school_coordinator:006:006001"})
    assert r.status_code == 302
    assert "acting as School coordinator (school 006001)" in text(client.get("/role"))
    r = post(client, "/role/switch", {"role": "district_coordinator:006:"}, page="/role")
    assert r.status_code == 302
    assert "acting as District Absence Coordinator (LEA 006)" in text(client.get("/role"))


@pytest.mark.parametrize(
    "forged",
    ["ped_coordinator::", "district_coordinator:007:", "school_coordinator:007:007001", "x" * 5000],
)
def test_a_forged_role_switch_is_refused(portal: Portal, forged: str) -> None:
    client = portal.client()
    open_session(portal, client, "district@belen.org")
    r = post(client, "/role/switch", {"role": forged}, page="/role")
    assert r.status_code == 403
    assert "acting as District Absence Coordinator (LEA 006)" in text(client.get("/role"))


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/admin/users", "/admin/users"),
        ("/?a=1", "/?a=1"),
        ("https://evil.example/", None),
        ("//evil.example/", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
        ("/x\r\nLocation: https://evil.example", None),
        ("", None),
    ],
)
def test_next_is_only_ever_a_path_on_this_site(target: str, safe: str | None) -> None:
    assert safe_next(target) == safe


def test_sign_in_page_keeps_only_a_safe_next(portal: Portal) -> None:
    client = portal.client()
    assert 'value="/admin/users"' in text(client.get("/sign-in?next=/admin/users"))
    assert "evil" not in text(client.get("/sign-in?next=https://evil.example/"))
    assert token(client, "/sign-in")
