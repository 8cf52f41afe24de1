"""Mailed single-use links on SQLite and PostgreSQL: a password reset (30 minutes, once, the
same answer for unknown emails), the set-password link `aip users add` mails a new user
(through the command line and the composition root), and changing a password."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from aip_forms.cli import cli as aip
from aip_forms.errors import InvalidInput
from aip_forms.mail import OutboxMailer
from aip_forms.services import accounts
from aip_forms.services.fields import InvalidFields
from tests.support.accounts import BASE_URL, PASSWORD, Portal, seed_places

NEW_PASSWORD = "Sandia-Crest#2027"


@pytest.fixture
def portal(engine: Engine, tmp_path: Path) -> Iterator[Portal]:
    seed_places(engine)
    yield Portal(engine, tmp_path)


def request_reset(portal: Portal, email: str) -> None:
    accounts.request_password_reset(
        email,
        uow=portal.uow,
        mailer=portal.mailer,
        policy=portal.policy,
        site=portal.site,
        clock=portal.clock,
    )


def test_a_reset_link_sets_a_new_password_once(portal: Portal) -> None:
    user = portal.coordinator()
    request_reset(portal, user)
    mail = portal.mails(user)[-1]
    assert mail["Subject"] == "Reset your password"
    assert "30 minutes" in mail.get_content()
    token = portal.last_token(user)
    assert accounts.check_password_token(token, uow=portal.uow, clock=portal.clock) == user
    assert portal.set_password(token, NEW_PASSWORD) == user
    assert portal.mails(user)[-1]["Subject"] == "Your password was changed"
    with pytest.raises(InvalidInput, match="expired or was already used"):
        portal.set_password(token, "Another-One#2027")
    with pytest.raises(InvalidInput, match="email or password"):
        portal.start(user, PASSWORD)
    assert portal.sign_in(user, NEW_PASSWORD).user.email == user
    assert "password.reset_requested" in portal.audit_actions()
    assert "password.changed" in portal.audit_actions()


def test_a_reset_link_expires_after_thirty_minutes(portal: Portal) -> None:
    user = portal.coordinator()
    request_reset(portal, user)
    token = portal.last_token(user)
    portal.clock.advance(minutes=30)
    with pytest.raises(InvalidInput, match="expired"):
        accounts.check_password_token(token, uow=portal.uow, clock=portal.clock)
    with pytest.raises(InvalidInput, match="expired"):
        portal.set_password(token, NEW_PASSWORD)
    assert portal.sign_in(user, PASSWORD).user.email == user  # unchanged


def test_a_new_link_and_a_used_one_end_the_others(portal: Portal) -> None:
    user = portal.coordinator()
    request_reset(portal, user)
    first = portal.last_token(user)
    request_reset(portal, user)
    second = portal.last_token(user)
    portal.set_password(second, NEW_PASSWORD)
    with pytest.raises(InvalidInput, match="already used"):
        portal.set_password(first, "Another-One#2027")


def test_a_reset_password_follows_the_rules_and_a_refusal_keeps_the_link(
    portal: Portal,
) -> None:
    user = portal.coordinator()
    request_reset(portal, user)
    token = portal.last_token(user)
    with pytest.raises(InvalidFields, match="your first name"):
        portal.set_password(token, "Ana-Sandia#2027")
    assert portal.set_password(token, NEW_PASSWORD) == user


@pytest.mark.parametrize("token", ["", "x" * 500, "abc", "' OR 1=1 --"])
def test_a_made_up_link_is_refused(portal: Portal, token: str) -> None:
    with pytest.raises(InvalidInput, match="expired or was already used"):
        portal.set_password(token, NEW_PASSWORD)


def test_reset_answers_the_same_for_unknown_and_deactivated_emails(portal: Portal) -> None:
    from aip_forms.services.users import set_active

    known = portal.coordinator()
    gone = portal.coordinator(email="gone@belenschools.org")
    set_active(gone, False, uow=portal.uow)
    unknown = "nobody@belenschools.org"
    counts = {}
    for email in (known, gone, unknown):
        before = len(portal.mails(email))
        assert request_reset(portal, email) is None
        counts[email] = len(portal.mails(email)) - before
        assert portal.mails(email)[-1]["Subject"] == "Reset your password"
    assert set(counts.values()) == {1}
    assert "/account/set-password/" not in portal.mails(unknown)[-1].get_content()
    assert "/account/set-password/" not in portal.mails(gone)[-1].get_content()


def test_changing_a_password_needs_the_current_one(portal: Portal) -> None:
    user = portal.coordinator()

    def change(current: str, new: str) -> None:
        accounts.change_password(
            user,
            current,
            new,
            uow=portal.uow,
            mailer=portal.mailer,
            policy=portal.policy,
            site=portal.site,
            clock=portal.clock,
        )

    with pytest.raises(InvalidFields) as wrong:
        change("Not-It#2026!!", NEW_PASSWORD)
    assert list(wrong.value.problems) == ["current_password"]
    with pytest.raises(InvalidFields) as same:
        change(PASSWORD, PASSWORD)
    assert list(same.value.problems) == ["new_password"]
    with pytest.raises(InvalidFields, match="new_password: must contain a number"):
        change(PASSWORD, "Sandia-Crest#Peak")
    portal.clock.advance(days=61)
    assert portal.sign_in(user, PASSWORD).password_expired
    change(PASSWORD, NEW_PASSWORD)
    assert not portal.sign_in(user, NEW_PASSWORD).password_expired


def test_aip_users_add_mails_a_set_password_link_valid_72_hours(
    aip_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIP_BASE_URL", BASE_URL)
    result = CliRunner().invoke(
        aip, ["users", "add", "pat@ped.nm.gov", "--role", "ped_coordinator", "--name", "Pat Ortiz"]
    )
    assert result.exit_code == 0, result.output
    assert "Mailed a set-password link to pat@ped.nm.gov" in result.output
    (mail,) = OutboxMailer(aip_home / "outbox", "x").sent()
    assert mail["To"] == "pat@ped.nm.gov"
    body = mail.get_content()
    assert "72 hours" in body
    found = re.search(re.escape(BASE_URL) + r"/account/set-password/([\w-]+)", body)
    assert found
    # the link works through the same database the command used
    from aip_forms.bootstrap import App

    with App.from_env() as app:
        assert accounts.check_password_token(found.group(1), uow=app.uow) == "pat@ped.nm.gov"
    # a second role for the same user without a password: a fresh link
    again = CliRunner().invoke(aip, ["users", "add", "pat@ped.nm.gov", "--role", "ped_reviewer"])
    assert again.exit_code == 0 and "Mailed" in again.output
