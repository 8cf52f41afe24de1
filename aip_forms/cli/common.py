"""What every `aip` command shares: failing with a message and an exit code (never a
traceback), parsing a fiscal year, and building the App from the environment."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from aip_forms.app import App
from aip_forms.domain import FiscalYear


def fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def fiscal_year(value: str) -> int:
    try:
        return FiscalYear.parse(value).year
    except ValueError as e:
        fail(str(e))


def app_from_env() -> App:
    try:
        return App.from_env()
    except (OSError, ValueError) as e:  # a broken AIP_* setting or program config file
        fail(str(e), 1)
