"""Row rules for reference data: each a small function yielding the problems of one kind of
mistake, with every bad row named by file, line and column; and the duplicate-key check.

`load.py` parses the files into `Parsed` tables and runs every rule before anything is
written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from aip_forms.config import ProgramConfig
from aip_forms.data import formats
from aip_forms.data.load_problems import Problem, problem
from aip_forms.data.readers import Table as FileTable


@dataclass
class Parsed:
    """One file: its strings (for messages), its typed values; both indexed by source line."""

    table: FileTable
    values: pd.DataFrame

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def kind(self) -> str:
        return self.table.kind

    def line(self, row: int) -> int:
        return int(self.values.index[row])

    def text(self, column: str, row: int) -> str:
        return str(self.table.frame[column].iloc[row])

    def text_at(self, line: int, column: str) -> str:
        return str(self.table.frame[column].loc[line])


@dataclass
class Known:
    """LEA and school codes in the database and in the leas and schools files being loaded."""

    leas: set[str]
    schools: dict[str, str]  # school code -> LEA code
    # Period data (issue 12): fiscal years whose enrollment is loaded (in the database or
    # this load), periods already loaded ((fiscal year, period) -> when), and whether this
    # load replaces them explicitly.
    years: set[int] = field(default_factory=set)
    periods: dict[tuple[int, str], str] = field(default_factory=dict)
    replace: bool = False


# --- Row rules: each yields the problems of one kind of mistake ----------------------------

Rule = Callable[[Parsed, Known, ProgramConfig], Iterator[Problem]]


def _rows(mask: Any) -> Iterator[int]:
    yield from (int(i) for i in np.flatnonzero(np.asarray(mask, dtype=bool)))


def lea_known(p: Parsed, known: Known, config: ProgramConfig) -> Iterator[Problem]:
    codes = p.values["lea_code"]
    for row in _rows([bool(c) and c not in known.leas for c in codes]):
        yield problem("unknown_lea", p.name, p.line(row), "lea_code", codes.iloc[row])


def school_known(p: Parsed, known: Known, config: ProgramConfig) -> Iterator[Problem]:
    """A school code must exist, and belong to the row's LEA."""
    schools, leas = p.values["school_code"], p.values["lea_code"]
    for row, (school, lea) in enumerate(zip(schools, leas, strict=True)):
        if not school:
            continue
        actual = known.schools.get(school)
        if actual is None:
            yield problem("unknown_school", p.name, p.line(row), "school_code", school)
        elif lea and actual != lea:
            yield problem(
                "school_in_other_lea",
                p.name,
                p.line(row),
                "school_code",
                school,
                actual=actual,
                given=lea,
            )


def grade_order(p: Parsed, known: Known, config: ProgramConfig) -> Iterator[Problem]:
    order = {g.code: g.order for g in config.grades}
    low = p.values["grade_low"].map(order)
    high = p.values["grade_high"].map(order)
    for row in _rows((low > high).fillna(False)):
        yield problem(
            "grade_order",
            p.name,
            p.line(row),
            "grade_low",
            p.values["grade_low"].iloc[row],
            high=p.values["grade_high"].iloc[row],
        )


def group_code_known(p: Parsed, known: Known, config: ProgramConfig) -> Iterator[Problem]:
    """The group code must be one of the catalog's for its group type (values: canonical)."""
    allowed = {
        "subgroup": ", ".join(s.code for s in config.subgroups),
        "grade": ", ".join(g.code for g in config.grades),
    }
    types = p.values["group_type"]
    unknown = p.values["group_code"].isna() & (types != "") & (p.table.frame["group_code"] != "")
    for row in _rows(unknown):
        group_type = types.iloc[row]
        yield problem(
            "group_code",
            p.name,
            p.line(row),
            "group_code",
            p.text("group_code", row),
            group_type=group_type,
            allowed=allowed[group_type],
        )


def canonical_group_codes(values: pd.DataFrame, config: ProgramConfig) -> pd.Series:
    """Group codes as the catalog writes them ("01" -> "1", "ALL" -> "all"); None if unknown."""
    lookup = {("subgroup", s.code.upper()): s.code for s in config.subgroups}
    lookup |= {("grade", g.code.upper()): g.code for g in config.grades}

    def canonical(group_type: str, code: str) -> str | None:
        key = code.upper()
        if group_type == "grade" and key.isdigit() and key.strip("0"):
            key = key.lstrip("0")
        return lookup.get((group_type, key))

    pairs = values["group_type"].astype(str) + "\t" + values["group_code"].astype(str)
    codes, uniques = pd.factorize(pairs)
    mapped = np.array([canonical(*u.split("\t", 1)) for u in uniques], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def counts_consistent(p: Parsed, known: Known, config: ProgramConfig) -> Iterator[Problem]:
    """chronically_absent <= students, and rate_pct = chronically_absent / students (± 0.1)."""
    students = p.values["students"]
    absent = p.values["chronically_absent"]
    rate = p.values["rate_pct"]
    both = (students.notna() & absent.notna()).to_numpy(dtype=bool, na_value=False)
    for row in _rows(both & (absent > students).to_numpy(dtype=bool, na_value=False)):
        yield problem(
            "absent_over_students",
            p.name,
            p.line(row),
            "chronically_absent",
            p.text("chronically_absent", row),
            students=int(students.iloc[row]),
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(
            students.to_numpy(dtype=float, na_value=np.nan) > 0,
            absent.to_numpy(dtype=float, na_value=np.nan)
            * 100
            / students.to_numpy(dtype=float, na_value=np.nan),
            0.0,
        )
    off = np.abs(rate.to_numpy(dtype=float, na_value=np.nan) - expected) > 0.1 + 1e-9
    for row in _rows(both & (absent <= students).to_numpy(dtype=bool, na_value=False) & off):
        yield problem(
            "rate_mismatch",
            p.name,
            p.line(row),
            "rate_pct",
            p.text("rate_pct", row),
            absent=int(absent.iloc[row]),
            students=int(students.iloc[row]),
            expected=float(expected[row]),
        )


def days_absent_within_enrolled(
    p: Parsed, known: Known, config: ProgramConfig
) -> Iterator[Problem]:
    """In each period, days absent need days enrolled and cannot exceed them."""
    for period in formats.PERIOD_CODES:
        enrolled_column = f"days_enrolled_{period.lower()}"
        absent_column = f"days_absent_{period.lower()}"
        enrolled = p.values[enrolled_column]
        absent = p.values[absent_column]
        given = absent.notna().to_numpy(dtype=bool)
        no_days = enrolled.isna().to_numpy(dtype=bool)
        over = (absent > enrolled).to_numpy(dtype=bool, na_value=False)
        for row in _rows(given & (over | no_days)):
            common = (p.name, p.line(row), absent_column, p.text(absent_column, row))
            if no_days[row] and not _blank_because_bad(p, enrolled_column, row):
                yield problem("absent_without_enrolled", *common, enrolled_column=enrolled_column)
            elif over[row]:
                yield problem(
                    "absent_over_enrolled",
                    *common,
                    enrolled=int(enrolled.iloc[row]),
                    enrolled_column=enrolled_column,
                )


def _blank_because_bad(p: Parsed, column: str, row: int) -> bool:
    """A value that failed to parse is already reported; do not report its blank again."""
    return p.text(column, row) != ""


# ---- period data (issue 12) ---------------------------------------------------------------


def _first_lines(p: Parsed, columns: list[str]) -> dict[tuple[object, ...], tuple[int, int]]:
    """Each distinct value of `columns`: (first line, rows) in the file."""
    keys = p.values[columns].astype(object)
    complete = keys.notna().all(axis=1) & (keys != "").all(axis=1)
    keys = keys[complete]
    out: dict[tuple[object, ...], tuple[int, int]] = {}
    if keys.empty:
        return out
    lines = pd.Series(keys.index, index=keys.index)
    grouped = lines.groupby([keys[c] for c in columns], sort=True)
    for key, first, count in zip(
        grouped.min().index, grouped.min().to_numpy(), grouped.size().to_numpy(), strict=True
    ):
        out[key if isinstance(key, tuple) else (key,)] = (int(first), int(count))
    return out


def year_loaded_first(p: Parsed, known: Known, config: ProgramConfig) -> Iterator[Problem]:
    """Period data needs its plan year's data (enrollment) loaded first: once per year."""
    for (year,), (line, rows) in _first_lines(p, ["fiscal_year"]).items():
        if int(year) not in known.years:  # type: ignore[call-overload]
            yield problem(
                "period_before_year", p.name, line, "fiscal_year", p.text_at(line, "fiscal_year"),
                rows=rows,
            )  # fmt: skip


def period_not_loaded(p: Parsed, known: Known, config: ProgramConfig) -> Iterator[Problem]:
    """A period is loaded once; a correction replaces it explicitly (`--replace`)."""
    if known.replace:
        return
    for (year, period), (line, _rows) in _first_lines(p, ["fiscal_year", "period"]).items():
        when = known.periods.get((int(year), str(period)))  # type: ignore[call-overload]
        if when is not None:
            yield problem(
                "period_loaded", p.name, line, "period", str(period), year=year, when=when
            )


def period_days(p: Parsed, known: Known, config: ProgramConfig) -> Iterator[Problem]:
    """Days absent cannot exceed days enrolled."""
    enrolled, absent = p.values["days_enrolled"], p.values["days_absent"]
    over = (absent > enrolled).to_numpy(dtype=bool, na_value=False)
    for row in _rows(over):
        yield problem(
            "absent_over_enrolled",
            p.name,
            p.line(row),
            "days_absent",
            p.text("days_absent", row),
            enrolled=int(enrolled.iloc[row]),
            enrolled_column="days_enrolled",
        )


RULES: dict[str, tuple[Rule, ...]] = {
    "schools": (lea_known, grade_order),
    "enrollment": (lea_known, school_known, group_code_known),
    "chronic_absence": (lea_known, school_known, group_code_known, counts_consistent),
    "students": (lea_known, school_known, days_absent_within_enrolled),
    "period_rates": (
        year_loaded_first,
        period_not_loaded,
        lea_known,
        school_known,
        group_code_known,
        counts_consistent,
    ),
    "period_students": (year_loaded_first, period_not_loaded, lea_known, school_known, period_days),
}


def duplicate_keys(parsed: list[Parsed], config: ProgramConfig) -> Iterator[Problem]:
    """A key given twice, in one file or in two files of the same kind: both lines named."""
    for kind in formats.ALL_KINDS:
        fmt = formats.format_for(kind)
        same_kind = [p for p in parsed if p.kind == kind]
        parts = []
        for number, p in enumerate(same_kind):
            keys = p.values[list(fmt.key)].copy()
            keys["_file"] = number
            keys["_line"] = p.values.index
            complete = keys[[c for c in fmt.key if fmt.column(c).required]]
            parts.append(keys[complete.notna().all(axis=1) & (complete != "").all(axis=1)])
        if not parts:
            continue
        keys = pd.concat(parts, ignore_index=True)
        keys = keys[keys[list(fmt.key)].notna().all(axis=1)]
        repeated = keys[keys.duplicated(subset=list(fmt.key), keep=False)]
        first: dict[tuple[object, ...], tuple[int, int]] = {}
        for record in repeated.itertuples(index=False):
            key = tuple(record[: len(fmt.key)])
            file, line = int(record[-2]), int(record[-1])
            if key not in first:
                first[key] = (file, line)
                continue
            other_file, other_line = first[key]
            other = f"line {other_line}"
            if other_file != file:
                other = f"{same_kind[other_file].name} line {other_line}"
            yield problem(
                "duplicate_key",
                same_kind[file].name,
                line,
                fmt.key[0] if len(fmt.key) == 1 else None,
                ", ".join(str(v) for v in key),
                key=", ".join(fmt.key),
                other=other,
            )
