"""The progress cycle end to end on the services, on SQLite and PostgreSQL, with a real SMTP
server (aiosmtpd) and a fixed clock: a school plan approved, the 80-day data loaded, the
progress workbook issued, filled with openpyxl, validated, submitted and reviewed; then
reminders sent once and not twice, and an overdue notice after the deadline."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine, insert, select

from aip_forms.data.load import load_paths
from aip_forms.db.models import EnrollmentRow, PlanRecordRow, ReminderSentRow
from aip_forms.domain import PlanKind
from aip_forms.errors import Conflict, Forbidden, InvalidInput
from aip_forms.mail import SmtpMailer
from aip_forms.services.deadlines import deadline_of, set_deadline
from aip_forms.services.progress import progress_workbook
from aip_forms.services.reminders import send_reminders
from aip_forms.services.submissions import submit
from aip_forms.services.uow import UowFactory, sql_uow
from aip_forms.services.workflow import PlanStatus
from aip_forms.storage import LocalObjectStore
from tests.integration.test_mail import Inbox, smtp  # noqa: F401 - the SMTP fixture
from tests.integration.test_submit import CERTIFY, CONFIG, SETTINGS, example
from tests.support.nm import approve
from tests.unit.test_workflow import seed_reference, seed_users
from validators.validate import validate_upload

NOW = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)
RATES = (
    "fiscal_year,period,lea_code,school_code,group_type,group_code,students,chronically_absent,"
    "rate_pct\n"
    "2027,80,006,006001,subgroup,all,400,58,14.5\n"
    "2027,80,006,006001,grade,9,100,20,20.0\n"
)


def clock() -> dt.datetime:
    return NOW


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> Iterator[tuple[Engine, UowFactory, LocalObjectStore]]:
    seed_reference(engine)
    uow = sql_uow(engine)
    seed_users(uow)
    with engine.begin() as c:
        c.execute(insert(EnrollmentRow), [
            {"fiscal_year": 2027, "lea_code": "006", "school_code": "006001",
             "group_type": "subgroup", "group_code": "all", "enrollment": 400},
        ])  # fmt: skip
    yield engine, uow, LocalObjectStore(tmp_path / "objects")


def fill(workbook: bytes, *, skip_reflection: bool = False) -> bytes:
    """Answer a progress workbook as a coordinator would: same targets, every strategy."""
    wb = openpyxl.load_workbook(io.BytesIO(workbook))
    about = wb["1 Progress Update"]
    about["C12"], about["C13"] = "Kristin Garcia", "School Coordinator"
    about["C14"], about["C15"] = "kg@belen.k12.nm.us", dt.date(2027, 1, 10)
    for sheet in ("2A Subgroup Progress", "2B Grade Progress"):
        ws = wb[sheet]
        for row in range(6, ws.max_row + 1):
            if isinstance(ws[f"D{row}"].value, int | float):
                ws[f"F{row}"] = ws[f"D{row}"].value
    ws = wb["3 Strategy Reflection"]
    for row in range(6, ws.max_row + 1):
        if ws[f"C{row}"].value:
            ws[f"F{row}"] = "Partly effective"
            if not (skip_reflection and row == 6):
                ws[f"G{row}"] = f"What happened with {ws[f'C{row}'].value}: 40 families reached."
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_the_progress_cycle_with_reminders(
    world: tuple[Engine, UowFactory, LocalObjectStore],
    smtp: tuple[int, Inbox],  # noqa: F811
    tmp_path: Path,
) -> None:
    engine, uow, store = world
    validate = partial(validate_upload, key=SETTINGS.secret_key, config=CONFIG)
    send = partial(submit, uow=uow, store=store, validate=validate, clock=clock)
    issue = partial(progress_workbook, uow=uow, config=CONFIG, settings=SETTINGS)

    plan = send(example(cells=CERTIFY), user_email="school@belen.org", final=True)
    assert plan.outcome == "stored", plan.message
    assert plan.submission is not None
    plan_id = plan.submission.plan.id
    with pytest.raises(Conflict, match="is submitted, not approved"):
        issue(plan_id, "80")
    approve(plan.submission.id, reviewer_email="district@belen.org", uow=uow, clock=clock)

    with pytest.raises(InvalidInput, match="wrong period: school plans report progress at 80"):
        issue(plan_id, "40")
    with pytest.raises(Conflict, match="80-day data of FY2027 is not loaded"):
        issue(plan_id, "80")
    (tmp_path / "p80").mkdir()
    (tmp_path / "p80" / "period_rates.csv").write_text(RATES)
    assert load_paths(engine, CONFIG, [tmp_path / "p80"]).ok

    name, workbook = issue(plan_id, "80", user_email="school@belen.org")
    assert name == "progress-80-006001-FY2027.xlsx"
    wb = openpyxl.load_workbook(io.BytesIO(workbook))
    all_students = wb["2A Subgroup Progress"][6]
    assert all_students[0].value == "All Students" and all_students[4].value == 0.145

    incomplete = send(fill(workbook, skip_reflection=True), user_email="school@belen.org",
                      final=True)  # fmt: skip
    assert incomplete.outcome == "invalid" and incomplete.report is not None
    assert [(p.code, p.cell) for p in incomplete.report.errors] == [
        ("STRATEGY_REFLECTION_MISSING", "G6")
    ]

    update = send(fill(workbook), user_email="school@belen.org", final=True)
    assert update.outcome == "stored", update.message
    assert update.submission is not None
    ref = update.submission.plan.ref
    assert (ref.period, ref.kind, update.submission.plan.id) == (
        "80",
        PlanKind.SCHOOL,
        ref and update.submission.plan.id,
    )
    assert update.submission.plan.id != plan_id
    assert update.submission.object_key.endswith("/progress-80/v0001.xlsx")
    reviewed = approve(update.submission.id, reviewer_email="district@belen.org", uow=uow,
                       clock=clock)  # fmt: skip
    assert reviewed.plan.status is PlanStatus.APPROVED
    with engine.connect() as conn:
        periods = conn.execute(select(PlanRecordRow.period).order_by(PlanRecordRow.id)).scalars()
        assert list(periods) == [None, "80"]

    # Reminders: three days before the 120-day deadline, through a real SMTP server.
    port, inbox = smtp
    mailer = SmtpMailer("127.0.0.1", port, "noreply@ped.nm.gov")
    with uow() as u:
        due = deadline_of(u.session, CONFIG, 2027, PlanKind.SCHOOL, "120").due_on
    remind = partial(send_reminders, uow=uow, config=CONFIG, mailer=mailer, clock=clock)
    first = remind(today=due - dt.timedelta(days=3))
    to_school = [m for m in inbox.messages if m["To"] == "school@belen.org"]
    assert [m["Subject"] for m in to_school] == [
        f"Reminder: the FY2027 120-day progress update of school 006001 is due {due:%A, %B %d, %Y}"
    ]
    assert ("school@belen.org", "reminder-3", to_school[0]["Subject"]) in first.sent
    digests = [m for m in inbox.messages if m["Subject"].startswith("Weekly digest: LEA 006")]
    assert (
        len(digests) == 1 and "school 006001: 120-day progress update" in digests[0].get_content()
    )
    assert any(m["To"] == "ped@ped.nm.gov" for m in inbox.messages)  # districts' digest

    count = len(inbox.messages)
    again = remind(today=due - dt.timedelta(days=3))
    assert again.sent == [] and again.already == len(first.sent)
    assert len(inbox.messages) == count

    late = remind(today=due + dt.timedelta(days=1))
    overdue = [m for m in inbox.messages[count:] if m["To"] == "school@belen.org"]
    assert [m["Subject"] for m in overdue] == [
        "Overdue: the FY2027 120-day progress update of school 006001"
    ]
    assert late.sent and remind(today=due + dt.timedelta(days=1)).sent == []
    with engine.connect() as conn:
        kinds = conn.execute(
            select(ReminderSentRow.kind).where(ReminderSentRow.recipient == "school@belen.org")
        ).scalars()
        assert sorted(kinds) == ["overdue", "reminder-3"]


def test_ped_sets_a_deadline_and_the_district_plan_defaults_to_45_school_days(
    world: tuple[Engine, UowFactory, LocalObjectStore],
) -> None:
    _engine, uow, _store = world
    with uow() as u:
        district = deadline_of(u.session, CONFIG, 2027, PlanKind.DISTRICT, None)
    # FY2027 starts Monday August 10, 2026; the 45th school day is Friday October 9.
    assert (district.due_on, district.source) == (
        dt.date(2026, 10, 9),
        "45 school days in (NMSA 22-12A-7)",
    )
    with pytest.raises(Forbidden, match="may not set deadlines"):
        set_deadline(
            uow=uow,
            config=CONFIG,
            fiscal_year=2027,
            kind=PlanKind.DISTRICT,
            period=None,
            due_on=dt.date(2026, 10, 20),
            user_email="district@belen.org",
        )
    with pytest.raises(InvalidInput, match="school plans report at 80, 120, EOY"):
        set_deadline(uow=uow, config=CONFIG, fiscal_year=2027, kind=PlanKind.SCHOOL,
                     period="40", due_on=dt.date(2026, 10, 20))  # fmt: skip
    set_deadline(uow=uow, config=CONFIG, fiscal_year=2027, kind=PlanKind.DISTRICT, period=None,
                 due_on=dt.date(2026, 10, 20), user_email="ped@ped.nm.gov")  # fmt: skip
    with uow() as u:
        district = deadline_of(u.session, CONFIG, 2027, PlanKind.DISTRICT, None)
    assert (district.due_on, district.source) == (dt.date(2026, 10, 20), "PED")
