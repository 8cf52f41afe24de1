"""Users and their roles, and their administration by a PED coordinator.

An administrator adds a user with a role (`aip users add`); adding another role to the same
email keeps one user with several roles. A user without a password is mailed a single-use
set-password link (`{site.base_url}/account/set-password/<token>`, `policy.invite_hours`). PED
coordinators deactivate and reactivate users and revoke roles; the command line acts as the
operator (`actor_email=None`); the portal's admin pages name the user by id and check
their form with `grant_role_to` (field messages, `InvalidFields`). The portal also asks
`signed_in_user` on every request, so that a deactivated user's open session ends and a
changed role takes effect at once. Registration and passwords: `services.accounts`;
sign-in: `services.signin`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from aip_forms.config import AccountPolicy
from aip_forms.db.models import AccountTokenRow, LeaRow, RoleGrantRow, SchoolRow, UserRow
from aip_forms.errors import Forbidden, InvalidInput, NotFound
from aip_forms.mail import Mailer
from aip_forms.services import account_mail, audit
from aip_forms.services.access import Grant, Role
from aip_forms.services.fields import Fields
from aip_forms.services.passwords import digest, new_token
from aip_forms.services.repository import grants_of, normalize_email, user_by_email
from aip_forms.services.uow import Clock, UowFactory, aware, utc_now
from aip_forms.site import Site

# How a refusal names the ped_coordinator role: these checks know no program, and the
# role's displayed name is the profile's ("PED Absence Coordinator"; `aip_forms.site`).
ADMIN_ROLE = "the program's Absence Coordinator role"


@dataclass(frozen=True)
class UserView:
    id: int
    email: str
    name: str
    grants: tuple[Grant, ...]
    created_at: dt.datetime
    active: bool = True
    has_password: bool = False
    totp: bool = False  # signs in with an authenticator app instead of an emailed code
    password_changed_at: dt.datetime | None = None


@dataclass(frozen=True)
class AddedUser:
    user: UserView
    created: bool  # a new user (False: an existing user)
    granted: bool  # the role was new to the user
    link_sent: bool = False  # a set-password link was mailed


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
    mailer: Mailer | None = None,
    site: Site | None = None,
    policy: AccountPolicy | None = None,
) -> AddedUser:
    """Add a user (if new) and grant a role; granting a role held already changes nothing.

    district_coordinator needs an LEA; school_coordinator a school (its LEA is looked up and,
    when given, must match); PED roles take neither. LEAs and schools must be loaded.
    With a `mailer` (and the `site` its links point to), a user who has no password yet
    is mailed a set-password link.
    """
    if mailer is not None and site is None:
        raise ValueError("add_user: a mailer needs the site its links point to")
    role = parse_role(role) if isinstance(role, str) else role
    address = _checked_email(email)
    with uow() as u:
        s = u.session
        grant = _checked_grant(s, role, lea_code, school_code)
        actor = require_ped_coordinator(s, actor_email) if actor_email else None
        now = clock()
        trail = audit.Trail(s, actor.id if actor else None, now)
        user = user_by_email(s, address)
        created = user is None
        if user is None:
            user = UserRow(email=address, name=(name or "").strip(), created_at=now)
            s.add(user)
            s.flush()
            trail.user("user.created", user.id, after={"email": address, "name": user.name})
        elif name and name.strip() != user.name:
            before = {"name": user.name}
            user.name = name.strip()
            trail.user("user.renamed", user.id, before=before, after={"name": user.name})
        granted = grant_role(s, trail, user, grant)
        s.flush()
        view = user_view(user, grants_of(s, user.id))
        link_sent = False
        if mailer is not None and site is not None and user.password_hash is None:
            hours = (policy or AccountPolicy()).invite_hours
            token = issue_password_link(s, user, purpose="invite", hours=hours, now=now)
            trail.account("password.link_sent", user.id, purpose="invite")
            mailer.send(account_mail.password_link(address, site, token, hours=hours, new=True))
            link_sent = True
        u.commit()
    return AddedUser(view, created, granted, link_sent)


def list_users(*, uow: UowFactory, actor_email: str | None = None) -> list[UserView]:
    """Every user by email (the portal's admin page: a PED coordinator's)."""
    with uow() as u:
        if actor_email:
            require_ped_coordinator(u.session, actor_email)
        users = u.session.scalars(select(UserRow).order_by(UserRow.email)).all()
        return [user_view(user, grants_of(u.session, user.id)) for user in users]


def get_user(user_id: int, *, uow: UowFactory, actor_email: str) -> UserView:
    """One user, for a PED coordinator's admin page."""
    with uow() as u:
        require_ped_coordinator(u.session, actor_email)
        user = _require(u.session, user_id)
        return user_view(user, grants_of(u.session, user.id))


def signed_in_user(user_id: int, *, uow: UowFactory) -> UserView | None:
    """The user behind an open session, or None when they were deactivated or removed."""
    with uow() as u:
        user = u.session.get(UserRow, user_id)
        if user is None or not user.active:
            return None
        return user_view(user, grants_of(u.session, user.id))


def grant_role_to(
    user: int | str,
    role: str,
    *,
    lea_code: str = "",
    school_code: str = "",
    uow: UowFactory,
    actor_email: str,
    clock: Clock = utc_now,
) -> UserView:
    """A PED coordinator gives an existing user one more role, checked as a form:
    `InvalidFields` names `role`, `lea_code` or `school_code`. Audited as role.granted."""
    fields = Fields()
    kind = next((r for r in Role if r.value == role.strip()), None)
    if kind is None:
        fields.add("role", "choose one of the roles in the list")
    lea = fields.text("lea_code", lea_code, max_length=16, required=False)
    school = fields.text("school_code", school_code, max_length=16, required=False)
    with uow() as u:
        s = u.session
        actor = require_ped_coordinator(s, actor_email)
        target = _require(s, user)
        grant = _placed(fields, s, kind, lea, school) if kind else None
        if grant is not None and grant in grants_of(s, target.id):
            fields.add("role", "is held by this user already")
        fields.raise_if_any()
        assert grant is not None
        grant_role(s, audit.Trail(s, actor.id, clock()), target, grant)
        s.flush()
        view = user_view(target, grants_of(s, target.id))
        u.commit()
    return view


def set_active(
    email: str | int,
    active: bool,
    *,
    uow: UowFactory,
    actor_email: str | None = None,
    clock: Clock = utc_now,
) -> UserView:
    """Deactivate (no sign-in, no links, open sessions end) or reactivate a user (an email
    or, from the portal, an id); a PED coordinator cannot deactivate themselves."""
    with uow() as u:
        s = u.session
        actor = require_ped_coordinator(s, actor_email) if actor_email else None
        user = _require(s, email)
        if actor is not None and actor.id == user.id and not active:
            raise Forbidden("you cannot deactivate your own account")
        if user.active != active:
            user.active = active
            action = "user.reactivated" if active else "user.deactivated"
            audit.Trail(s, actor.id if actor else None, clock()).user(
                action, user.id, before={"active": not active}, after={"active": active}
            )
        view = user_view(user, grants_of(s, user.id))
        u.commit()
    return view


def revoke_role(
    email: str | int,
    role: Role | str,
    *,
    uow: UowFactory,
    lea_code: str | None = None,
    school_code: str | None = None,
    actor_email: str | None = None,
    clock: Clock = utc_now,
) -> UserView:
    """Take one role (with its LEA or school) from a user (an email or, from the portal, an
    id); NotFound if they do not hold it. A PED coordinator keeps their own PED role."""
    role = parse_role(role) if isinstance(role, str) else role
    with uow() as u:
        s = u.session
        actor = require_ped_coordinator(s, actor_email) if actor_email else None
        user = _require(s, email)
        if actor is not None and actor.id == user.id and role is Role.PED_COORDINATOR:
            raise Forbidden(f"you cannot take {ADMIN_ROLE} from yourself")
        query = select(RoleGrantRow).where(
            RoleGrantRow.user_id == user.id, RoleGrantRow.role == role.value
        )
        if lea_code:
            query = query.where(RoleGrantRow.lea_code == lea_code)
        if school_code:
            query = query.where(RoleGrantRow.school_code == school_code)
        rows = list(s.scalars(query))
        if len(rows) != 1:
            held = "; ".join(str(g) for g in grants_of(s, user.id)) or "no roles"
            what = "does not hold" if not rows else "holds several of"
            raise NotFound(f"{user.email} {what} {role} (give --lea/--school); roles: {held}")
        row = rows[0]
        before = {"role": row.role, "lea": row.lea_code, "school": row.school_code}
        s.delete(row)
        audit.Trail(s, actor.id if actor else None, clock()).user(
            "role.revoked", user.id, before=before
        )
        s.flush()
        view = user_view(user, grants_of(s, user.id))
        u.commit()
    return view


def grant_role(s: Session, trail: audit.Trail, user: UserRow, grant: Grant) -> bool:
    """Give `user` the role `grant` unless they hold it; whether it was new."""
    if grant in grants_of(s, user.id):
        return False
    s.add(
        RoleGrantRow(
            user_id=user.id,
            role=grant.role.value,
            lea_code=grant.lea_code,
            school_code=grant.school_code,
            granted_at=trail.at,
        )
    )
    after = {"role": grant.role.value, "lea": grant.lea_code, "school": grant.school_code}
    trail.user("role.granted", user.id, after=after)
    return True


def issue_password_link(
    s: Session, user: UserRow, *, purpose: str, hours: float, now: dt.datetime
) -> str:
    """A new single-use link token for `user`, stored as its digest; returns the token."""
    token = new_token()
    s.add(
        AccountTokenRow(
            user_id=user.id,
            purpose=purpose,
            token_hash=digest(token),
            created_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
    )
    return token


def require_ped_coordinator(s: Session, email: str) -> UserRow:
    """The active user `email` if they are a PED coordinator; Forbidden otherwise."""
    user = user_by_email(s, email)
    if user is None or not user.active:
        raise Forbidden(f"{email} is not an active user")
    if not any(g.role is Role.PED_COORDINATOR for g in grants_of(s, user.id)):
        raise Forbidden(f"{user.email} does not hold {ADMIN_ROLE}")
    return user


def user_view(user: UserRow, grants: list[Grant]) -> UserView:
    changed = user.password_changed_at
    return UserView(
        user.id,
        user.email,
        user.name,
        tuple(grants),
        aware(user.created_at),
        active=user.active,
        has_password=user.password_hash is not None,
        totp=user.totp_confirmed_at is not None,
        password_changed_at=aware(changed) if changed else None,
    )


def _require(s: Session, email: str | int) -> UserRow:
    """The user an email (the command line) or an id (the portal) names."""
    user = s.get(UserRow, email) if isinstance(email, int) else user_by_email(s, email)
    if user is None:
        raise NotFound(f"no user {email!r}")
    return user


def _placed(
    fields: Fields, s: Session, role: Role, lea_code: str, school_code: str
) -> Grant | None:
    """The grant a form asks for, with a field message for a place that does not fit."""
    if role in (Role.PED_COORDINATOR, Role.PED_REVIEWER):
        if lea_code or school_code:
            fields.add("lea_code" if lea_code else "school_code", "leave empty for a state role")
            return None
        return Grant(role)
    if lea_code and s.get(LeaRow, lea_code) is None:
        fields.add("lea_code", "is not an LEA in the list")
        return None
    if role is Role.DISTRICT_COORDINATOR:
        if not lea_code:
            fields.add("lea_code", "is required for a district coordinator")
        if school_code:
            fields.add("school_code", "leave empty for a district coordinator")
        return Grant(role, lea_code) if lea_code and not school_code else None
    school = s.get(SchoolRow, school_code) if school_code else None
    if school is None:
        fields.add("school_code", "is required: a school code in the list")
        return None
    if lea_code and lea_code != school.lea_code:
        fields.add("school_code", f"is not a school of LEA {lea_code}")
        return None
    return Grant(role, school.lea_code, school.code)


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
