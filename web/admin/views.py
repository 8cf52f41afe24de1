"""PED administration (PED Absence Coordinator only): pending registrations (approve, or
deny with a reason), users (roles with their LEA or school, deactivate, reactivate) and
announcements (create, edit, delete)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from aip_forms.services.access import Role
from aip_forms.services.fields import InvalidFields
from aip_forms.site import ROLE_NAMES
from web import sessions
from web.access import requires
from web.forms import Posted
from web.lookups import district_choices
from web.sessions import core, role_name

if TYPE_CHECKING:
    from aip_forms.services.users import UserView

bp = Blueprint("admin", __name__, url_prefix="/admin")

Page = str | tuple[str, int] | Response
PED = Role.PED_COORDINATOR
AUDIENCES = [
    ("everyone", "Everyone"),
    ("districts", "District coordinators"),
    ("schools", "School coordinators"),
]


def role_choices() -> list[tuple[str, str]]:
    return [(role.value, role_name(role)) for role in ROLE_NAMES]


GRANT_FIELDS = {"role": "Role", "lea_code": "District", "school_code": "School code"}
ANNOUNCEMENT_FIELDS = {
    "title": "Title",
    "body": "Text",
    "audience": "Audience",
    "starts_on": "First day shown",
    "ends_on": "Last day shown",
}


def _actor() -> str:
    person = sessions.principal()
    assert person is not None
    return person.email


@bp.route("/registrations")
@requires(PED)
def registrations() -> Page:
    from aip_forms.services import accounts

    pending = accounts.pending_registrations(actor_email=_actor(), uow=core().uow)
    return render_template("admin/registrations.html", pending=pending, errors={})


@bp.route("/registrations/<int:registration_id>/approve", methods=["POST"])
@requires(PED)
def approve(registration_id: int) -> Page:
    from aip_forms.services import accounts

    app = core()
    accounts.approve_registration(
        registration_id,
        actor_email=_actor(),
        uow=app.uow,
        mailer=app.mailer,
        site=app.site,
        clock=app.clock,
    )
    flash("The registration is approved and the applicant was emailed.", "success")
    return redirect(url_for("admin.registrations"))


@bp.route("/registrations/<int:registration_id>/deny", methods=["POST"])
@requires(PED)
def deny(registration_id: int) -> Page:
    from aip_forms.services import accounts

    posted = Posted()
    reason = posted.text("reason", limit=500, multiline=True)
    app = core()
    if posted.errors or not reason:
        posted.errors.setdefault("reason", "Say why the request is denied.")
        pending = accounts.pending_registrations(actor_email=_actor(), uow=app.uow)
        return render_template(
            "admin/registrations.html",
            pending=pending,
            errors=posted.errors,
            denying=registration_id,
        ), 400
    accounts.deny_registration(
        registration_id,
        actor_email=_actor(),
        reason=reason,
        uow=app.uow,
        mailer=app.mailer,
        site=app.site,
        clock=app.clock,
    )
    flash("The registration is denied and the applicant was emailed the reason.", "success")
    return redirect(url_for("admin.registrations"))


@bp.route("/users")
@requires(PED)
def users() -> Page:
    from aip_forms.services.users import list_users

    found = list_users(actor_email=_actor(), uow=core().uow)
    return render_template("admin/users.html", users=found)


@bp.route("/users/<int:user_id>")
@requires(PED)
def user(user_id: int) -> Page:
    from aip_forms.services.users import get_user

    return _user_page(get_user(user_id, actor_email=_actor(), uow=core().uow), {}, {}, 200)


def _user_page(
    found: UserView, errors: dict[str, str], values: dict[str, str], status: int
) -> tuple[str, int]:
    return render_template(
        "admin/user.html",
        user=found,
        errors=errors,
        values=values,
        roles=role_choices(),
        districts=district_choices(),
        labels=GRANT_FIELDS,
    ), status


@bp.route("/users/<int:user_id>/roles", methods=["POST"])
@requires(PED)
def grant(user_id: int) -> Page:
    from aip_forms.services.users import get_user, grant_role_to

    posted = Posted()
    role = posted.text("role", limit=40)
    lea_code = posted.text("lea_code", limit=16)
    school_code = posted.text("school_code", limit=16)
    app = core()
    if not posted.errors:
        try:
            grant_role_to(
                user_id,
                role,
                lea_code=lea_code,
                school_code=school_code,
                actor_email=_actor(),
                uow=app.uow,
                clock=app.clock,
            )
        except InvalidFields as e:
            posted.errors.update(e.problems)
        else:
            flash("The role is added.", "success")
            return redirect(url_for("admin.user", user_id=user_id))
    found = get_user(user_id, actor_email=_actor(), uow=app.uow)
    return _user_page(found, posted.errors, posted.values, 400)


@bp.route("/users/<int:user_id>/roles/revoke", methods=["POST"])
@requires(PED)
def revoke(user_id: int) -> Page:
    from aip_forms.services.users import revoke_role

    role, _, place = request.form.get("grant", "")[:100].partition(":")
    lea_code, _, school_code = place.partition(":")
    if not role:
        abort(400)
    app = core()
    revoke_role(
        user_id,
        role,
        lea_code=lea_code or None,
        school_code=school_code or None,
        actor_email=_actor(),
        uow=app.uow,
        clock=app.clock,
    )
    flash("The role is removed.", "success")
    return redirect(url_for("admin.user", user_id=user_id))


ACCOUNT_ACTIONS = {
    "deactivate": "The account is deactivated; its open sessions end at their next page.",
    "reactivate": "The account is active again.",
}


@bp.route("/users/<int:user_id>/<any(deactivate, reactivate):action>", methods=["POST"])
@requires(PED)
def account_status(user_id: int, action: str) -> Page:
    """Deactivate or reactivate an account."""
    from aip_forms.services.users import set_active

    app = core()
    set_active(user_id, action == "reactivate", actor_email=_actor(), uow=app.uow, clock=app.clock)
    flash(ACCOUNT_ACTIONS[action], "success")
    return redirect(url_for("admin.user", user_id=user_id))


@bp.route("/announcements")
@requires(PED)
def announcements() -> Page:
    from aip_forms.services import announcements as service

    return render_template(
        "admin/announcements.html",
        announcements=service.list_announcements(actor_email=_actor(), uow=core().uow),
    )


@bp.route("/announcements/new", methods=["GET", "POST"])
@requires(PED)
def new_announcement() -> Page:
    return _announcement_form(None)


@bp.route("/announcements/<int:announcement_id>/edit", methods=["GET", "POST"])
@requires(PED)
def edit_announcement(announcement_id: int) -> Page:
    return _announcement_form(announcement_id)


@bp.route("/announcements/<int:announcement_id>/delete", methods=["POST"])
@requires(PED)
def delete_announcement(announcement_id: int) -> Page:
    from aip_forms.services import announcements as service

    app = core()
    service.withdraw_announcement(
        announcement_id, actor_email=_actor(), uow=app.uow, clock=app.clock
    )
    flash("The announcement is withdrawn.", "success")
    return redirect(url_for("admin.announcements"))


def _announcement_form(announcement_id: int | None) -> Page:
    from aip_forms.services import announcements as service

    app = core()
    posted = Posted()
    if request.method == "GET":
        values: dict[str, str] = {"audience": "everyone"}
        if announcement_id is not None:
            found = service.get_announcement(announcement_id, actor_email=_actor(), uow=app.uow)
            values = {
                "title": found.title,
                "body": found.body,
                "audience": found.audience,
                "starts_on": found.starts_on.isoformat(),
                "ends_on": found.ends_on.isoformat(),
            }
        return render_template(
            "admin/announcement_form.html",
            errors={},
            values=values,
            labels=ANNOUNCEMENT_FIELDS,
            audiences=AUDIENCES,
            editing=announcement_id,
        )
    # The view only parses (a date that is not a date); the service judges the rest.
    title = posted.text("title", limit=1000)
    body = posted.text("body", limit=20000, multiline=True)
    audience = posted.text("audience", limit=40)
    starts, ends = _date(posted, "starts_on"), _date(posted, "ends_on")
    if not posted.errors:
        entered = (title, body, audience, starts, ends)
        try:
            if announcement_id is None:
                service.post_announcement(
                    *entered, actor_email=_actor(), uow=app.uow, clock=app.clock
                )
            else:
                service.update_announcement(
                    announcement_id, *entered, actor_email=_actor(), uow=app.uow, clock=app.clock
                )
        except InvalidFields as e:
            posted.errors.update(e.problems)
        else:
            flash("The announcement is saved.", "success")
            return redirect(url_for("admin.announcements"))
    return render_template(
        "admin/announcement_form.html",
        errors=posted.errors,
        values=posted.values,
        labels=ANNOUNCEMENT_FIELDS,
        audiences=AUDIENCES,
        editing=announcement_id,
    ), 400


def _date(posted: Posted, name: str) -> dt.date | None:
    """The date typed in `name`; None when empty (the service says it is required)."""
    value = posted.text(name, limit=40)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        posted.errors.setdefault(name, "Enter a date like 2026-09-01.")
        return None


# ---- deadlines per fiscal year and period (issue 12) ------------------------------------------

DEADLINE_FIELDS = {"which": "Deadline", "due_on": "Due date"}


@bp.route("/deadlines", methods=["GET", "POST"])
@requires(PED)
def deadlines() -> Page:
    """Every deadline of a fiscal year with where it comes from (PED's date, the program
    config or the NMSA 22-12A-7 rule), and a form to set one."""
    from aip_forms.domain import PlanKind
    from aip_forms.errors import InvalidInput
    from aip_forms.services.deadlines import list_deadlines, set_deadline
    from aip_forms.services.home import fiscal_year_of

    app = core()
    year_text = (request.values.get("fy") or "").strip()
    year = fiscal_year_of(app.clock().date())
    if year_text.isdigit() and 2000 <= int(year_text) <= 2100:
        year = int(year_text)
    posted = Posted()
    errors: dict[str, str] = {}
    if request.method == "POST":
        which = posted.text("which", limit=40)
        due_on = _date(posted, "due_on")
        errors = dict(posted.errors)
        kind_text, _, period = which.partition("/")
        if kind_text not in {k.value for k in PlanKind}:
            errors.setdefault("which", "Choose the deadline to set.")
        elif due_on is None:
            errors.setdefault("due_on", "Enter the due date, like 2026-10-09.")
        if not errors and due_on is not None:
            try:
                set_deadline(
                    uow=app.uow, config=app.config, fiscal_year=year, kind=PlanKind(kind_text),
                    period=None if period in ("", "plan") else period, due_on=due_on,
                    user_email=_actor(), clock=app.clock,
                )  # fmt: skip
            except InvalidInput as e:
                errors["due_on"] = str(e)
            else:
                flash(f"The deadline is set to {due_on:%B} {due_on.day}, {due_on.year}.", "success")
                return redirect(url_for("admin.deadlines", fy=year))
    found = list_deadlines(uow=app.uow, config=app.config, fiscal_year=year)
    return render_template(
        "admin/deadlines.html", fiscal_year=year, deadlines=found, errors=errors,
        values=posted.values if request.method == "POST" else {}, labels=DEADLINE_FIELDS,
    ), 400 if errors else 200  # fmt: skip
