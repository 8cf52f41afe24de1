"""The printed look of every generated workbook kind (issue 13): no text runs over another
cell, and one font family on every styled cell.

Overlap is computed from the layout: each text's width is estimated with `fit` (Arial's
metrics) against its column widths (or merged range); wrapped text must have the row
height its lines need, unwrapped text must fit in its cell or in the empty cells to its
right (where Excel and LibreOffice let it run)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from aip_forms.domain import PlanKind
from aip_forms.issued_data import PlanData, ProgressData, ProgressRow, StrategyRow
from aip_forms.spec import progress_spec
from tests.support import mutate
from workbook_templates import fit
from workbook_templates.build import build_workbook
from workbook_templates.example import fill_example

CONFIG, SETTINGS, ISSUED = mutate.CONFIG, mutate.SETTINGS, mutate.ISSUED
DEFAULT_WIDTH = 8.43
DEFAULT_HEIGHT = 15.0


def _progress(kind: PlanKind) -> PlanData:
    base = mutate.plan_data(kind)
    row = ProgressRow(
        code="all",
        label="All Students",
        plan_target=20.0,
        current_target=18.0,
        current_rate=21.5,
        earlier="40-day: 22.0%; target 19.0%",
    )
    strategy = StrategyRow(
        ref="1.1",
        tier=1,
        strategy="Parent Outreach Programs",
        action_steps="Call the family of every student absent three days in a row.",
    )
    progress = ProgressData(
        period="80",
        period_label="80-day",
        plan_id=1,
        plan_version=1,
        subgroups=(row,),
        grades=(row,),
        strategies=(strategy,),
    )
    return base.model_copy(update={"progress": progress})


def _books() -> Iterator[tuple[str, Workbook]]:
    for kind in (PlanKind.SCHOOL, PlanKind.DISTRICT):
        data = mutate.plan_data(kind)
        spec = CONFIG.spec(kind)
        yield f"{kind} plan", build_workbook(spec, data, CONFIG, SETTINGS, issued_at=ISSUED)
        filled = build_workbook(spec, data, CONFIG, SETTINGS, issued_at=ISSUED)
        fill_example(filled, spec, data, CONFIG)
        yield f"{kind} example", filled
        progress = _progress(kind)
        yield (
            f"{kind} progress",
            build_workbook(progress_spec(kind), progress, CONFIG, SETTINGS, issued_at=ISSUED),
        )
    # The longest names the samples hold (LAUSD's sample LEA) and longer: pre-filled, so
    # their rows cannot be sized for them; they must still stay in their cells.
    data = mutate.plan_data(PlanKind.SCHOOL)
    assert data.school is not None
    long_names = data.model_copy(
        update={
            "lea": data.lea.model_copy(update={"name": "LOS ANGELES UNIFIED (SYNTHETIC SAMPLE)"}),
            "school": data.school.model_copy(
                update={"name": "Los Padillas Hills Early College High School"}
            ),
        }
    )
    spec = CONFIG.spec(PlanKind.SCHOOL)
    yield (
        "school plan with long names",
        build_workbook(spec, long_names, CONFIG, SETTINGS, issued_at=ISSUED),
    )


BOOKS = dict(_books())


def _width(ws: Worksheet, col: int) -> float:
    letter = get_column_letter(col)
    dim = ws.column_dimensions.get(letter)
    return dim.width if dim is not None and dim.customWidth else DEFAULT_WIDTH


def _height(ws: Worksheet, row: int) -> float:
    dim = ws.row_dimensions.get(row)
    return dim.height if dim is not None and dim.height else DEFAULT_HEIGHT


def overlaps(ws: Worksheet) -> list[str]:
    """Every text cell whose text would run over another cell, with the numbers."""
    merged = {(r.min_row, r.min_col): r for r in ws.merged_cells.ranges}
    found = []
    for row in ws.iter_rows():
        for cell in row:
            if not isinstance(cell, Cell) or not isinstance(cell.value, str):
                continue
            size = float(cell.font.sz or fit.BASE_SIZE)
            bold = bool(cell.font.b)
            area = merged.get((cell.row, cell.column))
            cols = range(area.min_col, area.max_col + 1) if area else [cell.column]
            rows = range(area.min_row, area.max_row + 1) if area else [cell.row]
            width = sum(_width(ws, c) for c in cols)
            height = sum(_height(ws, r) for r in rows)
            where = f"{ws.title}!{cell.coordinate} {cell.value[:40]!r}"
            if cell.alignment.shrink_to_fit and not cell.alignment.wrap_text:
                continue  # one line, in a smaller type where it must: never beyond its cell
            if cell.alignment.wrap_text:
                lines = fit.wrapped_lines(cell.value, width, size=size, bold=bold)
                need = lines * fit.line_height(size) * 0.95
                if height < need:
                    found.append(f"{where}: {lines} lines need {need:.0f}pt, row has {height}")
                continue
            lines = cell.value.split("\n")
            if len(lines) * fit.line_height(size) * 0.95 > height:
                found.append(f"{where}: {len(lines)} lines in a {height}pt row")
            need = max(fit.text_width(line, size=size, bold=bold) for line in lines)
            col = cols[-1] + 1
            while need > width - fit.CELL_PADDING and ws.cell(cell.row, col).value is None:
                if col > 60 or (cell.row, col) in merged:
                    break
                width += _width(ws, col)
                col += 1
            if need > width - fit.CELL_PADDING:
                found.append(f"{where}: {need:.1f} columns wide in {width:.1f}")
    return found


@pytest.mark.parametrize("book", BOOKS, ids=str)
def test_no_text_runs_over_another_cell(book):
    wb = BOOKS[book]
    found = [p for ws in wb.worksheets if ws.sheet_state == "visible" for p in overlaps(ws)]
    assert found == []


def test_the_overlap_check_finds_the_issue_13_overlaps():
    """The check itself: the certification statement in a one-line row, a long title in a
    narrow wrapping cell over the date."""
    wb = build_workbook(
        CONFIG.spec(PlanKind.SCHOOL),
        mutate.plan_data(PlanKind.SCHOOL),
        CONFIG,
        SETTINGS,
        issued_at=ISSUED,
    )
    ws = wb[CONFIG.spec(PlanKind.SCHOOL).section("certification").sheet]
    assert overlaps(ws) == []
    ws.row_dimensions[5].height = DEFAULT_HEIGHT
    ws["B5"].value = "I confirm that my submission is complete and final, as the user guide asks."
    ws["C7"].value = "Director of Student Services and Attendance Improvement Coordinator"
    ws["C7"].alignment = Alignment(wrap_text=True, vertical="top")
    found = [f.split(" '")[0] for f in overlaps(ws)]
    assert found == [f"{ws.title}!B5", f"{ws.title}!C7"]


@pytest.mark.parametrize("book", BOOKS, ids=str)
def test_every_styled_cell_names_the_one_font_family(book):
    wb = BOOKS[book]
    styled = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.has_style:
                    assert cell.font.name == fit.FONT_NAME, f"{ws.title}!{cell.coordinate}"
                    styled += 1
    assert styled > 80
    assert wb._fonts[0].name == fit.FONT_NAME  # the default font, that column widths use
