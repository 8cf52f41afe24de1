"""Registration (user guide §2.1), sign-in with an emailed or TOTP code (§2.2), password
reset and sign-out. Views parse the form, call an accounts use case, and render."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from aip_forms.errors import AipError, InvalidInput
from aip_forms.services.fields import InvalidFields
from web import sessions
from web.access import PUBLIC, SIGNED_IN, requires
from web.forms import FORM, Posted
from web.lookups import district_choices
from web.security import safe_next
from web.sessions import core

if TYPE_CHECKING:
    from aip_forms.bootstrap import App

bp = Blueprint("auth", __name__)

Page = str | tuple[str, int] | Response

REGISTRATION_FIELDS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "District email",
    "phone": "Phone number",
    "lea_code": "District",
    "school_code": "School code",
    "role": "Role",
    "password": "Password",
}
ROLES = [
    ("district_coordinator", "District Absence Coordinator"),
    ("school_coordinator", "School coordinator"),
]


@bp.route("/register", methods=["GET", "POST"])
@requires(PUBLIC)
def register() -> Page:

    posted = Posted()
    if request.method == "POST":
        from aip_forms.services import accounts

        form = accounts.RegistrationForm(
            first_name=posted.text("first_name", limit=60),
            last_name=posted.text("last_name", limit=60),
            email=posted.text("email", limit=254),
            phone=posted.text("phone", limit=30),
            lea_code=posted.text("lea_code", limit=16),
            school_code=posted.text("school_code", limit=16),
            role=posted.text("role", limit=40),
            password=posted.secret("password"),
        )
        if not posted.errors:
            try:
                accounts.register(
                    form,
                    **sessions.account_collaborators(),
                )
                return redirect(url_for("auth.registered"))
            except InvalidFields as e:
                posted.errors.update(e.problems)
        return _register_page(posted, 400)
    return _register_page(posted, 200)


def _register_page(posted: Posted, status: int) -> tuple[str, int]:
    return render_template(
        "auth/register.html",
        errors=posted.errors,
        values=posted.values,
        labels=REGISTRATION_FIELDS,
        districts=district_choices(),
        roles=ROLES,
    ), status


@bp.route("/register/received")
@requires(PUBLIC)
def registered() -> Page:
    return render_template("auth/registered.html")


@bp.route("/sign-in", methods=["GET", "POST"])
@requires(PUBLIC)
def sign_in() -> Page:
    posted = Posted()
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("auth/sign_in.html", errors={}, values={}, next=target)
    from aip_forms.services import signin

    email = posted.text("email", limit=254)
    password = posted.secret("password")
    status, wait = 400, None
    if not posted.errors:
        app = core()
        try:
            challenge = signin.start_sign_in(
                email,
                password,
                uow=app.uow,
                mailer=app.mailer,
                **_guarded(app),
            )
        except AipError as e:
            status = posted.refused(e, field="email" if isinstance(e, InvalidInput) else FORM)
            wait = getattr(e, "retry_after", None)
        else:
            sessions.remember(
                "challenge", {"id": challenge.id, "method": challenge.method, "next": target}
            )
            return redirect(url_for("auth.code"))
    page = render_template(
        "auth/sign_in.html", errors=posted.errors, values=posted.values, next=target
    )
    return _with_retry_after(page, status, wait)


@bp.route("/account/sign-in")
@requires(PUBLIC)
def sign_in_mailed() -> Page:
    """The sign-in address the account mails give."""
    return redirect(url_for("auth.sign_in"), 301)


@bp.route("/account/reset")
@requires(PUBLIC)
def reset_mailed() -> Page:
    """The password-reset address the account mails give."""
    return redirect(url_for("auth.reset_request"), 301)


@bp.route("/sign-in/code", methods=["GET", "POST"])
@requires(PUBLIC)
def code() -> Page:
    challenge = sessions.recall("challenge")
    if not challenge:
        return redirect(url_for("auth.sign_in"))
    posted = Posted()
    if request.method == "GET":
        return render_template("auth/code.html", errors={}, method=challenge["method"])
    from aip_forms.services import signin

    entered = posted.text("code", limit=12).replace(" ", "")
    status, wait = 400, None
    if not posted.errors:
        app = core()
        try:
            signed = signin.finish_sign_in(challenge["id"], entered, uow=app.uow, **_guarded(app))
        except AipError as e:
            status = posted.refused(e, field="code" if isinstance(e, InvalidInput) else FORM)
            wait = getattr(e, "retry_after", None)
        else:
            sessions.sign_in(
                user_id=signed.user.id,
                email=signed.user.email,
                name=signed.user.name,
                grants=tuple(signed.user.grants),
                password_expired=signed.password_expired,
            )
            return redirect(_after_sign_in(challenge.get("next")))
    page = render_template("auth/code.html", errors=posted.errors, method=challenge["method"])
    return _with_retry_after(page, status, wait)


def _with_retry_after(page: str, status: int, wait: int | None) -> Response:
    """The page with its status; a throttled one says in `Retry-After` when to try again."""
    response = make_response(page, status)
    if wait is not None:
        response.headers["Retry-After"] = str(wait)
    return response


def _guarded(app: App) -> dict[str, Any]:
    """What the sign-in steps share: the throttle keyed by the client's address, the
    account policy, the site (its words for a refusal), the clock."""
    return {
        "site": app.site,
        "throttle": app.throttle,
        "client": request.remote_addr or "",
        "policy": app.accounts,
        "clock": app.clock,
    }


def _after_sign_in(target: str | None) -> str:
    person = sessions.principal()
    if person is not None and person.must_change_password:
        return url_for("account.change_password")
    if person is not None and person.role is None:
        return url_for("home.choose_role", next=target) if target else url_for("home.choose_role")
    return safe_next(target) or url_for("home.home")


@bp.route("/sign-in/code/resend", methods=["POST"])
@requires(PUBLIC)
def resend() -> Page:
    from aip_forms.services import signin

    challenge = sessions.recall("challenge")
    if not challenge:
        return redirect(url_for("auth.sign_in"))
    posted = Posted()
    try:
        signin.resend_code(
            challenge["id"],
            **sessions.account_collaborators(),
        )
    except AipError as e:
        status = posted.refused(e)
        return render_template(
            "auth/code.html", errors=posted.errors, method=challenge["method"]
        ), status
    return render_template("auth/code.html", errors={}, method=challenge["method"], resent=True)


@bp.route("/sign-out", methods=["POST"])
@requires(SIGNED_IN, allow_expired_password=True)
def sign_out() -> Page:
    sessions.sign_out()
    return render_template("auth/signed_out.html")


@bp.route("/password/reset", methods=["GET", "POST"])
@requires(PUBLIC)
def reset_request() -> Page:
    posted = Posted()
    if request.method == "GET":
        return render_template("auth/reset_request.html", errors={}, values={})
    from aip_forms.services import accounts

    email = posted.text("email", limit=254)
    status = 400
    if not posted.errors:
        try:
            accounts.request_password_reset(
                email,
                **sessions.account_collaborators(),
            )
        except AipError as e:
            status = posted.refused(e, field="email")
        else:
            return render_template("auth/reset_sent.html")
    return render_template(
        "auth/reset_request.html", errors=posted.errors, values=posted.values
    ), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@requires(PUBLIC)
def reset(token: str) -> Page:
    return new_password(token, "auth/reset.html")


def new_password(token: str, template: str) -> Page:
    """The reset-link and set-password pages: a new password for the token's account; a
    link that expired or was used says so instead of showing the form."""
    from aip_forms.services import accounts

    app = core()
    posted = Posted()
    try:
        email = accounts.check_password_token(token[:200], uow=app.uow, clock=app.clock)
    except InvalidInput as e:
        posted.refused(e)
        return render_template(template, errors=posted.errors, token=None, stale=True), 400
    if request.method == "GET":
        return render_template(template, errors={}, token=token, email=email)
    password = posted.secret("password")
    if password != posted.secret("confirm"):
        posted.errors["confirm"] = "The two passwords are not the same."
    if not posted.errors:
        try:
            accounts.set_password(
                token[:200],
                password,
                **sessions.account_collaborators(),
            )
        except AipError as e:
            status = posted.refused(e)
            return render_template(template, errors=posted.errors, token=token, email=email), status
        sessions.sign_out()
        return render_template("auth/password_set.html")
    return render_template(template, errors=posted.errors, token=token, email=email), 400
