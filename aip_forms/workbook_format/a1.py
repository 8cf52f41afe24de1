"""A1 references and Excel serial dates: the few cell-address helpers the workbook format,
the spec check and the validator need.

openpyxl has all of these (`openpyxl.utils.cell`, `openpyxl.utils.datetime`), but importing
any part of openpyxl runs its package `__init__`, which loads the whole library (and numpy
when installed): about 200 ms before `aip workbook validate` has read a byte. Validation
never opens a workbook with openpyxl (it reads the sheet XML itself), so these helpers
stand in for it on that path; `tests/unit/test_a1.py` checks them against openpyxl's over
every column and a range of dates, so they cannot drift. One difference is deliberate:
columns stop at XFD, Excel's last (openpyxl accepts up to ZZZ). Generation and annotation,
which use openpyxl anyway, may use either.
"""

from __future__ import annotations

import datetime as dt
import re

MAX_COLUMN = 16_384  # XFD
MAX_ROW = 1_048_576

# Characters XML 1.0 forbids, which openpyxl refuses in cell text (its ILLEGAL_CHARACTERS_RE).
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")

_COORDINATE = re.compile(r"^[$]?([A-Za-z]{1,3})[$]?(\d+)$")
_WINDOWS_EPOCH = dt.datetime(1899, 12, 30)


def _letters(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_LETTERS = tuple(_letters(i) for i in range(MAX_COLUMN + 1))
_INDEX = {letters: i for i, letters in enumerate(_LETTERS) if i}


def get_column_letter(index: int) -> str:
    """1 -> "A", 28 -> "AB"; ValueError outside 1..16384."""
    if not 1 <= index <= MAX_COLUMN:
        raise ValueError(f"Invalid column index {index}")
    return _LETTERS[index]


def column_index_from_string(letters: str) -> int:
    """ "A" -> 1, "ab" -> 28; ValueError for anything that is not a column A..XFD."""
    try:
        return _INDEX[letters.upper()]
    except (KeyError, AttributeError):
        raise ValueError(f"{letters!r} is not a valid column name") from None


def coordinate_from_string(coordinate: str) -> tuple[str, int]:
    """ "B12" or "$B$12" -> ("B", 12) (letters as given); ValueError for anything else,
    row 0 included."""
    match = _COORDINATE.match(coordinate)
    if match is None:
        raise ValueError(f"Invalid cell coordinates ({coordinate})")
    column, row = match.group(1), int(match.group(2))
    if not row:
        raise ValueError(f"There is no row 0 ({coordinate})")
    return column, row


def absolute_coordinate(reference: str) -> str:
    """ "B12" -> "$B$12", "F6:F22" -> "$F$6:$F$22"."""
    parts = []
    for part in reference.split(":"):
        column, row = coordinate_from_string(part)
        parts.append(f"${column}${row}")
    return ":".join(parts)


def quote_sheetname(name: str) -> str:
    """A sheet name as a formula needs it: 'My Sheet' quoted, a quote doubled."""
    return "'{}'".format(name.replace("'", "''"))


def from_excel(value: float) -> dt.datetime | dt.time:
    """An Excel serial date (1900 date system) as a datetime (a time of day for a value
    under 1), with Excel's phantom 29 February 1900 kept, as openpyxl's `from_excel`."""
    day, fraction = divmod(value, 1)
    moment = dt.timedelta(milliseconds=round(fraction * 86_400 * 1000))
    if 0 <= value < 1 and moment.days == 0:
        return (dt.datetime.min + moment).time()
    if 0 < value < 60:
        day += 1
    return _WINDOWS_EPOCH + dt.timedelta(days=day) + moment
