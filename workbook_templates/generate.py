"""Generating plan workbooks: one with the reference builder, or the statewide set in
parallel with compiled templates.

Output layout of a statewide run (`output_path`):
    OUT/FY2027/<lea_code>/district-<lea_code>.xlsx
    OUT/FY2027/<lea_code>/school-<school_code>.xlsx
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from aip_forms.config import ProgramConfig, Settings
from aip_forms.domain import PlanKind
from aip_forms.issued_data import PlanData
from aip_forms.workbook_format.metadata import issued_at_text
from workbook_templates.build import build_workbook
from workbook_templates.compiled import CompiledTemplate, compile_template, write_workbook


def file_name(data: PlanData) -> str:
    return f"school-{data.school.code}.xlsx" if data.school else f"district-{data.lea.code}.xlsx"


def output_path(out_dir: Path, data: PlanData) -> Path:
    return out_dir / f"FY{data.fiscal_year}" / data.lea.code / file_name(data)


def generate_one(
    data: PlanData,
    path: Path,
    config: ProgramConfig,
    settings: Settings,
    issued_at: str | None = None,
) -> Path:
    """One plan workbook, written to `path` with the reference builder."""
    wb = build_workbook(config.spec(data.kind), data, config, settings, issued_at=issued_at)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


@dataclass(frozen=True)
class Outcome:
    kind: PlanKind
    lea_code: str
    school_code: str | None
    path: Path | None
    error: str | None = None

    @property
    def entity(self) -> str:
        return f"{self.kind} {self.school_code or self.lea_code}"


@dataclass
class Summary:
    out_dir: Path
    seconds: float = 0.0
    counts: Counter[str] = field(default_factory=Counter)  # kind -> workbooks written
    failures: list[Outcome] = field(default_factory=list)

    @property
    def written(self) -> int:
        return sum(self.counts.values())


# Templates of a worker process, set once by `_start_worker`.
_templates: dict[PlanKind, CompiledTemplate] = {}


def _start_worker(templates: dict[PlanKind, CompiledTemplate]) -> None:
    _templates.clear()
    _templates.update(templates)


def _render_batch(batch: Sequence[PlanData], out_dir: Path, issued_at: str) -> list[Outcome]:
    outcomes = []
    for data in batch:
        try:
            path = write_workbook(
                _templates[data.kind], data, output_path(out_dir, data), issued_at
            )
        except Exception as e:  # one bad plan must not stop the other thousand
            outcomes.append(_failed(data, e))
        else:
            school = data.school.code if data.school else None
            outcomes.append(Outcome(data.kind, data.lea.code, school, path))
    return outcomes


def _batches(plans: Sequence[PlanData], workers: int) -> list[Sequence[PlanData]]:
    size = max(1, min(40, len(plans) // (workers * 8) or 1))
    return [plans[i : i + size] for i in range(0, len(plans), size)]


def generate_all(
    plans: Sequence[PlanData],
    out_dir: Path,
    config: ProgramConfig,
    settings: Settings,
    *,
    workers: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    issued_at: str | None = None,
) -> Summary:
    """Write every plan's workbook under `out_dir` (see `output_path`), `workers` processes
    (default: one per core) rendering from templates compiled once. `on_progress(n)` is
    called as each n more plans are done. Failures are collected, not raised."""
    started = time.perf_counter()
    workers = max(1, workers or os.cpu_count() or 1)
    issued_at = issued_at or issued_at_text()
    summary = Summary(out_dir=out_dir)
    years = {p.fiscal_year for p in plans}
    if len(years) != 1:
        if not years:
            return summary
        raise ValueError(f"plans of several fiscal years: {sorted(years)}")
    (fiscal_year,) = years
    templates = {
        kind: compile_template(config.spec(kind), config, settings, fiscal_year)
        for kind in sorted({p.kind for p in plans})
    }

    def record(outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            if outcome.error:
                summary.failures.append(outcome)
            else:
                summary.counts[str(outcome.kind)] += 1
        if on_progress:
            on_progress(len(outcomes))

    batches = _batches(plans, workers)
    if workers == 1 or len(batches) == 1:
        _start_worker(templates)
        for batch in batches:
            record(_render_batch(batch, out_dir, issued_at))
    else:
        with ProcessPoolExecutor(workers, initializer=_start_worker, initargs=(templates,)) as pool:
            futures = {pool.submit(_render_batch, b, out_dir, issued_at): b for b in batches}
            for future in as_completed(futures):
                try:
                    record(future.result())
                except Exception as e:  # a worker died: its whole batch failed
                    record([_failed(p, e) for p in futures[future]])
    summary.seconds = time.perf_counter() - started
    return summary


def _failed(data: PlanData, error: Exception) -> Outcome:
    school = data.school.code if data.school else None
    return Outcome(data.kind, data.lea.code, school, None, f"{type(error).__name__}: {error}")
