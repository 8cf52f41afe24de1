"""`aip data ...`: sample data and loading reference data."""

from __future__ import annotations

import click


@click.group()
def data() -> None:
    """Reference data: enrollment, chronic absence, the student extract."""
