"""Progress updates (issue 12): the progress workbook of an approved plan for a period.

`progress_workbook(plan_id, period)` gathers what the workbook pre-fills (`progress_data`)
and builds it with the progress spec (`ProgramConfig.progress_spec`): the approved plan's
targets per subgroup and grade, the period's current rates (PED's period data), earlier
periods' rates and entries, and every strategy of every tier of the plan. It refuses, with a
message saying which: a plan that is not approved, a period the plan's kind does not report
(or that is not a period at all), and a period whose data PED has not loaded.

The coordinator fills it and uploads it with `submit` like a plan: its signed metadata names
the period, so it is stored as its own record (`plan.period`) and reviewed with `review`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from aip_forms.catalog import OTHER_STRATEGY
from aip_forms.config import ProgramConfig, Settings
from aip_forms.db.models import (
    AbsenceRow,
    LeaRow,
    PeriodLoadRow,
    PlanRecordRow,
    SchoolRow,
    SubmissionRow,
)
from aip_forms.domain import Lea, LeaType, PlanKind, ReportingPeriod, School
from aip_forms.errors import Conflict, InvalidInput, NotFound
from aip_forms.filled_plan import Plan, PlanRow
from aip_forms.issued_data import PlanData, ProgressData, ProgressRow, StrategyRow
from aip_forms.services.access import Action, PlanRef
from aip_forms.services.deadlines import deadline_of
from aip_forms.services.repository import authorize, find_plan, plan_ref, require_plan
from aip_forms.services.submissions import Validator
from aip_forms.services.uow import UowFactory
from aip_forms.services.workflow import PlanStatus, VersionStatus
from aip_forms.spec import META_SHEET
from aip_forms.workbook_format.layout import SUPPRESSED_RATE
from validators.problems import Problem
from validators.validate import Expectation, ValidationReport

TARGET_TABLES = (("demographics", "subgroups", "subgroup"), ("grades", "grades", "grade"))


@dataclass(frozen=True)
class _Entries:
    """What an earlier progress update said: adjusted targets and strategy entries."""

    label: str
    targets: dict[tuple[str, str], float]  # (group type, code) -> fraction
    strategies: dict[str, tuple[str, str]]  # ref -> (rating, reflection)


def progress_workbook(
    plan_id: int,
    period: str,
    *,
    uow: UowFactory,
    config: ProgramConfig,
    settings: Settings,
    user_email: str | None = None,
    issued_at: str | None = None,
) -> tuple[str, bytes]:
    """(file name, .xlsx bytes) of the plan's progress workbook for `period`."""
    from workbook_templates.build import build_workbook

    with uow() as u:
        plan = require_plan(u.session, plan_id)
        authorize(u.session, user_email, Action.READ, plan)
        data = progress_data(u.session, config, plan, period)
    wb = build_workbook(
        config.progress_spec(data.kind), data, config, settings, issued_at=issued_at
    )
    out = io.BytesIO()
    wb.save(out)
    assert data.progress is not None
    name = f"progress-{data.progress.period.lower()}-{data.entity_code}-FY{data.fiscal_year}.xlsx"
    return name, out.getvalue()


def reporting_period(config: ProgramConfig, kind: PlanKind, code: str) -> ReportingPeriod:
    """The period `code` of a plan of `kind`; InvalidInput naming the periods it reports."""
    periods = config.periods_for(kind)
    allowed = ", ".join(p.code for p in periods)
    found = next((p for p in periods if p.code.upper() == code.strip().upper()), None)
    if found is None:
        if code.strip().upper() in {p.code.upper() for p in config.periods}:
            raise InvalidInput(
                f"wrong period: {kind.value} plans report progress at {allowed}, not at "
                f"period {code}"
            )
        raise InvalidInput(f"no reporting period {code!r}: the periods are {allowed}")
    return found


def progress_data(
    session: Session, config: ProgramConfig, plan: PlanRecordRow, period_code: str
) -> PlanData:
    """Everything a progress workbook pre-fills, or the refusal that says why not."""
    ref = plan_ref(plan)
    if ref.period is not None:
        raise InvalidInput(
            f"plan {plan.id} is itself a progress update; give the plan's own ID ({ref.plan})"
        )
    period = reporting_period(config, ref.kind, period_code)
    if plan.status != PlanStatus.APPROVED:
        raise Conflict(
            f"{ref} is {plan.status}, not approved: its progress workbook is issued once the "
            "plan is approved"
        )
    if session.get(PeriodLoadRow, (ref.fiscal_year, period.code)) is None:
        raise Conflict(
            f"the {period.label} data of FY{ref.fiscal_year} is not loaded yet: "
            f"{config.agency_short} loads it with `aip data load period_rates.csv` (or "
            "period_students.csv), then the progress workbook can be issued"
        )
    approved = session.scalar(
        select(SubmissionRow)
        .where(SubmissionRow.plan_id == plan.id, SubmissionRow.status == VersionStatus.APPROVED)
        .order_by(SubmissionRow.version.desc())
        .limit(1)
    )
    if approved is None or not approved.report.get("plan"):
        raise NotFound(f"{ref} has no approved version with its answers stored")
    answers = Plan.model_validate(approved.report["plan"])
    earlier_periods = [p for p in config.periods_for(ref.kind) if _before(config, p, period)]
    rates = _rates(session, ref, [*earlier_periods, period])
    earlier = [e for p in earlier_periods if (e := _entries(session, ref, p)) is not None]
    groups = {
        group_type: _progress_rows(
            answers.rows(section, table), group_type, period, rates, earlier, config
        )
        for section, table, group_type in TARGET_TABLES
    }
    lea_row = session.get(LeaRow, ref.lea_code)
    if lea_row is None:
        raise NotFound(f"unknown LEA {ref.lea_code}")
    school = None
    if ref.school_code:
        s = session.get(SchoolRow, ref.school_code)
        if s is None:
            raise NotFound(f"unknown school {ref.school_code}")
        school = School(
            code=s.code, lea_code=s.lea_code, name=s.name, grade_low=s.grade_low,
            grade_high=s.grade_high,
        )  # fmt: skip
    due = deadline_of(session, config, ref.fiscal_year, ref.kind, period.code)
    return PlanData(
        kind=ref.kind,
        fiscal_year=ref.fiscal_year,
        lea=Lea(code=lea_row.code, name=lea_row.name, type=LeaType(lea_row.type)),
        school=school,
        history_years=(),
        subgroups=(),
        grades=(),
        tier_counts={},
        deadline=due.due_on,
        min_group_size=config.min_group_size,
        progress=ProgressData(
            period=period.code,
            period_label=period.label,
            plan_id=plan.id,
            plan_version=approved.version,
            subgroups=groups["subgroup"],
            grades=groups["grade"],
            strategies=_strategies(answers, earlier),
        ),
    )


def _before(config: ProgramConfig, a: ReportingPeriod, b: ReportingPeriod) -> bool:
    order = [p.code for p in config.periods]
    return order.index(a.code) < order.index(b.code)


def _rates(
    session: Session, ref: PlanRef, periods: list[ReportingPeriod]
) -> dict[tuple[str, str, str], AbsenceRow]:
    """(period, group type, code) -> the entity's rate row."""
    rows = session.scalars(
        select(AbsenceRow).where(
            AbsenceRow.fiscal_year == ref.fiscal_year,
            AbsenceRow.period.in_([p.code for p in periods]),
            AbsenceRow.lea_code == ref.lea_code,
            AbsenceRow.school_code == (ref.school_code or ""),
        )
    )
    return {(r.period, r.group_type, r.group_code): r for r in rows}


def _entries(session: Session, ref: PlanRef, period: ReportingPeriod) -> _Entries | None:
    """The latest submitted (or approved) version of the earlier period's update, if any."""
    record = find_plan(
        session, PlanRef(ref.kind, ref.fiscal_year, ref.lea_code, ref.school_code, period.code)
    )
    if record is None:
        return None
    latest = session.scalar(
        select(SubmissionRow)
        .where(SubmissionRow.plan_id == record.id, SubmissionRow.final.is_(True))
        .order_by(SubmissionRow.version.desc())
        .limit(1)
    )
    if latest is None or not latest.report.get("plan"):
        return None
    filled = Plan.model_validate(latest.report["plan"])
    targets = {}
    for group_type, table in (("subgroup", "subgroups"), ("grade", "grades")):
        for row in filled.rows(table, table):
            value = row.get("adjusted_target")
            if row.code and isinstance(value, int | float) and not isinstance(value, bool):
                targets[(group_type, row.code)] = float(value)
    strategies = {
        row.code: (str(row.get("rating") or ""), str(row.get("reflection") or ""))
        for row in filled.rows("strategies", "strategies")
        if row.code
    }
    return _Entries(period.label, targets, strategies)


def _fraction(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _progress_rows(
    rows: list[PlanRow],
    group_type: str,
    period: ReportingPeriod,
    rates: Mapping[tuple[str, str, str], AbsenceRow],
    earlier: list[_Entries],
    config: ProgramConfig,
) -> tuple[ProgressRow, ...]:
    labels = {p.label: p.code for p in config.periods}
    out = []
    for row in rows:
        if not row.code:
            continue
        plan_target = _fraction(row.get("target"))
        suppressed = not isinstance(row.get("enrollment"), int | float)
        current = rates.get((period.code, group_type, row.code))
        if current is not None and current.students is not None:
            suppressed = suppressed or current.students < config.min_group_size
        target = plan_target
        said = []
        for entry in earlier:
            rate = rates.get((labels[entry.label], group_type, row.code))
            shown = SUPPRESSED_RATE if suppressed else _pct(rate.rate_pct if rate else None)
            adjusted = entry.targets.get((group_type, row.code))
            if adjusted is not None:
                target = adjusted
            said.append(f"{entry.label}: {shown}; target {_pct(_times100(adjusted))}")
        out.append(
            ProgressRow(
                code=row.code,
                label=str(row.get("group") or row.code),
                plan_target=_times100(plan_target),
                current_target=_times100(target),
                current_rate=None if current is None else current.rate_pct,
                earlier="\n".join(said),
                suppressed=suppressed,
            )
        )
    return tuple(out)


def _times100(fraction: float | None) -> float | None:
    return None if fraction is None else round(fraction * 100, 6)


def _pct(rate_pct: float | None) -> str:
    return "-" if rate_pct is None else f"{rate_pct:.1f}%"


def _strategies(answers: Plan, earlier: list[_Entries]) -> tuple[StrategyRow, ...]:
    out = []
    for tier in range(1, 10):
        rows = [r for r in answers.rows("tiers", f"tier{tier}") if r.get("strategy")]
        for n, row in enumerate(rows, start=1):
            name = str(row.get("strategy"))
            if name.casefold() == OTHER_STRATEGY.casefold() and row.get("other_strategy"):
                name = f"Other: {row.get('other_strategy')}"
            ref = f"{tier}.{n}"
            said = [
                f"{e.label}: {rating or '-'}; {reflection}"
                for e in earlier
                if (entry := e.strategies.get(ref)) is not None
                for rating, reflection in (entry,)
            ]
            action = row.get("action_steps")
            out.append(
                StrategyRow(
                    ref=ref,
                    tier=tier,
                    strategy=name,
                    action_steps=None if action is None else str(action),
                    earlier="\n".join(said)[:2000],
                )
            )
    return tuple(out)


# ---- uploads: a plan workbook where a progress workbook is expected, and vice versa -------


def expecting(validate: Validator, config: ProgramConfig, ref: PlanRef) -> Validator:
    """`validate` for uploads to `ref` (a plan, or a progress update with `ref.period`): a
    progress workbook uploaded for the plan, a plan workbook for a progress update, or the
    progress workbook of another period is refused before anything else is said about it
    (the validator accepts any period where none is expected, as `aip submit` needs)."""

    def checked(
        data: bytes, *, filename: str | None, expect: Expectation, final: bool
    ) -> ValidationReport:
        report = validate(data, filename=filename, expect=replace(expect, period=None), final=final)
        found = report.identity.period if report.identity else None
        if report.identity is None or found == ref.period:
            return report
        wrong = Problem(
            code="WRONG_PERIOD",
            severity="error",
            message=_wrong_workbook(config, ref, found),
            sheet=META_SHEET,
        )
        # as the validator's own identity problems: the only thing said, the cells unchecked
        return replace(report, outcome="unreadable", errors=[wrong], warnings=[], plan=None)

    return checked


def _wrong_workbook(config: ProgramConfig, ref: PlanRef, found: str | None) -> str:
    def label(code: str) -> str:
        return next((p.label for p in config.periods if p.code == code), code)

    if found is None:
        return (
            f"This is the plan workbook, not the {label(str(ref.period))} progress workbook. "
            "Download the progress workbook from My plans, fill it in and upload that file here."
        )
    if ref.period is None:
        return (
            f"This is the {label(found)} progress workbook, not the plan workbook. Upload it "
            f"on the plan's {label(found)} progress update in My plans, or upload the plan "
            "workbook here."
        )
    return (
        f"This is the {label(found)} progress workbook, but this upload is for the "
        f"{label(ref.period)} progress update. Upload the {label(ref.period)} progress "
        "workbook here (download it from My plans)."
    )
