"""The signed-in person's account: change password (forced when it has expired), set up an
authenticator app (TOTP) with its QR code, and the set-password page a new account's
emailed link opens."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from aip_forms.errors import AipError, InvalidInput
from web import sessions
from web.access import PUBLIC, SIGNED_IN, requires
from web.auth.views import new_password
from web.forms import Posted
from web.sessions import core

bp = Blueprint("account", __name__, url_prefix="/account")

Page = str | tuple[str, int] | Response
CHANGE_FIELDS = {"current_password": "current", "new_password": "password"}


@bp.route("/password", methods=["GET", "POST"])
@requires(SIGNED_IN, allow_expired_password=True)
def change_password() -> Page:
    from aip_forms.services import accounts

    person = sessions.principal()
    assert person is not None
    posted = Posted()
    if request.method == "POST":
        current = posted.secret("current")
        new = posted.secret("password")
        if new != posted.secret("confirm"):
            posted.errors["confirm"] = "The two new passwords are not the same."
        if not posted.errors:
            try:
                accounts.change_password(
                    person.email,
                    current,
                    new,
                    **sessions.account_collaborators(),
                )
            except AipError as e:
                posted.refused(e, rename=CHANGE_FIELDS)
            else:
                sessions.forget("must_change")
                flash("Your password is changed.", "success")
                return redirect(url_for("home.home"))
        return render_template(
            "account/change_password.html",
            errors=posted.errors,
            expired=person.must_change_password,
        ), 400
    return render_template(
        "account/change_password.html", errors={}, expired=person.must_change_password
    )


@bp.route("/totp", methods=["GET", "POST"])
@requires(SIGNED_IN)
def totp() -> Page:
    """Set up an authenticator app: a new secret on GET; its code confirms it on POST (a
    wrong code shows the same secret again, so the app need not be set up anew)."""
    from aip_forms.services import signin

    person = sessions.principal()
    assert person is not None
    app = core()
    posted = Posted()
    enrollment = sessions.recall("totp")
    if request.method == "GET" or not enrollment:
        started = signin.start_totp(person.email, uow=app.uow, issuer=app.site.totp_issuer)
        enrollment = {"secret": started.secret, "qr": started.qr_svg}
        sessions.remember("totp", enrollment)
        status = 200
    else:
        entered = posted.text("code", limit=12).replace(" ", "")
        if not posted.errors:
            try:
                signin.confirm_totp(person.email, entered, uow=app.uow, clock=app.clock)
            except InvalidInput as e:
                posted.errors["code"] = str(e).removeprefix("code: ")
            else:
                sessions.forget("totp")
                flash("Your authenticator app is set up. Use it when you sign in.", "success")
                return redirect(url_for("home.home"))
        status = 400
    return render_template(
        "account/totp.html",
        errors=posted.errors,
        secret=enrollment["secret"],
        qr=Markup(enrollment["qr"]),  # SVG markup the service drew from the secret
    ), status


@bp.route("/set-password/<token>", methods=["GET", "POST"])
@requires(PUBLIC)
def set_password(token: str) -> Page:
    return new_password(token, "account/set_password.html")
