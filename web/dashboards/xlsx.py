"""A dashboard table as an .xlsx download (openpyxl): a title row, a bold frozen header,
an autofilter. Text is always text: a value starting with =, +, -, @ or a tab is stored as a
string with Excel's quote prefix, so it is never read as a formula. Hidden cells are "*"."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from aip_forms.spreadsheet_text import FORMULA_STARTS
from web.dashboards.tables import Table

SHEET_TITLE_LIMIT = 31


def table_workbook(table: Table, subtitle: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = table.title[:SHEET_TITLE_LIMIT].replace("/", "-")
    _put(ws.cell(1, 1), table.title).font = Font(bold=True, size=13)
    _put(ws.cell(2, 1), subtitle)
    for col, header in enumerate(table.headers, start=1):
        _put(ws.cell(4, col), header).font = Font(bold=True)
        ws.column_dimensions[get_column_letter(col)].width = max(12, min(40, len(header) + 4))
    for r, row in enumerate(table.rows, start=5):
        for col, value in enumerate(row, start=1):
            _put(ws.cell(r, col), value)
    ws.freeze_panes = "A5"
    last = get_column_letter(len(table.headers))
    ws.auto_filter.ref = f"A4:{last}{max(4, 4 + len(table.rows))}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _put(cell: Any, value: object) -> Any:
    cell.value = value
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell.data_type = "s"  # openpyxl took "=..." for a formula
        cell.quotePrefix = True
    return cell
