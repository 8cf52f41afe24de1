"""`aip check-config`: every AIP_* setting and every dependency it names, checked once, with
a line for each; run it before starting the portal or a worker."""

from __future__ import annotations

import os
import sys

import click


@click.command("check-config")
@click.option(
    "--production/--not-production",
    default=None,
    help="Require production secrets and TLS (default: when AIP_BASE_URL is https).",
)
@click.option("--no-write", is_flag=True,
              help="Do not write a probe object to the store (only list it).")  # fmt: skip
def check_config(production: bool | None, no_write: bool) -> None:
    """Check every setting: database, storage, Redis, SMTP, LibreOffice, secrets.

    Exit status 0 when all is well (warnings allowed), 2 when a setting is wrong, 3 when
    a dependency cannot be reached."""
    from aip_forms.services.health import check_config as check
    from aip_forms.services.health import exit_code

    checks = check(os.environ, production=production, write=not no_write)
    for line in checks:
        click.echo(str(line))
    failures = [c for c in checks if c.status == "fail"]
    warnings = sum(c.status == "warn" for c in checks)
    click.echo(f"{len(checks)} checks: {len(failures)} failed, {warnings} warning(s).")
    sys.exit(exit_code(checks))
