"""`aip render` and `aip compile`: plan documents (DOCX, PDF) and compiled documents.

    aip render FILE.xlsx --format pdf [--sections contact,tiers,charts] --out plan.pdf
    aip render --plan ID [--version N] [--user EMAIL] --format docx --out plan.docx
    aip compile --fy 2027 --lea CODE [--from DIR | --examples] [--user EMAIL] --out packet.pdf
    aip compile --fy 2027 --statewide [--from DIR | --examples] [--user EMAIL] --out summary.xlsx

`--plan ID` is a stored plan's id (`aip submissions list`, column "plan", as for `aip
workbook generate --from-plan`): its latest version is printed, with its review status
and the reviewers' comments, or the version `--version N` names. `aip compile` takes each
plan's latest stored version unless it is given a folder of workbooks or told to use
examples. `--user` acts as that user (only the plans their roles let them read); without
it the operator reads everything.

Exit codes: 0 done, 1 a failure while working (database, storage, LibreOffice, writing), 2
bad input (options, an unreadable workbook, data or plans that are not there, a plan the
user may not read).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from aip_forms.app import App
from aip_forms.cli.common import app_from_env as _app
from aip_forms.cli.common import fail as _fail
from aip_forms.cli.common import fiscal_year as _fiscal_year

if TYPE_CHECKING:
    from aip_forms.cli.submissions import Services
    from exports.pdf import PdfConverter

T = TypeVar("T")

SECTIONS_HELP = (
    "Comma-separated sections for a custom report (default: the full report). Keys: the "
    "form's sections (contact, school_targets, demographics, grades, root_cause, tiers, "
    "certification, progress), review (review status and comments), targets (every "
    "targets section) and charts (charts inside the chosen sections)."
)


def _warn(message: str) -> None:
    click.echo(f"Warning: {message}", err=True)


def _converter() -> PdfConverter:
    from exports.office import default_converter

    return default_converter()


def _run(work: Callable[[], T]) -> T:
    """Run `work`, turning every failure into a message and an exit code."""
    from sqlalchemy.exc import SQLAlchemyError

    from aip_forms.services.errors import ServiceError
    from aip_forms.storage import StorageError
    from exports.layout import UnknownSection
    from exports.packet import PacketError
    from exports.pdf import ConversionFailed, ConverterMissing
    from exports.render import PlanMismatch
    from exports.service import RenderRefused

    try:
        return work()
    except (RenderRefused, UnknownSection, PacketError, PlanMismatch) as e:
        _fail(str(e), 2)
    except ServiceError as e:  # from the store: refused or not found (2), failing (1)
        _fail(str(e), 2 if e.exit_code == 2 else 1)
    except StorageError as e:
        _fail(f"object storage error: {e}", 1)
    except ConverterMissing as e:
        _fail(str(e), 1)
    except ConversionFailed as e:
        _fail(f"PDF conversion failed: {e}", 1)
    except SQLAlchemyError as e:
        _fail(f"database error: {getattr(e, 'orig', None) or e}", 1)
    except OSError as e:
        _fail(f"{e.filename or 'file'}: {e.strerror or e}", 1)
    except Exception as e:  # a bug: still a message, not a traceback
        _fail(f"unexpected {type(e).__name__}: {e} (please report this)", 3)


def _write(out: Path, content: bytes) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(content)
    return out


user_option = click.option(
    "--user",
    "user_email",
    help="Stored plans only: act as this user (only the plans their roles let them read).",
)


def _services(app: App) -> Services:
    from aip_forms.cli.submissions import Services

    return Services(app)


@click.command("render")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--plan",
    "plan_id",
    type=int,
    help="Render a stored plan (its id in `aip submissions list`) instead of a file.",
)
@click.option(
    "--version", "version", type=int, help="With --plan: this version (default: the latest)."
)
@user_option
@click.option(
    "--format", "fmt", type=click.Choice(["docx", "pdf"]), help="Default: --out's suffix, or pdf."
)
@click.option("--sections", help=SECTIONS_HELP)
@click.option(
    "--out", required=True, type=click.Path(path_type=Path), help="The file (or a folder)."
)
def render(
    file: Path | None,
    plan_id: int | None,
    version: int | None,
    user_email: str | None,
    fmt: str | None,
    sections: str | None,
    out: Path,
) -> None:
    """Print a plan: a Word or PDF document of a plan workbook (validated first), or of a
    stored plan with its review status and comments."""
    if (file is None) == (plan_id is None):
        _fail("give a plan workbook FILE or --plan ID (one of them)")
    if plan_id is None and (version is not None or user_email is not None):
        _fail("--version and --user go with --plan ID")
    suffix = out.suffix.lower().lstrip(".")
    fmt = fmt or (suffix if suffix in ("docx", "pdf") else "pdf")
    if suffix in ("docx", "pdf") and suffix != fmt:
        _fail(f"--out ends in .{suffix} but --format is {fmt}")

    def work() -> Path:
        from exports import service

        keys = service.check_sections(sections)
        app = _app()
        converter = _converter() if fmt == "pdf" else None
        if plan_id is not None:
            services = _services(app)
            rendered = service.render_stored(
                plan_id,
                uow=services.uow,
                store=services.store,
                engine=app.engine,
                config=app.config,
                key=app.settings.secret_key,
                fmt=fmt,
                sections=keys,
                user_email=user_email,
                version=version,
                converter=converter,
            )
        else:
            assert file is not None
            try:
                workbook = file.read_bytes()
            except OSError as e:
                _fail(f"{file}: cannot read the file: {e.strerror}")
            rendered = service.render_workbook(
                workbook,
                filename=file.name,
                engine=app.engine,
                config=app.config,
                key=app.settings.secret_key,
                fmt=fmt,
                sections=",".join(keys) if keys else None,
                converter=converter,
            )
            report = rendered.report
            if report is not None and not report.valid:
                _warn(
                    f"{file.name} has {len(report.errors)} problem(s) (see `aip workbook "
                    "validate`); the plan is printed as it stands, marked as a draft."
                )
        target = out / rendered.file_name if out.suffix.lower() != f".{fmt}" else out
        return _write(target, rendered.content)

    path = _run(work)
    click.echo(f"Wrote {path}")


@click.command("compile")
@click.option("--fy", "fy", required=True, help="Fiscal year: 2027 or FY2027.")
@click.option("--lea", "lea_code", help="LEA code: the district packet (PDF).")
@click.option("--statewide", is_flag=True, help="The statewide summary workbook (.xlsx).")
@click.option(
    "--from",
    "from_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A folder of plan workbooks: the newest valid one of each plan is used "
    "(default: each plan's latest version in the submissions store).",
)
@click.option("--examples", is_flag=True, help="Use generated example plans.")
@user_option
@click.option("--sections", help="Packet only: " + SECTIONS_HELP)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def compile_(
    fy: str,
    lea_code: str | None,
    statewide: bool,
    from_dir: Path | None,
    examples: bool,
    user_email: str | None,
    sections: str | None,
    out: Path,
) -> None:
    """Compile plans for PED: a district packet (PDF) or the statewide summary (.xlsx),
    from the plans stored (each plan's latest version), a folder, or examples."""
    fiscal_year = _fiscal_year(fy)
    if bool(lea_code) == statewide:
        _fail("give --lea CODE (a district packet) or --statewide (the summary workbook)")
    if from_dir is not None and examples:
        _fail("give --from DIR or --examples, not both")
    if user_email is not None and (from_dir is not None or examples):
        _fail("--user goes with stored plans, not with --from DIR or --examples")
    expected = ".xlsx" if statewide else ".pdf"
    if out.suffix.lower() != expected:
        _fail(f"--out must be a {expected} file")
    if statewide and sections:
        _fail("--sections applies to packets, not to the statewide summary")

    def work() -> str:
        from exports import service

        service.check_sections(sections)
        app = _app()
        if examples:
            source = service.examples_source(app.config, app.settings)
        elif from_dir is not None:
            source = service.folder_source(
                from_dir, app.config, app.settings.secret_key, fiscal_year, lea_code, _warn
            )
        else:
            from exports.stored import stored_source

            services = _services(app)
            source = stored_source(
                uow=services.uow,
                store=services.store,
                key=app.settings.secret_key,
                config=app.config,
                fiscal_year=fiscal_year,
                user_email=user_email,
                on_skip=_warn,
            )
        if statewide:
            path, listed, received = service.compile_statewide(
                app.engine, app.config, fiscal_year, source, out
            )
            return f"Wrote {path}: {listed} plans, {received} received"
        assert lea_code is not None
        result = service.compile_lea(
            app.engine,
            app.config,
            fiscal_year,
            lea_code,
            source,
            out,
            converter=_converter(),
            sections=sections,
            on_missing=_warn,
        )
        return f"Wrote {result.path}: {len(result.entries)} plans, {result.pages} pages"

    click.echo(_run(work))
