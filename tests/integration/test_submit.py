"""Submit, review, revise and approve with the real pieces: generated workbooks filled with
example answers, the validator, the local and S3 (moto over HTTP) stores, SQLite and
PostgreSQL. The fixtures here are imported by test_submit_failures.py."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from aip_forms.bootstrap import App
from aip_forms.config import ProgramConfig, Settings
from aip_forms.domain import Lea, PlanKind, School
from aip_forms.issued_data import PlanData
from aip_forms.services.access import PlanRef
from aip_forms.services.integrity import verify
from aip_forms.services.revision import revision_workbook
from aip_forms.services.submissions import (
    SubmitResult,
    Validator,
    get_submission,
    list_submissions,
    stored_report,
    submit,
)
from aip_forms.services.uow import UowFactory, sql_uow
from aip_forms.services.workflow import PlanStatus
from aip_forms.spec import spec_for
from aip_forms.storage import LocalObjectStore, ObjectStore
from aip_forms.storage.s3 import S3ObjectStore
from tests.support.nm import approve, diff_submissions, return_plan
from tests.support.s3 import make_client, moto_server, new_bucket
from tests.unit.test_workflow import seed_reference, seed_users
from workbook_templates.example import example_workbook
from workbook_templates.synthetic import plan_data

CONFIG = ProgramConfig()
SETTINGS = Settings(
    home=Path("/nonexistent"),
    database_url="sqlite://",
    secret_key=b"integration-secret",
    workbook_password="protect",
)
LEA = Lea(code="006", name="BELEN CONSOLIDATED")
SCHOOL = School(code="006001", lea_code="006", name="BELEN HIGH", grade_low="9", grade_high="12")
SCHOOL_DATA = plan_data(CONFIG, 2027, LEA, SCHOOL, schools=(SCHOOL,))
DISTRICT_DATA = plan_data(CONFIG, 2027, LEA, None, schools=(SCHOOL,))
CERTIFY = {
    "5 Final Submission!C5": "Yes",
    "5 Final Submission!C6": "Kristin Garcia",
    "5 Final Submission!C7": "School Attendance Coordinator",
    "5 Final Submission!C8": dt.date(2026, 9, 20),
}


def edited(data: bytes, cells: Mapping[str, Any]) -> bytes:
    """The workbook with cells ("Sheet!C5" -> value) changed, as a coordinator would."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    for ref, value in cells.items():
        sheet, _, cell = ref.rpartition("!")
        wb[sheet][cell].value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def example(data: PlanData = SCHOOL_DATA, cells: Mapping[str, Any] | None = None) -> bytes:
    """The example workbook of a plan (complete, valid), with `cells` changed."""
    wb = example_workbook(spec_for(data.kind), data, CONFIG, SETTINGS)
    out = io.BytesIO()
    wb.save(out)
    return edited(out.getvalue(), cells) if cells else out.getvalue()


def first_name(value: str) -> dict[str, str]:
    return {"1 Contact Information!C10": value}


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


def make_store(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if kind == "local":
        return LocalObjectStore(tmp_path / "objects")
    client = make_client(request.getfixturevalue("moto_endpoint"))
    request.addfinalizer(client.close)
    return S3ObjectStore(new_bucket(client), "aip", client)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    return make_store(request.param, request, tmp_path)


@dataclass
class Rig:
    engine: Engine
    uow: UowFactory
    store: ObjectStore
    validate: Validator

    def submit(
        self,
        data: bytes,
        user: str = "school@belen.org",
        *,
        final: bool = False,
        uow: UowFactory | None = None,
        store: ObjectStore | None = None,
    ) -> SubmitResult:
        return submit(data, user_email=user, uow=uow or self.uow, store=store or self.store,
                      validate=self.validate, final=final, filename="plan.xlsx")  # fmt: skip

    def assert_consistent(self) -> None:
        """`aip storage verify`: every record has its intact object, no orphans."""
        report = verify(uow=self.uow, store=self.store)
        assert report.problems == []
        assert report.ok == report.records == len(list_submissions(uow=self.uow))


@pytest.fixture
def rig(engine: Engine, store: ObjectStore) -> Rig:
    seed_reference(engine)
    uow = sql_uow(engine)
    seed_users(uow)
    return Rig(engine, uow, store, App(SETTINGS, CONFIG).validator)


def test_submit_stores_the_workbook_and_records_the_version(rig: Rig) -> None:
    data = example()
    result = rig.submit(data, final=True)
    assert (result.outcome, result.exit_code) == ("stored", 0), result.message
    sub = result.submission
    assert sub is not None
    assert sub.object_key == "fy2027/lea-006/school-006001/school/v0001.xlsx"
    assert (sub.version, sub.size, sub.final, sub.uploaded_by) == (
        1, len(data), True, "school@belen.org",
    )  # fmt: skip
    view, stored = get_submission(sub.id, uow=rig.uow, store=rig.store)
    assert stored == data and view == sub
    _, report = stored_report(sub.id, uow=rig.uow)
    assert report["outcome"] == "valid" and report["final"] is True
    assert report["plan"]["sections"]["contact"]["fields"]["first_name"] == "Kristin"
    rig.assert_consistent()


def test_an_invalid_workbook_is_refused_with_its_problems_and_nothing_stored(rig: Rig) -> None:
    result = rig.submit(example(cells={"1 Contact Information!C13": "not an email"}), final=True)
    assert (result.outcome, result.exit_code) == ("invalid", 1)
    assert result.report is not None
    assert any(p.cell == "C13" for p in result.report.errors)
    assert list(rig.store.iter_keys()) == []
    assert list_submissions(uow=rig.uow) == []


def test_a_file_that_is_no_workbook_is_unreadable(rig: Rig) -> None:
    result = rig.submit(b"name,target\nall,10\n", final=True)
    assert (result.outcome, result.exit_code) == ("unreadable", 2)
    assert list(rig.store.iter_keys()) == []


def test_submit_return_revise_resubmit_approve(rig: Rig) -> None:
    first = rig.submit(example(), final=True)
    assert first.submission is not None
    returned = return_plan(
        first.submission.id,
        reviewer_email="district@belen.org",
        uow=rig.uow,
        comment="Say which routes.",
        cell="'3 Root Cause Analysis'!B10",
    )
    assert returned.plan.status is PlanStatus.RETURNED

    revision = revision_workbook(returned.plan.id, uow=rig.uow, plan_data=lambda ref: SCHOOL_DATA,
                                 config=CONFIG, settings=SETTINGS)  # fmt: skip
    wb = openpyxl.load_workbook(io.BytesIO(revision.data))
    note = wb["3 Root Cause Analysis"]["B10"].comment
    assert note is not None and "Say which routes." in note.text
    assert "district@belen.org" in note.text
    assert wb["1 Contact Information"]["C10"].value == "Kristin"
    assert wb["5 Final Submission"]["C5"].value is None  # certified anew

    revised = edited(revision.data, {"3 Root Cause Analysis!B10": "Routes 4 and 9.", **CERTIFY})
    second = rig.submit(revised, final=True)
    assert second.submission is not None, second.message
    assert (second.submission.version, second.submission.plan.status) == (
        2,
        PlanStatus.RESUBMITTED,
    )
    changes = diff_submissions(first.submission.id, second.submission.id, uow=rig.uow).changes
    changed = {c.path for c in changes}
    assert "root_cause.barriers" in changed
    # Every answer but the revised one and the new certification came back from the revision
    # workbook unchanged.
    assert changed - {"root_cause.barriers"} <= {
        "certification.name", "certification.title", "certification.date",
    }  # fmt: skip
    approved = approve(second.submission.id, reviewer_email="district@belen.org", uow=rig.uow)
    assert approved.plan.status is PlanStatus.APPROVED
    rig.assert_consistent()


def test_a_district_plan_is_reviewed_by_ped(rig: Rig) -> None:
    result = rig.submit(example(DISTRICT_DATA), "district@belen.org", final=True)
    assert result.submission is not None, result.message
    assert result.submission.object_key == "fy2027/lea-006/district/district/v0001.xlsx"
    approved = approve(result.submission.id, reviewer_email="ped@ped.nm.gov", uow=rig.uow)
    assert approved.plan.status is PlanStatus.APPROVED


def test_identical_content_twice_stores_once(rig: Rig) -> None:
    data = example()
    assert rig.submit(data).outcome == "stored"
    assert rig.submit(data).outcome == "unchanged"
    assert len(list(rig.store.iter_keys())) == 1
    rig.assert_consistent()


def test_the_revision_workbook_of_a_plan_is_for_its_readers_only(rig: Rig) -> None:
    from aip_forms.errors import Forbidden

    first = rig.submit(example(), final=True)
    assert first.submission is not None
    args: dict[str, Any] = {"uow": rig.uow, "plan_data": lambda ref: SCHOOL_DATA,
                            "config": CONFIG, "settings": SETTINGS}  # fmt: skip
    plan_id = first.submission.plan.id
    assert revision_workbook(plan_id, user_email="school@belen.org", **args).answers > 50
    with pytest.raises(Forbidden):
        revision_workbook(plan_id, user_email="school@bernalillo.org", **args)


def test_the_audit_log_refuses_update_and_delete(engine: Engine) -> None:
    with engine.begin() as c:
        c.execute(text("INSERT INTO audit_log (at, action, entity, entity_id) "
                       "VALUES (CURRENT_TIMESTAMP, 'x', 'plan', '1')"))  # fmt: skip
    for statement in ("UPDATE audit_log SET action = 'y'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as c:
            c.execute(text(statement))
    with engine.connect() as c:
        assert c.scalar(text("SELECT action FROM audit_log")) == "x"


def test_plan_ref_of_a_submission_names_the_plan(rig: Rig) -> None:
    result = rig.submit(example())
    assert result.submission is not None
    assert result.submission.plan.ref == PlanRef(PlanKind.SCHOOL, 2027, "006", "006001")
