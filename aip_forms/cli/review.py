"""`aip review ...`: approve or return the version under review, or comment on it.

School plans are reviewed by their district coordinator, district plans by the PED
coordinator. ID is the submission (version) as `aip submissions list` shows it.
"""

from __future__ import annotations

import click

from aip_forms.cli.common import app
from aip_forms.services.workflow import Decision


@click.group()
def review() -> None:
    """Review submitted plans: approve, return, comment."""


def _options(f: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(
        (
            click.argument("submission_id", type=int),
            click.option("--user", "user_email", required=True, help="Email of the reviewer."),
            click.option("--comment", help="A comment (required to return, unless given before)."),
            click.option("--cell", help="The cell it is about: 'Sheet name'!C5."),
            click.option("--section", help="The section it is about: key, step or sheet."),
        )
    ):
        f = option(f)
    return f


def _decide(
    decision: Decision,
    submission_id: int,
    user_email: str,
    comment: str | None,
    cell: str | None,
    section: str | None,
) -> None:
    from aip_forms.services.review import decide

    core = app()
    result = decide(
        submission_id,
        decision=decision,
        reviewer_email=user_email,
        uow=core.uow,
        config=core.config,
        comment=comment,
        cell=cell,
        section=section,
        clock=core.clock,
    )
    ref = result.plan.ref
    click.echo(
        f"Plan {result.plan.id} ({ref}) is {result.plan.status}: version "
        f"{result.submission.version} {result.submission.status} by {user_email}."
    )
    if result.comment:
        click.echo(f"Comment {result.comment.id} on {result.comment.where}.")


@review.command("approve")
@_options
def approve(
    submission_id: int, user_email: str, comment: str | None, cell: str | None, section: str | None
) -> None:
    """Approve the version under review."""
    _decide(Decision.APPROVE, submission_id, user_email, comment, cell, section)


@review.command("return")
@_options
def return_(
    submission_id: int, user_email: str, comment: str | None, cell: str | None, section: str | None
) -> None:
    """Return the version under review to its coordinator, with a comment."""
    _decide(Decision.RETURN, submission_id, user_email, comment, cell, section)


@review.command("comment")
@_options
def comment(
    submission_id: int, user_email: str, comment: str | None, cell: str | None, section: str | None
) -> None:
    """Comment on a version, on the whole plan, a section (--section) or a cell (--cell)."""
    from aip_forms.services.review import add_comment

    core = app()
    view = add_comment(
        submission_id,
        comment or "",
        author_email=user_email,
        uow=core.uow,
        config=core.config,
        cell=cell,
        section=section,
        clock=core.clock,
    )
    click.echo(f"Comment {view.id} on {view.where} of submission {view.submission_id}.")


@review.command("comments")
@click.argument("submission_id", type=int)
@click.option("--user", "user_email", help="Act as this user (only plans their roles reach).")
def comments(submission_id: int, user_email: str | None) -> None:
    """The comments on a version."""
    from aip_forms.services.review import comments_of

    views = comments_of(submission_id, uow=app().uow, user_email=user_email)
    for c in views:
        click.echo(f"{c.id} {c.created_at:%Y-%m-%d %H:%M} {c.author} on {c.where}: {c.body}")
    click.echo(f"{len(views)} comment{'s' if len(views) != 1 else ''}.")
