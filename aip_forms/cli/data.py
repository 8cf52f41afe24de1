"""`aip data ...`: sample data, the documented file formats, and loading reference data."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from aip_forms.app import App
from aip_forms.config import ProgramConfig
from aip_forms.data import formats


@click.group()
def data() -> None:
    """Reference data: enrollment, chronic absence, the student extract."""


@data.command("load")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def load(paths: tuple[Path, ...]) -> None:
    """Load reference data files (or directories of them) into the database.

    Every file is checked first; if anything is wrong, every problem is listed and nothing is
    written (exit status 2).
    """
    from aip_forms.data.load import load_paths

    try:
        app = App.from_env()
        report = load_paths(app.engine, app.config, list(paths))
    except SQLAlchemyError as e:
        raise click.ClickException(f"database error: {getattr(e, 'orig', None) or e}") from None
    except (OSError, ValueError) as e:  # a broken AIP_* setting or program config file
        raise click.ClickException(str(e)) from None
    if not report.ok:
        for problem in report.problems:
            click.echo(str(problem), err=True)
        count = len(report.problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''}; nothing was loaded.", err=True)
        sys.exit(2)
    console = Console()
    table = Table(title="Loaded", show_edge=False)
    table.add_column("file")
    table.add_column("kind")
    table.add_column("rows", justify="right")
    for f in report.files:
        table.add_row(f.name, f.kind, f"{f.rows:,}")
    console.print(table)
    written = ", ".join(f"{name} {rows:,}" for name, rows in report.written.items())
    console.print(f"Rows written: {written} in {report.seconds:.1f} s (load {report.load_id}).")
    for name in report.skipped:
        console.print(f"Skipped (not a reference data file): {name}")


@data.command("sample")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write the files into (created if missing).",
)
@click.option("--students", is_flag=True, help="Also write a student-level extract.")
@click.option("--fy", "fiscal_year", default=2027, show_default=True, help="Current fiscal year.")
@click.option("--seed", default=2027, show_default=True, help="Random seed.")
def sample(out: Path, students: bool, fiscal_year: int, seed: int) -> None:
    """Write a statewide sample of reference data files (fictional numbers)."""
    from aip_forms.data.sample import write_sample

    started = time.perf_counter()
    try:
        summary = write_sample(
            out,
            students=students,
            fiscal_year=fiscal_year,
            seed=seed,
            config=ProgramConfig.load(),
        )
    except (OSError, ValueError) as e:
        raise click.ClickException(str(e)) from None
    console = Console()
    console.print(
        f"Sample for FY{fiscal_year}: {summary.leas} LEAs, {summary.schools} schools"
        + (f", {summary.students:,} students" if students else "")
    )
    for name, path in summary.paths.items():
        rows = summary.rows.get(name)
        console.print(f"  {path}" + (f"  {rows:,} rows" if rows is not None else ""))
    console.print(f"Written in {time.perf_counter() - started:.1f} s.")
    console.print(f"Next: aip data load {out}")


@data.command("formats")
def show_formats() -> None:
    """Describe the reference data files: columns, types and what they hold."""
    console = Console()
    for fmt in formats.FORMATS:
        console.print(f"\n[bold]{fmt.filename}[/bold] (or {Path(fmt.filename).stem}.xlsx)")
        console.print(fmt.description)
        table = Table(show_edge=False)
        for heading in ("column", "type", "value", "description"):
            table.add_column(heading)
        for column in fmt.columns:
            if column.name in fmt.optional_columns:
                presence = "optional column"
            else:
                presence = "required" if column.required else "may be blank"
            table.add_row(column.name, column.type.value, presence, column.description)
        console.print(table)
        console.print(f"One row per: {', '.join(fmt.key)}")
