"""Monitoring dashboards (issue 12): who is on track, who is late, who needs support.

`dashboard(grant, filters)` gathers, for a fiscal year and the acting role's scope (PED:
statewide, or one LEA with the LEA filter; a district coordinator: its district and its
schools; a school coordinator: its school), with a few queries and no query per plan:

- every district and school plan and each of its progress updates with its status and
  deadline (`deadlines.deadlines_of`), late ones marked against the App's clock;
- each approved plan's targets in force for the period against the period's current rates
  (PED's period data), group by group, and the rate of the period before it. The target in
  force is the approved plan's for the first period; for a later period, the adjusted
  target of the latest approved progress update of an earlier period (`_in_force`; each
  result says which, `GroupResult.target_source`);
- targets against actual by LEA (statewide) or school (district), by subgroup and by grade;
- the groups off track (current rate worse than target, or worsening since the last
  period), ranked by how far off target they are; "worse" follows the program's metric:
  above for chronic absence (lower is better), below for a higher-is-better share;
- the share of plans on track (all students meeting target) per reporting period.

Small groups are hidden as in the documents: a cell `exports.suppression` hides for the
year's enrollment (computed per LEA once per data load and stored in `hidden_cells`, by
`precompute_hidden_cells` after `aip data load` or by the first dashboard that needs it;
kept in each process too), and any rate of a period whose
group had fewer students than the minimum. Counts of students are never shown, only rates.

`plan_words(key, grant)` is the words behind the numbers of one plan: its root causes and
the latest reflections of its progress updates.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, delete, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aip_forms.config import ProgramConfig
from aip_forms.db.models import (
    AbsenceRow,
    DataLoadRow,
    EnrollmentRow,
    HiddenCellsRow,
    LeaRow,
    PeriodLoadRow,
    PlanRecordRow,
    SchoolRow,
    SubmissionRow,
)
from aip_forms.domain import PlanKind, ReportingPeriod
from aip_forms.errors import InvalidInput, NotFound
from aip_forms.filled_plan import Plan
from aip_forms.programs.rules import Direction
from aip_forms.services.access import Action, Grant, PlanRef, Role, allows
from aip_forms.services.deadlines import deadlines_of
from aip_forms.services.home import (
    NOT_STARTED,
    OPEN_STATUSES,
    STATUS_WORDS,
    fiscal_year_of,
    plan_key,
)
from aip_forms.services.uow import UowFactory
from aip_forms.services.workflow import PlanStatus, VersionStatus

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from exports.suppression import CellKey

ALL = "all"
SUBGROUP, GRADE = "subgroup", "grade"
LATE = "late"
WAITING = "waiting for the plan"
STATUS_CHOICES = (
    NOT_STARTED,
    *(s.value for s in PlanStatus),
    LATE,
)
STATEWIDE, DISTRICT, SCHOOL = "statewide", "district", "school"
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class Filters:
    """What the page asks for; `period` None: the plans themselves (for the status filter)
    and the latest period with data (for rates)."""

    fiscal_year: int
    period: str | None = None
    lea_code: str | None = None
    status: str | None = None


def parse_filters(args: Mapping[str, str], today: dt.date, config: ProgramConfig) -> Filters:
    """Filters from GET parameters; anything not understood is InvalidInput naming it."""
    year_text = (args.get("fy") or "").strip()
    year = fiscal_year_of(today)
    if year_text:
        if not year_text.isdigit() or not FIRST_YEAR <= int(year_text) <= LAST_YEAR:
            raise InvalidInput(f"fiscal year: give a year from {FIRST_YEAR} to {LAST_YEAR}")
        year = int(year_text)
    period = (args.get("period") or "").strip().upper() or None
    if period is not None and period not in {p.code for p in config.periods}:
        allowed = ", ".join(p.code for p in config.periods)
        raise InvalidInput(f"period: choose one of {allowed}")
    lea = (args.get("lea") or "").strip() or None
    if lea is not None and not (lea.isalnum() and len(lea) <= 16):
        raise InvalidInput("LEA: give an LEA code (letters and digits)")
    status = (args.get("status") or "").strip().lower() or None
    if status is not None and status not in STATUS_CHOICES:
        raise InvalidInput(f"status: choose one of {', '.join(STATUS_CHOICES)}")
    return Filters(year, period, lea, status)


@dataclass(frozen=True)
class Entity:
    """Whose plan: an LEA (district plan) or a school (school plan)."""

    kind: PlanKind
    lea_code: str
    lea_name: str
    school_code: str | None = None
    school_name: str | None = None
    key: str = ""  # the plan's address in the portal (`home.plan_key`)

    @property
    def name(self) -> str:
        return self.school_name or self.lea_name

    @property
    def code(self) -> str:
        return self.school_code or self.lea_code

    @classmethod
    def of(
        cls, kind: PlanKind, year: int, lea: str, lea_name: str,
        school: str | None = None, school_name: str | None = None,
    ) -> Entity:  # fmt: skip
        key = plan_key(PlanRef(kind, year, lea, school))
        return cls(kind, lea, lea_name, school, school_name, key)


@dataclass(frozen=True)
class Step:
    """The plan itself (period None) or one progress update, where it stands."""

    period: str | None
    label: str
    status: str
    due_on: dt.date
    late: bool

    @property
    def words(self) -> str:
        said = STATUS_WORDS.get(self.status, self.status)
        return f"{said} (late)" if self.late else said


@dataclass(frozen=True)
class PlanLine:
    entity: Entity
    key: str
    plan: Step
    updates: tuple[Step, ...]

    def step(self, period: str | None) -> Step | None:
        if period is None:
            return self.plan
        return next((u for u in self.updates if u.period == period), None)

    @property
    def late(self) -> bool:
        return self.plan.late or any(u.late for u in self.updates)


@dataclass(frozen=True)
class GroupResult:
    """One group of one approved plan: its target against the period's rate (percents;
    None when there is none or it is hidden)."""

    entity: Entity
    key: str
    group_type: str
    group_code: str
    group_label: str
    target: float | None
    current: float | None
    previous: float | None
    hidden: bool
    target_from: str = ""  # "": the approved plan; else the progress update's period label
    lower_is_better: bool = True  # the program's metric (chronic absence: lower is better)

    @property
    def target_source(self) -> str:
        """Where the target in force comes from, in words."""
        return f"{self.target_from} update" if self.target_from else "approved plan"

    @property
    def gap(self) -> float | None:
        if self.current is None or self.target is None:
            return None
        return round(self.current - self.target, 1)

    @property
    def above_target(self) -> bool:
        return self.gap is not None and self.gap > 0

    @property
    def rising(self) -> bool:
        return (
            self.current is not None and self.previous is not None and self.current > self.previous
        )

    @property
    def shortfall(self) -> float | None:
        """Points off target in the worse direction (negative: better than target)."""
        if self.gap is None:
            return None
        return self.gap if self.lower_is_better else -self.gap

    @property
    def misses_target(self) -> bool:
        return self.shortfall is not None and self.shortfall > 0

    @property
    def worsening(self) -> bool:
        if self.current is None or self.previous is None:
            return False
        return self.rising if self.lower_is_better else self.current < self.previous

    @property
    def off_track(self) -> bool:
        return not self.hidden and (self.misses_target or self.worsening)

    @property
    def why(self) -> str:
        said = []
        if self.misses_target:
            side = "above" if self.lower_is_better else "below"
            said.append(f"{self.shortfall:.1f} points {side} target")
        if self.worsening:
            said.append(f"{'rising' if self.lower_is_better else 'falling'} since the last period")
        return "; ".join(said)


@dataclass(frozen=True)
class Comparison:
    """Target against actual for one row of a bar chart (percents)."""

    code: str
    label: str
    target: float | None
    actual: float | None
    plans: int
    hidden: bool = False


@dataclass(frozen=True)
class PeriodShare:
    period: str
    label: str
    with_data: int
    on_track: int

    @property
    def share(self) -> float | None:
        return None if not self.with_data else round(100 * self.on_track / self.with_data, 1)


@dataclass(frozen=True)
class TrendRow:
    """A school's own group over the periods (school view)."""

    group_type: str
    group_code: str
    group_label: str
    target: float | None
    rates: tuple[float | None, ...]  # one per loaded period; None: no data or hidden
    hidden: bool


@dataclass
class Dashboard:
    scope: str
    filters: Filters
    today: dt.date
    period: ReportingPeriod | None  # the period the rates are of
    loaded: tuple[ReportingPeriod, ...]
    periods: tuple[ReportingPeriod, ...]  # every period, in order
    leas: list[tuple[str, str]]  # the LEA filter's choices
    plans: list[PlanLine] = field(default_factory=list)
    results: list[GroupResult] = field(default_factory=list)
    by_place: list[Comparison] = field(default_factory=list)
    by_subgroup: list[Comparison] = field(default_factory=list)
    by_grade: list[Comparison] = field(default_factory=list)
    shares: list[PeriodShare] = field(default_factory=list)
    trend: list[TrendRow] = field(default_factory=list)
    min_group_size: int = 10

    off_track: list[GroupResult] = field(default_factory=list)  # ranked

    @property
    def adjusted_from(self) -> list[str]:
        """The periods of the progress updates whose adjusted targets are shown."""
        labels = {r.target_from for r in self.results if r.target_from}
        return [p.label for p in self.periods if p.label in labels]

    @property
    def late(self) -> list[PlanLine]:
        return [p for p in self.plans if p.late]


# ---- scope -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    name: str
    lea_code: str | None  # None: every LEA
    school_code: str | None


def scope_of(grant: Grant, filters: Filters) -> Scope:
    """PED roles see the state (or the LEA they filter on); coordinators their own place,
    whatever the filter says."""
    if grant.role is Role.SCHOOL_COORDINATOR:
        return Scope(SCHOOL, grant.lea_code, grant.school_code)
    if grant.role is Role.DISTRICT_COORDINATOR:
        return Scope(DISTRICT, grant.lea_code, None)
    return Scope(STATEWIDE, filters.lea_code, None)


def _in_scope(scope: Scope, lea_column: Any, school_column: Any) -> Any:
    clauses = []
    if scope.lea_code is not None:
        clauses.append(lea_column == scope.lea_code)
    if scope.school_code is not None:
        clauses.append(school_column == scope.school_code)
    return and_(true(), *clauses)


# ---- the dashboard ---------------------------------------------------------------------------


def dashboard(
    grant: Grant,
    filters: Filters,
    *,
    uow: UowFactory,
    config: ProgramConfig,
    today: dt.date,
    engine: Engine | None = None,
) -> Dashboard:
    """The dashboard of `grant`'s scope (see the module docstring)."""
    scope = scope_of(grant, filters)
    with uow() as u:
        s = u.session
        loaded_codes = set(
            s.scalars(
                select(PeriodLoadRow.period).where(PeriodLoadRow.fiscal_year == filters.fiscal_year)
            )
        )
        loaded = tuple(p for p in config.periods if p.code in loaded_codes)
        period = _rates_period(loaded, filters.period, config)
        board = Dashboard(
            scope.name, filters, today, period, loaded, tuple(config.periods),
            _lea_choices(s) if scope.name == STATEWIDE else [],
            min_group_size=config.min_group_size,
        )  # fmt: skip
        entities = _entities(s, scope, filters.fiscal_year)
        board.plans = _plan_lines(s, config, filters, entities, today)
        bind: Any = engine or s.get_bind()
        database = str(bind.url)
        year = filters.fiscal_year
        plan_targets = _approved_targets(s, config, year, scope, database)
        updates = _approved_updates(s, year, scope, database)
        targets, sources = _in_force(plan_targets, updates, period, config)
        load = _last_load(s)
        hidden = _hidden_cells(bind, s, config, year, scope, load)
        # What follows depends only on the loaded data (the load id) and on the approved
        # plans (which never change once approved): kept for the next request.
        versions = frozenset(
            (place, code, tuple(sorted(adjusted.items())))
            for place, said in updates.items()
            for code, adjusted in said.items()
        )
        memo_key = (database, year, load, scope, period, loaded, frozenset(targets), versions)
        measures = _memo_get(memo_key)
        if measures is None:
            results: list[GroupResult] = []
            if period is not None:
                rates = _rates(s, year, scope, period, _previous(loaded, period))
                results = _results(entities, targets, rates, hidden, config, sources)
            all_rates = _all_students_rates(s, year, scope, loaded)
            in_force = {p.code: _in_force(plan_targets, updates, p, config)[0] for p in loaded}
            shares = _shares(entities, in_force, all_rates, hidden, loaded, config)
            off_track = sorted(
                (r for r in results if r.off_track),
                key=lambda r: (-(r.shortfall if r.shortfall is not None else -1e9), r.entity.name,
                               r.group_label),
            )  # fmt: skip
            measures = _memo_put(memo_key, (results, off_track, shares))
        board.results, board.off_track, board.shares = measures
        if scope.name == SCHOOL:
            board.trend = _trend(s, entities, targets, hidden, loaded, config, filters)
    board.by_place = _by_place(board.results, scope)
    kind = PlanKind.DISTRICT if scope.name == STATEWIDE else PlanKind.SCHOOL
    board.by_subgroup = _by_group(board.results, SUBGROUP, kind, config)
    board.by_grade = _by_group(board.results, GRADE, kind, config)
    return board


Measures = tuple[list["GroupResult"], list["GroupResult"], list["PeriodShare"]]
_MEMO_SIZE = 16
_memo: dict[tuple[Any, ...], Measures] = {}


def _memo_get(key: tuple[Any, ...]) -> Measures | None:
    with _hidden_lock:
        found = _memo.pop(key, None)
        if found is not None:
            _memo[key] = found  # the most recently used last
        return found


def _memo_put(key: tuple[Any, ...], value: Measures) -> Measures:
    with _hidden_lock:
        _memo[key] = value
        while len(_memo) > _MEMO_SIZE:
            del _memo[next(iter(_memo))]
    return value


def _rates_period(
    loaded: tuple[ReportingPeriod, ...], wanted: str | None, config: ProgramConfig
) -> ReportingPeriod | None:
    if wanted is None:
        return loaded[-1] if loaded else None
    return next((p for p in loaded if p.code == wanted), None)


def _previous(loaded: tuple[ReportingPeriod, ...], period: ReportingPeriod) -> str | None:
    codes = [p.code for p in loaded]
    at = codes.index(period.code)
    return codes[at - 1] if at > 0 else None


def _lea_choices(s: Session) -> list[tuple[str, str]]:
    return [(c, n) for c, n in s.execute(select(LeaRow.code, LeaRow.name).order_by(LeaRow.name))]


def _entities(s: Session, scope: Scope, year: int) -> dict[tuple[str, str | None], Entity]:
    """(LEA, school or None) -> whose plan, for every plan the scope holds."""
    out: dict[tuple[str, str | None], Entity] = {}
    names = {}
    leas = select(LeaRow.code, LeaRow.name).where(_in_scope(scope, LeaRow.code, None))
    for code, name in s.execute(leas.order_by(LeaRow.name)):
        names[code] = name
        if scope.name != SCHOOL:
            out[(code, None)] = Entity.of(PlanKind.DISTRICT, year, code, name)
    schools = select(SchoolRow.code, SchoolRow.lea_code, SchoolRow.name).where(
        _in_scope(scope, SchoolRow.lea_code, SchoolRow.code)
    )
    for code, lea, name in s.execute(schools.order_by(SchoolRow.name)):
        out[(lea, code)] = Entity.of(PlanKind.SCHOOL, year, lea, names.get(lea, lea), code, name)
    return out


def _plan_lines(
    s: Session,
    config: ProgramConfig,
    filters: Filters,
    entities: Mapping[tuple[str, str | None], Entity],
    today: dt.date,
) -> list[PlanLine]:
    year = filters.fiscal_year
    due = {(d.kind, d.period): d.due_on for d in deadlines_of(s, config, year)}
    statuses: dict[tuple[str, str | None, str | None], str] = {}
    leas = {lea for lea, _ in entities}
    query = select(
        PlanRecordRow.lea_code, PlanRecordRow.school_code, PlanRecordRow.period,
        PlanRecordRow.status,
    ).where(PlanRecordRow.fiscal_year == year)  # fmt: skip
    if len(leas) == 1:
        query = query.where(PlanRecordRow.lea_code.in_(leas))
    for lea, school, period, status in s.execute(query):
        statuses[(lea, school, period)] = status
    labels = {p.code: p.label for p in config.periods}
    lines = []
    for (lea, school), entity in entities.items():
        status = statuses.get((lea, school, None), NOT_STARTED)
        deadline = due[(entity.kind, None)]
        plan = Step(None, "Plan", status, deadline, deadline < today and status in OPEN_STATUSES)
        approved = status == PlanStatus.APPROVED
        updates = []
        for p in config.periods_for(entity.kind):
            got = statuses.get((lea, school, p.code), NOT_STARTED if approved else WAITING)
            when = due[(entity.kind, p.code)]
            late = approved and when < today and got in OPEN_STATUSES
            updates.append(Step(p.code, labels[p.code], got, when, late))
        line = PlanLine(entity, entity.key, plan, tuple(updates))
        if _matches(line, filters):
            lines.append(line)
    return sorted(
        lines, key=lambda ln: (not ln.late, ln.entity.lea_name, ln.entity.school_name or "")
    )


def _matches(line: PlanLine, filters: Filters) -> bool:
    if filters.status is None:
        return True
    if filters.status == LATE and filters.period is None:
        return line.late  # the plan or any of its updates
    step = line.step(filters.period)
    if step is None:
        return False
    return step.late if filters.status == LATE else step.status == filters.status


# ---- targets and rates ---------------------------------------------------------------------

Targets = dict[tuple[str, str | None], dict[tuple[str, str], tuple[float, str]]]
_TARGET_PATHS = (
    (SUBGROUP, ("plan", "sections", "demographics", "tables", "subgroups")),
    (GRADE, ("plan", "sections", "grades", "tables", "grades")),
)


# An approved version never changes (an approved plan is closed), so its targets are read
# from the database once per process: (database, submission id) -> its targets.
_targets_cache: dict[tuple[str, int, str], dict[tuple[str, str], tuple[float, str]]] = {}


def _approved_targets(
    s: Session, config: ProgramConfig, year: int, scope: Scope, database: str
) -> Targets:
    """(LEA, school) -> (group type, code) -> (target percent, label), from the approved
    version of every approved plan in scope: one query for their ids, one for the target
    tables (only those two, read out of the stored answers) of versions not read before."""
    approved = (
        select(
            PlanRecordRow.lea_code,
            PlanRecordRow.school_code,
            SubmissionRow.id,
            SubmissionRow.sha256,
        )
        .join(SubmissionRow, SubmissionRow.plan_id == PlanRecordRow.id)
        .where(
            PlanRecordRow.fiscal_year == year,
            PlanRecordRow.period.is_(None),
            PlanRecordRow.status == PlanStatus.APPROVED.value,
            SubmissionRow.status == VersionStatus.APPROVED.value,
            _in_scope(scope, PlanRecordRow.lea_code, PlanRecordRow.school_code),
        )
    )
    # the file's digest with the id: a database made anew under the same address reuses ids
    places = {(database, sid, sha): (lea, school) for lea, school, sid, sha in s.execute(approved)}
    missing = {key[1]: key for key in places if key not in _targets_cache}
    if missing:
        labels = {
            **{g.code: g.label for g in config.subgroups},
            **{g.code: g.label for g in config.grades},
        }
        columns = [SubmissionRow.report[path] for _, path in _TARGET_PATHS]
        for start in range(0, len(missing), 2000):
            query = select(SubmissionRow.id, *columns).where(
                SubmissionRow.id.in_(list(missing)[start : start + 2000])
            )
            for sid, *tables in s.execute(query):
                _targets_cache[missing[sid]] = _read_targets(tables, labels)
    return {place: _targets_cache[key] for key, place in places.items()}


def _read_targets(
    tables: list[Any], labels: Mapping[str, str]
) -> dict[tuple[str, str], tuple[float, str]]:
    found: dict[tuple[str, str], tuple[float, str]] = {}
    for (group_type, _), rows in zip(_TARGET_PATHS, tables, strict=True):
        for row in rows or ():
            code, value = row.get("code"), (row.get("values") or {}).get("target")
            if code and isinstance(value, int | float) and not isinstance(value, bool):
                label = labels.get(code) or str(row["values"].get("group") or code)
                found[(group_type, code)] = (round(float(value) * 100, 1), label)
    return found


# Progress updates (issue 12): the adjusted target per group for the next period.
_UPDATE_PATHS = (
    (SUBGROUP, ("plan", "sections", "subgroups", "tables", "subgroups")),
    (GRADE, ("plan", "sections", "grades", "tables", "grades")),
)
Adjusted = dict[tuple[str, str], float]  # (group type, code) -> target percent
Updates = dict[tuple[str, str | None], dict[str, Adjusted]]  # place -> period -> targets
_adjusted_cache: dict[tuple[str, int, str], Adjusted] = {}


def _approved_updates(s: Session, year: int, scope: Scope, database: str) -> Updates:
    """Place -> period -> adjusted targets, from the approved version of every approved
    progress update in scope (read once per version, as the plans' targets are)."""
    approved = (
        select(
            PlanRecordRow.lea_code,
            PlanRecordRow.school_code,
            PlanRecordRow.period,
            SubmissionRow.id,
            SubmissionRow.sha256,
        )
        .join(SubmissionRow, SubmissionRow.plan_id == PlanRecordRow.id)
        .where(
            PlanRecordRow.fiscal_year == year,
            PlanRecordRow.period.is_not(None),
            PlanRecordRow.status == PlanStatus.APPROVED.value,
            SubmissionRow.status == VersionStatus.APPROVED.value,
            _in_scope(scope, PlanRecordRow.lea_code, PlanRecordRow.school_code),
        )
    )
    found = {
        (database, sid, sha): ((lea, school), period)
        for lea, school, period, sid, sha in s.execute(approved)
    }
    missing = {key[1]: key for key in found if key not in _adjusted_cache}
    if missing:
        columns = [SubmissionRow.report[path] for _, path in _UPDATE_PATHS]
        for start in range(0, len(missing), 2000):
            query = select(SubmissionRow.id, *columns).where(
                SubmissionRow.id.in_(list(missing)[start : start + 2000])
            )
            for sid, *tables in s.execute(query):
                _adjusted_cache[missing[sid]] = _read_adjusted(tables)
    out: Updates = defaultdict(dict)
    for key, (place, period) in found.items():
        if period is not None:  # the query asks for progress updates only
            out[place][period] = _adjusted_cache[key]
    return dict(out)


def _read_adjusted(tables: list[Any]) -> Adjusted:
    found: Adjusted = {}
    for (group_type, _), rows in zip(_UPDATE_PATHS, tables, strict=True):
        for row in rows or ():
            code, value = row.get("code"), (row.get("values") or {}).get("adjusted_target")
            if code and isinstance(value, int | float) and not isinstance(value, bool):
                found[(group_type, code)] = round(float(value) * 100, 1)
    return found


def _in_force(
    targets: Targets, updates: Updates, period: ReportingPeriod | None, config: ProgramConfig
) -> tuple[Targets, dict[tuple[tuple[str, str | None], tuple[str, str]], str]]:
    """The targets in force for `period`: the approved plan's, over which the adjusted
    targets of the approved progress updates of earlier periods are laid, the latest last;
    and, for each group whose target came from an update, that update's period label."""
    if period is None or not updates:
        return targets, {}
    order = [p.code for p in config.periods]
    before = order[: order.index(period.code)]
    labels = {p.code: p.label for p in config.periods}
    out: Targets = {}
    sources: dict[tuple[tuple[str, str | None], tuple[str, str]], str] = {}
    for place, groups in targets.items():
        said = updates.get(place, {})
        chosen = [code for code in before if code in said]
        if not chosen:
            out[place] = groups
            continue
        laid = dict(groups)
        for code in chosen:
            for group, value in said[code].items():
                if group in laid:
                    laid[group] = (value, laid[group][1])
                    sources[(place, group)] = labels[code]
        out[place] = laid
    return out, sources


Rate = tuple[float | None, int | None]  # rate percent, students
RateKey = tuple[str, str, str, str]  # lea, school ("" for the LEA), group type, group code


def _rates(
    s: Session, year: int, scope: Scope, period: ReportingPeriod, previous: str | None
) -> dict[RateKey, tuple[Rate, Rate]]:
    """Every group's rate in `period` and in the period before it, one row per group."""
    this, before = AbsenceRow.period == period.code, AbsenceRow.period == (previous or "")
    query = (
        select(
            AbsenceRow.lea_code,
            AbsenceRow.school_code,
            AbsenceRow.group_type,
            AbsenceRow.group_code,
            func.max(case((this, AbsenceRow.rate_pct))),
            func.max(case((this, AbsenceRow.students))),
            func.max(case((before, AbsenceRow.rate_pct))),
            func.max(case((before, AbsenceRow.students))),
        )
        .where(
            AbsenceRow.fiscal_year == year,
            or_(this, before),
            _in_scope(scope, AbsenceRow.lea_code, AbsenceRow.school_code),
        )
        .group_by(
            AbsenceRow.lea_code,
            AbsenceRow.school_code,
            AbsenceRow.group_type,
            AbsenceRow.group_code,
        )
    )
    return {
        (lea, school, gtype, gcode): ((rate, n), (prev, prev_n))
        for lea, school, gtype, gcode, rate, n, prev, prev_n in s.execute(query)
    }


def _all_students_rates(
    s: Session, year: int, scope: Scope, loaded: Iterable[ReportingPeriod]
) -> dict[tuple[str, str, str], Rate]:
    """(period, LEA, school or "") -> the all-students rate."""
    query = select(
        AbsenceRow.period, AbsenceRow.lea_code, AbsenceRow.school_code, AbsenceRow.rate_pct,
        AbsenceRow.students,
    ).where(
        AbsenceRow.fiscal_year == year,
        AbsenceRow.period.in_([p.code for p in loaded]),
        AbsenceRow.group_type == SUBGROUP,
        AbsenceRow.group_code == ALL,
        _in_scope(scope, AbsenceRow.lea_code, AbsenceRow.school_code),
    )  # fmt: skip
    return {(p, lea, school): (rate, n) for p, lea, school, rate, n in s.execute(query)}


def _shown(rate: Rate, hidden: bool, config: ProgramConfig) -> float | None:
    value, students = rate
    if hidden or value is None or (students is not None and students < config.min_group_size):
        return None
    return round(value, 1)


def _cell(entity: Entity, group_type: str, code: str) -> CellKey:
    return (
        ("school", entity.code, group_type, code)
        if entity.school_code
        else ("lea", entity.code, group_type, code)
    )


def _results(
    entities: Mapping[tuple[str, str | None], Entity],
    targets: Targets,
    rates: Mapping[RateKey, tuple[Rate, Rate]],
    hidden: frozenset[CellKey],
    config: ProgramConfig,
    sources: Mapping[tuple[tuple[str, str | None], tuple[str, str]], str],
) -> list[GroupResult]:
    """Every group of every approved plan (about 50,000 statewide): `_shown` inlined, as
    this loop is most of a dashboard's first request after a load."""
    out = []
    least = config.min_group_size
    none: tuple[Rate, Rate] = ((None, None), (None, None))
    for place, groups in targets.items():
        entity = entities.get(place)
        if entity is None:
            continue
        lea, school = place
        school_key = school or ""
        cell_scope = ("school", entity.code) if entity.school_code else ("lea", entity.code)
        for group, (target, label) in groups.items():
            gtype, code = group
            (now, now_n), (before, before_n) = rates.get((lea, school_key, gtype, code), none)
            small = now is not None and now_n is not None and now_n < least
            is_hidden = small or (*cell_scope, gtype, code) in hidden
            current = None if is_hidden or now is None else round(now, 1)
            previous = (
                None
                if is_hidden or before is None or (before_n is not None and before_n < least)
                else round(before, 1)
            )
            out.append(
                GroupResult(
                    entity,
                    entity.key,
                    gtype,
                    code,
                    label,
                    None if is_hidden else target,  # a target from a hidden rate gives it away
                    current,
                    previous,
                    is_hidden,
                    sources.get((place, group), "") if sources else "",
                    config.metric.direction is Direction.LOWER_IS_BETTER,
                )
            )
    return out


def _by_place(results: Iterable[GroupResult], scope: Scope) -> list[Comparison]:
    """All students of each LEA (statewide) or each school (district): target and rate."""
    kind = PlanKind.DISTRICT if scope.name == STATEWIDE else PlanKind.SCHOOL
    return sorted(
        (
            Comparison(r.entity.code, r.entity.name, r.target, r.current, 1, r.hidden)
            for r in results
            if r.entity.kind is kind and r.group_type == SUBGROUP and r.group_code == ALL
        ),
        key=lambda c: c.label,
    )


def _by_group(
    results: Iterable[GroupResult], group_type: str, kind: PlanKind, config: ProgramConfig
) -> list[Comparison]:
    """Per subgroup (or grade) over the plans of `kind`: the mean target and the mean rate
    of the plans that show both (plain means of shown cells, so no hidden rate enters)."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    labels = {}
    for r in results:
        if r.entity.kind is kind and r.group_type == group_type:
            if r.target is not None and r.current is not None:
                acc = sums[r.group_code]
                acc[0] += r.target
                acc[1] += r.current
                acc[2] += 1
            labels[r.group_code] = r.group_label
    order = [g.code for g in (config.subgroups if group_type == SUBGROUP else config.grades)]
    out = []
    for code in sorted(labels, key=lambda c: (order.index(c) if c in order else 999, c)):
        target, actual, n = sums.get(code, [0.0, 0.0, 0.0])
        count = int(n)
        out.append(
            Comparison(
                code,
                labels[code],
                round(target / count, 1) if count else None,
                round(actual / count, 1) if count else None,
                count,
                hidden=count == 0,
            )
        )
    return out


def _shares(
    entities: Mapping[tuple[str, str | None], Entity],
    in_force: Mapping[str, Targets],
    rates: Mapping[tuple[str, str, str], Rate],
    hidden: frozenset[CellKey],
    loaded: Iterable[ReportingPeriod],
    config: ProgramConfig,
) -> list[PeriodShare]:
    """Per loaded period: approved plans whose all-students rate is shown, and how many of
    them meet their target in force for that period (at or under it when lower is better)."""
    out = []
    for period in loaded:
        with_data = on_track = 0
        for place, groups in in_force[period.code].items():
            entity = entities.get(place)
            target = groups.get((SUBGROUP, ALL))
            if entity is None or target is None:
                continue
            rate = rates.get((period.code, place[0], place[1] or ""), (None, None))
            shown = _shown(rate, _cell(entity, SUBGROUP, ALL) in hidden, config)
            if shown is None:
                continue
            with_data += 1
            on_track += config.metric.meets(shown, target[0])
        out.append(PeriodShare(period.code, period.label, with_data, on_track))
    return out


def _trend(
    s: Session,
    entities: Mapping[tuple[str, str | None], Entity],
    targets: Targets,
    hidden: frozenset[CellKey],
    loaded: tuple[ReportingPeriod, ...],
    config: ProgramConfig,
    filters: Filters,
) -> list[TrendRow]:
    """The school's own groups over every loaded period (one query)."""
    if not entities:
        return []
    ((place, entity),) = entities.items()
    groups = targets.get(place, {})
    query = select(
        AbsenceRow.period, AbsenceRow.group_type, AbsenceRow.group_code, AbsenceRow.rate_pct,
        AbsenceRow.students,
    ).where(
        AbsenceRow.fiscal_year == filters.fiscal_year,
        AbsenceRow.lea_code == entity.lea_code,
        AbsenceRow.school_code == entity.code,
    )  # fmt: skip
    rates = {(p, t, c): (r, n) for p, t, c, r, n in s.execute(query)}
    out = []
    for (gtype, code), (target, label) in groups.items():
        found = [rates.get((p.code, gtype, code), (None, None)) for p in loaded]
        small = any(r[0] is not None and _shown(r, False, config) is None for r in found)
        is_hidden = small or _cell(entity, gtype, code) in hidden
        shown = tuple(_shown(r, is_hidden, config) for r in found)
        out.append(TrendRow(gtype, code, label, None if is_hidden else target, shown, is_hidden))
    return out


# ---- suppression, as in the documents ---------------------------------------------------------

_hidden_cache: dict[tuple[str, int, tuple[int, str], str], frozenset[CellKey]] = {}
_hidden_lock = threading.Lock()


def _last_load(s: Session) -> tuple[int, str]:
    """The latest data load (id and when): the period data and the suppression change
    only with a load."""
    row = s.execute(
        select(DataLoadRow.id, DataLoadRow.loaded_at).order_by(DataLoadRow.id.desc()).limit(1)
    ).first()
    return (0, "") if row is None else (int(row[0]), str(row[1]))


def _hidden_cells(
    engine: Any,
    s: Session,
    config: ProgramConfig,
    year: int,
    scope: Scope,
    load: tuple[int, str],
) -> frozenset[CellKey]:
    """The cells the year's documents hide (`exports.suppression`, per LEA over all its
    plans) as of the data load `load`: kept in this process, else read from `hidden_cells`
    (computed after the load by `precompute_hidden_cells`), else computed now and stored
    there for every process after this one."""
    base = (str(engine.url), year, load)
    wanted = [scope.lea_code] if scope.lea_code else [c for (c,) in s.execute(select(LeaRow.code))]
    missing = [lea for lea in wanted if (*base, lea) not in _hidden_cache]
    if missing:
        stored = _stored_hidden(s, year, load[0], missing)
        computed = {}
        if len(stored) < len(missing):
            computed = _compute_hidden(engine, config, year, [m for m in missing
                                                              if m not in stored])  # fmt: skip
            _store_hidden(s, year, load[0], computed)
        with _hidden_lock:
            for lea, cells in (*stored.items(), *computed.items()):
                _hidden_cache[(*base, lea)] = cells
    return frozenset().union(*(_hidden_cache[(*base, lea)] for lea in wanted))


def _stored_hidden(
    s: Session, year: int, load_id: int, leas: list[str]
) -> dict[str, frozenset[CellKey]]:
    if not load_id:
        return {}
    query = select(HiddenCellsRow.lea_code, HiddenCellsRow.cells).where(
        HiddenCellsRow.fiscal_year == year, HiddenCellsRow.load_id == load_id
    )
    if len(leas) == 1:
        query = query.where(HiddenCellsRow.lea_code == leas[0])
    wanted = set(leas)
    return {
        lea: frozenset(tuple(cell) for cell in cells)
        for lea, cells in s.execute(query)
        if lea in wanted
    }


def _compute_hidden(
    engine: Any, config: ProgramConfig, year: int, leas: list[str]
) -> dict[str, frozenset[CellKey]]:
    from aip_forms.data.queries import all_plan_data, lea_plan_data
    from exports.suppression import suppress

    if len(leas) == 1:
        try:
            datas = lea_plan_data(engine, config, year, leas[0])
        except NotFound:
            datas = []
        by_lea = {leas[0]: datas}
    else:
        by_lea = defaultdict(list)
        for data in all_plan_data(engine, config, year):
            by_lea[data.lea.code].append(data)
    return {
        lea: suppress(by_lea[lea], config).hidden if by_lea.get(lea) else frozenset()
        for lea in leas
    }


def _store_hidden(
    s: Session, year: int, load_id: int, cells: Mapping[str, frozenset[CellKey]]
) -> None:
    """Keep computed cells for other processes; another one storing them first is fine."""
    if not load_id or not cells:
        return
    try:
        s.add_all(
            HiddenCellsRow(fiscal_year=year, load_id=load_id, lea_code=lea,
                           cells=sorted(list(c) for c in found))
            for lea, found in cells.items()
        )  # fmt: skip
        s.commit()
    except IntegrityError:
        s.rollback()


def precompute_hidden_cells(*, engine: Engine, uow: UowFactory, config: ProgramConfig) -> int:
    """After a data load: compute and store the hidden cells of every LEA for the latest
    fiscal year with enrollment and every year with period data, as of the latest load
    (the year's rows of older loads are dropped), so that no dashboard computes them; the number of
    LEA rows stored."""
    with uow() as u:
        s = u.session
        load = _last_load(s)
        if not load[0]:
            return 0
        latest = s.scalar(select(func.max(EnrollmentRow.fiscal_year)))
        years = {y for y in (latest, *s.scalars(select(PeriodLoadRow.fiscal_year))) if y}
        leas = [c for (c,) in s.execute(select(LeaRow.code))]
        count = 0
        for year in sorted(years):
            cells = _compute_hidden(engine, config, year, leas)
            s.execute(delete(HiddenCellsRow).where(HiddenCellsRow.fiscal_year == year))
            s.add_all(
                HiddenCellsRow(fiscal_year=year, load_id=load[0], lea_code=lea,
                               cells=sorted(list(c) for c in found))
                for lea, found in cells.items()
            )  # fmt: skip
            count += len(cells)
        u.commit()
    return count


# ---- the words behind the numbers ----------------------------------------------------------------


@dataclass(frozen=True)
class Reflection:
    period_label: str
    strategy: str
    rating: str
    reflection: str


@dataclass(frozen=True)
class PlanWords:
    entity: Entity
    key: str
    fiscal_year: int
    status: str
    root_causes: tuple[tuple[str, str], ...]  # (label, text)
    reflections: tuple[Reflection, ...]  # of the latest update with a submitted version
    reflections_of: str | None  # that update's period label


def plan_words(
    key: str, grant: Grant, *, uow: UowFactory, config: ProgramConfig, today: dt.date
) -> PlanWords:
    """Root causes of the plan's latest version and the reflections of its latest progress
    update; NotFound outside the role's scope (another LEA's plan is not confirmed)."""
    from aip_forms.services.home import plan_in_scope

    mine = plan_in_scope(key, grant, today, uow=uow, config=config)
    ref = mine.ref
    assert allows(grant, Action.READ, ref)
    with uow() as u:
        s = u.session
        rows = s.execute(
            select(PlanRecordRow.period, SubmissionRow.version, SubmissionRow.report)
            .join(SubmissionRow, SubmissionRow.plan_id == PlanRecordRow.id)
            .where(
                PlanRecordRow.fiscal_year == ref.fiscal_year,
                PlanRecordRow.kind == ref.kind.value,
                PlanRecordRow.lea_code == ref.lea_code,
                PlanRecordRow.school_code.is_(None)
                if ref.school_code is None
                else PlanRecordRow.school_code == ref.school_code,
                or_(PlanRecordRow.period.is_(None), SubmissionRow.final.is_(True)),
            )
        ).all()
    latest: dict[str | None, tuple[int, dict[str, Any]]] = {}
    for period, version, report in rows:
        if period not in latest or version > latest[period][0]:
            latest[period] = (version, report)
    causes: tuple[tuple[str, str], ...] = ()
    if None in latest and latest[None][1].get("plan"):
        plan = Plan.model_validate(latest[None][1]["plan"])
        spec = config.spec(ref.kind)
        section = next((sec for sec in spec.sections if sec.key == "root_cause"), None)
        if section is not None:
            causes = tuple(
                (f.label, str(plan.field("root_cause", f.key)))
                for f in section.fields
                if plan.field("root_cause", f.key)
            )
    reflections: tuple[Reflection, ...] = ()
    of = None
    for p in reversed(config.periods_for(ref.kind)):
        if p.code in latest and latest[p.code][1].get("plan"):
            update = Plan.model_validate(latest[p.code][1]["plan"])
            reflections = tuple(
                Reflection(
                    p.label,
                    str(r.get("strategy") or r.code),
                    str(r.get("rating") or "-"),
                    str(r.get("reflection") or ""),
                )
                for r in update.rows("strategies", "strategies")
            )
            of = p.label
            break
    entity = Entity(ref.kind, ref.lea_code, mine.row.lea_name, ref.school_code,
                    mine.row.school_name)  # fmt: skip
    return PlanWords(entity, mine.key, ref.fiscal_year, mine.row.status, causes, reflections, of)
