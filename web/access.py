"""The one access policy of the portal: every view is wrapped by `requires`, which decides
with `verdict` whether the request goes ahead, goes to sign-in (then back), goes to pick a
role or to change an expired password, or is refused (403).

    @requires(PUBLIC)                  # anyone (sign-in, registration, password reset)
    @requires(SIGNED_IN)               # signed in, any role or none picked yet
    @requires()                        # signed in and acting in a role
    @requires(Role.PED_COORDINATOR)    # signed in and acting as PED coordinator
    @requires(Role.A, Role.B)          # signed in and acting in one of these roles
    @requires_token("plans:read")      # the machine API: a bearer token with this scope

Which plans a request may read or change is decided by the services (`services.access`),
which every page and API endpoint calls with the signed-in user or the token's user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, flash, g, redirect, url_for
from werkzeug.wrappers import Response

from aip_forms.services.access import Role
from web.security import this_request_path
from web.sessions import Principal, principal

PUBLIC = "public"
SIGNED_IN = "signed_in"
ACTING = "acting"
ROLES = "roles"  # acting in one of `Policy.roles`
TOKEN = "token"  # the machine API: a personal access token with `Policy.scope`

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Policy:
    who: str  # PUBLIC, SIGNED_IN, ACTING, ROLES or TOKEN
    allow_expired_password: bool = False
    roles: tuple[str, ...] = ()  # ROLES: the roles' values
    scope: str = ""  # TOKEN: the scope the token needs

    def admits(self, role: str) -> bool:
        """Whether a person acting in `role` passes (a page; tokens are never sessions)."""
        return self.who in (PUBLIC, SIGNED_IN, ACTING) or role in self.roles


def verdict(policy: Policy, person: Principal | None) -> Response | None:
    """None when the request may go ahead; else the response that stops it."""
    if policy.who == PUBLIC:
        return None
    if person is None:
        if g.get("session_ended"):
            flash(g.session_ended, "info")
        return redirect(url_for("auth.sign_in", next=this_request_path()))
    if person.must_change_password and not policy.allow_expired_password:
        return redirect(url_for("account.change_password"))
    if policy.who == SIGNED_IN:
        return None
    if person.role is None:
        return redirect(url_for("home.choose_role", next=this_request_path()))
    if policy.who == ACTING or person.role.role.value in policy.roles:
        return None
    abort(403, "Your role does not allow this page.")


def requires(*who: Role | str, allow_expired_password: bool = False) -> Callable[[F], F]:
    roles = tuple(w.value for w in who if isinstance(w, Role))
    if roles:
        if len(roles) != len(who):
            raise TypeError("requires() takes roles, or one of PUBLIC, SIGNED_IN, ACTING")
        policy = Policy(ROLES, allow_expired_password, roles)
    else:
        policy = Policy(str(who[0]) if who else ACTING, allow_expired_password)
    return _guard(policy)


def requires_token(scope: str) -> Callable[[F], F]:
    """An API endpoint: `web.api.auth.token_verdict` checks the bearer token and scope."""
    return _guard(Policy(TOKEN, scope=scope))


def _guard(policy: Policy) -> Callable[[F], F]:
    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if policy.who == TOKEN:
                from web.api.auth import token_verdict

                stop = token_verdict(policy)
            else:
                stop = verdict(policy, principal())
            return stop if stop is not None else view(*args, **kwargs)

        guarded.access_policy = policy  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorate


def check_every_view_declares_access(flask_app: Flask) -> None:
    """Refuse to start when a view has no policy: none is public by forgetting."""
    missing = [
        endpoint
        for endpoint, view in flask_app.view_functions.items()
        if endpoint != "static" and not hasattr(view, "access_policy")
    ]
    if missing:
        raise RuntimeError(f"views without an access policy: {', '.join(sorted(missing))}")
