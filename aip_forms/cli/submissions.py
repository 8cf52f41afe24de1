"""`aip submit` and `aip submissions ...`: send a plan workbook, list, fetch and compare
versions, and download a plan's revision workbook.

Failures (refused, not found, database or storage failing) reach the CLI's one boundary
(`aip_forms.cli.Boundary`), which prints one line and exits with the status of its kind.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from aip_forms.cli.common import app, fail, optional_fiscal_year, problem_line, read_file
from aip_forms.services.workflow import PlanStatus

# ---- aip submit ----------------------------------------------------------------------------


@click.command("submit")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--user", "user_email", required=True, help="Email of the coordinator submitting.")
@click.option("--final", is_flag=True, help="Submit for review (the plan is certified).")
def submit(file: Path, user_email: str, final: bool) -> None:
    """Validate a plan workbook, store it and record it as the plan's next version.

    Without --final the upload is a draft; with it the plan goes to review. Exit status: 0
    stored (or identical to the latest version), 1 invalid, 2 unreadable or refused, 3
    storage or database failing (nothing recorded; try again).
    """
    from aip_forms.services.submissions import submit as submit_service

    data = read_file(file)
    core = app()
    result = submit_service(
        data,
        user_email=user_email,
        uow=core.uow,
        store=core.store,
        validate=core.validator,
        final=final,
        filename=file.name,
        clock=core.clock,
    )
    if result.report is not None and not result.ok:
        for p in result.report.problems:
            click.echo(problem_line(p), err=True)
    if not result.ok:
        fail(result.message, result.exit_code)
    click.echo(result.message[:1].upper() + result.message[1:] + ".")
    if result.submission:
        s = result.submission
        click.echo(f"Submission {s.id}: plan {s.plan.id}, version {s.version}, {s.status}.")
        if result.outcome == "stored":  # its documents then read the charts (issue 13)
            from aip_forms.services.documents import charts_after_submit

            charts_after_submit(
                s.plan.id,
                s.version,
                uow=core.uow,
                store=core.store,
                engine=core.engine,
                config=core.config,
                key=core.settings.secret_key,
            )
    if result.report is not None:
        for p in result.report.warnings:
            click.echo(problem_line(p))


# ---- aip submissions ---------------------------------------------------------------------


@click.group()
def submissions() -> None:
    """Submitted plan versions: list, get, diff, and the revision workbook."""


user_option = click.option(
    "--user", "user_email", help="Act as this user (only plans their roles reach)."
)


LIST_COLUMNS = (
    "id",
    "plan",
    "FY",
    "kind",
    "LEA",
    "school",
    "v",
    "version",
    "plan status",
    "uploaded by",
    "uploaded at (UTC)",
    "bytes",
)


@submissions.command("list")
@click.option("--fy", help="Fiscal year: 2027 or FY2027.")
@click.option("--lea", "lea_code", help="LEA code.")
@click.option(
    "--status",
    type=click.Choice([s.value for s in PlanStatus]),
    help="The plan's status.",
)
@user_option
def list_(fy: str | None, lea_code: str | None, status: str | None, user_email: str | None) -> None:
    """Every version of every plan, oldest plan first."""
    from rich.console import Console
    from rich.table import Table

    from aip_forms.services.submissions import list_submissions

    rows = list_submissions(
        uow=app().uow,
        user_email=user_email,
        fiscal_year=optional_fiscal_year(fy),
        lea_code=lea_code,
        status=status,
    )
    table = Table(show_edge=False)
    for name in LIST_COLUMNS:
        table.add_column(name, justify="right" if name in ("id", "plan", "v", "bytes") else "left")
    for s in rows:
        ref = s.plan.ref
        table.add_row(
            str(s.id),
            str(s.plan.id),
            str(ref.fiscal_year),
            ref.kind.value,
            ref.lea_code,
            ref.school_code or "",
            str(s.version),
            s.status,
            s.plan.status.value,
            s.uploaded_by,
            f"{s.uploaded_at:%Y-%m-%d %H:%M}",
            f"{s.size:,}",
        )
    Console(width=160).print(table)
    click.echo(f"{len(rows)} submission{'s' if len(rows) != 1 else ''}.")


@submissions.command("get")
@click.argument("submission_id", type=int)
@click.option("--out", required=True, type=click.Path(path_type=Path, dir_okay=False))
@user_option
def get(submission_id: int, out: Path, user_email: str | None) -> None:
    """Write a submitted workbook to a file (its checksum verified)."""
    from aip_forms.services.submissions import get_submission

    core = app()
    view, data = get_submission(
        submission_id, uow=core.uow, store=core.store, user_email=user_email
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    click.echo(f"Wrote {out} (version {view.version} of plan {view.plan.id}, sha256 {view.sha256})")


@submissions.command("diff")
@click.argument("first_id", type=int)
@click.argument("second_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
@user_option
def diff(first_id: int, second_id: int, as_json: bool, user_email: str | None) -> None:
    """Field-by-field changes from submission FIRST_ID to SECOND_ID (one plan's versions)."""
    from rich.console import Console
    from rich.table import Table

    from aip_forms.services.diff import diff_submissions

    core = app()
    result = diff_submissions(
        first_id, second_id, uow=core.uow, config=core.config, user_email=user_email
    )
    if as_json:
        click.echo(json.dumps(result.to_dict(), default=str, indent=1))
        return
    title = (
        f"Plan {result.before.plan.id}: version {result.before.version} -> "
        f"{result.after.version}, {len(result.changes)} change(s)"
    )
    table = Table(title=title, show_edge=False)
    for name in ("field", "cell", "before", "after"):
        table.add_column(name, overflow="fold")
    for c in result.changes:
        where = f"{c.sheet}!{c.cell}" if c.cell else c.sheet
        table.add_row(c.label, where, _show(c.before), _show(c.after))
    Console(width=160).print(table)


def _show(value: object) -> str:
    return "(empty)" if value is None else str(value)


@submissions.command("workbook")
@click.argument("plan_id", type=int)
@click.option("--out", required=True, type=click.Path(path_type=Path))
@user_option
def workbook(plan_id: int, out: Path, user_email: str | None) -> None:
    """A fresh workbook of the plan with its last answers and the reviewer's comments."""
    path = write_revision_workbook(plan_id, out, user_email)
    click.echo(f"Wrote {path}")


def write_revision_workbook(plan_id: int, out: Path, user_email: str | None = None) -> Path:
    """`aip workbook generate --from-plan ID --out FILE`: the revision workbook of a plan,
    written to `out` (a .xlsx file, or a folder for the default name)."""
    from aip_forms.data.queries import plan_data
    from aip_forms.issued_data import PlanData
    from aip_forms.services.access import PlanRef
    from aip_forms.services.revision import revision_workbook

    core = app()

    def data_of(ref: PlanRef) -> PlanData:
        return plan_data(core.engine, core.config, ref.fiscal_year, ref.lea_code, ref.school_code)

    result = revision_workbook(
        plan_id,
        uow=core.uow,
        plan_data=data_of,
        config=core.config,
        settings=core.settings,
        user_email=user_email,
    )
    path = out if out.suffix.lower() == ".xlsx" else out / result.filename
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(result.data)
    return path
