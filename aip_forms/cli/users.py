"""`aip users ...`: add users and their roles, list them."""

from __future__ import annotations

import click

from aip_forms.cli.submissions import Services, service_errors
from aip_forms.services.access import Role


@click.group()
def users() -> None:
    """Users and roles (district and school coordinators, PED coordinator and reviewers)."""


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

    services = Services.from_env()
    with service_errors():
        added = add_user(
            email,
            role,
            uow=services.uow,
            lea_code=lea_code,
            school_code=school_code,
            name=name,
        )
    grant = next(g for g in added.user.grants if g.role.value == role)
    what = "Added" if added.created else "Updated"
    if not added.granted:
        click.echo(f"{added.user.email} is already {grant}; nothing changed.")
        return
    click.echo(f"{what} {added.user.email}: {grant}.")


@users.command("list")
def list_() -> None:
    """Every user and their roles."""
    from aip_forms.services.users import list_users

    services = Services.from_env()
    with service_errors():
        views = list_users(uow=services.uow)
    for u in views:
        roles = "; ".join(str(g) for g in u.grants) or "no roles"
        click.echo(f"{u.email}{f' ({u.name})' if u.name else ''}: {roles}")
    click.echo(f"{len(views)} user{'s' if len(views) != 1 else ''}.")
