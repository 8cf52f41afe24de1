"""Registration (user guide §2.1) on SQLite and PostgreSQL: what is refused and why (each
message names its field, and nothing is stored), what PED coordinators see, approval and
denial with the mails really written, and answers that never tell whether an email is known."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from aip_forms.db.models import RegistrationRow, UserRow
from aip_forms.errors import Conflict, Forbidden
from aip_forms.mail import SmtpMailer
from aip_forms.services import accounts
from aip_forms.services.access import Grant, Role
from aip_forms.services.fields import InvalidFields
from tests.integration.test_mail import Inbox, smtp
from tests.support.accounts import BASE_URL, PASSWORD, PED, Portal, form, seed_places

__all__ = ["smtp"]  # a fixture, imported


@pytest.fixture
def portal(engine: Engine, tmp_path: Path) -> Iterator[Portal]:
    seed_places(engine)
    yield Portal(engine, tmp_path)


def _registrations(portal: Portal) -> int:
    with portal.engine.connect() as c:
        return int(c.scalar(select(func.count()).select_from(RegistrationRow)) or 0)


def test_a_registration_waits_for_a_ped_coordinator_who_approves_it(portal: Portal) -> None:
    portal.add_ped()
    portal.register()
    email = form().email
    (received,) = portal.mails(email)
    assert received["Subject"] == "Your registration request was received"
    assert BASE_URL in received.get_content()
    waiting = portal.mails(PED)[-1]
    assert waiting["Subject"] == "A registration request is waiting for review"
    assert "Ana Garcia <agarcia@belenschools.org>" in waiting.get_content()

    (request,) = portal.pending()
    assert (request.first_name, request.last_name, request.role) == (
        "Ana",
        "Garcia",
        Role.DISTRICT_COORDINATOR,
    )
    user = portal.approve(request.id)
    assert isinstance(user, accounts.UserView)
    assert user.grants == (Grant(Role.DISTRICT_COORDINATOR, "006"),)
    assert user.has_password and user.active
    approved = portal.mails(email)[-1]
    assert approved["Subject"] == "Your account was approved"
    assert f"{BASE_URL}/account/sign-in" in approved.get_content()
    assert portal.pending() == []
    signed_in = portal.sign_in(email, PASSWORD)
    assert signed_in.user.email == email
    assert "registration.received" in portal.audit_actions()
    assert "registration.approved" in portal.audit_actions()


def test_a_denied_registration_is_told_the_reason_and_makes_no_user(portal: Portal) -> None:
    portal.add_ped()
    portal.register()
    (request,) = portal.pending()
    portal.deny(request.id, "Not on the district's staff list")
    denied = portal.mails(form().email)[-1]
    assert denied["Subject"] == "Your registration request was denied"
    assert "Not on the district's staff list" in denied.get_content()
    with portal.engine.connect() as c:
        assert c.scalar(select(UserRow).where(UserRow.email == form().email)) is None
    with pytest.raises(Conflict, match="was denied already"):
        portal.approve(request.id)
    assert "registration.denied" in portal.audit_actions()


def test_a_school_coordinator_names_a_school_of_the_lea(portal: Portal) -> None:
    portal.add_ped()
    portal.register(role="school_coordinator", school_code="006001", email="b@belen.k12.nm.us")
    (request,) = portal.pending()
    user = portal.approve(request.id)
    assert isinstance(user, accounts.UserView)
    assert user.grants == (Grant(Role.SCHOOL_COORDINATOR, "006", "006001"),)


def test_only_a_ped_coordinator_sees_and_decides_registrations(portal: Portal) -> None:
    email = portal.coordinator()
    portal.register(email="other@belenschools.org")
    (request,) = portal.pending()
    with pytest.raises(Forbidden, match="does not hold the program's Absence Coordinator"):
        portal.pending(actor=email)
    with pytest.raises(Forbidden, match="does not hold the program's Absence Coordinator"):
        portal.approve(request.id, actor=email)
    with pytest.raises(Forbidden, match="not an active user"):
        portal.approve(request.id, actor="nobody@ped.nm.gov")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "ana.garcia@gmail.com"}, "email", "district or school email"),
        ({"email": "ana@mail.yahoo.com"}, "email", "district or school email"),
        ({"email": "agarcía@belenschools.org"}, "email", "plain letters"),
        ({"email": "agarcia@bеlenschools.org"}, "email", "plain letters"),  # Cyrillic е
        ({"email": "not an email"}, "email", "not an email address"),
        ({"email": "a" * 250 + "@x.org"}, "email", "too long"),
        ({"email": ""}, "email", "is required"),
        ({"first_name": "A" * 61}, "first_name", "too long"),
        ({"first_name": "Ana\x00"}, "first_name", "control or invisible"),
        ({"first_name": "Ana\u200b"}, "first_name", "control or invisible"),
        ({"last_name": "Robert'); DROP TABLE app_user;--"}, "last_name", "only contain letters"),
        ({"last_name": ""}, "last_name", "is required"),
        ({"phone": "call me"}, "phone", "phone number"),
        ({"phone": "12"}, "phone", "phone number"),
        ({"role": "ped_coordinator"}, "role", "district coordinator or school coordinator"),
        ({"role": "ped_reviewer"}, "role", "district coordinator or school coordinator"),
        ({"lea_code": "999"}, "lea_code", "is not an LEA in the list"),
        ({"lea_code": "006' OR '1'='1"}, "lea_code", "is not an LEA in the list"),
        (
            {"role": "school_coordinator", "school_code": "007001"},
            "school_code",
            "not a school of LEA 006",
        ),
        ({"role": "school_coordinator"}, "school_code", "required for a school coordinator"),
        ({"school_code": "006001"}, "school_code", "leave empty for a district coordinator"),
        ({"password": "short"}, "password", "at least 12 characters"),
        ({"password": "Garcia-Family#2026"}, "password", "your last name"),
        ({"password": "agarcia-Pass#2026"}, "password", "your email address"),
        ({"password": " Mesa-Verde#2026!"}, "password", "must not start or end with a space"),
    ],
)
def test_a_bad_field_is_named_with_a_plain_message_and_nothing_is_stored(
    portal: Portal, changes: dict[str, str], field: str, message: str
) -> None:
    portal.add_ped()
    mails_before = len(portal.mails())
    with pytest.raises(InvalidFields) as refused:
        portal.register(**changes)
    assert message in refused.value.problems[field]
    assert f"{field}: " in str(refused.value)
    assert _registrations(portal) == 0
    assert len(portal.mails()) == mails_before


def test_every_bad_field_is_named_at_once(portal: Portal) -> None:
    with pytest.raises(InvalidFields) as refused:
        portal.register(first_name="", email="x@gmail.com", phone="?", password="abc")
    assert set(refused.value.problems) == {"first_name", "email", "phone", "password"}


def test_the_free_mail_list_is_configuration(portal: Portal) -> None:
    portal.policy = portal.policy.model_copy(update={"freemail_domains": ("belenschools.org",)})
    with pytest.raises(InvalidFields, match="district or school email"):
        portal.register()
    portal.register(email="ana.garcia@gmail.com")
    assert _registrations(portal) == 1


def test_registering_a_known_email_answers_the_same_and_creates_nothing(portal: Portal) -> None:
    known = portal.coordinator()
    unknown = "new.person@belenschools.org"
    before = _registrations(portal)
    assert portal.register(email=known) is None
    assert portal.register(email=unknown) is None
    # one message to each address, with the same subject
    assert [m["Subject"] for m in portal.mails(known)][-1:] == [
        m["Subject"] for m in portal.mails(unknown)
    ]
    assert _registrations(portal) == before + 1
    # a second request while one is pending: the same answer, nothing new
    portal.register(email=unknown)
    assert _registrations(portal) == before + 1
    assert len(portal.mails(unknown)) == 2


def test_registration_mails_reach_a_real_smtp_server(
    portal: Portal, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    portal.add_ped()
    portal.mailer = SmtpMailer("127.0.0.1", port, "noreply@ped.nm.gov")  # type: ignore[assignment]
    portal.register()
    (request,) = portal.pending()
    portal.approve(request.id)
    to_registrant = [m for m in inbox.messages if m["To"] == form().email]
    assert [m["Subject"] for m in to_registrant] == [
        "Your registration request was received",
        "Your account was approved",
    ]
    assert [m["Subject"] for m in inbox.messages if m["To"] == PED] == [
        "A registration request is waiting for review"
    ]
    assert all(BASE_URL in m.get_content() for m in inbox.messages)
