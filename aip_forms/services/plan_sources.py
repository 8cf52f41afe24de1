"""Where compiled documents get their plans, besides the submissions store
(`stored_plans.stored_source`, the default):

- `folder_plans`: the newest valid workbook per plan in a folder (validated like an
  upload: signature, identity, rules);
- `example_plans`: example plans, filled by `workbook_templates.example` and read back
  through validation, for demonstrations.

A `PlanSource` turns the PlanData of the plans wanted (`queries.lea_plan_data`, or every
plan of a year) into what `compile_packet` and `statewide_summary` take: an `Item`
(PlanData, Plan or None when the source has no plan for it, review or None) per plan.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aip_forms.config import ProgramConfig, Settings
from aip_forms.filled_plan import Plan
from aip_forms.issued_data import PlanData
from exports.review import ReviewInfo
from validators.validate import Expectation, ValidationReport, validate_upload

PlanKey = tuple[str, str | None]  # (lea_code, school_code or None)
Item = tuple[PlanData, Plan | None, ReviewInfo | None]
PlanSource = Callable[[Sequence[PlanData]], Iterable[Item]]


def plan_key(data: PlanData) -> PlanKey:
    return (data.lea.code, data.school.code if data.school else None)


@dataclass(frozen=True)
class FoundPlan:
    path: Path
    report: ValidationReport

    @property
    def plan(self) -> Plan:
        assert self.report.plan is not None
        return self.report.plan


@dataclass
class FolderPlans:
    found: dict[PlanKey, FoundPlan] = field(default_factory=dict)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def folder_plans(
    folder: Path,
    *,
    key: bytes,
    config: ProgramConfig,
    fiscal_year: int,
    lea_code: str | None = None,
) -> FolderPlans:
    """The newest (by file time) valid workbook of each plan under `folder`."""
    result = FolderPlans()
    newest: dict[PlanKey, float] = {}
    for path in sorted(folder.rglob("*.xlsx")):
        if path.name.startswith("~$"):  # Excel's lock files
            continue
        try:
            data = path.read_bytes()
            mtime = path.stat().st_mtime
        except OSError as exc:
            result.skipped.append((path, f"cannot read: {exc.strerror}"))
            continue
        report = validate_upload(
            data,
            key=key,
            config=config,
            filename=path.name,
            expect=Expectation(fiscal_year=fiscal_year, lea_code=lea_code),
        )
        if not report.valid or report.plan is None or report.identity is None:
            reason = report.errors[0].message if report.errors else report.outcome
            result.skipped.append((path, f"not valid: {reason}"))
            continue
        plan = report.plan
        k = (plan.lea_code, plan.school_code)
        if k not in newest or mtime > newest[k]:
            newest[k] = mtime
            result.found[k] = FoundPlan(path, report)
    return result


def example_plans(
    datas: Iterable[PlanData], config: ProgramConfig, settings: Settings
) -> Iterator[tuple[PlanData, Plan]]:
    """Each plan's example workbook, filled and read back as an uploaded one would be."""
    from workbook_templates.example import example_workbook  # openpyxl: only here

    for data in datas:
        wb = example_workbook(config.spec(data.kind), data, config, settings)
        buffer = io.BytesIO()
        wb.save(buffer)
        report = validate_upload(buffer.getvalue(), key=settings.secret_key, config=config)
        if report.plan is None:  # pragma: no cover - the example workbook is always readable
            raise RuntimeError(f"the example workbook of {plan_key(data)} was not readable")
        yield data, report.plan


def examples_source(config: ProgramConfig, settings: Settings) -> PlanSource:
    def source(datas: Sequence[PlanData]) -> Iterator[Item]:
        for data, plan in example_plans(datas, config, settings):
            yield data, plan, None

    return source


def folder_source(
    folder: Path,
    config: ProgramConfig,
    key: bytes,
    fiscal_year: int,
    lea_code: str | None,
    on_skip: Callable[[str], None] = lambda message: None,
) -> PlanSource:
    def source(datas: Sequence[PlanData]) -> Iterator[Item]:
        found = folder_plans(
            folder, key=key, config=config, fiscal_year=fiscal_year, lea_code=lea_code
        )
        for path, reason in found.skipped:
            on_skip(f"skipped {path}: {reason}")
        for data in datas:
            hit = found.found.get(plan_key(data))
            yield data, hit.plan if hit else None, None

    return source
