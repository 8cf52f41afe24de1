"""`aip mail ...` and `aip jobs dispatch`: what waits in the database for a service that
was down: mail the server did not take (`aip_forms.mail_outbox`) and jobs asked for while
the job queue (Redis) was down (`jobs.service.dispatch_waiting`). Both are run every
minute by `deploy/systemd/aip-outbox.timer`; running them twice sends nothing twice."""

from __future__ import annotations

import click

from aip_forms.cli.common import app


@click.group()
def mail() -> None:
    """Mail waiting for the server: list it, send it."""


@mail.command("send-queued")
@click.option("--all", "everything", is_flag=True, help="Also what is not due for a try yet.")
def send_queued(everything: bool) -> None:
    """Send the queued mail that is due, oldest first; exit 3 if the server still refuses."""
    from aip_forms.errors import Unavailable

    outbox = app().mail_outbox
    report = outbox.send_queued(due_only=not everything)
    click.echo(f"{report.sent} sent, {report.failed} refused, {report.waiting} still queued.")
    if report.failed:
        raise Unavailable(f"the queued mail stays queued: {report.reason}")


@mail.command("queued")
def queued() -> None:
    """List the mail not sent yet: id, tries, next try, subject, last error."""
    waiting = app().mail_outbox.waiting()
    for m in waiting:
        click.echo(
            f"{m.id:>6}  tries {m.attempts:<3} next {m.next_attempt_at:%Y-%m-%d %H:%M}  "
            f"{m.subject[:60]}  ({m.last_error[:80] or 'not tried yet'})"
        )
    click.echo(f"{len(waiting)} message(s) queued.")


@click.group()
def jobs() -> None:
    """Background jobs waiting for the job queue: hand them over."""


@jobs.command("dispatch")
def dispatch() -> None:
    """Hand the jobs asked for while Redis was down to the queue; exit 3 if it still is."""
    from aip_forms.errors import Unavailable
    from aip_forms.jobs.service import dispatch_waiting

    core = app()
    handed, waiting = dispatch_waiting(uow=core.uow, queue=core.queue)
    click.echo(f"{handed} job(s) handed to the queue, {waiting} still waiting.")
    if waiting:
        raise Unavailable("the job queue (Redis) is still unavailable; the jobs wait")
