"""Review (issue 11, item 5): the queue of plans a reviewer works through, and a plan's page
with its data as tables by step, its comments (on the plan, a section or a cell, open until
resolved), and the decision (approve or return, with a reason; the coordinator is mailed).

District coordinators review their LEA's school plans, the PED coordinator the district
plans (and sees all); PED reviewers read. A plan's page is open to everyone who may read
the plan (the coordinator follows the mailed link to it); the services decide, on every
request, who may read it and who may review it.
"""

from __future__ import annotations

import io
import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from werkzeug.wrappers import Response

from aip_forms.errors import AipError, one_line
from aip_forms.services import review
from aip_forms.services.access import Role
from aip_forms.services.home import fiscal_year_of
from aip_forms.services.plan_files import revision_for
from aip_forms.services.plan_index import SORTS, STATUSES, QueueFilter, review_queue
from aip_forms.services.plan_tables import PlanPage, cell_ref
from aip_forms.services.workflow import Decision
from web import sessions
from web.access import requires
from web.forms import FORM, Posted
from web.lookups import district_choices
from web.plan_calls import page_of
from web.sessions import core

bp = Blueprint("review", __name__, url_prefix="/review")
log = logging.getLogger("aip_forms.web")

Page = str | tuple[str, int] | Response
REVIEWERS = (Role.DISTRICT_COORDINATOR, Role.PED_COORDINATOR, Role.PED_REVIEWER)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _person() -> sessions.Principal:
    person = sessions.principal()
    assert person is not None and person.role is not None  # the policy saw to it
    return person


@bp.route("")
@requires(*REVIEWERS)
def queue() -> Page:
    person = _person()
    assert person.role is not None
    app = core()
    today = app.clock().date()
    args = request.args
    wanted = QueueFilter(
        status=args.get("status", "")[:40],
        lea_code=args.get("lea", "")[:40],
        overdue=args.get("overdue") == "1",
        sort=args.get("sort", "deadline")[:40] or "deadline",
    )
    year = fiscal_year_of(today)
    errors: dict[str, str] = {}
    try:
        plans = review_queue(
            person.role,
            person.email,
            uow=app.uow,
            config=app.config,
            today=today,
            fiscal_year=year,
            wanted=wanted,
        )
    except AipError as e:
        errors[FORM] = one_line(e)[1]
        plans = []
    leas = district_choices() if person.role.role is not Role.DISTRICT_COORDINATOR else []
    return render_template(
        "review/queue.html",
        plans=plans,
        wanted=wanted,
        errors=errors,
        statuses=STATUSES,
        sorts=SORTS,
        leas=leas,
        today=today,
        fiscal_year=year,
    ), (400 if errors else 200)


def _page(plan_id: int) -> PlanPage:
    return page_of(plan_id, _person().email)


@bp.route("/plans/<int:plan_id>")
@requires()
def plan(plan_id: int) -> Page:
    shown = _page(plan_id)
    prefill = {
        "section": request.args.get("section", "")[:40],
        "cell": request.args.get("cell", "")[:20],
    }
    return _render(shown, errors={}, values=prefill)


def _render(shown: PlanPage, *, errors: dict[str, str], values: dict[str, str]) -> str:
    return render_template(
        "review/plan.html", page=shown, errors=errors, values=values, cell_ref=cell_ref
    )


@bp.route("/plans/<int:plan_id>/comments", methods=["POST"])
@requires()
def comment(plan_id: int) -> Page:
    app = core()
    shown = _page(plan_id)
    if not shown.may_review:
        abort(403, "Your role does not allow reviewing this plan.")
    posted = Posted()
    body = posted.text("body", limit=review.MAX_COMMENT, multiline=True)
    section = posted.text("section", limit=40)
    cell = posted.text("cell", limit=60)
    if not body and "body" not in posted.errors:
        posted.errors["body"] = "Write the comment."
    target = _cell_target(shown, section, cell, posted)
    if not posted.errors:
        try:
            review.add_comment(
                shown.submission.id,
                body,
                author_email=_person().email,
                uow=app.uow,
                config=app.config,
                cell=target,
                section=section or None,
                clock=app.clock,
            )
        except AipError as e:
            status = posted.refused(e, field="cell" if cell else "section" if section else FORM)
            return _render(shown, errors=posted.errors, values=posted.values), status
        flash("Your comment is added. It stays open until a reviewer resolves it.", "success")
        return redirect(url_for("review.plan", plan_id=plan_id) + "#comments")
    return _render(shown, errors=posted.errors, values=posted.values), 400


def _cell_target(shown: PlanPage, section: str, cell: str, posted: Posted) -> str | None:
    """The cell as 'Sheet'!C7: a bare C7 is on the chosen section's sheet; a cell must be
    one the plan's page shows (an answer of this plan)."""
    if not cell:
        return None
    if "!" not in cell:
        chosen = next((s for s in shown.sections if s.key == section), None)
        if chosen is None:
            posted.errors["cell"] = (
                "Choose the section whose sheet holds the cell, or write 'Sheet'!C7."
            )
            return None
        cell = cell_ref(chosen.sheet, cell)
    try:
        sheet, ref = review.split_cell(cell)
    except AipError as e:
        posted.refused(e, field="cell")
        return None
    full = cell_ref(sheet, ref)
    if full not in shown.cell_refs():
        posted.errors["cell"] = f"There is no answer of this plan in cell {full}."
        return None
    return full


@bp.route("/plans/<int:plan_id>/comments/<int:comment_id>/resolve", methods=["POST"])
@requires()
def resolve(plan_id: int, comment_id: int) -> Page:
    app = core()
    shown = _page(plan_id)  # the comment must be one of this plan's
    if not shown.may_review:
        abort(403, "Your role does not allow reviewing this plan.")
    if comment_id not in {c.id for c in shown.comments}:
        abort(404)
    review.resolve_comment(comment_id, reviewer_email=_person().email, uow=app.uow, clock=app.clock)
    flash("The comment is resolved.", "success")
    return redirect(url_for("review.plan", plan_id=plan_id) + "#comments")


@bp.route("/plans/<int:plan_id>/decision", methods=["POST"])
@requires()
def decide(plan_id: int) -> Page:
    app = core()
    shown = _page(plan_id)
    if not shown.may_review:
        abort(403, "Your role does not allow reviewing this plan.")
    posted = Posted()
    choice = posted.text("decision", limit=20)
    reason = posted.text("reason", limit=review.MAX_COMMENT, multiline=True)
    if choice not in ("approve", "return"):
        posted.errors["decision"] = "Choose approve or return."
    elif choice == "return" and not reason and "reason" not in posted.errors:
        posted.errors["reason"] = "Say what the coordinator should change."
    if posted.errors:
        return _render(shown, errors=posted.errors, values=posted.values), 400
    decision = Decision(choice)
    try:
        result = review.decide(
            shown.submission.id,
            decision=decision,
            reviewer_email=_person().email,
            uow=app.uow,
            config=app.config,
            comment=reason or None,
            clock=app.clock,
        )
    except AipError as e:
        status = posted.refused(e)
        return _render(shown, errors=posted.errors, values=posted.values), status
    try:
        review.notify_coordinator(
            result, reason=reason, mailer=app.mailer, base_url=app.settings.base_url
        )
    except AipError as e:
        log.warning("decision mail for plan %s: %s", plan_id, e)
        flash("The decision is recorded, but the coordinator could not be emailed.", "warning")
    done = "approved" if decision is Decision.APPROVE else "returned to the coordinator"
    flash(f"The plan is {done}; {result.submission.uploaded_by} is emailed.", "success")
    return redirect(url_for("review.plan", plan_id=plan_id))


@bp.route("/plans/<int:plan_id>/revision.xlsx")
@requires()
def revision(plan_id: int) -> Page:
    """The revision workbook: the last answers, and the open comments as cell notes."""
    app = core()
    made = revision_for(
        plan_id,
        user_email=_person().email,
        uow=app.uow,
        engine=app.engine,
        config=app.config,
        settings=app.settings,
    )
    return send_file(
        io.BytesIO(made.data), mimetype=XLSX, as_attachment=True, download_name=made.filename
    )
