"""A hang detector for tests that feed hostile files: not a speed goal (those are measured in
bench/), only a failure instead of a stuck run."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def hang_guard(seconds: int, what: str = "") -> Iterator[None]:
    def hung(signum: int, frame: object) -> None:
        raise TimeoutError(f"{what + ': ' if what else ''}no answer in {seconds} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
