"""PED administration on SQLite and PostgreSQL: users (deactivate, reactivate, revoke a
role, only by a PED coordinator) and announcements (audience, dates, withdrawal), with the
hostile inputs a form may carry."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from aip_forms.errors import Forbidden, NotFound
from aip_forms.services import announcements as ann
from aip_forms.services.access import Grant, Role
from aip_forms.services.fields import InvalidFields
from aip_forms.services.users import add_user, list_users, revoke_role, set_active
from tests.support.accounts import PED, START, Portal, seed_places

TODAY = START.date()
DAY = dt.timedelta(days=1)


@pytest.fixture
def portal(engine: Engine, tmp_path: Path) -> Iterator[Portal]:
    seed_places(engine)
    p = Portal(engine, tmp_path)
    p.add_ped()
    yield p


def post(portal: Portal, **changes: object) -> ann.AnnouncementView:
    values: dict[str, object] = {
        "title": "District plans due October 1",
        "body": "Submit your FY2027 district plan.\n\nQuestions: ped@ped.nm.gov",
        "audience": "districts",
        "starts_on": TODAY,
        "ends_on": TODAY + 30 * DAY,
    }
    values.update(changes)
    return ann.post_announcement(
        values["title"],  # type: ignore[arg-type]
        values["body"],  # type: ignore[arg-type]
        values["audience"],  # type: ignore[arg-type]
        values["starts_on"],  # type: ignore[arg-type]
        values["ends_on"],  # type: ignore[arg-type]
        actor_email=changes.get("actor", PED),  # type: ignore[arg-type]
        uow=portal.uow,
        clock=portal.clock,
    )


def seen_by(portal: Portal, grants: list[Grant], today: dt.date = TODAY) -> list[str]:
    return [a.title for a in ann.current_announcements(grants, uow=portal.uow, today=today)]


def test_announcements_reach_their_audience_between_their_dates(portal: Portal) -> None:
    post(portal, title="For districts")
    post(portal, title="For schools", audience="schools")
    post(portal, title="For everyone", audience="everyone", starts_on=TODAY + 2 * DAY,
         ends_on=TODAY + 40 * DAY)  # fmt: skip
    district = [Grant(Role.DISTRICT_COORDINATOR, "006")]
    school = [Grant(Role.SCHOOL_COORDINATOR, "006", "006001")]
    assert seen_by(portal, district) == ["For districts"]
    assert seen_by(portal, school) == ["For schools"]
    assert seen_by(portal, district, TODAY + 2 * DAY) == ["For everyone", "For districts"]
    assert seen_by(portal, [Grant(Role.PED_REVIEWER)]) == ["For schools", "For districts"]
    assert seen_by(portal, district, TODAY + 31 * DAY) == ["For everyone"]
    posted = ann.list_announcements(actor_email=PED, uow=portal.uow)
    assert [a.author for a in posted] == [PED] * 3
    assert posted[-1].body.split("\n") == [
        "Submit your FY2027 district plan.",
        "",
        "Questions: ped@ped.nm.gov",
    ]
    assert portal.audit_actions().count("announcement.posted") == 3


def test_a_withdrawn_announcement_is_no_longer_shown(portal: Portal) -> None:
    started = post(portal, starts_on=TODAY - 3 * DAY)
    future = post(portal, title="Later", starts_on=TODAY + 5 * DAY)
    ann.withdraw_announcement(started.id, actor_email=PED, uow=portal.uow, clock=portal.clock)
    ann.withdraw_announcement(future.id, actor_email=PED, uow=portal.uow, clock=portal.clock)
    district = [Grant(Role.DISTRICT_COORDINATOR, "006")]
    assert seen_by(portal, district) == []
    assert seen_by(portal, district, TODAY + 5 * DAY) == []
    (kept,) = ann.list_announcements(actor_email=PED, uow=portal.uow)  # the shown one stays
    assert kept.ends_on == TODAY - DAY
    assert portal.audit_actions().count("announcement.withdrawn") == 2
    with pytest.raises(NotFound):
        ann.withdraw_announcement(999, actor_email=PED, uow=portal.uow)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": ""}, "title", "is required"),
        ({"title": "x" * 201}, "title", "too long"),
        ({"title": "Due\x1b[31m"}, "title", "control or invisible"),
        ({"body": "a\x00b"}, "body", "control or invisible"),
        ({"body": "x" * 5001}, "body", "too long"),
        ({"audience": "parents"}, "audience", "everyone, districts or schools"),
        ({"audience": "'; DROP TABLE announcement; --"}, "audience", "everyone, districts"),
        ({"starts_on": None}, "starts_on", "is required"),
        ({"ends_on": TODAY - DAY}, "ends_on", "in the past"),
        ({"starts_on": TODAY + 9 * DAY, "ends_on": TODAY + DAY}, "ends_on", "on or after"),
    ],
)
def test_a_bad_announcement_is_refused_naming_the_field(
    portal: Portal, changes: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(InvalidFields) as refused:
        post(portal, **changes)
    assert message in refused.value.problems[field]
    assert ann.list_announcements(actor_email=PED, uow=portal.uow) == []


def test_only_a_ped_coordinator_posts_announcements(portal: Portal) -> None:
    district = portal.coordinator()
    with pytest.raises(Forbidden, match="does not hold the program's Absence Coordinator"):
        post(portal, actor=district)
    with pytest.raises(Forbidden):
        ann.list_announcements(actor_email=district, uow=portal.uow)


def test_a_ped_coordinator_deactivates_reactivates_and_revokes(portal: Portal) -> None:
    user = portal.coordinator()
    assert not set_active(user, False, uow=portal.uow, actor_email=PED).active
    assert set_active(user, True, uow=portal.uow, actor_email=PED).active
    add_user(user, "school_coordinator", uow=portal.uow, school_code="006001", actor_email=PED)
    view = revoke_role(user, "district_coordinator", uow=portal.uow, actor_email=PED)
    assert view.grants == (Grant(Role.SCHOOL_COORDINATOR, "006", "006001"),)
    with pytest.raises(NotFound, match="does not hold"):
        revoke_role(user, "district_coordinator", uow=portal.uow, actor_email=PED)
    with pytest.raises(Forbidden, match="your own account"):
        set_active(PED, False, uow=portal.uow, actor_email=PED)
    with pytest.raises(Forbidden, match="does not hold the program's Absence Coordinator"):
        set_active(PED, False, uow=portal.uow, actor_email=user)
    with pytest.raises(Forbidden, match="does not hold the program's Absence Coordinator"):
        add_user("x@belen.org", "ped_coordinator", uow=portal.uow, actor_email=user)
    listed = {v.email: v for v in list_users(uow=portal.uow)}
    assert listed[user].has_password and not listed[user].totp
    actions = portal.audit_actions()
    assert {"user.deactivated", "user.reactivated", "role.revoked", "role.granted"} <= set(actions)
