"""`aip workbook ...`: generate plan workbooks (one, or the statewide set) and examples;
`aip workbook validate` lives in `aip_forms.cli.validate` and is loaded only when used.

Statewide output: OUT/FY2027/<lea_code>/district-<lea_code>.xlsx and
OUT/FY2027/<lea_code>/school-<school_code>.xlsx.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from aip_forms.cli import LazyGroup
from aip_forms.cli.common import app as _app
from aip_forms.cli.common import fail as _fail
from aip_forms.cli.common import fiscal_year as _fiscal_year

if TYPE_CHECKING:
    from aip_forms.bootstrap import App


@click.group(
    cls=LazyGroup,
    lazy={
        "validate": (
            "aip_forms.cli.validate:validate",
            "Check a plan workbook: safe to open, ours and...",
        )
    },
)
def workbook() -> None:
    """Plan workbooks: generate, example, validate."""


fy_option = click.option("--fy", "fy", required=True, help="Fiscal year: 2027 or FY2027.")
lea_option = click.option("--lea", "lea_code", help="LEA code (district plan, or with --school).")
school_option = click.option("--school", "school_code", help="School code (school plan).")


@workbook.command("generate")
@click.option("--fy", "fy", help="Fiscal year: 2027 or FY2027.")
@lea_option
@school_option
@click.option("--all", "all_plans", is_flag=True, help="Every district and school plan.")
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="The .xlsx file (or a folder) for one plan; the folder for --all.",
)
@click.option("--workers", type=click.IntRange(min=1), help="Processes for --all (default: cores).")
@click.option(
    "--from-plan",
    "from_plan",
    type=int,
    help="A returned plan's ID: its revision workbook, with the last answers and comments.",
)
@click.option(
    "--plan",
    "plan_id",
    type=int,
    help="An approved plan's ID: with --period, its progress workbook for that period.",
)
@click.option("--period", help="With --plan: the reporting period (40, 80, 120 or EOY).")
@click.option(
    "--user", "user_email", help="With --from-plan or --plan: the user asking (access check)."
)
def generate(
    fy: str | None,
    lea_code: str | None,
    school_code: str | None,
    all_plans: bool,
    out: Path,
    workers: int | None,
    from_plan: int | None,
    plan_id: int | None,
    period: str | None,
    user_email: str | None,
) -> None:
    """Generate the pre-filled workbook of one plan, or (--all) of every plan of the year.

    --all writes OUT/FY2027/<lea>/district-<lea>.xlsx and OUT/FY2027/<lea>/school-<school>.xlsx.
    --from-plan ID writes the revision workbook of a plan (pre-filled with its last answers,
    reviewers' comments as cell notes). --plan ID --period CODE writes the progress workbook
    of an approved plan for a reporting period whose data is loaded.
    """
    if plan_id is not None or period is not None:
        if plan_id is None or period is None:
            _fail("give --plan ID and --period CODE together (the progress workbook)")
        if fy or lea_code or school_code or all_plans or from_plan is not None:
            _fail("--plan takes no --fy, --lea, --school, --all or --from-plan")
        click.echo(f"Wrote {_progress_workbook(_app(), plan_id, period, out, user_email)}")
        return
    if from_plan is not None:
        if fy or lea_code or school_code or all_plans:
            _fail("--from-plan takes no --fy, --lea, --school or --all")
        from aip_forms.cli.submissions import write_revision_workbook

        click.echo(f"Wrote {write_revision_workbook(from_plan, out, user_email)}")
        return
    if fy is None:
        _fail("give --fy (or --from-plan ID)")
    fiscal_year = _fiscal_year(fy)
    if all_plans == bool(lea_code) or (school_code and not lea_code):
        _fail("give --lea CODE (and --school CODE for a school plan), or --all")
    if all_plans:
        _generate_all(_app(), fiscal_year, out, workers)
    else:
        assert lea_code
        path = _generate_one(_app(), fiscal_year, lea_code, school_code, out, example=False)
        click.echo(f"Wrote {path}")


@workbook.command("example")
@fy_option
@lea_option
@school_option
@click.option("--out", required=True, type=click.Path(path_type=Path), help=".xlsx file or folder.")
def example(fy: str, lea_code: str | None, school_code: str | None, out: Path) -> None:
    """Generate a plan workbook filled with example answers (complete and valid)."""
    fiscal_year = _fiscal_year(fy)
    if not lea_code:
        _fail("give --lea CODE (and --school CODE for a school plan)")
    path = _generate_one(_app(), fiscal_year, lea_code, school_code, out, example=True)
    click.echo(f"Wrote {path}")


def _generate_one(
    app: App,
    fiscal_year: int,
    lea_code: str,
    school_code: str | None,
    out: Path,
    *,
    example: bool,
) -> Path:
    from aip_forms.data.queries import plan_data
    from workbook_templates.example import example_workbook
    from workbook_templates.generate import file_name, generate_one

    data = plan_data(app.engine, app.config, fiscal_year, lea_code, school_code)
    path = out if out.suffix.lower() == ".xlsx" else out / file_name(data)
    if not example:
        return generate_one(data, path, app.config, app.settings)
    wb = example_workbook(app.config.spec(data.kind), data, app.config, app.settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _progress_workbook(
    app: App, plan_id: int, period: str, out: Path, user_email: str | None
) -> Path:
    from aip_forms.services.progress import progress_workbook

    name, data = progress_workbook(
        plan_id,
        period,
        uow=app.uow,
        config=app.config,
        settings=app.settings,
        user_email=user_email,
    )
    path = out if out.suffix.lower() == ".xlsx" else out / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _generate_all(app: App, fiscal_year: int, out: Path, workers: int | None) -> None:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.table import Table

    from aip_forms.data.queries import all_plan_data
    from workbook_templates.generate import generate_all

    console = Console()
    plans = list(all_plan_data(app.engine, app.config, fiscal_year))
    if not plans:
        _fail(
            f"no plans for FY{fiscal_year}: no enrollment is loaded for that year (aip data load)"
        )
    columns = (
        TextColumn("Generating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    # No refresh thread: worker processes are forked while the bar is shown.
    with Progress(*columns, console=console, auto_refresh=False) as progress:
        task = progress.add_task("workbooks", total=len(plans))
        summary = generate_all(
            plans,
            out,
            app.config,
            app.settings,
            workers=workers,
            on_progress=lambda n: progress.update(task, advance=n, refresh=True),
        )
    table = Table(title=f"FY{fiscal_year} plan workbooks", show_edge=False)
    table.add_column("kind")
    table.add_column("workbooks", justify="right")
    for kind, count in sorted(summary.counts.items()):
        table.add_row(kind, f"{count:,}")
    table.add_row("failed", f"{len(summary.failures):,}")
    console.print(table)
    console.print(
        f"{summary.written:,} workbooks in {summary.seconds:.1f} s under {out / f'FY{fiscal_year}'}"
    )
    for failure in summary.failures[:20]:
        console.print(f"[red]failed[/red] {failure.entity}: {failure.error}")
    if summary.failures:
        sys.exit(1)
