"""Normalizing cell values the way Excel, LibreOffice and Google Sheets actually save them.

Every parser takes a raw openpyxl cell value and returns the typed value, or raises
`ValueError` with a short reason that the validator turns into a problem.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from aip_forms.workbook_format.a1 import from_excel

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$")
_DATE_FORMATS = (
    "%m/%d/%Y",
    "%m/%d/%y",
    "%Y-%m-%d",
    "%d %B %Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%d %b %Y",
    "%m-%d-%Y",
    "%Y/%m/%d",
)
YES = {"yes", "y", "true", "x", "1", "si", "sí", "checked", "✓", "✔"}
NO = {"no", "n", "false", "0", "unchecked"}


def clean_text(value: object) -> str | None:
    """Text with stray and non-breaking spaces trimmed; internal line breaks kept."""
    if value is None:
        return None
    if isinstance(value, str) and "\n" not in value:  # one line: most text, read quicker
        return _SPACES.sub(" ", value).strip() or None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime | dt.date):
        value = value.isoformat()[:10]
    lines = [
        _SPACES.sub(" ", line).strip() for line in str(value).replace("\r\n", "\n").split("\n")
    ]
    text = "\n".join(lines).strip()
    return text or None


def parse_number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        if isinstance(value, bool):
            raise ValueError("a number is expected, not TRUE/FALSE")
        return None
    if isinstance(value, float):
        number, text = value, str(value)
    elif isinstance(value, int):  # float() of a 400-digit int raises; it is no answer anyway
        number, text = (float(value), str(value)) if abs(value) < 10**300 else (math.inf, "1e300+")
    else:
        text = clean_text(value) or ""
        if not text:
            return None
        compact = text.replace(" ", "")
        if not _NUMBER.match(compact) or compact in {"", "+", "-", "."}:
            raise ValueError(f'not a number: "{text}"')
        number = float(compact.replace(",", ""))
    if not math.isfinite(number):  # NaN, or more digits than any number has
        raise ValueError(f'not a number: "{text[:20]}"')
    return number


def parse_integer(value: object) -> int | None:
    number = parse_number(value)
    if number is None:
        return None
    if not float(number).is_integer():
        raise ValueError(f"not a whole number: {number:g}")
    return int(number)


def parse_percent(value: object) -> float | None:
    """A percent as a fraction: 0.25, 25 and "25%" all give 0.25.

    A number above 1 is read as percent points (a client that dropped the percent format
    saves 25 for 25%); 1 or less is already a fraction, as a percent-formatted cell stores it.
    """
    if isinstance(value, str):
        text = clean_text(value)
        if text is None:
            return None
        if text.endswith("%"):
            number = parse_number(text[:-1])
            return None if number is None else number / 100
        value = text
    number = parse_number(value)
    if number is None:
        return None
    return number / 100 if number > 1 else number


def parse_date(value: object) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 1 <= value < 2958466:
            raise ValueError(f"not a date: {value}")
        result = from_excel(value)  # a whole number of days: a datetime, never a time
        return result.date() if isinstance(result, dt.datetime) else None
    text = clean_text(value)
    if text is None:
        return None
    try:  # ISO 8601, as cells of type "d" hold dates: 2026-09-15T00:00:00
        return dt.datetime.fromisoformat(text).date()
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f'not a date: "{text}" (write it as 9/15/2026)')


def parse_confirm(value: object) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    text = clean_text(value)
    if text is None:
        return None
    low = text.lower()
    if low in YES:
        return True
    if low in NO:
        return False
    raise ValueError(f'choose Yes or No, not "{text}"')
