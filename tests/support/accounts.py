"""A portal's account collaborators for tests: a real database (the `engine` fixture), the
outbox mailer, a clock the test moves, the default policy and the database throttle, plus
helpers that read codes and links from the mail that was really written."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import Engine, select

from aip_forms.config import AccountPolicy, ProgramConfig
from aip_forms.db.models import AuditRow
from aip_forms.mail import OutboxMailer
from aip_forms.services import accounts, signin
from aip_forms.services.throttle import SqlThrottle, Throttle
from aip_forms.services.uow import sql_uow
from aip_forms.services.users import add_user
from aip_forms.site import Site
from tests.unit.test_workflow import seed_reference as seed_places

BASE_URL = "https://aip.ped.nm.gov"
START = dt.datetime(2026, 9, 1, 12, 0, tzinfo=dt.UTC)
PASSWORD = "Mesa-Verde#2026!"
PED = "ped@ped.nm.gov"
__all__ = ["seed_places"]  # two LEAs with a school each


class Clock:
    """The time a test says it is."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def form(**changes: str) -> accounts.RegistrationForm:
    base = accounts.RegistrationForm(
        first_name="Ana",
        last_name="Garcia",
        email="agarcia@belenschools.org",
        phone="(505) 966-1000",
        lea_code="006",
        role="district_coordinator",
        password=PASSWORD,
    )
    return dataclasses.replace(base, **changes)


class Portal:
    """The use cases bound to real collaborators, as the composition root binds them."""

    def __init__(
        self,
        engine: Engine,
        home: Path,
        throttle: Throttle | None = None,
        config: ProgramConfig | None = None,
    ) -> None:
        self.engine = engine
        self.site = Site.of(BASE_URL, config or ProgramConfig())
        self.uow = sql_uow(engine)
        self.mailer = OutboxMailer(home / "outbox", "noreply@ped.nm.gov")
        self.clock = Clock()
        self.policy = AccountPolicy()
        self.throttle = throttle or SqlThrottle(self.uow)

    # ---- mail ----
    def mails(self, to: str | None = None) -> list[EmailMessage]:
        if not self.mailer.folder.exists():
            return []
        return [m for m in self.mailer.sent() if to is None or m["To"] == to]

    def last_code(self, to: str) -> str:
        body = self.mails(to)[-1].get_content()
        found = re.search(r"Your sign-in code is (\d{6})", body)
        assert found, body
        return found.group(1)

    def last_token(self, to: str) -> str:
        body = self.mails(to)[-1].get_content()
        found = re.search(re.escape(BASE_URL) + r"/account/set-password/([\w-]+)", body)
        assert found, body
        return found.group(1)

    def audit_actions(self) -> list[str]:
        with self.engine.connect() as c:
            return list(c.scalars(select(AuditRow.action).order_by(AuditRow.id)))

    # ---- use cases ----
    def register(self, **changes: str) -> None:
        accounts.register(
            form(**changes),
            uow=self.uow,
            mailer=self.mailer,
            policy=self.policy,
            site=self.site,
            clock=self.clock,
        )

    def add_ped(self, email: str = PED, password: str = "Rio-Grande#2026!") -> None:
        """A PED coordinator as `aip users add` makes one, who then sets a password."""
        add_user(
            email,
            "ped_coordinator",
            uow=self.uow,
            name="Pat Ortiz",
            mailer=self.mailer,
            site=self.site,
            policy=self.policy,
            clock=self.clock,
        )
        self.set_password(self.last_token(email), password)

    def set_password(self, token: str, password: str) -> str:
        return accounts.set_password(
            token,
            password,
            uow=self.uow,
            mailer=self.mailer,
            policy=self.policy,
            site=self.site,
            clock=self.clock,
        )

    def approve(self, registration_id: int, actor: str = PED) -> object:
        return accounts.approve_registration(
            registration_id,
            actor_email=actor,
            uow=self.uow,
            mailer=self.mailer,
            site=self.site,
            clock=self.clock,
        )

    def deny(self, registration_id: int, reason: str, actor: str = PED) -> None:
        accounts.deny_registration(
            registration_id,
            actor_email=actor,
            reason=reason,
            uow=self.uow,
            mailer=self.mailer,
            site=self.site,
            clock=self.clock,
        )

    def pending(self, actor: str = PED) -> list[accounts.RegistrationView]:
        return accounts.pending_registrations(actor_email=actor, uow=self.uow)

    def start(self, email: str, password: str, client: str = "10.0.0.1") -> signin.Challenge:
        return signin.start_sign_in(
            email,
            password,
            client=client,
            uow=self.uow,
            mailer=self.mailer,
            throttle=self.throttle,
            policy=self.policy,
            site=self.site,
            clock=self.clock,
        )

    def finish(self, challenge: str, code: str, client: str = "10.0.0.1") -> signin.SignedIn:
        return signin.finish_sign_in(
            challenge,
            code,
            client=client,
            uow=self.uow,
            throttle=self.throttle,
            policy=self.policy,
            site=self.site,
            clock=self.clock,
        )

    def resend(self, challenge: str) -> signin.Challenge:
        return signin.resend_code(
            challenge,
            uow=self.uow,
            mailer=self.mailer,
            policy=self.policy,
            site=self.site,
            clock=self.clock,
        )

    def sign_in(self, email: str, password: str, client: str = "10.0.0.1") -> signin.SignedIn:
        challenge = self.start(email, password, client)
        return self.finish(challenge.id, self.last_code(email), client)

    def coordinator(self, **changes: str) -> str:
        """A registered and approved district coordinator (a PED coordinator is made first
        if there is none); returns the email."""
        if not self.mails(PED):
            self.add_ped()
        self.register(**changes)
        email = form(**changes).email
        (waiting,) = [r for r in self.pending() if r.email == email]
        self.approve(waiting.id)
        return email
