"""The statewide summary workbook: every LEA's and school's plan, one row per group.

One sheet, `Summary`, with a row per subgroup and grade of every plan: plan status,
enrollment, the three history years' chronic absence rates and this year's target. It is
a plain table for sorting and filtering: frozen header, autofilter, no protection.
Rates and targets are fractions with a percent format. Cells hidden for privacy (see
`exports.suppression`, computed per LEA over all its plans) hold "*", and the row says
Suppressed = Yes. A second sheet, `About`, says what the columns mean.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from aip_forms.config import ProgramConfig
from aip_forms.domain import PlanKind
from aip_forms.filled_plan import Plan
from aip_forms.issued_data import DataRow, PlanData
from aip_forms.programs.rules import Direction
from exports.context import HIDDEN, status_text
from exports.review import ReviewInfo, format_when
from exports.suppression import GRADE, SUBGROUP, Suppression, entity_of, suppress_by_lea

SummaryItem = tuple[PlanData, Plan | None, ReviewInfo | None]
NO_PLAN = "No plan received"
PERCENT_FORMAT = "0.0%"
HEADER_FILL = PatternFill("solid", fgColor="1F3864")
HEADER_FONT = Font(bold=True, color="FFFFFF")


@dataclass(frozen=True)
class SummaryColumn:
    label: str
    width: float
    percent: bool = False


def columns(
    history_years: tuple[int, ...], fiscal_year: int, metric_title: str = "Chronic Absence"
) -> list[SummaryColumn]:
    return [
        SummaryColumn("Fiscal Year", 11),
        SummaryColumn("LEA Code", 10),
        SummaryColumn("LEA Name", 34),
        SummaryColumn("School Code", 12),
        SummaryColumn("School Name", 34),
        SummaryColumn("Plan", 9),
        SummaryColumn("Plan Status", 24),
        SummaryColumn("Group Type", 11),
        SummaryColumn("Group", 32),
        SummaryColumn("Enrollment", 11),
        *(SummaryColumn(f"{metric_title} FY{y}", 14, percent=True) for y in history_years),
        SummaryColumn(f"Target FY{fiscal_year}", 13, percent=True),
        SummaryColumn(
            f"Target minus FY{history_years[-1]}" if history_years else "Change", 14, percent=True
        ),
        SummaryColumn("Suppressed", 11),
    ]


def _targets(plan: Plan | None) -> dict[tuple[str, str], float]:
    out: dict[tuple[str, str], float] = {}
    if plan is None:
        return out
    for group_type, section, table in (
        (SUBGROUP, "demographics", "subgroups"),
        (GRADE, "grades", "grades"),
    ):
        for row in plan.rows(section, table):
            target = row.get("target")
            if row.code and isinstance(target, int | float) and not isinstance(target, bool):
                out[(group_type, row.code)] = float(target)
    return out


def summary_rows(
    items: Iterable[SummaryItem], config: ProgramConfig, suppression: Suppression | None = None
) -> Iterable[list[object]]:
    """The rows of the Summary sheet (values as written; "*" where hidden)."""
    items = list(items)
    if suppression is None:
        suppression = suppress_by_lea((d for d, _, _ in items), config)
    for data, plan, review in items:
        entity = entity_of(data)
        status = NO_PLAN if plan is None else status_text(plan, review)
        targets = _targets(plan)
        kind = "District" if data.kind is PlanKind.DISTRICT else "School"
        for group_type, rows in ((SUBGROUP, data.subgroups), (GRADE, data.grades)):
            for row in rows:
                hidden = suppression.is_hidden(entity, group_type, row.code)
                yield [
                    data.fiscal_year,
                    data.lea.code,
                    data.lea.name,
                    data.school.code if data.school else "",
                    data.school.name if data.school else "",
                    kind,
                    status,
                    group_type.capitalize(),
                    row.label,
                    *_numbers(row, targets.get((group_type, row.code)), hidden),
                    "Yes" if hidden else "No",
                ]


def _numbers(row: DataRow, target: float | None, hidden: bool) -> list[object]:
    rates = [None if r is None else round(r / 100, 6) for r in row.rates]
    latest = rates[-1] if rates else None
    change = None if target is None or latest is None else round(target - latest, 6)
    values: list[object] = [row.enrollment, *rates, target, change]
    if hidden:
        return [HIDDEN if v is not None else None for v in values]
    return values


def statewide_summary(
    items: Iterable[SummaryItem],
    config: ProgramConfig,
    *,
    generated: dt.date | None = None,
    suppression: Suppression | None = None,
) -> Workbook:
    """The workbook (write-only: save it once)."""
    items = list(items)
    wb = Workbook(write_only=True)
    ws: Any = wb.create_sheet("Summary")  # write-only: openpyxl's stubs lack its attributes
    first = items[0][0] if items else None
    years = first.history_years if first else ()
    fiscal_year = first.fiscal_year if first else 0
    cols = columns(years, fiscal_year, config.metric.title)
    for i, col in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.freeze_panes = "A2"
    header = []
    for col in cols:
        cell = WriteOnlyCell(ws, col.label)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header.append(cell)
    ws.append(header)
    percent = [c.percent for c in cols]
    count = 0
    for values in summary_rows(items, config, suppression):
        row: list[object] = []
        for value, is_percent in zip(values, percent, strict=True):
            if is_percent and isinstance(value, float):
                cell = WriteOnlyCell(ws, value)
                cell.number_format = PERCENT_FORMAT
                row.append(cell)
            else:
                row.append(text_cell(ws, value))
        ws.append(row)
        count += 1
    last = get_column_letter(len(cols))
    ws.auto_filter.ref = f"A1:{last}{count + 1}"
    _about(wb, items, config, count, generated or dt.date.today())
    return wb


def text_cell(ws: Any, value: object) -> object:
    """`value`, or a cell that keeps it text: openpyxl writes any text starting with "=" as a
    formula, so a name or answer such as '=HYPERLINK("http://...")' would run in Excel."""
    if not (isinstance(value, str) and value.startswith("=")):
        return value
    cell = WriteOnlyCell(ws, value)
    cell.data_type = "s"
    return cell


def _about(
    wb: Workbook, items: list[SummaryItem], config: ProgramConfig, rows: int, generated: dt.date
) -> None:
    ws: Any = wb.create_sheet("About")
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 100
    plans = len(items)
    received = sum(1 for _, plan, _ in items if plan is not None)
    n = min((d.min_group_size for d, _, _ in items), default=config.min_group_size)
    for label, text in (
        ("Statewide summary", "Attendance Improvement Plans: one row per group of every plan."),
        ("Generated", format_when(generated)),
        ("Plans", f"{plans} plans listed, {received} received; {rows} group rows."),
        ("Plan Status", f"The plan's review status, or '{NO_PLAN}'."),
        (
            config.metric.title,
            f"Share of the group's students {_counted(config)} of their enrolled days, end "
            "of each past school year.",
        ),
        ("Target", f"The {config.metric.name} the plan aims for this year."),
        (
            "*",
            f"Hidden to protect student privacy: fewer than {n} students, or a number that "
            "would let a reader work out a hidden one from a total. Suppressed = Yes.",
        ),
        ("Sorting and filtering", "Use the filter arrows on the header row (Data > Filter)."),
    ):
        ws.append([label, text])


def _counted(config: ProgramConfig) -> str:
    m = config.metric
    verb = "absent" if m.direction is Direction.LOWER_IS_BETTER else "attending"
    return f"{verb} {m.threshold_pct:g}% or more"


def write_summary(
    items: Iterable[SummaryItem],
    path: Path,
    config: ProgramConfig,
    *,
    generated: dt.date | None = None,
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    statewide_summary(items, config, generated=generated).save(path)
    return path
