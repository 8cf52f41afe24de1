"""The end-of-year public report (NMSA 22-12A-7): plan targets against results.

`eoy_report` gathers, for a fiscal year and one LEA or the whole state, every plan of the
year (district and school plans with enrollment that year) with:

- its status (the plan record's) and its targets per subgroup and grade, from the stored
  answers of its approved version (else its latest version): the targets the plan set;
- the result of each group: the end-of-year rate, or, while PED has not loaded the
  end-of-year data, the latest reporting period loaded (the report says which);
- the date of that data (when PED loaded it).

Small groups are hidden exactly as in the documents: the cells `exports.suppression` hides
for the year's enrollment (computed per LEA over all its plans), and a result whose group
had fewer students in the period than the minimum group size.

`report_document` renders it as .xlsx (`exports.eoy.eoy_workbook`) or PDF (a Word document,
`exports.eoy.eoy_docx`, through the PDF converter). Refusals: an unknown LEA (NotFound), a
year with no plans or no period data (NotFound), a role that may not see the LEA
(Forbidden), an unknown format (InvalidInput).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from aip_forms.config import ProgramConfig
from aip_forms.data import queries
from aip_forms.db.models import (
    AbsenceRow,
    DataLoadRow,
    LeaRow,
    PeriodLoadRow,
    PlanRecordRow,
    SubmissionRow,
)
from aip_forms.domain import PlanKind, ReportingPeriod
from aip_forms.errors import Forbidden, InvalidInput, NotFound
from aip_forms.filled_plan import Plan
from aip_forms.issued_data import PlanData
from aip_forms.programs.rules import Direction, Metric
from aip_forms.services.access import Grant, Role
from aip_forms.services.uow import UowFactory, aware
from aip_forms.services.workflow import VersionStatus
from exports.pdf import PdfConverter
from exports.suppression import GRADE, SUBGROUP, Suppression, entity_of, suppress_by_lea

FORMATS = ("pdf", "xlsx")
NO_PLAN = "No plan received"
STATUS_LABELS = {
    "draft": "Draft (not submitted)",
    "submitted": "Submitted, in review",
    "resubmitted": "Resubmitted, in review",
    "returned": "Returned for revision",
    "approved": "Approved",
}
TARGET_TABLES = ((SUBGROUP, "demographics", "subgroups"), (GRADE, "grades", "grades"))


class NoResults(NotFound):
    """The year has no plans or no period data: a refusal about the fiscal year asked for."""


@dataclass(frozen=True)
class GroupResult:
    """One subgroup or grade of a plan: its target and its result, in percent."""

    group_type: str
    code: str
    label: str
    target: float | None
    result: float | None
    target_hidden: bool = False
    result_hidden: bool = False
    lower_is_better: bool = True  # the program's metric: chronic absence falls as it improves

    @property
    def met(self) -> str:
        """ "Yes", "No", or "" when either number is missing or hidden."""
        if self.target_hidden or self.result_hidden:
            return ""
        if self.target is None or self.result is None:
            return ""
        if self.lower_is_better:
            return "Yes" if self.result <= self.target + 1e-9 else "No"
        return "Yes" if self.result >= self.target - 1e-9 else "No"


@dataclass(frozen=True)
class PlanResult:
    kind: PlanKind
    lea_code: str
    lea_name: str
    school_code: str | None
    school_name: str | None
    status: str
    groups: tuple[GroupResult, ...]

    @property
    def name(self) -> str:
        return self.school_name or self.lea_name

    @property
    def all_students(self) -> GroupResult | None:
        return next((g for g in self.groups if (g.group_type, g.code) == (SUBGROUP, "all")), None)


@dataclass(frozen=True)
class EoyReport:
    fiscal_year: int
    lea_code: str | None  # None: statewide
    scope_name: str  # "Statewide" or the LEA's name
    period: ReportingPeriod
    end_of_year: bool  # False: the latest period loaded stands in for the end of year
    data_date: dt.date
    min_size: int
    plans: tuple[PlanResult, ...]
    metric: Metric  # what the rates measure, for wording
    agency_short: str  # the program's (config.agency_short): "PED"
    legal_basis: str  # the program's (config.legal_basis): "NMSA 22-12A-7"
    synthetic: bool = False  # the results were loaded from `aip data sample` files

    @property
    def title(self) -> str:
        return f"Attendance Improvement Plans, FY{self.fiscal_year}: targets and results"

    @property
    def results_label(self) -> str:
        if self.end_of_year:
            return f"{self.period.label} FY{self.fiscal_year}"
        return f"{self.period.label} FY{self.fiscal_year} (latest period loaded)"

    @property
    def file_stem(self) -> str:
        return f"eoy-report-FY{self.fiscal_year}-{self.lea_code or 'statewide'}"


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; choose pdf or xlsx")
    return fmt


def check_scope(grant: Grant | None, lea_code: str | None) -> None:
    """PED (coordinator or reviewer): statewide and any LEA; a district coordinator: their
    own LEA; anyone else: Forbidden. No grant: the operator at the command line."""
    if grant is None or grant.role in (Role.PED_COORDINATOR, Role.PED_REVIEWER):
        return
    if grant.role is Role.DISTRICT_COORDINATOR and lea_code and grant.lea_code == lea_code:
        return
    what = f"LEA {lea_code}" if lea_code else "the whole state"
    raise Forbidden(f"a {grant} may not download the end-of-year report of {what}")


def eoy_report(
    *,
    engine: Engine,
    uow: UowFactory,
    config: ProgramConfig,
    fiscal_year: int,
    lea_code: str | None,
    grant: Grant | None = None,
) -> EoyReport:
    """The report of one LEA (`lea_code`) or of the state (None)."""
    check_scope(grant, lea_code)
    with uow() as u:
        s = u.session
        scope_name = "Statewide" if lea_code is None else _lea_name(s, lea_code)
        period, loaded_at, synthetic = _results_period(s, config, fiscal_year)
    datas = _plan_datas(engine, config, fiscal_year, lea_code)
    with uow() as u:
        s = u.session
        plans = _plans(s, config, fiscal_year, lea_code)
        results = _results(s, fiscal_year, period.code, lea_code)
    suppression = suppress_by_lea(datas, config)
    min_size = min((d.min_group_size for d in datas), default=config.min_group_size)
    return EoyReport(
        fiscal_year=fiscal_year,
        lea_code=lea_code,
        scope_name=scope_name,
        period=period,
        end_of_year=period.day is None,
        data_date=loaded_at.date(),
        min_size=min_size,
        synthetic=synthetic,
        metric=config.metric,
        agency_short=config.agency_short,
        legal_basis=config.legal_basis,
        plans=tuple(
            _plan_result(d, plans.get(_key(d)), results, suppression, min_size, config.metric)
            for d in datas
        ),
    )


def _lea_name(s: Session, lea_code: str) -> str:
    row = s.get(LeaRow, lea_code)
    if row is None:
        raise NotFound(f"unknown LEA {lea_code!r}: no such LEA in the reference data")
    return row.name


def _results_period(
    s: Session, config: ProgramConfig, fiscal_year: int
) -> tuple[ReportingPeriod, dt.datetime, bool]:
    """The end of year if loaded, else the latest period loaded; when it was loaded, and
    whether it was loaded from synthetic sample files."""
    loaded = {
        row.period: row
        for row in s.scalars(select(PeriodLoadRow).where(PeriodLoadRow.fiscal_year == fiscal_year))
    }
    for period in reversed(config.periods):
        if period.code in loaded:
            row = loaded[period.code]
            load = s.get(DataLoadRow, row.load_id)
            return period, aware(row.loaded_at), _synthetic(load.source if load else "")
    raise NoResults(
        f"no results for FY{fiscal_year}: no reporting period's data is loaded for that year "
        f"({config.agency_short} loads it with `aip data load` of period_rates.csv or "
        "period_students.csv)"
    )


def _synthetic(source: str) -> bool:
    """Whether a load's files came with the README `aip data sample` writes beside them
    (the load records the paths it was given: folders or files)."""
    from aip_forms.data.sample import PERIOD_README_NAME, README_NAME

    for part in filter(None, source.split("; ")):
        path = Path(part)
        for folder in (path, path.parent):
            if (folder / PERIOD_README_NAME).is_file() or (folder / README_NAME).is_file():
                return True
    return False


def _plan_datas(
    engine: Engine, config: ProgramConfig, fiscal_year: int, lea_code: str | None
) -> list[PlanData]:
    try:
        if lea_code is None:
            datas = list(queries.all_plan_data(engine, config, fiscal_year))
        else:
            datas = queries.lea_plan_data(engine, config, fiscal_year, lea_code)
    except queries.UnknownEntity as exc:
        raise NotFound(f"{exc} Load the reference data with `aip data load`.") from exc
    if not datas:
        where = f"LEA {lea_code}" if lea_code else "any LEA"
        raise NoResults(f"no plans of {where} for FY{fiscal_year}: no enrollment is loaded")
    return datas


PlanKeyT = tuple[str, str | None]


def _key(data: PlanData) -> PlanKeyT:
    return (data.lea.code, data.school.code if data.school else None)


def _plans(
    s: Session, config: ProgramConfig, fiscal_year: int, lea_code: str | None
) -> dict[PlanKeyT, tuple[str, dict[tuple[str, str], float]]]:
    """(LEA, school) -> (plan status, targets by (group type, code) in percent)."""
    query = select(PlanRecordRow).where(
        PlanRecordRow.fiscal_year == fiscal_year, PlanRecordRow.period.is_(None)
    )
    if lea_code is not None:
        query = query.where(PlanRecordRow.lea_code == lea_code)
    records = {r.id: r for r in s.scalars(query)}
    chosen: dict[int, SubmissionRow] = {}
    if records:
        versions = s.scalars(
            select(SubmissionRow)
            .where(SubmissionRow.plan_id.in_(list(records)))
            .order_by(SubmissionRow.plan_id, SubmissionRow.version)
        )
        for v in versions:  # the approved version wins; else the latest
            held = chosen.get(v.plan_id)
            if (
                held is None
                or held.status != VersionStatus.APPROVED
                or (v.status == VersionStatus.APPROVED)
            ):
                chosen[v.plan_id] = v
    out = {}
    for plan_id, record in records.items():
        version = chosen.get(plan_id)
        answers = _answers(version.report if version else None, config)
        out[(record.lea_code, record.school_code)] = (
            STATUS_LABELS.get(record.status, record.status.capitalize()),
            _targets(answers),
        )
    return out


def _answers(report: Mapping[str, object] | None, config: ProgramConfig) -> Plan | None:
    from aip_forms.services.stored_plans import plan_from_report

    return plan_from_report(report or {}, config)


def _targets(plan: Plan | None) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    for group_type, section, table in TARGET_TABLES if plan else ():
        assert plan is not None
        for row in plan.rows(section, table):
            value = row.get("target")
            if row.code and isinstance(value, int | float) and not isinstance(value, bool):
                out[(group_type, row.code)] = round(float(value) * 100, 6)
    return out


ResultKey = tuple[str, str, str, str]  # LEA, school or "", group type, group code


def _results(
    s: Session, fiscal_year: int, period: str, lea_code: str | None
) -> dict[ResultKey, tuple[float, int | None]]:
    query = select(
        AbsenceRow.lea_code, AbsenceRow.school_code, AbsenceRow.group_type,
        AbsenceRow.group_code, AbsenceRow.rate_pct, AbsenceRow.students,
    ).where(AbsenceRow.fiscal_year == fiscal_year, AbsenceRow.period == period)  # fmt: skip
    if lea_code is not None:
        query = query.where(AbsenceRow.lea_code == lea_code)
    return {(lea, sch, t, c): (rate, n) for lea, sch, t, c, rate, n in s.execute(query)}


def _plan_result(
    data: PlanData,
    plan: tuple[str, dict[tuple[str, str], float]] | None,
    results: Mapping[ResultKey, tuple[float, int | None]],
    suppression: Suppression,
    min_size: int,
    metric: Metric,
) -> PlanResult:
    status, targets = plan if plan else (NO_PLAN, {})
    entity = entity_of(data)
    school = data.school.code if data.school else ""
    groups = []
    for group_type, rows in ((SUBGROUP, data.subgroups), (GRADE, data.grades)):
        for row in rows:
            hidden = suppression.is_hidden(entity, group_type, row.code)
            found = results.get((data.lea.code, school, group_type, row.code))
            result, students = found if found else (None, None)
            small = students is not None and students < min_size
            no_students = row.enrollment is None and found is None
            groups.append(
                GroupResult(
                    group_type=group_type,
                    code=row.code,
                    label=row.label,
                    # a group with no students or hidden has no target to show
                    target=None if no_students else targets.get((group_type, row.code)),
                    result=result,
                    target_hidden=hidden,
                    result_hidden=hidden or (small and result is not None),
                    lower_is_better=metric.direction is Direction.LOWER_IS_BETTER,
                )
            )
    return PlanResult(
        kind=data.kind,
        lea_code=data.lea.code,
        lea_name=data.lea.name,
        school_code=data.school.code if data.school else None,
        school_name=data.school.name if data.school else None,
        status=status,
        groups=tuple(groups),
    )


def report_document(report: EoyReport, fmt: str, converter: PdfConverter | None) -> bytes:
    """The report as .xlsx or PDF bytes."""
    import io

    from exports.eoy import eoy_docx, eoy_workbook

    check_format(fmt)
    if fmt == "xlsx":
        out = io.BytesIO()
        eoy_workbook(report).save(out)
        return out.getvalue()
    if converter is None:
        raise InvalidInput("no PDF converter")
    from aip_forms.services.documents import docx_to_pdf

    return docx_to_pdf(eoy_docx(report), converter)


def plans_in(report: EoyReport, kind: PlanKind) -> Iterable[PlanResult]:
    return (p for p in report.plans if p.kind is kind)
