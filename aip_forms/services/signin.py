"""Signing in (user guide §2.2): email and password, then a second factor.

The second factor is a 6-digit code mailed for this sign-in (valid `policy.code_minutes`,
single use, `policy.code_tries` tries, `policy.code_resends` resends), or, for a user who
enrolled an authenticator app, its TOTP code (the stronger choice: nothing travels by mail).
A code is stored only as its SHA-256 and belongs to the challenge it was sent for.

CONTRACT (for the portal):

    start_sign_in(email, password, *, client, uow, mailer, throttle, policy, site,
                  clock=utc_now) -> Challenge
    resend_code(challenge_id, *, uow, mailer, policy, site, clock=utc_now) -> Challenge
    finish_sign_in(challenge_id, code, *, client, uow, throttle, policy, site,
                   clock=utc_now) -> SignedIn
    start_totp(email, *, uow, issuer) -> TotpEnrollment   # issuer: the site's totp_issuer
    confirm_totp(email, code, *, uow, clock=utc_now) -> None

`client` is the caller's address (the portal's request.remote_addr). A wrong email or
password is one `InvalidInput` whatever was wrong, so the answer never tells whether an
email has an account; too many failures is `TooManyAttempts` (a `TooManyRequests`,
HTTP 429, with `retry_after` seconds), again the same for every email.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import pyotp
from sqlalchemy.orm import Session

from aip_forms.config import AccountPolicy
from aip_forms.db.models import SignInChallengeRow, UserRow
from aip_forms.errors import Conflict, Forbidden, InvalidInput, TooManyRequests
from aip_forms.mail import Mailer
from aip_forms.services import account_mail, audit
from aip_forms.services.passwords import digest, new_code, same_digest, verify_password
from aip_forms.services.repository import grants_of, normalize_email, user_by_email
from aip_forms.services.throttle import Throttle, account_rule, address_rule
from aip_forms.services.uow import Clock, UowFactory, aware, utc_now
from aip_forms.services.users import UserView, user_view
from aip_forms.site import Site

WRONG_CREDENTIALS = "the email or password is not right"
STALE_CHALLENGE = "this sign-in has expired or is finished; sign in again"


def _deactivated(site: Site) -> str:
    return f"this account is deactivated; ask your {site.coordinator}"


class TooManyAttempts(TooManyRequests):
    """Sign-in refused for a while after repeated failures."""

    def __init__(self, seconds: float) -> None:
        self.retry_after = max(1, round(seconds))
        minutes = -(-self.retry_after // 60)
        super().__init__(
            f"too many failed sign-ins; try again in {minutes} minute{'s' * (minutes != 1)}"
        )


@dataclass(frozen=True)
class Challenge:
    id: str  # keep it in the session; it is what a code is bound to
    method: str  # "email" or "totp"
    expires_at: dt.datetime


@dataclass(frozen=True)
class SignedIn:
    user: UserView
    password_expired: bool  # the portal sends the user to change it before anything else


@dataclass(frozen=True)
class TotpEnrollment:
    secret: str  # base32, for typing in by hand
    uri: str  # otpauth:// URI
    qr_svg: str  # the URI as an inline SVG QR code


def start_sign_in(
    email: str,
    password: str,
    *,
    client: str,
    uow: UowFactory,
    mailer: Mailer,
    throttle: Throttle,
    policy: AccountPolicy,
    site: Site,
    clock: Clock = utc_now,
) -> Challenge:
    """Check the password; on success open a challenge (and mail its code)."""
    now = clock()
    address = _printable(normalize_email(email or ""), 254)
    keys = _keys(address, client)
    _refuse_if_blocked(throttle, keys, now)
    with uow() as u:
        s = u.session
        user = user_by_email(s, address) if address == email.strip().lower() else None
        right = verify_password(user.password_hash if user else None, password)
        if user is None or not right:
            _failed(s, throttle, policy, keys, user, address, client, now, "signin.failed")
            u.commit()
            raise InvalidInput(WRONG_CREDENTIALS)
        if not user.active:
            audit.Trail(s, user.id, now).account("signin.refused", user.id, reason="inactive")
            u.commit()
            raise Forbidden(_deactivated(site))
        totp = user.totp_confirmed_at is not None
        row = SignInChallengeRow(
            id=secrets.token_urlsafe(32),
            user_id=user.id,
            method="totp" if totp else "email",
            created_at=now,
            expires_at=now + dt.timedelta(minutes=policy.code_minutes),
            tries=0,
            resends=0,
        )
        s.add(row)
        trail = audit.Trail(s, user.id, now)
        trail.account("signin.password_ok", user.id, client=client, method=row.method)
        if not totp:
            _send_code(s, row, user, mailer, policy, site, now)
        u.commit()
        return Challenge(row.id, row.method, now + dt.timedelta(minutes=policy.code_minutes))


def resend_code(
    challenge_id: str,
    *,
    uow: UowFactory,
    mailer: Mailer,
    policy: AccountPolicy,
    site: Site,
    clock: Clock = utc_now,
) -> Challenge:
    """A new code for the same sign-in (the old one stops working); tries are not reset."""
    now = clock()
    with uow() as u:
        s = u.session
        row, user = _open_challenge(s, challenge_id, policy, now)
        if row.method != "email":
            raise Conflict("this sign-in uses your authenticator app; no code is mailed")
        if row.resends >= policy.code_resends:
            raise Conflict("no more codes can be sent for this sign-in; sign in again")
        row.resends += 1
        row.expires_at = now + dt.timedelta(minutes=policy.code_minutes)
        _send_code(s, row, user, mailer, policy, site, now)
        u.commit()
        return Challenge(row.id, row.method, aware(row.expires_at))


def finish_sign_in(
    challenge_id: str,
    code: str,
    *,
    client: str,
    uow: UowFactory,
    throttle: Throttle,
    policy: AccountPolicy,
    site: Site,
    clock: Clock = utc_now,
) -> SignedIn:
    """Check the second factor; on success the challenge is used up and the user signed in."""
    now = clock()
    with uow() as u:
        s = u.session
        row, user = _open_challenge(s, challenge_id, policy, now)
        keys = _keys(user.email, client)
        _refuse_if_blocked(throttle, keys, now)
        code = "".join((code or "").split())[:12]
        step = _totp_step(user, code, now) if row.method == "totp" else None
        right = step is not None if row.method == "totp" else same_digest(row.code_hash, code)
        if not right:
            row.tries += 1
            _failed(s, throttle, policy, keys, user, user.email, client, now, "signin.code_failed")
            u.commit()
            left = policy.code_tries - row.tries
            if left <= 0:
                raise InvalidInput(f"the code is not right; {STALE_CHALLENGE}")
            raise InvalidInput(
                f"the code is not right ({left} {'try' if left == 1 else 'tries'} left)"
            )
        if not user.active:
            raise Forbidden(_deactivated(site))
        row.used_at = now
        if step is not None:
            user.totp_last_step = step
        trail = audit.Trail(s, user.id, now)
        trail.account("signin.code_used", user.id, method=row.method)
        trail.account("signin.succeeded", user.id, client=client)
        view = user_view(user, grants_of(s, user.id))
        u.commit()
    throttle.cleared(keys[0])
    return SignedIn(view, _password_expired(user, policy, now))


def start_totp(email: str, *, uow: UowFactory, issuer: str) -> TotpEnrollment:
    """A new authenticator secret for a signed-in user, to confirm with `confirm_totp`
    (until then, codes keep coming by mail); `issuer` labels it in the app (the site's
    `totp_issuer`)."""
    import segno

    with uow() as u:
        user = _active_user(u.session, email)
        secret = pyotp.random_base32()
        user.totp_secret, user.totp_confirmed_at, user.totp_last_step = secret, None, None
        uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)
        u.commit()
    svg = segno.make(uri, error="m").svg_inline(scale=4, title="Authenticator QR code")
    return TotpEnrollment(secret, uri, svg)


def confirm_totp(email: str, code: str, *, uow: UowFactory, clock: Clock = utc_now) -> None:
    """Turn on TOTP sign-in once the user typed a code from their app."""
    now = clock()
    with uow() as u:
        s = u.session
        user = _active_user(s, email)
        if not user.totp_secret:
            raise Conflict("start setting up the authenticator app first")
        step = _totp_step(user, "".join((code or "").split())[:12], now)
        if step is None:
            raise InvalidInput("code: is not the code your app shows now")
        user.totp_confirmed_at, user.totp_last_step = now, step
        audit.Trail(s, user.id, now).account("totp.enrolled", user.id)
        u.commit()


# ---- helpers ------------------------------------------------------------------------------


def _printable(text: str, limit: int) -> str:
    """`text` as plain printable ASCII within `limit` (escaped when it is not), safe as a
    key, a query parameter and an audit value on either database."""
    if text.isascii() and text.isprintable() and len(text) <= limit:
        return text
    return text.encode("unicode_escape").decode("ascii")[:limit]


def _keys(email: str, client: str) -> tuple[str, str]:
    return f"account:{email}", f"address:{_printable(client or '-', 64)}"


def _refuse_if_blocked(throttle: Throttle, keys: tuple[str, str], now: dt.datetime) -> None:
    wait = max(throttle.blocked_for(k, now) for k in keys)
    if wait > 0:
        raise TooManyAttempts(wait)


def _failed(
    s: Session,
    throttle: Throttle,
    policy: AccountPolicy,
    keys: tuple[str, str],
    user: UserRow | None,
    email: str,
    client: str,
    now: dt.datetime,
    action: str,
) -> None:
    """Count a failure on the account and the address; audit it, and any lock it causes."""
    account_wait = throttle.failed(keys[0], account_rule(policy), now)
    address_wait = throttle.failed(keys[1], address_rule(policy), now)
    trail = audit.Trail(s, None, now)
    details = {"client": client}
    if user is not None:
        trail.account(action, user.id, **details)
    else:
        trail.unknown_account(action, email, **details)
    for key, wait in zip(keys, (account_wait, address_wait), strict=True):
        if wait > 0:
            lock = {"key": key, "seconds": wait}
            if user is not None:
                trail.account("signin.locked", user.id, **lock)
            else:
                trail.unknown_account("signin.locked", email, **lock)


def _send_code(
    s: Session,
    row: SignInChallengeRow,
    user: UserRow,
    mailer: Mailer,
    policy: AccountPolicy,
    site: Site,
    now: dt.datetime,
) -> None:
    code = new_code()
    row.code_hash = digest(code)
    audit.Trail(s, user.id, now).account("signin.code_sent", user.id, resend=row.resends)
    mailer.send(account_mail.sign_in_code(user.email, site, code, policy.code_minutes))


def _open_challenge(
    s: Session, challenge_id: str, policy: AccountPolicy, now: dt.datetime
) -> tuple[SignInChallengeRow, UserRow]:
    handle = challenge_id or ""
    fits = handle.isascii() and handle.isprintable() and 0 < len(handle) <= 64
    row = s.get(SignInChallengeRow, handle, with_for_update=True) if fits else None
    if (
        row is None
        or row.used_at is not None
        or aware(row.expires_at) <= now
        or row.tries >= policy.code_tries
    ):
        raise InvalidInput(STALE_CHALLENGE)
    user = s.get(UserRow, row.user_id)
    if user is None:
        raise InvalidInput(STALE_CHALLENGE)
    return row, user


def _totp_step(user: UserRow, code: str, now: dt.datetime) -> int | None:
    """The time step `code` matches (this one or either neighbour), unless used already."""
    if not user.totp_secret or not code.isdigit():
        return None
    totp = pyotp.TOTP(user.totp_secret)
    step_now = int(now.timestamp()) // totp.interval
    for step in (step_now - 1, step_now, step_now + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _password_expired(user: UserRow, policy: AccountPolicy, now: dt.datetime) -> bool:
    if not policy.password_max_age_days or user.password_changed_at is None:
        return False
    age = now - aware(user.password_changed_at)
    return age > dt.timedelta(days=policy.password_max_age_days)


def _active_user(s: Session, email: str) -> UserRow:
    user = user_by_email(s, email)
    if user is None or not user.active:
        raise Forbidden("sign in first")
    return user
