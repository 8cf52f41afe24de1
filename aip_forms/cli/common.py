"""What every `aip` command shares: the App for this command (built by the composition
root, closed when the command ends), refusing bad options with a message, parsing a
fiscal year, and printing a validation problem."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, NoReturn

import click

if TYPE_CHECKING:
    from aip_forms.bootstrap import App
    from validators.problems import Problem


def fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def fiscal_year(value: str) -> int:
    from aip_forms.domain import FiscalYear

    try:
        return FiscalYear.parse(value).year
    except ValueError as e:
        fail(str(e))


def optional_fiscal_year(value: str | None) -> int | None:
    return None if value is None else fiscal_year(value)


def app() -> App:
    """The command's App: one per command, closed when the command ends. Configuration
    errors reach the CLI's boundary like any other."""
    from aip_forms.bootstrap import App

    ctx = click.get_current_context()
    found = ctx.meta.get("aip.app")
    if found is None:
        found = App.from_env()
        ctx.meta["aip.app"] = found
        ctx.call_on_close(found.close)
    return found


def read_file(path: click.Path | object) -> bytes:
    """The bytes of a file the user named; a missing or unreadable one is refused (2)."""
    from pathlib import Path

    p = Path(str(path))
    try:
        return p.read_bytes()
    except OSError as e:
        fail(f"cannot read {p}: {e.strerror or e}")


def problem_line(p: Problem) -> str:
    where = f"{p.sheet}!{p.cell}" if p.sheet and p.cell else (p.sheet or "(file)")
    return f"{where}  {p.code}  {p.message}"
