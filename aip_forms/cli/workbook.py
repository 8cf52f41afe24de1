"""`aip workbook ...`: generate plan workbooks (and, later, validate them)."""

from __future__ import annotations

import click


@click.group()
def workbook() -> None:
    """Plan workbooks: generate, example."""
