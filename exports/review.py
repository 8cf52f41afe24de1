"""What a plan document says about its review: plain values, filled by whoever has them.

The submissions store knows a plan's status, reviewer and comments (`exports.stored` reads
them); rendering takes them as this small value so that it does not depend on how they are
stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

When = dt.datetime | dt.date | None


@dataclass(frozen=True)
class ReviewComment:
    author: str
    body: str
    created_at: When = None
    where: str = ""  # "section tiers", "2A Demographic Targets!F7", or "" for the whole plan


@dataclass(frozen=True)
class ReviewInfo:
    status: str = ""  # draft, submitted, returned, resubmitted, approved, ...
    reviewer: str = ""
    reviewed_at: When = None
    submitted_by: str = ""
    submitted_at: When = None
    version: int | None = None
    comments: tuple[ReviewComment, ...] = ()

    @property
    def status_label(self) -> str:
        return self.status.replace("_", " ").strip().capitalize()


def format_when(value: When) -> str:
    """ "October 1, 2026" (a date), "October 1, 2026 14:05" (a time) or "October 1, 2026
    14:05 UTC" (a time with a zone, such as the store records, said in UTC)."""
    if value is None:
        return ""
    zone = ""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value, zone = value.astimezone(dt.UTC), " UTC"
    text = f"{value:%B} {value.day}, {value.year}"
    if isinstance(value, dt.datetime):
        text += f" {value:%H:%M}{zone}"
    return text
