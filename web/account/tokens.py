"""Personal access tokens for the machine API, on the account page: make one (a name and
its scopes; the secret is shown on the next page once and never again), list them, revoke
one. The token services (`services.tokens`) keep only the secret's SHA-256."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from aip_forms.errors import AipError
from aip_forms.services import tokens
from web import sessions
from web.access import SIGNED_IN, requires
from web.forms import Posted
from web.sessions import core

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")

Page = str | tuple[str, int] | Response
SCOPES = {
    "plans:read": "Read plans: list them, download workbooks, read status and reports",
    "plans:write": "Upload workbooks: check them or submit them",
    "documents:read": "Download documents: plans as PDF or Word",
}
LIFETIMES = ("30", "90", "180", "366")


def _email() -> str:
    person = sessions.principal()
    assert person is not None  # the policy saw to it
    return person.email


def _page(errors: dict[str, str], values: dict[str, object], secret: str = "") -> str:
    app = core()
    return render_template(
        "account/tokens.html",
        tokens=tokens.list_tokens(_email(), uow=app.uow),
        now=app.clock(),
        scopes=SCOPES,
        lifetimes=LIFETIMES,
        errors=errors,
        values=values,
        secret=secret,
    )


@bp.route("", methods=["GET", "POST"])
@requires(SIGNED_IN)
def tokens_page() -> Page:
    if request.method == "GET":
        return _page({}, {"days": "90", "scopes": []})
    posted = Posted()
    name = posted.text("name", limit=80)
    days = posted.text("days", limit=4)
    chosen = [s[:40] for s in request.form.getlist("scopes")[:10]]
    values: dict[str, object] = {"name": name, "days": days, "scopes": chosen}
    if not name and "name" not in posted.errors:
        posted.errors["name"] = "Give the token a name, such as nightly sync."
    if not chosen:
        posted.errors["scopes"] = "Tick at least one scope."
    if days not in LIFETIMES:
        posted.errors["days"] = "Choose how long the token lasts."
    if posted.errors:
        return _page(posted.errors, values), 400
    app = core()
    try:
        _, secret = tokens.create_token(
            _email(), name, chosen, uow=app.uow, clock=app.clock, expires_in_days=int(days)
        )
    except AipError as e:
        status = posted.refused(e, field="name")
        return _page(posted.errors, values), status
    return _page({}, {"days": "90", "scopes": []}, secret=secret), 201


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@requires(SIGNED_IN)
def revoke(token_id: int) -> Page:
    app = core()
    revoked = tokens.revoke_token(token_id, _email(), uow=app.uow, clock=app.clock)
    flash(f"The token {revoked.name} is revoked; it no longer works.", "success")
    return redirect(url_for("tokens.tokens_page"))
