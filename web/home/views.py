"""Landing and home (user guide §2.3): a person with several roles picks one and can switch;
home lists the districts and schools in that role's scope for the current fiscal year, with
plan status and deadline, and PED's current announcements for the role."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from aip_forms.services.home import fiscal_year_of, home_rows
from web import sessions
from web.access import SIGNED_IN, requires
from web.security import safe_next
from web.sessions import core, grant_key, grant_label

bp = Blueprint("home", __name__)

Page = str | tuple[str, int] | Response


@bp.route("/")
@requires()
def home() -> Page:
    from aip_forms.services import announcements

    person = sessions.principal()
    assert person is not None and person.role is not None  # the policy saw to it
    app = core()
    today = app.clock().date()
    year = fiscal_year_of(today)
    rows = home_rows(person.role, year, uow=app.uow, config=app.config)
    notices = announcements.current_announcements([person.role], uow=app.uow, today=today)
    return render_template(
        "home/home.html", rows=rows, fiscal_year=year, announcements=notices, today=today
    )


@bp.route("/role", methods=["GET", "POST"])
@requires(SIGNED_IN)
def choose_role() -> Page:
    person = sessions.principal()
    assert person is not None
    target = safe_next(request.values.get("next"))
    if request.method == "POST":
        _act_in(request.form.get("role", ""))
        return redirect(target or url_for("home.home"))
    choices = [(grant_key(g), grant_label(g)) for g in person.grants]
    return render_template("home/choose_role.html", choices=choices, next=target)


@bp.route("/role/switch", methods=["POST"])
@requires(SIGNED_IN)
def switch_role() -> Page:
    _act_in(request.form.get("role", ""))
    return redirect(url_for("home.home"))


def _act_in(key: str) -> None:
    """Act in the role `key` names: 400 when none is named, 403 when it is not theirs."""
    if not key:
        abort(400)
    if not sessions.choose_role(key[:100]):
        abort(403, "You do not hold that role.")
