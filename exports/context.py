"""The view model of a plan document: what the template shows, as display text.

`document_context` walks the form spec: every section's fields (label, value) and tables
(header labels with the history years filled in, one row of display text per data row or
filled input row). Pre-filled values come from PlanData through the workbook's own
bindings (`workbook_templates.prefill`), entries from the Plan. Suppressed groups (see
`exports.suppression`) show "*" for their numbers and are left out of charts.

Values are plain strings here; the renderer's Jinja environment escapes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aip_forms.catalog import OTHER_STRATEGY
from aip_forms.config import ProgramConfig
from aip_forms.domain import FiscalYear, PlanKind
from aip_forms.plan import Plan, PlanRow, Value
from aip_forms.plan_data import DataRow, PeriodRate, PlanData
from aip_forms.spec import FieldSpec, FieldType, FormSpec, RowSource, SectionSpec, TableSpec
from exports import charts, layout
from exports.review import ReviewInfo, format_when
from exports.suppression import ALL, GRADE, SUBGROUP, TIER, Entity, Suppression, entity_of
from workbook_templates.layout import history_labels, source_rows
from workbook_templates.prefill import COLUMN_VALUES, FIELD_VALUES

HIDDEN = "*"
NONE = "—"
ZEBRA = ("FFFFFF", "E9EEF6")
PORTRAIT = {"w": "12240", "h": "15840", "orient": "portrait"}
LANDSCAPE = {"w": "15840", "h": "12240", "orient": "landscape"}
ImageMaker = Callable[[bytes, float], Any]  # (png, width in inches) -> template image


@dataclass
class Item:
    label: str
    value: str


@dataclass
class Row:
    cells: dict[str, str]
    bg: str = ZEBRA[0]


@dataclass
class TableView:
    label: str
    h: dict[str, str]
    rows: list[Row] = field(default_factory=list)
    empty: str = "No entries."
    note: str = ""


@dataclass
class ChartView:
    image: Any
    caption: str


@dataclass
class SectionView:
    key: str
    title: str
    purpose: str
    fields: list[Item] = field(default_factory=list)
    t: dict[str, TableView] = field(default_factory=dict)
    charts: list[ChartView] = field(default_factory=list)
    chart_note: str = ""
    note: str = ""
    break_before: bool = False
    break_after: bool = False


# ---- formatting ------------------------------------------------------------------------


def percent(fraction: float | None) -> str:
    return NONE if fraction is None else f"{fraction * 100:.1f}%"


def format_value(value: Value, ftype: FieldType, blank: str = NONE) -> str:
    if value is None or value == "":
        return blank
    if isinstance(value, bool):
        return "Yes" if value else "No"
    match ftype:
        case FieldType.PERCENT if isinstance(value, int | float):
            return percent(float(value))
        case FieldType.INTEGER if isinstance(value, int | float):
            return f"{int(value):,}"
        case FieldType.DATE if isinstance(value, dt.date):
            return format_when(value)
    return str(value)


def _prefilled_text(value: object, ftype: FieldType) -> str:
    if isinstance(value, str):
        return value
    return format_value(value, ftype)  # type: ignore[arg-type]


# ---- the document --------------------------------------------------------------------------


@dataclass
class Inputs:
    plan: Plan
    data: PlanData
    spec: FormSpec
    config: ProgramConfig
    selection: layout.Selection
    suppression: Suppression
    review: ReviewInfo | None
    generated: dt.date
    image: ImageMaker | None

    @property
    def entity(self) -> Entity:
        return entity_of(self.data)

    def hidden(self, group_type: str, code: str, entity: Entity | None = None) -> bool:
        return self.suppression.is_hidden(entity or self.entity, group_type, code)

    def label(self, text: str) -> str:
        for key, year in history_labels(self.data.fiscal_year).items():
            text = text.replace("{" + key + "}", year)
        return text


def status_text(plan: Plan, review: ReviewInfo | None) -> str:
    if review and review.status:
        return review.status_label
    return "Certified, not yet reviewed" if plan.field("certification", "confirm") else "Draft"


def has_progress(plan: Plan, spec: FormSpec) -> bool:
    """Any progress entry (an input of the progress section) filled in."""
    section = layout.section_spec(spec, "progress")
    if section is None:
        return False
    for table in section.tables:
        inputs = [c.key for c in table.columns if c.is_input]
        for row in plan.rows(section.key, table.key):
            if any(row.get(k) not in (None, "") for k in inputs):
                return True
    return any(plan.field(section.key, f.key) is not None for f in section.fields if f.is_input)


def shown_sections(inputs: Inputs) -> list[str]:
    keys = list(inputs.selection.sections)
    if inputs.selection.full and not has_progress(inputs.plan, inputs.spec):
        keys = [k for k in keys if k != "progress"]
    return keys


def document_context(
    plan: Plan,
    data: PlanData,
    config: ProgramConfig,
    *,
    selection: layout.Selection,
    suppression: Suppression,
    review: ReviewInfo | None = None,
    generated: dt.date | None = None,
    image: ImageMaker | None = None,
    spec: FormSpec,
) -> dict[str, Any]:
    """The template context of one plan document."""
    inputs = Inputs(
        plan,
        data,
        spec,
        config,
        selection,
        suppression,
        review,
        generated or dt.date.today(),
        image if selection.charts else None,
    )
    shown = shown_sections(inputs)
    sections: dict[str, SectionView] = {}
    for section in spec.sections:  # a section not shown is not drawn (nor charted)
        sections[section.key] = (
            section_view(inputs, section)
            if section.key in shown
            else SectionView(section.key, section.title, section.purpose)
        )
    _breaks(spec, shown, sections)
    last = shown[-1] if shown else None
    landscape_last = last in sections and layout.is_landscape(spec.section(last))
    return {
        "doc": _doc(inputs, shown, landscape_last),
        "show": {key: key in shown for key in layout.section_keys(spec.kind)},
        "s": sections,
        "review": review_view(inputs),
    }


def _breaks(spec: FormSpec, shown: list[str], sections: dict[str, SectionView]) -> None:
    """Section breaks around landscape sections: before one when a portrait section
    precedes it, after one when any section follows it."""
    spec_keys = [k for k in shown if k in sections]
    for i, key in enumerate(spec_keys):
        if not layout.is_landscape(spec.section(key)):
            continue
        before = spec_keys[i - 1] if i else None
        sections[key].break_before = before is not None and not layout.is_landscape(
            spec.section(before)
        )
        sections[key].break_after = key != shown[-1]


def _doc(inputs: Inputs, shown: list[str], landscape_last: bool) -> dict[str, Any]:
    data, plan, review = inputs.data, inputs.plan, inputs.review
    fy = FiscalYear(year=data.fiscal_year)
    status = status_text(plan, review)
    kind_label = "School plan" if data.kind is PlanKind.SCHOOL else "District plan"
    facts = [Item("Plan", kind_label), Item("LEA", f"{data.lea.name} ({data.lea.code})")]
    if data.school:
        facts.append(Item("School", f"{data.school.name} ({data.school.code})"))
    facts.append(Item("Status", status))
    contact = " ".join(
        str(v)
        for v in (plan.field("contact", "first_name"), plan.field("contact", "last_name"))
        if v
    )
    if contact:
        title = plan.field("contact", "title")
        facts.append(Item("Coordinator", f"{contact}, {title}" if title else contact))
    certified_by, certified_on = (
        plan.field("certification", "name"),
        plan.field("certification", "date"),
    )
    if plan.field("certification", "confirm") and certified_by:
        when = format_value(certified_on, FieldType.DATE, "")
        facts.append(Item("Certified", f"{certified_by}, {when}" if when else str(certified_by)))
    if review and review.reviewer:
        when = format_when(review.reviewed_at)
        facts.append(Item("Reviewed by", f"{review.reviewer}, {when}" if when else review.reviewer))
    titles = {s.key: s.title for s in inputs.spec.sections}
    titles[layout.REVIEW] = REVIEW_TITLE
    if inputs.selection.full:
        report = "Full report: every section" + (" and charts" if inputs.selection.charts else "")
    else:
        report = "Custom report: " + "; ".join(_short_title(titles[k]) for k in shown)
        report += " (with charts)" if inputs.selection.charts else ""
    facts.append(Item("Report", report))
    facts.append(Item("Generated", format_when(inputs.generated)))
    n = data.min_group_size
    return {
        "agency": inputs.config.agency,
        "title": inputs.spec.title,
        "entity_name": data.entity_name,
        "entity_line": data.lea.name if data.school else f"LEA {data.lea.code}",
        "fiscal_year": f"Fiscal Year {fy.year} (school year {fy.school_year})",
        "status": f"Status: {status}",
        "facts": facts,
        "contents_title": "Contents",
        "contents": [{"title": titles[k]} for k in shown],
        "header": f"{data.entity_name} · {inputs.spec.title} · {fy.label}",
        "footer": f"{data.lea.name} · Generated {format_when(inputs.generated)}",
        "privacy_note": (
            f"{HIDDEN} Not shown to protect student privacy: the group has fewer than {n} "
            "students, or its number would let a reader work out a smaller group's. "
            f"{NONE} No data."
        ),
        "last_page": LANDSCAPE if landscape_last else PORTRAIT,
    }


def _short_title(title: str) -> str:
    return title.split(" - ", 1)[-1]


# ---- sections ---------------------------------------------------------------------------------


def section_view(inputs: Inputs, section: SectionSpec) -> SectionView:
    view = SectionView(key=section.key, title=section.title, purpose=section.purpose)
    for f in section.fields:
        view.fields.append(Item(inputs.label(f.label), _field_text(inputs, section, f)))
    for table in section.tables:
        view.t[table.key] = table_view(inputs, section, table)
    if section.key == "tiers" and inputs.data.tier_source:
        view.note = f"Students per tier: {inputs.data.tier_source} data."
    if section.key == "progress" and not has_progress(inputs.plan, inputs.spec):
        for table_view_ in view.t.values():
            table_view_.note = "No progress updates have been entered yet."
    if inputs.image is not None and section.key in layout.CHARTED:
        _section_charts(inputs, section, view)
    return view


def _field_text(inputs: Inputs, section: SectionSpec, f: FieldSpec) -> str:
    if not f.prefilled:
        return format_value(inputs.plan.field(section.key, f.key), f.type)
    if f.key.startswith("tier") and f.key.endswith("_students"):
        tier = f.key.removeprefix("tier").removesuffix("_students")
        if inputs.hidden(TIER, tier):
            return HIDDEN
    binding = FIELD_VALUES.get(f.key)
    value = binding(inputs.data) if binding else inputs.plan.field(section.key, f.key)
    return _prefilled_text(value, f.type)


def _plan_rows(inputs: Inputs, section: SectionSpec, table: TableSpec) -> list[PlanRow]:
    return inputs.plan.rows(section.key, table.key)


def table_view(inputs: Inputs, section: SectionSpec, table: TableSpec) -> TableView:
    cols = layout.columns(table)
    view = TableView(label=table.label, h={c.key: inputs.label(c.label) for c in cols})
    plan_rows = _plan_rows(inputs, section, table)
    entries: list[tuple[DataRow | PeriodRate | None, PlanRow | None]]
    if table.source is RowSource.FIXED:
        entries = [(None, r) for r in plan_rows if not r.is_blank]
    else:
        by_code = {r.code: r for r in plan_rows if r.code is not None}
        data_rows = source_rows(table, inputs.data)
        entries = [
            (d, by_code.get(d.code) or (plan_rows[i] if i < len(plan_rows) else None))
            for i, d in enumerate(data_rows)
        ]
    for i, (data_row, plan_row) in enumerate(entries):
        cells = _row_cells(inputs, table, data_row, plan_row)
        view.rows.append(Row(cells={c.key: cells.get(c.key, "") for c in cols}, bg=ZEBRA[i % 2]))
    return view


def _row_hidden(inputs: Inputs, table: TableSpec, row: DataRow | PeriodRate | None) -> bool:
    match table.source, row:
        case RowSource.SUBGROUPS, DataRow():
            return inputs.hidden(SUBGROUP, row.code)
        case RowSource.GRADES, DataRow():
            return inputs.hidden(GRADE, row.code)
        case RowSource.SCHOOLS, DataRow():
            return inputs.hidden(SUBGROUP, ALL, ("school", row.code))
        case RowSource.PERIODS, PeriodRate():
            return inputs.hidden(SUBGROUP, ALL)
    return False


def _row_cells(
    inputs: Inputs,
    table: TableSpec,
    data_row: DataRow | PeriodRate | None,
    plan_row: PlanRow | None,
) -> dict[str, str]:
    hidden = _row_hidden(inputs, table, data_row)
    cells: dict[str, str] = {}
    for column in table.columns:
        if column.prefilled:
            binding = COLUMN_VALUES.get(column.key)
            if data_row is not None and binding is not None:
                value = binding(data_row, inputs.data)
            else:
                value = plan_row.get(column.key) if plan_row else None
            numeric = column.type in layout.NUMERIC
            text = HIDDEN if hidden and numeric else _prefilled_text(value, column.type)
        else:
            value = plan_row.get(column.key) if plan_row else None
            text = format_value(value, column.type, "")
            if hidden and column.type in layout.NUMERIC and text:
                text = HIDDEN  # a target set from a hidden rate would give the rate away
        cells[column.key] = text
    for folded, into in layout.FOLDED.items():
        if cells.get(folded) and into in cells:
            cells[into] = f"{cells[into]}: {cells[folded]}" if cells[into] else cells[folded]
    if "strategy" in cells:
        cells["evidence"] = _evidence(inputs.config, plan_row.get("strategy") if plan_row else None)
    return cells


def _evidence(config: ProgramConfig, strategy: Value) -> str:
    if not strategy:
        return ""
    if strategy == OTHER_STRATEGY:
        return "Not rated (local strategy)"
    found = next((s for s in config.strategies if s.name == strategy), None)
    return found.evidence.value if found else "Not in the catalog"


# ---- charts --------------------------------------------------------------------------------------


def _fraction_pct(value: Value) -> float | None:
    return (
        float(value) * 100
        if isinstance(value, int | float) and not isinstance(value, bool)
        else None
    )


def _section_charts(inputs: Inputs, section: SectionSpec, view: SectionView) -> None:
    assert inputs.image is not None
    data = inputs.data
    years = [f"FY{y}" for y in data.history_years]
    target_label = f"Target FY{data.fiscal_year}"
    for table in section.tables:
        if table.source not in (RowSource.SUBGROUPS, RowSource.GRADES, RowSource.SCHOOLS):
            continue
        plan_rows = {r.code: r for r in _plan_rows(inputs, section, table) if r.code}
        shown, left_out, no_data = [], [], []
        for row in source_rows(table, data):
            assert isinstance(row, DataRow)
            if _row_hidden(inputs, table, row):
                left_out.append(row.label)
                continue
            if all(r is None for r in row.rates):
                no_data.append(row.label)
                continue
            plan_row = plan_rows.get(row.code)
            target = _fraction_pct(plan_row.get("target")) if plan_row else None
            shown.append(charts.GroupSeries(row.label, row.rates, target))
        parts = charts.chunks(shown)
        for i, part in enumerate(parts):
            title = table.label + (f" ({i + 1} of {len(parts)})" if len(parts) > 1 else "")
            png = charts.history_chart(title, part, tuple(years), target_label)
            caption = f"Chronic absence by {_noun(table)}, {years[0]} to {years[-1]}, and the "
            caption += f"FY{data.fiscal_year} target."
            view.charts.append(ChartView(inputs.image(png, charts.WIDTH_IN), caption))
        notes = []
        if left_out:
            notes.append("Not charted, to protect student privacy: " + ", ".join(left_out) + ".")
        if no_data:
            notes.append("No rates to chart: " + ", ".join(no_data) + ".")
        view.chart_note = " ".join(notes)
    if section.key == "tiers":
        bars = []
        for band in inputs.config.tiers:
            count = data.tier_counts.get(band.tier)
            bars.append(
                charts.TierBar(
                    f"Tier {band.tier}\n{band.name}", count, inputs.hidden(TIER, str(band.tier))
                )
            )
        png = charts.tier_chart("Students by tier of support", tuple(bars))
        caption = f"Students per tier, {data.tier_source or 'latest'} data."
        view.charts.append(ChartView(inputs.image(png, charts.WIDTH_IN), caption))
    if section.key == "progress" and has_progress(inputs.plan, inputs.spec):
        _progress_chart(inputs, section, view)


def _noun(table: TableSpec) -> str:
    return {RowSource.SUBGROUPS: "subgroup", RowSource.GRADES: "grade"}.get(table.source, "school")


def _progress_chart(inputs: Inputs, section: SectionSpec, view: SectionView) -> None:
    assert inputs.image is not None
    data = inputs.data
    if inputs.hidden(SUBGROUP, ALL):
        view.chart_note = "Not charted, to protect student privacy."
        return
    all_row = next((r for r in data.subgroups if r.code == ALL), None)
    points = [
        charts.ProgressPoint(f"FY{y} EOY", rate, current_year=False)
        for y, rate in zip(data.history_years, all_row.rates if all_row else (), strict=False)
    ]
    table = section.tables[0] if section.tables else None
    plan_rows = {r.code: r for r in _plan_rows(inputs, section, table)} if table else {}
    for period in data.periods:
        row = plan_rows.get(period.code)
        adjusted = _fraction_pct(row.get("adjusted_target")) if row else None
        points.append(charts.ProgressPoint(period.label, period.rate, adjusted))
    target = None
    demographics = inputs.plan.rows("demographics", "subgroups")
    all_plan = next((r for r in demographics if r.code == ALL), None)
    if all_plan is not None:
        target = _fraction_pct(all_plan.get("target"))
    png = charts.progress_chart(
        "All students: chronic absence", tuple(points), target, f"Target FY{data.fiscal_year}"
    )
    view.charts.append(
        ChartView(inputs.image(png, charts.WIDTH_IN), "Progress across reporting periods.")
    )


# ---- review ------------------------------------------------------------------------------------

REVIEW_TITLE = "Review Status and Comments"


def review_view(inputs: Inputs) -> dict[str, Any]:
    review = inputs.review or ReviewInfo()
    fields = [
        Item("Status", status_text(inputs.plan, inputs.review)),
        Item("Submitted by", review.submitted_by or NONE),
        Item("Submitted on", format_when(review.submitted_at) or NONE),
        Item("Reviewed by", review.reviewer or NONE),
        Item("Reviewed on", format_when(review.reviewed_at) or NONE),
    ]
    if review.version is not None:
        fields.append(Item("Version", str(review.version)))
    comments = TableView(
        label="Reviewer comments",
        h={"date": "Date", "author": "Reviewer", "where": "About", "body": "Comment"},
        empty="No review comments yet.",
    )
    for i, c in enumerate(review.comments):
        comments.rows.append(
            Row(
                cells={
                    "date": format_when(c.created_at),
                    "author": c.author,
                    "where": c.where or "The whole plan",
                    "body": c.body,
                },
                bg=ZEBRA[i % 2],
            )
        )
    return {
        "title": REVIEW_TITLE,
        "purpose": "Where the plan stands in PED review, and what reviewers asked for.",
        "fields": fields,
        "comments": comments,
    }
