"""Access control as a matrix of users x plans x actions: the rule alone, then through the
services (submit, list, comment) over SQLite with the fakes of test_workflow."""

from __future__ import annotations

import pytest

from aip_forms.domain import PlanKind
from aip_forms.errors import Forbidden, InvalidInput
from aip_forms.services.access import Action, Grant, PlanRef, Role, can, refusal
from aip_forms.services.submissions import list_submissions
from aip_forms.services.users import add_user
from tests.support.nm import add_comment
from tests.unit.test_workflow import World, district_book, school_book, world

__all__ = ["world"]  # the fixture, imported

PLANS = {
    "D6": PlanRef(PlanKind.DISTRICT, 2027, "006"),
    "S6": PlanRef(PlanKind.SCHOOL, 2027, "006", "006001"),
    "D7": PlanRef(PlanKind.DISTRICT, 2027, "007"),
    "S7": PlanRef(PlanKind.SCHOOL, 2027, "007", "007001"),
}
BOOKS = {
    "D6": lambda tag: district_book(tag, "006"),
    "S6": lambda tag: school_book(tag, "006001", "006"),
    "D7": lambda tag: district_book(tag, "007"),
    "S7": lambda tag: school_book(tag, "007001", "007"),
}
GRANTS = {
    "school@belen.org": [Grant(Role.SCHOOL_COORDINATOR, "006", "006001")],
    "district@belen.org": [Grant(Role.DISTRICT_COORDINATOR, "006")],
    "ped@ped.nm.gov": [Grant(Role.PED_COORDINATOR)],
    "reader@ped.nm.gov": [Grant(Role.PED_REVIEWER)],
    "school@bernalillo.org": [Grant(Role.SCHOOL_COORDINATOR, "007", "007001")],
    "district@bernalillo.org": [Grant(Role.DISTRICT_COORDINATOR, "007")],
    "both@nm.org": [
        Grant(Role.DISTRICT_COORDINATOR, "006"),
        Grant(Role.SCHOOL_COORDINATOR, "007", "007001"),
    ],
}
# What each user may do with each plan: R read, S submit, V review. Absent: nothing.
ALLOWED = {
    "school@belen.org": {"S6": "RS"},
    "district@belen.org": {"D6": "RS", "S6": "RV"},
    "ped@ped.nm.gov": {"D6": "RV", "S6": "R", "D7": "RV", "S7": "R"},
    "reader@ped.nm.gov": {"D6": "R", "S6": "R", "D7": "R", "S7": "R"},
    "school@bernalillo.org": {"S7": "RS"},
    "district@bernalillo.org": {"D7": "RS", "S7": "RV"},
    "both@nm.org": {"D6": "RS", "S6": "RV", "S7": "RS"},
}
LETTER = {Action.READ: "R", Action.SUBMIT: "S", Action.REVIEW: "V"}
MATRIX = [
    (user, plan, action) for user in GRANTS for plan in PLANS for action in Action
]  # fmt: skip


@pytest.mark.parametrize(("user", "plan", "action"), MATRIX)
def test_access_matrix(user: str, plan: str, action: Action) -> None:
    expected = LETTER[action] in ALLOWED[user].get(plan, "")
    assert can(GRANTS[user], action, PLANS[plan]) is expected
    reason = refusal(user, GRANTS[user], action, PLANS[plan])
    assert (reason is None) is expected
    if reason:
        assert user in reason and str(PLANS[plan]) in reason


def test_a_grant_of_another_fiscal_year_is_no_different() -> None:
    """Grants are not per year: a coordinator keeps their plans from year to year."""
    plan = PlanRef(PlanKind.SCHOOL, 2031, "006", "006001")
    assert can(GRANTS["school@belen.org"], Action.SUBMIT, plan)


def test_a_school_coordinator_of_a_same_coded_school_elsewhere_is_refused() -> None:
    grant = [Grant(Role.SCHOOL_COORDINATOR, "007", "006001")]
    assert not can(grant, Action.READ, PLANS["S6"])


def _add_both(world: World) -> None:
    add_user("both@nm.org", "district_coordinator", lea_code="006", uow=world.uow)
    add_user("both@nm.org", "school_coordinator", school_code="007001", uow=world.uow)


def test_submit_matrix_through_the_service(world: World) -> None:
    _add_both(world)
    for user in GRANTS:
        for plan, book in BOOKS.items():
            before = set(world.store.objects)
            result = world.submit(book(user.replace("@", "-")), user)
            if "S" in ALLOWED[user].get(plan, ""):
                assert result.outcome == "stored", (user, plan, result.message)
                assert len(world.store.objects) == len(before) + 1
            else:
                assert (result.outcome, result.exit_code) == ("refused", 2), (user, plan)
                assert set(world.store.objects) == before


def test_read_and_review_matrix_through_the_services(world: World) -> None:
    _add_both(world)
    owners = {"D6": "district@belen.org", "S6": "school@belen.org",
              "D7": "district@bernalillo.org", "S7": "school@bernalillo.org"}  # fmt: skip
    ids = {}
    for plan, owner in owners.items():
        result = world.submit(BOOKS[plan]("v1"), owner, final=True)
        assert result.submission is not None
        ids[plan] = result.submission.id
    for user in GRANTS:
        seen = {s.id for s in list_submissions(uow=world.uow, user_email=user)}
        readable = {ids[p] for p, acts in ALLOWED[user].items() if "R" in acts}
        assert seen == readable, user
        for plan, sid in ids.items():
            if "V" in ALLOWED[user].get(plan, ""):
                assert add_comment(sid, "ok", author_email=user, uow=world.uow).author == user
            else:
                with pytest.raises(Forbidden):
                    add_comment(sid, "no", author_email=user, uow=world.uow)


def test_ped_roles_never_submit(world: World) -> None:
    result = world.submit(district_book("ped"), "ped@ped.nm.gov", final=True)
    assert result.outcome == "refused"
    assert "only coordinators submit plans" in result.message
    assert world.validate.calls == []  # refused before reading the upload


@pytest.mark.parametrize(
    ("role", "lea", "school", "message"),
    [
        ("district_coordinator", None, None, "needs --lea"),
        ("district_coordinator", "999", None, "no LEA"),
        ("school_coordinator", "006", None, "needs --school"),
        ("school_coordinator", "007", "006001", "belongs to LEA 006"),
        ("ped_reviewer", "006", None, "state role"),
        ("superuser", None, None, "unknown role"),
    ],
)
def test_grants_are_checked_when_added(
    world: World, role: str, lea: str | None, school: str | None, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        add_user("x@nm.org", role, uow=world.uow, lea_code=lea, school_code=school)


def test_one_user_holds_several_roles_and_a_role_once(world: World) -> None:
    first = add_user("Both@NM.org", "district_coordinator", lea_code="006", uow=world.uow)
    second = add_user("both@nm.org", "ped_reviewer", uow=world.uow)
    again = add_user("both@nm.org", "ped_reviewer", uow=world.uow)
    assert (first.created, second.created, second.granted, again.granted) == (
        True, False, True, False,
    )  # fmt: skip
    assert [g.role for g in again.user.grants] == [Role.DISTRICT_COORDINATOR, Role.PED_REVIEWER]
    assert again.user.email == "both@nm.org"
    with pytest.raises(InvalidInput, match="not an email"):
        add_user("not-an-email", "ped_reviewer", uow=world.uow)
