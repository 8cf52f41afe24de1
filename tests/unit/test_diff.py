"""Field-by-field diff of two plans, and where a cell sits in the spec."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from aip_forms.domain import PlanKind
from aip_forms.errors import InvalidInput
from aip_forms.filled_plan import Plan, PlanRow, PlanSection
from aip_forms.services.diff import diff_plans, flatten, place_of
from aip_forms.services.review import parse_target
from aip_forms.spec import school_spec
from tests.support.nm import NM


def school_plan(**changes: Any) -> dict[str, Any]:
    """A small school plan JSON; `changes` override section values by "section.key"."""
    values: dict[str, Any] = {
        "contact.first_name": "Kristin",
        "contact.email": "kgarcia@belen.k12.nm.us",
        "root_cause.barriers": "Transportation gaps",
        "certification.date": dt.date(2026, 9, 15),
        "certification.confirm": True,
    } | {k: v for k, v in changes.items() if "." in k}
    sections: dict[str, PlanSection] = {}
    for path, value in values.items():
        section, key = path.split(".")
        sections.setdefault(section, PlanSection()).fields[key] = value
    sections["demographics"] = PlanSection(tables={"subgroups": [
        PlanRow(row=6, code="all", values={"group": "All Students", "target": 0.12}),
        PlanRow(row=7, code="female", values={"group": "Female", "target": changes.get("f", 0.1)}),
    ]})  # fmt: skip
    sections["tiers"] = PlanSection(tables={"tier1": [
        PlanRow(row=7, values={"strategy": "Parent Outreach Programs",
                               "timeline": changes.get("timeline")}),
    ]})  # fmt: skip
    plan = Plan(kind=PlanKind.SCHOOL, spec_version=1, fiscal_year=2027, lea_code="006",
                school_code="006001", sections=sections)  # fmt: skip
    return plan.to_json_dict()


def test_identical_plans_have_no_changes() -> None:
    assert diff_plans(school_plan(), school_plan(), NM) == []


def test_a_changed_field_names_its_label_sheet_and_cell() -> None:
    changes = diff_plans(school_plan(), school_plan(**{"contact.first_name": "Kris"}), NM)
    assert [(c.path, c.label, c.sheet, c.cell, c.change, c.before, c.after) for c in changes] == [
        ("contact.first_name", "Contact First Name", "1 Contact Information", "C10", "changed",
         "Kristin", "Kris"),
    ]  # fmt: skip


def test_table_rows_are_matched_by_group_code_and_fixed_rows_by_row() -> None:
    before = school_plan()
    after = school_plan(f=0.08, timeline="Launch by October 15")
    changes = {c.path: c for c in diff_plans(before, after, NM)}
    assert set(changes) == {
        "demographics.subgroups[female].target",
        "tiers.tier1[row 1].timeline",
    }
    target = changes["demographics.subgroups[female].target"]
    assert (target.cell, target.before, target.after, target.change) == ("F7", 0.1, 0.08, "changed")
    assert changes["tiers.tier1[row 1].timeline"].change == "added"
    assert changes["tiers.tier1[row 1].timeline"].cell == "F7"


def test_removed_values_and_dates_compare_by_value() -> None:
    after = school_plan(**{"root_cause.barriers": None, "certification.date": dt.date(2026, 9, 15)})
    changes = diff_plans(school_plan(), after, NM)
    assert [(c.path, c.change) for c in changes] == [("root_cause.barriers", "removed")]


def test_a_district_plan_and_a_school_plan_are_not_compared() -> None:
    district = Plan(kind=PlanKind.DISTRICT, spec_version=1, fiscal_year=2027, lea_code="006")
    with pytest.raises(InvalidInput):
        diff_plans(school_plan(), district.to_json_dict(), NM)


def test_flatten_covers_every_field_of_the_spec_in_order() -> None:
    entries = flatten(school_plan(), school_spec())
    spec_fields = [f"{s.key}.{f.key}" for s in school_spec().sections for f in s.fields]
    assert [p for p in entries if "[" not in p] == spec_fields


@pytest.mark.parametrize(
    ("sheet", "cell", "path"),
    [
        ("1 Contact Information", "C10", "contact.first_name"),
        ("3 Root Cause Analysis", "B6", "root_cause.research"),
        ("4 Tiers of Support", "A7", "tiers.tier1[row 1].strategy"),
        ("4 Tiers of Support", "C12", "tiers.tier1[row 6].action_steps"),
        ("2A Demographic Targets", "F9", "demographics.subgroups[row 4].target"),
        ("1 Contact Information", "Z99", None),
    ],
)
def test_place_of_a_cell(sheet: str, cell: str, path: str | None) -> None:
    assert place_of(school_spec(), sheet, cell).path == path


def test_a_tier_table_ends_at_its_last_input_row() -> None:
    tier1 = school_spec().section("tiers").tables[0]
    after_last = f"A{tier1.first_row + tier1.rows}"
    assert place_of(school_spec(), "4 Tiers of Support", after_last).path != (
        f"tiers.tier1[row {tier1.rows + 1}].strategy"
    )


@pytest.mark.parametrize(
    ("cell", "section", "expected"),
    [
        ("'1 Contact Information'!C10", None, ("contact", "C10", "contact.first_name")),
        ("1 Contact Information!c10", None, ("contact", "C10", "contact.first_name")),
        (None, "4", ("tiers", None, None)),
        (None, "Root_Cause", ("root_cause", None, None)),
        (None, "3 Root Cause Analysis", ("root_cause", None, None)),
        (None, None, (None, None, None)),
    ],
)
def test_comment_targets(
    cell: str | None, section: str | None, expected: tuple[str | None, ...]
) -> None:
    target = parse_target(school_spec(), cell, section)
    assert (target.section, target.cell, target.field) == expected


def test_a_cell_outside_the_named_section_is_refused() -> None:
    with pytest.raises(InvalidInput, match="is in section contact"):
        parse_target(school_spec(), "'1 Contact Information'!C10", "tiers")
