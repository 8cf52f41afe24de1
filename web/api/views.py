"""The machine API, `/api/v1`: JSON over personal access tokens (`Authorization: Bearer
aip_...`; no cookies, no CSRF). Every endpoint declares the token scope it needs
(`requires_token`) and calls the same services as the pages, which check the token's user's
roles against each plan. Errors are `{"error": {"kind", "message"}}` with the error table's
HTTP status (`aip_forms.errors`); the OpenAPI document (`openapi.py`) describes all of it.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from typing import Any

from flask import Blueprint, jsonify, request, send_file
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from aip_forms.errors import InvalidInput, TooManyRequests, as_aip_error, one_line
from aip_forms.services import documents
from aip_forms.services.plan_files import (
    check_upload,
    plan_versions,
    prefilled_workbook,
    revision_for,
)
from aip_forms.services.plan_index import PlanEntry, plans_in_scope
from aip_forms.services.submissions import get_submission, stored_report, submit
from aip_forms.services.throttle import spend_upload
from web.access import PUBLIC, requires, requires_token
from web.api.auth import api_user, error_response
from web.plan_calls import rendered
from web.sessions import core

bp = Blueprint("api", __name__, url_prefix="/api/v1")
log = logging.getLogger("aip_forms.web")

MAX_UPLOAD = 10 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCUMENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
SUBMIT_STATUS = {
    "stored": 201,
    "finalized": 200,
    "unchanged": 200,
    "invalid": 422,
    "unreadable": 422,
    "refused": 409,
    "failed": 503,
}


@bp.before_request
def _limits() -> None:
    request.max_content_length = MAX_UPLOAD  # a workbook; the portal's forms keep 64 KiB


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    return http_error_json(error)


def http_error_json(error: HTTPException) -> Response:
    status = error.code or 500
    messages = {
        404: "there is nothing at this address",
        405: "this address does not accept that method",
        413: f"the upload is larger than {MAX_UPLOAD // (1024 * 1024)} MB",
    }
    return error_response(status, error.name.replace(" ", ""), messages.get(status, error.name))


@bp.errorhandler(Exception)
def _error(error: Exception) -> Response:
    outcome, message = one_line(error)
    found = as_aip_error(error)
    if found is None:
        log.error("api error: %s", message, exc_info=error)
        return error_response(500, "Internal", "something went wrong on our side; try again")
    response = error_response(outcome.http_status, type(found).__name__, message)
    if isinstance(found, TooManyRequests):
        response.headers["Retry-After"] = str(found.retry_after)
    return response


@bp.route("/openapi.json")
@requires(PUBLIC)
def openapi() -> Response:
    from web.api.openapi import document

    return jsonify(document(request.host_url.rstrip("/"), core().config.owner))


def _when(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _plan_json(p: PlanEntry) -> dict[str, Any]:
    return {
        "id": p.id,
        "kind": p.kind.value,
        "fiscal_year": p.fiscal_year,
        "lea_code": p.lea_code,
        "lea_name": p.lea_name,
        "school_code": p.school_code,
        "school_name": p.school_name,
        "period": p.period,
        "status": p.status.value,
        "deadline": p.deadline.isoformat(),
        "latest_version": p.latest_version,
        "submitted_at": _when(p.submitted_at),
        "open_comments": p.open_comments,
    }


def _int_arg(name: str, low: int, high: int) -> int | None:
    text = request.args.get(name)
    if text is None:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidInput(f"{name} is a number from {low} to {high}, not {text[:20]!r}")
    return int(text)


@bp.route("/plans")
@requires_token("plans:read")
def plans() -> Response:
    app = core()
    year = _int_arg("fiscal_year", 2000, 2999)
    found = plans_in_scope(api_user(), uow=app.uow, config=app.config, fiscal_year=year)
    return jsonify({"plans": [_plan_json(p) for p in found]})


@bp.route("/plans/<int:plan_id>")
@requires_token("plans:read")
def plan(plan_id: int) -> Response:
    view, versions = plan_versions(plan_id, user_email=api_user(), uow=core().uow)
    ref = view.ref
    return jsonify(
        {
            "id": view.id,
            "kind": ref.kind.value,
            "fiscal_year": ref.fiscal_year,
            "lea_code": ref.lea_code,
            "school_code": ref.school_code,
            "period": ref.period,
            "status": view.status.value,
            "versions": [
                {
                    "submission_id": v.submission_id,
                    "version": v.version,
                    "status": v.status,
                    "final": v.final,
                    "valid": v.valid,
                    "uploaded_by": v.uploaded_by,
                    "uploaded_at": _when(v.uploaded_at),
                    "sha256": v.sha256,
                    "size": v.size,
                }
                for v in versions
            ],
        }
    )


@bp.route("/plans/<int:plan_id>/workbook")
@requires_token("plans:read")
def workbook(plan_id: int) -> Response:
    app = core()
    which = request.args.get("which", "latest")
    if which == "latest":
        _, versions = plan_versions(plan_id, user_email=api_user(), uow=app.uow)
        latest = versions[-1]  # a plan record exists only with a version
        view, data = get_submission(
            latest.submission_id, uow=app.uow, store=app.store, user_email=api_user()
        )
        name = view.filename or f"plan-{plan_id}-v{view.version}.xlsx"
    elif which == "prefilled":
        name, data = prefilled_workbook(
            plan_id,
            user_email=api_user(),
            uow=app.uow,
            engine=app.engine,
            config=app.config,
            settings=app.settings,
        )
    elif which == "revision":
        made = revision_for(
            plan_id,
            user_email=api_user(),
            uow=app.uow,
            engine=app.engine,
            config=app.config,
            settings=app.settings,
        )
        name, data = made.filename, made.data
    else:
        raise InvalidInput(f"which is latest, prefilled or revision, not {which[:40]!r}")
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=name)


@bp.route("/plans/<int:plan_id>/report")
@requires_token("plans:read")
def plan_report(plan_id: int) -> Response:
    _, versions = plan_versions(plan_id, user_email=api_user(), uow=core().uow)
    return submission(versions[-1].submission_id)


@bp.route("/submissions/<int:submission_id>")
@requires_token("plans:read")
def submission(submission_id: int) -> Response:
    view, report = stored_report(submission_id, uow=core().uow, user_email=api_user())
    return jsonify(
        {
            "submission_id": view.id,
            "plan_id": view.plan.id,
            "version": view.version,
            "status": view.status,
            "plan_status": view.plan.status.value,
            "final": view.final,
            "uploaded_by": view.uploaded_by,
            "uploaded_at": _when(view.uploaded_at),
            "sha256": view.sha256,
            "report": report,
        }
    )


@bp.route("/plans/<int:plan_id>/document")
@requires_token("documents:read")
def document(plan_id: int) -> Response:
    fmt = request.args.get("format", "pdf")
    if fmt not in DOCUMENT_TYPES:
        raise InvalidInput(f"format is pdf or docx, not {fmt[:20]!r}")
    sections = request.args.get("sections") or None
    keys = documents.check_sections(sections[:400]) if sections else None
    made = rendered(plan_id, api_user(), fmt, keys)
    return send_file(
        io.BytesIO(made.content),
        mimetype=DOCUMENT_TYPES[fmt],
        as_attachment=True,
        download_name=made.file_name,
    )


@bp.route("/uploads", methods=["POST"])
@requires_token("plans:write")
def upload() -> Response:
    """A workbook (multipart field `file`), checked (`mode=check`, nothing stored) or
    submitted for review (`mode=submit`, the certification must be in the workbook)."""
    app = core()
    mode = request.form.get("mode", "check")
    if mode not in ("check", "submit"):
        raise InvalidInput(f"mode is check or submit, not {mode[:20]!r}")
    sent = request.files.get("file")
    if sent is None:
        raise InvalidInput("send the workbook as the multipart field 'file'")
    data = sent.stream.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise InvalidInput(f"the upload is larger than {MAX_UPLOAD // (1024 * 1024)} MB")
    filename = (sent.filename or "upload.xlsx")[-255:]
    spend_upload(app.throttle, api_user(), app.accounts, app.clock())
    if mode == "check":
        report = check_upload(
            data, filename=filename, user_email=api_user(), uow=app.uow, validate=app.validator
        )
        return jsonify({"outcome": report.outcome, "report": report.to_dict()})
    result = submit(
        data,
        user_email=api_user(),
        uow=app.uow,
        store=app.store,
        validate=app.validator,
        final=True,
        filename=filename,
        clock=app.clock,
    )
    body: dict[str, Any] = {
        "outcome": result.outcome,
        "message": result.message,
        "report": result.report.to_dict() if result.report else None,
        "submission": None,
    }
    if result.submission is not None:
        s = result.submission
        body["submission"] = {
            "submission_id": s.id,
            "plan_id": s.plan.id,
            "version": s.version,
            "status": s.status,
            "plan_status": s.plan.status.value,
            "sha256": s.sha256,
            "uploaded_at": _when(s.uploaded_at),
        }
    response = jsonify(body)
    response.status_code = SUBMIT_STATUS[result.outcome]
    return response
