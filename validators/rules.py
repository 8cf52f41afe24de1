"""Plan rules: each a small function with a stable code, registered in `RULES`.

A rule takes the `RuleContext` and yields problems; the engine runs every rule and keeps
every problem (it never stops at the first). Messages come from the catalogue in
`validators.problems`. Codes are stable: tests, reports and users rely on them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email

from aip_forms.catalog import OTHER_STRATEGY
from aip_forms.config import ProgramConfig
from aip_forms.domain import PlanKind
from aip_forms.filled_plan import Plan, PlanRow
from aip_forms.programs.rules import TargetKind
from aip_forms.spec import (
    RATINGS,
    FieldSpec,
    FieldType,
    FormSpec,
    RowSource,
    SectionSpec,
    TableSpec,
)
from aip_forms.workbook_format.layout import asks, has_data
from validators.problems import Problem, problem
from validators.read import Location, ReadResult, cell_key, field_key

TEXT_TYPES = (FieldType.TEXT, FieldType.LONG_TEXT, FieldType.EMAIL, FieldType.PHONE)
IMPLEMENTATION = ("action_steps", "responsible", "resources", "timeline")


@dataclass
class RuleContext:
    spec: FormSpec
    config: ProgramConfig
    read: ReadResult
    final: bool
    _cells: list[tuple[SectionSpec, FieldSpec, str, object]] | None = field(
        default=None, init=False, repr=False
    )

    @property
    def plan(self) -> Plan:
        return self.read.plan

    def sections(self) -> Iterator[SectionSpec]:
        """Sections whose rules apply: progress is optional, certification only when final."""
        for section in self.spec.sections:
            if section.optional or (section.final_only and not self.final):
                continue
            if section.key in self.plan.sections:
                yield section

    def at(self, key: str, code: str, **kwargs: object) -> Problem:
        loc: Location | None = self.read.where(key)
        return problem(
            code,
            sheet=loc.sheet if loc else None,
            cell=loc.cell if loc else None,
            field=key,
            **kwargs,
        )

    def cells(self) -> list[tuple[SectionSpec, FieldSpec, str, object]]:
        """Every input value with its key: single fields, then table cells. Listed once:
        several rules walk them all."""
        if self._cells is None:
            self._cells = list(self._input_cells())
        return self._cells

    def _input_cells(self) -> Iterator[tuple[SectionSpec, FieldSpec, str, object]]:
        for section in self.spec.sections:
            if section.key not in self.plan.sections:
                continue
            data = self.plan.sections[section.key]
            for f in section.fields:
                if f.is_input:
                    yield section, f, field_key(section, f), data.fields.get(f.key)
            for table in section.tables:
                for i, row in enumerate(data.tables.get(table.key, [])):
                    for c in table.columns:
                        if c.is_input:
                            yield section, c, cell_key(section, table, c, i), row.get(c.key)


Rule = Callable[[RuleContext], Iterable[Problem]]
RULES: list[tuple[str, Rule]] = []  # every form's rules
PROGRESS_RULES: list[tuple[str, Rule]] = []  # progress updates' own rules (issue 12)


def rule(code: str, registry: list[tuple[str, Rule]] = RULES) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        registry.append((code, fn))
        return fn

    return register


def progress_rule(code: str) -> Callable[[Rule], Rule]:
    return rule(code, PROGRESS_RULES)


def run_rules(ctx: RuleContext) -> list[Problem]:
    problems: list[Problem] = []
    for _code, fn in RULES:
        problems.extend(fn(ctx))
    if ctx.spec.form == "progress":
        for _code, fn in PROGRESS_RULES:
            problems.extend(fn(ctx))
    return problems


# ---- fields -------------------------------------------------------------------------

DEDICATED = {"root_cause"}  # sections whose required fields have their own rule


@rule("REQUIRED_MISSING")
def required_fields(ctx: RuleContext) -> Iterator[Problem]:
    for section in ctx.sections():
        if section.key in DEDICATED:
            continue
        for f in section.fields:
            if f.is_input and f.required and ctx.plan.field(section.key, f.key) is None:
                yield ctx.at(field_key(section, f), "REQUIRED_MISSING", label=f.label)


@rule("EMAIL_INVALID")
def email_syntax(ctx: RuleContext) -> Iterator[Problem]:
    for _section, f, key, value in ctx.cells():
        if f.type is FieldType.EMAIL and isinstance(value, str):
            try:
                validate_email(value, check_deliverability=False)
            except EmailNotValidError as exc:
                yield ctx.at(key, "EMAIL_INVALID", value=value[:100], reason=str(exc))


@rule("VALUE_OUT_OF_RANGE")
def value_range(ctx: RuleContext) -> Iterator[Problem]:
    for _section, f, key, value in ctx.cells():
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        if ctx.spec.form == "progress" and f.key == "adjusted_target":
            continue  # ADJUSTED_TARGET_OUT_OF_RANGE names the group
        low, high = f.min_value, f.max_value
        if (low is not None and value < low) or (high is not None and value > high):
            shown = f"{value:.1%}" if f.type is FieldType.PERCENT else f"{value:g}"
            yield ctx.at(
                key,
                "VALUE_OUT_OF_RANGE",
                value=shown,
                found=shown,
                label=f.label,
                low=_show(f, low),
                high=_show(f, high),
            )


def _show(f: FieldSpec, v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.0%}" if f.type is FieldType.PERCENT else f"{v:g}"


@rule("TEXT_TOO_LONG")
def text_length(ctx: RuleContext) -> Iterator[Problem]:
    for _section, f, key, value in ctx.cells():
        limit = f.max_length
        if f.type in TEXT_TYPES and isinstance(value, str) and limit and len(value) > limit:
            yield ctx.at(key, "TEXT_TOO_LONG", label=f.label, length=len(value), limit=f.max_length)


# ---- targets ------------------------------------------------------------------------


def _target_tables(ctx: RuleContext) -> Iterator[tuple[SectionSpec, TableSpec, int, PlanRow]]:
    for section in ctx.sections():
        for table in section.tables:
            if any(c.key == "target" for c in table.columns):
                for i, row in enumerate(ctx.plan.rows(section.key, table.key)):
                    yield section, table, i, row


def _enrollment(row: PlanRow) -> int | None:
    value = row.get("enrollment")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return None  # suppressed ("n<10") or missing


@rule("NOT_APPLICABLE_FILLED")
def not_applicable_left_empty(ctx: RuleContext) -> Iterator[Problem]:
    """An entry in a cell a row without data does not ask for (the spec's `needs_data_in`:
    the locked "n/a" targets of suppressed groups and groups without data). The row's
    pre-filled numbers were checked against the signed ones before the rules run."""
    for section in ctx.sections():
        for table in section.tables:
            asked = [c for c in table.columns if c.needs_data_in]
            if not asked:
                continue
            for i, row in enumerate(ctx.plan.rows(section.key, table.key)):
                for column in asked:
                    value = row.get(column.key)
                    if value is None or asks(table, column, row.code, row.values):
                        continue
                    why = (
                        "is not a targeted grade of the program"
                        if has_data(column, row.values)
                        else "has no data (suppressed, or no figures)"
                    )
                    yield ctx.at(
                        cell_key(section, table, column, i),
                        "NOT_APPLICABLE_FILLED",
                        why=why,
                        label_lower=column.label.removesuffix(" (%)").lower(),
                        group=row.get("group") or row.get("school_name") or row.code,
                        found=_shown(column, value),
                        value=_shown(column, value),
                    )


def _shown(column: FieldSpec, value: object) -> str:
    if column.type is FieldType.PERCENT and isinstance(value, int | float):
        return f"{value:.1%}"
    return str(value)[:100]


@rule("TARGET_MISSING")
def group_targets(ctx: RuleContext) -> Iterator[Problem]:
    for section, table, i, row in _target_tables(ctx):
        if table.key == "schools":
            continue
        enrolled = _enrollment(row)
        if table.asks_rows is not None and row.code not in table.asks_rows:
            continue  # a grade the program does not target
        if (
            enrolled is not None
            and enrolled >= ctx.config.min_group_size
            and row.get("target") is None
        ):
            yield ctx.at(
                cell_key(section, table, table.column("target"), i),
                "TARGET_MISSING",
                group=row.get("group") or row.code,
                enrollment=enrolled,
                minimum=ctx.config.min_group_size,
            )


@rule("SCHOOL_TARGET_MISSING")
def school_targets(ctx: RuleContext) -> Iterator[Problem]:
    if ctx.spec.kind is not PlanKind.DISTRICT:
        return
    for section, table, i, row in _target_tables(ctx):
        if (
            table.key == "schools"
            and row.get("target") is None
            and has_data(table.column("target"), row.values)
        ):
            yield ctx.at(
                cell_key(section, table, table.column("target"), i),
                "SCHOOL_TARGET_MISSING",
                school=row.get("school_name") or row.code,
            )


@rule("TARGET_NOT_BELOW_LATEST")  # or TARGET_BELOW_MINIMUM, by the program's rule
def target_allowed(ctx: RuleContext) -> Iterator[Problem]:
    """The program's target rule against the latest year's rate: New Mexico's asks for a
    target under it (a warning, TARGET_NOT_BELOW_LATEST); a points-above rule refuses a
    target under its minimum and names it (TARGET_BELOW_MINIMUM)."""
    rule_ = ctx.config.target_rule
    code = (
        "TARGET_NOT_BELOW_LATEST"
        if rule_.kind is TargetKind.BELOW_LATEST
        else "TARGET_BELOW_MINIMUM"
    )
    for section, table, i, row in _target_tables(ctx):
        target, latest = _number(row.get("target")), _number(row.get("rate_y1"))
        if target is None or latest is None or rule_.check(target, latest) is None:
            continue
        minimum = rule_.minimum(latest)
        yield ctx.at(
            cell_key(section, table, table.column("target"), i),
            code,
            group=row.get("group") or row.get("school_name") or row.code,
            target=f"{target:.1%}",
            latest=f"{latest:.1%}",
            metric=ctx.config.metric.name,
            minimum=f"{minimum:.1%}" if minimum is not None else "",
            points=f"{rule_.points:g}",
        )


# ---- tiers and strategies -----------------------------------------------------------


def _tiers(ctx: RuleContext) -> Iterator[tuple[SectionSpec, TableSpec, int]]:
    for section in ctx.sections():
        for table in section.tables:
            if table.key.startswith("tier") and table.key[4:].isdigit():
                yield section, table, int(table.key[4:])


@rule("TIER_NO_STRATEGY")
def tier_has_strategy(ctx: RuleContext) -> Iterator[Problem]:
    for section, table, tier in _tiers(ctx):
        rows = ctx.plan.rows(section.key, table.key)
        if sum(1 for r in rows if r.get("strategy")) < max(table.min_filled_rows, 1):
            yield ctx.at(
                cell_key(section, table, table.column("strategy"), 0),
                "TIER_NO_STRATEGY",
                tier=tier,
                label=table.label,
            )


@rule("STRATEGY_MISSING")
def strategy_chosen(ctx: RuleContext) -> Iterator[Problem]:
    """A row with an implementation plan but no strategy."""
    for section, table, tier in _tiers(ctx):
        for i, row in enumerate(ctx.plan.rows(section.key, table.key)):
            if not row.get("strategy") and not row.is_blank:
                yield ctx.at(
                    cell_key(section, table, table.column("strategy"), i),
                    "STRATEGY_MISSING",
                    tier=tier,
                )


@rule("STRATEGY_NOT_IN_CATALOG")
def strategy_in_catalog(ctx: RuleContext) -> Iterator[Problem]:
    for section, table, tier in _tiers(ctx):
        names = {s.name.casefold() for s in ctx.config.strategies_for(tier)}
        for i, row in enumerate(ctx.plan.rows(section.key, table.key)):
            value = row.get("strategy")
            if (
                isinstance(value, str)
                and value.casefold() not in names
                and value.casefold() != OTHER_STRATEGY.casefold()
            ):
                yield ctx.at(
                    cell_key(section, table, table.column("strategy"), i),
                    "STRATEGY_NOT_IN_CATALOG",
                    value=value,
                    found=value,
                    tier=tier,
                )


@rule("OTHER_STRATEGY_TEXT_MISSING")
def other_has_text(ctx: RuleContext) -> Iterator[Problem]:
    for section, table, _tier in _tiers(ctx):
        for i, row in enumerate(ctx.plan.rows(section.key, table.key)):
            strategy = row.get("strategy")
            if (
                isinstance(strategy, str)
                and strategy.casefold() == OTHER_STRATEGY.casefold()
                and not row.get("other_strategy")
            ):
                yield ctx.at(
                    cell_key(section, table, table.column("other_strategy"), i),
                    "OTHER_STRATEGY_TEXT_MISSING",
                )


@rule("STRATEGY_PLAN_INCOMPLETE")
def implementation_plan(ctx: RuleContext) -> Iterator[Problem]:
    for section, table, _tier in _tiers(ctx):
        for i, row in enumerate(ctx.plan.rows(section.key, table.key)):
            if not row.get("strategy"):
                continue
            for key in IMPLEMENTATION:
                if not row.get(key):
                    column = table.column(key)
                    yield ctx.at(
                        cell_key(section, table, column, i),
                        "STRATEGY_PLAN_INCOMPLETE",
                        label=column.label,
                        strategy=row.get("strategy"),
                    )


# ---- fixed tables of entries (a program's measures) -------------------------------------


def _entry_tables(ctx: RuleContext) -> Iterator[tuple[SectionSpec, TableSpec]]:
    """Fixed tables other than the tiers' that ask for entries: a least number of rows, or
    columns every filled row needs (LAUSD's measures: what, baseline, goal)."""
    tiers = {(s.key, t.key) for s, t, _ in _tiers(ctx)}
    for section in ctx.sections():
        for table in section.tables:
            asks = table.min_filled_rows or any(c.required for c in table.columns)
            if asks and table.source is RowSource.FIXED and (section.key, table.key) not in tiers:
                yield section, table


def _first_input(table: TableSpec) -> FieldSpec:
    return next(c for c in table.columns if c.is_input)


@rule("ROWS_TOO_FEW")
def enough_rows(ctx: RuleContext) -> Iterator[Problem]:
    for section, table in _entry_tables(ctx):
        rows = ctx.plan.rows(section.key, table.key)
        filled = sum(1 for r in rows if not r.is_blank)
        if filled < table.min_filled_rows:
            yield ctx.at(
                cell_key(section, table, _first_input(table), filled),
                "ROWS_TOO_FEW",
                label=table.label,
                section=section.title,
                minimum=table.min_filled_rows,
                found=filled,
            )


@rule("ROW_INCOMPLETE")
def rows_complete(ctx: RuleContext) -> Iterator[Problem]:
    for section, table in _entry_tables(ctx):
        required = [c for c in table.columns if c.required and c.is_input]
        for i, row in enumerate(ctx.plan.rows(section.key, table.key)):
            if row.is_blank:
                continue
            for column in required:
                if row.get(column.key) in (None, ""):
                    yield ctx.at(
                        cell_key(section, table, column, i),
                        "ROW_INCOMPLETE",
                        label=column.label,
                        table=table.label,
                    )


# ---- school plan: root causes; final submission: certification -----------------------


@rule("ROOT_CAUSE_MISSING")
def root_causes(ctx: RuleContext) -> Iterator[Problem]:
    if ctx.spec.kind is not PlanKind.SCHOOL or "root_cause" not in ctx.plan.sections:
        return
    section = ctx.spec.section("root_cause")
    for f in section.fields:
        if f.required and ctx.plan.field(section.key, f.key) is None:
            yield ctx.at(field_key(section, f), "ROOT_CAUSE_MISSING", label=f.label)


@rule("CERTIFICATION_NOT_CONFIRMED")
def certification(ctx: RuleContext) -> Iterator[Problem]:
    if not ctx.final or "certification" not in ctx.plan.sections:
        return
    section = ctx.spec.section("certification")
    confirm = next(f for f in section.fields if f.type is FieldType.CONFIRM)
    if ctx.plan.field(section.key, confirm.key) is False:
        yield ctx.at(
            field_key(section, confirm), "CERTIFICATION_NOT_CONFIRMED", label=confirm.label
        )


# ---- progress updates (issue 12) ----------------------------------------------------------


def _progress_rows(ctx: RuleContext) -> Iterator[tuple[SectionSpec, TableSpec, int, PlanRow]]:
    if ctx.spec.form != "progress":
        return
    for section in ctx.sections():
        for table in section.tables:
            if table.key in ("subgroups", "grades"):
                for i, row in enumerate(ctx.plan.rows(section.key, table.key)):
                    yield section, table, i, row


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None  # blank, or "*" for a suppressed group


@progress_rule("ADJUSTED_TARGET_MISSING")
def adjusted_target_given(ctx: RuleContext) -> Iterator[Problem]:
    for section, table, i, row in _progress_rows(ctx):
        current = _number(row.get("current_target"))
        if current is not None and row.get("adjusted_target") is None:
            yield ctx.at(
                cell_key(section, table, table.column("adjusted_target"), i),
                "ADJUSTED_TARGET_MISSING",
                group=row.get("group") or row.code,
                current=f"{current:.1%}",
            )


@progress_rule("ADJUSTED_TARGET_OUT_OF_RANGE")
def adjusted_target_in_range(ctx: RuleContext) -> Iterator[Problem]:
    """0% to 100%. The generic VALUE_OUT_OF_RANGE says the same for any percent; this code
    names the group, and the generic one is not repeated for these cells."""
    for section, table, i, row in _progress_rows(ctx):
        adjusted = _number(row.get("adjusted_target"))
        if adjusted is not None and not 0 <= adjusted <= 1:
            yield ctx.at(
                cell_key(section, table, table.column("adjusted_target"), i),
                "ADJUSTED_TARGET_OUT_OF_RANGE",
                group=row.get("group") or row.code,
                found=f"{adjusted:.1%}",
                value=f"{adjusted:.1%}",
            )


@progress_rule("RAISED_TARGET_NO_REASON")
def raised_target_has_reason(ctx: RuleContext) -> Iterator[Problem]:
    for section, table, i, row in _progress_rows(ctx):
        adjusted, current = _number(row.get("adjusted_target")), _number(row.get("current_target"))
        if (
            adjusted is not None
            and current is not None
            and ctx.config.metric.better(current, than=adjusted)
            and abs(adjusted - current) > 1e-9
            and 0 <= adjusted <= 1
            and not row.get("raise_reason")
        ):
            yield ctx.at(
                cell_key(section, table, table.column("raise_reason"), i),
                "RAISED_TARGET_NO_REASON",
                group=row.get("group") or row.code,
                adjusted=f"{adjusted:.1%}",
                current=f"{current:.1%}",
                side="above" if ctx.config.wording.lower_is_better else "below",
                less_ambitious=ctx.config.wording.less_ambitious,
            )


def _strategy_rows(ctx: RuleContext) -> Iterator[tuple[SectionSpec, TableSpec, int, PlanRow]]:
    if ctx.spec.form != "progress":
        return
    for section in ctx.sections():
        for table in section.tables:
            if table.key == "strategies":
                for i, row in enumerate(ctx.plan.rows(section.key, table.key)):
                    if row.get("strategy"):
                        yield section, table, i, row


def _tier_number(row: PlanRow) -> str:
    return str(row.get("tier") or "").removeprefix("Tier ")


@progress_rule("STRATEGY_RATING_MISSING")
def strategy_rated(ctx: RuleContext) -> Iterator[Problem]:
    for section, table, i, row in _strategy_rows(ctx):
        if not row.get("rating"):
            yield ctx.at(
                cell_key(section, table, table.column("rating"), i),
                "STRATEGY_RATING_MISSING",
                strategy=row.get("strategy"),
                tier=_tier_number(row),
            )


@progress_rule("STRATEGY_RATING_UNKNOWN")
def strategy_rating_known(ctx: RuleContext) -> Iterator[Problem]:
    known = {r.casefold(): r for r in RATINGS}
    for section, table, i, row in _strategy_rows(ctx):
        rating = row.get("rating")
        if isinstance(rating, str) and rating.casefold() not in known:
            yield ctx.at(
                cell_key(section, table, table.column("rating"), i),
                "STRATEGY_RATING_UNKNOWN",
                strategy=row.get("strategy"),
                found=rating,
                value=rating,
            )


@progress_rule("STRATEGY_REFLECTION_MISSING")
def strategy_reflected(ctx: RuleContext) -> Iterator[Problem]:
    for section, table, i, row in _strategy_rows(ctx):
        if not row.get("reflection"):
            yield ctx.at(
                cell_key(section, table, table.column("reflection"), i),
                "STRATEGY_REFLECTION_MISSING",
                strategy=row.get("strategy"),
                tier=_tier_number(row),
            )
