"""Writing reference data: typed frames named as the database tables, and fast upserts
(SQLite: INSERT ... ON CONFLICT in chunks; PostgreSQL: COPY into a temporary table, then
one INSERT ... SELECT ... ON CONFLICT)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Table

from aip_forms.config import ProgramConfig
from aip_forms.data import formats
from aip_forms.data.aggregate import aggregate_period, aggregate_students
from aip_forms.data.rules import Parsed
from aip_forms.db.models import AbsenceRow, EnrollmentRow, LeaRow, SchoolRow

CHUNK = 5000  # rows per executemany call

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
    "academic_index": "academic_index",
}


def rows_to_write(parsed: list[Parsed], config: ProgramConfig) -> dict[str, pd.DataFrame]:
    """Frames named and typed as the database tables, later files winning on a repeated key."""
    by_kind: dict[str, list[pd.DataFrame]] = {kind: [] for kind in formats.ALL_KINDS}
    for p in parsed:
        values = p.values.reset_index(drop=True)
        by_kind[p.kind].append(values)
    frames: dict[str, list[pd.DataFrame]] = {
        "lea": [f.rename(columns={v: k for k, v in LEA_COLUMNS.items()}) for f in by_kind["leas"]],
        "school": [
            f.rename(columns={v: k for k, v in SCHOOL_COLUMNS.items()}) for f in by_kind["schools"]
        ],
        "enrollment": by_kind["enrollment"],
        "absence": by_kind["chronic_absence"] + by_kind["period_rates"],
    }
    if by_kind["students"]:
        students = pd.concat(by_kind["students"], ignore_index=True)
        aggregates = aggregate_students(_student_frame(students), config)
        frames["enrollment"].append(aggregates.enrollment)
        frames["absence"].append(aggregates.absence)
    if by_kind["period_students"]:
        extract = _student_frame(pd.concat(by_kind["period_students"], ignore_index=True))
        frames["absence"].append(aggregate_period(extract, config))
    result = {}
    for name, parts in frames.items():
        table = TABLES[name]
        columns = [c.name for c in table.columns]
        key = [c.name for c in table.primary_key.columns]
        parts = [f.reindex(columns=columns) for f in parts if len(f)]  # period rates: no tiers
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


def periods_in(parsed: list[Parsed]) -> dict[tuple[int, str], int]:
    """The reporting periods the period files of a load carry: (fiscal year, period) -> rows."""
    found: dict[tuple[int, str], int] = {}
    for p in parsed:
        if formats.format_for(p.kind).period_data:
            counts = p.values.groupby(["fiscal_year", "period"]).size()
            for key, n in counts.items():
                pair: tuple[Any, Any] = key  # type: ignore[assignment]
                at = (int(pair[0]), str(pair[1]))
                found[at] = found.get(at, 0) + int(n)
    return found


def clear_periods(conn: Connection, periods: Iterable[tuple[int, str]]) -> int:
    """Delete the stored rates of periods an explicit replacement loads again."""
    table = TABLES["absence"]
    deleted = 0
    for year, period in periods:
        result = conn.execute(
            table.delete().where(table.c.fiscal_year == year, table.c.period == period)
        )
        deleted += result.rowcount or 0
    return deleted


def write_rows(conn: Connection, rows: dict[str, pd.DataFrame]) -> dict[str, int]:
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
