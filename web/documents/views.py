"""Documents (user guide 3.8 and 4.8): Print Plan, and the background jobs.

- `/plans/<id>/print`: the full report with charts, or a custom report of the ticked
  sections, as PDF or Word (`documents.render_stored`), made on request and sent as a
  download; the user must be able to read the plan, checked by the service every time;
- `/documents`: ask for the district packet (a district coordinator's own LEA, or any for
  PED) or the statewide summary (PED), made by a background job;
- `/jobs/<id>`: the job's progress (a `<progress>` bar; the page reloads itself with a meta
  refresh while the job runs, no script needed) and its download when done, which is what
  the job's mail links to. A job is visible to its requester and PED only; anyone else gets
  the page for an unknown job. Every download is read through the store (which re-hashes it)
  and checked for access on that request.
"""

from __future__ import annotations

import io

from flask import Blueprint, redirect, render_template, request, send_file, url_for
from werkzeug.wrappers import Response

from aip_forms.errors import AipError
from aip_forms.jobs.service import job_result, job_status, request_packet, request_statewide
from aip_forms.services.access import Role
from aip_forms.services.home import fiscal_year_of
from exports import layout
from web import sessions
from web.access import requires
from web.forms import FORM, Posted
from web.lookups import district_choices
from web.plan_calls import page_of, rendered
from web.sessions import core

bp = Blueprint("documents", __name__)

Page = str | tuple[str, int] | Response
MIMETYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMAT_NAMES = {"pdf": "PDF", "docx": "Word (DOCX)"}
PED = (Role.PED_COORDINATOR, Role.PED_REVIEWER)


def _person() -> sessions.Principal:
    person = sessions.principal()
    assert person is not None and person.role is not None  # the policy saw to it
    return person


def _section_choices(plan_id: int) -> tuple[str, list[tuple[str, str]]]:
    """The plan's name and its printable sections (key, label), read as the user."""
    app = core()
    shown = page_of(plan_id, _person().email)
    titles = {s.key: s.title for s in shown.sections}
    titles.update(layout.EXTRA_SECTIONS)
    keys = layout.section_keys(app.config.spec(shown.ref.kind))
    choices = [(k, titles.get(k, k)) for k in keys]
    choices += [(k, label[:1].upper() + label[1:]) for k, label in layout.FLAGS.items()]
    return f"{shown.name}, FY{shown.ref.fiscal_year} {shown.ref.kind.value} plan", choices


@bp.route("/plans/<int:plan_id>/print", methods=["GET", "POST"])
@requires()
def print_plan(plan_id: int) -> Page:
    title, choices = _section_choices(plan_id)
    posted = Posted()
    values = {"report": "full", "format": "pdf", "sections": [k for k, _ in choices]}
    if request.method == "GET":
        return render_template(
            "documents/print.html", title=title, choices=choices, errors={}, values=values
        )
    report = posted.text("report", limit=10)
    fmt = posted.text("format", limit=10)
    ticked = [s[:40] for s in request.form.getlist("sections")[:40]]
    values = {"report": report, "format": fmt, "sections": ticked}
    if report not in ("full", "custom"):
        posted.errors["report"] = "Choose the full report or a custom report."
    if fmt not in FORMAT_NAMES:
        posted.errors["format"] = "Choose PDF or Word."
    if report == "custom" and not ticked:
        posted.errors["sections"] = "Tick at least one section for a custom report."
    if not posted.errors:
        try:
            made = rendered(plan_id, _person().email, fmt, ticked if report == "custom" else None)
        except AipError as e:
            status = posted.refused(e, field="sections" if report == "custom" else FORM)
        else:
            return send_file(
                io.BytesIO(made.content),
                mimetype=MIMETYPES[fmt],
                as_attachment=True,
                download_name=made.file_name,
            )
    else:
        status = 400
    return render_template(
        "documents/print.html", title=title, choices=choices, errors=posted.errors, values=values
    ), status


@bp.route("/documents", methods=["GET"])
@requires(Role.DISTRICT_COORDINATOR, *PED)
def compiled() -> Page:
    return _compiled_page({}, {})


def _compiled_page(errors: dict[str, str], values: dict[str, str], status: int = 200) -> Page:
    person = _person()
    assert person.role is not None
    year = fiscal_year_of(core().clock().date())
    if person.role.role is Role.DISTRICT_COORDINATOR:
        leas = [(c, label) for c, label in district_choices() if c == person.role.lea_code]
    else:
        leas = district_choices()
    return render_template(
        "documents/compiled.html",
        errors=errors,
        values={"fiscal_year": str(year), **values},
        leas=leas,
        ped=person.role.role in PED,
    ), status


def _fiscal_year(posted: Posted) -> int | None:
    text = posted.text("fiscal_year", limit=4)
    if not text.isdigit() or not 2000 <= int(text) <= 2999:
        posted.errors["fiscal_year"] = "Write the fiscal year as four digits, such as 2027."
        return None
    return int(text)


@bp.route("/documents/packet", methods=["POST"])
@requires(Role.DISTRICT_COORDINATOR, *PED)
def packet() -> Page:
    posted = Posted()
    year = _fiscal_year(posted)
    lea = posted.text("lea_code", limit=10)
    if not lea:
        posted.errors["lea_code"] = "Choose the district."
    if posted.errors or year is None:
        return _compiled_page(posted.errors, posted.values, 400)
    app = core()
    try:
        job = request_packet(
            year, lea, user_email=_person().email, uow=app.uow, queue=app.queue, clock=app.clock
        )
    except AipError as e:
        status = posted.refused(e, field="lea_code")
        return _compiled_page(posted.errors, posted.values, status)
    return redirect(url_for("documents.job", job_id=job.id))


@bp.route("/documents/statewide", methods=["POST"])
@requires(*PED)
def statewide() -> Page:
    posted = Posted()
    year = _fiscal_year(posted)
    if posted.errors or year is None:
        return _compiled_page({"statewide_" + k: v for k, v in posted.errors.items()}, {}, 400)
    app = core()
    try:
        job = request_statewide(
            year, user_email=_person().email, uow=app.uow, queue=app.queue, clock=app.clock
        )
    except AipError as e:
        status = posted.refused(e, field="statewide_fiscal_year")
        return _compiled_page(posted.errors, {}, status)
    return redirect(url_for("documents.job", job_id=job.id))


@bp.route("/jobs/<job_id>")
@requires()
def job(job_id: str) -> Page:
    found = job_status(job_id[:64], user_email=_person().email, uow=core().uow)
    return render_template("documents/job.html", job=found)


@bp.route("/jobs/<job_id>/download")
@requires()
def job_download(job_id: str) -> Page:
    app = core()
    filename, data = job_result(
        job_id[:64], user_email=_person().email, uow=app.uow, store=app.store
    )
    fmt = filename.rpartition(".")[2]
    return send_file(
        io.BytesIO(data),
        mimetype=MIMETYPES.get(fmt, "application/octet-stream"),
        as_attachment=True,
        download_name=filename,
    )
