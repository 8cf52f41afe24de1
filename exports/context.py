"""The view model of a plan document: what the template shows, as display text.

`document_context` walks the form spec: every section's fields (label, value) and tables
(header labels with the history years filled in, one row of display text per data row or
filled input row). Pre-filled values come from PlanData through the workbook's own
bindings (`aip_forms.workbook_format.prefill`), entries from the Plan. Suppressed groups (see
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
from aip_forms.filled_plan import Plan, PlanRow, Value
from aip_forms.issued_data import DataRow, PeriodRate, PlanData
from aip_forms.programs.rules import Metric
from aip_forms.spec import FieldSpec, FieldType, FormSpec, RowSource, SectionSpec, TableSpec
from aip_forms.workbook_format.layout import source_rows, with_years
from aip_forms.workbook_format.prefill import COLUMN_VALUES, FIELD_VALUES
from exports import charts, layout
from exports.review import PeriodProgress, ReviewInfo, format_when
from exports.suppression import ALL, GRADE, SUBGROUP, TIER, Entity, Suppression, entity_of

HIDDEN = "*"
NONE = "—"
ZEBRA = ("FFFFFF", "E9EEF6")
PORTRAIT = {"w": "12240", "h": "15840", "orient": "portrait"}
LANDSCAPE = {"w": "15840", "h": "12240", "orient": "landscape"}
# (png, width in inches, alternative text) -> template image
ImageMaker = Callable[[bytes, float, str], Any]


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
        return with_years(text, self.data.fiscal_year)


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
    if (
        inputs.selection.full
        and not has_progress(inputs.plan, inputs.spec)
        and not _has_updates(inputs)
    ):
        keys = [k for k in keys if k != "progress"]
    return keys


def _has_updates(inputs: Inputs) -> bool:
    """Any reporting period with PED's rates or a progress update (issue 12)."""
    review = inputs.review
    return review is not None and any(p.loaded or p.update_status for p in review.progress)


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
        "show": {key: key in shown for key in layout.section_keys(spec)},
        "s": sections,
        "review": review_view(inputs),
        "progress": progress_view(inputs, "progress" in shown),
        "summary": summary_view(inputs),
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
    titles = layout.titles(inputs.spec)
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
        "contents": [{"title": SUMMARY_TITLE}]
        + [{"title": titles[k]} for k in shown]
        + ([{"title": SIGNOFF_TITLE}] if layout.REVIEW in shown else []),
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
    title = layout.titles(inputs.spec).get(section.key, section.title)
    view = SectionView(key=section.key, title=title, purpose=section.purpose)
    for f in section.fields:
        view.fields.append(Item(inputs.label(f.label), _field_text(inputs, section, f)))
    for table in section.tables:
        view.t[table.key] = table_view(inputs, section, table)
    notes = [legend(f.value for f in view.fields)]
    if section.key == "tiers" and inputs.data.tier_source:
        notes.append(f"Students per tier: {inputs.data.tier_source} data.")
    view.note = " ".join(n for n in notes if n)
    if section.key == "progress" and not has_progress(inputs.plan, inputs.spec):
        for table_view_ in view.t.values():
            said = f"{table_view_.note} No progress updates have been entered yet."
            table_view_.note = said.strip()
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
    view.note = legend(v for r in view.rows for v in r.cells.values())
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
    # a group with no students has no target to set: the workbook's default is left out
    no_data = (
        isinstance(data_row, DataRow)
        and data_row.enrollment is None
        and all(r is None for r in data_row.rates)
    )
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
            if no_data and column.type in layout.NUMERIC:
                text = ""
            elif hidden and column.type in layout.NUMERIC and text:
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
    metric = inputs.config.metric
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
            png = charts.history_chart(title, part, tuple(years), target_label, metric.axis)
            caption = (
                f"{metric.title.capitalize()} by {_noun(table)}, {years[0]} to {years[-1]}, "
                f"and the FY{data.fiscal_year} target."
            )
            alt = history_alt(title, part, years, target_label, metric.name)
            view.charts.append(ChartView(inputs.image(png, charts.WIDTH_IN, alt), caption))
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
        alt = "Bar chart, students by tier of support: " + "; ".join(
            f"{b.label.replace(chr(10), ' ')}: "
            + ("hidden" if b.hidden else "no data" if b.count is None else f"{b.count:,}")
            for b in bars
        )
        view.charts.append(ChartView(inputs.image(png, charts.WIDTH_IN, alt + "."), caption))
    if section.key == "progress" and has_progress(inputs.plan, inputs.spec):
        _progress_chart(inputs, section, view)


def _rate(value: float | None) -> str:
    return "no data" if value is None else f"{value:.1f}%"


def history_alt(
    title: str,
    series: Any,
    years: list[str],
    target_label: str,
    metric: str = "chronic absence rate",
) -> str:
    """A history chart's alternative text, from the numbers it draws."""
    groups = "; ".join(
        f"{s.label}: "
        + ", ".join(f"{y} {_rate(r)}" for y, r in zip(years, s.rates, strict=False))
        + (f", {target_label} {_rate(s.target)}" if s.target is not None else "")
        for s in series
    )
    return f"Line chart, {title}, {metric} by year. {groups}."


def _noun(table: TableSpec) -> str:
    return {RowSource.SUBGROUPS: "subgroup", RowSource.GRADES: "grade"}.get(table.source, "school")


def _progress_chart(inputs: Inputs, section: SectionSpec, view: SectionView) -> None:
    assert inputs.image is not None
    data = inputs.data
    title = inputs.config.metric.title
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
        f"All students: {title.lower()}",
        tuple(points),
        target,
        f"Target FY{data.fiscal_year}",
        inputs.config.metric.axis,
    )
    alt = f"Line chart, all students' {title.lower()} across reporting periods: " + "; ".join(
        f"{p.label} {_rate(p.rate)}"
        + (f" (adjusted target {_rate(p.adjusted_target)})" if p.adjusted_target else "")
        for p in points
    )
    alt += f"; target FY{data.fiscal_year} {_rate(target)}."
    view.charts.append(
        ChartView(inputs.image(png, charts.WIDTH_IN, alt), "Progress across reporting periods.")
    )


# ---- the one-page summary (issue 13) -------------------------------------------------------------

SUMMARY_TITLE = "At a Glance"


@dataclass(frozen=True)
class Glance:
    """A plan's figures at a glance, as display text (`*` hidden, `—` no data)."""

    history: str  # "FY2024: 46.3%; FY2025: 49.3%; FY2026: 37.9%"
    latest: str  # the last history year's rate
    trend: str
    change: str  # "-8.4" points over the history years
    target: str
    tiers: str  # students in Tiers 3 and 4


def plan_glance(
    plan: Plan, data: PlanData, config: ProgramConfig, suppression: Suppression
) -> Glance:
    """The figures of `summary_view`, for the packet's cover too."""
    spec = config.spec(plan.kind)
    inputs = Inputs(plan, data, spec, config, layout.select(spec, None), suppression, None,
                    dt.date.today(), None)  # fmt: skip
    return _glance(inputs)


def _glance(inputs: Inputs) -> Glance:
    data, plan = inputs.data, inputs.plan
    everyone = next((r for r in data.subgroups if r.code == ALL), None)
    hidden = inputs.hidden(SUBGROUP, ALL)
    years = [f"FY{y}" for y in data.history_years]
    rates = list(everyone.rates) if everyone else []
    if hidden:
        history = trend = latest = points = HIDDEN
    else:
        history = "; ".join(f"{y}: {_pct_text(r)}" for y, r in zip(years, rates, strict=False))
        latest = _pct_text(rates[-1] if rates else None)
        known = [r for r in rates if r is not None]
        trend = points = NONE
        if len(known) >= 2:
            change = known[-1] - known[0]
            word = "rising" if change > 0.05 else "falling" if change < -0.05 else "flat"
            trend = f"{word}: {change:+.1f} points since {years[rates.index(known[0])]}"
            points = f"{change:+.1f}"
    target_row = next((r for r in plan.rows("demographics", "subgroups") if r.code == ALL), None)
    target = _fraction_pct(target_row.get("target")) if target_row else None
    tiers_hidden = inputs.hidden(TIER, "3") or inputs.hidden(TIER, "4")
    counts = [data.tier_counts.get(t) for t in (3, 4)]
    if tiers_hidden:
        tiers = HIDDEN
    elif all(c is None for c in counts):
        tiers = NONE
    else:
        tiers = f"{sum(c or 0 for c in counts):,}"
    target_text = HIDDEN if hidden else _pct_text(target)
    return Glance(history or NONE, latest, trend, points, target_text, tiers)


def summary_view(inputs: Inputs) -> dict[str, Any]:
    """The plan on one page: all students' chronic absence over the history years and its
    trend, the target, students in Tiers 3 and 4, the strategies per tier, and the status.
    Hidden numbers stay hidden (`*`)."""
    data, plan = inputs.data, inputs.plan
    glance = _glance(inputs)
    source = f" ({data.tier_source})" if data.tier_source and glance.tiers[:1].isdigit() else ""
    facts = [
        Item("Status", status_text(plan, inputs.review)),
        Item(f"All students, {inputs.config.metric.counted_label}", glance.history),
        Item("Trend", glance.trend),
        Item(f"Target FY{data.fiscal_year}", glance.target),
        Item("Students in Tiers 3 and 4", glance.tiers + source),
    ]
    if data.staffing is not None:  # a program with a staffing rule (LAUSD's counselor days)
        staffing = data.staffing
        facts.append(
            Item(
                staffing.unit[:1].upper() + staffing.unit[1:],
                f"{staffing.days:g} ({staffing.band} students enrolled in the targeted grades)",
            )
        )
    for band in inputs.config.tiers:
        names = []
        for row in plan.rows("tiers", f"tier{band.tier}"):
            name = row.get("strategy")
            if name == OTHER_STRATEGY and row.get("other_strategy"):
                name = f"Other: {row.get('other_strategy')}"
            if name:
                names.append(str(name))
        facts.append(Item(f"Tier {band.tier} strategies ({band.name})", "; ".join(names) or NONE))
    return {
        "title": SUMMARY_TITLE,
        "purpose": "The plan on one page; every section follows in full.",
        "facts": facts,
        "note": legend(f.value for f in facts),
    }


# ---- progress through the year (issue 12) --------------------------------------------------------

UPDATE_WORDS = {
    "": "Not started",
    "draft": "Draft",
    "submitted": "Submitted, in review",
    "resubmitted": "Resubmitted, in review",
    "returned": "Returned for revision",
    "approved": "Approved",
}
PROGRESS_TITLE = "Progress Through the Year"


def legend(texts: Any) -> str:
    """The key to the markers a table shows: `*` and `—`, only those it has."""
    shown = set(texts)
    parts = []
    if HIDDEN in shown:
        parts.append(f"{HIDDEN} hidden to protect student privacy")
    if NONE in shown:
        parts.append(f"{NONE} no data")
    return ("Key: " + "; ".join(parts) + ".") if parts else ""


def progress_view(inputs: Inputs, shown: bool) -> dict[str, Any]:
    """Each reporting period: the rates of every group against the target in force (the
    plan's, or the last one an approved update adjusted), and the approved update's ratings
    and reflections. Groups hidden for privacy show `*`; groups with no rate are left out."""
    periods = list(inputs.review.progress) if inputs.review else []
    out: dict[str, Any] = {
        "show": shown and any(p.loaded or p.update_status for p in periods),
        "title": PROGRESS_TITLE,
        "purpose": (
            f"{inputs.config.metric.title.capitalize()} at each reporting period against the "
            "target in force (the plan's target, or the one the last approved progress update "
            "set), and what the approved updates said about each strategy."
        ),
        "overview": None,
        "periods": [],
    }
    if not out["show"]:
        return out
    overview = TableView(
        label="Progress updates",
        h={
            "period": "Period",
            "update": "Progress update",
            "target": "Target (all students)",
            "rate": "Rate (all students)",
            "met": "Met",
        },
    )
    in_force = _plan_targets(inputs)
    for i, period in enumerate(periods):
        groups = _period_groups(inputs, period, in_force)
        everyone = next((r for r in groups.rows if r.cells.get("key") == ALL), None)
        summary = {"target": _pct_text(in_force.get((SUBGROUP, ALL))), "rate": NONE, "met": NONE}
        if everyone is not None:
            summary = {k: everyone.cells[k] for k in summary}
        update = UPDATE_WORDS.get(period.update_status, period.update_status)
        row = {"period": period.label, "update": update, **summary}
        overview.rows.append(Row(cells=row, bg=ZEBRA[i % 2]))
        if period.loaded or period.update_status:
            reflections = _reflections(period)
            if not reflections.rows:  # said under the rates, not alone under a heading
                groups.note = f"{groups.note} {reflections.empty}".strip()
            out["periods"].append(
                {"label": period.label, "groups": groups, "reflections": reflections}
            )
        for group_type, code, value in period.adjusted:  # in force from the next period
            if (group_type, code) in in_force:
                in_force[(group_type, code)] = value * 100
    overview.note = legend(v for r in overview.rows for v in r.cells.values())
    out["overview"] = overview
    return out


def _period_groups(
    inputs: Inputs, period: PeriodProgress, in_force: dict[tuple[str, str], float | None]
) -> TableView:
    rates = {(r.group_type, r.code): r for r in period.rates}
    labels = {(SUBGROUP, r.code): r.label for r in inputs.data.subgroups}
    labels.update({(GRADE, r.code): r.label for r in inputs.data.grades})
    adjusted = {(t, c): v * 100 for t, c, v in period.adjusted}
    groups = TableView(
        label=f"{period.label}: rates against the targets in force",
        h={
            "group": "Group",
            "target": "Target in force",
            "rate": "Rate",
            "met": "Met",
            "adjusted": "Adjusted target, next period",
        },
        empty=f"{inputs.config.agency_short} has not loaded this period's rates yet.",
    )
    left_out = 0
    for key, target in in_force.items():
        rate = rates.get(key)
        students = rate.students if rate is not None else None
        small = students is not None and students < inputs.data.min_group_size
        hidden = inputs.hidden(*key) or small
        if rate is None and not hidden:
            left_out += 1
            continue
        cells = _progress_cells(target, rate.rate if rate else None, hidden, inputs.config.metric)
        cells["group"] = labels.get(key, key[1])
        cells["adjusted"] = HIDDEN if hidden else _pct_text(adjusted.get(key), blank="")
        cells["key"] = key[1] if key[0] == SUBGROUP else ""
        groups.rows.append(Row(cells=cells, bg=ZEBRA[len(groups.rows) % 2]))
    notes = [legend(v for r in groups.rows for k, v in r.cells.items() if k != "key")]
    if left_out and groups.rows:
        notes.append(f"{left_out} groups with no rate this period are left out.")
    groups.note = " ".join(n for n in notes if n)
    return groups


def _reflections(period: PeriodProgress) -> TableView:
    status = UPDATE_WORDS.get(period.update_status, period.update_status)
    view = TableView(
        label=f"{period.label}: strategies",
        h={"ref": "Ref.", "strategy": "Strategy", "rating": "Rating", "reflection": "Reflection"},
        empty=f"The progress update for this period is not approved yet ({status.lower()}).",
    )
    for j, r in enumerate(period.reflections):
        cells = {
            "ref": r.ref,
            "strategy": r.strategy,
            "rating": r.rating or NONE,
            "reflection": r.reflection or NONE,
        }
        view.rows.append(Row(cells=cells, bg=ZEBRA[j % 2]))
    view.note = legend(v for r in view.rows for v in r.cells.values())
    return view


def _plan_targets(inputs: Inputs) -> dict[tuple[str, str], float | None]:
    """(group type, code) -> the plan's target in percent (None: none set), in table order."""
    out: dict[tuple[str, str], float | None] = {}
    for group_type, section, table in (
        (SUBGROUP, "demographics", "subgroups"),
        (GRADE, "grades", "grades"),
    ):
        for row in inputs.plan.rows(section, table):
            if row.code:
                out[(group_type, row.code)] = _fraction_pct(row.get("target"))
    return out


def _pct_text(value: float | None, blank: str = NONE) -> str:
    return blank if value is None else f"{value:.1f}%"


def _progress_cells(
    target: float | None, rate: float | None, hidden: bool, metric: Metric
) -> dict[str, str]:
    if hidden:
        return {"target": HIDDEN, "rate": HIDDEN, "met": HIDDEN}
    met = NONE
    if target is not None and rate is not None:
        met = "Yes" if metric.meets(rate, target) else "No"
    return {"target": _pct_text(target), "rate": _pct_text(rate), "met": met}


# ---- review ------------------------------------------------------------------------------------

REVIEW_TITLE = "Review Status and Comments"
NOT_RECORDED, NOT_REVIEWED = "Not recorded", "Not reviewed yet"  # words, not "—", for people


def review_view(inputs: Inputs) -> dict[str, Any]:
    review = inputs.review or ReviewInfo()
    fields = [
        Item("Status", status_text(inputs.plan, inputs.review)),
        Item("Submitted by", review.submitted_by or NOT_RECORDED),
        Item("Submitted on", format_when(review.submitted_at) or NOT_RECORDED),
        Item("Reviewed by", review.reviewer or NOT_REVIEWED),
        Item("Reviewed on", format_when(review.reviewed_at) or NOT_REVIEWED),
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
        "purpose": f"Where the plan stands in {inputs.config.agency_short} review, and what "
        "reviewers asked for.",
        "fields": fields,
        "comments": comments,
        "signoff": signoff_view(inputs),
    }


SIGNOFF_TITLE = "Sign-off"
DECISIONS = {"approved": "Approved", "returned": "Returned for revision"}


def signoff_view(inputs: Inputs) -> dict[str, Any]:
    """The sign-off page: who certified the plan, lines for the superintendent's or
    principal's signature and the board's approval date, PED's decision, and the stored
    version with its SHA-256 (so that a printout can be checked against the official copy)."""
    plan, review = inputs.plan, inputs.review or ReviewInfo()
    school = inputs.data.kind is PlanKind.SCHOOL
    certified = plan.field("certification", "confirm")
    name, title = plan.field("certification", "name"), plan.field("certification", "title")
    certifier = ", ".join(str(v) for v in (name, title) if v) if certified else ""
    decision = DECISIONS.get(review.status, "")
    fields = [
        Item("Certified by", certifier or "Not certified"),
        Item(
            "Certified on",
            format_value(plan.field("certification", "date"), FieldType.DATE, NOT_RECORDED)
            if certified
            else "Not certified",
        ),
        Item(
            f"{inputs.config.agency_short} decision" if not school else "District decision",
            decision or "Not decided yet",
        ),
        Item(
            "Decision date",
            (format_when(review.reviewed_at) or NOT_RECORDED) if decision else NOT_REVIEWED,
        ),
        Item("Decided by", (review.reviewer or NOT_RECORDED) if decision else NOT_REVIEWED),
        Item(
            "Stored version",
            str(review.version)
            if review.version is not None
            else "Not stored: printed from a workbook",
        ),
        Item("SHA-256 of the stored workbook", review.sha256 or "Not stored"),
    ]
    signer = "Principal" if school else "Superintendent"
    return {
        "title": SIGNOFF_TITLE,
        "purpose": (
            "Signatures and decisions. The version number and SHA-256 identify the stored "
            "workbook this document was printed from: `aip submissions list` shows them for "
            "the official copy."
        ),
        "fields": fields,
        "lines": [
            Item(f"{signer} (signature)", ""),
            Item(f"{signer} (printed name)", ""),
            Item("Date signed", ""),
            Item("Local school board approval date", ""),
        ],
    }
