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
  `formats.ALL_KINDS`, so within one load a row from the extract replaces the row with the same
  key from an enrollment or chronic_absence file.
- A `data_load` row: the files read and the rows written.
- Period data (issue 12: period_rates, period_students): the period's rates, merged into
  the same chronic-absence table under their period, and a `period_load` row per fiscal
  year and period. Period data is refused (file, line, column) before its year's
  enrollment is loaded, and for a period already loaded: a correction is an explicit
  `replace=True` (`aip data load --replace`), which deletes the period's stored rates and
  writes the files' in the same transaction.

Codes are checked against the database and against the leas and schools files of the same load.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from aip_forms.config import ProgramConfig
from aip_forms.data import formats
from aip_forms.data.load_problems import Problem, UnreadableFile, problem
from aip_forms.data.readers import (
    KNOWN_NAMES,
    SUFFIXES,
    known_files,
    parse_values,
    read_table,
)
from aip_forms.data.rules import RULES, Known, Parsed, canonical_group_codes, duplicate_keys
from aip_forms.data.write import clear_periods, periods_in, rows_to_write, write_rows
from aip_forms.db.models import DataLoadRow, EnrollmentRow, LeaRow, PeriodLoadRow, SchoolRow
from aip_forms.db.session import ensure_schema


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
    periods: list[tuple[int, str]] = field(default_factory=list)  # period data loaded

    @property
    def ok(self) -> bool:
        return not self.problems


def load_paths(
    engine: Engine, config: ProgramConfig, paths: Sequence[Path], *, replace: bool = False
) -> LoadReport:
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
    ensure_schema(engine)
    with engine.connect() as conn:
        known = _known_codes(conn, parsed)
        known.replace = replace
    for p in parsed:
        for rule in RULES.get(p.kind, ()):
            report.problems.extend(rule(p, known, config))
    report.problems.extend(duplicate_keys(parsed, config))
    if report.problems:
        report.problems.sort(key=_reading_order([name for _, name in files], report.files))
    elif parsed:
        rows = rows_to_write(parsed, config)
        periods = periods_in(parsed)
        with engine.begin() as conn:
            if replace:
                clear_periods(conn, periods)
            report.written = write_rows(conn, rows)
            report.load_id = _record(conn, paths, report)
            _record_periods(conn, periods, report.load_id)
            report.periods = sorted(periods)
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
    kinds = {kind: i for i, kind in enumerate(formats.ALL_KINDS)}

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
    known.years = set(conn.scalars(select(EnrollmentRow.fiscal_year).distinct()))
    known.periods = {
        (row.fiscal_year, row.period): f"load {row.load_id}, {row.loaded_at:%Y-%m-%d %H:%M}"
        for row in conn.execute(select(PeriodLoadRow.__table__))
    }
    for p in parsed:
        if p.kind in ("enrollment", "students"):
            known.years.update(int(y) for y in p.values["fiscal_year"].dropna().unique())
        if p.kind == "leas":
            known.leas.update(c for c in p.values["lea_code"] if c)
        elif p.kind == "schools":
            pairs = zip(p.values["school_code"], p.values["lea_code"], strict=True)
            known.schools.update((s, lea) for s, lea in pairs if s and lea)
    return known


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


def _record_periods(conn: Connection, periods: dict[tuple[int, str], int], load_id: int) -> None:
    now = dt.datetime.now(dt.UTC)
    for (year, period), rows in periods.items():
        existing = conn.execute(
            select(PeriodLoadRow.replacements).where(
                PeriodLoadRow.fiscal_year == year, PeriodLoadRow.period == period
            )
        ).first()
        table = PeriodLoadRow.__table__
        if existing is None:
            conn.execute(
                table.insert().values(  # type: ignore[attr-defined]
                    fiscal_year=year,
                    period=period,
                    load_id=load_id,
                    rows=rows,
                    first_loaded_at=now,
                    loaded_at=now,
                    replacements=0,
                )
            )
        else:
            conn.execute(
                table.update()  # type: ignore[attr-defined]
                .where(table.c.fiscal_year == year, table.c.period == period)
                .values(load_id=load_id, rows=rows, loaded_at=now, replacements=existing[0] + 1)
            )
