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

Exit codes: 0 done; otherwise the status of the failure's kind (`aip_forms.errors`): 2
refused (options, an unreadable workbook, data or plans that are not there, a plan the user
may not read), 3 unavailable (database, storage, LibreOffice).
"""

from __future__ import annotations

from pathlib import Path

import click

from aip_forms.cli.common import app as _app
from aip_forms.cli.common import fail as _fail
from aip_forms.cli.common import fiscal_year as _fiscal_year
from aip_forms.cli.common import read_file

SECTIONS_HELP = (
    "Comma-separated sections for a custom report (default: the full report). Keys: the "
    "form's sections (contact, school_targets, demographics, grades, root_cause, tiers, "
    "certification, progress), review (review status and comments), targets (every "
    "targets section) and charts (charts inside the chosen sections)."
)


def _warn(message: str) -> None:
    click.echo(f"Warning: {message}", err=True)


def _write(out: Path, content: bytes) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(content)
    return out


user_option = click.option(
    "--user",
    "user_email",
    help="Stored plans only: act as this user (only the plans their roles let them read).",
)


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

    from aip_forms.services import documents

    keys = documents.check_sections(sections)
    core = _app()
    converter = core.converter if fmt == "pdf" else None
    if plan_id is not None:
        rendered = documents.render_stored(
            plan_id,
            uow=core.uow,
            store=core.store,
            engine=core.engine,
            config=core.config,
            key=core.settings.secret_key,
            fmt=fmt,
            sections=keys,
            user_email=user_email,
            version=version,
            converter=converter,
        )
    else:
        assert file is not None
        rendered = documents.render_workbook(
            read_file(file),
            filename=file.name,
            engine=core.engine,
            config=core.config,
            key=core.settings.secret_key,
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
    click.echo(f"Wrote {_write(target, rendered.content)}")


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
    """Compile plans: a district packet (PDF) or the statewide summary (.xlsx),
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

    from aip_forms.services import documents, plan_sources

    documents.check_sections(sections)
    core = _app()
    if examples:
        source = plan_sources.examples_source(core.config, core.settings)
    elif from_dir is not None:
        source = plan_sources.folder_source(
            from_dir, core.config, core.settings.secret_key, fiscal_year, lea_code, _warn
        )
    else:
        from aip_forms.services.stored_plans import stored_source

        source = stored_source(
            uow=core.uow,
            store=core.store,
            key=core.settings.secret_key,
            config=core.config,
            fiscal_year=fiscal_year,
            user_email=user_email,
            on_skip=_warn,
        )
    if statewide:
        path, listed, received = documents.compile_statewide(
            core.engine, core.config, fiscal_year, source, out
        )
        click.echo(f"Wrote {path}: {listed} plans, {received} received")
        return
    assert lea_code is not None
    result = documents.compile_lea(
        core.engine,
        core.config,
        fiscal_year,
        lea_code,
        source,
        out,
        converter=core.converter,
        sections=sections,
        on_missing=_warn,
        # stored plans' charts were kept at submit; examples and folders keep nothing
        chart_store=core.store if not examples and from_dir is None else None,
    )
    click.echo(f"Wrote {result.path}: {len(result.entries)} plans, {result.pages} pages")
