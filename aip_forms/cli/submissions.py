"""`aip submit` and `aip submissions ...`: send a plan workbook, list, fetch and compare
versions, and download a plan's revision workbook.

Also the helpers the review, users and storage commands share: the services' collaborators
built from the environment (`Services`), and `service_errors`, which turns every expected
failure into one line on stderr and an exit status (2 refused or not found, 3 storage or
database failing), never a traceback.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from aip_forms.app import App
from aip_forms.cli.validate import problem_line
from aip_forms.domain import FiscalYear
from aip_forms.services.errors import ServiceError
from aip_forms.services.uow import UowFactory, sql_uow
from aip_forms.services.workflow import PlanStatus
from aip_forms.storage import ObjectStore, StorageError

# ---- shared by the submission, review, users and storage commands -----------------------


def fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


@dataclass
class Services:
    """The collaborators the services take, from the environment (`App.from_env`)."""

    app: App

    @classmethod
    def from_env(cls) -> Services:
        try:
            return cls(App.from_env())
        except (OSError, ValueError) as e:  # a broken AIP_* setting or program config file
            fail(str(e), 1)

    @cached_property
    def uow(self) -> UowFactory:
        engine = self.app.engine
        ctx = click.get_current_context(silent=True)
        if ctx is not None:  # close the pool's connections when the command ends
            ctx.call_on_close(engine.dispose)
        return sql_uow(engine)

    @cached_property
    def store(self) -> ObjectStore:
        store = self.app.storage
        close = getattr(store, "close", None)  # an S3 store's client
        ctx = click.get_current_context(silent=True)
        if ctx is not None and callable(close):
            ctx.call_on_close(close)
        return store


@contextlib.contextmanager
def service_errors() -> Iterator[None]:
    try:
        yield
    except ServiceError as e:
        fail(str(e), e.exit_code)
    except SQLAlchemyError as e:
        fail(f"database error: {getattr(e, 'orig', None) or e}", 3)
    except StorageError as e:
        fail(f"object storage error: {e}", 3)
    except (OSError, ValueError) as e:
        fail(str(e), 1)


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
    from aip_forms.services.submissions import workbook_validator

    try:
        data = file.read_bytes()
    except OSError as e:
        fail(f"cannot read {file}: {e.strerror or e}")
    services = Services.from_env()
    with service_errors():
        result = submit_service(
            data,
            user_email=user_email,
            uow=services.uow,
            store=services.store,
            validate=workbook_validator(services.app.settings, services.app.config),
            final=final,
            filename=file.name,
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
    if result.report is not None:
        for p in result.report.warnings:
            click.echo(problem_line(p))


# ---- aip submissions ---------------------------------------------------------------------


@click.group()
def submissions() -> None:
    """Submitted plan versions: list, get, diff, and the revision workbook."""


def _fiscal_year(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return FiscalYear.parse(value).year
    except ValueError as e:
        fail(str(e))


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
    from aip_forms.services.submissions import list_submissions

    fiscal_year = _fiscal_year(fy)
    services = Services.from_env()
    with service_errors():
        rows = list_submissions(
            uow=services.uow,
            user_email=user_email,
            fiscal_year=fiscal_year,
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

    services = Services.from_env()
    with service_errors():
        view, data = get_submission(
            submission_id, uow=services.uow, store=services.store, user_email=user_email
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
    from aip_forms.services.diff import diff_submissions

    services = Services.from_env()
    with service_errors():
        result = diff_submissions(first_id, second_id, uow=services.uow, user_email=user_email)
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
    written to `out` (a .xlsx file, or a folder for the default name). Exits on failure."""
    from aip_forms.data.queries import UnknownEntity, plan_data
    from aip_forms.plan_data import PlanData
    from aip_forms.services.access import PlanRef
    from aip_forms.services.revision import revision_workbook

    services = Services.from_env()
    app = services.app

    def data_of(ref: PlanRef) -> PlanData:
        return plan_data(app.engine, app.config, ref.fiscal_year, ref.lea_code, ref.school_code)

    with service_errors():
        try:
            result = revision_workbook(
                plan_id,
                uow=services.uow,
                plan_data=data_of,
                config=app.config,
                settings=app.settings,
                user_email=user_email,
            )
        except UnknownEntity as e:
            fail(str(e))
        path = out if out.suffix.lower() == ".xlsx" else out / result.filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(result.data)
    return path
