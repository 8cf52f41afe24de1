"""Who may do what with which plan.

Roles (user guide §1-2); a user may hold several, and an action is allowed when any of
them allows it:

| role                 | read              | submit            | review (approve/return/comment) |
| -------------------- | ----------------- | ----------------- | ------------------------------- |
| district_coordinator | its LEA's plans   | its district plan | its LEA's school plans          |
| school_coordinator   | its school's plan | its school's plan | -                               |
| ped_coordinator      | every plan        | -                 | district plans                  |
| ped_reviewer         | every plan        | -                 | -                               |

PED does not submit plans: coordinators write them, PED reviews them. School plans are
reviewed by their district coordinator, district plans by the PED coordinator; PED
reviewers read and download.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from aip_forms.domain import PlanKind


class Role(StrEnum):
    DISTRICT_COORDINATOR = "district_coordinator"
    SCHOOL_COORDINATOR = "school_coordinator"
    PED_COORDINATOR = "ped_coordinator"
    PED_REVIEWER = "ped_reviewer"


class Action(StrEnum):
    READ = "read"
    SUBMIT = "submit"
    REVIEW = "review"


@dataclass(frozen=True)
class Grant:
    role: Role
    lea_code: str | None = None
    school_code: str | None = None

    def __str__(self) -> str:
        where = {
            Role.DISTRICT_COORDINATOR: f" of LEA {self.lea_code}",
            Role.SCHOOL_COORDINATOR: f" of school {self.school_code} (LEA {self.lea_code})",
        }.get(self.role, "")
        return self.role.replace("_", " ") + where


@dataclass(frozen=True)
class PlanRef:
    """Which plan: fiscal year x LEA or school x kind; with a `period`, that plan's progress
    update for the period (issue 12), which the same roles read, submit and review."""

    kind: PlanKind
    fiscal_year: int
    lea_code: str
    school_code: str | None = None
    period: str | None = None

    @property
    def storage_kind(self) -> str:
        """What the stored objects are: "district"/"school", or "progress-80"."""
        return f"progress-{self.period.lower()}" if self.period else self.kind.value

    @property
    def plan(self) -> PlanRef:
        """The plan itself (a progress update's plan)."""
        return PlanRef(self.kind, self.fiscal_year, self.lea_code, self.school_code)

    def __str__(self) -> str:
        who = (
            f"school {self.school_code} (LEA {self.lea_code})"
            if self.school_code
            else (f"LEA {self.lea_code}")
        )
        update = f"{period_name(self.period)} of " if self.period else ""
        return f"the {update}FY{self.fiscal_year} {self.kind} plan of {who}"


def period_name(period: str) -> str:
    """ "80-day progress update", "end-of-year progress update" (period codes 40, 80, 120,
    EOY)."""
    return f"{period}-day progress update" if period.isdigit() else "end-of-year progress update"


def allows(grant: Grant, action: Action, plan: PlanRef) -> bool:
    own_lea = grant.lea_code == plan.lea_code
    match grant.role:
        case Role.PED_COORDINATOR:
            return action is Action.READ or (
                action is Action.REVIEW and plan.kind is PlanKind.DISTRICT
            )
        case Role.PED_REVIEWER:
            return action is Action.READ
        case Role.DISTRICT_COORDINATOR:
            if not own_lea:
                return False
            if action is Action.READ:
                return True
            district = plan.kind is PlanKind.DISTRICT
            return district if action is Action.SUBMIT else not district
        case Role.SCHOOL_COORDINATOR:
            own_school = (
                own_lea and plan.kind is PlanKind.SCHOOL and grant.school_code == plan.school_code
            )
            return own_school and action in (Action.READ, Action.SUBMIT)
    return False


def can(grants: Iterable[Grant], action: Action, plan: PlanRef) -> bool:
    return any(allows(g, action, plan) for g in grants)


def refusal(who: str, grants: Iterable[Grant], action: Action, plan: PlanRef) -> str | None:
    """None when allowed; else a one-line reason naming the user's roles."""
    grants = list(grants)
    if can(grants, action, plan):
        return None
    roles = "; ".join(str(g) for g in grants) or "no roles"
    verb = {Action.READ: "read", Action.SUBMIT: "submit", Action.REVIEW: "review"}[action]
    return f"{who} may not {verb} {plan} (roles: {roles})"


def may_submit_any(grants: Iterable[Grant]) -> bool:
    """Coordinators submit; a user with only PED roles never does."""
    return any(g.role in (Role.DISTRICT_COORDINATOR, Role.SCHOOL_COORDINATOR) for g in grants)
