"""The portal under test: a real App (SQLite in a temporary AIP_HOME, the outbox mailer,
a clock the test moves), the Flask test client, and helpers to post forms with their CSRF
token and to open a signed-in session."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from aip_forms.bootstrap import App
from aip_forms.config import ProgramConfig, Settings
from aip_forms.mail import OutboxMailer
from aip_forms.services import accounts
from aip_forms.services.access import Grant
from aip_forms.services.repository import grants_of, user_by_email
from aip_forms.services.users import add_user
from tests.unit.test_workflow import seed_reference, seed_users
from web import create_app

START = dt.datetime(2026, 9, 14, 15, 0, tzinfo=dt.UTC)  # FY2027
PASSWORD = "Mesa-Verde#2026!"
LINK = re.compile(r"/account/set-password/([\w-]+)")


class Clock:
    """Stands still until the test moves it."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class Portal:
    core: App
    flask: Flask
    clock: Clock
    home: Path

    def client(self) -> FlaskClient:
        return self.flask.test_client()

    # ---- mail, as the outbox folder holds it ----
    def mails(self, to: str | None = None) -> list[EmailMessage]:
        outbox = self.core.mailer
        assert isinstance(outbox, OutboxMailer)
        if not outbox.folder.exists():
            return []
        return [m for m in outbox.sent() if to is None or m["To"] == to]

    def last_code(self, to: str) -> str:
        body = self.mails(to)[-1].get_content()
        found = re.search(r"Your sign-in code is (\d{6})", body)
        assert found, body
        return found.group(1)

    def last_link(self, to: str) -> str:
        """The token of the last set-password or reset link mailed to `to`."""
        body = self.mails(to)[-1].get_content()
        found = LINK.search(body)
        assert found, body
        return found.group(1)

    def user_with_password(self, email: str, role: str = "district_coordinator", *,
                           password: str = PASSWORD, **place: str) -> str:  # fmt: skip
        """A user as `aip users add` makes one (or a role more), with a password set
        through the mailed link."""
        core = self.core
        add_user(email, role, uow=core.uow, mailer=core.mailer, site=core.site,
                 policy=core.accounts, clock=self.clock, name="Ana Garcia", **place)  # fmt: skip
        if self.mails(email) and "Set your password" in self.mails(email)[-1]["Subject"]:
            accounts.set_password(self.last_link(email), password, uow=core.uow,
                                  mailer=core.mailer, policy=core.accounts,
                                  site=core.site, clock=self.clock)  # fmt: skip
        return email

    def grants(self, email: str) -> tuple[int, tuple[Grant, ...]]:
        with self.core.uow() as u:
            user = user_by_email(u.session, email)
            assert user is not None, email
            return user.id, tuple(grants_of(u.session, user.id))


def make_portal(
    home: Path, *, env: dict[str, str] | None = None, config: ProgramConfig | None = None
) -> Portal:
    home.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        home=home,
        database_url=f"sqlite:///{home / 'aip.db'}",
        secret_key=b"web-test-secret",
        workbook_password="protect",
        environment=env or {},
    )
    clock = Clock()
    core = App(settings, config or ProgramConfig(), clock=clock)
    seed_reference(core.engine)
    seed_users(core.uow)
    return Portal(core, create_app(core, testing=True), clock, home)


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Portal]:
    made = make_portal(tmp_path / "home")
    yield made
    made.core.close()


TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def token(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    found = TOKEN.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path} ({page.status_code})"
    return found.group(1)


def post(
    client: FlaskClient, path: str, data: dict[str, str], *, page: str | None = None
) -> TestResponse:
    """Post `data` to `path` as the form on `page` (default `path`) would, with its token."""
    return client.post(path, data={**data, "csrf_token": token(client, page or path)})


def open_session(portal: Portal, client: FlaskClient, email: str, *, role: int | None = 0) -> None:
    """A signed-in session for `email`, as the sign-in flow leaves it (the flow itself is
    tested in test_web_auth)."""
    user_id, grants = portal.grants(email)
    moment = portal.clock().timestamp()
    with client.session_transaction() as s:
        s["user"] = {"id": user_id, "email": email, "name": email.split("@")[0]}
        s["grants"] = [[g.role.value, g.lea_code or "", g.school_code or ""] for g in grants]
        g = grants[role] if role is not None else None
        s["role"] = f"{g.role.value}:{g.lea_code or ''}:{g.school_code or ''}" if g else None
        s["must_change"] = False
        s["signed_in_at"] = moment
        s["last_seen"] = moment


def text(response: TestResponse) -> str:
    return response.get_data(as_text=True)
