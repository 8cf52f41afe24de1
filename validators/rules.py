"""Plan rules: each a small function with a stable code, registered in `RULES`.

A rule takes the `RuleContext` and yields problems; the engine runs every rule and keeps
every problem (it never stops at the first). Messages come from the catalogue in
`validators.problems`. Codes are stable: tests, reports and users rely on them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from aip_forms.catalog import OTHER_STRATEGY
from aip_forms.config import ProgramConfig
from aip_forms.domain import PlanKind
from aip_forms.plan import Plan, PlanRow
from aip_forms.spec import FieldSpec, FieldType, FormSpec, SectionSpec, TableSpec
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

    def cells(self) -> Iterator[tuple[SectionSpec, FieldSpec, str, object]]:
        """Every input value with its key: single fields, then table cells."""
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
RULES: list[tuple[str, Rule]] = []


def rule(code: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        RULES.append((code, fn))
        return fn

    return register


def run_rules(ctx: RuleContext) -> list[Problem]:
    problems: list[Problem] = []
    for _code, fn in RULES:
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


@rule("TARGET_MISSING")
def group_targets(ctx: RuleContext) -> Iterator[Problem]:
    for section, table, i, row in _target_tables(ctx):
        if table.key == "schools":
            continue
        enrolled = _enrollment(row)
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
        if table.key == "schools" and row.get("target") is None:
            yield ctx.at(
                cell_key(section, table, table.column("target"), i),
                "SCHOOL_TARGET_MISSING",
                school=row.get("school_name") or row.code,
            )


@rule("TARGET_NOT_BELOW_LATEST")
def target_below_latest(ctx: RuleContext) -> Iterator[Problem]:
    for section, table, i, row in _target_tables(ctx):
        target, latest = row.get("target"), row.get("rate_y1")
        if (
            isinstance(target, float | int)
            and isinstance(latest, float | int)
            and not isinstance(latest, bool)
            and target >= latest
        ):
            yield ctx.at(
                cell_key(section, table, table.column("target"), i),
                "TARGET_NOT_BELOW_LATEST",
                group=row.get("group") or row.get("school_name") or row.code,
                target=f"{target:.1%}",
                latest=f"{latest:.1%}",
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
