"""Review through the Flask test client, on real plans (example workbooks submitted through
the submit service, SQLite, the local store, the outbox): the queue per role with its
filters and sorting (and values that do not exist), the plan page's tables, comments on
the plan, a section or a cell (and cells that do not exist), resolving, return and approve
with the coordinator's mail, the revision workbook carrying only open comments; and, on
both databases, the comment services and migration 0005 underneath."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from aip_forms.errors import Conflict, Forbidden
from aip_forms.services import review
from tests.integration.test_submit import CERTIFY, edited
from tests.support.review_world import (
    DISTRICT,
    PED,
    READER,
    SCHOOL,
    VISTA,
    World,
    make_world,
    world,
)
from tests.support.web import open_session, post, text

__all__ = ["world"]


def as_user(world: World, email: str) -> FlaskClient:
    client = world.portal.client()
    open_session(world.portal, client, email)
    return client


def plan_links(html: str) -> list[str]:
    return re.findall(r'href="/review/plans/(\d+)">([^<]+)</a>', html)


def field_error(html: str, name: str) -> str:
    found = re.search(rf'id="{name}-error">([^<]*)<', html)
    return found.group(1) if found else ""


# ---- the queue -----------------------------------------------------------------------------


def test_each_role_sees_its_queue(world: World) -> None:
    district = text(as_user(world, DISTRICT).get("/review"))
    assert plan_links(district) == [(str(world.school_plan), "BELEN ELEMENTARY")]
    for email in (PED, READER):
        page = text(as_user(world, email).get("/review"))
        ids = {int(i) for i, _ in plan_links(page)}
        assert ids == {world.district_plan, world.school_plan, world.vista_school_plan}
    assert as_user(world, SCHOOL).get("/review").status_code == 403
    vista = text(as_user(world, VISTA).get("/review"))
    assert plan_links(vista) == [(str(world.vista_school_plan), "VISTA ACADEMY")]


def test_the_queue_filters_and_sorts_by_get_parameters(world: World) -> None:
    ped = as_user(world, PED)
    by_name = [name for _, name in plan_links(text(ped.get("/review?sort=name")))]
    assert by_name == sorted(by_name) and len(by_name) == 3
    only_002 = plan_links(text(ped.get("/review?lea=002")))
    assert [int(i) for i, _ in only_002] == [world.vista_school_plan]
    assert plan_links(text(ped.get("/review?status=approved"))) == []
    assert "No plans match" in text(ped.get("/review?status=approved"))
    assert len(plan_links(text(ped.get("/review?status=submitted&sort=submitted")))) == 3
    assert plan_links(text(ped.get("/review?overdue=1"))) == []  # all with a reviewer
    world.portal.clock.advance(days=60)  # past the deadlines; still under review
    assert plan_links(text(ped.get("/review?overdue=1"))) == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("sort=cost", "sort by deadline, submitted, name"),
        ("status=lost", "a status is one of draft"),
        ("lea=999", "there is no LEA"),
        ("lea=%3Cscript%3E", "there is no LEA"),
    ],
)
def test_filter_values_that_do_not_exist_are_refused_plainly(
    world: World, query: str, message: str
) -> None:
    r = as_user(world, PED).get(f"/review?{query}")
    assert r.status_code == 400 and message.lower() in text(r).lower()
    assert "<script>" not in text(r)


# ---- the plan page -------------------------------------------------------------------------


def test_the_plan_page_shows_the_plan_as_tables_by_step(world: World) -> None:
    page = text(as_user(world, DISTRICT).get(f"/review/plans/{world.school_plan}"))
    assert "BELEN ELEMENTARY" in page and "submitted" in page
    assert "Step 3 - Root Cause Analysis" in page
    assert "Barriers" in page and "Transportation gaps on rural bus routes" in page
    assert "Chronic Absence FY2026" in page  # a column label with its year
    assert "Enrollment FY2027 (current year)" in page and "{y" not in page  # the plan's own
    assert "Hispanic or Latino" in page and "24.5%" in page  # a table row, percent shown
    assert f'action="/review/plans/{world.school_plan}/decision"' in page
    # the coordinator reads the page, without the reviewer's forms
    own = text(as_user(world, SCHOOL).get(f"/review/plans/{world.school_plan}"))
    assert "Barriers" in own and "/decision" not in own and "Add a comment" not in own


@pytest.mark.parametrize("email", [VISTA, "high@belen.org"])
def test_another_scope_cannot_read_the_plan_page(world: World, email: str) -> None:
    client = as_user(world, email)
    for path in ("", "/revision.xlsx"):
        r = client.get(f"/review/plans/{world.school_plan}{path}")
        assert r.status_code == 403 and "may not read" in text(r)
    assert client.get("/review/plans/999").status_code == 404


# ---- comments ------------------------------------------------------------------------------


def comment(client: FlaskClient, plan: int, **data: str) -> tuple[int, str]:
    r = post(client, f"/review/plans/{plan}/comments", data, page=f"/review/plans/{plan}")
    return r.status_code, text(r)


def test_a_cell_comment_is_shown_open_until_resolved(world: World) -> None:
    client = as_user(world, DISTRICT)
    plan = world.school_plan
    status, _ = comment(client, plan, section="root_cause", cell="B10", body="Which routes?")
    assert status == 302
    status, _ = comment(client, plan, section="", cell="", body="Good work overall.")
    assert status == 302
    page = text(client.get(f"/review/plans/{plan}"))
    assert "Open: 3 Root Cause Analysis!B10" in page and "Which routes?" in page
    assert "2 open comments" in page
    (first, *_) = review.open_comments(plan, uow=world.core.uow)
    r = post(client, f"/review/plans/{plan}/comments/{first.id}/resolve", {},
             page=f"/review/plans/{plan}")  # fmt: skip
    assert r.status_code == 302
    page = text(client.get(f"/review/plans/{plan}"))
    assert "Resolved: 3 Root Cause Analysis!B10" in page and "resolved by district@belen.org"
    r = post(client, f"/review/plans/{plan}/comments/{first.id}/resolve", {},
             page=f"/review/plans/{plan}")  # fmt: skip
    assert r.status_code == 409 and "resolved already" in text(r)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"section": "root_cause", "cell": "Z99"}, "cell", "no answer of this plan in cell"),
        ({"section": "", "cell": "B10"}, "cell", "Choose the section whose sheet"),
        ({"cell": "'No Such Sheet'!C5"}, "cell", "no answer of this plan"),
        ({"cell": "Sheet!!"}, "cell", "no answer of this plan"),
        ({"section": "budget"}, "section", "sections: contact, demographics"),
        ({"section": "root_cause", "cell": "B10", "body": ""}, "body", "Write the comment"),
        ({"body": "x" * 5000}, "body", "at most 4000 characters"),
    ],
)
def test_comments_on_places_that_do_not_exist_are_refused(
    world: World, data: dict[str, str], field: str, message: str
) -> None:
    status, page = comment(as_user(world, DISTRICT), world.school_plan, **{"body": "Why?", **data})
    assert status == 400 and message.lower() in field_error(page, field).lower(), page[-3000:]
    assert review.open_comments(world.school_plan, uow=world.core.uow) == []


@pytest.mark.parametrize("email", [SCHOOL, READER, PED, VISTA])
def test_only_the_plans_reviewer_comments_decides_and_resolves(world: World, email: str) -> None:
    client = as_user(world, email)
    plan = world.school_plan
    mine = review.add_comment(_submission(world, plan), "Fix it.", author_email=DISTRICT,
                              uow=world.core.uow, config=world.core.config)  # fmt: skip
    for path, data in (("comments", {"body": "Mine."}), ("decision", {"decision": "approve"}),
                       (f"comments/{mine.id}/resolve", {})):  # fmt: skip
        r = post(client, f"/review/plans/{plan}/{path}", data, page="/")
        assert r.status_code == 403, (path, r.status_code)
    assert [c.id for c in review.open_comments(plan, uow=world.core.uow)] == [mine.id]
    assert world.portal.mails(SCHOOL) == []


def _submission(world: World, plan: int) -> int:
    from aip_forms.services.plan_files import plan_versions

    return plan_versions(plan, user_email=PED, uow=world.core.uow)[1][-1].submission_id


def test_a_comment_id_of_another_plan_is_not_found(world: World) -> None:
    core = world.core
    other = review.add_comment(_submission(world, world.district_plan), "PED's note.",
                               author_email=PED, uow=core.uow, config=core.config)  # fmt: skip
    client = as_user(world, DISTRICT)
    r = post(client, f"/review/plans/{world.school_plan}/comments/{other.id}/resolve", {},
             page=f"/review/plans/{world.school_plan}")  # fmt: skip
    assert r.status_code == 404
    assert review.open_comments(world.district_plan, uow=world.core.uow)[0].is_open


# ---- decisions -----------------------------------------------------------------------------


def decide(client: FlaskClient, plan: int, **data: str) -> tuple[int, str]:
    r = post(client, f"/review/plans/{plan}/decision", data, page=f"/review/plans/{plan}")
    return r.status_code, text(r)


def test_return_mail_revision_resubmit_approve(world: World) -> None:
    client = as_user(world, DISTRICT)
    plan = world.school_plan
    assert (
        comment(client, plan, section="root_cause", cell="B10", body="Name the routes.")[0] == 302
    )
    assert comment(client, plan, section="tiers", body="Resolved later.")[0] == 302
    status, page = decide(client, plan, decision="return", reason="")
    assert status == 400 and "Say what the coordinator should change" in page
    status, page = decide(client, plan, decision="maybe", reason="x")
    assert status == 400 and "Choose approve or return" in page
    status, _ = decide(client, plan, decision="return", reason="Please revise step 3.")
    assert status == 302
    mail = world.portal.mails(SCHOOL)[-1]
    body = mail.get_content()
    assert mail["Subject"] == "Your FY2027 school plan was returned for revision"
    assert "Version 1 of the FY2027 school plan of school 001001" in body
    assert "Reason: Please revise step 3." in body
    assert f"https://aip.ped.nm.gov/review/plans/{plan}" in body
    status, _ = decide(client, plan, decision="approve")
    assert status == 409  # returned: not under review

    notes = review.open_comments(plan, uow=world.core.uow)
    tiers_note = next(c for c in notes if c.section == "tiers" and not c.cell)
    post(client, f"/review/plans/{plan}/comments/{tiers_note.id}/resolve", {},
         page=f"/review/plans/{plan}")  # fmt: skip
    school = as_user(world, SCHOOL)
    r = school.get(f"/review/plans/{plan}/revision.xlsx")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    wb = load_workbook(io.BytesIO(r.data))
    assert "Name the routes." in wb["3 Root Cause Analysis"]["B10"].comment.text
    assert wb["4 Tiers of Support"]["A1"].comment is None  # resolved: not carried
    assert "Please revise step 3." in wb["Instructions"]["A1"].comment.text

    revised = edited(r.data, {"3 Root Cause Analysis!B10": "Routes 4 and 9.", **CERTIFY})
    world.submit(revised, SCHOOL)
    status, _ = decide(client, plan, decision="approve", reason="")
    assert status == 302
    assert world.portal.mails(SCHOOL)[-1]["Subject"] == "Your FY2027 school plan was approved"
    page = text(client.get(f"/review/plans/{plan}"))
    assert "approved" in page and "Routes 4 and 9." in page and "/decision" not in page


# ---- the services and migration 0005, on both databases -------------------------------------


def test_comments_stay_open_across_versions_until_resolved(
    tmp_path: Path, database_url: str
) -> None:
    made = make_world(tmp_path / "home", database_url=database_url)
    try:
        uow, config = made.core.uow, made.core.config
        sub = _submission(made, made.school_plan)
        note = review.add_comment(sub, "Which routes?", author_email=DISTRICT, uow=uow,
                                  config=config, cell="'3 Root Cause Analysis'!B10")  # fmt: skip
        with pytest.raises(Exception, match="holds no answer"):
            review.add_comment(sub, "x", author_email=DISTRICT, uow=uow, config=config,
                               cell="'3 Root Cause Analysis'!Z99")  # fmt: skip
        with pytest.raises(Forbidden):
            review.resolve_comment(note.id, reviewer_email=VISTA, uow=uow)
        with pytest.raises(Forbidden):
            review.resolve_comment(note.id, reviewer_email=SCHOOL, uow=uow)
        done = review.resolve_comment(note.id, reviewer_email=DISTRICT, uow=uow)
        assert not done.is_open and done.resolved_by == DISTRICT
        with pytest.raises(Conflict):
            review.resolve_comment(note.id, reviewer_email=DISTRICT, uow=uow)
        assert review.open_comments(made.school_plan, uow=uow) == []
        assert [c.id for c in review.plan_comments(made.school_plan, uow=uow)] == [note.id]
    finally:
        made.core.close()
