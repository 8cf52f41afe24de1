"""The plan workflow: the state machine alone, then the submit and review services over a
SQLite database with hand-written fakes of the object store, the validator and the clock.

The fakes live here and are imported by test_access.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, text
from sqlalchemy.exc import DBAPIError

from aip_forms.db.models import LeaRow, SchoolRow
from aip_forms.db.session import make_engine, upgrade
from aip_forms.domain import PlanKind
from aip_forms.errors import Conflict, Forbidden, InvalidInput
from aip_forms.filled_plan import Plan, PlanSection
from aip_forms.services import audit
from aip_forms.services.review import comments_of
from aip_forms.services.submissions import SubmitResult, list_submissions, submit
from aip_forms.services.uow import UowFactory, sql_uow
from aip_forms.services.users import add_user
from aip_forms.services.workflow import Decision, PlanStatus, after_review, after_upload
from aip_forms.storage import CheckResult, CheckStatus, ObjectExists, ObjectNotFound, StoredObject
from tests.support.nm import add_comment, approve, return_plan
from validators.validate import Expectation, Identity, Outcome, ValidationReport

# ---- fakes ---------------------------------------------------------------------------------


class FakeStore:
    """Write-once objects in a dict, as the ObjectStore protocol says."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, data: bytes, *, sha256: str, metadata: object = None) -> StoredObject:
        if key in self.objects:
            if self.objects[key] != data:
                raise ObjectExists(key)
            return StoredObject(key, len(data), sha256, NOW, existed=True)
        self.objects[key] = data
        return StoredObject(key, len(data), sha256, NOW)

    def get(self, key: str) -> bytes:
        if key not in self.objects:
            raise ObjectNotFound(key)
        return self.objects[key]

    def head(self, key: str) -> StoredObject | None:
        data = self.objects.get(key)
        return None if data is None else StoredObject(key, len(data), _sha(data), NOW)

    def delete(self, key: str) -> None:
        self.objects.pop(key)

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        yield from sorted(k for k in self.objects if k.startswith(prefix))

    def check(self, key: str) -> CheckResult:
        ok = key in self.objects
        return CheckResult(key, CheckStatus.OK if ok else CheckStatus.MISSING)


@dataclass
class FakeValidator:
    """Reads "kind fy lea school tag" from the bytes; a tag containing "bad" is invalid."""

    calls: list[Expectation] = field(default_factory=list)

    def __call__(
        self, data: bytes, *, filename: str | None, expect: Expectation, final: bool
    ) -> ValidationReport:
        self.calls.append(expect)
        kind, fy, lea, school, tag = data.decode().split()
        ident = Identity(PlanKind(kind), 1, int(fy), lea, None if school == "-" else school,
                         "2026-08-01T00:00:00Z", True)  # fmt: skip
        plan = Plan(kind=ident.kind, spec_version=1, fiscal_year=ident.fiscal_year,
                    lea_code=lea, school_code=ident.school_code,
                    sections={"contact": PlanSection(fields={"first_name": tag})})  # fmt: skip
        outcome: Outcome = "invalid" if "bad" in tag else "valid"
        return ValidationReport(filename, outcome, identity=ident, plan=plan, final=final)


NOW = dt.datetime(2026, 9, 1, 12, 0, tzinfo=dt.UTC)


class FakeClock:
    def __init__(self) -> None:
        self.ticks = itertools.count()

    def __call__(self) -> dt.datetime:
        return NOW + dt.timedelta(minutes=next(self.ticks))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def school_book(tag: str, school: str = "006001", lea: str = "006") -> bytes:
    return f"school 2027 {lea} {school} {tag}".encode()


def district_book(tag: str, lea: str = "006") -> bytes:
    return f"district 2027 {lea} - {tag}".encode()


def seed_reference(engine: Engine) -> None:
    """Two LEAs with a school each."""
    with engine.begin() as c:
        c.execute(insert(LeaRow), [
            {"code": "006", "name": "BELEN CONSOLIDATED", "type": "district"},
            {"code": "007", "name": "BERNALILLO", "type": "district"},
        ])  # fmt: skip
        c.execute(insert(SchoolRow), [
            {"code": "006001", "lea_code": "006", "name": "BELEN HIGH", "grade_low": "9",
             "grade_high": "12"},
            {"code": "007001", "lea_code": "007", "name": "BERNALILLO HIGH", "grade_low": "9",
             "grade_high": "12"},
        ])  # fmt: skip


def seed_users(uow: UowFactory) -> None:
    add_user("school@belen.org", "school_coordinator", school_code="006001", uow=uow)
    add_user("district@belen.org", "district_coordinator", lea_code="006", uow=uow)
    add_user("ped@ped.nm.gov", "ped_coordinator", uow=uow)
    add_user("reader@ped.nm.gov", "ped_reviewer", uow=uow)
    add_user("school@bernalillo.org", "school_coordinator", school_code="007001", uow=uow)
    add_user("district@bernalillo.org", "district_coordinator", lea_code="007", uow=uow)


@dataclass
class World:
    engine: Engine
    uow: UowFactory
    store: FakeStore
    validate: FakeValidator
    clock: FakeClock

    def submit(self, data: bytes, user: str, *, final: bool = False) -> SubmitResult:
        return submit(data, user_email=user, uow=self.uow, store=self.store,
                      validate=self.validate, final=final, clock=self.clock)  # fmt: skip


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    engine = make_engine(f"sqlite:///{tmp_path / 'aip.db'}")
    upgrade(engine)
    seed_reference(engine)
    uow = sql_uow(engine)
    seed_users(uow)
    yield World(engine, uow, FakeStore(), FakeValidator(), FakeClock())
    engine.dispose()


# ---- the state machine ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "final", "after"),
    [
        (PlanStatus.DRAFT, False, PlanStatus.DRAFT),
        (PlanStatus.DRAFT, True, PlanStatus.SUBMITTED),
        (PlanStatus.RETURNED, False, PlanStatus.RETURNED),
        (PlanStatus.RETURNED, True, PlanStatus.RESUBMITTED),
    ],
)
def test_uploads_move_a_plan_forward(status: PlanStatus, final: bool, after: PlanStatus) -> None:
    assert after_upload(status, final) is after


@pytest.mark.parametrize(
    "status", [PlanStatus.SUBMITTED, PlanStatus.RESUBMITTED, PlanStatus.APPROVED]
)
@pytest.mark.parametrize("final", [False, True])
def test_a_plan_under_review_or_approved_takes_no_upload(status: PlanStatus, final: bool) -> None:
    with pytest.raises(Conflict):
        after_upload(status, final)


@pytest.mark.parametrize("status", [PlanStatus.SUBMITTED, PlanStatus.RESUBMITTED])
def test_reviewers_decide_plans_under_review(status: PlanStatus) -> None:
    assert after_review(status, Decision.APPROVE) is PlanStatus.APPROVED
    assert after_review(status, Decision.RETURN) is PlanStatus.RETURNED


@pytest.mark.parametrize("status", [PlanStatus.DRAFT, PlanStatus.RETURNED, PlanStatus.APPROVED])
def test_reviewers_cannot_decide_other_plans(status: PlanStatus) -> None:
    with pytest.raises(Conflict):
        after_review(status, Decision.APPROVE)


# ---- the services ---------------------------------------------------------------------------


def test_the_full_cycle_draft_submitted_returned_resubmitted_approved(world: World) -> None:
    draft = world.submit(school_book("draft"), "school@belen.org")
    assert (draft.outcome, draft.submission and draft.submission.plan.status) == (
        "stored",
        PlanStatus.DRAFT,
    )
    first = world.submit(school_book("first"), "school@belen.org", final=True)
    assert first.submission is not None
    assert (first.submission.version, first.submission.plan.status) == (2, PlanStatus.SUBMITTED)

    returned = return_plan(first.submission.id, reviewer_email="district@belen.org",
                           uow=world.uow, comment="Targets too low",
                           cell="'2A Demographic Targets'!F6", clock=world.clock)  # fmt: skip
    assert returned.plan.status is PlanStatus.RETURNED
    assert returned.submission.status == "returned"
    assert returned.comment is not None and returned.comment.field is not None

    second = world.submit(school_book("second"), "school@belen.org", final=True)
    assert second.submission is not None
    assert (second.submission.version, second.submission.plan.status) == (
        3,
        PlanStatus.RESUBMITTED,
    )
    approved = approve(second.submission.id, reviewer_email="district@belen.org", uow=world.uow,
                       clock=world.clock)  # fmt: skip
    assert approved.plan.status is PlanStatus.APPROVED
    versions = list_submissions(uow=world.uow)
    assert [(v.version, v.status) for v in versions] == [
        (1, "draft"),
        (2, "returned"),
        (3, "approved"),
    ]
    assert sorted(world.store.objects) == [v.object_key for v in versions]

    with world.uow() as u:
        actions = [e.action for e in audit.entries(u.session, entity="plan")]
    assert actions == [
        "plan.created",
        "submission.stored",
        "submission.stored",
        "comment.added",
        "plan.returned",
        "submission.stored",
        "plan.approved",
    ]


def test_a_submitted_plan_cannot_be_replaced_until_returned(world: World) -> None:
    first = world.submit(school_book("first"), "school@belen.org", final=True)
    assert first.outcome == "stored"
    for final in (False, True):
        again = world.submit(school_book("other"), "school@belen.org", final=final)
        assert again.outcome == "refused"
        assert "until the reviewer returns it" in again.message
    assert len(world.store.objects) == 1


def test_an_approved_plan_is_closed(world: World) -> None:
    first = world.submit(district_book("plan"), "district@belen.org", final=True)
    assert first.submission is not None
    approve(first.submission.id, reviewer_email="ped@ped.nm.gov", uow=world.uow)
    late = world.submit(district_book("late"), "district@belen.org")
    assert (late.outcome, late.exit_code) == ("refused", 2)
    assert "approved" in late.message


def test_identical_content_twice_is_harmless(world: World) -> None:
    first = world.submit(school_book("same"), "school@belen.org", final=True)
    again = world.submit(school_book("same"), "school@belen.org", final=True)
    assert (again.outcome, again.exit_code) == ("unchanged", 0)
    assert again.submission == first.submission
    assert len(list_submissions(uow=world.uow)) == 1


def test_a_draft_sent_again_with_final_is_submitted_without_a_new_version(world: World) -> None:
    world.submit(school_book("same"), "school@belen.org")
    final = world.submit(school_book("same"), "school@belen.org", final=True)
    assert final.outcome == "finalized"
    assert final.submission is not None
    assert (final.submission.version, final.submission.final) == (1, True)
    assert final.submission.plan.status is PlanStatus.SUBMITTED
    assert len(world.store.objects) == 1


def test_a_returned_version_sent_back_unrevised_is_refused(world: World) -> None:
    first = world.submit(school_book("v1"), "school@belen.org", final=True)
    assert first.submission is not None
    return_plan(first.submission.id, reviewer_email="district@belen.org", uow=world.uow,
                comment="Add Tier 4")  # fmt: skip
    again = world.submit(school_book("v1"), "school@belen.org", final=True)
    assert (again.outcome, again.exit_code) == ("refused", 2)
    assert "revise it" in again.message
    draft = world.submit(school_book("v1"), "school@belen.org")
    assert draft.outcome == "unchanged"


def test_an_invalid_upload_is_refused_with_its_report_and_nothing_stored(world: World) -> None:
    result = world.submit(school_book("bad"), "school@belen.org", final=True)
    assert (result.outcome, result.exit_code) == ("invalid", 1)
    assert result.report is not None and result.report.outcome == "invalid"
    assert world.store.objects == {}
    assert list_submissions(uow=world.uow) == []


def test_returning_needs_a_comment(world: World) -> None:
    first = world.submit(school_book("first"), "school@belen.org", final=True)
    assert first.submission is not None
    with pytest.raises(Conflict, match="needs a comment"):
        return_plan(first.submission.id, reviewer_email="district@belen.org", uow=world.uow)
    add_comment(first.submission.id, "See Step 3", author_email="district@belen.org",
                uow=world.uow, section="3")  # fmt: skip
    result = return_plan(first.submission.id, reviewer_email="district@belen.org", uow=world.uow)
    assert result.plan.status is PlanStatus.RETURNED
    assert [c.where for c in comments_of(first.submission.id, uow=world.uow)] == [
        "section root_cause"
    ]


def test_only_the_version_under_review_can_be_decided(world: World) -> None:
    first = world.submit(school_book("first"), "school@belen.org", final=True)
    assert first.submission is not None
    return_plan(first.submission.id, reviewer_email="district@belen.org", uow=world.uow,
                comment="again")  # fmt: skip
    second = world.submit(school_book("second"), "school@belen.org", final=True)
    assert second.submission is not None
    with pytest.raises(Conflict, match="not the version under review"):
        approve(first.submission.id, reviewer_email="district@belen.org", uow=world.uow)
    assert approve(second.submission.id, reviewer_email="district@belen.org", uow=world.uow)


def test_a_comment_points_at_a_cell_of_the_plan_or_is_refused(world: World) -> None:
    first = world.submit(school_book("first"), "school@belen.org", final=True)
    assert first.submission is not None
    sid = first.submission.id
    note = add_comment(sid, "Name?", author_email="district@belen.org", uow=world.uow,
                       cell="'1 Contact Information'!$c$10")  # fmt: skip
    assert (note.sheet, note.cell, note.field) == (
        "1 Contact Information",
        "C10",
        "contact.first_name",
    )
    for bad in ("C10", "'No Such Sheet'!C10", "'1 Contact Information'!10C"):
        with pytest.raises(InvalidInput):
            add_comment(sid, "x", author_email="district@belen.org", uow=world.uow, cell=bad)
    with pytest.raises(InvalidInput, match="no section"):
        add_comment(sid, "x", author_email="district@belen.org", uow=world.uow, section="nope")
    with pytest.raises(Forbidden):
        add_comment(sid, "x", author_email="school@belen.org", uow=world.uow)


def test_the_audit_log_records_before_and_after_and_refuses_changes(world: World) -> None:
    first = world.submit(school_book("first"), "school@belen.org", final=True)
    assert first.submission is not None
    with world.uow() as u:
        stored = [e for e in audit.entries(u.session) if e.action == "submission.stored"]
    assert len(stored) == 1
    assert stored[0].actor == "school@belen.org"
    assert stored[0].before == {"status": "draft"}
    assert stored[0].after is not None and stored[0].after["status"] == "submitted"
    assert stored[0].after["sha256"] == _sha(school_book("first"))
    assert not hasattr(audit, "update") and not hasattr(audit, "delete")
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), world.engine.begin() as c:
            c.execute(text(statement))
