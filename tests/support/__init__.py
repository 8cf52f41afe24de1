"""Test helpers shared by the suites: small data files written from tables, database snapshots.

The throwaway PostgreSQL server lives in `tests.support.postgres`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Engine, select

from aip_forms.db.models import Base

REFERENCE_TABLES = ("lea", "school", "enrollment", "absence")


def write_csv(path: Path, rows: Sequence[Sequence[object]], *, encoding: str = "utf-8") -> Path:
    """A CSV file from a header row and data rows (values written as str, commas joined)."""
    text = "".join(",".join("" if v is None else str(v) for v in row) + "\n" for row in rows)
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    """An .xlsx workbook whose first sheet holds the rows (header first)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def snapshot(engine: Engine, tables: Sequence[str] = REFERENCE_TABLES) -> dict[str, list[tuple]]:
    """Every row of the tables, sorted: two snapshots are equal when the contents are."""
    with engine.connect() as conn:
        return {
            name: sorted(tuple(r) for r in conn.execute(select(Base.metadata.tables[name])))
            for name in tables
        }


def count_rows(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(Base.metadata.tables[table])).all())
