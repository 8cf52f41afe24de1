"""What a plan document says about its review and its progress through the year: plain
values, filled by whoever has them.

The submissions store knows a plan's status, reviewer and comments, and its progress
updates (`aip_forms.services.stored_plans` reads them); rendering takes them as these small
values so that it does not depend on how they are stored.
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
class GroupRate:
    """A subgroup's or grade's chronic absence rate (percent) in a reporting period, with
    its number of students when PED's data has it (the documents hide small groups)."""

    group_type: str  # "subgroup" or "grade"
    code: str
    rate: float
    students: int | None = None


@dataclass(frozen=True)
class Reflection:
    """What an approved progress update said about one strategy."""

    ref: str  # "1.2": tier 1, its second strategy
    strategy: str
    rating: str
    reflection: str


@dataclass(frozen=True)
class PeriodProgress:
    """One reporting period of the plan: PED's rates (when loaded) and the plan's progress
    update for it: its status, and (once approved) its adjusted targets and reflections."""

    code: str  # "40", "80", "120", "EOY"
    label: str
    update_status: str = ""  # "" when no update was started
    rates: tuple[GroupRate, ...] = ()
    adjusted: tuple[tuple[str, str, float], ...] = ()  # (group type, code, fraction)
    reflections: tuple[Reflection, ...] = ()

    @property
    def loaded(self) -> bool:
        return bool(self.rates)


@dataclass(frozen=True)
class ReviewInfo:
    status: str = ""  # draft, submitted, returned, resubmitted, approved, ...
    reviewer: str = ""
    reviewed_at: When = None
    submitted_by: str = ""
    submitted_at: When = None
    version: int | None = None
    sha256: str = ""  # of the stored version's workbook: a printout checks against it
    comments: tuple[ReviewComment, ...] = ()
    progress: tuple[PeriodProgress, ...] = ()  # the plan's reporting periods, in order

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
