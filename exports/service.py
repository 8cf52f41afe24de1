"""Rendering use cases: plain functions taking their collaborators (database engine,
program config, signing key, PDF converter, unit of work, object store) as arguments. The
CLI (and later the web views) parse input, call one of these, and present the result.

- `render_workbook`: a plan workbook file, validated first;
- `render_stored`: a stored plan by its id (`aip submissions list`, column "plan"): its
  latest version, or the version asked for, with its review (see `exports.stored`);
- `compile_lea`, `compile_statewide`: the district packet and the statewide summary, from
  a `PlanSource`: the store (`exports.stored.stored_source`), a folder of workbooks, or
  examples.

Expected failures raise `RenderRefused` with a message for the person who asked; reading
the store raises the services' own errors (`aip_forms.services.errors`).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from aip_forms.config import ProgramConfig, Settings
from aip_forms.data import queries
from aip_forms.data.queries import lea_plan_data
from aip_forms.plan import Plan
from aip_forms.plan_data import PlanData
from aip_forms.services.uow import UowFactory
from aip_forms.storage import ObjectStore
from exports import layout
from exports.packet import PacketResult, compile_packet
from exports.pdf import PdfConverter
from exports.render import render_docx
from exports.review import ReviewInfo
from exports.sources import Item, PlanSource, example_plans, folder_plans, plan_key
from exports.stored import stored_plan
from exports.summary import write_summary
from exports.suppression import suppress
from validators.validate import ValidationReport, validate_upload

FORMATS = ("docx", "pdf")


class RenderRefused(Exception):
    """An expected failure, with a message for the person who asked."""


@dataclass(frozen=True)
class Rendered:
    content: bytes
    fmt: str
    data: PlanData
    report: ValidationReport | None = None

    @property
    def file_name(self) -> str:
        who = (
            f"school-{self.data.school.code}"
            if self.data.school
            else f"district-{self.data.lea.code}"
        )
        return f"plan-FY{self.data.fiscal_year}-{who}.{self.fmt}"


def check_sections(sections: str | None) -> tuple[str, ...] | None:
    """Parse --sections and reject keys no plan has, before any work is done."""
    keys = layout.parse_keys(sections)
    known = set(layout.all_section_keys())
    for key in keys or ():
        if key not in known:
            raise RenderRefused(
                f"unknown section {key!r}; choose from {', '.join(layout.all_section_keys())}"
            )
    return keys


def docx_to_pdf(docx: bytes, converter: PdfConverter) -> bytes:
    with tempfile.TemporaryDirectory(prefix="aip-render-") as tmp:
        source = Path(tmp) / "plan.docx"
        source.write_bytes(docx)
        (pdf,) = converter.convert([source], Path(tmp) / "pdf")
        return pdf.read_bytes()


def plan_data_for(engine: Engine, config: ProgramConfig, plan: Plan) -> list[PlanData]:
    """The data of the plan's whole LEA, the plan's own first (for LEA-wide suppression)."""
    try:
        datas = lea_plan_data(engine, config, plan.fiscal_year, plan.lea_code)
    except queries.UnknownEntity as exc:
        raise RenderRefused(
            f"{exc} The database has no reference data for this plan: load it with `aip data load`."
        ) from exc
    own = next((d for d in datas if plan_key(d) == (plan.lea_code, plan.school_code)), None)
    if own is None:
        raise RenderRefused(
            f"The database has no FY{plan.fiscal_year} data for "
            f"{'school ' + plan.school_code if plan.school_code else 'LEA ' + plan.lea_code}: "
            "load that year's reference data with `aip data load`."
        )
    return [own, *(d for d in datas if d is not own)]


def render_plan(
    plan: Plan,
    datas: Sequence[PlanData],
    config: ProgramConfig,
    *,
    fmt: str,
    sections: str | Iterable[str] | None = None,
    review: ReviewInfo | None = None,
    converter: PdfConverter | None = None,
    generated: dt.date | None = None,
) -> Rendered:
    """`datas[0]` is the plan's own data; all of them set the suppression."""
    if fmt not in FORMATS:
        raise RenderRefused(f"unknown format {fmt!r}; choose docx or pdf")
    data = datas[0]
    try:
        selection = layout.select(plan.kind, layout.parse_keys(sections))
    except layout.UnknownSection as exc:
        raise RenderRefused(str(exc)) from exc
    docx = render_docx(
        plan,
        data,
        config,
        sections=selection,
        review=review,
        suppression=suppress(datas, config),
        generated=generated,
    )
    if fmt == "docx":
        return Rendered(docx, fmt, data)
    if converter is None:
        raise RenderRefused("no PDF converter")
    return Rendered(docx_to_pdf(docx, converter), fmt, data)


def render_workbook(
    workbook: bytes,
    *,
    filename: str | None,
    engine: Engine,
    config: ProgramConfig,
    key: bytes,
    fmt: str,
    sections: str | None = None,
    converter: PdfConverter | None = None,
    generated: dt.date | None = None,
) -> Rendered:
    """Validate an uploaded plan workbook, then render its plan with the database's data.

    An unreadable or foreign workbook is refused; a readable one with problems is
    rendered as it stands (a draft can be printed), and the report says what is wrong.
    """
    report = validate_upload(workbook, key=key, config=config, filename=filename)
    if report.plan is None or report.outcome == "unreadable":
        reasons = "; ".join(p.message for p in report.errors[:3]) or report.outcome
        raise RenderRefused(f"{filename or 'the workbook'} cannot be rendered: {reasons}")
    datas = plan_data_for(engine, config, report.plan)
    errors = len(report.errors)
    review = None if report.valid else ReviewInfo(status=f"draft, not valid ({errors} problems)")
    rendered = render_plan(
        report.plan,
        datas,
        config,
        fmt=fmt,
        sections=sections,
        review=review,
        converter=converter,
        generated=generated,
    )
    return Rendered(rendered.content, fmt, rendered.data, report)


def render_stored(
    plan_id: int,
    *,
    uow: UowFactory,
    store: ObjectStore,
    engine: Engine,
    config: ProgramConfig,
    key: bytes,
    fmt: str,
    sections: str | Iterable[str] | None = None,
    user_email: str | None = None,
    version: int | None = None,
    converter: PdfConverter | None = None,
    generated: dt.date | None = None,
) -> Rendered:
    """A stored plan's latest version (or `version`), with its review status and comments,
    rendered with the database's data. `user_email` must be allowed to read the plan."""
    found = stored_plan(
        plan_id,
        uow=uow,
        store=store,
        key=key,
        config=config,
        user_email=user_email,
        version=version,
    )
    datas = plan_data_for(engine, config, found.plan)
    return render_plan(
        found.plan,
        datas,
        config,
        fmt=fmt,
        sections=sections,
        review=found.review,
        converter=converter,
        generated=generated,
    )


# ---- compiled documents -------------------------------------------------------------------


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


def compile_lea(
    engine: Engine,
    config: ProgramConfig,
    fiscal_year: int,
    lea_code: str,
    source: PlanSource,
    out: Path,
    *,
    converter: PdfConverter,
    sections: str | None = None,
    on_missing: Callable[[str], None] = lambda message: None,
) -> PacketResult:
    """The LEA's packet from the plans the source has; plans it lacks are reported."""
    try:
        datas = lea_plan_data(engine, config, fiscal_year, lea_code)
    except queries.UnknownEntity as exc:
        raise RenderRefused(f"{exc} Load the reference data with `aip data load`.") from exc
    items = []
    for data, plan, review in source(datas):
        if plan is None:
            on_missing(f"no valid plan for {data.entity_name} ({data.entity_code}); left out")
        else:
            items.append((data, plan, review))
    if not items:
        raise RenderRefused(f"no plans of LEA {lea_code} for FY{fiscal_year} to compile")
    by_key = {plan_key(d): (d, p, r) for d, p, r in items}
    ordered = [by_key[plan_key(d)] for d in datas if plan_key(d) in by_key]
    # suppression over all the LEA's data, shown or not: every packet hides the same cells
    return compile_packet(
        ordered, out, config, converter=converter, sections=sections, all_data=datas
    )


def compile_statewide(
    engine: Engine,
    config: ProgramConfig,
    fiscal_year: int,
    source: PlanSource,
    out: Path,
    *,
    generated: dt.date | None = None,
) -> tuple[Path, int, int]:
    """The summary workbook; returns (path, plans listed, plans received)."""
    datas = list(queries.all_plan_data(engine, config, fiscal_year))
    if not datas:
        raise RenderRefused(
            f"no plans for FY{fiscal_year}: no enrollment is loaded for that year (aip data load)"
        )
    items = list(source(datas))
    write_summary(items, out, config, generated=generated)
    return out, len(items), sum(1 for _, plan, _ in items if plan is not None)
