"""`aip backup ...` and `aip retention ...`: back up, restore and verify the whole system;
list and purge plan records past their keeping period."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from aip_forms.cli.common import app


@click.group()
def backup() -> None:
    """Back up, restore and verify the database and every stored object."""


@backup.command("create")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="A new (or empty) folder for the backup.")  # fmt: skip
def create(out: Path) -> None:
    """Write a consistent backup: every table as JSON lines, every stored object, and a
    signed manifest of their SHA-256 checksums; the files encrypted when AIP_BACKUP_KEY is
    set."""
    from aip_forms.services.backup import create_backup

    core = app()
    summary = create_backup(
        out, engine=core.engine, store=core.store, secret_key=core.settings.secret_key,
        now=core.clock(), backup_key=core.settings.backup_key_bytes(),
    )  # fmt: skip
    rows = sum(summary.rows.values())
    click.echo(
        f"Backup written to {summary.path}: schema revision {summary.revision}, {rows} rows "
        f"in {len(summary.rows)} tables, {summary.objects} objects ({summary.object_bytes} bytes)."
    )
    if summary.encryption == "none":
        click.echo("Not encrypted: AIP_BACKUP_KEY is not set (`aip check-config` says how "
                   "to make one).")  # fmt: skip
    else:
        click.echo(f"Encrypted with AIP_BACKUP_KEY ({summary.encryption}); keep the key "
                   "apart from the backups: a restore needs it.")  # fmt: skip
    if summary.skipped:
        click.echo(f"{len(summary.skipped)} unrecorded object(s) left out (orphans or newer "
                   "than the database snapshot): see `aip storage verify`.")  # fmt: skip


@backup.command("restore")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--force", is_flag=True, help="Replace the rows of a database in use; keep other objects."
)
def restore(folder: Path, force: bool) -> None:
    """Rebuild the database and the store from a backup, all or nothing. Refuses a database
    or store that is in use unless --force."""
    from aip_forms.services.backup import restore_backup

    core = app()
    summary = restore_backup(
        folder, engine=core.engine, store=core.store, secret_key=core.settings.secret_key,
        force=force, backup_key=core.settings.backup_key_bytes(),
    )  # fmt: skip
    click.echo(
        f"Restored {sum(summary.rows.values())} rows and {summary.objects_written} objects "
        f"({summary.objects_present} already stored) from {folder}."
    )
    if summary.replaced_rows:
        click.echo(f"{summary.replaced_rows} rows that were in the database were replaced.")


@backup.command("verify")
@click.argument("folder", type=click.Path(path_type=Path))
def verify(folder: Path) -> None:
    """Check the live system against a backup: every record present and equal, every
    object's SHA-256 matching. Exit status 1 when anything differs."""
    from aip_forms.services.backup import verify_backup

    core = app()
    report = verify_backup(
        folder, engine=core.engine, store=core.store, secret_key=core.settings.secret_key,
        backup_key=core.settings.backup_key_bytes(),
    )  # fmt: skip
    for problem in report.problems:
        click.echo(problem)
    click.echo(
        f"{report.rows_checked} records and {report.objects_checked} objects checked: "
        f"{len(report.problems)} problem(s); {report.rows_added} record(s) newer than the backup."
    )
    if report.problems:
        sys.exit(1)


YEARS = click.option(
    "--older-than-years", "years", type=int, default=None,
    help="Keeping period in years (default: the program config's retention_years, 5).",
)  # fmt: skip


@click.group()
def retention() -> None:
    """Plan records past their keeping period: list them, purge them."""


@retention.command("list")
@YEARS
def list_(years: int | None) -> None:
    """List plans whose fiscal year ended more than the keeping period ago."""
    from aip_forms.services.retention import expired_plans, last_fiscal_year_past

    core = app()
    years = years if years is not None else core.config.retention_years
    today = core.clock().date()
    plans = expired_plans(core.uow, years=years, today=today)
    for plan in plans:
        click.echo(str(plan))
    newest = last_fiscal_year_past(years, today)
    click.echo(f"{len(plans)} plan(s) of FY{newest} or earlier past {years} years.")


@retention.command("purge")
@YEARS
@click.option("--yes", is_flag=True, help="Really remove them (required).")
def purge(years: int | None, yes: bool) -> None:
    """Remove plans past the keeping period, with their versions, reviews and stored
    files; writes an audit entry for each. Needs --yes."""
    from aip_forms.errors import InvalidInput
    from aip_forms.services.retention import expired_plans
    from aip_forms.services.retention import purge as purge_service

    core = app()
    years = years if years is not None else core.config.retention_years
    today = core.clock().date()
    if not yes:
        count = len(expired_plans(core.uow, years=years, today=today))
        raise InvalidInput(
            f"--yes is required: {count} plan(s) past {years} years would be removed "
            "(`aip retention list` shows them)"
        )
    report = purge_service(uow=core.uow, store=core.store, years=years, today=today,
                           clock=core.clock)  # fmt: skip
    for plan in report.purged:
        click.echo(f"removed  {plan}")
    for key in report.objects_kept:
        click.echo(f"kept     {key}: could not delete it (retained, or storage failing)")
    click.echo(
        f"{len(report.purged)} plan(s) removed, {report.objects_deleted} object(s) deleted, "
        f"{len(report.objects_kept)} kept."
    )
    if report.objects_kept:
        sys.exit(1)
