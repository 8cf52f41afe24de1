"""`aip workbook validate FILE`: the validation report of a plan workbook.

Exit 0 when valid (warnings allowed), 1 when the plan has errors, 2 when the file is
unreadable, unsafe, or not our workbook.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from aip_forms.cli.common import app, problem_line
from validators.validate import Expectation, ValidationReport, validate_upload


def print_report(report: ValidationReport) -> None:
    for p in report.errors:
        click.echo(problem_line(p))
    for p in report.warnings:
        click.echo(problem_line(p))
    verdict = {
        "valid": "valid" + (" (final)" if report.final else " (draft)"),
        "invalid": "not valid",
        "unreadable": "not accepted",
    }[report.outcome]
    click.echo(
        f"{report.filename}: {verdict}; {len(report.errors)} error(s), "
        f"{len(report.warnings)} warning(s)",
        err=True,
    )


@click.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--final", is_flag=True, help="Check as a final submission (certification).")
@click.option(
    "--annotate",
    "annotate_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a copy with problem cells marked and a Problems sheet first.",
)
@click.option("--expect-lea", help="The LEA code this upload is for.")
@click.option("--expect-school", help="The school code this upload is for.")
@click.option("--expect-fy", type=int, help="The fiscal year this upload is for.")
def validate(
    file: Path,
    as_json: bool,
    final: bool,
    annotate_out: Path | None,
    expect_lea: str | None,
    expect_school: str | None,
    expect_fy: int | None,
) -> None:
    """Check a plan workbook: safe to open, ours and untampered, complete and sound."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        click.echo(f"{file}: cannot read the file: {exc.strerror}", err=True)
        sys.exit(2)
    core = app()
    report = validate_upload(
        data,
        key=core.settings.secret_key,
        config=core.config,
        filename=file.name,
        expect=Expectation(fiscal_year=expect_fy, lea_code=expect_lea, school_code=expect_school),
        final=final,
    )
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        print_report(report)
    if annotate_out is not None:
        if report.outcome == "unreadable":
            click.echo("No annotated copy: the file itself could not be accepted.", err=True)
        else:
            from validators.annotate import annotate
            from validators.intake import assert_openpyxl_safe

            assert_openpyxl_safe()
            annotate(data, report.problems, annotate_out)
            click.echo(f"Annotated copy: {annotate_out}", err=True)
    sys.exit(report.exit_code)
