"""The `aip` command line: thin click commands over the services.

Each area has its own module (data, workbook, ...), loaded only when its command runs
(click's lazy group), so `aip --help` and `aip workbook validate` start fast. Every command
builds its collaborators with `common.app()` (the composition root, closed when the command
ends), and every failure reaches the one boundary here, which prints one line and exits
with the status `aip_forms.errors.OUTCOMES` gives it: never a traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from aip_forms import __version__


class LazyGroup(click.Group):
    """A group whose subcommands are imported when used: `lazy` maps a name to
    ("module:attribute", short help), so that the group's --help imports nothing."""

    def __init__(
        self, *args: Any, lazy: dict[str, tuple[str, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module, _, attribute = self.lazy[cmd_name][0].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy[cmd_name][0]} is not a click command")
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.lazy[name][1]) for name in sorted(self.lazy)]
        rows += [
            (name, command.get_short_help_str(formatter.width))
            for name, command in sorted(self.commands.items())
            if name not in self.lazy and not command.hidden
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(sorted(rows))


class Boundary(LazyGroup):
    """The top-level group: turns every exception a command raises into one line on stderr
    and the exit status of its kind (`aip_forms.errors`)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            from aip_forms.errors import one_line

            outcome, message = one_line(error)
            click.echo(f"Error: {message}", err=True)
            sys.exit(outcome.exit_code)


COMMANDS = {
    "data": ("aip_forms.cli.data:data", "Reference data: enrollment, chronic absence, the..."),
    "workbook": ("aip_forms.cli.workbook:workbook", "Plan workbooks: generate, example, validate."),
    "users": ("aip_forms.cli.users:users", "Users and roles (district and school..."),
    "submit": ("aip_forms.cli.submissions:submit", "Validate a plan workbook, store it and..."),
    "submissions": (
        "aip_forms.cli.submissions:submissions",
        "Submitted plan versions: list, get, diff, and the...",
    ),
    "review": ("aip_forms.cli.review:review", "Review submitted plans: approve, return, comment."),
    "storage": ("aip_forms.cli.storage:storage", "Object storage: verify every stored..."),
    "render": ("aip_forms.cli.render:render", "Print a plan: a Word or PDF document of a plan..."),
    "compile": ("aip_forms.cli.render:compile_", "Compile plans: a district packet (PDF) or..."),
    "report": ("aip_forms.cli.report:report", "Public reports: the end-of-year report of..."),
    "serve": ("aip_forms.cli.serve:serve", "Serve the web portal (gunicorn) until stopped..."),
    "reminders": (
        "aip_forms.cli.reminders:reminders",
        "Deadline reminders and overdue notices by email.",
    ),
    "worker": (
        "aip_forms.cli.worker:worker",
        "Run background jobs (district packets, statewide...",
    ),
    "backup": ("aip_forms.cli.backup:backup", "Back up, restore and verify the database and..."),
    "check-config": (
        "aip_forms.cli.check_config:check_config",
        "Check every setting: database, storage, Redis,...",
    ),
    "retention": (
        "aip_forms.cli.backup:retention",
        "Plan records past their keeping period: list...",
    ),
    "mail": ("aip_forms.cli.outbox:mail", "Mail waiting for the server: list it, send it."),
    "jobs": ("aip_forms.cli.outbox:jobs", "Background jobs waiting for the job queue: hand..."),
}


@click.group(
    cls=Boundary,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="aip")
def cli() -> None:
    """aip-forms: attendance improvement plans over Excel workbooks (the program profile in
    AIP_PROGRAM)."""


def main() -> None:
    cli(prog_name="aip")
