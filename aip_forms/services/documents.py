"""Document use cases: plain functions taking their collaborators (database engine,
program config, signing key, PDF converter, unit of work, object store) as arguments. The
CLI and the portal parse input, call one of these, and present the result; `exports` only
renders what they hand it.

- `render_workbook`: a plan workbook file, validated first;
- `render_stored`: a stored plan by its id (`aip submissions list`, column "plan"): its
  latest version, or the version asked for, with its review (`stored_plans`); its charts
  are read from the object store, where `draw_charts` puts them when a plan is submitted;
- `compile_lea`, `compile_statewide`: the district packet and the statewide summary, from
  a `PlanSource` (`plan_sources`): the store, a folder of workbooks, or examples.

Failures are the project's errors (`aip_forms.errors`): InvalidInput for a request that
cannot be met, NotFound for reference data that is not loaded.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from aip_forms.config import ProgramConfig
from aip_forms.data import queries
from aip_forms.data.queries import lea_plan_data
from aip_forms.errors import AipError, InvalidInput, NotFound
from aip_forms.filled_plan import Plan
from aip_forms.issued_data import PlanData
from aip_forms.services.plan_sources import PlanSource, plan_key
from aip_forms.services.stored_plans import stored_plan
from aip_forms.services.uow import UowFactory
from aip_forms.storage import ObjectStore
from exports import layout
from exports.pdf import PdfConverter
from exports.render import draw_charts as draw_plan_charts
from exports.render import render_docx
from exports.review import ReviewInfo
from exports.suppression import suppress
from validators.validate import ValidationReport, validate_upload

if TYPE_CHECKING:  # the packet (matplotlib, pypdf) and summary (openpyxl) load when used
    from exports.packet import PacketResult

FORMATS = ("docx", "pdf")
log = logging.getLogger(__name__)


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
            raise InvalidInput(
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
        raise NotFound(
            f"{exc} The database has no reference data for this plan: load it with `aip data load`."
        ) from exc
    own = next((d for d in datas if plan_key(d) == (plan.lea_code, plan.school_code)), None)
    if own is None:
        raise NotFound(
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
    chart_store: ObjectStore | None = None,
) -> Rendered:
    """`datas[0]` is the plan's own data; all of them set the suppression. Charts are kept
    in `chart_store` (see `exports.charts`)."""
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; choose docx or pdf")
    data = datas[0]
    try:
        selection = layout.select(config.spec(plan.kind), layout.parse_keys(sections))
    except layout.UnknownSection as exc:
        raise InvalidInput(str(exc)) from exc
    docx = render_docx(
        plan,
        data,
        config,
        sections=selection,
        review=review,
        suppression=suppress(datas, config),
        generated=generated,
        chart_store=chart_store,
    )
    if fmt == "docx":
        return Rendered(docx, fmt, data)
    if converter is None:
        raise InvalidInput("no PDF converter")
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
        raise InvalidInput(f"{filename or 'the workbook'} cannot be rendered: {reasons}")
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
        chart_store=store,
    )


def draw_charts(
    plan_id: int,
    *,
    uow: UowFactory,
    store: ObjectStore,
    engine: Engine,
    config: ProgramConfig,
    key: bytes,
    version: int | None = None,
) -> int:
    """Draw a stored plan's charts into the object store, so that its documents read them
    instead of drawing them (called when a version is submitted). Returns the number of
    charts the plan's full report has."""
    found = stored_plan(plan_id, uow=uow, store=store, key=key, config=config, version=version)
    datas = plan_data_for(engine, config, found.plan)
    return draw_plan_charts(
        found.plan, datas[0], config, chart_store=store, suppression=suppress(datas, config)
    )


def charts_after_submit(
    plan_id: int,
    version: int,
    *,
    uow: UowFactory,
    store: ObjectStore,
    engine: Engine,
    config: ProgramConfig,
    key: bytes,
) -> int | None:
    """`draw_charts` for a version just stored. The submission stands whatever happens
    here: a failure is logged and the charts are drawn when the plan is first rendered."""
    try:
        return draw_charts(
            plan_id, uow=uow, store=store, engine=engine, config=config, key=key, version=version
        )
    except AipError as exc:
        log.warning("charts of plan %s version %s not drawn: %s", plan_id, version, exc)
        return None


# ---- compiled documents -------------------------------------------------------------------


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
    chart_store: ObjectStore | None = None,
) -> PacketResult:
    """The LEA's packet from the plans the source has; plans it lacks are reported. With
    stored plans, `chart_store` (the object store) gives the charts kept at submit."""
    from exports.packet import compile_packet

    try:
        datas = lea_plan_data(engine, config, fiscal_year, lea_code)
    except queries.UnknownEntity as exc:
        raise NotFound(f"{exc} Load the reference data with `aip data load`.") from exc
    items = []
    for data, plan, review in source(datas):
        if plan is None:
            on_missing(f"no valid plan for {data.entity_name} ({data.entity_code}); left out")
        else:
            items.append((data, plan, review))
    if not items:
        raise NotFound(f"no plans of LEA {lea_code} for FY{fiscal_year} to compile")
    by_key = {plan_key(d): (d, p, r) for d, p, r in items}
    ordered = [by_key[plan_key(d)] for d in datas if plan_key(d) in by_key]
    # suppression over all the LEA's data, shown or not: every packet hides the same cells
    return compile_packet(
        ordered,
        out,
        config,
        converter=converter,
        sections=sections,
        all_data=datas,
        chart_store=chart_store,
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
    from exports.summary import write_summary

    datas = list(queries.all_plan_data(engine, config, fiscal_year))
    if not datas:
        raise NotFound(
            f"no plans for FY{fiscal_year}: no enrollment is loaded for that year (aip data load)"
        )
    items = list(source(datas))
    write_summary(items, out, config, generated=generated)
    return out, len(items), sum(1 for _, plan, _ in items if plan is not None)
