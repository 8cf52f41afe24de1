"""The end-of-year public report's files: a workbook (openpyxl) and a Word document
(python-docx) that the PDF converter prints. What they show is gathered by
`aip_forms.services.eoy_report`; here it is only laid out.

Both carry the title, the scope (an LEA or statewide), which results are shown (end of year,
or the latest period while the end-of-year data is not loaded) and their date, and the
legend of `*` (hidden to protect student privacy) and `—` (no data). Percentages are of
students chronically absent (absent 10% or more of their enrolled days).

- Workbook: `Results`, one row per subgroup and grade of every plan (frozen header,
  autofilter; numbers as fractions with a percent format, "*" where hidden); `About`, the
  title, date and legend.
- Document: the overview (statewide: one row per LEA; an LEA: one row per plan) with each
  plan's status and its all-students target and result, then a table per plan (statewide:
  per district plan) by subgroup and grade. A legend under every table that shows `*` or
  `—`.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Pt, RGBColor
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from aip_forms.domain import PlanKind
from aip_forms.programs.rules import Direction
from exports.context import HIDDEN, NONE
from exports.review import format_when
from exports.summary import HEADER_FILL, HEADER_FONT, PERCENT_FORMAT, text_cell

if TYPE_CHECKING:
    from aip_forms.services.eoy_report import EoyReport, GroupResult, PlanResult

FONT = "Liberation Sans"
DATA_NOTE = (
    "Synthetic demonstration data: every number in this report comes from aip-forms' "
    "generated sample data set, not from real students."
)


def legend_lines(report: EoyReport, cells: Iterable[str]) -> list[str]:
    """The legend lines for the markers that `cells` show."""
    shown = set(cells)
    lines = []
    if HIDDEN in shown:
        lines.append(
            f"{HIDDEN}  Hidden to protect student privacy: fewer than {report.min_size} "
            "students, or a number that would let a reader work out a hidden one from a total."
        )
    if NONE in shown:
        lines.append(
            f"{NONE}  No data: no students in the group, no plan received, or no target set."
        )
    return lines


def pct(value: float | None, hidden: bool) -> str:
    if hidden:
        return HIDDEN
    return NONE if value is None else f"{value:.1f}%"


def met_text(group: GroupResult) -> str:
    if group.target_hidden or group.result_hidden:
        return HIDDEN
    return {"Yes": "Met", "No": "Not met"}.get(group.met, NONE)


def _counted(report: EoyReport) -> str:
    """Who counts, in the report's words: "absent 10% or more of their enrolled days"."""
    m = report.metric
    verb = "absent" if m.direction is Direction.LOWER_IS_BETTER else "attending"
    return f"{verb} {m.threshold_pct:g}% or more of their enrolled days"


def intro(report: EoyReport) -> list[str]:
    return [
        f"{report.scope_name}. {report.metric.title.capitalize()} (students "
        f"{_counted(report)}) against the targets the plans set, by subgroup and grade.",
        f"Results: {report.results_label}, data loaded {format_when(report.data_date)}."
        + (
            ""
            if report.end_of_year
            else " The end-of-year data is not loaded yet; the latest period stands in."
        ),
        "Target: the rate the plan aims for by the end of the year (its approved version). "
        "Met: the result is at or under the target.",
    ]


# ---- workbook ------------------------------------------------------------------------------

COLUMNS = (
    ("Fiscal Year", 11), ("LEA Code", 10), ("LEA Name", 34), ("School Code", 12),
    ("School Name", 34), ("Plan", 9), ("Plan Status", 24), ("Group Type", 11), ("Group", 32),
    ("Target", 10), ("Result", 10), ("Result minus Target", 12), ("Met Target", 10),
)  # fmt: skip
PERCENT_COLUMNS = {"Target", "Result", "Result minus Target"}


def _row(report: EoyReport, plan: PlanResult, g: GroupResult) -> list[object]:
    target = HIDDEN if g.target_hidden else (None if g.target is None else g.target / 100)
    result = HIDDEN if g.result_hidden else (None if g.result is None else g.result / 100)
    change: object = None
    if isinstance(target, float) and isinstance(result, float):
        change = round(result - target, 6)
    elif HIDDEN in (target, result):
        change = HIDDEN
    kind = "District" if plan.kind is PlanKind.DISTRICT else "School"
    return [
        report.fiscal_year, plan.lea_code, plan.lea_name, plan.school_code or "",
        plan.school_name or "", kind, plan.status, g.group_type.capitalize(), g.label,
        target, result, change, g.met,
    ]  # fmt: skip


def eoy_workbook(report: EoyReport) -> Workbook:
    wb = Workbook(write_only=True)
    ws: Any = wb.create_sheet("Results")
    for i, (_, width) in enumerate(COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    header = []
    for label, _ in COLUMNS:
        cell = WriteOnlyCell(ws, label)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header.append(cell)
    ws.append(header)
    percent = [label in PERCENT_COLUMNS for label, _ in COLUMNS]
    count = 0
    for plan in report.plans:
        for g in plan.groups:
            row: list[object] = []
            for value, is_percent in zip(_row(report, plan, g), percent, strict=True):
                if is_percent and isinstance(value, float):
                    cell = WriteOnlyCell(ws, value)
                    cell.number_format = PERCENT_FORMAT
                    row.append(cell)
                else:
                    row.append(text_cell(ws, value))
            ws.append(row)
            count += 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{count + 1}"
    about: Any = wb.create_sheet("About")
    about.column_dimensions["A"].width = 22
    about.column_dimensions["B"].width = 110
    bold = Font(bold=True)
    title = WriteOnlyCell(about, report.title)
    title.font = Font(bold=True, size=14)
    about.append([title])
    for label, text in (
        ("Scope", report.scope_name),
        ("Results", report.results_label),
        ("Data date", format_when(report.data_date)),
        ("Plans", f"{len(report.plans)} plans; {count} group rows."),
        *(("About", line) for line in intro(report)),
        (
            "Result",
            f"Share of the group's students {report.metric.counted_label} in the results period.",
        ),
        ("Empty cell", "No data: no students in the group, no plan received, or no target."),
        ("*", legend_lines(report, [HIDDEN])[0][3:]),
        *((("Data", DATA_NOTE),) if report.synthetic else ()),
    ):
        cell = WriteOnlyCell(about, label)
        cell.font = bold
        about.append([cell, text_cell(about, text)])
    return wb


# ---- document ------------------------------------------------------------------------------


def eoy_docx(report: EoyReport) -> bytes:
    doc = Document()
    _page(doc)
    props = doc.core_properties
    props.title = (
        f"Attendance plans FY{report.fiscal_year}, targets and results: {report.scope_name}"
    )
    props.language = "en-US"
    props.subject = f"End-of-year public report, {report.legal_basis}"
    props.author = "aip-forms"
    doc.add_heading(report.title, level=0)
    doc.add_heading(report.scope_name, level=1)
    for line in intro(report):
        doc.add_paragraph(line)
    if report.synthetic:
        doc.add_paragraph(DATA_NOTE).runs[0].italic = True
    districts = [p for p in report.plans if p.kind is PlanKind.DISTRICT]
    if report.lea_code is None:
        doc.add_heading("Overview by LEA", level=1)
        _overview(doc, report, districts, statewide=True)
        for plan in districts:
            _plan_table(doc, report, plan)
    else:
        doc.add_heading("Overview of the plans", level=1)
        _overview(doc, report, list(report.plans), statewide=False)
        for plan in report.plans:
            _plan_table(doc, report, plan)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _page(doc: Any) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Inches(8.5), Inches(11)
    section.left_margin = section.right_margin = Inches(0.75)
    for name in ("Normal", "Title", "Heading 1", "Heading 2"):
        style = doc.styles[name]
        style.font.name = FONT
        style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
        if name != "Normal":
            style.font.color.rgb = RGBColor(0x1F, 0x38, 0x64)
    doc.styles["Normal"].font.size = Pt(10)
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "en-US")
    doc.styles["Normal"].element.get_or_add_rPr().append(lang)


def _overview(doc: Any, report: EoyReport, plans: Sequence[PlanResult], *, statewide: bool) -> None:
    schools: dict[str, list[PlanResult]] = {}
    for p in report.plans:
        if p.kind is PlanKind.SCHOOL:
            schools.setdefault(p.lea_code, []).append(p)
    header = ["LEA" if statewide else "Plan", "Status", "Target", "Result", "Met"]
    if statewide:
        header.append("Schools at target")
    rows = []
    for plan in plans:
        g = plan.all_students
        cells = [
            plan.name if not statewide else f"{plan.lea_name} ({plan.lea_code})",
            plan.status,
            pct(g.target, g.target_hidden) if g else NONE,
            pct(g.result, g.result_hidden) if g else NONE,
            met_text(g) if g else NONE,
        ]
        if statewide:
            own = schools.get(plan.lea_code, [])
            met = sum(1 for s in own if s.all_students and s.all_students.met == "Yes")
            cells.append(f"{met} of {len(own)}" if own else NONE)
        rows.append(cells)
    doc.add_paragraph("All students: each plan's target and result.")
    widths = (2.4, 1.6, 0.75, 0.75, 0.7, 0.8) if statewide else (3.0, 1.6, 0.8, 0.8, 0.8)
    _table(doc, report, header, rows, widths)


def _plan_table(doc: Any, report: EoyReport, plan: PlanResult) -> None:
    kind = "District plan" if plan.kind is PlanKind.DISTRICT else "School plan"
    heading = doc.add_heading(f"{plan.name}: {kind.lower()}", level=2)
    heading.paragraph_format.keep_with_next = True
    shown = [g for g in plan.groups if g.target_hidden or g.result_hidden or g.result is not None]
    left_out = len(plan.groups) - len(shown)
    note = doc.add_paragraph(
        f"{kind}, LEA {plan.lea_code}. Status: {plan.status}."
        + (f" {left_out} groups with no students or no results are left out." if left_out else "")
    )
    note.paragraph_format.keep_with_next = True
    if not shown:
        doc.add_paragraph("No group of this plan has results.")
        return
    rows = [
        [
            g.label,
            "Subgroup" if g.group_type == "subgroup" else "Grade",
            pct(g.target, g.target_hidden),
            pct(g.result, g.result_hidden),
            met_text(g),
        ]
        for g in shown
    ]
    _table(
        doc, report, ["Group", "Type", "Target", "Result", "Met"], rows, (3.0, 1.0, 1.0, 1.0, 1.0)
    )


def _table(
    doc: Any,
    report: EoyReport,
    header: list[str],
    rows: list[list[str]],
    widths: Sequence[float],
) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    head = table.rows[0]
    _repeat_header(head)
    for cell, text in zip(head.cells, header, strict=True):
        cell.text = text
        run = cell.paragraphs[0].runs[0]
        run.bold = True
        _shade(cell, "D9E2F3")
    for values in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, values, strict=True):
            cell.text = text
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Inches(width)  # the grid, which LibreOffice reads
        for cell in column.cells:
            cell.width = Inches(width)
    legend = legend_lines(report, (v for r in rows for v in r))
    for line in legend:
        p = doc.add_paragraph(line)
        p.paragraph_format.space_after = Pt(0)
        p.runs[0].font.size = Pt(8)
    doc.add_paragraph()


def _repeat_header(row: Any) -> None:
    props = row._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    props.append(flag)


def _shade(cell: Any, color: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), color)
    cell._tc.get_or_add_tcPr().append(shading)
