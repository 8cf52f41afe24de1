"""`aip data ...`: sample data, the documented file formats, and loading reference data."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from aip_forms.cli.common import app, fail
from aip_forms.programs.profiles import PROFILES


@click.group()
def data() -> None:
    """Reference data: enrollment, chronic absence, the student extract."""


@data.command("load")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--replace",
    is_flag=True,
    help="Replace reporting periods already loaded (period_rates, period_students): the "
    "period's stored rates are deleted and the files' written instead.",
)
def load(paths: tuple[Path, ...], replace: bool) -> None:
    """Load reference data files (or directories of them) into the database.

    Every file is checked first; if anything is wrong, every problem is listed and nothing is
    written (exit status 2). A reporting period's data is loaded once; a correction is
    loaded with --replace.
    """
    from rich.console import Console
    from rich.table import Table

    from aip_forms.data.load import load_paths

    core = app()
    report = load_paths(core.engine, core.config, list(paths), replace=replace)
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
    for year, period in report.periods:
        console.print(
            f"Reporting period {period} of FY{year} loaded"
            + (" (replaced)" if replace else "")
            + "."
        )
    for name in report.skipped:
        console.print(f"Skipped (not a reference data file): {name}")
    from aip_forms.services.dashboards import precompute_hidden_cells

    leas = precompute_hidden_cells(engine=core.engine, uow=core.uow, config=core.config)
    if leas:
        console.print(f"Small-group suppression for the dashboards computed ({leas:,} LEAs).")


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
@click.option(
    "--period",
    "periods",
    multiple=True,
    type=click.Choice(["40", "80", "120", "EOY"], case_sensitive=False),
    help="Also write this reporting period's data into OUT/period-<CODE> (repeatable).",
)
@click.option(
    "--program",
    type=click.Choice(list(PROFILES), case_sensitive=False),
    help="The program profile whose sample to write (default: the deployment's, AIP_PROGRAM).",
)
def sample(
    out: Path,
    students: bool,
    fiscal_year: int,
    seed: int,
    periods: tuple[str, ...],
    program: str | None,
) -> None:
    """Write a statewide sample of reference data files (fictional numbers)."""
    from rich.console import Console

    from aip_forms.config import ProgramConfig
    from aip_forms.data.sample import write_period_sample, write_sample

    config = ProgramConfig.load(None, program.lower()) if program else app().config
    started = time.perf_counter()
    summary = write_sample(
        out, students=students, fiscal_year=fiscal_year, seed=seed, config=config
    )
    console = Console()
    console.print(
        f"Sample for FY{fiscal_year}: {summary.leas} LEAs, {summary.schools} schools"
        + (f", {summary.students:,} students" if students else "")
    )
    for name, path in summary.paths.items():
        rows = summary.rows.get(name)
        console.print(f"  {path}" + (f"  {rows:,} rows" if rows is not None else ""))
    for period in periods:
        folder = out / f"period-{period.upper()}"
        written = write_period_sample(
            folder,
            period.upper(),
            students=students,
            fiscal_year=fiscal_year,
            seed=seed,
            config=config,
        )
        console.print(f"Reporting period {period.upper()} (synthetic):")
        for name, path in written.paths.items():
            rows = written.rows.get(name)
            console.print(f"  {path}" + (f"  {rows:,} rows" if rows is not None else ""))
    console.print(f"Written in {time.perf_counter() - started:.1f} s.")
    console.print(f"Next: aip data load {out}")
    for period in periods:
        console.print(f"Then: aip data load {out / f'period-{period.upper()}'}")


@data.command("formats")
def show_formats() -> None:
    """Describe the reference data files: columns, types and what they hold."""
    from rich.console import Console
    from rich.table import Table

    from aip_forms.data import formats

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
        if not fmt.by_header:
            console.print(f"Recognized by its file name only: {fmt.filename} (or .xlsx).")


@data.command("select")
@click.option("--fy", "fy", required=True, help="Fiscal year of the plans, e.g. 2027.")
@click.option("--lea", "lea_code", default=None, help="Only the schools of this LEA.")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the ranked list to this CSV file.",
)
def select_command(fy: str, lea_code: str | None, csv_path: Path | None) -> None:
    """Rank the schools the program's selection rule picks, with reasons."""
    import csv

    from aip_forms.cli.common import fiscal_year
    from aip_forms.services.selection import select_schools
    from aip_forms.spreadsheet_text import csv_text

    core = app()
    chosen = select_schools(
        uow=core.uow, config=core.config, fiscal_year=fiscal_year(fy), lea_code=lea_code
    )
    grades = ", ".join(chosen.grades) if chosen.grades else "every grade"
    click.echo(
        f"FY{chosen.fiscal_year}: {len(chosen.schools)} of {chosen.considered} schools selected "
        f"by the {core.config.metric.name} in {grades} at the end of FY{chosen.data_year}."
    )
    headings = ["rank", "school", "name", "rate", "enrolled", "index", "reason"]
    if chosen.support_unit:
        headings.append(chosen.support_unit)
    rows = []
    for s in chosen.schools:
        index = "" if s.academic_index is None else f"{s.academic_index:g}"
        row = [str(s.rank), s.school_code, s.school_name, f"{s.rate:.1%}", str(s.enrolled)]
        row += [index, s.reason]
        support = ""
        if chosen.support_unit:
            row.append(f"{s.support_days:g}")
            support = f"; {chosen.support_unit}: {s.support_days:g}"
        rows.append(row)
        click.echo(f"{s.rank:>4}. {s.school_code} {s.school_name}: {s.enrolled} enrolled{support}")
        click.echo(f"      {s.reason}")
    if csv_path is not None:
        try:
            with csv_path.open("w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f)
                writer.writerow(headings)
                writer.writerows([csv_text(value) for value in row] for row in rows)
        except OSError as e:
            fail(f"cannot write {csv_path}: {e.strerror or e}")
        click.echo(f"Written: {csv_path}")
