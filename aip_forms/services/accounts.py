"""Portal accounts: registration and its review, and passwords (set, reset, change).

Sign-in itself (password, then an emailed code or TOTP) lives in `services.signin`; PED
administration of users in `services.users`; announcements in `services.announcements`.

CONTRACT (what the portal codes against; every function raises the project's errors, and a
refused form is `InvalidFields` whose `problems` maps each field to its message):

    register(form: RegistrationForm, *, uow, mailer, policy, site, clock=utc_now) -> None
    pending_registrations(*, actor_email, uow) -> list[RegistrationView]
    approve_registration(registration_id, *, actor_email, uow, mailer, site,
                         clock=utc_now) -> UserView
    deny_registration(registration_id, *, actor_email, reason, uow, mailer, site,
                      clock=utc_now) -> None
    request_password_reset(email, *, uow, mailer, policy, site, clock=utc_now) -> None
    check_password_token(token, *, uow, clock=utc_now) -> str          # the account's email
    set_password(token, password, *, uow, mailer, policy, site, clock=utc_now) -> str
    change_password(email, current_password, new_password, *, uow, mailer, policy,
                    site, clock=utc_now) -> None

No enumeration: `register` and `request_password_reset` return the same (None) and send one
message to the address given whether or not it has an account.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from aip_forms.config import AccountPolicy
from aip_forms.db.models import (
    AccountTokenRow,
    LeaRow,
    RegistrationRow,
    RoleGrantRow,
    SchoolRow,
    UserRow,
)
from aip_forms.errors import Conflict, InvalidInput, NotFound
from aip_forms.mail import Mailer
from aip_forms.services import account_mail, audit
from aip_forms.services.access import Grant, Role
from aip_forms.services.fields import Fields, InvalidFields
from aip_forms.services.passwords import (
    check_password,
    digest,
    hash_password,
    verify_password,
)
from aip_forms.services.repository import grants_of, user_by_email
from aip_forms.services.uow import Clock, UowFactory, aware, utc_now
from aip_forms.services.users import (
    UserView,
    grant_role,
    issue_password_link,
    require_ped_coordinator,
    user_view,
)
from aip_forms.site import Site

REGISTRANT_ROLES = (Role.DISTRICT_COORDINATOR, Role.SCHOOL_COORDINATOR)
_NAME = re.compile(r"^[^\W\d_]+(?:[ '’.-]+[^\W\d_]+)*\.?$")
_PHONE = re.compile(r"^[0-9 +().-]+$")


@dataclass(frozen=True)
class RegistrationForm:
    """What a person types on the registration page (user guide §2.1)."""

    first_name: str
    last_name: str
    email: str
    phone: str
    lea_code: str
    role: str  # district_coordinator or school_coordinator
    password: str
    school_code: str = ""  # a school coordinator's school


@dataclass(frozen=True)
class RegistrationView:
    id: int
    email: str
    first_name: str
    last_name: str
    phone: str
    role: Role
    lea_code: str
    school_code: str | None
    status: str
    created_at: dt.datetime


# ---- registration -------------------------------------------------------------------------


def register(
    form: RegistrationForm,
    *,
    uow: UowFactory,
    mailer: Mailer,
    policy: AccountPolicy,
    site: Site,
    clock: Clock = utc_now,
) -> None:
    """Record a request for an account and tell the registrant (and PED coordinators) by
    mail. An address with an account or a pending request gets one message all the same,
    and nothing is created."""
    fields = Fields()
    first = _name(fields, "first_name", form.first_name)
    last = _name(fields, "last_name", form.last_name)
    email = fields.email("email", form.email)
    if email and _is_freemail(email, policy):
        fields.add("email", "must be your district or school email, not a personal one")
    phone = _phone(fields, form.phone)
    role = _registrant_role(fields, form.role)
    lea_code = fields.text("lea_code", form.lea_code, max_length=16)
    school_code = fields.text("school_code", form.school_code, max_length=16, required=False)
    if form.password != form.password.strip() or not form.password:
        fields.add("password", "is required and must not start or end with a space")
    else:
        try:
            check_password(form.password, policy, first_name=first, last_name=last, email=email)
        except InvalidFields as e:
            fields.add("password", e.problems["password"])
    with uow() as u:
        s = u.session
        _check_place(fields, s, role, lea_code, school_code)
        fields.raise_if_any()
        assert role is not None
        now = clock()
        known = user_by_email(s, email) is not None or _pending(s, email) is not None
        if known:
            mailer.send(account_mail.registration_not_needed(email, site))
            return
        row = RegistrationRow(
            email=email,
            first_name=first,
            last_name=last,
            phone=phone,
            role=role.value,
            lea_code=lea_code,
            school_code=school_code or None,
            password_hash=hash_password(form.password),
            status="pending",
            created_at=now,
            reason="",
        )
        s.add(row)
        s.flush()
        audit.Trail(s, None, now).registration(
            "registration.received", row.id, email=email, role=role.value, lea=lea_code
        )
        mailer.send(account_mail.registration_received(email, site, f"{first} {last}"))
        who = f"{first} {last} <{email}>, {role.replace('_', ' ')} in LEA {lea_code}"
        for coordinator in _ped_coordinators(s):
            mailer.send(account_mail.registration_waiting(coordinator, site, who))
        u.commit()


def pending_registrations(*, actor_email: str, uow: UowFactory) -> list[RegistrationView]:
    """Requests waiting for review, oldest first (PED coordinators only)."""
    with uow() as u:
        require_ped_coordinator(u.session, actor_email)
        rows = u.session.scalars(
            select(RegistrationRow)
            .where(RegistrationRow.status == "pending")
            .order_by(RegistrationRow.id)
        )
        return [_registration_view(r) for r in rows]


def approve_registration(
    registration_id: int,
    *,
    actor_email: str,
    uow: UowFactory,
    mailer: Mailer,
    site: Site,
    clock: Clock = utc_now,
) -> UserView:
    """Make the account (or add the role to an account made since), and tell the registrant."""
    with uow() as u:
        s = u.session
        actor = require_ped_coordinator(s, actor_email)
        row = _pending_or_refuse(s, registration_id)
        now = clock()
        trail = audit.Trail(s, actor.id, now)
        user = user_by_email(s, row.email)
        name = f"{row.first_name} {row.last_name}"
        if user is None:
            user = UserRow(
                email=row.email,
                name=name,
                phone=row.phone,
                created_at=now,
                active=True,
                password_hash=row.password_hash,
                password_changed_at=aware(row.created_at),
            )
            s.add(user)
            s.flush()
            trail.user("user.created", user.id, after={"email": row.email, "name": name})
        grant = Grant(Role(row.role), row.lea_code, row.school_code)
        grant_role(s, trail, user, grant)
        row.status, row.decided_at, row.decided_by = "approved", now, actor.id
        trail.registration("registration.approved", row.id, email=row.email, user_id=user.id)
        s.flush()
        view = user_view(user, grants_of(s, user.id))
        mailer.send(account_mail.registration_approved(row.email, site, name, str(grant)))
        u.commit()
    return view


def deny_registration(
    registration_id: int,
    *,
    actor_email: str,
    reason: str,
    uow: UowFactory,
    mailer: Mailer,
    site: Site,
    clock: Clock = utc_now,
) -> None:
    fields = Fields()
    reason = fields.text("reason", reason, max_length=500, required=False)
    fields.raise_if_any()
    with uow() as u:
        s = u.session
        actor = require_ped_coordinator(s, actor_email)
        row = _pending_or_refuse(s, registration_id)
        now = clock()
        row.status, row.decided_at, row.decided_by, row.reason = "denied", now, actor.id, reason
        audit.Trail(s, actor.id, now).registration(
            "registration.denied", row.id, email=row.email, reason=reason
        )
        name = f"{row.first_name} {row.last_name}"
        mailer.send(account_mail.registration_denied(row.email, site, name, reason))
        u.commit()


# ---- passwords ----------------------------------------------------------------------------


def request_password_reset(
    email: str,
    *,
    uow: UowFactory,
    mailer: Mailer,
    policy: AccountPolicy,
    site: Site,
    clock: Clock = utc_now,
) -> None:
    """Mail a reset link (single use, `policy.reset_minutes`) to an active account; any
    other address gets one message saying there is no account. The answer is the same."""
    fields = Fields()
    address = fields.email("email", email)
    fields.raise_if_any()
    with uow() as u:
        s = u.session
        now = clock()
        user = user_by_email(s, address)
        trail = audit.Trail(s, None, now)
        if user is None or not user.active:
            trail.unknown_account("password.reset_requested", address, known=False)
            mailer.send(account_mail.no_account(address, site))
        else:
            hours = policy.reset_minutes / 60
            token = issue_password_link(s, user, purpose="reset", hours=hours, now=now)
            trail.account("password.reset_requested", user.id)
            mailer.send(account_mail.password_link(address, site, token, hours=hours, new=False))
        u.commit()


def check_password_token(token: str, *, uow: UowFactory, clock: Clock = utc_now) -> str:
    """The email of the account a set-password link is for; InvalidInput when the link
    has expired, was used, or never existed."""
    with uow() as u:
        _, user = _usable_token(u.session, token, clock())
        return user.email


def set_password(
    token: str,
    password: str,
    *,
    uow: UowFactory,
    mailer: Mailer,
    policy: AccountPolicy,
    site: Site,
    clock: Clock = utc_now,
) -> str:
    """Set the password through a mailed link (reset or new account); every other link of
    the account stops working. Returns the account's email."""
    with uow() as u:
        s = u.session
        now = clock()
        row, user = _usable_token(s, token, now)
        first, _, last = user.name.partition(" ")
        check_password(password, policy, first_name=first, last_name=last, email=user.email)
        s.execute(
            update(AccountTokenRow)
            .where(AccountTokenRow.user_id == user.id, AccountTokenRow.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        _store_password(s, user, password, now, via=row.purpose)
        mailer.send(account_mail.password_changed(user.email, site))
        u.commit()
        return user.email


def change_password(
    email: str,
    current_password: str,
    new_password: str,
    *,
    uow: UowFactory,
    mailer: Mailer,
    policy: AccountPolicy,
    site: Site,
    clock: Clock = utc_now,
) -> None:
    """A signed-in user's change (also how an expired password is replaced)."""
    with uow() as u:
        s = u.session
        user = user_by_email(s, email)
        if user is None or not verify_password(user.password_hash, current_password):
            raise InvalidFields({"current_password": "is not your current password"})
        if new_password == current_password:
            raise InvalidFields({"new_password": "must differ from your current password"})
        first, _, last = user.name.partition(" ")
        check_password(
            new_password,
            policy,
            first_name=first,
            last_name=last,
            email=user.email,
            field="new_password",
        )
        _store_password(s, user, new_password, clock(), via="change")
        mailer.send(account_mail.password_changed(user.email, site))
        u.commit()


def _store_password(s: Session, user: UserRow, password: str, now: dt.datetime, via: str) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    audit.Trail(s, user.id, now).account("password.changed", user.id, via=via)


def _usable_token(s: Session, token: str, now: dt.datetime) -> tuple[AccountTokenRow, UserRow]:
    stale = InvalidInput("this link has expired or was already used; ask for a new one")
    if not token or len(token) > 100:
        raise stale
    row = s.scalar(select(AccountTokenRow).where(AccountTokenRow.token_hash == digest(token)))
    if row is None or row.used_at is not None or aware(row.expires_at) <= now:
        raise stale
    user = s.get(UserRow, row.user_id)
    if user is None or not user.active:
        raise stale
    return row, user


# ---- helpers ------------------------------------------------------------------------------


def _name(fields: Fields, field: str, value: str) -> str:
    text = fields.text(field, value, max_length=60)
    if text and not _NAME.match(text):
        fields.add(field, "may only contain letters, spaces, hyphens, apostrophes and periods")
        return ""
    return text


def _phone(fields: Fields, value: str) -> str:
    text = fields.text("phone", value, max_length=32)
    digits = sum(c.isdigit() for c in text)
    if text and (not _PHONE.match(text) or not 7 <= digits <= 15):
        fields.add("phone", "must be a phone number: 7 to 15 digits, spaces, + ( ) - allowed")
        return ""
    return text


def _registrant_role(fields: Fields, value: str) -> Role | None:
    wanted = (value or "").strip().lower().replace("-", "_").replace(" ", "_")
    for role in REGISTRANT_ROLES:
        if wanted == role.value:
            return role
    fields.add("role", "choose district coordinator or school coordinator")
    return None


def _is_freemail(email: str, policy: AccountPolicy) -> bool:
    domain = email.rpartition("@")[2]
    return any(domain == d or domain.endswith("." + d) for d in policy.freemail_domains)


def _check_place(
    fields: Fields, s: Session, role: Role | None, lea_code: str, school_code: str
) -> None:
    """The LEA exists; a school coordinator names a school of it, a district one none."""
    if lea_code and s.get(LeaRow, lea_code) is None:
        fields.add("lea_code", "is not an LEA in the list")
        return
    if role is Role.DISTRICT_COORDINATOR and school_code:
        fields.add("school_code", "leave empty for a district coordinator")
    if role is Role.SCHOOL_COORDINATOR:
        if not school_code:
            fields.add("school_code", "is required for a school coordinator")
            return
        school = s.get(SchoolRow, school_code)
        if school is None:
            fields.add("school_code", "is not a school in the list")
        elif lea_code and school.lea_code != lea_code:
            fields.add("school_code", f"is not a school of LEA {lea_code}")


def _pending(s: Session, email: str) -> RegistrationRow | None:
    return s.scalar(
        select(RegistrationRow).where(
            RegistrationRow.email == email, RegistrationRow.status == "pending"
        )
    )


def _ped_coordinators(s: Session) -> list[str]:
    return list(
        s.scalars(
            select(UserRow.email)
            .join(RoleGrantRow, RoleGrantRow.user_id == UserRow.id)
            .where(RoleGrantRow.role == Role.PED_COORDINATOR.value, UserRow.active.is_(True))
            .distinct()
            .order_by(UserRow.email)
        )
    )


def _pending_or_refuse(s: Session, registration_id: int) -> RegistrationRow:
    row = s.get(RegistrationRow, registration_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no registration {registration_id}")
    if row.status != "pending":
        raise Conflict(f"registration {registration_id} was {row.status} already")
    return row


def _registration_view(r: RegistrationRow) -> RegistrationView:
    return RegistrationView(
        r.id,
        r.email,
        r.first_name,
        r.last_name,
        r.phone,
        Role(r.role),
        r.lea_code,
        r.school_code,
        r.status,
        aware(r.created_at),
    )
