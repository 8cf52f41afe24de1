"""The clock use cases record time with: a function returning an aware UTC datetime.
Tests pass their own; the composition root passes `utc_now`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
