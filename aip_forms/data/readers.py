"""Read reference data files (CSV or .xlsx) into tables of strings, then into typed values.

`read_table` reads one file: UTF-8 CSV (with or without BOM) or the first sheet of an .xlsx
workbook with the same columns. It checks the header against the file's format
(`aip_forms.data.formats`): header names are trimmed and case-insensitive, column order does not
matter, every missing and every unknown column is named. Values are trimmed; blank rows are
skipped. Each row keeps its source line number (CSV: physical line; .xlsx: row; header = 1) as
the frame's index, so every later problem can point at it.

`parse_values` turns those strings into typed columns by the format's column types and reports
every value that does not fit. Columns are categorical while read: a statewide student extract
has few distinct values per column, so each distinct value is parsed once.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from aip_forms import catalog
from aip_forms.config import ProgramConfig
from aip_forms.data.formats import FORMATS, ColumnType, FileFormat, format_for
from aip_forms.data.load_problems import Problem, UnreadableFile, problem
from aip_forms.domain import FiscalYear

SUFFIXES = (".csv", ".xlsx")
KINDS = tuple(f.kind for f in FORMATS)
KNOWN_NAMES = ", ".join(f.kind for f in FORMATS)
MAX_CODE = 16
MAX_TEXT = 120


@dataclass(frozen=True)
class RawTable:
    """A file's header and its non-blank rows, as trimmed strings; index = source line."""

    name: str
    header: list[str]
    header_line: int  # 1 unless blank lines come first
    frame: pd.DataFrame  # columns 0..n-1, categorical strings, "" for blank cells


@dataclass(frozen=True)
class Table:
    """A file of one known format: one string column per format column, index = source line."""

    path: Path
    name: str
    format: FileFormat
    frame: pd.DataFrame
    problems: tuple[Problem, ...] = ()  # rows that could not be read (left out of `frame`)

    @property
    def kind(self) -> str:
        return self.format.kind


def known_files(directory: Path) -> list[Path]:
    """The reference data files in a directory, in loading order (leas first)."""
    found = {p.name.lower(): p for p in directory.iterdir() if p.is_file()}
    return [
        found[name] for kind in KINDS for suffix in SUFFIXES if (name := f"{kind}{suffix}") in found
    ]


def kind_of(path: Path, header: Iterable[str]) -> str | None:
    """The kind of file: by its name (leas.csv, schools.xlsx...), else by the best header match."""
    stem = path.stem.strip().lower()
    if stem in KINDS:
        return stem
    names = {h.strip().lower() for h in header}
    best, best_score = None, 0.0
    for fmt in (f for f in FORMATS if f.by_header):
        score = len(names & set(fmt.column_names)) / len(fmt.column_names)
        if score > best_score:
            best, best_score = fmt.kind, score
    return best if best_score >= 0.5 else None


def read_table(path: Path, kind: str | None = None, name: str | None = None) -> Table:
    """Read a file of a known format. Raises UnreadableFile when it cannot be used at all."""
    raw = read_raw(path, name)
    kind = kind or kind_of(path, raw.header)
    if kind is None:
        raise UnreadableFile([problem("unknown_kind", raw.name, names=KNOWN_NAMES)])
    fmt = format_for(kind)
    positions, problems = check_header(raw, fmt)
    if problems:
        raise UnreadableFile(problems)
    frame = raw.frame
    row_problems = _values_beyond_header(raw)
    if row_problems:
        frame = frame.drop(index=[p.line for p in row_problems])
    columns = {}
    for column in fmt.column_names:
        if column in positions:
            columns[column] = frame[positions[column]]
        else:
            columns[column] = pd.Series("", index=frame.index, dtype="category")
    table = pd.DataFrame(columns, index=frame.index)
    if table.empty and not row_problems:
        raise UnreadableFile([problem("no_rows", raw.name, line=raw.header_line)])
    return Table(path, raw.name, fmt, table, tuple(row_problems))


def check_header(raw: RawTable, fmt: FileFormat) -> tuple[dict[str, int], list[Problem]]:
    """Map format columns to positions in the file; name every missing and unknown column."""
    positions: dict[str, int] = {}
    problems: list[Problem] = []
    unknown: list[str] = []
    line = raw.header_line
    for i, heading in enumerate(raw.header):
        key = heading.lower()
        if not key:
            if (raw.frame[i] != "").any():
                problems.append(problem("unnamed_column", raw.name, line, position=i + 1))
        elif key in positions:
            problems.append(problem("duplicate_column", raw.name, line, column=key))
        elif key in fmt.column_names:
            positions[key] = i
        else:
            unknown.append(heading)
    absent = [c for c in fmt.column_names if c not in positions]
    for heading in unknown:
        match = difflib.get_close_matches(heading.lower(), absent, n=1, cutoff=0.6)
        hint = f' (did you mean "{match[0]}"?)' if match else ""
        separator = next((s for s in ";\t|" if s in heading), None)
        if separator and len(raw.header) == 1:
            hint = f" (the columns are separated by {separator!r}: save the file as CSV, commas)"
        problems.append(problem("unknown_column", raw.name, line, column=heading, hint=hint))
    for column in absent:
        if column not in fmt.optional_columns:
            problems.append(problem("missing_column", raw.name, line, column=column))
    return positions, problems


def _values_beyond_header(raw: RawTable) -> list[Problem]:
    """Rows with values in columns past the header's end (a stray comma, a shifted row)."""
    width = len(raw.header)
    if raw.frame.shape[1] <= width:
        return []
    filled = (raw.frame.iloc[:, width:] != "").to_numpy(dtype=bool)
    # Values counted up to the last filled cell of the row.
    counts = filled.shape[1] - np.argmax(filled[:, ::-1], axis=1)
    return [
        problem(
            "extra_values",
            raw.name,
            int(raw.frame.index[int(row)]),
            count=width + int(counts[row]),
            columns=width,
        )
        for row in np.flatnonzero(filled.any(axis=1))
    ]


# --- Reading files -------------------------------------------------------------------------


def read_raw(path: Path, name: str | None = None) -> RawTable:
    """Header and non-blank rows of a CSV or .xlsx file. Raises UnreadableFile."""
    name = name or path.name
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise UnreadableFile([problem("unknown_extension", name)])
    try:
        frame = _xlsx_rows(path, name) if suffix == ".xlsx" else _csv_rows(path.read_bytes(), name)
    except FileNotFoundError:
        raise UnreadableFile([problem("file_missing", name)]) from None
    except OSError as e:
        raise UnreadableFile([problem("unreadable", name, error=e.strerror or e)]) from None
    return _split_header(frame, name)


def _csv_rows(data: bytes, name: str) -> pd.DataFrame:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        # Excel on Windows writes cp1252 ("ANSI"): show the line as it most likely reads.
        bad_line = data.split(b"\n")[line - 1].decode("cp1252", errors="replace").strip()[:80]
        raise UnreadableFile([problem("not_utf8", name, line=line, value=bad_line)]) from None
    text = text.rstrip()
    if not text:
        raise UnreadableFile([problem("empty_file", name)])
    lines = text.count("\n") + 1
    frame = None
    if text.count("\r") in (0, text.count("\r\n")):
        frame = _csv_frame_fast(text, lines)
    return frame if frame is not None else _csv_frame_by_record(text)


def _csv_frame_fast(text: str, lines: int) -> pd.DataFrame | None:
    """pandas' C parser; None when rows are ragged, a value spans lines or blank lines lead."""
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            header=None,
            dtype="category",
            na_filter=False,
            skip_blank_lines=False,
            skipinitialspace=False,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError):
        return None
    if len(frame) != lines:
        return None
    frame.index = pd.RangeIndex(1, lines + 1)
    return frame


def _csv_frame_by_record(text: str) -> pd.DataFrame:
    """The csv module, record by record, keeping the physical line each record starts on."""
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, starts, previous = [], [], 0
    for row in reader:
        rows.append(row)
        starts.append(previous + 1)
        previous = reader.line_num
    return _frame_from_rows(rows, starts)


def _xlsx_rows(path: Path, name: str) -> pd.DataFrame:
    from openpyxl import load_workbook

    if not path.exists():
        raise FileNotFoundError(path)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores; the values are what count.
            warnings.simplefilter("ignore")
            book = load_workbook(path, read_only=True, data_only=True)
            try:
                sheet = book.worksheets[0]
                rows, numbers = [], []
                for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                    rows.append([_cell_text(v) for v in row])
                    numbers.append(number)
            finally:
                book.close()
    except (OSError, UnreadableFile):
        raise
    except Exception as e:  # zipfile, XML and openpyxl errors: all mean "not a workbook"
        raise UnreadableFile([problem("not_xlsx", name, error=e)]) from None
    return _frame_from_rows(rows, numbers)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _frame_from_rows(rows: list[list[str]], lines: list[int]) -> pd.DataFrame:
    width = max((len(r) for r in rows), default=0)
    columns = {i: pd.Categorical([r[i] if i < len(r) else "" for r in rows]) for i in range(width)}
    return pd.DataFrame(columns, index=pd.Index(lines))


def _split_header(frame: pd.DataFrame, name: str) -> RawTable:
    """Trim every value, drop blank rows, take the first non-blank row as the header."""
    frame = pd.DataFrame({c: _trimmed(frame[c]) for c in frame.columns}, index=frame.index)
    frame = frame[(frame != "").any(axis=1)]
    if frame.empty:
        raise UnreadableFile([problem("empty_file", name)])
    header = [str(v) for v in frame.iloc[0]]
    while header and not header[-1]:
        # Blank cells end the header; values under them are reported row by row.
        header.pop()
    body = frame.iloc[1:, :]
    header_line = int(frame.index[0])
    if body.empty:
        raise UnreadableFile([problem("no_rows", name, line=header_line)])
    return RawTable(name, header, header_line, body)


def _trimmed(column: pd.Series) -> pd.Series:
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype("category")
    categories = column.cat.categories.astype(str)
    stripped = categories.str.strip()
    if stripped.equals(categories):
        return column
    values = np.asarray(stripped, dtype=object)[column.cat.codes.to_numpy()]
    return pd.Series(pd.Categorical(values), index=column.index)


# --- Typed values ---------------------------------------------------------------------------


class BadValue(ValueError):
    """A value that does not fit its column type; `code` and `details` pick the message."""

    def __init__(self, code: str, **details: object) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


Parser = Callable[[str], object]
CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
INTEGER_RE = re.compile(r"([+-]?)(\d+)(?:\.0*)?")
NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
FLAGS = {
    **dict.fromkeys(("y", "yes", "1", "true"), True),
    **dict.fromkeys(("n", "no", "0", "false"), False),
}


def value_parsers(config: ProgramConfig) -> dict[ColumnType, Parser]:
    """One parser per column type; each returns the typed value or raises BadValue."""
    grades = {g.code.upper(): g.code for g in config.grades}
    periods = {p.code.upper(): p.code for p in config.periods}

    def code(text: str) -> str:
        if len(text) > MAX_CODE or not CODE_RE.fullmatch(text):
            raise BadValue("not_code")
        return text

    def text_value(text: str) -> str:
        if len(text) > MAX_TEXT:
            raise BadValue("too_long", limit=MAX_TEXT)
        return text

    def integer(text: str) -> int:
        m = INTEGER_RE.fullmatch(text)
        if not m:
            raise BadValue("not_integer")
        if m.group(1) == "-" and int(m.group(2)) != 0:
            raise BadValue("negative")
        return int(m.group(2))

    def rate(text: str) -> float:
        if not NUMBER_RE.fullmatch(text):
            raise BadValue("not_number")
        value = float(text)
        if not 0 <= value <= 100:
            raise BadValue("rate_range")
        return value

    def number(text: str) -> float:
        if not NUMBER_RE.fullmatch(text):
            raise BadValue("not_number")
        value = float(text)
        if value < 0:
            raise BadValue("negative_number")
        return value

    def fiscal_year(text: str) -> int:
        try:
            return FiscalYear.parse(text).year
        except ValueError:
            raise BadValue("fiscal_year") from None

    def grade(text: str) -> str:
        key = text.upper().lstrip("0") if text.isdigit() and text.strip("0") else text.upper()
        if key not in grades:
            raise BadValue("grade", allowed=", ".join(grades.values()))
        return grades[key]

    def choice(code: str, options: dict[str, str]) -> Parser:
        def parse(text: str) -> str:
            key = text.upper()
            if key not in options:
                raise BadValue(code, allowed=", ".join(options.values()))
            return options[key]

        return parse

    def lower_choice(code: str, options: Iterable[str]) -> Parser:
        known = {o.lower().replace(" ", "_"): o for o in options}

        def parse(text: str) -> str:
            key = text.lower().replace(" ", "_")
            if key not in known:
                raise BadValue(code)
            return known[key]

        return parse

    def flag(text: str) -> bool:
        if text.lower() not in FLAGS:
            raise BadValue("flag")
        return FLAGS[text.lower()]

    return {
        ColumnType.CODE: code,
        ColumnType.TEXT: text_value,
        ColumnType.INTEGER: integer,
        ColumnType.RATE: rate,
        ColumnType.NUMBER: number,
        ColumnType.FISCAL_YEAR: fiscal_year,
        ColumnType.PERIOD: choice("period", periods),
        ColumnType.GROUP_TYPE: lower_choice("group_type", ("subgroup", "grade")),
        ColumnType.GROUP_CODE: code,  # checked against its group_type by the loader
        ColumnType.GRADE: grade,
        ColumnType.LEA_TYPE: lower_choice("lea_type", ("district", "state_charter")),
        ColumnType.FLAG: flag,
        ColumnType.SEX: choice("sex", {k: k for k in catalog.SEX_CODES}),
        ColumnType.RACE: choice("race", {k: k for k in catalog.RACE_CODES}),
    }


DTYPES = {
    ColumnType.INTEGER: "Int64",
    ColumnType.FISCAL_YEAR: "Int64",
    ColumnType.RATE: "Float64",
    ColumnType.NUMBER: "Float64",
    ColumnType.FLAG: "boolean",
}


def parse_values(table: Table, config: ProgramConfig) -> tuple[pd.DataFrame, list[Problem]]:
    """Typed columns (blank text "", blank numbers NA) and a problem for every bad value."""
    parsers = value_parsers(config)
    typed: dict[str, object] = {}
    problems: list[Problem] = []
    for column in table.format.columns:
        raw = table.frame[column.name]
        dtype = DTYPES.get(column.type)
        blank = None if dtype else ""
        values, errors = _parse_column(raw, parsers[column.type], column.required, blank)
        typed[column.name] = pd.Series(values, index=raw.index, dtype=dtype or object)
        codes = raw.cat.codes.to_numpy()
        has_error = np.array([e is not None for e in errors], dtype=bool)
        for row in np.flatnonzero(has_error[codes]):
            error = errors[codes[row]]
            text = str(raw.cat.categories[int(codes[row])]) or None
            line = int(raw.index[int(row)])
            problems.append(
                problem(error.code, table.name, line, column.name, text, **error.details)
            )
    frame = pd.DataFrame(typed, index=table.frame.index)
    problems.sort(key=lambda p: p.line or 0)
    return frame, problems


def _parse_column(
    raw: pd.Series, parse: Parser, required: bool, blank: object
) -> tuple[np.ndarray, np.ndarray]:
    """Parse each distinct value once: the row values, and per category a BadValue or None."""
    categories = raw.cat.categories
    parsed = np.empty(len(categories), dtype=object)
    errors = np.full(len(categories), None, dtype=object)
    for i, category in enumerate(categories):
        text = str(category)
        if text == "":
            parsed[i] = blank
            if required:
                errors[i] = BadValue("required")
            continue
        try:
            parsed[i] = parse(text)
        except BadValue as e:
            parsed[i] = blank
            errors[i] = e
    return parsed[raw.cat.codes.to_numpy()], errors
