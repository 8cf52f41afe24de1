"""Personal access tokens on SQLite and PostgreSQL: made with scopes, shown once and stored
as SHA-256, listed, revoked by their owner only, expired after their days; hostile secrets
(empty, huge, unicode, revoked, another user's, a near miss) all get the same refusal."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import Engine, select

from aip_forms.db.models import AccessTokenRow, AuditRow
from aip_forms.errors import Conflict, Forbidden, InvalidInput, NotFound
from aip_forms.services.tokens import (
    MAX_ACTIVE,
    REFUSED,
    authenticate_token,
    create_token,
    list_tokens,
    revoke_token,
)
from aip_forms.services.uow import UowFactory, sql_uow
from aip_forms.services.users import add_user, set_active
from tests.support.accounts import Clock, seed_places

ANA = "ana@belen.org"
BEN = "ben@vista.org"


@pytest.fixture
def uow(engine: Engine) -> UowFactory:
    seed_places(engine)
    factory = sql_uow(engine)
    add_user(ANA, "district_coordinator", lea_code="006", uow=factory)
    add_user(BEN, "district_coordinator", lea_code="007", uow=factory)
    return factory


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_token_is_shown_once_stored_hashed_and_grants_its_scopes(
    uow: UowFactory, clock: Clock
) -> None:
    view, secret = create_token(
        ANA, "  nightly   sync ", {"plans:read", "documents:read"}, uow=uow, clock=clock
    )
    assert secret.startswith("aip_") and len(secret) == 47
    assert view.name == "nightly sync"
    assert view.scopes == {"plans:read", "documents:read"}
    assert view.expires_at == clock.now + dt.timedelta(days=90)
    with uow() as u:
        row = u.session.get(AccessTokenRow, view.id)
        assert row is not None
        assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in repr(vars(row))
    assert view.last_used_at is None
    clock.advance(minutes=5)
    assert authenticate_token(secret, uow=uow, clock=clock) == (
        ANA,
        frozenset({"plans:read", "documents:read"}),
    )
    (listed,) = list_tokens(ANA, uow=uow)
    assert listed.last_used_at == clock.now
    assert listed.usable_at(clock.now)
    assert list_tokens(BEN, uow=uow) == []


def test_two_tokens_never_share_a_secret(uow: UowFactory, clock: Clock) -> None:
    made = [create_token(ANA, f"t{i}", {"plans:read"}, uow=uow, clock=clock)[1] for i in range(5)]
    assert len(set(made)) == 5


def test_a_revoked_token_is_refused_and_its_revocation_is_audited(
    uow: UowFactory, clock: Clock
) -> None:
    view, secret = create_token(ANA, "sync", {"plans:write"}, uow=uow, clock=clock)
    clock.advance(minutes=1)
    revoked = revoke_token(view.id, ANA, uow=uow, clock=clock)
    assert revoked.revoked_at == clock.now and not revoked.usable_at(clock.now)
    assert revoke_token(view.id, ANA, uow=uow, clock=clock).revoked_at == revoked.revoked_at
    with pytest.raises(Forbidden, match="not valid"):
        authenticate_token(secret, uow=uow, clock=clock)
    with uow() as u:
        lines = [
            (a.action, a.entity_id, str(a.after))
            for a in u.session.scalars(
                select(AuditRow).where(AuditRow.entity == "access_token").order_by(AuditRow.id)
            )
        ]
    assert [line[:2] for line in lines] == [
        ("token.created", str(view.id)),
        ("token.revoked", str(view.id)),
    ]
    assert all(secret not in after for _, _, after in lines)


def test_another_users_token_cannot_be_revoked_nor_seen(uow: UowFactory, clock: Clock) -> None:
    view, secret = create_token(ANA, "sync", {"plans:read"}, uow=uow, clock=clock)
    with pytest.raises(NotFound, match=f"has no access token {view.id}"):
        revoke_token(view.id, BEN, uow=uow, clock=clock)
    with pytest.raises(NotFound):
        revoke_token(view.id + 1000, ANA, uow=uow, clock=clock)
    assert authenticate_token(secret, uow=uow, clock=clock)[0] == ANA  # still works


def test_a_token_expires_after_its_days(uow: UowFactory, clock: Clock) -> None:
    _, secret = create_token(ANA, "short", {"plans:read"}, uow=uow, clock=clock, expires_in_days=1)
    clock.advance(hours=23, minutes=59)
    assert authenticate_token(secret, uow=uow, clock=clock)[0] == ANA
    clock.advance(minutes=1)
    with pytest.raises(Forbidden, match="not valid"):
        authenticate_token(secret, uow=uow, clock=clock)


def test_a_deactivated_users_tokens_are_refused(uow: UowFactory, clock: Clock) -> None:
    _, secret = create_token(ANA, "sync", {"plans:read"}, uow=uow, clock=clock)
    set_active(ANA, False, uow=uow, clock=clock)
    with pytest.raises(Forbidden, match="not valid"):
        authenticate_token(secret, uow=uow, clock=clock)


def _near_miss(secret: str) -> str:
    last = "A" if secret[-1] != "A" else "B"
    return secret[:-1] + last


@pytest.mark.parametrize(
    "hostile",
    [
        "",
        "aip_",
        "aip_" + "A" * 10_000_000,  # huge: refused before it is hashed or sent anywhere
        "aip_" + "é" * 43,
        "aip_" + "A" * 42 + "\x00",
        "AIP_" + "A" * 43,
        "Bearer aip_" + "A" * 43,
        "aip_" + "A" * 43,  # well formed, unknown
        "' OR 1=1 --",
    ],
    ids=["empty", "prefix", "huge", "unicode", "nul", "case", "bearer", "unknown", "sql"],
)
def test_hostile_secrets_get_one_refusal(uow: UowFactory, clock: Clock, hostile: str) -> None:
    create_token(ANA, "sync", {"plans:read"}, uow=uow, clock=clock)
    with pytest.raises(Forbidden) as caught:
        authenticate_token(hostile, uow=uow, clock=clock)
    assert str(caught.value) == REFUSED


def test_a_secret_one_character_off_is_refused(uow: UowFactory, clock: Clock) -> None:
    _, secret = create_token(ANA, "sync", {"plans:read"}, uow=uow, clock=clock)
    with pytest.raises(Forbidden) as caught:
        authenticate_token(_near_miss(secret), uow=uow, clock=clock)
    assert str(caught.value) == REFUSED


@pytest.mark.parametrize(
    ("name", "scopes", "days", "message"),
    [
        ("sync", set(), 90, "scopes must be some of"),
        ("sync", {"plans:read", "admin"}, 90, "not 'admin'"),
        ("sync", "plans:read plans:delete", 90, "not 'plans:delete'"),
        ("", {"plans:read"}, 90, "1 to 80 printable"),
        ("x" * 81, {"plans:read"}, 90, "1 to 80 printable"),
        ("bell\x07", {"plans:read"}, 90, "1 to 80 printable"),
        ("sync", {"plans:read"}, 0, "1 to 366 days"),
        ("sync", {"plans:read"}, 10_000, "1 to 366 days"),
    ],
)
def test_a_bad_request_is_refused_and_makes_nothing(
    uow: UowFactory, clock: Clock, name: str, scopes: set[str] | str, days: int, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        create_token(ANA, name, scopes, uow=uow, clock=clock, expires_in_days=days)
    assert list_tokens(ANA, uow=uow) == []


def test_a_string_of_scopes_is_read_as_words(uow: UowFactory, clock: Clock) -> None:
    view, _ = create_token(ANA, "sync", "plans:read documents:read", uow=uow, clock=clock)
    assert view.scopes == {"plans:read", "documents:read"}


def test_an_unknown_user_makes_no_token(uow: UowFactory, clock: Clock) -> None:
    with pytest.raises(NotFound, match="no user"):
        create_token("nobody@nm.org", "sync", {"plans:read"}, uow=uow, clock=clock)


def test_a_user_has_a_bounded_number_of_live_tokens(uow: UowFactory, clock: Clock) -> None:
    made = [
        create_token(ANA, f"t{i}", {"plans:read"}, uow=uow, clock=clock)[0]
        for i in range(MAX_ACTIVE)
    ]
    with pytest.raises(Conflict, match="revoke one first"):
        create_token(ANA, "one more", {"plans:read"}, uow=uow, clock=clock)
    revoke_token(made[0].id, ANA, uow=uow, clock=clock)
    assert create_token(ANA, "one more", {"plans:read"}, uow=uow, clock=clock)[0].name == (
        "one more"
    )
    assert [t.name for t in list_tokens(ANA, uow=uow)][:2] == ["one more", f"t{MAX_ACTIVE - 1}"]
