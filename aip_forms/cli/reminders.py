"""`aip reminders send`: mail deadline reminders, overdue notices and weekly digests
(`aip_forms.services.reminders`); run it daily from a scheduler: running it twice sends
nobody a second copy."""

from __future__ import annotations

import datetime as dt

import click

from aip_forms.cli.common import app, fail


@click.group()
def reminders() -> None:
    """Deadline reminders and overdue notices by email."""


@reminders.command("send")
@click.option("--today", help="The day to send for, YYYY-MM-DD (default: today).")
def send(today: str | None) -> None:
    """Send the reminders, overdue notices and digests due today, each once."""
    from aip_forms.services.reminders import send_reminders

    core = app()
    if today is None:
        day = core.clock().date()
    else:
        try:
            day = dt.date.fromisoformat(today)
        except ValueError:
            fail(f"--today: not a date YYYY-MM-DD: {today!r}")
    report = send_reminders(
        uow=core.uow, config=core.config, mailer=core.mailer, today=day, clock=core.clock
    )
    for recipient, kind, subject in report.sent:
        click.echo(f"sent {kind:<12} {recipient}  {subject}")
    click.echo(f"{len(report.sent)} mail(s) sent for {day}; {report.already} already sent before.")
