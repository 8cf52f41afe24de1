"""The throttle contract, run on every store: the database (SQLite and PostgreSQL) and a
real redis-server started for the test. Then the back-off through sign-in itself: a
stranger cannot lock a user out for longer than the cap, and the right password and code
work once the wait is over."""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from aip_forms.config import AccountPolicy
from aip_forms.db.session import make_engine, upgrade
from aip_forms.errors import InvalidInput, Unavailable
from aip_forms.services.signin import TooManyAttempts
from aip_forms.services.throttle import (
    Quota,
    RedisThrottle,
    Rule,
    SqlThrottle,
    Throttle,
    TooManyUploads,
    account_rule,
    spend_upload,
)
from aip_forms.services.uow import sql_uow
from tests.support.accounts import PASSWORD, START, Portal, seed_places
from tests.support.postgres import PostgresServer
from tests.support.redis import redis_server

RULE = Rule(free=2, base_seconds=10, cap_seconds=60)
KEY = "account:a@belen.org"


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres), "redis"])
def throttle(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Throttle]:
    """Each store, empty: a database of either kind (as conftest's `engine`), or Redis."""
    if request.param == "redis":
        store = RedisThrottle.from_url(request.getfixturevalue("redis_url"))
        store.client.flushdb()
        yield store
        store.close()
        return
    server: PostgresServer | None = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'throttle.db'}"
    else:
        server = request.getfixturevalue("postgres")
        name = server.create_database()
        url = server.url(name)
    engine = make_engine(url)
    upgrade(engine)
    yield SqlThrottle(sql_uow(engine))
    engine.dispose()
    if server is not None:
        server.drop_database(name)


def at(seconds: float) -> dt.datetime:
    return START + dt.timedelta(seconds=seconds)


def test_the_first_failures_are_free(throttle: Throttle) -> None:
    assert throttle.blocked_for(KEY, at(0)) == 0
    assert throttle.failed(KEY, RULE, at(0)) == 0
    assert throttle.failed(KEY, RULE, at(1)) == 0
    assert throttle.blocked_for(KEY, at(1)) == 0


def test_each_further_failure_doubles_the_wait_up_to_the_cap(throttle: Throttle) -> None:
    waits = [throttle.failed(KEY, RULE, at(0)) for _ in range(7)]
    assert waits == [0, 0, 10, 20, 40, 60, 60]
    assert throttle.blocked_for(KEY, at(0)) == 60
    assert throttle.blocked_for(KEY, at(59)) == pytest.approx(1)
    assert throttle.blocked_for(KEY, at(60)) == 0


def test_keys_are_counted_apart_and_cleared_by_a_success(throttle: Throttle) -> None:
    for _ in range(3):
        throttle.failed(KEY, RULE, at(0))
    assert throttle.blocked_for(KEY, at(0)) == 10
    assert throttle.blocked_for("account:b@belen.org", at(0)) == 0
    throttle.cleared(KEY)
    assert throttle.blocked_for(KEY, at(0)) == 0
    assert throttle.failed(KEY, RULE, at(0)) == 0  # counting starts again


def test_failures_are_forgotten_after_a_quiet_day(throttle: Throttle) -> None:
    for _ in range(3):
        throttle.failed(KEY, RULE, at(0))
    assert throttle.failed(KEY, RULE, at(24 * 3600 + 1)) == 0


# ---- quotas (uploads) ----------------------------------------------------------------------

QUOTA = Quota(events=3, seconds=60)  # START is on the minute


def test_a_quota_allows_its_events_in_a_window_then_says_when_it_ends(throttle: Throttle) -> None:
    assert [throttle.spend(KEY, QUOTA, at(n)) for n in range(3)] == [0, 0, 0]
    assert throttle.spend(KEY, QUOTA, at(20)) == 40  # the window ends on the minute
    assert throttle.spend(KEY, QUOTA, at(59.5)) == pytest.approx(0.5)
    assert throttle.spend("uploads:b@belen.org:minute", QUOTA, at(30)) == 0  # its own count


def test_a_refused_event_is_not_counted_and_a_new_window_starts_afresh(
    throttle: Throttle,
) -> None:
    for n in range(10):  # 3 allowed, 7 refused
        throttle.spend(KEY, QUOTA, at(n))
    assert [throttle.spend(KEY, QUOTA, at(60 + n)) for n in range(4)] == [0, 0, 0, 57]
    assert throttle.spend(KEY, QUOTA, at(3600)) == 0  # windows later: free again


def test_spend_upload_refuses_over_a_minute_or_an_hour(throttle: Throttle) -> None:
    policy = AccountPolicy(uploads_per_minute=2, uploads_per_hour=3)
    spend_upload(throttle, "A@Belen.org", policy, at(0))
    spend_upload(throttle, "a@belen.org", policy, at(1))  # the same user, any case
    with pytest.raises(TooManyUploads) as minute:
        spend_upload(throttle, "a@belen.org", policy, at(2))
    assert minute.value.retry_after == 58
    assert str(minute.value) == (
        "you have uploaded 2 workbooks in this minute, the most allowed; this one was not "
        "checked or stored. Try again in 58 seconds."
    )
    spend_upload(throttle, "a@belen.org", policy, at(60))
    with pytest.raises(TooManyUploads, match="3 workbooks in this hour") as hour:
        spend_upload(throttle, "a@belen.org", policy, at(120))
    assert hour.value.retry_after == 3600 - 120
    assert "Try again in 58 minutes" in str(hour.value)
    spend_upload(throttle, "other@belen.org", policy, at(120))  # others are not affected


def test_uploads_go_on_uncounted_while_redis_is_down(caplog: pytest.LogCaptureFixture) -> None:
    store = RedisThrottle.from_url(f"redis://127.0.0.1:{_closed_port()}/0")
    policy = AccountPolicy(uploads_per_minute=1)
    for n in range(3):  # over the quota, but nothing can count it
        spend_upload(store, "a@belen.org", policy, at(n))
    assert "upload quota not counted" in caplog.text and "Redis" in caplog.text


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_redis_that_is_down_is_unavailable() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = RedisThrottle.from_url(f"redis://127.0.0.1:{port}/0")
    with pytest.raises(Unavailable, match="Redis"):
        store.blocked_for(KEY, at(0))


# ---- through sign-in ----------------------------------------------------------------------


@pytest.fixture
def portal(engine: Engine, tmp_path: Path) -> Iterator[Portal]:
    seed_places(engine)
    yield Portal(engine, tmp_path)


def test_a_stranger_cannot_lock_a_user_out_for_longer_than_the_cap(portal: Portal) -> None:
    user = portal.coordinator()
    policy = portal.policy
    cap = policy.account_cap_seconds
    # strangers from many addresses, so that only the account's counter grows
    for n in range(40):
        try:
            portal.start(user, f"Guess-{n}#Password", client=f"203.0.113.{n}")
        except TooManyAttempts as e:
            assert e.retry_after <= cap
            portal.clock.advance(seconds=e.retry_after)
        except InvalidInput:
            pass
    with pytest.raises(TooManyAttempts) as blocked:
        for n in range(10):
            portal.start(user, "Another-Guess#1", client=f"198.51.100.{n}")
    assert blocked.value.retry_after <= cap
    assert "try again in" in str(blocked.value)
    portal.clock.advance(seconds=cap)
    assert portal.sign_in(user, PASSWORD).user.email == user
    assert "signin.locked" in portal.audit_actions()


def test_an_address_with_many_failures_is_blocked_longer_across_accounts(
    portal: Portal,
) -> None:
    policy = portal.policy
    for n in range(policy.address_free_failures):
        with pytest.raises(InvalidInput):
            portal.start(f"user{n}@belen.org", "Wrong-Password#1", client="192.0.2.9")
    with pytest.raises(InvalidInput):
        portal.start("one-more@belen.org", "Wrong-Password#1", client="192.0.2.9")
    with pytest.raises(TooManyAttempts) as blocked:
        portal.start("yet-another@belen.org", "Wrong-Password#1", client="192.0.2.9")
    assert blocked.value.retry_after == policy.address_base_seconds
    # another address is not affected
    with pytest.raises(InvalidInput):
        portal.start("yet-another@belen.org", "Wrong-Password#1", client="192.0.2.10")


def test_blocked_answers_are_the_same_for_known_and_unknown_emails(portal: Portal) -> None:
    known = portal.coordinator()
    answers = []
    for email in (known, "nobody@belen.org"):
        for n in range(AccountPolicy().account_free_failures + 1):
            with contextlib.suppress(InvalidInput, TooManyAttempts):
                portal.start(email, "Wrong-Password#1", client=f"203.0.113.{n}")
        with pytest.raises(TooManyAttempts) as blocked:
            portal.start(email, PASSWORD, client="203.0.113.99")
        answers.append((str(blocked.value), blocked.value.retry_after))
    assert answers[0] == answers[1]
    assert account_rule(portal.policy).delay(portal.policy.account_free_failures + 1) == 30


# ---- the composition root -----------------------------------------------------------------


def test_the_composition_root_picks_redis_when_a_url_is_set(redis_url: str, tmp_path: Path) -> None:
    from aip_forms.bootstrap import App

    env = {"AIP_HOME": str(tmp_path), "AIP_SECRET_KEY": "k"}
    with App.from_env(env) as app:
        assert isinstance(app.throttle, SqlThrottle)
        assert app.accounts.password_min_length == 12
        assert "redis" not in repr(app.settings)
    with App.from_env({**env, "AIP_REDIS_URL": redis_url}) as app:
        throttle = app.throttle
        assert isinstance(throttle, RedisThrottle)
        # a key of its own: the module's Redis server is shared with the other tests
        assert throttle.failed(f"account:{secrets.token_hex(8)}@belen.org", RULE, at(0)) == 0
    with pytest.raises(InvalidInput, match="AIP_REDIS_URL"):
        assert App.from_env({**env, "AIP_REDIS_URL": "http://not-redis"}).throttle


def test_the_account_policy_comes_from_the_program_config(tmp_path: Path) -> None:
    import json

    from aip_forms.bootstrap import App

    config = tmp_path / "program.json"
    config.write_text(json.dumps({"accounts": {"code_tries": 3, "account_cap_seconds": 600}}))
    env = {"AIP_HOME": str(tmp_path), "AIP_SECRET_KEY": "k", "AIP_PROGRAM_CONFIG": str(config)}
    app = App.from_env(env)
    assert (app.accounts.code_tries, app.accounts.account_cap_seconds) == (3, 600)
    config.write_text(json.dumps({"accounts": {"code_tries": 0}}))
    with pytest.raises(InvalidInput, match="code_tries"):
        App.from_env(env)
