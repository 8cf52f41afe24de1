"""How much room text needs in a workbook cell: its width in column units and its lines.

Every styled cell uses one font family (`FONT_NAME`, Arial: Excel has it and LibreOffice
maps it to the metric-compatible Liberation Sans), and the workbook's default font is the
same, so a column width of w holds w digits. Widths are Arial's (Helvetica's metrics, in
thousandths of an em; a digit is 556), bold a tenth wider. Row heights of wrapped text are
computed from these estimates by the builder, and the layout test checks every cell of
every generated workbook with them, so that no text runs over the next row when printed
from Excel or LibreOffice.
"""

from __future__ import annotations

import math
from collections.abc import Container

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

FONT_NAME = "Arial"
BASE_SIZE = 11.0
LINE_POINTS = 15.0  # the height of one line of 11-point text, with its leading
CELL_PADDING = 1.0  # column units lost to the cell's margins
DEFAULT_COLUMN_WIDTH = 8.43

_DIGIT = 556
_WIDTHS = {
    **dict.fromkeys(" !,./:;I[\\]ijlt'`|", 278),
    **dict.fromkeys("fr()-", 333),
    **dict.fromkeys('*"', 389),
    **dict.fromkeys("ckrsvxyzJ^", 500),
    **dict.fromkeys("0123456789abdeghnopqu#$?_L", 556),
    **dict.fromkeys("+<=>~FTZ", 611),
    **dict.fromkeys("ABEKPSVXY&", 667),
    **dict.fromkeys("CDHNRUw", 722),
    **dict.fromkeys("GOQ", 778),
    **dict.fromkeys("mM%", 889),
    "W": 944,
    "@": 1015,
    "—": 1000,
    "•": 350,
}
_OTHER = 600


def text_width(text: str, *, size: float = BASE_SIZE, bold: bool = False) -> float:
    """The width of one line of `text` in column units (digits of the default font)."""
    thousandths = sum(_WIDTHS.get(ch, _OTHER) for ch in text)
    return thousandths / _DIGIT * (size / BASE_SIZE) * (1.1 if bold else 1.0)


def wrapped_lines(text: str, width: float, *, size: float = BASE_SIZE, bold: bool = False) -> int:
    """How many lines `text` takes in a wrapping cell `width` columns wide: words are put
    on a line while they fit; a word longer than a line is broken."""
    room = max(1.0, width - CELL_PADDING)
    space = text_width(" ", size=size, bold=bold)
    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        used = 0.0
        for word in paragraph.split(" "):
            w = text_width(word, size=size, bold=bold)
            if used and used + space + w <= room:
                used += space + w
            elif not used and w <= room:
                used = w
            else:
                extra = max(0, math.ceil(w / room) - 1)
                lines += (1 if used else 0) + extra
                used = w - extra * room
    return lines


def line_height(size: float = BASE_SIZE) -> float:
    return LINE_POINTS * size / BASE_SIZE


def height_for(text: str, width: float, *, size: float = BASE_SIZE, bold: bool = False) -> float:
    """The row height (points) that shows all of `text` wrapped in `width` columns."""
    return wrapped_lines(text, width, size=size, bold=bold) * line_height(size) + 3


def column_width(ws: Worksheet, col: int, default: float = DEFAULT_COLUMN_WIDTH) -> float:
    dim = ws.column_dimensions.get(get_column_letter(col))
    return dim.width if dim is not None and dim.customWidth else default


def fit_rows(ws: Worksheet, skip: Container[str] = ()) -> None:
    """Raise every row's height to what its text needs: wrapped text its lines in its
    column (or merged columns), larger type one line of its size. Never lowers a height.
    Cells in `skip` (coordinates) hold one workbook's values, not the layout's: their
    rows are sized where they are written, the same in every workbook of the layout."""
    merged = {(r.min_row, r.min_col): r for r in ws.merged_cells.ranges}
    need: dict[int, float] = {}
    for row in ws.iter_rows():
        for cell in row:
            if not isinstance(cell.value, str) or not cell.has_style or cell.coordinate in skip:
                continue
            size = float(cell.font.sz or BASE_SIZE)
            area = merged.get((cell.row, cell.column or 1))
            if area is not None and area.max_row > area.min_row:
                continue  # no sheet merges rows
            cols = range(area.min_col, area.max_col + 1) if area else [cell.column or 1]
            if cell.alignment.wrap_text:
                width = sum(column_width(ws, c) for c in cols)
                lines = wrapped_lines(cell.value, width, size=size, bold=bool(cell.font.b))
            else:
                lines = cell.value.count("\n") + 1
            if lines > 1 or size > BASE_SIZE:
                height = lines * line_height(size) + 3
                need[cell.row] = max(need.get(cell.row, 0.0), height)
    for number, height in need.items():
        current = ws.row_dimensions[number].height
        if current is None or current < height:
            ws.row_dimensions[number].height = height
