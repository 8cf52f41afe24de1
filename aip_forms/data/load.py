"""Load reference data files into the database: validate everything, then write all or nothing.

`load_paths(engine, config, paths)` reads every file (a directory stands for the known files in
it: leas, schools, enrollment, chronic_absence, students; .csv or .xlsx), checks every value and
row, and collects every problem. If there is any problem nothing is written. Otherwise one
transaction writes:

- LEAs and schools: upserted by code (a name, type or grade span is updated in place).
- Enrollment and chronic absence: merged by key. A row replaces the stored row with the same key
  (fiscal year, [period,] LEA, school, group type, group code); stored rows whose key is not in
  the files are kept. Loading the same files twice leaves the same database.
- The student extract: aggregated (`aip_forms.data.aggregate`) into enrollment and chronic
  absence rows for every school and LEA, merged the same way. Files apply in the order of
  `formats.LOAD_ORDER`, so within one load a row from the extract replaces the row with the same
  key from an enrollment or chronic_absence file.
- A `data_load` row: the files read and the rows written.

Codes are checked against the database and against the leas and schools files of the same load.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, Table, select

from aip_forms.config import ProgramConfig
from aip_forms.data import formats
from aip_forms.data.aggregate import aggregate_students
from aip_forms.data.problems import Problem, UnreadableFile, problem
from aip_forms.data.readers import (
    KNOWN_NAMES,
    SUFFIXES,
    known_files,
    parse_values,
    read_table,
)
from aip_forms.data.readers import (
    Table as FileTable,
)
from aip_forms.db.models import AbsenceRow, DataLoadRow, EnrollmentRow, LeaRow, SchoolRow
from aip_forms.db.session import upgrade

CHUNK = 5000  # rows per executemany call


@dataclass(frozen=True)
class FileRead:
    name: str
    kind: str
    rows: int


@dataclass
class LoadReport:
    """What a load read and wrote, or every problem that stopped it (then nothing is written)."""

    files: list[FileRead] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files in a directory that are no data
    written: dict[str, int] = field(default_factory=dict)  # table -> rows inserted or replaced
    seconds: float = 0.0
    load_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


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


@dataclass
class Known:
    """LEA and school codes in the database and in the leas and schools files being loaded."""

    leas: set[str]
    schools: dict[str, str]  # school code -> LEA code


def load_paths(engine: Engine, config: ProgramConfig, paths: Sequence[Path]) -> LoadReport:
    """Validate every file, then write them in one transaction, or nothing if any problem."""
    started = time.perf_counter()
    report = LoadReport()
    files = _files(paths, report)
    parsed: list[Parsed] = []
    for path, name in files:
        try:
            table = read_table(path, name=name)
        except UnreadableFile as e:
            report.problems.extend(e.problems)
            continue
        values, problems = parse_values(table, config)
        if "group_code" in values:
            values["group_code"] = canonical_group_codes(values, config)
        report.problems.extend(table.problems)
        report.problems.extend(problems)
        parsed.append(Parsed(table, values))
        report.files.append(FileRead(name, table.kind, len(values)))
    upgrade(engine)
    with engine.connect() as conn:
        known = _known_codes(conn, parsed)
    for p in parsed:
        for rule in RULES.get(p.kind, ()):
            report.problems.extend(rule(p, known, config))
    report.problems.extend(duplicate_keys(parsed, config))
    if report.problems:
        report.problems.sort(key=_reading_order([name for _, name in files], report.files))
    elif parsed:
        rows = _rows_to_write(parsed, config)
        with engine.begin() as conn:
            report.written = _write(conn, rows)
            report.load_id = _record(conn, paths, report)
    report.seconds = time.perf_counter() - started
    return report


def _reading_order(
    names: list[str], read: list[FileRead]
) -> Callable[[Problem], tuple[int, int, int]]:
    """Problems by file (in loading order), line, then column as the format lists them."""
    file_order = {name: i for i, name in enumerate(names)}
    column_order = {
        (f.name, c): i for f in read for i, c in enumerate(formats.format_for(f.kind).column_names)
    }

    def key(p: Problem) -> tuple[int, int, int]:
        column = column_order.get((p.file, p.column or ""), -1)
        return file_order.get(p.file, -1), p.line or 0, column

    return key


def _files(paths: Sequence[Path], report: LoadReport) -> list[tuple[Path, str]]:
    """(path, display name) of every file to read; a directory gives its known files."""
    files: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = known_files(path)
            if not found:
                report.problems.append(problem("no_known_files", str(path), names=KNOWN_NAMES))
            report.skipped.extend(
                str(p)
                for p in sorted(path.iterdir())
                if p.is_file() and p not in found and not p.name.startswith(".")
            )
            candidates = [(p, str(p)) for p in found]
        elif not path.exists():
            report.problems.append(problem("file_missing", str(path)))
            candidates = []
        else:
            candidates = [(path, str(path))]
        for candidate, name in candidates:
            if candidate.resolve() not in seen:
                seen.add(candidate.resolve())
                files.append((candidate, name))
    kinds = {kind: i for i, kind in enumerate(formats.LOAD_ORDER)}

    def load_position(item: tuple[Path, str]) -> int:
        # Explicit files of unknown kind (detected by header) go last.
        stem = item[0].stem.lower()
        return kinds.get(stem, len(kinds)) if item[0].suffix.lower() in SUFFIXES else len(kinds)

    return sorted(files, key=load_position)


def _known_codes(conn: Connection, parsed: list[Parsed]) -> Known:
    known = Known(
        leas=set(conn.scalars(select(LeaRow.code))),
        schools={
            code: lea for code, lea in conn.execute(select(SchoolRow.code, SchoolRow.lea_code))
        },
    )
    for p in parsed:
        if p.kind == "leas":
            known.leas.update(c for c in p.values["lea_code"] if c)
        elif p.kind == "schools":
            pairs = zip(p.values["school_code"], p.values["lea_code"], strict=True)
            known.schools.update((s, lea) for s, lea in pairs if s and lea)
    return known


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


RULES: dict[str, tuple[Rule, ...]] = {
    "schools": (lea_known, grade_order),
    "enrollment": (lea_known, school_known, group_code_known),
    "chronic_absence": (lea_known, school_known, group_code_known, counts_consistent),
    "students": (lea_known, school_known, days_absent_within_enrolled),
}


def duplicate_keys(parsed: list[Parsed], config: ProgramConfig) -> Iterator[Problem]:
    """A key given twice, in one file or in two files of the same kind: both lines named."""
    for kind in formats.LOAD_ORDER:
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


# --- Writing ----------------------------------------------------------------------------------

TABLES: dict[str, Table] = {
    "lea": LeaRow.__table__,  # type: ignore[dict-item]
    "school": SchoolRow.__table__,  # type: ignore[dict-item]
    "enrollment": EnrollmentRow.__table__,  # type: ignore[dict-item]
    "absence": AbsenceRow.__table__,  # type: ignore[dict-item]
}
LEA_COLUMNS = {"code": "lea_code", "name": "lea_name", "type": "lea_type"}
SCHOOL_COLUMNS = {
    "code": "school_code",
    "lea_code": "lea_code",
    "name": "school_name",
    "grade_low": "grade_low",
    "grade_high": "grade_high",
}


def _rows_to_write(parsed: list[Parsed], config: ProgramConfig) -> dict[str, pd.DataFrame]:
    """Frames named and typed as the database tables, later files winning on a repeated key."""
    by_kind: dict[str, list[pd.DataFrame]] = {kind: [] for kind in formats.LOAD_ORDER}
    for p in parsed:
        values = p.values.reset_index(drop=True)
        by_kind[p.kind].append(values)
    frames: dict[str, list[pd.DataFrame]] = {
        "lea": [f.rename(columns={v: k for k, v in LEA_COLUMNS.items()}) for f in by_kind["leas"]],
        "school": [
            f.rename(columns={v: k for k, v in SCHOOL_COLUMNS.items()}) for f in by_kind["schools"]
        ],
        "enrollment": by_kind["enrollment"],
        "absence": by_kind["chronic_absence"],
    }
    if by_kind["students"]:
        students = pd.concat(by_kind["students"], ignore_index=True)
        aggregates = aggregate_students(_student_frame(students), config)
        frames["enrollment"].append(aggregates.enrollment)
        frames["absence"].append(aggregates.absence)
    result = {}
    for name, parts in frames.items():
        table = TABLES[name]
        columns = [c.name for c in table.columns]
        key = [c.name for c in table.primary_key.columns]
        parts = [f[columns] for f in parts if len(f)]
        if parts:
            merged = pd.concat(parts, ignore_index=True)
            if name in ("enrollment", "absence"):
                merged["school_code"] = merged["school_code"].fillna("")  # "" = the LEA
            result[name] = merged.drop_duplicates(subset=key, keep="last")
    return result


def _student_frame(students: pd.DataFrame) -> pd.DataFrame:
    """The typed extract as `aggregate_students` takes it: no NA left in required columns."""
    frame = students.copy()
    frame["fiscal_year"] = frame["fiscal_year"].astype("int64")
    for column in formats.STUDENTS.columns:
        if column.type is formats.ColumnType.FLAG:
            frame[column.name] = frame[column.name].astype(bool)
    return frame


def _write(conn: Connection, rows: dict[str, pd.DataFrame]) -> dict[str, int]:
    written = {}
    for name in ("lea", "school", "enrollment", "absence"):
        frame = rows.get(name)
        if frame is None:
            continue
        table = TABLES[name]
        records = _records(frame, table)
        if conn.dialect.name == "postgresql":
            _upsert_postgresql(conn, table, records)
        elif conn.dialect.name == "sqlite":
            _upsert_sqlite(conn, table, records)
        else:
            raise NotImplementedError(f"loading into {conn.dialect.name} is not supported")
        written[name] = len(frame)
    return written


def _records(frame: pd.DataFrame, table: Table) -> list[tuple[Any, ...]]:
    """Rows of plain Python values (int, float, str, None) in the table's column order."""
    columns: list[list[Any]] = []
    for column in table.columns:
        series = frame[column.name]
        values = series.astype(object).where(series.notna(), None).tolist()
        python_type = column.type.python_type
        if python_type in (int, float):
            values = [None if v is None else python_type(v) for v in values]
        columns.append(values)
    return list(zip(*columns, strict=True))


# Upserts are written in SQL by hand: a statement compiled per row costs more than the database
# work here. Table and column names come from the models, never from input.


def _upsert_sqlite(conn: Connection, table: Table, records: list[tuple[Any, ...]]) -> None:
    """INSERT ... ON CONFLICT DO UPDATE, executemany in chunks."""
    columns = [c.name for c in table.columns]
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)}) {_on_conflict(table)}"
    )
    for start in range(0, len(records), CHUNK):
        conn.exec_driver_sql(sql, records[start : start + CHUNK])


def _upsert_postgresql(conn: Connection, table: Table, records: list[tuple[Any, ...]]) -> None:
    """COPY into a temporary table, then one INSERT ... SELECT ... ON CONFLICT DO UPDATE."""
    columns = ", ".join(c.name for c in table.columns)
    staging = f"staging_{table.name}"
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {staging} (LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DROP"
    )
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy(f"COPY {staging} ({columns}) FROM STDIN") as copy:
        for record in records:
            copy.write_row(record)
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {staging} "
        f"{_on_conflict(table)}"
    )
    conn.exec_driver_sql(f"DROP TABLE {staging}")


def _on_conflict(table: Table) -> str:
    key = ", ".join(c.name for c in table.primary_key.columns)
    updates = ", ".join(f"{c.name} = excluded.{c.name}" for c in table.columns if not c.primary_key)
    return f"ON CONFLICT ({key}) DO UPDATE SET {updates}"


def _record(conn: Connection, paths: Sequence[Path], report: LoadReport) -> int:
    summary = {
        "files": [{"file": f.name, "kind": f.kind, "rows": f.rows} for f in report.files],
        "written": report.written,
    }
    text = json.dumps(summary)
    if len(text) > 2000:
        text = json.dumps({"files": len(report.files), "written": report.written})
    source = "; ".join(str(p) for p in paths)
    result = conn.execute(
        DataLoadRow.__table__.insert().values(source=source[:500], summary=text)  # type: ignore[attr-defined]
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])
