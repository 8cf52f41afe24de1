"""PED administration through the Flask test client: registrations approved and denied
(both sides mailed), users' roles, deactivation (an open session ends at its next page) and
reactivation, announcements created, edited, withdrawn and shown on home to the right
audience between their dates; and hostile input on every form."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from aip_forms.services import accounts
from aip_forms.services.announcements import list_announcements
from tests.integration.test_web_auth import REGISTRATION, field_error, shown, summary
from tests.support.web import Portal, open_session, portal, post, text

__all__ = ["portal"]
PED = "ped@ped.nm.gov"


def as_ped(portal: Portal) -> FlaskClient:
    client = portal.client()
    open_session(portal, client, PED)
    return client


def registered(portal: Portal, **changes: str) -> int:
    r = post(portal.client(), "/register", {**REGISTRATION, **changes})
    assert r.status_code == 302, shown(r)
    waiting = accounts.pending_registrations(actor_email=PED, uow=portal.core.uow)
    return waiting[-1].id


def test_approving_a_registration_makes_the_account_and_mails_both_sides(portal: Portal) -> None:
    number = registered(portal)
    assert portal.mails(PED)[-1]["Subject"] == "A registration request is waiting for review"
    client = as_ped(portal)
    page = shown(client.get("/admin/registrations"))
    assert "Ana Garcia" in page and "agarcia@belenschools.org" in page
    r = post(client, f"/admin/registrations/{number}/approve", {}, page="/admin/registrations")
    assert r.status_code == 302
    assert "approved" in shown(client.get("/admin/registrations"))
    assert portal.mails("agarcia@belenschools.org")[-1]["Subject"] == "Your account was approved"
    assert portal.grants("agarcia@belenschools.org")[1]
    r = post(client, f"/admin/registrations/{number}/approve", {}, page="/admin/registrations")
    assert r.status_code == 409  # decided already


def test_denying_needs_a_reason_and_mails_it(portal: Portal) -> None:
    number = registered(portal)
    client = as_ped(portal)
    r = post(client, f"/admin/registrations/{number}/deny", {"reason": ""},
             page="/admin/registrations")  # fmt: skip
    assert r.status_code == 400 and "Say why" in field_error(r, f"reason-{number}")
    assert "Say why" in summary(r)
    reason = {"reason": "Use your <b>district</b> address."}
    r = post(client, f"/admin/registrations/{number}/deny", reason, page="/admin/registrations")
    assert r.status_code == 302
    mail = portal.mails("agarcia@belenschools.org")[-1]
    assert mail["Subject"] == "Your registration request was denied"
    assert "Use your <b>district</b> address." in mail.get_content()
    assert "No registrations are waiting" in shown(client.get("/admin/registrations"))


def test_roles_are_added_and_removed_on_the_users_page(portal: Portal) -> None:
    client = as_ped(portal)
    user_id, _ = portal.grants("district@belen.org")
    listing = shown(client.get("/admin/users"))
    assert "district@belen.org" in listing and "District Absence Coordinator (LEA 006)" in listing
    page = f"/admin/users/{user_id}"
    r = post(client, f"{page}/roles", {"role": "school_coordinator", "lea_code": "006",
                                       "school_code": "007001"}, page=page)  # fmt: skip
    assert r.status_code == 400 and "is not a school of LEA 006" in field_error(r, "school_code")
    r = post(client, f"{page}/roles", {"role": "chief"}, page=page)
    assert r.status_code == 400 and "choose one of the roles" in field_error(r, "role")
    r = post(client, f"{page}/roles", {"role": "ped_reviewer", "lea_code": "006"}, page=page)
    assert "leave empty for a state role" in field_error(r, "lea_code")
    assert len(portal.grants("district@belen.org")[1]) == 1  # nothing saved
    r = post(client, f"{page}/roles", {"role": "school_coordinator", "lea_code": "006",
                                       "school_code": "006001"}, page=page)  # fmt: skip
    assert r.status_code == 302
    assert "School coordinator (school 006001)" in shown(client.get(page))
    r = post(client, f"{page}/roles/revoke", {"grant": "district_coordinator:006:"}, page=page)
    assert r.status_code == 302
    roles = [g.role.value for g in portal.grants("district@belen.org")[1]]
    assert roles == ["school_coordinator"]


def test_a_pED_coordinator_cannot_lock_themselves_out(portal: Portal) -> None:
    client = as_ped(portal)
    user_id, _ = portal.grants(PED)
    page = f"/admin/users/{user_id}"
    r = post(client, f"{page}/deactivate", {}, page=page)
    assert r.status_code == 403 and "your own account" in shown(r)
    r = post(client, f"{page}/roles/revoke", {"grant": "ped_coordinator::"}, page=page)
    assert r.status_code == 403 and "Absence Coordinator role from yourself" in shown(r)


def test_a_deactivated_users_open_session_ends_at_its_next_page(portal: Portal) -> None:
    school = portal.client()
    open_session(portal, school, "school@belen.org")
    assert school.get("/").status_code == 200
    ped = as_ped(portal)
    user_id, _ = portal.grants("school@belen.org")
    page = f"/admin/users/{user_id}"
    assert post(ped, f"{page}/deactivate", {}, page=page).status_code == 302
    assert "deactivated" in shown(ped.get(page))
    r = school.get("/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/sign-in")
    assert "Your account is deactivated" in shown(school.get(r.headers["Location"]))
    assert post(ped, f"{page}/reactivate", {}, page=page).status_code == 302
    assert "Deactivate account" in shown(ped.get(page))


def test_a_role_taken_away_stops_working_at_the_next_page(portal: Portal) -> None:
    other = portal.client()
    open_session(portal, other, "reader@ped.nm.gov")
    ped = as_ped(portal)
    user_id, _ = portal.grants("reader@ped.nm.gov")
    r = post(ped, f"/admin/users/{user_id}/roles", {"role": "ped_coordinator"},
             page=f"/admin/users/{user_id}")  # fmt: skip
    assert r.status_code == 302
    post(ped, f"/admin/users/{user_id}/roles/revoke", {"grant": "ped_reviewer::"},
         page=f"/admin/users/{user_id}")  # fmt: skip
    assert other.get("/").status_code == 200
    assert "acting as PED Absence Coordinator" in shown(other.get("/"))


# ---- announcements ----------------------------------------------------------------------


def announcement(**changes: str) -> dict[str, str]:
    return {
        "title": "District plans due October 1",
        "body": "Submit your FY2027 district plan.",
        "audience": "districts",
        "starts_on": "2026-09-14",
        "ends_on": "2026-10-01",
        **changes,
    }


def home_of(portal: Portal, email: str) -> str:
    client = portal.client()
    open_session(portal, client, email)
    return shown(client.get("/"))


def test_announcements_are_created_edited_and_withdrawn(portal: Portal) -> None:
    client = as_ped(portal)
    r = post(client, "/admin/announcements/new", announcement())
    assert r.status_code == 302
    (made,) = list_announcements(actor_email=PED, uow=portal.core.uow)
    assert "District plans due October 1" in home_of(portal, "district@belen.org")
    assert "District plans due October 1" not in home_of(portal, "school@belen.org")
    assert "District plans due October 1" in home_of(portal, "reader@ped.nm.gov")
    edit = f"/admin/announcements/{made.id}/edit"
    assert 'value="2026-10-01"' in text(client.get(edit))
    r = post(client, edit, announcement(title="School plans due", audience="schools"))
    assert r.status_code == 302
    assert "School plans due" in home_of(portal, "school@belen.org")
    assert "School plans due" not in home_of(portal, "district@belen.org")
    r = post(client, f"/admin/announcements/{made.id}/delete", {}, page="/admin/announcements")
    assert r.status_code == 302
    assert "School plans due" not in home_of(portal, "school@belen.org")


def test_an_announcement_is_shown_only_between_its_dates(portal: Portal) -> None:
    client = as_ped(portal)
    post(client, "/admin/announcements/new",
         announcement(audience="everyone", starts_on="2026-09-20"))  # fmt: skip
    assert "District plans due" not in home_of(portal, "school@belen.org")
    portal.clock.advance(days=6)
    assert "District plans due" in home_of(portal, "school@belen.org")
    portal.clock.advance(days=12)
    assert "District plans due" not in home_of(portal, "school@belen.org")


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"title": ""}, "title", "Title is required"),
        ({"body": "  "}, "body", "Text is required"),
        ({"audience": "martians"}, "audience", "choose everyone, districts or schools"),
        ({"starts_on": "next tuesday"}, "starts_on", "Enter a date like 2026-09-01"),
        ({"ends_on": ""}, "ends_on", "Last day shown is required"),
        ({"ends_on": "2026-09-01"}, "ends_on", "is in the past"),
        ({"starts_on": "2026-10-02"}, "ends_on", "on or after the start date"),
        ({"title": "x" * 201}, "title", "too long"),
        ({"title": "Plans\x00due"}, "title", "control"),
    ],
)
def test_a_bad_announcement_is_refused_by_its_service_and_saves_nothing(
    portal: Portal, changes: dict[str, str], field: str, says: str
) -> None:
    r = post(as_ped(portal), "/admin/announcements/new", announcement(**changes))
    assert r.status_code == 400
    assert says in field_error(r, field) and says in summary(r)
    assert list_announcements(actor_email=PED, uow=portal.core.uow) == []


# ---- hostile input ----------------------------------------------------------------------

FORMS = [
    ("/register", dict(REGISTRATION)),
    ("/sign-in", {"email": "ped@ped.nm.gov", "password": "x"}),
    ("/password/reset", {"email": "ped@ped.nm.gov"}),
]


@pytest.mark.parametrize(("path", "data"), FORMS)
@pytest.mark.parametrize(
    "hostile",
    ["<script>alert(1)</script>", "a" * 100_000, "ab\x00c\x1b[31m", "\u202eevil", "%00\r\n"],
)
def test_hostile_input_is_a_plain_refusal_shown_as_text(
    portal: Portal, path: str, data: dict[str, str], hostile: str
) -> None:
    client = portal.client()
    for name in data:
        r = post(client, path, {**data, name: hostile}, page=path)
        assert r.status_code in (400, 413), (path, name, r.status_code)
        html = text(r)
        assert "<script>alert" not in html and "Traceback" not in html
        if r.status_code == 400 and len(hostile) < 100:
            assert "There is a problem" in html or "There are" in html, (path, name)
    waiting = accounts.pending_registrations(actor_email=PED, uow=portal.core.uow)
    assert waiting == []


def test_script_in_an_announcement_is_shown_as_text(portal: Portal) -> None:
    client = as_ped(portal)
    post(client, "/admin/announcements/new",
         announcement(title="<script>alert(1)</script>", audience="everyone"))  # fmt: skip
    page = text(client.get("/"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page


def test_every_form_without_its_csrf_token_is_a_400_and_changes_nothing(portal: Portal) -> None:
    client = as_ped(portal)
    user_id, _ = portal.grants("school@belen.org")
    for path, data in [
        *FORMS,
        ("/admin/announcements/new", announcement()),
        (f"/admin/users/{user_id}/deactivate", {}),
        (f"/admin/users/{user_id}/roles", {"role": "ped_reviewer"}),
        ("/account/password", {"current": "x", "password": "y", "confirm": "y"}),
        ("/role/switch", {"role": "ped_coordinator::"}),
    ]:
        r = client.post(path, data=data)
        assert r.status_code == 400 and "security token" in text(r), path
    assert list_announcements(actor_email=PED, uow=portal.core.uow) == []
    assert portal.grants("school@belen.org")[1][0].role.value == "school_coordinator"
    assert len(portal.grants("school@belen.org")[1]) == 1
    assert "Deactivate account" in shown(client.get(f"/admin/users/{user_id}"))


def test_a_next_off_site_is_dropped_everywhere(portal: Portal) -> None:
    client = portal.client()
    open_session(portal, client, "district@belen.org", role=None)
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example"):
        r = post(client, f"/role?next={target}", {"role": "district_coordinator:006:"},
                 page="/role")  # fmt: skip
        assert r.headers["Location"] == "/", target
