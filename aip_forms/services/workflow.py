"""The plan's state machine: draft -> submitted -> returned -> resubmitted -> approved.

- An upload without `final` is a draft: it keeps a draft plan a draft and a returned plan
  returned (the coordinator is revising). A `final` upload (with certification) submits a
  draft plan and resubmits a returned one.
- A submitted or resubmitted plan is under review: no upload replaces it until a reviewer
  returns it. An approved plan is closed.
- A reviewer approves or returns a plan under review, never another.

Each submission (version) has its own status: draft, submitted (the version under review),
returned or approved.
"""

from __future__ import annotations

from enum import StrEnum

from aip_forms.errors import Conflict


class PlanStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    RESUBMITTED = "resubmitted"
    APPROVED = "approved"


class VersionStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"


class Decision(StrEnum):
    APPROVE = "approve"
    RETURN = "return"


UNDER_REVIEW = frozenset({PlanStatus.SUBMITTED, PlanStatus.RESUBMITTED})


def after_upload(status: PlanStatus, final: bool) -> PlanStatus:
    """The plan's status after a new version is uploaded; Conflict if it may not be."""
    if status in UNDER_REVIEW:
        raise Conflict(
            f"the plan is {status} and under review; it cannot be replaced until the "
            "reviewer returns it"
        )
    if status is PlanStatus.APPROVED:
        raise Conflict("the plan is approved; an approved plan is not replaced")
    if status is PlanStatus.RETURNED:
        return PlanStatus.RESUBMITTED if final else PlanStatus.RETURNED
    return PlanStatus.SUBMITTED if final else PlanStatus.DRAFT


def version_status(final: bool) -> VersionStatus:
    return VersionStatus.SUBMITTED if final else VersionStatus.DRAFT


def after_review(status: PlanStatus, decision: Decision) -> PlanStatus:
    if status not in UNDER_REVIEW:
        raise Conflict(f"only a submitted plan can be approved or returned; this plan is {status}")
    return PlanStatus.APPROVED if decision is Decision.APPROVE else PlanStatus.RETURNED


def version_after_review(decision: Decision) -> VersionStatus:
    return VersionStatus.APPROVED if decision is Decision.APPROVE else VersionStatus.RETURNED
