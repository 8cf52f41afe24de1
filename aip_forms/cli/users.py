"""`aip users ...`: add users and their roles (mailing a new user a set-password link), list,
deactivate and reactivate them, and revoke a role."""

from __future__ import annotations

import click

from aip_forms.cli.common import app
from aip_forms.services.access import Role


@click.group()
def users() -> None:
    """Users and roles (district and school coordinators, the program's Absence Coordinator
    and reviewers)."""


@users.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--lea", "lea_code", help="LEA code (district coordinator).")
@click.option("--school", "school_code", help="School code (school coordinator).")
@click.option("--name", help="The user's name.")
def add(
    email: str, role: str, lea_code: str | None, school_code: str | None, name: str | None
) -> None:
    """Add a user with a role, or another role to an existing user."""
    from aip_forms.services.users import add_user

    a = app()
    added = add_user(
        email,
        role,
        uow=a.uow,
        lea_code=lea_code,
        school_code=school_code,
        name=name,
        mailer=a.mailer,
        site=a.site,
        policy=a.accounts,
    )
    grant = next(g for g in added.user.grants if g.role.value == role)
    what = "Added" if added.created else "Updated"
    sent = f" Mailed a set-password link to {added.user.email}." if added.link_sent else ""
    if not added.granted:
        click.echo(f"{added.user.email} is already {grant}; nothing changed.{sent}")
        return
    click.echo(f"{what} {added.user.email}: {grant}.{sent}")


@users.command("list")
def list_() -> None:
    """Every user and their roles."""
    from aip_forms.services.users import list_users

    views = list_users(uow=app().uow)
    for u in views:
        roles = "; ".join(str(g) for g in u.grants) or "no roles"
        click.echo(f"{u.email}{f' ({u.name})' if u.name else ''}: {roles}")
    click.echo(f"{len(views)} user{'s' if len(views) != 1 else ''}.")


@users.command("deactivate")
@click.argument("email")
def deactivate(email: str) -> None:
    """Stop a user from signing in (their records stay)."""
    _set_active(email, False)


@users.command("reactivate")
@click.argument("email")
def reactivate(email: str) -> None:
    """Let a deactivated user sign in again."""
    _set_active(email, True)


def _set_active(email: str, active: bool) -> None:
    from aip_forms.services.users import set_active

    view = set_active(email, active, uow=app().uow)
    click.echo(f"{view.email} is {'active' if view.active else 'deactivated'}.")


@users.command("revoke")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--lea", "lea_code", help="LEA code, when the user holds the role for several.")
@click.option("--school", "school_code", help="School code, likewise.")
def revoke(email: str, role: str, lea_code: str | None, school_code: str | None) -> None:
    """Take a role from a user."""
    from aip_forms.services.users import revoke_role

    view = revoke_role(email, role, uow=app().uow, lea_code=lea_code, school_code=school_code)
    roles = "; ".join(str(g) for g in view.grants) or "no roles"
    click.echo(f"{view.email}: {roles}.")
