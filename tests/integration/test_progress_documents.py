"""Progress in the plan documents (issue 12 point 6), on SQLite and PostgreSQL over the
dashboards' world (`seed_dashboard`: Belen High's plan approved, its 80-day update approved
with reflections, 80- and 120-day rates loaded): `progress_of` reads each reporting period's
rates and update, and the document shows the rates against the target in force, hidden
groups as `*` with a key, and the approved update's ratings and reflections."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import Engine, insert, select

from aip_forms.data.queries import lea_plan_data
from aip_forms.db.models import PlanRecordRow, SubmissionRow
from aip_forms.domain import PlanKind
from aip_forms.filled_plan import Plan, PlanRow, PlanSection
from aip_forms.services.access import PlanRef
from aip_forms.services.repository import storage_prefix
from aip_forms.services.stored_plans import plan_from_report, progress_of
from aip_forms.services.uow import UowFactory
from exports.render import render_docx
from exports.review import ReviewInfo
from exports.suppression import suppress
from tests.integration.test_dashboards import CONFIG, seed_dashboard
from tests.unit.test_render_docx import document_text, squash

HIGH = PlanRef(PlanKind.SCHOOL, 2027, "006", "006001")


@pytest.fixture
def uow(engine: Engine) -> UowFactory:
    return seed_dashboard(engine)


def _approved_plan(engine: Engine, ref: PlanRef) -> Plan:
    with engine.connect() as c:
        report = c.execute(
            select(SubmissionRow.report)
            .join(PlanRecordRow, SubmissionRow.plan_id == PlanRecordRow.id)
            .where(PlanRecordRow.school_code == ref.school_code, PlanRecordRow.period.is_(None))
        ).scalar_one()
    plan = plan_from_report(report, CONFIG)
    assert plan is not None
    return plan


def test_progress_of_reads_rates_and_the_approved_update(engine: Engine, uow: UowFactory) -> None:
    with uow() as u:
        periods = progress_of(u.session, CONFIG, HIGH)
    assert [(p.code, p.update_status, p.loaded) for p in periods] == [
        ("80", "approved", True),
        ("120", "", True),
        ("EOY", "", False),
    ]
    rates = {(r.group_type, r.code): (r.rate, r.students) for r in periods[0].rates}
    assert rates[("subgroup", "male")] == (20.0, 200)
    assert [(r.ref, r.rating) for r in periods[0].reflections] == [
        ("1.1", "Partly effective"),
        ("2.1", "Effective"),
    ]
    with uow() as u:  # a progress update itself has no progress of its own
        assert progress_of(u.session, CONFIG, dataclasses.replace(HIGH, period="80")) == ()


def test_the_document_shows_rates_against_the_target_in_force(
    engine: Engine, uow: UowFactory
) -> None:
    with uow() as u:
        periods = progress_of(u.session, CONFIG, HIGH)
    # the 80-day update lowered the male target to 13%: in force at 120 days
    adjusted = dataclasses.replace(periods[0], adjusted=(("subgroup", "male", 0.13),))
    review = ReviewInfo(status="approved", progress=(adjusted, *periods[1:]))
    datas = lea_plan_data(engine, CONFIG, 2027, "006")
    (data,) = [d for d in datas if d.school and d.school.code == "006001"]
    plan = _approved_plan(engine, HIGH)
    hidden = suppress(datas, CONFIG)
    text = squash(document_text(render_docx(plan, data, CONFIG, review=review, suppression=hidden)))
    assert "Progress Through the Year" in text
    assert "80-day Approved 12.0% 14.5% No 120-day Not started 12.0% 16.0% No" in text
    assert "80-day: rates against the targets in force" in text
    assert "Male 14.0% 20.0% No 13.0%" in text  # target 14%, 20% at 80 days, adjusted to 13%
    assert "Male 13.0% 24.0% No" in text  # the adjusted target in force at 120 days
    assert "Female 10.0% 9.0% Yes" in text
    assert "American Indian or Alaska Native * * * *" in text  # 6 students
    assert "Key: * hidden to protect student privacy." in text
    assert "1.1 Parent Outreach Programs Partly effective 40 families reached; buses late." in text
    assert "The progress update for this period is not approved yet (not started)." in text
    assert "EOY" not in text.split("Progress Through the Year", 1)[1].split("Review Status")[0]


def test_a_submitted_update_shows_its_status_not_its_words(engine: Engine, uow: UowFactory) -> None:
    with engine.begin() as c:
        user = c.execute(select(SubmissionRow.uploaded_by).limit(1)).scalar_one()
        plan_id = c.execute(
            insert(PlanRecordRow)
            .values(
                kind="school",
                fiscal_year=2027,
                lea_code="006",
                school_code="006001",
                period="120",
                storage_prefix=storage_prefix(dataclasses.replace(HIGH, period="120")),
                status="submitted",
            )
            .returning(PlanRecordRow.id)
        ).scalar_one()
        words = Plan(
            kind=PlanKind.SCHOOL,
            spec_version=1,
            fiscal_year=2027,
            lea_code="006",
            school_code="006001",
            sections={
                "strategies": PlanSection(
                    tables={
                        "strategies": [
                            PlanRow(
                                row=6,
                                code="1.1",
                                values={
                                    "strategy": "Parent Outreach Programs",
                                    "rating": "Effective",
                                    "reflection": "Not yet reviewed words.",
                                },
                            )
                        ]
                    }
                )
            },
        )
        c.execute(insert(SubmissionRow).values(
            plan_id=plan_id, version=1, object_key="p/120/v1.xlsx", sha256="0" * 64, size=1,
            filename="p.xlsx", uploaded_by=user, final=True, status="submitted",
            report={"plan": words.to_json_dict()}))  # fmt: skip
    with uow() as u:
        periods = progress_of(u.session, CONFIG, HIGH)
    assert (periods[1].update_status, periods[1].reflections) == ("submitted", ())
