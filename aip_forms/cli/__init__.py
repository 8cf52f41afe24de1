"""The `aip` command line: thin click commands over the services.

Each area has its own module (data, workbook, ...); this module only assembles them and
turns expected failures into a message and an exit code, never a traceback.
"""

from __future__ import annotations

import click

from aip_forms import __version__
from aip_forms.cli.data import data
from aip_forms.cli.render import compile_, render
from aip_forms.cli.review import review
from aip_forms.cli.storage import storage
from aip_forms.cli.submissions import submissions, submit
from aip_forms.cli.users import users
from aip_forms.cli.validate import validate
from aip_forms.cli.workbook import workbook


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aip")
def cli() -> None:
    """aip-forms: New Mexico Attendance Improvement Plans over Excel workbooks."""


cli.add_command(data)
workbook.add_command(validate)
cli.add_command(workbook)
cli.add_command(users)
cli.add_command(submit)
cli.add_command(submissions)
cli.add_command(review)
cli.add_command(storage)
cli.add_command(render)
cli.add_command(compile_, "compile")


def main() -> None:
    cli(prog_name="aip")
