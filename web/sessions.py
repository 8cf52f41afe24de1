"""Server-side sessions (Flask-Session: Redis when AIP_REDIS_URL is set, else files under
$AIP_HOME/sessions), who is signed in, and the idle and absolute time-outs.

The session holds the signed-in person (`user`), their roles (`grants`), the role they act
in (`role`), when they signed in and when they were last seen (epoch seconds from the
composition root's clock). A request after a time-out finds the session cleared and
`g.session_ended` saying why; the access policy then sends it to sign-in. A session whose
user was deactivated ends at its next request.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, g, request, session
from flask_session import Session

from aip_forms.services.access import Grant, Role
from aip_forms.site import role_name as site_role_name

if TYPE_CHECKING:
    from aip_forms.bootstrap import App
    from web.settings import PortalSettings

COOKIE = "aip_session"


def init_app(flask_app: Flask, core: App, portal: PortalSettings) -> None:
    flask_app.config.update(
        SESSION_COOKIE_NAME=COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=portal.tls,
        SESSION_PERMANENT=True,
        PERMANENT_SESSION_LIFETIME=portal.session_lifetime,
        SESSION_KEY_PREFIX="aip:session:",
    )
    if portal.redis_url:
        import redis

        flask_app.config.update(
            SESSION_TYPE="redis", SESSION_REDIS=redis.Redis.from_url(portal.redis_url)
        )
    else:
        from cachelib.file import FileSystemCache

        portal.session_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        flask_app.config.update(
            SESSION_TYPE="cachelib",
            SESSION_CACHELIB=FileSystemCache(str(portal.session_dir), threshold=5000, mode=0o600),
        )
    Session(flask_app)
    flask_app.before_request(_expire_idle_sessions)


def core() -> App:
    """The composition root the portal runs on."""
    app: App = current_app.extensions["aip"]
    return app


def account_collaborators() -> dict[str, Any]:
    """What the account use cases that send mail take: the unit of work, the mailer, the
    account policy, the site (the portal's address for links, its words), the clock."""
    app = core()
    return {
        "uow": app.uow,
        "mailer": app.mailer,
        "policy": app.accounts,
        "site": app.site,
        "clock": app.clock,
    }


def portal_settings() -> PortalSettings:
    settings: PortalSettings = current_app.extensions["aip.portal"]
    return settings


def now() -> dt.datetime:
    return core().clock()


@dataclass(frozen=True)
class Principal:
    """The signed-in person, as the session holds them."""

    user_id: int
    email: str
    name: str
    grants: tuple[Grant, ...]
    role: Grant | None  # the role they act in; None until they pick one
    must_change_password: bool

    @property
    def is_ped_coordinator(self) -> bool:
        return self.role is not None and self.role.role is Role.PED_COORDINATOR


def grant_key(grant: Grant) -> str:
    return f"{grant.role.value}:{grant.lea_code or ''}:{grant.school_code or ''}"


def role_name(role: Role, agency: str | None = None) -> str:
    """A role's displayed name; `agency` defaults to the running program's (`agency_short`)."""
    return core().site.role_name(role) if agency is None else site_role_name(role, agency)


def grant_label(grant: Grant) -> str:
    name = role_name(grant.role)
    if grant.role is Role.SCHOOL_COORDINATOR:
        return f"{name} (school {grant.school_code})"
    if grant.role is Role.DISTRICT_COORDINATOR:
        return f"{name} (LEA {grant.lea_code})"
    return name


def principal() -> Principal | None:
    user = session.get("user")
    if not user:
        return None
    grants = tuple(
        Grant(Role(r), lea or None, school or None) for r, lea, school in session["grants"]
    )
    chosen = session.get("role")
    role = next((gr for gr in grants if grant_key(gr) == chosen), None)
    return Principal(
        user["id"], user["email"], user["name"], grants, role, bool(session.get("must_change"))
    )


def sign_in(
    *, user_id: int, email: str, name: str, grants: tuple[Grant, ...], password_expired: bool
) -> None:
    """Start a signed-in session under a new id (no fixation); one role is chosen for
    the person who holds only one."""
    session.clear()
    moment = now().timestamp()
    session["user"] = {"id": user_id, "email": email, "name": name}
    session["grants"] = [[gr.role.value, gr.lea_code or "", gr.school_code or ""] for gr in grants]
    session["role"] = grant_key(grants[0]) if len(grants) == 1 else None
    session["must_change"] = password_expired
    session["signed_in_at"] = moment
    session["last_seen"] = moment
    # a new id, and the old one's record deleted (regenerate skips an empty session)
    current_app.session_interface.regenerate(session)  # type: ignore[attr-defined]


def choose_role(key: str) -> bool:
    """Act in the role `key` names; False when the person does not hold it."""
    found = principal()
    if found is None or key not in {grant_key(gr) for gr in found.grants}:
        return False
    session["role"] = key
    return True


def sign_out() -> None:
    session.clear()


def remember(key: str, value: Any) -> None:
    session[key] = value


def recall(key: str) -> Any:
    return session.get(key)


def forget(key: str) -> None:
    session.pop(key, None)


def session_ends() -> dt.datetime | None:
    """When the signed-in session ends if nothing more happens."""
    if "last_seen" not in session:
        return None
    portal = portal_settings()
    idle = session["last_seen"] + portal.idle_timeout.total_seconds()
    absolute = session["signed_in_at"] + portal.session_lifetime.total_seconds()
    return dt.datetime.fromtimestamp(min(idle, absolute), dt.UTC)


def _expire_idle_sessions() -> None:
    """End a session that timed out or whose user was deactivated; keep the roles of the
    others as they are now (a role taken away stops working at the next page)."""
    from aip_forms.services.users import signed_in_user

    g.session_ended = None
    if request.path.startswith("/api/"):
        return  # the API knows no cookies: a bearer token says who calls
    if "user" not in session:
        return
    portal = portal_settings()
    moment = now().timestamp()
    idle = moment - session.get("last_seen", 0) > portal.idle_timeout.total_seconds()
    old = moment - session.get("signed_in_at", 0) > portal.session_lifetime.total_seconds()
    if idle or old:
        session.clear()
        g.session_ended = "Your session ended after a period without activity. Sign in again."
        return
    user = signed_in_user(session["user"]["id"], uow=core().uow)
    if user is None:
        session.clear()
        g.session_ended = (
            f"Your account is deactivated; ask your {role_name(Role.PED_COORDINATOR)}."
        )
        return
    grants = [[gr.role.value, gr.lea_code or "", gr.school_code or ""] for gr in user.grants]
    if grants != session.get("grants"):
        session["grants"] = grants
        if session.get("role") not in {grant_key(gr) for gr in user.grants}:
            session["role"] = grant_key(user.grants[0]) if len(user.grants) == 1 else None
    session["last_seen"] = moment
