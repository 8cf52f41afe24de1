"""Text that a spreadsheet must show as text, never run as a formula (CSV or formula
injection): a value starting with =, +, -, @, a tab or a carriage return. In an .xlsx
such a value is stored as a string with Excel's quote prefix (`web.dashboards.xlsx`); in a
CSV, which has no types, it gets a leading apostrophe, as OWASP advises."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str) -> str:
    """`value` for a CSV cell: a spreadsheet opening the file shows it, and runs nothing."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value
