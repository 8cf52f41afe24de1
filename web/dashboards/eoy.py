"""The end-of-year public report in the portal (issue 12 point 5, NMSA 22-12A-7):
`/reports/eoy` asks for a fiscal year, a scope and a format (a GET form: it changes
nothing) and sends the report made by `services.eoy_report`, as PDF or .xlsx.

PED (coordinator and reviewer) may download the statewide report and any LEA's; a district
coordinator their own LEA's. The service checks the scope on every request; a refusal is
shown beside the field it concerns, with the error table's status (400, 403, 404)."""

from __future__ import annotations

import io

from flask import Blueprint, render_template, request, send_file
from werkzeug.wrappers import Response

from aip_forms.errors import AipError, one_line
from aip_forms.services.access import Role
from aip_forms.services.eoy_report import FORMATS, NoResults, eoy_report, report_document
from aip_forms.services.home import fiscal_year_of
from web import sessions
from web.access import requires
from web.lookups import district_choices
from web.sessions import core

bp = Blueprint("eoy", __name__, url_prefix="/reports")

Page = str | tuple[str, int] | Response
STATEWIDE = "statewide"
MIMETYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMAT_CHOICES = [("pdf", "PDF"), ("xlsx", "Excel workbook (.xlsx)")]
PED = (Role.PED_COORDINATOR, Role.PED_REVIEWER)


def _scopes() -> list[tuple[str, str]]:
    person = sessions.principal()
    assert person is not None and person.role is not None  # the policy saw to it
    if person.role.role is Role.DISTRICT_COORDINATOR:
        return [(c, label) for c, label in district_choices() if c == person.role.lea_code]
    return [(STATEWIDE, "Statewide (every LEA)"), *district_choices()]


@bp.route("/eoy")
@requires(Role.DISTRICT_COORDINATOR, *PED)
def report() -> Page:
    app = core()
    scopes = _scopes()
    values = {
        "fy": (request.args.get("fy") or str(fiscal_year_of(app.clock().date())))[:8].strip(),
        "scope": (request.args.get("scope") or (scopes[0][0] if len(scopes) == 1 else ""))[:16],
        "format": (request.args.get("format") or "pdf")[:8],
    }
    if "fy" not in request.args:  # the form, not yet sent
        return _page({}, values, scopes)
    errors = {}
    fy = values["fy"].upper().removeprefix("FY")
    if not fy.isdigit() or not 2000 <= int(fy) <= 2999:
        errors["fy"] = "Write the fiscal year as four digits, such as 2027."
    if not values["scope"]:
        errors["scope"] = "Choose statewide or a district."
    if values["format"] not in FORMATS:
        errors["format"] = "Choose PDF or Excel."
    if errors:
        return _page(errors, values, scopes, 400)
    scope = values["scope"]
    person = sessions.principal()
    assert person is not None
    try:
        found = eoy_report(
            engine=app.engine,
            uow=app.uow,
            config=app.config,
            fiscal_year=int(fy),
            lea_code=None if scope == STATEWIDE else scope,
            grant=person.role,
        )
        content = report_document(found, values["format"], app.converter)
    except AipError as e:
        outcome, message = one_line(e)
        field = "fy" if isinstance(e, NoResults) else "scope"
        return _page({field: message[:1].upper() + message[1:]}, values, scopes,
                     outcome.http_status)  # fmt: skip
    return send_file(
        io.BytesIO(content),
        mimetype=MIMETYPES[values["format"]],
        as_attachment=True,
        download_name=f"{found.file_stem}.{values['format']}",
    )


def _page(
    errors: dict[str, str], values: dict[str, str], scopes: list[tuple[str, str]], status: int = 200
) -> Page:
    return render_template(
        "documents/eoy.html", errors=errors, values=values, scopes=scopes, formats=FORMAT_CHOICES
    ), status
