"""The portal's home screen (user guide §2.3) and a coordinator's "My plans": the districts
and schools in a role's scope for a fiscal year, each with its plan's status, deadline, days
left and what to do next; a plan found by its key (`FY2027-school-006001`) within the role's
scope; and the pre-filled workbook of a plan, built as `aip workbook generate` builds it.

An approved plan also lists its progress updates (issue 12), one per reporting period of its
kind, each with its own key (`FY2027-school-006001-80`), state (data not loaded yet, ready to
report, checked, submitted, returned, approved) and deadline (`deadlines.deadline_of`). The
portal's plan pages serve a progress update through that key as they serve a plan."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlalchemy import false, select
from sqlalchemy.orm import Session

from aip_forms.config import ProgramConfig
from aip_forms.db.models import LeaRow, PeriodLoadRow, PlanRecordRow, SchoolRow
from aip_forms.domain import FiscalYear, PlanKind, ReportingPeriod
from aip_forms.errors import Forbidden, InvalidInput, NotFound
from aip_forms.programs.rules import SelectionKind
from aip_forms.services.access import Action, Grant, PlanRef, Role, allows
from aip_forms.services.deadlines import deadlines_of
from aip_forms.services.repository import find_plan
from aip_forms.services.uow import UowFactory
from aip_forms.services.workflow import PlanStatus

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from aip_forms.config import Settings

NOT_STARTED = "not started"
# still the coordinator's to do
OPEN_STATUSES = frozenset({NOT_STARTED, PlanStatus.DRAFT.value, PlanStatus.RETURNED.value})


@dataclass(frozen=True)
class HomeRow:
    """One plan a role looks after: a district plan (school_code None) or a school plan."""

    kind: PlanKind
    lea_code: str
    lea_name: str
    school_code: str | None
    school_name: str | None
    status: str
    deadline: dt.date
    plan_id: int | None = None  # None until the first upload is stored

    @property
    def name(self) -> str:
        return self.school_name or self.lea_name

    def late(self, today: dt.date) -> bool:
        """Past its deadline and not submitted."""
        return self.deadline < today and self.status in OPEN_STATUSES


def fiscal_year_of(day: dt.date) -> int:
    """New Mexico's fiscal year of `day`: July to June, FY2027 = 2026-27."""
    return FiscalYear(year=day.year + 1 if day.month >= 7 else day.year).year


def home_rows(
    grant: Grant, fiscal_year: int, *, uow: UowFactory, config: ProgramConfig
) -> list[HomeRow]:
    """The plans in `grant`'s scope: every district plan for PED roles; a district
    coordinator's district and its schools; a school coordinator's school."""
    with uow() as u:
        s = u.session
        leas = select(LeaRow).order_by(LeaRow.name)
        schools = select(SchoolRow, LeaRow).join(LeaRow, SchoolRow.lea_code == LeaRow.code)
        if grant.role is Role.SCHOOL_COORDINATOR:
            leas = leas.where(false())
            schools = schools.where(SchoolRow.code == grant.school_code)
        elif grant.role is Role.DISTRICT_COORDINATOR:
            leas = leas.where(LeaRow.code == grant.lea_code)
            schools = schools.where(SchoolRow.lea_code == grant.lea_code)
        else:
            schools = schools.where(false())
        plans = {
            (p.kind, p.lea_code, p.school_code): (p.status, p.id)
            for p in s.scalars(
                select(PlanRecordRow).where(
                    PlanRecordRow.fiscal_year == fiscal_year, PlanRecordRow.period.is_(None)
                )
            )
        }
        district = config.deadline(fiscal_year, PlanKind.DISTRICT)
        school = config.deadline(fiscal_year, PlanKind.SCHOOL)
        rows = [_row(PlanKind.DISTRICT, lea, None, district, plans) for lea in s.scalars(leas)]
        chosen = _selected(s, config, fiscal_year)
        rows += [
            _row(PlanKind.SCHOOL, lea, sch, school, plans)
            for sch, lea in s.execute(schools.order_by(SchoolRow.name))
            if chosen is None or sch.code in chosen
        ]
    return rows


def _selected(s: Session, config: ProgramConfig, fiscal_year: int) -> frozenset[str] | None:
    """Under a program that selects its schools (LAUSD), the selected ones: only they file a
    plan. None: every school does (New Mexico)."""
    if config.selection.kind is not SelectionKind.LOWEST_RATES:
        return None
    from aip_forms.services.selection import selection

    try:
        return frozenset(x.school_code for x in selection(s, config, fiscal_year).schools)
    except InvalidInput:
        return frozenset()


def _row(
    kind: PlanKind,
    lea: LeaRow,
    school: SchoolRow | None,
    deadline: dt.date,
    plans: dict[tuple[str, str, str | None], tuple[str, int]],
) -> HomeRow:
    code = school.code if school else None
    status, plan_id = plans.get((kind.value, lea.code, code), (NOT_STARTED, None))
    name = school.name if school else None
    return HomeRow(kind, lea.code, lea.name, code, name, status, deadline, plan_id)


def districts(*, uow: UowFactory) -> list[tuple[str, str]]:
    """(code, name) of every LEA, by name: the registration form's district list."""
    with uow() as u:
        return [
            (lea.code, lea.name) for lea in u.session.scalars(select(LeaRow).order_by(LeaRow.name))
        ]


# ---- my plans (coordinators) --------------------------------------------------------------

STATUS_WORDS = {
    NOT_STARTED: "not started",
    "draft": "draft checked",
    "submitted": "submitted",
    "resubmitted": "submitted (revised)",
    "returned": "returned",
    "approved": "approved",
}
# A progress update's states (issue 12): before its first upload it waits for the plan's
# approval, then for PED's period data, then for its coordinator.
WAITS_FOR_PLAN, NO_DATA, READY = "waits for plan", "data not loaded", "ready"
PROGRESS_WORDS = {
    WAITS_FOR_PLAN: "after the plan is approved",
    NO_DATA: "data not loaded yet",
    READY: "ready to report",
    "draft": "checked",
    "submitted": "submitted",
    "resubmitted": "submitted (revised)",
    "returned": "returned",
    "approved": "approved",
}
_KEY = re.compile(r"^FY(\d{4})-(district|school)-([0-9A-Za-z]{1,16})(?:-([0-9A-Za-z]{1,4}))?$")


@dataclass(frozen=True)
class MyPlan:
    """A plan, or one of its progress updates (`period`), as "My plans" shows it: where it
    stands and what the acting role does next."""

    row: HomeRow  # for a progress update: its own status, deadline and record id
    fiscal_year: int
    days_left: int
    may_submit: bool  # the acting role submits this plan (else it only reads it)
    period: ReportingPeriod | None = None
    plan_status: str = NOT_STARTED  # a progress update's plan's status
    data_loaded: bool = False  # a progress update's period data is loaded
    data_from: str = ""  # who loads period data: the program's agency_short ("PED")
    progress: tuple[MyPlan, ...] = ()  # a plan's progress updates, once it is approved

    @property
    def ref(self) -> PlanRef:
        r = self.row
        period = self.period.code if self.period else None
        return PlanRef(r.kind, self.fiscal_year, r.lea_code, r.school_code, period)

    @property
    def key(self) -> str:
        return plan_key(self.ref)

    @property
    def plan(self) -> PlanRef:
        return self.ref.plan

    @property
    def state(self) -> str:
        """The status, or before a progress update's first upload what it waits for."""
        status = self.row.status
        if self.period is None or status != NOT_STARTED:
            return status
        if self.plan_status != "approved":
            return WAITS_FOR_PLAN
        return READY if self.data_loaded else NO_DATA

    @property
    def what(self) -> str:
        """ "School plan", or "80-day progress update"."""
        if self.period is not None:
            return f"{self.period.label} progress update"
        return "District plan" if self.row.school_code is None else "School plan"

    @property
    def issued(self) -> bool:
        """A progress workbook can be downloaded (the plan approved, the data loaded)."""
        return self.period is None or (self.plan_status == "approved" and self.data_loaded)

    @property
    def status_words(self) -> str:
        if self.period is not None:
            return PROGRESS_WORDS.get(self.state, self.state)
        return STATUS_WORDS.get(self.row.status, self.row.status)

    @property
    def open(self) -> bool:
        """Still the coordinator's to do: its deadline counts (not once submitted)."""
        return self.state in (READY, NO_DATA, *OPEN_STATUSES)

    @property
    def overdue(self) -> bool:
        return self.days_left < 0 and self.open

    @property
    def next_step(self) -> str:
        if self.period is not None:
            return self._progress_step()
        status = self.row.status
        if self.may_submit:
            return {
                NOT_STARTED: "Download the pre-filled workbook, fill it in, then upload it "
                "to check it.",
                "draft": "Upload the finished workbook, check it, then submit it with the "
                "certification.",
                "submitted": "Nothing to do now: the plan is under review. You will get an "
                "email when it is reviewed.",
                "resubmitted": "Nothing to do now: the revised plan is under review.",
                "returned": "Download the revision workbook, make the changes the reviewer "
                "asked for, then upload it and submit it again.",
                "approved": "Nothing to do: the plan is approved.",
            }.get(status, "")
        if status in ("submitted", "resubmitted"):
            return "The plan waits for its review."
        return {
            NOT_STARTED: "Not started yet by its coordinator.",
            "draft": "Its coordinator is still working on it.",
            "returned": "Returned to its coordinator for changes.",
            "approved": "Nothing to do: the plan is approved.",
        }.get(status, "")

    def _progress_step(self) -> str:
        state = self.state
        if state == WAITS_FOR_PLAN:
            return "Reported once the plan is approved."
        if state == NO_DATA:
            return (
                f"{self.data_from} has not loaded this period's attendance data yet; the "
                "workbook is issued once it has."
            )
        if not self.may_submit:
            return {
                READY: "Not started yet by its coordinator.",
                "draft": "Its coordinator is still working on it.",
                "submitted": "The update waits for its review.",
                "resubmitted": "The update waits for its review.",
                "returned": "Returned to its coordinator for changes.",
                "approved": "Nothing to do: the update is approved.",
            }.get(state, "")
        return {
            READY: "Download the progress workbook, rate every strategy, adjust the targets, "
            "then upload it to check it.",
            "draft": "Upload the finished progress workbook, check it, then submit it.",
            "submitted": "Nothing to do now: the update is under review.",
            "resubmitted": "Nothing to do now: the revised update is under review.",
            "returned": "Download the progress workbook again, make the changes the reviewer "
            "asked for, then upload it and submit it again.",
            "approved": "Nothing to do: the update is approved.",
        }.get(state, "")


def plan_key(ref: PlanRef) -> str:
    """The plan's address in the portal: FY2027-district-006 or FY2027-school-006001; a
    progress update's adds its period: FY2027-school-006001-80."""
    code = ref.school_code if ref.kind is PlanKind.SCHOOL else ref.lea_code
    return f"FY{ref.fiscal_year}-{ref.kind.value}-{code}" + (f"-{ref.period}" if ref.period else "")


def my_plans(
    grant: Grant, today: dt.date, *, uow: UowFactory, config: ProgramConfig
) -> list[MyPlan]:
    """Every plan in the role's scope for the fiscal year of `today`; an approved plan with
    its progress updates."""
    year = fiscal_year_of(today)
    plans = [
        _mine(grant, row, year, today) for row in home_rows(grant, year, uow=uow, config=config)
    ]
    if not any(p.row.status == "approved" for p in plans):
        return plans
    with uow() as u:
        s = u.session
        context = _ProgressContext.of(s, config, year)
        return [
            replace(p, progress=context.updates(grant, p, today)) if p.row.status == "approved"
            else p
            for p in plans
        ]  # fmt: skip


@dataclass(frozen=True)
class _ProgressContext:
    """What the progress rows of a year need, read once: period loads, deadlines and
    progress records."""

    config: ProgramConfig
    loaded: frozenset[str]
    deadlines: dict[tuple[PlanKind, str | None], dt.date]
    records: dict[tuple[str, str, str | None, str], tuple[str, int]]

    @classmethod
    def of(cls, session: Session, config: ProgramConfig, year: int) -> _ProgressContext:
        loads = session.scalars(
            select(PeriodLoadRow.period).where(PeriodLoadRow.fiscal_year == year)
        )
        records = {
            (p.kind, p.lea_code, p.school_code, p.period): (p.status, p.id)
            for p in session.scalars(
                select(PlanRecordRow).where(
                    PlanRecordRow.fiscal_year == year, PlanRecordRow.period.is_not(None)
                )
            )
            if p.period is not None
        }
        deadlines = {(d.kind, d.period): d.due_on for d in deadlines_of(session, config, year)}
        return cls(config, frozenset(loads), deadlines, records)

    def updates(self, grant: Grant, plan: MyPlan, today: dt.date) -> tuple[MyPlan, ...]:
        return tuple(
            self.update(grant, plan, period, today)
            for period in self.config.periods_for(plan.row.kind)
        )

    def update(self, grant: Grant, plan: MyPlan, period: ReportingPeriod, today: dt.date) -> MyPlan:
        r = plan.row
        status, record = self.records.get(
            (r.kind.value, r.lea_code, r.school_code, period.code), (NOT_STARTED, None)
        )
        due = self.deadlines[(r.kind, period.code)]
        row = replace(r, status=status, deadline=due, plan_id=record)
        return replace(
            _mine(grant, row, plan.fiscal_year, today),
            period=period,
            plan_status=r.status,
            data_loaded=period.code in self.loaded,
            data_from=self.config.agency_short,
        )


def _mine(grant: Grant, row: HomeRow, year: int, today: dt.date) -> MyPlan:
    ref = PlanRef(row.kind, year, row.lea_code, row.school_code)
    days = (row.deadline - today).days
    return MyPlan(row, year, days, allows(grant, Action.SUBMIT, ref))


def plan_in_scope(
    key: str,
    grant: Grant,
    today: dt.date,
    *,
    uow: UowFactory,
    config: ProgramConfig,
    action: Action = Action.READ,
) -> MyPlan:
    """The plan (or progress update) `key` names, when the role may do `action` with it. A
    plan outside the role's reading scope (or no such plan, or a period its kind does not
    report) is NotFound, so that another LEA's plans are not even confirmed to exist; a plan
    the role reads but may not submit is Forbidden."""
    found = _KEY.match(key or "")
    missing = NotFound("There is no plan at this address in your role's scope.")
    if not found:
        raise missing
    year, kind, code = int(found.group(1)), PlanKind(found.group(2)), found.group(3)
    period = None
    if found.group(4):
        period = next((p for p in config.periods_for(kind) if p.code == found.group(4)), None)
        if period is None:
            raise missing
    with uow() as u:
        s = u.session
        school = s.get(SchoolRow, code) if kind is PlanKind.SCHOOL else None
        lea = s.get(LeaRow, school.lea_code if school else code)
        if lea is None or (kind is PlanKind.SCHOOL and school is None):
            raise missing
        ref = PlanRef(kind, year, lea.code, school.code if school else None)
        if not allows(grant, Action.READ, ref):
            raise missing
        if not allows(grant, action, ref):
            raise Forbidden(
                "Your role does not allow this for that plan: "
                + (
                    "the school's coordinator submits a school plan."
                    if kind is PlanKind.SCHOOL
                    else "the district's coordinator submits the district plan."
                )
            )
        plan = find_plan(s, ref)
        status, plan_id = (plan.status, plan.id) if plan else (NOT_STARTED, None)
        row = HomeRow(
            kind,
            lea.code,
            lea.name,
            school.code if school else None,
            school.name if school else None,
            status,
            config.deadline(year, kind),
            plan_id,
        )
        mine = _mine(grant, row, year, today)
        if period is None:
            return mine
        return _ProgressContext.of(s, config, year).update(grant, mine, period, today)


def parent_plan_id(mine: MyPlan, *, uow: UowFactory) -> int | None:
    """The record id of a progress update's plan (None before the plan's first upload)."""
    with uow() as u:
        plan = find_plan(u.session, mine.plan)
        return None if plan is None else plan.id


@dataclass(frozen=True)
class Download:
    data: bytes
    filename: str


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def prefilled_workbook(
    ref: PlanRef, *, engine: Engine, config: ProgramConfig, settings: Settings
) -> Download:
    """The plan's workbook pre-filled with PED's data, built as `aip workbook generate`
    builds one (a fresh signature each time)."""
    from aip_forms.data.queries import plan_data
    from workbook_templates.build import build_workbook
    from workbook_templates.generate import file_name

    data = plan_data(engine, config, ref.fiscal_year, ref.lea_code, ref.school_code)
    wb = build_workbook(config.spec(data.kind), data, config, settings)
    out = io.BytesIO()
    wb.save(out)
    return Download(out.getvalue(), f"FY{ref.fiscal_year}-{file_name(data)}")
