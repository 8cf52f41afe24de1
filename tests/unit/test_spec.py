"""The form spec: one source for generation, validation and rendering."""

import itertools
import re

import pytest
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

from aip_forms.domain import PlanKind
from aip_forms.spec import (
    SPEC_VERSION,
    SUPPORTED_SPEC_VERSIONS,
    FieldType,
    RowSource,
    district_spec,
    school_spec,
    spec_for,
)

SPECS = [district_spec(), school_spec()]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.kind)
def test_sheet_names_are_unique_and_fit_excel(spec):
    names = [s.sheet for s in spec.sections]
    assert len(names) == len(set(names))
    for name in names:
        assert len(name) <= 31
        assert not set(name) & set("[]:*?/\\")


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.kind)
def test_defined_names_are_unique_and_valid(spec):
    names = []
    for section in spec.sections:
        names += [spec.field_name(section, f) for f in section.fields]
        for table in section.tables:
            names += [spec.field_name(section, c, table) for c in table.columns]
    assert len(names) == len(set(names))
    for name in names:
        assert re.fullmatch(r"aip_[a-z0-9_]+", name), name
        assert len(name) <= 255


def _occupied(section):
    """Every cell a section's fields and table headers use, as (row, col)."""
    cells = []
    for f in section.fields:
        col, row = coordinate_from_string(f.cell)
        cells.append((row, column_index_from_string(col)))
    for t in section.tables:
        for c in t.columns:
            cells.append((t.header_row, column_index_from_string(c.column)))
    return cells


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.kind)
def test_fields_do_not_collide(spec):
    for section in spec.sections:
        cells = _occupied(section)
        assert len(cells) == len(set(cells)), section.key
        for table in section.tables:
            letters = [c.column for c in table.columns]
            assert len(letters) == len(set(letters))
        fixed = [t for t in section.tables if t.source is RowSource.FIXED]
        # stacked fixed tables (tiers) must not overlap one another
        spans = sorted((t.header_row, t.first_row + t.rows - 1) for t in fixed)
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end < start


def test_district_plan_has_every_step_of_the_user_guide():
    keys = [s.key for s in district_spec().sections]
    assert keys == [
        "contact",
        "school_targets",
        "demographics",
        "grades",
        "tiers",
        "certification",
        "progress",
    ]


def test_school_plan_has_root_cause_with_three_parts():
    spec = school_spec()
    assert "school_targets" not in [s.key for s in spec.sections]
    root = spec.section("root_cause")
    assert [f.key for f in root.fields] == ["research", "supportive_factors", "barriers"]
    assert all(f.required and f.type is FieldType.LONG_TEXT for f in root.fields)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.kind)
def test_every_tier_has_strategy_rows_with_the_implementation_plan(spec):
    tiers = spec.section("tiers")
    assert [t.key for t in tiers.tables] == ["tier1", "tier2", "tier3", "tier4"]
    for table in tiers.tables:
        assert [c.key for c in table.columns] == [
            "strategy",
            "other_strategy",
            "action_steps",
            "responsible",
            "resources",
            "timeline",
        ]
        assert table.column("strategy").choices == f"strategies_{table.key}"
        assert table.rows >= 5 and table.min_filled_rows == 1


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.kind)
def test_target_tables_prefill_enrollment_and_three_years(spec):
    for key in ("demographics", "grades"):
        (table,) = spec.section(key).tables
        prefilled = [c.key for c in table.columns if c.prefilled]
        assert prefilled == ["group", "enrollment", "rate_y3", "rate_y2", "rate_y1"]
        target = table.column("target")
        assert target.type is FieldType.PERCENT and target.required
        assert (target.min_value, target.max_value) == (0.0, 1.0)


def test_certification_is_final_only_and_required():
    for spec in SPECS:
        cert = spec.section("certification")
        assert cert.final_only
        assert all(f.required for f in cert.fields)


def test_every_input_field_has_help_or_label_and_text_limits():
    for spec in SPECS:
        for section in spec.sections:
            columns = [c for t in section.tables for c in t.columns]
            for f in (*section.fields, *columns):
                assert f.label
                if f.is_input and f.type in (FieldType.TEXT, FieldType.LONG_TEXT):
                    assert f.max_length, (section.key, f.key)


def test_spec_for_and_versions():
    assert spec_for("district").kind is PlanKind.DISTRICT
    assert spec_for(PlanKind.SCHOOL).kind is PlanKind.SCHOOL
    assert SPEC_VERSION in SUPPORTED_SPEC_VERSIONS
