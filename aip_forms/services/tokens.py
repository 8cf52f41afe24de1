"""Personal access tokens for the machine API: made on the account page, scoped, revocable.

- `create_token` returns the token's view and its secret, `aip_` and 43 URL-safe characters
  (32 random bytes); the secret is shown once and stored only as its SHA-256;
- `list_tokens`, `revoke_token`: the user's own tokens (another user's token id is unknown
  to them: NotFound, the same as an id that does not exist);
- `authenticate_token`: the user and scopes a secret grants. An unknown, expired, revoked or
  malformed secret, or one whose user is deactivated, gets the same `Forbidden` refusal; the
  stored digest is compared in constant time. The last-used time is recorded, at most once a
  minute per token, so that a busy client does not write on every request.

Creating and revoking write an audit line (`audit.Trail.access_token`), never the secret.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from aip_forms.db.models import AccessTokenRow, UserRow
from aip_forms.errors import Conflict, Forbidden, InvalidInput, NotFound
from aip_forms.services import audit
from aip_forms.services.passwords import digest
from aip_forms.services.repository import require_user
from aip_forms.services.uow import Clock, UowFactory, aware, utc_now

SCOPES = frozenset({"plans:read", "plans:write", "documents:read"})
PREFIX = "aip_"
_SECRET = re.compile(r"^aip_[A-Za-z0-9_-]{43}$")  # token_urlsafe(32): 43 characters
MAX_ACTIVE = 20  # a user's unexpired, unrevoked tokens
MAX_DAYS = 366
_LAST_USED_EVERY = dt.timedelta(minutes=1)
REFUSED = "the access token is not valid (unknown, expired or revoked)"


@dataclass(frozen=True)
class TokenView:
    id: int
    name: str
    scopes: frozenset[str]
    created_at: dt.datetime
    expires_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    def usable_at(self, now: dt.datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


def _view(row: AccessTokenRow) -> TokenView:
    return TokenView(
        id=row.id,
        name=row.name,
        scopes=frozenset(row.scopes.split()),
        created_at=aware(row.created_at),
        expires_at=aware(row.expires_at),
        last_used_at=aware(row.last_used_at) if row.last_used_at else None,
        revoked_at=aware(row.revoked_at) if row.revoked_at else None,
    )


def _checked_scopes(scopes: Iterable[str]) -> frozenset[str]:
    if isinstance(scopes, str):  # "plans:read" would be taken letter by letter
        scopes = scopes.split()
    chosen = frozenset(scopes)
    unknown = sorted(chosen - SCOPES)
    if unknown or not chosen:
        raise InvalidInput(
            f"scopes must be some of {', '.join(sorted(SCOPES))}"
            + (f", not {', '.join(repr(s[:40]) for s in unknown[:3])}" if unknown else "")
        )
    return chosen


def _checked_name(name: str) -> str:
    clean = " ".join(str(name).split())
    if not 1 <= len(clean) <= 80 or not clean.isprintable():
        raise InvalidInput("a token's name is 1 to 80 printable characters, such as 'nightly sync'")
    return clean


def create_token(
    user_email: str,
    name: str,
    scopes: Iterable[str],
    *,
    uow: UowFactory,
    clock: Clock = utc_now,
    expires_in_days: int = 90,
) -> tuple[TokenView, str]:
    """A new token of the user's; the secret is returned here and never again."""
    clean_name, chosen = _checked_name(name), _checked_scopes(scopes)
    if isinstance(expires_in_days, bool) or not 1 <= expires_in_days <= MAX_DAYS:
        raise InvalidInput(f"a token expires in 1 to {MAX_DAYS} days, not {expires_in_days!r}")
    secret = PREFIX + secrets.token_urlsafe(32)
    now = clock()
    with uow() as u:
        s = u.session
        user = require_user(s, user_email)
        if not user.active:
            raise Forbidden(f"{user.email} is deactivated and may not make access tokens")
        active = s.scalar(
            select(func.count())
            .select_from(AccessTokenRow)
            .where(
                AccessTokenRow.user_id == user.id,
                AccessTokenRow.revoked_at.is_(None),
                AccessTokenRow.expires_at > now,
            )
        )
        if (active or 0) >= MAX_ACTIVE:
            raise Conflict(f"{user.email} has {MAX_ACTIVE} tokens already; revoke one first")
        row = AccessTokenRow(
            user_id=user.id,
            name=clean_name,
            scopes=" ".join(sorted(chosen)),
            secret_hash=digest(secret),
            created_at=now,
            expires_at=now + dt.timedelta(days=expires_in_days),
        )
        s.add(row)
        s.flush()
        audit.Trail(s, user.id, now).access_token(
            "token.created",
            row.id,
            name=clean_name,
            scopes=sorted(chosen),
            expires_at=row.expires_at.isoformat(),
        )
        u.commit()
        return _view(row), secret


def list_tokens(user_email: str, *, uow: UowFactory) -> list[TokenView]:
    """The user's tokens, newest first, revoked and expired ones included."""
    with uow() as u:
        user = require_user(u.session, user_email)
        rows = u.session.scalars(
            select(AccessTokenRow)
            .where(AccessTokenRow.user_id == user.id)
            .order_by(AccessTokenRow.id.desc())
        )
        return [_view(r) for r in rows]


def revoke_token(
    token_id: int, user_email: str, *, uow: UowFactory, clock: Clock = utc_now
) -> TokenView:
    """Revoke one of the user's tokens; revoking it again changes nothing."""
    if isinstance(token_id, bool) or not isinstance(token_id, int):
        raise InvalidInput(f"a token id is a number, not {token_id!r}")
    now = clock()
    with uow() as u:
        s = u.session
        user = require_user(s, user_email)
        row = s.get(AccessTokenRow, token_id)
        if row is None or row.user_id != user.id:
            raise NotFound(f"{user.email} has no access token {token_id}")
        if row.revoked_at is None:
            row.revoked_at = now
            audit.Trail(s, user.id, now).access_token("token.revoked", row.id, name=row.name)
            u.commit()
        return _view(row)


def authenticate_token(
    secret: str, *, uow: UowFactory, clock: Clock = utc_now
) -> tuple[str, frozenset[str]]:
    """The email of the token's user and the token's scopes; Forbidden otherwise."""
    if not isinstance(secret, str) or not _SECRET.match(secret):
        raise Forbidden(REFUSED)  # malformed: refused before any lookup
    hashed = digest(secret)
    now = clock()
    with uow() as u:
        s = u.session
        found = s.execute(
            select(AccessTokenRow, UserRow)
            .join(UserRow, AccessTokenRow.user_id == UserRow.id)
            .where(AccessTokenRow.secret_hash == hashed)
        ).first()
        if found is None:
            raise Forbidden(REFUSED)
        row, user = found
        usable = (
            hmac.compare_digest(row.secret_hash, hashed)
            and row.revoked_at is None
            and now < aware(row.expires_at)
            and user.active
        )
        if not usable:
            raise Forbidden(REFUSED)
        if row.last_used_at is None or now - aware(row.last_used_at) >= _LAST_USED_EVERY:
            row.last_used_at = now
            u.commit()
        return user.email, frozenset(row.scopes.split())
