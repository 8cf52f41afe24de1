"""A school's support time under its program's staffing rule, for its plan's data."""

from __future__ import annotations

from collections.abc import Iterable

from aip_forms.issued_data import DataRow, Staffing
from aip_forms.programs.rules import StaffingRule


def school_staffing(
    rule: StaffingRule | None, targeted_grades: tuple[str, ...] | None, grades: Iterable[DataRow]
) -> Staffing | None:
    """The support time of a school from its enrollment in the targeted grades (every grade
    when the program targets none); None when the program has no staffing rule."""
    if rule is None:
        return None
    enrolled = sum(
        r.enrollment or 0 for r in grades if targeted_grades is None or r.code in targeted_grades
    )
    return Staffing(band=rule.band_of(enrolled), days=rule.days_for(enrolled), unit=rule.unit)
