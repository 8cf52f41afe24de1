"""What every benchmark shares: timing, the machine it ran on, and the report format
(a table for people, then one JSON line for tools)."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any


def median_seconds(work: Callable[[], object], runs: int, *, warm_up: bool = True) -> float:
    """Median wall time of `runs` calls (after one unmeasured call when `warm_up`)."""
    if warm_up:
        work()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
    }


def machine_line() -> str:
    m = machine()
    return f"{m['cpu_count']} CPUs, {m['machine']}, Python {m['python']}"


def print_report(rows: Sequence[tuple[str, str]], figures: dict[str, Any]) -> None:
    rows = [*rows, ("machine", machine_line())]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    print(json.dumps({**machine(), **figures}, sort_keys=True))
    sys.stdout.flush()
