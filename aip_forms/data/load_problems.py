"""Problems found in reference data files: plain data, with their messages in one catalogue.

A problem names the file, the line (CSV physical line or .xlsx row; the header is line 1), the
column and the value it is about, a stable code and a message for the person who fixes the file:

    enrollment.csv:14:enrollment  not a whole number: "12.5"

Readers and the loader collect problems and never stop at the first. `UnreadableFile` is raised
only when a file cannot be used at all (not UTF-8, empty, unknown columns...); it carries the
problems that say why.
"""

from __future__ import annotations

from dataclasses import dataclass

MESSAGES: dict[str, str] = {
    # Files
    "file_missing": "no such file or directory",
    "unreadable": "cannot read the file: {error}",
    "not_utf8": 'not UTF-8 text: "{value}"; save the file as UTF-8 (in Excel: CSV UTF-8)',
    "not_xlsx": "cannot read it as an Excel workbook (.xlsx): {error}",
    "unknown_extension": "not a .csv or .xlsx file",
    "empty_file": "the file is empty",
    "no_rows": "the file has a header but no data rows",
    "unknown_kind": "cannot tell which kind of file this is: name it {names} "
    "(.csv or .xlsx), or give it the header of one of them",
    "no_known_files": "no reference data files in this directory (expected {names})",
    # Header
    "missing_column": 'missing column "{column}"',
    "unknown_column": 'unknown column "{column}"{hint}',
    "duplicate_column": 'column "{column}" appears twice in the header',
    "unnamed_column": "column {position} has values but no name in the header",
    "extra_values": "the row has {count} values but the header has {columns} columns",
    # Values
    "required": "a value is required",
    "not_code": 'not a code (letters, digits, "-" or "_", at most 16 characters): "{value}"',
    "too_long": "longer than {limit} characters",
    "not_integer": 'not a whole number: "{value}"',
    "negative": 'negative count: "{value}"',
    "not_number": 'not a number: "{value}"',
    "negative_number": 'negative number: "{value}"',
    "rate_range": 'rate outside 0..100: "{value}"',
    "fiscal_year": 'unknown fiscal year format: "{value}" (write 2027 or FY2027)',
    "period": 'unknown reporting period: "{value}" (expected {allowed})',
    "group_type": 'unknown group_type: "{value}" (expected subgroup or grade)',
    "grade": 'unknown grade: "{value}" (expected {allowed})',
    "lea_type": 'unknown lea_type: "{value}" (expected district or state_charter)',
    "flag": 'not Y or N: "{value}"',
    "sex": 'unknown sex code: "{value}" (expected {allowed})',
    "race": 'unknown race_ethnicity code: "{value}" (expected {allowed})',
    # Rows
    "group_code": 'unknown {group_type} code: "{value}" (expected {allowed})',
    "grade_order": 'grade_low "{value}" is after grade_high "{high}"',
    "duplicate_key": "duplicate row: same {key} as {other}",
    "unknown_lea": 'unknown LEA code: "{value}" (not in the database or a leas file of this load)',
    "unknown_school": 'unknown school code: "{value}" '
    "(not in the database or a schools file of this load)",
    "school_in_other_lea": 'school "{value}" belongs to LEA "{actual}", not "{given}"',
    "absent_over_enrolled": "{value} days absent but {enrolled} days enrolled ({enrolled_column})",
    "absent_without_enrolled": "{value} days absent but {enrolled_column} is blank",
    "absent_over_students": "{value} chronically absent but only {students} students",
    "period_before_year": "period data for FY{value} ({rows} rows of this file) comes before "
    "the plan year's data: load FY{value}'s enrollment (enrollment.csv or students.csv) first",
    "period_loaded": "the {value} period of FY{year} was already loaded ({when}); nothing "
    "was changed. To correct it, load the corrected files with `aip data load --replace`, "
    "which replaces the whole period",
    "rate_mismatch": "rate_pct {value} does not match chronically_absent/students "
    "({absent}/{students} = {expected:.1f}%)",
}


@dataclass(frozen=True, order=True)
class Problem:
    """One bad input. `line` and `column` are None when the problem is about the whole file."""

    file: str
    line: int | None
    column: str | None
    value: str | None
    code: str
    message: str

    @property
    def location(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
        if self.column:
            parts.append(self.column)
        return ":".join(parts)

    def __str__(self) -> str:
        return f"{self.location}  {self.message}"


def problem(
    code: str,
    file: str,
    line: int | None = None,
    column: str | None = None,
    value: object = None,
    **details: object,
) -> Problem:
    """Build a problem whose message is the catalogue's entry for `code`."""
    text = None if value is None else str(value)
    message = MESSAGES[code].format(value=text, column=column, line=line, **details)
    return Problem(file=file, line=line, column=column, value=text, code=code, message=message)


class UnreadableFile(Exception):
    """A file that cannot be used at all; `problems` say why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
