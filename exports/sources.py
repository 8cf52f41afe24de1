"""Where compiled documents get their plans until the submissions store is wired in.

- `lea_plan_data`: the PlanData of an LEA's district plan and every school plan, read
  with one query per table;
- `folder_plans`: the newest valid workbook per plan in a folder (validated like an
  upload: signature, identity, rules);
- `example_plans`: example plans, filled by `workbook_templates.example` and read back
  through validation, for demonstrations.

Each yields what `compile_packet` and `statewide_summary` take: (PlanData, Plan, review).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from aip_forms.config import ProgramConfig, Settings
from aip_forms.data import queries
from aip_forms.plan import Plan
from aip_forms.plan_data import PlanData
from aip_forms.spec import spec_for
from validators.validate import Expectation, ValidationReport, validate_upload
from workbook_templates.example import example_workbook

PlanKey = tuple[str, str | None]  # (lea_code, school_code or None)


def plan_key(data: PlanData) -> PlanKey:
    return (data.lea.code, data.school.code if data.school else None)


def lea_plan_data(
    engine: Engine, config: ProgramConfig, fiscal_year: int, lea_code: str
) -> list[PlanData]:
    """The district plan's data, then each school plan's (schools with enrollment that
    year), from one read of the LEA. Raises queries.UnknownEntity for an unknown LEA."""
    # TODO(lead): a public `queries.lea_plan_data` would spare this module `_read`.
    facts = queries._read(engine, config, fiscal_year, lea_code).get(lea_code)
    if facts is None:
        raise queries.UnknownEntity(f"Unknown LEA code {lea_code!r}.")
    enrolled = {school for school, _, _ in facts.enrollment}
    out = [queries.assemble(facts, config, fiscal_year, None)]
    out += [
        queries.assemble(facts, config, fiscal_year, s) for s in facts.schools if s.code in enrolled
    ]
    return out


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
    for data in datas:
        wb = example_workbook(spec_for(data.kind), data, config, settings)
        buffer = io.BytesIO()
        wb.save(buffer)
        report = validate_upload(buffer.getvalue(), key=settings.secret_key, config=config)
        if report.plan is None:  # pragma: no cover - the example workbook is always readable
            raise RuntimeError(f"the example workbook of {plan_key(data)} was not readable")
        yield data, report.plan
