"""Throttling: back-off after failed sign-ins, and quotas of uploads, per key, kept in the
database or Redis.

Keys are "account:<email>" and "address:<client address>". A key's first `free` failures
cost nothing; each later one blocks the key for `base * 2**n` seconds, at most `cap`.
While blocked, sign-in refuses without looking at the password (and does not count the
attempt), so a stranger cannot push an account's wait past the cap; once it ends, the
right password and code work again. A success clears the account's key. Failures are
forgotten after a day without one.

    throttle.blocked_for("account:a@x.org", now)           # seconds left, 0.0 when free
    throttle.failed("account:a@x.org", rule, now)           # seconds now blocked
    throttle.cleared("account:a@x.org")
    throttle.spend("uploads:a@x.org:minute", Quota(10, 60), now)  # 0.0, or seconds to wait

A quota counts events in fixed windows aligned to the clock (a minute quota resets on the
minute); an event over the quota is refused and not counted.

`SqlThrottle` (a row per key; the default) and `RedisThrottle` (a hash per key, from
AIP_REDIS_URL) behave alike; one contract test suite runs on both. Redis errors stop here
as `Unavailable`.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from aip_forms.config import AccountPolicy
from aip_forms.db.models import ThrottleRow
from aip_forms.errors import TooManyRequests, Unavailable
from aip_forms.services.uow import UowFactory, aware

if TYPE_CHECKING:
    import redis

FORGET_AFTER = dt.timedelta(days=1)
log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Rule:
    free: int  # failures that cost nothing
    base_seconds: int
    cap_seconds: int

    def delay(self, failures: int) -> float:
        """Seconds blocked after the `failures`-th failure in a row."""
        over = failures - self.free
        if over <= 0:
            return 0.0
        return float(min(self.cap_seconds, self.base_seconds * 2 ** min(over - 1, 30)))


def account_rule(policy: AccountPolicy) -> Rule:
    return Rule(
        policy.account_free_failures, policy.account_base_seconds, policy.account_cap_seconds
    )


def address_rule(policy: AccountPolicy) -> Rule:
    return Rule(
        policy.address_free_failures, policy.address_base_seconds, policy.address_cap_seconds
    )


@dataclass(frozen=True)
class Quota:
    events: int  # allowed in each window
    seconds: int  # the window's length

    def window(self, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """The window `now` falls in: (start, end), aligned to the epoch."""
        start = int(now.timestamp()) // self.seconds * self.seconds
        begins = dt.datetime.fromtimestamp(start, dt.UTC)
        return begins, begins + dt.timedelta(seconds=self.seconds)


class TooManyUploads(TooManyRequests):
    """A user's uploads over the quota of a minute or an hour."""

    def __init__(self, events: int, per: str, seconds: float) -> None:
        self.retry_after = max(1, math.ceil(seconds))
        wait = (
            f"{self.retry_after} seconds"
            if self.retry_after < 120
            else f"{-(-self.retry_after // 60)} minutes"
        )
        super().__init__(
            f"you have uploaded {events} workbooks in this {per}, the most allowed; this one "
            f"was not checked or stored. Try again in {wait}."
        )


def spend_upload(throttle: Throttle, who: str, policy: AccountPolicy, now: dt.datetime) -> None:
    """Count one upload (a check or a submit) by `who` (an email) against the policy's
    quotas; TooManyUploads when it is over one of them. When the throttle's store is down
    the upload goes on uncounted (logged): a coordinator on deadline day is not refused
    because Redis is (README "Failures")."""
    quotas = (
        ("minute", Quota(policy.uploads_per_minute, 60)),
        ("hour", Quota(policy.uploads_per_hour, 3600)),
    )
    for per, quota in quotas:
        try:
            wait = throttle.spend(f"uploads:{who.lower()}:{per}", quota, now)
        except Unavailable as e:
            log.warning("upload quota not counted: %s", e)
            return
        if wait > 0:
            raise TooManyUploads(quota.events, per, wait)


class Throttle(Protocol):
    def blocked_for(self, key: str, now: dt.datetime) -> float: ...

    def failed(self, key: str, rule: Rule, now: dt.datetime) -> float: ...

    def cleared(self, key: str) -> None: ...

    def spend(self, key: str, quota: Quota, now: dt.datetime) -> float:
        """Count one event of `key`: 0.0 when the quota allows it, else the seconds until
        its window ends (the event is not counted)."""
        ...


def _left(until: dt.datetime | None, now: dt.datetime) -> float:
    return max(0.0, (until - now).total_seconds()) if until else 0.0


class SqlThrottle:
    """Counters in the `throttle` table, each change in its own short transaction (so a
    refused sign-in still counts when the use case rolls back)."""

    def __init__(self, uow: UowFactory) -> None:
        self.uow = uow

    def blocked_for(self, key: str, now: dt.datetime) -> float:
        with self.uow() as u:
            row = u.session.get(ThrottleRow, key)
            until = aware(row.blocked_until) if row and row.blocked_until else None
            return _left(until, now)

    def failed(self, key: str, rule: Rule, now: dt.datetime) -> float:
        for _ in range(3):
            with self.uow() as u:
                s = u.session
                row = s.scalar(select(ThrottleRow).where(ThrottleRow.key == key).with_for_update())
                if row is None:
                    row = ThrottleRow(key=key, failures=0, last_failure_at=now)
                    s.add(row)
                elif now - aware(row.last_failure_at) > FORGET_AFTER:
                    row.failures = 0
                row.failures += 1
                row.last_failure_at = now
                delay = rule.delay(row.failures)
                row.blocked_until = now + dt.timedelta(seconds=delay) if delay else None
                try:
                    u.commit()
                except IntegrityError:
                    continue  # a concurrent first failure made the row: count on it
                return delay
        raise Unavailable("sign-in throttling could not be recorded; try again")

    def cleared(self, key: str) -> None:
        with self.uow() as u:
            row = u.session.get(ThrottleRow, key)
            if row is not None:
                u.session.delete(row)
                u.commit()

    def spend(self, key: str, quota: Quota, now: dt.datetime) -> float:
        """The window's count in `failures`, its start in `last_failure_at`."""
        start, end = quota.window(now)
        for _ in range(3):
            with self.uow() as u:
                s = u.session
                row = s.scalar(select(ThrottleRow).where(ThrottleRow.key == key).with_for_update())
                if row is None:
                    row = ThrottleRow(key=key, failures=0, last_failure_at=start)
                    s.add(row)
                elif aware(row.last_failure_at) != start:
                    row.failures, row.last_failure_at = 0, start
                if row.failures >= quota.events:
                    return (end - now).total_seconds()
                row.failures += 1
                try:
                    u.commit()
                except IntegrityError:
                    continue  # a concurrent first event made the row: count on it
                return 0.0
        raise Unavailable("the upload quota could not be recorded; try again")


class RedisThrottle:
    """Counters in Redis: hash `aip:throttle:<key>` with `failures`, `last` and `until`
    (POSIX seconds), expiring a day after the last failure."""

    PREFIX = "aip:throttle:"

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    @classmethod
    def from_url(cls, url: str) -> RedisThrottle:
        import redis as redis_lib

        return cls(redis_lib.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5))

    def blocked_for(self, key: str, now: dt.datetime) -> float:
        until = self._call(lambda: self.client.hget(self.PREFIX + key, "until"))
        return max(0.0, float(until) - now.timestamp()) if until else 0.0

    def failed(self, key: str, rule: Rule, now: dt.datetime) -> float:
        name = self.PREFIX + key

        def record() -> float:
            last = self.client.hget(name, "last")
            if last and now.timestamp() - float(last) > FORGET_AFTER.total_seconds():
                self.client.delete(name)
            failures = int(self.client.hincrby(name, "failures", 1))
            delay = rule.delay(failures)
            with self.client.pipeline() as pipe:
                pipe.hset(name, mapping={"last": now.timestamp(), "until": now.timestamp() + delay})
                pipe.expire(name, int(FORGET_AFTER.total_seconds()))
                pipe.execute()
            return delay

        return self._call(record)

    def cleared(self, key: str) -> None:
        self._call(lambda: self.client.delete(self.PREFIX + key))

    def spend(self, key: str, quota: Quota, now: dt.datetime) -> float:
        """A counter per window, `aip:throttle:<key>:<window start>`, expiring with it."""
        start, end = quota.window(now)
        name = f"{self.PREFIX}{key}:{int(start.timestamp())}"

        def count() -> int:
            with self.client.pipeline() as pipe:
                pipe.incr(name)
                pipe.expire(name, quota.seconds + 60)
                counted, _ = pipe.execute()
            return int(counted)

        if self._call(count) <= quota.events:
            return 0.0
        self._call(lambda: self.client.decr(name))  # refused: not counted
        return (end - now).total_seconds()

    def close(self) -> None:
        self.client.close()

    def _call(self, action: Callable[[], T]) -> T:
        import redis as redis_lib

        try:
            return action()
        except redis_lib.RedisError as e:
            raise Unavailable(f"the throttling store (Redis) is unavailable: {e}") from e
