"""My plans (coordinators): the plans in the acting role's scope, the pre-filled and revision
workbooks, upload with Check only or Submit, the report of a check, the receipt of a submit
and the plan's history. Every plan is found through `home.plan_in_scope` with the acting
role, so another LEA's plan is a 404 and a plan the role only reads cannot be submitted.

A progress update of an approved plan (issue 12) has its own key (`FY2027-school-006001-80`)
and goes through the same pages: its workbook is the progress workbook of the period, its
upload is checked against the progress spec, and a plan workbook uploaded for it (or a
progress workbook for the plan, or another period's) is refused on the report page."""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from werkzeug.wrappers import Response

from aip_forms.errors import Conflict, InvalidInput, NotFound, Unavailable
from aip_forms.services.access import Action, Grant
from aip_forms.services.home import (
    STATUS_WORDS,
    XLSX,
    MyPlan,
    my_plans,
    parent_plan_id,
    plan_in_scope,
    prefilled_workbook,
)
from aip_forms.services.progress import expecting, progress_workbook
from aip_forms.services.submissions import Validator
from aip_forms.services.throttle import TooManyUploads, spend_upload
from aip_forms.services.upload_report import build_report, certification_statement
from validators.validate import Expectation

if TYPE_CHECKING:
    from aip_forms.spec import FormSpec
from web import sessions
from web.access import requires
from web.errors import page
from web.plans import checks
from web.sessions import core

if TYPE_CHECKING:
    from aip_forms.issued_data import PlanData
    from aip_forms.services.access import PlanRef
    from web.sessions import Principal

bp = Blueprint("plans", __name__, url_prefix="/plans")
log = logging.getLogger("aip_forms.web")

Page = str | tuple[str, int] | Response
MiB = 1024 * 1024
UPLOAD_LIMIT = 10 * MiB
UPLOAD_ENDPOINTS = frozenset({"plans.upload"})
CHECK, SUBMIT = "check", "submit"


def allow_uploads() -> None:
    """Raise the request size limit (64 KB elsewhere) to 10 MB for the upload form only.
    Registered before CSRF protection, which is the first to read the form."""
    if request.endpoint in UPLOAD_ENDPOINTS and request.method == "POST":
        request.max_content_length = UPLOAD_LIMIT


@bp.errorhandler(413)
def too_large(error: Exception) -> tuple[str, int]:
    return page(
        413,
        "File too large",
        f"The file is larger than {UPLOAD_LIMIT // MiB} MB, the most an upload may be; nothing "
        "was stored. A plan workbook is usually well under 1 MB: delete pictures or sheets you "
        "added, save it as Excel Workbook (.xlsx) and upload it again.",
    )


def _person() -> Principal:
    person = sessions.principal()
    assert person is not None and person.role is not None  # the policy saw to it
    return person


def _role() -> Grant:
    role = _person().role
    assert role is not None
    return role


def _plan(key: str, action: Action = Action.READ) -> MyPlan:
    app = core()
    today = app.clock().date()
    return plan_in_scope(key[:64], _role(), today, uow=app.uow, config=app.config, action=action)


def _xlsx(data: bytes, filename: str) -> Response:
    response = send_file(
        io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=filename
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- my plans and workbooks -----------------------------------------------------------------


@bp.route("")
@requires()
def mine() -> Page:
    app = core()
    today = app.clock().date()
    plans = my_plans(_role(), today, uow=app.uow, config=app.config)
    return render_template("plans/list.html", plans=plans, today=today)


def _spec(mine: MyPlan) -> FormSpec:
    """The spec of what is uploaded here: the plan's, or its progress update's."""
    return core().config.form_spec(mine.ref.kind, mine.ref.period)


def _validator(mine: MyPlan) -> Validator:
    app = core()
    return expecting(app.validator, app.config, mine.ref)


def _not_issued(mine: MyPlan) -> Conflict:
    if mine.plan_status != "approved":
        return Conflict(
            f"The {mine.what} is reported once the plan is approved; the plan is "
            f"{STATUS_WORDS.get(mine.plan_status, mine.plan_status)}."
        )
    return Conflict(
        f"{core().config.agency_short} has not loaded the "
        f"{mine.what.replace(' progress update', '')} attendance data yet; the progress "
        "workbook is issued once it has. Nothing was stored."
    )


@bp.route("/<key>/workbook")
@requires()
def workbook(key: str) -> Page:
    mine = _plan(key)
    app = core()
    if mine.period is not None:
        plan_id = parent_plan_id(mine, uow=app.uow)
        if plan_id is None or not mine.issued:
            raise _not_issued(mine)
        name, data = progress_workbook(
            plan_id,
            mine.period.code,
            uow=app.uow,
            config=app.config,
            settings=app.settings,
            user_email=_person().email,
        )
        return _xlsx(data, f"FY{mine.fiscal_year}-{name}")
    made = prefilled_workbook(mine.ref, engine=app.engine, config=app.config, settings=app.settings)
    return _xlsx(made.data, made.filename)


@bp.route("/<key>/revision")
@requires()
def revision(key: str) -> Page:
    from aip_forms.data.queries import plan_data
    from aip_forms.services.revision import revision_workbook

    mine = _plan(key)
    if mine.period is not None:
        raise NotFound(
            "A progress update has no revision workbook: download its progress workbook again "
            "from My plans, make the changes the reviewer asked for and upload it."
        )
    if mine.row.plan_id is None:
        raise NotFound("This plan has no uploaded version yet, so there is nothing to revise.")
    app = core()

    def data_of(ref: PlanRef) -> PlanData:
        return plan_data(app.engine, app.config, ref.fiscal_year, ref.lea_code, ref.school_code)

    made = revision_workbook(
        mine.row.plan_id,
        uow=app.uow,
        plan_data=data_of,
        config=app.config,
        settings=app.settings,
        user_email=_person().email,
    )
    return _xlsx(made.data, made.filename)


# ---- upload, check, submit ------------------------------------------------------------------


def _upload_page(mine: MyPlan, errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    statement = certification_statement(_spec(mine))
    refusal = "" if mine.issued else str(_not_issued(mine))
    return render_template(
        "plans/upload.html", plan=mine, statement=statement, errors=errors, refusal=refusal
    ), (409 if refusal and status == 200 else status)


@bp.route("/<key>/upload", methods=["GET", "POST"])
@requires()
def upload(key: str) -> Page:
    mine = _plan(key, Action.SUBMIT)
    if request.method == "GET" or not mine.issued:
        return _upload_page(mine, {})
    action = request.form.get("action", "")
    upload = request.files.get("workbook")
    statement = certification_statement(_spec(mine))
    errors: dict[str, str] = {}
    if upload is None or not upload.filename:
        what = "progress workbook" if mine.period else "plan workbook"
        errors["workbook"] = f"Choose the {what} (.xlsx) to upload."
    if action not in (CHECK, SUBMIT):
        errors["action"] = "Choose Check only or Submit."
    elif action == SUBMIT and request.form.get("certify") != "yes":
        errors["certify"] = f"To submit, tick “{statement}”, or choose Check only."
    if errors:
        return _upload_page(mine, errors, 400)
    assert upload is not None
    person = _person()
    try:
        _spend_upload()
    except TooManyUploads as e:
        text, status = _upload_page(mine, {"workbook": _sentence(str(e))}, 429)
        return Response(text, status, {"Retry-After": str(e.retry_after)}, mimetype="text/html")
    check, data = checks.save_upload(upload, plan_key=mine.key, user_id=person.user_id)
    if action == SUBMIT:
        return _submit(mine, check, data)
    report = _validator(mine)(data, filename=check.filename, expect=_expectation(mine), final=True)
    check.report = report.to_dict()
    checks.record(check)
    return redirect(url_for("plans.report", key=mine.key, check_id=check.id))


def _spend_upload() -> None:
    """Count this upload in the user's quotas (AccountPolicy.uploads_per_*); TooManyUploads
    when over."""
    app = core()
    spend_upload(app.throttle, _person().email, app.accounts, app.clock())


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _expectation(mine: MyPlan) -> Expectation:
    ref = mine.ref
    return Expectation(ref.kind, ref.fiscal_year, ref.lea_code, ref.school_code or "", ref.period)


def _check(mine: MyPlan, check_id: str) -> checks.Check:
    found = checks.find(check_id[:64], plan_key=mine.key, user_id=_person().user_id)
    if found is None:
        raise NotFound(
            "This check is not available: it may have expired, or it belongs to another "
            "session. Upload the workbook again."
        )
    return found


def _draw_charts(plan_id: int, version: int) -> None:
    """Draw the new version's charts after the answer, so that its documents read them
    (issue 13) and the coordinator does not wait for them; a render draws any still
    missing."""
    from aip_forms.services.documents import charts_after_submit

    app = core()
    app.afterwards.submit(
        lambda: charts_after_submit(
            plan_id,
            version,
            uow=app.uow,
            store=app.store,
            engine=app.engine,
            config=app.config,
            key=app.settings.secret_key,
        ),
        f"drawing the charts of plan {plan_id} version {version}",
    )


def _submit(mine: MyPlan, check: checks.Check, data: bytes) -> Page:
    from aip_forms.services.receipts import submit_with_receipt

    if check.submission_id is not None:  # a second click: the same receipt
        return redirect(url_for("plans.receipt", key=mine.key, submission_id=check.submission_id))
    app, person = core(), _person()
    done = submit_with_receipt(
        data,
        plan=mine.ref,
        plan_name=_plan_name(mine),
        user_email=person.email,
        filename=check.filename,
        uow=app.uow,
        store=app.store,
        validate=_validator(mine),
        mailer=app.mailer,
        link=app.settings.base_url.rstrip("/") + url_for("plans.history", key=mine.key),
        clock=app.clock,
    )
    result = done.result
    if result.report is not None:
        check.report = result.report.to_dict()
    if result.outcome == "failed":
        checks.record(check)
        log.warning("submit of %s failed: %s", mine.key, result.message)
        raise Unavailable(
            "The plan could not be stored just now (storage or the database did not answer); "
            "nothing was stored. Your checked file is kept: open its report and choose Submit "
            "again in a few minutes."
        )
    if result.ok and result.submission is not None:
        check.submission_id = result.submission.id
        check.refusal = ""
        checks.record(check)
        if result.outcome == "stored":
            _draw_charts(result.submission.plan.id, result.submission.version)
        if result.outcome == "unchanged":
            flash("This file is identical to the version already stored; nothing new was "
                  "stored.", "info")  # fmt: skip
        elif done.mailed:
            flash(f"Your {_thing(mine)} is submitted. A receipt was emailed to {person.email}.",
                  "success")  # fmt: skip
        else:
            flash(f"Your {_thing(mine)} is submitted, but the receipt email could not be sent: "
                  "keep this page as your receipt.", "warning")  # fmt: skip
        return redirect(url_for("plans.receipt", key=mine.key, submission_id=check.submission_id))
    if result.outcome == "refused":
        check.refusal = result.message[:1].upper() + result.message[1:]
    checks.record(check)
    return redirect(url_for("plans.report", key=mine.key, check_id=check.id))


def _thing(mine: MyPlan) -> str:
    return "progress update" if mine.period else "plan"


def _plan_name(mine: MyPlan) -> str:
    kind = "district plan" if mine.row.school_code is None else "school plan"
    if mine.period is not None:
        return f"FY{mine.fiscal_year} {mine.period.label} progress update of the {kind} of " + (
            mine.row.name
        )
    return f"FY{mine.fiscal_year} {kind} of {mine.row.name}"


@bp.route("/<key>/checks/<check_id>")
@requires()
def report(key: str, check_id: str) -> Page:
    mine = _plan(key)
    return _report_page(mine, _check(mine, check_id), {})


def _report_page(
    mine: MyPlan, check: checks.Check, errors: dict[str, str], status: int = 200
) -> tuple[str, int]:
    spec = _spec(mine)
    shown = build_report(check.report, checks.data_of(check), spec)
    return render_template(
        "plans/report.html",
        plan=mine,
        check=check,
        report=shown,
        statement=certification_statement(spec),
        errors=errors,
    ), status


@bp.route("/<key>/checks/<check_id>/submit", methods=["POST"])
@requires()
def submit_checked(key: str, check_id: str) -> Page:
    mine = _plan(key, Action.SUBMIT)
    check = _check(mine, check_id)
    if check.submission_id is not None:
        return redirect(url_for("plans.receipt", key=mine.key, submission_id=check.submission_id))
    if request.form.get("certify") != "yes":
        statement = certification_statement(_spec(mine))
        errors = {"certify": f"To submit, tick “{statement}”."}
        return _report_page(mine, check, errors, 400)
    data = checks.data_of(check)
    if data is None:
        raise NotFound("The checked file is no longer kept. Upload the workbook again.")
    _spend_upload()  # submitting parses the file again
    return _submit(mine, check, data)


@bp.route("/<key>/checks/<check_id>/annotated")
@requires()
def annotated(key: str, check_id: str) -> Page:
    from aip_forms.services.upload_report import annotated_workbook

    mine = _plan(key)
    check = _check(mine, check_id)
    data = checks.data_of(check)
    if data is None:
        raise NotFound("The checked file is no longer kept. Upload the workbook again.")
    stem = check.filename.rsplit(".", 1)[0] or "workbook"
    return _xlsx(annotated_workbook(data, check.report), f"{stem}-checked.xlsx")


# ---- receipt and history --------------------------------------------------------------------


@bp.route("/<key>/versions/<int:submission_id>")
@requires()
def receipt(key: str, submission_id: int) -> Page:
    from aip_forms.services.receipts import submission_record

    mine = _plan(key)
    view = submission_record(submission_id, uow=core().uow, user_email=_person().email)
    if view.plan.id != mine.row.plan_id:
        raise NotFound("There is no such version of this plan.")
    return render_template("plans/receipt.html", plan=mine, version=view)


@bp.route("/<key>/history")
@requires()
def history(key: str) -> Page:
    from aip_forms.services.diff import diff_submissions
    from aip_forms.services.history import plan_history

    mine = _plan(key)
    app, person = core(), _person()
    found = plan_history(mine.row.plan_id, uow=app.uow, user_email=person.email)
    ids = {v.id for v in found.versions}
    compare = None
    first, second = request.args.get("from", ""), request.args.get("to", "")
    if first or second:
        if not (first.isdigit() and second.isdigit()) or {int(first), int(second)} - ids:
            raise InvalidInput("Choose two versions of this plan to compare.")
        if first == second:
            raise InvalidInput("Choose two different versions to compare.")
        compare = diff_submissions(
            int(first), int(second), uow=app.uow, config=app.config, user_email=person.email
        )
    return render_template("plans/history.html", plan=mine, history=found, compare=compare)
