"""`aip report`: public reports.

    aip report eoy --fy 2027 (--lea CODE | --statewide) --format pdf|xlsx --out PATH

The end-of-year report (NMSA 22-12A-7): every plan's targets against its results (the
end-of-year rates, or the latest period loaded), by subgroup and grade, with the plans'
status; small groups hidden as in every shared document
(`aip_forms.services.eoy_report`).

Exit codes: 0 written; 2 refused (options, an unknown LEA, no data for the year, an out
path that cannot be written); 3 unavailable (database, LibreOffice).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from aip_forms.cli.common import app as _app
from aip_forms.cli.common import fail as _fail
from aip_forms.cli.common import fiscal_year as _fiscal_year


@click.group("report")
def report() -> None:
    """Public reports: the end-of-year report of targets against results."""


def _check_out(out: Path, fmt: str) -> None:
    """Refuse, before any work, an out path that cannot take the file."""
    if out.suffix.lower() != f".{fmt}":
        _fail(f"--out must be a .{fmt} file for --format {fmt} (got {out})")
    if out.is_dir():
        _fail(f"--out {out} is a folder; give a file name ending in .{fmt}")
    folder = out.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        _fail(f"cannot write {out}: {folder} is not a folder this user may write in")
    if out.exists() and not os.access(out, os.W_OK):
        _fail(f"cannot write {out}: the file exists and is read-only")


@report.command("eoy")
@click.option("--fy", "fy", required=True, help="Fiscal year: 2027 or FY2027.")
@click.option("--lea", "lea_code", help="One LEA's report (its district and school plans).")
@click.option("--statewide", is_flag=True, help="The statewide report (every LEA).")
@click.option(
    "--format", "fmt", required=True, type=click.Choice(["pdf", "xlsx"]), help="pdf or xlsx."
)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="The file to write.")
def eoy(fy: str, lea_code: str | None, statewide: bool, fmt: str, out: Path) -> None:
    """The end-of-year report: plan targets against results, by subgroup and grade."""
    fiscal_year = _fiscal_year(fy)
    if bool(lea_code) == statewide:
        _fail("give --lea CODE (one LEA) or --statewide (every LEA), one of them")
    _check_out(out, fmt)

    from aip_forms.services.eoy_report import eoy_report, report_document

    core = _app()
    found = eoy_report(
        engine=core.engine,
        uow=core.uow,
        config=core.config,
        fiscal_year=fiscal_year,
        lea_code=lea_code,
    )
    content = report_document(found, fmt, core.converter if fmt == "pdf" else None)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(content)
    except OSError as e:
        _fail(f"cannot write {out}: {e.strerror or e}")
    plans = len(found.plans)
    click.echo(f"Wrote {out}: {found.scope_name}, {plans} plans, results {found.results_label}")
