"""The access walk: every route of the portal (from `app.url_map`), as an anonymous visitor
and as every role, gets what the one policy says: the page, a redirect to sign-in, or 403.
The plan routes are walked as every role for a plan of its own and another LEA's: no read or
write outside the role's scope."""

from __future__ import annotations

import io

import openpyxl
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from aip_forms.db.models import SubmissionRow
from aip_forms.domain import PlanKind
from aip_forms.jobs.queues import InlineQueue
from aip_forms.jobs.service import request_statewide
from aip_forms.services.access import Action, PlanRef, can
from tests.support.plans import DISTRICT, OTHER_SCHOOL, SCHOOL, complete, submitted
from tests.support.review_world import ROLES as WORLD_ROLES
from tests.support.review_world import World, world
from tests.support.web import Portal, open_session, portal, text, token
from web.access import ACTING, PUBLIC, TOKEN, Policy

__all__ = ["portal", "world"]

ROLES = {
    "ped_coordinator": "ped@ped.nm.gov",
    "ped_reviewer": "reader@ped.nm.gov",
    "district_coordinator": "district@belen.org",
    "school_coordinator": "school@belen.org",
}
ARGUMENTS = {"token": "not-a-real-token", "action": "deactivate"}


@pytest.fixture
def walked(portal: Portal) -> tuple[Portal, dict[str, str]]:
    """The portal with an announcement, so that its edit page (id 1) exists, and a
    set-password link, so that the link pages show their form."""
    from aip_forms.services.announcements import post_announcement
    from aip_forms.services.users import add_user

    today = portal.clock().date()
    ped = ROLES["ped_coordinator"]
    post_announcement("Plans due", "Soon.", "everyone", today, today, actor_email=ped,
                      uow=portal.core.uow, clock=portal.clock)  # fmt: skip
    add_user("new@belen.org", "district_coordinator", lea_code="006", uow=portal.core.uow,
             mailer=portal.core.mailer, site=portal.core.site, clock=portal.clock)  # fmt: skip
    return portal, {**ARGUMENTS, "token": portal.last_link("new@belen.org")}


def rules(portal: Portal) -> list[Rule]:
    return [r for r in portal.flask.url_map.iter_rules() if r.endpoint != "static"]


# Areas whose routes take plans, jobs, comments or tokens: walked over real plans below
# (`test_plan_routes_and_api_endpoints_keep_to_each_roles_scope`).
PLAN_AREAS = ("review.", "documents.", "tokens.revoke", "api.")


def session_rules(portal: Portal) -> list[Rule]:
    return [r for r in rules(portal) if policy_of(portal, r).who != TOKEN]


def visit(client: FlaskClient, rule: Rule, arguments: dict[str, str] = ARGUMENTS) -> TestResponse:
    path = rule.build({a: arguments.get(a, "1") for a in rule.arguments})[1]  # type: ignore[index]
    if "GET" in (rule.methods or ()):
        return client.get(path)
    return client.post(path, data={"csrf_token": token(client, "/sign-in")})


def policy_of(portal: Portal, rule: Rule) -> Policy:
    policy: Policy = portal.flask.view_functions[rule.endpoint].access_policy  # type: ignore[attr-defined]
    return policy


def test_every_view_declares_a_policy_and_the_walk_covers_them(portal: Portal) -> None:
    walked = {r.endpoint for r in rules(portal)}
    assert {"auth.sign_in", "home.home", "admin.registrations", "account.change_password"} <= walked
    assert {"ops.healthz", "ops.readyz", "ops.metrics"} <= walked  # public: anonymous walk
    assert all(policy_of(portal, r) for r in rules(portal))


def test_anonymous_visitors_reach_public_pages_only(portal: Portal) -> None:
    client = portal.client()
    for rule in rules(portal):
        r = visit(client, rule)
        location = r.headers.get("Location", "")
        if policy_of(portal, rule).who == PUBLIC:
            assert not location.startswith("/sign-in?next="), rule
            assert r.status_code != 403, rule
        elif policy_of(portal, rule).who == TOKEN:  # the API: a token, never a sign-in
            assert r.status_code == 401 and r.json and r.json["error"]["kind"] == "Unauthorized"
        else:
            assert r.status_code == 302 and location.startswith("/sign-in?next="), (rule, location)


@pytest.mark.parametrize("role", ROLES)
def test_every_role_gets_what_the_policy_says(
    walked: tuple[Portal, dict[str, str]], role: str
) -> None:
    portal, arguments = walked
    client = portal.client()
    for rule in session_rules(portal):
        if rule.endpoint.startswith(("plans.", "dashboards.")):
            continue  # walked per plan below
        open_session(portal, client, ROLES[role])  # anew: the walk signs out on the way
        r = visit(client, rule, arguments)
        allowed = policy_of(portal, rule).admits(role)
        if not allowed:
            assert r.status_code == 403, (role, rule, r.status_code)
            continue
        assert r.status_code != 403, (role, rule)
        assert not r.headers.get("Location", "").startswith("/sign-in?next="), (role, rule)
        html = r.get_data(as_text=True)
        assert "Traceback" not in html
        if "GET" in (rule.methods or ()) and not rule.endpoint.startswith(PLAN_AREAS):
            assert r.status_code == 200 or rule.endpoint in REDIRECTS, (role, rule, r.status_code)


# GET pages that send a signed-in person elsewhere: the code page without a sign-in under way
# and the addresses account mails give, which lead to their pages
REDIRECTS = {"auth.code", "auth.sign_in_mailed", "auth.reset_mailed"}


# ---- the plan routes, per plan -------------------------------------------------------------

OWN, OTHER_LEA, DISTRICT_PLAN = SCHOOL, OTHER_SCHOOL, DISTRICT
READS = {
    "ped_coordinator": {OWN, OTHER_LEA, DISTRICT_PLAN},
    "ped_reviewer": {OWN, OTHER_LEA, DISTRICT_PLAN},
    "district_coordinator": {OWN, DISTRICT_PLAN},
    "school_coordinator": {OWN},
}
SUBMITS = {"district_coordinator": {DISTRICT_PLAN}, "school_coordinator": {OWN}}
SCHOOL_PLANS = {
    OWN: PlanRef(PlanKind.SCHOOL, 2027, "006", "006001"),
    OTHER_LEA: PlanRef(PlanKind.SCHOOL, 2027, "007", "007001"),
}
SUBMITTING = {"plans.upload", "plans.submit_checked"}
OF_A_CHECK = {"plans.report", "plans.annotated", "plans.submit_checked"}


def _expected(role: str, key: str, endpoint: str, method: str) -> int:
    if endpoint == "plans.mine":
        return 200  # the list, of the role's own plans only (below)
    if key not in READS[role]:
        return 404  # another LEA's plan is not even confirmed to exist
    if endpoint in SUBMITTING and key not in SUBMITS.get(role, set()):
        return 403
    if endpoint in OF_A_CHECK:
        # the check was made by the school coordinator, in that session, of that plan
        if role != "school_coordinator":
            return 404
        return 400 if method == "POST" else 200  # posted without the certification
    if endpoint == "plans.upload":
        return 400 if method == "POST" else 200  # posted without a file
    if endpoint in ("plans.receipt", "plans.revision") and key == DISTRICT_PLAN:
        return 404  # nothing uploaded: no version, nothing to revise
    return 200


@pytest.mark.parametrize("role", ROLES)
def test_plan_routes_reach_the_roles_own_plans_and_no_other_leas(portal: Portal, role: str) -> None:
    core = portal.core
    versions = {}
    for key, ref in SCHOOL_PLANS.items():
        email = "school@belen.org" if ref.lea_code == "006" else "school@bernalillo.org"
        view = submitted(core, ref, email).submission
        assert view is not None
        versions[key] = view.id
    versions[DISTRICT_PLAN] = versions[OWN]  # a version of another plan: never shown here

    client = portal.client()
    open_session(portal, client, ROLES["school_coordinator"])
    upload = f"/plans/{OWN}/upload"
    data = {
        "action": "check",
        "workbook": (io.BytesIO(complete(core, SCHOOL_PLANS[OWN])), "p.xlsx"),
    }
    r = client.post(upload, data={**data, "csrf_token": token(client, upload)})
    assert r.status_code == 302, text(r)
    check_id = r.headers["Location"].rsplit("/", 1)[1]

    client = client if role == "school_coordinator" else portal.client()
    open_session(portal, client, ROLES[role])
    walked = set()
    for rule in rules(portal):
        if not rule.endpoint.startswith("plans."):
            continue
        for key in (OWN, OTHER_LEA, DISTRICT_PLAN):
            arguments = {"key": key, "submission_id": str(versions[key]), "check_id": check_id}
            path = rule.build({a: arguments[a] for a in rule.arguments})[1]  # type: ignore[index]
            method = "GET" if "GET" in (rule.methods or ()) else "POST"
            if method == "GET":
                r = client.get(path)
            else:
                r = client.post(path, data={"csrf_token": token(client, "/plans")})
            wanted = _expected(role, key, rule.endpoint, method)
            assert r.status_code == wanted, (role, key, path, r.status_code, r.data[-300:])
            assert b"Traceback" not in r.data
            walked.add(rule.endpoint)
            if rule.endpoint == "plans.upload" and method == "GET" and wanted == 200:
                r = client.post(path, data={"csrf_token": token(client, path)})
                assert r.status_code == 400, (role, path)
    assert {"plans.mine", "plans.upload", "plans.history", "plans.receipt"} <= walked
    listed = text(client.get("/plans"))
    assert "BERNALILLO HIGH" not in listed
    assert ("BELEN HIGH" in listed) is (role in ("district_coordinator", "school_coordinator"))
    with core.uow() as u:  # nothing the walk did stored a version
        assert u.session.scalar(select(func.count()).select_from(SubmissionRow)) == 2


# ---- plans, jobs and the API, over real plans -------------------------------------------------

OWN_PLAN = {  # a plan each role reads (and, where it reviews, reviews)
    "ped_coordinator": "district_plan",
    "ped_reviewer": "district_plan",
    "district_coordinator": "school_plan",
    "school_coordinator": "school_plan",
}


def _allowed(world: World, email: str, plan_id: int, action: Action) -> bool:
    from aip_forms.services.repository import plan_ref, require_plan

    with world.core.uow() as u:
        ref = plan_ref(require_plan(u.session, plan_id))
    return can(world.portal.grants(email)[1], action, ref)


@pytest.mark.parametrize("role", WORLD_ROLES)
def test_plan_routes_and_api_endpoints_keep_to_each_roles_scope(world: World, role: str) -> None:
    """Every route and endpoint that takes a plan, as every role, on its own plan and on
    another LEA's: a read only where `services.access` allows it, a write only where the
    role reviews the plan; the other LEA's plan is neither read nor changed."""
    from aip_forms.services.review import plan_comments
    from aip_forms.services.tokens import SCOPES, create_token

    email = WORLD_ROLES[role]
    own, other = getattr(world, OWN_PLAN[role]), world.vista_school_plan
    client = world.portal.client()
    _, secret = create_token(email, "walk", SCOPES, uow=world.core.uow, clock=world.portal.clock)
    bearer = {"Authorization": f"Bearer {secret}"}
    planned = [r for r in rules(world.portal) if "plan_id" in r.arguments]
    assert {r.endpoint for r in planned} >= {
        "review.plan", "review.comment", "review.decide", "review.resolve", "review.revision",
        "documents.print_plan", "api.plan", "api.workbook", "api.plan_report", "api.document",
    }  # fmt: skip
    for plan in (own, other):
        readable = _allowed(world, email, plan, Action.READ)
        reviewable = _allowed(world, email, plan, Action.REVIEW)
        before = len(plan_comments(plan, uow=world.core.uow))
        for rule in planned:
            open_session(world.portal, client, email)
            arguments = {"plan_id": plan, "comment_id": 1}
            path = rule.build(arguments)[1]  # type: ignore[index]
            if rule.endpoint == "api.document":
                path += "?format=docx"
            if "GET" in (rule.methods or ()):
                r = client.get(path, headers=bearer if rule.endpoint.startswith("api.") else {})
                assert (r.status_code == 200) == readable, (role, plan, rule, r.status_code)
                if not readable:
                    assert r.status_code == 403, (role, plan, rule, r.status_code)
                continue
            data = {"body": "Walked.", "decision": "maybe", "csrf_token": token(client, "/")}
            r = client.post(path, data=data)
            allowed = reviewable if rule.endpoint != "documents.print_plan" else readable
            assert (r.status_code != 403) == allowed, (role, plan, rule, r.status_code)
        after = len(plan_comments(plan, uow=world.core.uow))
        assert after == before + (1 if reviewable else 0), (role, plan)
    # the API's uploads: another LEA's workbook is never stored
    theirs = (io.BytesIO(world.workbook("002", "002001")), "plan.xlsx")
    r = client.post("/api/v1/uploads", headers=bearer, data={"mode": "submit", "file": theirs})
    assert r.status_code in (403, 409) and (r.json or {}).get("submission") is None
    # jobs: PED's statewide summary is PED's alone
    job = request_statewide(2027, user_email=WORLD_ROLES["ped_coordinator"], uow=world.core.uow,
                            queue=InlineQueue(lambda j: None, background=False))  # fmt: skip
    open_session(world.portal, client, email)
    status = client.get(f"/jobs/{job.id}").status_code
    assert status == (200 if role.startswith("ped_") else 404), (role, status)


# ---- the dashboards, per role: own scope only ----------------------------------------------

TABLES = ("plans", "on-track", "by-place", "by-subgroup", "by-grade", "off-track", "trend")
DASHBOARD_PLANS = {
    OWN: "FY2027-school-006001",
    OTHER_LEA: "FY2027-school-007001",
    DISTRICT_PLAN: "FY2027-district-006",
}


@pytest.mark.parametrize("role", ROLES)
def test_dashboards_show_every_role_its_own_scope_only(portal: Portal, role: str) -> None:
    import datetime as dt

    from tests.integration.test_dashboards import seed_dashboard

    seed_dashboard(portal.core.engine, users=False)
    portal.clock.now = dt.datetime(2027, 1, 20, 15, 0, tzinfo=dt.UTC)
    client = portal.client()
    open_session(portal, client, ROLES[role])
    other_lea_seen = role.startswith("ped_")
    walked = set()
    for rule in rules(portal):
        if not rule.endpoint.startswith("dashboards."):
            continue
        assert policy_of(portal, rule).who == ACTING, rule
        for name, key in [(t, k) for t in TABLES for k in DASHBOARD_PLANS]:
            arguments = {"name": name, "key": DASHBOARD_PLANS[key]}
            path = rule.build({a: arguments[a] for a in rule.arguments})[1]  # type: ignore[index]
            for query in ("", "?lea=007", "?status=late&period=80"):
                r = client.get(path + query)
                walked.add(rule.endpoint)
                assert b"Traceback" not in r.data
                if rule.endpoint == "dashboards.words":
                    wanted = 200 if key in READS[role] else 404
                elif rule.endpoint == "dashboards.download" and name == "trend":
                    wanted = 200 if role == "school_coordinator" else 404
                else:
                    wanted = 200
                assert r.status_code == wanted, (role, path + query, r.status_code)
                if r.status_code != 200:
                    continue
                if rule.endpoint == "dashboards.download":
                    book = openpyxl.load_workbook(io.BytesIO(r.data))
                    seen = " ".join(str(v) for row in book.active.values for v in row)  # type: ignore[union-attr]
                else:
                    seen = text(r)
                if not other_lea_seen:
                    assert "BERNALILLO" not in seen, (role, path + query)
                elif rule.endpoint == "dashboards.index" and query == "":
                    assert "BERNALILLO HIGH" in seen  # the check above can fail
    assert walked == {"dashboards.index", "dashboards.download", "dashboards.words"}


# ---- the end-of-year report, per role: PED any scope, a district its own LEA ---------------

EOY_SCOPES = {
    "ped_coordinator": {"statewide", "006", "007"},
    "ped_reviewer": {"statewide", "006", "007"},
    "district_coordinator": {"006"},
    "school_coordinator": set(),
}


@pytest.mark.parametrize("role", ROLES)
def test_the_end_of_year_report_keeps_to_each_roles_scope(portal: Portal, role: str) -> None:
    from tests.integration.test_dashboards import seed_dashboard

    seed_dashboard(portal.core.engine, users=False)
    client = portal.client()
    open_session(portal, client, ROLES[role])
    form = client.get("/reports/eoy")
    assert form.status_code == (403 if role == "school_coordinator" else 200), role
    for scope in ("statewide", "006", "007"):
        r = client.get(f"/reports/eoy?fy=2027&scope={scope}&format=xlsx")
        assert b"Traceback" not in r.data
        if scope in EOY_SCOPES[role]:
            assert r.status_code == 200, (role, scope, r.status_code)
            book = openpyxl.load_workbook(io.BytesIO(r.data))
            seen = {row[1] for row in book["Results"].iter_rows(min_row=2, values_only=True)}
            assert seen == ({"006", "007"} if scope == "statewide" else {scope}), (role, scope)
        else:
            assert r.status_code == 403, (role, scope, r.status_code)
            if role != "school_coordinator":  # the form says why, beside the field
                assert "may not download the end-of-year report" in text(r)
