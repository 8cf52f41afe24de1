"""An annotated copy of an uploaded workbook: each problem cell red with a note, and a first
sheet listing every problem with a link to its cell."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.exceptions import CellCoordinatesException
from openpyxl.worksheet.hyperlink import Hyperlink

from validators.problems import Problem

PROBLEMS_SHEET = "Problems"
ERROR_FILL = PatternFill("solid", start_color="FFC7CE", end_color="FFC7CE")
WARNING_FILL = PatternFill("solid", start_color="FFEB9C", end_color="FFEB9C")
HEADER = ("Severity", "Sheet", "Cell", "Code", "Message")


def annotate(data: bytes, problems: list[Problem], out: Path) -> Path:
    """Write the annotated copy to `out`. `data` must have passed intake."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    notes: dict[tuple[str, str], list[Problem]] = {}
    for p in problems:
        if p.sheet and p.cell and p.sheet in wb.sheetnames:
            notes.setdefault((p.sheet, p.cell), []).append(p)
    for (sheet, ref), found in notes.items():
        try:
            cell = wb[sheet][ref]
        except (CellCoordinatesException, ValueError, AttributeError):
            continue
        errors = any(p.severity == "error" for p in found)
        cell.fill = ERROR_FILL if errors else WARNING_FILL
        text = "\n".join(f"{p.code}: {p.message}" for p in found)
        cell.comment = Comment(text, "aip-forms", width=320, height=120)

    name = PROBLEMS_SHEET
    while name in wb.sheetnames:
        name += "_"
    ws = wb.create_sheet(name, 0)
    ws.append(HEADER)
    for c in ws[1]:
        c.font = Font(bold=True)
    for p in problems:
        ws.append([p.severity, p.sheet or "", p.cell or "", p.code, p.message])
        if p.sheet and p.cell and p.sheet in wb.sheetnames:
            link = ws.cell(ws.max_row, 3)
            # a link within the workbook is a location, not a relationship to a "#..." URL
            quoted = p.sheet.replace("'", "''")
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{quoted}'!{p.cell}")
            link.font = Font(color="0563C1", underline="single")
    if not problems:
        ws.append(["", "", "", "", "No problems found."])
    for letter, width in zip("ABCDE", (10, 26, 8, 30, 100), strict=True):
        ws.column_dimensions[letter].width = width
    wb.active = 0
    ws.sheet_view.tabSelected = True  # Excel opens at the selected tab
    for other in wb.worksheets[1:]:
        other.sheet_view.tabSelected = False
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
