"""Users and their roles. Registration, passwords and OTP come with the portal; here an
administrator adds a user with a role, and adding another role to the same email keeps
one user with several roles."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from aip_forms.db.models import LeaRow, RoleGrantRow, SchoolRow, UserRow
from aip_forms.services import audit
from aip_forms.services.access import Grant, Role
from aip_forms.services.errors import InvalidInput
from aip_forms.services.repository import grants_of, normalize_email, user_by_email
from aip_forms.services.uow import Clock, UowFactory, aware, utc_now


@dataclass(frozen=True)
class UserView:
    id: int
    email: str
    name: str
    grants: tuple[Grant, ...]
    created_at: dt.datetime


@dataclass(frozen=True)
class AddedUser:
    user: UserView
    created: bool  # a new user (False: an existing user)
    granted: bool  # the role was new to the user


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower().replace("-", "_"))
    except ValueError:
        raise InvalidInput(
            f"unknown role {value!r}; use one of: {', '.join(r.value for r in Role)}"
        ) from None


def add_user(
    email: str,
    role: Role | str,
    *,
    uow: UowFactory,
    lea_code: str | None = None,
    school_code: str | None = None,
    name: str | None = None,
    clock: Clock = utc_now,
    actor_email: str | None = None,
) -> AddedUser:
    """Add a user (if new) and grant a role; granting a role held already changes nothing.

    district_coordinator needs an LEA; school_coordinator a school (its LEA is looked up and,
    when given, must match); PED roles take neither. LEAs and schools must be loaded.
    """
    role = parse_role(role) if isinstance(role, str) else role
    address = _checked_email(email)
    with uow() as u:
        s = u.session
        grant = _checked_grant(s, role, lea_code, school_code)
        actor = user_by_email(s, actor_email) if actor_email else None
        now = clock()
        user = user_by_email(s, address)
        created = user is None
        if user is None:
            user = UserRow(email=address, name=(name or "").strip(), created_at=now)
            s.add(user)
            s.flush()
            audit.record(
                s,
                at=now,
                actor_id=actor.id if actor else None,
                action="user.created",
                entity="user",
                entity_id=user.id,
                after={"email": address, "name": user.name},
            )
        elif name and name.strip() != user.name:
            before = {"name": user.name}
            user.name = name.strip()
            audit.record(
                s,
                at=now,
                actor_id=actor.id if actor else None,
                action="user.renamed",
                entity="user",
                entity_id=user.id,
                before=before,
                after={"name": user.name},
            )
        granted = grant not in grants_of(s, user.id)
        if granted:
            s.add(
                RoleGrantRow(
                    user_id=user.id,
                    role=grant.role.value,
                    lea_code=grant.lea_code,
                    school_code=grant.school_code,
                    granted_at=now,
                )
            )
            audit.record(
                s,
                at=now,
                actor_id=actor.id if actor else None,
                action="role.granted",
                entity="user",
                entity_id=user.id,
                after={
                    "role": grant.role.value,
                    "lea": grant.lea_code,
                    "school": grant.school_code,
                },
            )
        s.flush()
        view = _view(user, grants_of(s, user.id))
        u.commit()
    return AddedUser(view, created, granted)


def list_users(*, uow: UowFactory) -> list[UserView]:
    with uow() as u:
        users = u.session.scalars(select(UserRow).order_by(UserRow.email)).all()
        return [_view(user, grants_of(u.session, user.id)) for user in users]


def _view(user: UserRow, grants: list[Grant]) -> UserView:
    return UserView(user.id, user.email, user.name, tuple(grants), aware(user.created_at))


def _checked_email(email: str) -> str:
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as e:
        raise InvalidInput(f"not an email address: {email!r} ({e})") from None
    return normalize_email(email)


def _checked_grant(s: Session, role: Role, lea_code: str | None, school_code: str | None) -> Grant:
    if role in (Role.PED_COORDINATOR, Role.PED_REVIEWER):
        if lea_code or school_code:
            raise InvalidInput(f"{role} is a state role: give no --lea or --school")
        return Grant(role)
    if role is Role.DISTRICT_COORDINATOR:
        if school_code or not lea_code:
            raise InvalidInput(f"{role} needs --lea CODE (and no --school)")
        if s.get(LeaRow, lea_code) is None:
            raise InvalidInput(f"no LEA {lea_code!r} (load reference data with `aip data load`)")
        return Grant(role, lea_code)
    if not school_code:
        raise InvalidInput(f"{role} needs --school CODE")
    school = s.get(SchoolRow, school_code)
    if school is None:
        raise InvalidInput(f"no school {school_code!r} (load reference data with `aip data load`)")
    if lea_code and lea_code != school.lea_code:
        raise InvalidInput(f"school {school_code} belongs to LEA {school.lea_code}, not {lea_code}")
    return Grant(role, school.lea_code, school_code)
