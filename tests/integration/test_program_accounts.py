"""Account mail and sign-in in the program's words (issue 14): the portal's name, who
reviews requests and answers for accounts, and the authenticator's label come from the
profile; New Mexico's stay as they were, LAUSD's name neither New Mexico nor PED."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from aip_forms.config import ProgramConfig
from aip_forms.errors import Forbidden
from aip_forms.services import signin
from aip_forms.services.users import set_active
from tests.support.accounts import PASSWORD, PED, Portal, form, seed_places


@dataclass(frozen=True)
class Words:
    profile: str
    portal: str  # the mail footer's portal name
    coordinator: str  # who reviews requests and answers for accounts
    issuer: str  # the authenticator app's label
    absent: tuple[str, ...]  # never in anything this profile sends


NM = Words(
    "nm",
    "New Mexico Attendance Improvement Plan portal",
    "PED Absence Coordinator",
    "NM AIP",
    ("LAUSD", "Los Angeles"),
)
LAUSD = Words(
    "lausd",
    "LAUSD Attendance Improvement Program portal",
    "LAUSD Absence Coordinator",
    "LAUSD AIP",
    ("New Mexico", "PED", "NM AIP", "nm.us"),
)


@pytest.fixture(params=[NM, LAUSD], ids=lambda w: w.profile)
def words(request: pytest.FixtureRequest) -> Words:
    found: Words = request.param
    return found


@pytest.fixture
def portal(engine: Engine, tmp_path: Path, words: Words) -> Portal:
    seed_places(engine)
    return Portal(engine, tmp_path, config=ProgramConfig.load(None, words.profile))


def _absent(text: str, words: Words) -> None:
    for word in words.absent:
        assert word not in text, word


def test_registration_received_and_denied_mails_name_the_programs_portal_and_coordinator(
    portal: Portal, words: Words
) -> None:
    portal.add_ped()
    portal.register()
    (request,) = portal.pending()
    portal.deny(request.id, "Not on the district's staff list")
    received, denied = (m.get_content() for m in portal.mails(form().email))
    assert f"A {words.coordinator} reviews every request" in received
    assert f"contact your {words.coordinator}." in denied
    for text in (received, denied):
        assert f"{words.portal}: https://" in text
        _absent(text.replace(PED, ""), words)


def test_the_password_changed_mail_names_the_programs_coordinator(
    portal: Portal, words: Words
) -> None:
    portal.add_ped()  # sets a password through the mailed link
    changed = portal.mails(PED)[-1]
    assert changed["Subject"] == "Your password was changed"
    assert f"tell your {words.coordinator}." in changed.get_content()
    _absent(changed.get_content().replace(PED, ""), words)


def test_a_deactivated_user_is_sent_to_the_programs_coordinator(
    portal: Portal, words: Words
) -> None:
    user = portal.coordinator()
    challenge = portal.start(user, PASSWORD)
    set_active(user, False, uow=portal.uow)
    refusals = []
    with pytest.raises(Forbidden) as at_password:
        portal.start(user, PASSWORD)
    refusals.append(str(at_password.value))
    with pytest.raises(Forbidden) as at_code:
        portal.finish(challenge.id, portal.last_code(user))
    refusals.append(str(at_code.value))
    for refusal in refusals:
        assert refusal == f"this account is deactivated; ask your {words.coordinator}"
        _absent(refusal, words)


def test_an_authenticator_app_shows_the_programs_label(portal: Portal, words: Words) -> None:
    user = portal.coordinator()
    enrollment = signin.start_totp(user, uow=portal.uow, issuer=portal.site.totp_issuer)
    uri = urllib.parse.unquote(enrollment.uri)
    assert f"issuer={words.issuer}" in uri
    _absent(uri.replace(PED, ""), words)
