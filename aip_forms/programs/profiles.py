"""The built-in program profiles: `nm` (New Mexico, NMSA 22-12A) and `lausd` (Los Angeles
Unified's Attendance Improvement Program, ../shared/reference/lausd-attendance-improvement-
program.txt). `AIP_PROGRAM` names one; a JSON file (`AIP_PROGRAM_CONFIG`) overrides any value
of it, so a new program is a file that starts from the closer profile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aip_forms.programs.rules import (
    Metric,
    MetricKind,
    SelectionKind,
    SelectionRule,
    StaffingRule,
    TargetKind,
    TargetRule,
    per_students,
)


def nm() -> dict[str, Any]:
    """New Mexico's rules are ProgramConfig's defaults."""
    return {"profile": "nm"}


def lausd() -> dict[str, Any]:
    """Los Angeles Unified's AIP. The reference's staffing table lost its values; the bands
    follow its rule of one counselor day a week per 50 students in the targeted grade, up to
    a five-day week (0-50: 1, 51-100: 2, 101-150: 3, 151-200: 4, 201 or more: 5). Its school
    plan is `lausd_spec.lausd_school_spec`, in the profile's words."""
    from aip_forms.domain import PlanKind
    from aip_forms.programs.lausd_spec import lausd_school_spec
    from aip_forms.spec import Wording

    metric = Metric(
        kind=MetricKind.ATTENDANCE_AT_OR_ABOVE,
        threshold_pct=96.0,
        name="share of students attending 96% or more",
        counted_label="attending 96% or more of their days",
        title="Attending 96%+",
        problem="low attendance",
        rates="shares of students attending 96% or more",
    )
    target_rule = TargetRule(kind=TargetKind.POINTS_ABOVE_PREVIOUS, points=5.0)
    values: dict[str, Any] = {
        "profile": "lausd",
        "state": "California",
        "agency": "Los Angeles Unified School District",
        "agency_short": "LAUSD",
        "program_name": "Attendance Improvement Program",
        "legal_basis": "LAUSD's Attendance Improvement Program",
        "eoy_report_basis": "of the Attendance Improvement Program",
        "official_site_of": "the Los Angeles Unified School District",
        "time_zone": "America/Los_Angeles",
        "owner": "Los Angeles Unified",
        "portal_name": "LAUSD Attendance Improvement Program portal",
        "email_example": "name@lausd.net",
        "contact_example": ("kgarcia@lausd.net", "213-555-0142"),
        "email_domain": "lausd.net",
        "totp_issuer": "LAUSD AIP",
        "metric": metric,
        "targeted_grades": ("K", "9"),  # TK/K and grade 9; TK students are reported under K
        "target_rule": target_rule,
        "selection": SelectionRule(
            kind=SelectionKind.LOWEST_RATES,
            index_below=800.0,
            index_label="Academic Performance Index",
        ),
        "staffing": StaffingRule(
            unit="counselor days per week", bands=per_students(50, (1, 2, 3, 4, 5))
        ),
    }
    wording = Wording.of(metric, values["agency_short"], target_rule, values["contact_example"])
    values["forms"] = {PlanKind.SCHOOL: lausd_school_spec(wording)}
    return values


PROFILES: dict[str, Callable[[], dict[str, Any]]] = {"nm": nm, "lausd": lausd}


def profile_values(name: str) -> dict[str, Any]:
    """The values of the built-in profile `name` (ValueError naming the known ones)."""
    key = (name or "nm").strip().lower()
    if key not in PROFILES:
        raise ValueError(
            f"AIP_PROGRAM must name a program profile ({', '.join(PROFILES)}), not {name!r}"
        )
    return PROFILES[key]()
