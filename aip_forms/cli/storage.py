"""`aip storage ...`: check stored workbooks against the records, clear orphans."""

from __future__ import annotations

import sys

import click

from aip_forms.cli.common import app


@click.group()
def storage() -> None:
    """Object storage: verify every stored workbook, clear orphans."""


@storage.command("verify")
@click.option("--fix", is_flag=True, help="Then delete the orphans (as `aip storage reconcile`).")
def verify(fix: bool) -> None:
    """Re-read and re-hash every recorded object; list missing, corrupt and orphaned ones.

    Exit status 1 when any is found (after --fix: when any remains).
    """
    from aip_forms.services.integrity import reconcile
    from aip_forms.services.integrity import verify as verify_service

    core = app()
    report = verify_service(uow=core.uow, store=core.store)
    for problem in report.problems:
        click.echo(str(problem))
    click.echo(
        f"{report.records} recorded, {report.ok} ok, {len(report.of_kind('missing'))} missing, "
        f"{len(report.of_kind('corrupt'))} corrupt, {len(report.of_kind('orphan'))} orphaned "
        f"({report.other_objects} other objects not checked)."
    )
    remaining = len(report.problems)
    if fix and report.of_kind("orphan"):
        fixed = reconcile(uow=core.uow, store=core.store, clock=core.clock)
        for key in fixed.deleted:
            click.echo(f"deleted  {key}")
        remaining -= len(fixed.deleted)
    if remaining:
        sys.exit(1)


@storage.command("reconcile")
def reconcile_() -> None:
    """Delete orphaned objects: stored by a submit whose record was never committed."""
    from aip_forms.services.integrity import reconcile

    core = app()
    report = reconcile(uow=core.uow, store=core.store, clock=core.clock)
    for key in report.deleted:
        click.echo(f"deleted  {key}")
    for problem in report.kept:
        click.echo(f"kept     {problem.key}: could not delete it (retained, or storage failing)")
    click.echo(f"{len(report.deleted)} orphan(s) deleted, {len(report.kept)} kept.")
    if report.kept:
        sys.exit(1)
