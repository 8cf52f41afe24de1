"""Aggregation of a student-level attendance extract into enrollment and chronic-absence rows.

`aggregate_students` turns a typed frame with the columns of `formats.STUDENTS` (one row per
student per school) into the rows of `formats.ENROLLMENT` and `formats.CHRONIC_ABSENCE`, for
every school and every LEA (school_code ""), every subgroup and grade, and every reporting
period present in the extract.

Rules (DOMAIN.md; edges and minimum days come from `ProgramConfig`):
- A student counts in a period when its days enrolled are present and at least
  `min_enrolled_days`; a blank days-absent next to present days enrolled counts as 0 absences.
- Absence rate = days absent / days enrolled. A student counts toward the rate as the
  profile's metric says (`config.metric`: New Mexico, absent 10% or more of days; LAUSD,
  attending 96% or more); the `chronically_absent` column holds that count. Tier by the
  bands of `config.tiers` (lower <= rate < upper). Every comparison is done in integers
  (absent * 100 * q >= p * enrolled for an edge p/q), so no float rounding moves a student
  across an edge.
- At LEA level a student with rows in several schools of the LEA counts once, with days summed
  across those schools; its grade, sex, race and flags come from the row with the most days
  enrolled in the latest period (the first such row on a tie).
- Enrollment = students counted in the latest period present in the extract's fiscal year.

Vectorized: every count for a period and level comes from one `numpy.bincount` over
(unit, group, tier, chronic) cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from aip_forms import catalog
from aip_forms.config import ProgramConfig
from aip_forms.data import formats

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_TRUE_FLAGS = frozenset({"Y", "YES", "1", "TRUE", "T"})


@dataclass(frozen=True)
class Aggregates:
    """Rows in the column order of formats.ENROLLMENT and formats.CHRONIC_ABSENCE."""

    enrollment: pd.DataFrame
    absence: pd.DataFrame


@dataclass(frozen=True)
class _Groups:
    """The output groups (subgroups then grades) and how student rows map onto them."""

    types: npt.NDArray[np.object_]
    codes: npt.NDArray[np.object_]
    sex: dict[str, int]  # extract code -> group position
    race: dict[str, int]
    grade: dict[str, int]
    flags: dict[str, int]  # extract column -> group position
    all_position: int | None

    @property
    def size(self) -> int:
        return len(self.codes)


@dataclass(frozen=True)
class _Level:
    """Student rows at one level: a unit (school or LEA) per row and the group memberships."""

    unit: IntArray  # per row
    unit_lea: IntArray  # per unit: LEA position
    unit_school: IntArray  # per unit: school position, -1 at LEA level
    pair_row: IntArray  # (row, group) memberships
    pair_group: IntArray
    pair_base: IntArray  # unit * groups + group of each membership
    enrolled: dict[str, tuple[IntArray, BoolArray]]  # period -> (days, present)
    absent: dict[str, IntArray]


def aggregate_students(frame: pd.DataFrame, config: ProgramConfig) -> Aggregates:
    """Enrollment and chronic-absence rows of every school and LEA in a student extract."""
    groups = _groups(config)
    enrollment_parts: list[pd.DataFrame] = []
    absence_parts: list[pd.DataFrame] = []
    years = sorted(pd.unique(frame["fiscal_year"]))
    for fiscal_year in years:
        part = frame if len(years) == 1 else frame[frame["fiscal_year"] == fiscal_year]
        enrollment, absence = _aggregate_year(int(fiscal_year), part, config, groups)
        enrollment_parts.append(enrollment)
        absence_parts.append(absence)
    return Aggregates(
        enrollment=_concat(enrollment_parts, formats.ENROLLMENT.column_names),
        absence=_concat(absence_parts, formats.CHRONIC_ABSENCE.column_names),
    )


def read_students_csv(path: str | Path) -> pd.DataFrame:
    """A students.csv as the typed frame `aggregate_students` takes.

    Types only (codes as text, flags as bool, days as nullable integers); checking the
    values is the validators' job.
    """
    columns = formats.STUDENTS.columns
    days = [c.name for c in columns if c.type is formats.ColumnType.INTEGER]
    dtype: dict[str, str] = {c.name: "str" for c in columns if c.name not in days}
    dtype.update({name: "Int64" for name in days}, fiscal_year="int64")
    frame = pd.read_csv(
        path, dtype=dtype, keep_default_na=False, na_values={name: [""] for name in days}
    )
    for column in columns:
        if column.type is formats.ColumnType.FLAG:
            frame[column.name] = _flag(frame[column.name])
    return frame


def aggregate_period(frame: pd.DataFrame, config: ProgramConfig) -> pd.DataFrame:
    """Chronic-absence rows of a period extract (columns of `formats.PERIOD_STUDENTS`): the
    same aggregation as `aggregate_students`, each period's days taken as that period's."""
    parts = []
    for period in sorted(pd.unique(frame["period"]), key=formats.PERIOD_CODES.index):
        part = frame if frame["period"].nunique() == 1 else frame[frame["period"] == period]
        students = part.rename(
            columns={
                "days_enrolled": _days_column("enrolled", period),
                "days_absent": _days_column("absent", period),
            }
        )
        parts.append(aggregate_students(students, config).absence)
    return _concat(parts, formats.CHRONIC_ABSENCE.column_names)


def read_period_students_csv(path: str | Path) -> pd.DataFrame:
    """A period_students.csv as the typed frame `aggregate_period` takes (types only)."""
    columns = formats.PERIOD_STUDENTS.columns
    days = ["days_enrolled", "days_absent"]
    dtype: dict[str, str] = {c.name: "str" for c in columns if c.name not in days}
    dtype.update({name: "Int64" for name in days}, fiscal_year="int64")
    frame = pd.read_csv(path, dtype=dtype, keep_default_na=False)
    for column in columns:
        if column.type is formats.ColumnType.FLAG:
            frame[column.name] = _flag(frame[column.name])
    return frame


def periods_present(frame: pd.DataFrame) -> list[str]:
    """Reporting periods with at least one days-enrolled value, in calendar order."""
    return [
        p
        for p in formats.PERIOD_CODES
        if (col := _days_column("enrolled", p)) in frame.columns and frame[col].notna().any()
    ]


# ---- one fiscal year --------------------------------------------------------------------


def _aggregate_year(
    fiscal_year: int, frame: pd.DataFrame, config: ProgramConfig, groups: _Groups
) -> tuple[pd.DataFrame, pd.DataFrame]:
    periods = periods_present(frame)
    if not periods:
        return _empty(formats.ENROLLMENT.column_names), _empty(formats.CHRONIC_ABSENCE.column_names)
    lea_idx, lea_codes = _factorize(frame["lea_code"])
    school_idx, school_codes = _factorize(frame["school_code"])
    memberships = _memberships(frame, groups)
    enrolled, absent = _days(frame, periods)
    school_level = _school_level(
        lea_idx, school_idx, len(school_codes), groups.size, memberships, enrolled, absent
    )
    lea_level = _lea_level(
        frame, lea_idx, len(lea_codes), groups.size, memberships, enrolled, absent, periods
    )

    edges = _Edges.from_config(config)
    absence_parts = []
    for period_pos, period in enumerate(periods):
        for level in (lea_level, school_level):
            absence_parts.append(
                _period_rows(level, period, period_pos, config, edges, groups, fiscal_year)
            )
    rows = _finish(pd.concat(absence_parts, ignore_index=True), lea_codes, school_codes, groups)
    latest = rows[rows["period"] == periods[-1]]
    keys = [c for c in formats.ENROLLMENT.column_names if c != "enrollment"]
    enrollment = latest[keys].assign(enrollment=latest["students"])
    return enrollment.reset_index(drop=True), rows


@dataclass(frozen=True)
class _Edges:
    """Tier lower edges (after the first band) as exact fractions."""

    tier_edges: tuple[Fraction, ...]
    tier_numbers: tuple[int, ...]  # tier number of each band, in band order

    @classmethod
    def from_config(cls, config: ProgramConfig) -> _Edges:
        bands = sorted(config.tiers, key=lambda t: t.lower)
        return cls(
            tier_edges=tuple(_exact(b.lower) for b in bands[1:]),
            tier_numbers=tuple(b.tier for b in bands),
        )


def _exact(pct: float) -> Fraction:
    # str() gives the shortest decimal that round-trips: 7.3 -> 73/10, not the binary double.
    return Fraction(str(pct))


def _at_or_above(absent: IntArray, enrolled: IntArray, pct: Fraction) -> BoolArray:
    """absent / enrolled >= pct / 100, in integers."""
    result: BoolArray = absent * (100 * pct.denominator) >= enrolled * pct.numerator
    return result


def _period_rows(
    level: _Level,
    period: str,
    period_pos: int,
    config: ProgramConfig,
    edges: _Edges,
    groups: _Groups,
    fiscal_year: int,
) -> pd.DataFrame:
    days, present = level.enrolled[period]
    absent = level.absent[period]
    counted = present & (days >= config.min_enrolled_days)
    band = np.zeros(len(days), dtype=np.int64)
    for edge in edges.tier_edges:
        band += _at_or_above(absent, days, edge)
    chronic = config.metric.counted(absent, days).astype(np.int64)
    n_bands = len(edges.tier_numbers)
    cells = 2 * n_bands + 1  # (band, chronic) cells and a last one for students not counted
    cell = np.where(counted, band * 2 + chronic, cells - 1)
    n_units = len(level.unit_lea)
    counts = np.bincount(
        level.pair_base * cells + cell[level.pair_row], minlength=n_units * groups.size * cells
    ).reshape(n_units * groups.size, cells)[:, :-1]
    counts = counts.reshape(-1, n_bands, 2)
    students = counts.sum(axis=(1, 2))
    nonzero = np.flatnonzero(students)
    counts = counts[nonzero]
    students = students[nonzero]
    chronically_absent = counts[:, :, 1].sum(axis=1)
    per_band = counts.sum(axis=2)
    unit = nonzero // groups.size
    data: dict[str, object] = {
        "fiscal_year": np.full(len(nonzero), fiscal_year, dtype=np.int64),
        "_period": np.full(len(nonzero), period_pos, dtype=np.int64),
        "period": np.full(len(nonzero), period, dtype=object),
        "_lea": level.unit_lea[unit],
        "_school": level.unit_school[unit],
        "_group": nonzero % groups.size,
        "students": students,
        "chronically_absent": chronically_absent,
        # Half up to one decimal, in integers: floor(1000 c / s + 1/2) / 10.
        "rate_pct": ((chronically_absent * 2000 + students) // (2 * students)) / 10,
    }
    for tier in (1, 2, 3, 4):
        positions = [i for i, t in enumerate(edges.tier_numbers) if t == tier]
        if positions:
            data[f"tier{tier}"] = per_band[:, positions].sum(axis=1)
        else:
            data[f"tier{tier}"] = pd.arrays.IntegerArray(
                np.zeros(len(nonzero), dtype=np.int64), np.ones(len(nonzero), dtype=bool)
            )
    return pd.DataFrame(data)


def _finish(
    rows: pd.DataFrame,
    lea_codes: npt.NDArray[np.object_],
    school_codes: npt.NDArray[np.object_],
    groups: _Groups,
) -> pd.DataFrame:
    """Codes from positions, rows ordered by period, LEA, school (LEA row first), group."""
    order = np.lexsort(
        (
            rows["_group"].to_numpy(),
            rows["_school"].to_numpy(),
            rows["_lea"].to_numpy(),
            rows["_period"].to_numpy(),
        )
    )
    rows = rows.iloc[order].reset_index(drop=True)
    school_pos = rows["_school"].to_numpy()
    school_labels = np.append(school_codes, "")  # position -1 -> ""
    group_pos = rows["_group"].to_numpy()
    rows = rows.assign(
        lea_code=lea_codes[rows["_lea"].to_numpy()],
        school_code=school_labels[school_pos],
        group_type=groups.types[group_pos],
        group_code=groups.codes[group_pos],
    )
    return rows[list(formats.CHRONIC_ABSENCE.column_names)]


# ---- levels -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Memberships:
    row: IntArray
    group: IntArray


def _school_level(
    lea_idx: IntArray,
    school_idx: IntArray,
    n_schools: int,
    n_groups: int,
    memberships: _Memberships,
    enrolled: dict[str, tuple[IntArray, BoolArray]],
    absent: dict[str, IntArray],
) -> _Level:
    # A unit is an (LEA, school) pair, so a school code listed under two LEAs stays apart.
    unit_keys, unit = np.unique(lea_idx * n_schools + school_idx, return_inverse=True)
    return _Level(
        unit=unit.astype(np.int64),
        unit_lea=unit_keys // n_schools,
        unit_school=unit_keys % n_schools,
        pair_row=memberships.row,
        pair_group=memberships.group,
        pair_base=unit[memberships.row] * n_groups + memberships.group,
        enrolled=enrolled,
        absent=absent,
    )


def _lea_level(
    frame: pd.DataFrame,
    lea_idx: IntArray,
    n_leas: int,
    n_groups: int,
    memberships: _Memberships,
    enrolled: dict[str, tuple[IntArray, BoolArray]],
    absent: dict[str, IntArray],
    periods: Sequence[str],
) -> _Level:
    """One row per student per LEA, days summed over the student's schools in the LEA."""
    student_idx, student_ids = pd.factorize(frame["student_id"])
    n_ids = len(student_ids)
    key = lea_idx * n_ids + student_idx
    keys, student = np.unique(key, return_inverse=True)
    n = len(keys)
    student = student.astype(np.int64)

    lea_enrolled: dict[str, tuple[IntArray, BoolArray]] = {}
    lea_absent: dict[str, IntArray] = {}
    for period in periods:
        days, present = enrolled[period]
        lea_enrolled[period] = (
            np.bincount(student, weights=days * present, minlength=n).astype(np.int64),
            np.bincount(student, weights=present, minlength=n) > 0,
        )
        lea_absent[period] = np.bincount(
            student, weights=absent[period] * present, minlength=n
        ).astype(np.int64)

    # The row that speaks for the student: most days enrolled in the latest period.
    latest_days = enrolled[periods[-1]][0]
    rows = np.arange(len(student))
    order = np.lexsort((rows, -latest_days, student))
    first = np.ones(len(order), dtype=bool)
    first[1:] = student[order][1:] != student[order][:-1]
    speaker = order[first]  # speaker[s] = frame row of LEA student s
    is_speaker = np.zeros(len(student), dtype=bool)
    is_speaker[speaker] = True

    keep = is_speaker[memberships.row]
    unit = keys // n_ids
    pair_row = student[memberships.row[keep]]
    return _Level(
        unit=unit,
        unit_lea=np.arange(n_leas, dtype=np.int64),
        unit_school=np.full(n_leas, -1, dtype=np.int64),
        pair_row=pair_row,
        pair_group=memberships.group[keep],
        pair_base=unit[pair_row] * n_groups + memberships.group[keep],
        enrolled=lea_enrolled,
        absent=lea_absent,
    )


# ---- input columns ----------------------------------------------------------------------


def _groups(config: ProgramConfig) -> _Groups:
    types: list[str] = []
    codes: list[str] = []
    flags: dict[str, int] = {}
    all_position = None
    by_code: dict[str, int] = {}
    for subgroup in config.subgroups:
        position = len(codes)
        types.append("subgroup")
        codes.append(subgroup.code)
        by_code[subgroup.code] = position
        if subgroup.extract_column:
            flags[subgroup.extract_column] = position
        elif subgroup.category == "all":
            all_position = position
        elif subgroup.category not in ("sex", "race_ethnicity"):
            raise ValueError(
                f"subgroup {subgroup.code!r} has no extract column and category "
                f"{subgroup.category!r} cannot be derived from the student extract"
            )
    grade: dict[str, int] = {}
    for level in config.grades:
        grade[level.code.upper()] = len(codes)
        types.append("grade")
        codes.append(level.code)
    return _Groups(
        types=np.array(types, dtype=object),
        codes=np.array(codes, dtype=object),
        sex={k: by_code[v] for k, v in catalog.SEX_CODES.items() if v in by_code},
        race={k: by_code[v] for k, v in catalog.RACE_CODES.items() if v in by_code},
        grade=grade,
        flags=flags,
        all_position=all_position,
    )


def _memberships(frame: pd.DataFrame, groups: _Groups) -> _Memberships:
    n = len(frame)
    columns: list[IntArray] = []
    if groups.all_position is not None:
        columns.append(np.full(n, groups.all_position, dtype=np.int64))
    for column, lookup in (("sex", groups.sex), ("race_ethnicity", groups.race)):
        columns.append(_lookup(frame[column], lookup))
    columns.append(_lookup(frame["grade"], groups.grade, grade=True))
    for column, position in groups.flags.items():
        columns.append(np.where(_flag(frame[column]), position, -1))
    matrix = np.stack(columns) if columns else np.empty((0, n), dtype=np.int64)
    which, row = np.nonzero(matrix >= 0)
    return _Memberships(row=row.astype(np.int64), group=matrix[which, row].astype(np.int64))


def _lookup(series: pd.Series, positions: dict[str, int], *, grade: bool = False) -> IntArray:
    """Group position of each row's code (-1 for a code that is no group)."""
    codes, uniques = pd.factorize(series)
    table = np.array(
        [positions.get(_normal_code(u, grade=grade), -1) for u in uniques] + [-1],
        dtype=np.int64,
    )
    result: IntArray = table[codes]  # code -1 (blank) takes the trailing -1
    return result


def _normal_code(value: object, *, grade: bool) -> str:
    text = str(value).strip().upper()
    if grade and text.isdigit():
        return str(int(text))  # "01" -> "1"
    return text


def _flag(series: pd.Series) -> BoolArray:
    if pd.api.types.is_bool_dtype(series.dtype):
        result: BoolArray = series.to_numpy(dtype=bool, na_value=False)
        return result
    text = series.astype("string").str.strip().str.upper()
    return text.isin(_TRUE_FLAGS).to_numpy(dtype=bool, na_value=False)


def _days_column(what: str, period: str) -> str:
    return f"days_{what}_{period.lower()}"


def _days(
    frame: pd.DataFrame, periods: Sequence[str]
) -> tuple[dict[str, tuple[IntArray, BoolArray]], dict[str, IntArray]]:
    enrolled: dict[str, tuple[IntArray, BoolArray]] = {}
    absent: dict[str, IntArray] = {}
    for period in periods:
        days = _as_float(frame, _days_column("enrolled", period))
        present = ~np.isnan(days)
        enrolled[period] = (np.where(present, days, 0).astype(np.int64), present)
        missed = _as_float(frame, _days_column("absent", period))
        absent[period] = np.where(present & ~np.isnan(missed), missed, 0).astype(np.int64)
    return enrolled, absent


def _as_float(frame: pd.DataFrame, column: str) -> npt.NDArray[np.float64]:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    values: npt.NDArray[np.float64] = frame[column].to_numpy(dtype=np.float64, na_value=np.nan)
    return values


def _factorize(series: pd.Series) -> tuple[IntArray, npt.NDArray[np.object_]]:
    codes, uniques = pd.factorize(series, sort=True)
    if (codes < 0).any():
        raise ValueError(f"the student extract has blank values in {series.name}")
    return codes.astype(np.int64), np.array([str(u) for u in uniques], dtype=object)


def _concat(parts: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    if not parts:
        return _empty(columns)
    return pd.concat(parts, ignore_index=True)[list(columns)]


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
