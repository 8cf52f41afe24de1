"""Every page of the portal with hostile values in its address and query: as the PED
coordinator and as a school coordinator, each GET route (from `app.url_map`) is asked for
with each value below in every path argument it can take and in every query parameter the
pages read. No answer may be a 500 or show a traceback, and no value may come back
unescaped in a page. The JSON API's GET routes are walked too, with a token (its schema
has its own walk: `test_web_api_schema.py`). Found this way: an id too long for the
database's integer was a 500 on every `<int:...>` route (`web.routing.RecordId`)."""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import BuildError, Rule

from aip_forms.services.tokens import create_token
from tests.support.plans import submitted
from tests.support.web import Portal, open_session, portal
from web.access import TOKEN

__all__ = ["portal"]

HOSTILE = (
    "",
    "-1",
    "99999999999999999999999",
    "\x00",
    "%00",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "' OR '1'='1",
    "é" * 400,
    "{{7*7}}",
    "'1 Contact Information'!C5",
    "2027\r\nX-Injected: 1",
    "FY2027-school-006001-80-x",
)
# Every query parameter a page reads (dashboards, review queue, print, history, comments).
QUERY = (
    "fy", "period", "lea", "status", "sort", "overdue", "section", "cell", "format",
    "sections", "report", "next", "compare", "first", "second", "version", "days", "key",
)  # fmt: skip
ROLES = ("ped@ped.nm.gov", "school@belen.org")


def _path(rule: Rule, value: str) -> str | None:
    """The rule's address with `value` in every argument that takes it (else "1")."""
    arguments = dict.fromkeys(rule.arguments, "1")
    if "action" in arguments:
        arguments["action"] = "reactivate"
    for name in rule.arguments:
        for candidate in (value, "1", "FY2027-school-006001"):
            try:
                rule.build({**arguments, name: candidate})
            except (BuildError, ValueError, TypeError):
                continue
            arguments[name] = candidate
            break
    try:
        built = rule.build(arguments)
    except (BuildError, ValueError, TypeError):
        return None
    return built[1] if built else None


@pytest.mark.parametrize("email", ROLES)
def test_no_page_fails_on_hostile_addresses_or_queries(portal: Portal, email: str) -> None:
    from aip_forms.domain import PlanKind
    from aip_forms.services.access import PlanRef

    submitted(portal.core, PlanRef(PlanKind.SCHOOL, 2027, "006", "006001"), "school@belen.org")
    client = portal.client()
    _, secret = create_token(email, "walk", ["plans:read", "documents:read"], uow=portal.core.uow)
    rules = [
        r
        for r in portal.flask.url_map.iter_rules()
        if r.endpoint not in ("static", "auth.sign_out") and "GET" in (r.methods or ())
    ]
    assert len(rules) > 30
    failures, walked = [], 0
    for rule in rules:
        api = portal.flask.view_functions[rule.endpoint].access_policy.who == TOKEN  # type: ignore[attr-defined]
        headers = {"Authorization": f"Bearer {secret}"} if api else {}
        for value in HOSTILE:
            path = _path(rule, value)
            if path is None:
                continue
            open_session(portal, client, email)
            r = client.get(path, query_string=dict.fromkeys(QUERY, value), headers=headers)
            walked += 1
            body = r.get_data()  # a page, or a workbook or document downloaded
            echoed = r.mimetype == "text/html" and b"<script>alert(1)" in body  # JSON may quote
            if r.status_code >= 500 or b"Traceback" in body or echoed:
                failures.append((rule.rule, repr(value)[:40], r.status_code))
    assert walked > 40 * len(HOSTILE), walked  # every route, nearly every value
    assert failures == [], "\n".join(map(str, failures))


# Every form field name the portal's templates use.
FIELDS = (
    "action", "audience", "body", "cell", "certify", "code", "confirm", "current", "days",
    "decision", "due_on", "email", "ends_on", "first_name", "fiscal_year", "format", "from",
    "fy", "grant", "last_name", "lea", "lea_code", "name", "next", "password", "period",
    "phone", "reason", "report", "role", "school_code", "scope", "scopes", "section",
    "sections", "starts_on", "title", "to", "which",
)  # fmt: skip
# Routes whose effect would end the walk itself: the session or the walker's own account.
ENDS_WALK = ("auth.sign_out", "admin.account_status", "admin.revoke")


@pytest.mark.parametrize("email", (*ROLES, "district@belen.org"))
def test_no_form_fails_on_hostile_values(portal: Portal, email: str) -> None:
    """Every POST route, with each hostile value in every field a form of the portal has
    (files left out: uploads have their own hostile suites) and a valid CSRF token."""
    from aip_forms.domain import PlanKind
    from aip_forms.services.access import PlanRef

    submitted(portal.core, PlanRef(PlanKind.SCHOOL, 2027, "006", "006001"), "school@belen.org")
    client = portal.client()
    rules = [
        r
        for r in portal.flask.url_map.iter_rules()
        if "POST" in (r.methods or ())
        and r.endpoint not in ENDS_WALK
        and not r.rule.startswith("/api/")
    ]
    assert len(rules) > 20, [r.endpoint for r in rules]
    failures = []
    for rule in rules:
        path = _path(rule, "1")
        assert path is not None, rule
        for value in HOSTILE:
            open_session(portal, client, email)
            page = client.get("/account/tokens")  # a page with a form: a fresh CSRF token
            found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
            assert found
            r = client.post(path, data={**dict.fromkeys(FIELDS, value), "csrf_token": found[1]})
            body = r.get_data()
            echoed = r.mimetype == "text/html" and b"<script>alert(1)" in body
            if r.status_code >= 500 or b"Traceback" in body or echoed:
                failures.append((rule.rule, repr(value)[:40], r.status_code))
    assert failures == [], "\n".join(map(str, failures))
