"""The form spec: one source for generation, validation and rendering."""

import re

import pytest
from pydantic import ValidationError

from aip_forms.config import ProgramConfig
from aip_forms.domain import PlanKind
from aip_forms.spec import (
    SPEC_VERSION,
    SUPPORTED_SPEC_VERSIONS,
    FieldType,
    FormSpec,
    district_spec,
    school_spec,
    spec_for,
)
from aip_forms.spec_check import spec_problems

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


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.kind)
def test_every_field_is_placed_and_nothing_shares_a_cell(spec):
    assert spec_problems(spec) == []
    assert all(f.cell for s in spec.sections for f in s.fields)


def test_fields_without_a_cell_stack_below_the_one_before():
    contact = school_spec().section("contact")
    cells = {f.key: f.cell for f in contact.fields}
    assert cells == {
        "lea_name": "C5",
        "lea_code": "C6",
        "school_name": "C7",
        "school_code": "C8",
        "first_name": "C10",
        "last_name": "C11",
        "title": "C12",
        "email": "C13",
        "phone": "C14",
    }
    assert contact.fields[0].label_cell == "B5"
    root = school_spec().section("root_cause")
    # long text: the label takes the row above, so each field takes two rows
    assert [(f.label_cell, f.cell) for f in root.fields] == [
        ("B5", "B6"),
        ("B7", "B8"),
        ("B9", "B10"),
    ]


def _with(section_key: str, **changes) -> dict:
    """The school spec as data, with one section changed: for building variants."""
    data = school_spec().model_dump(mode="json")
    section = next(s for s in data["sections"] if s["key"] == section_key)
    section.update(changes)
    return data


def refused(data: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FormSpec.model_validate(data)


def test_a_field_on_an_occupied_cell_fails_naming_both_and_the_cell():
    data = _with("root_cause")
    data["sections"][3]["fields"].append(
        {"key": "extra", "label": "Extra", "type": "integer", "cell": "B8"}
    )
    with pytest.raises(ValidationError) as raised:
        FormSpec.model_validate(data)
    message = str(raised.value)
    assert (
        "field root_cause.supportive_factors and field root_cause.extra share the cell "
        "3 Root Cause Analysis!B8" in message
    )


def test_a_label_on_an_input_cell_fails():
    data = _with("certification")
    # a long-text field's label takes the row above: here, the date's input cell
    data["sections"][5]["fields"].append(
        {"key": "notes", "label": "Notes", "type": "long_text", "max_length": 10, "cell": "C9"}
    )
    refused(
        data,
        r"field certification.date and label of "
        r"certification.notes share the cell 5 Final Submission!C8",
    )


def test_nothing_may_sit_below_a_variable_length_table_in_its_columns():
    data = _with("demographics")
    data["sections"][1]["fields"] = [{"key": "note", "label": "Note", "cell": "F400"}]
    refused(
        data,
        r"field demographics.note and table demographics.subgroups column target "
        r"share the cell 2A Demographic Targets!F400",
    )
    # beside it, in a column the table does not use, is fine
    data["sections"][1]["fields"] = [{"key": "note", "label": "Note", "cell": "I6"}]
    assert FormSpec.model_validate(data).section("demographics").fields[0].label_cell == "H6"


def test_fixed_tables_may_not_overlap():
    data = _with("tiers")
    data["sections"][4]["tables"][1]["header_row"] = 12  # tier 1's rows run to 12
    refused(
        data,
        r"table tiers.tier1 column strategy and table "
        r"tiers.tier2 column strategy share the cell 4 Tiers of Support!A12",
    )


def test_the_heading_rows_are_the_sections():
    data = _with("certification")
    data["sections"][5]["fields"][0]["cell"] = "C3"
    refused(
        data,
        r"field certification.confirm is at "
        r"5 Final Submission!C3, in the section's heading rows",
    )


def test_defined_names_may_not_repeat():
    data = _with("contact")
    data["sections"][0]["fields"].append({"key": "team_name", "label": "Team name"})
    with pytest.raises(
        ValidationError, match="two fields have the defined name 'aip_contact_team_name'"
    ):
        FormSpec.model_validate(data)


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


def test_the_program_config_gives_the_spec_of_each_kind():
    config = ProgramConfig()
    assert config.spec("district") == district_spec()
    assert config.spec(PlanKind.SCHOOL) == school_spec()
    renamed = school_spec().model_copy(update={"title": "Another state's school plan"})
    other = ProgramConfig(forms={PlanKind.SCHOOL: renamed})
    assert other.spec(PlanKind.SCHOOL).title == "Another state's school plan"
    assert other.spec(PlanKind.DISTRICT) == district_spec()
    with pytest.raises(ValidationError, match="given for district plans is a school spec"):
        ProgramConfig(forms={PlanKind.DISTRICT: school_spec()})


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.kind)
def test_targets_are_asked_only_of_rows_with_data_in_the_prefilled_columns(spec):
    for key in ("demographics", "grades"):
        target = spec.section(key).tables[0].column("target")
        assert target.needs_data_in == ("enrollment", "rate_y3", "rate_y2", "rate_y1")


def test_needs_data_in_must_name_prefilled_columns_of_its_own_table():
    data = _with("demographics")
    columns = data["sections"][1]["tables"][0]["columns"]
    target = next(c for c in columns if c["key"] == "target")
    target["needs_data_in"] = ["enrollment", "research"]
    refused(
        data,
        r"demographics.subgroups.target needs data in 'research', which is not a "
        r"pre-filled column of table demographics.subgroups",
    )
    data = _with("root_cause")
    data["sections"][3]["fields"][0]["needs_data_in"] = ["enrollment"]
    refused(data, r"field root_cause.research names needs_data_in, which only table columns")
