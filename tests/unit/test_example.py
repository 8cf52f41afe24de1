"""The example workbook: every required input filled, every answer valid, deterministic."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from aip_forms.catalog import OTHER_STRATEGY
from aip_forms.config import ProgramConfig, Settings
from aip_forms.domain import Lea, PlanKind, School
from aip_forms.issued_data import DataRow, PlanData
from aip_forms.spec import NOT_APPLICABLE, FieldSpec, FieldType, FormSpec
from aip_forms.workbook_format.layout import NO_DATA, SUPPRESSED_RATE, lookup_values, table_rows
from aip_forms.workbook_format.metadata import changed_prefilled, read_metadata, verify
from workbook_templates import synthetic
from workbook_templates.example import example_workbook

KEY = b"test-secret"
ISSUED = "2026-08-03T14:05:00Z"
LEA = Lea(code="001", name="BELEN CONSOLIDATED SCHOOLS")


@pytest.fixture(scope="module")
def config() -> ProgramConfig:
    return ProgramConfig()


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return Settings(
        home=tmp_path_factory.mktemp("home"),
        database_url="sqlite://",
        secret_key=KEY,
        workbook_password="pw",
    )


def _data(config: ProgramConfig, kind: PlanKind) -> PlanData:
    if kind is PlanKind.SCHOOL:
        school = School(code="001-004", lea_code="001", name="BELEN HIGH", grade_low="9")
        data = synthetic.plan_data(config, 2027, LEA, school)
    else:
        schools = tuple(
            School(code=f"001-{i}", lea_code="001", name=f"SCHOOL {i}") for i in range(6)
        )
        data = synthetic.plan_data(config, 2027, LEA, None, schools)
    small = DataRow(
        code="asian", label="Asian", enrollment=3, rates=(10.0, 0.0, 5.0), suppressed=True
    )
    zero = DataRow(
        code="black", label="Black or African American", enrollment=40, rates=(1.0, 2.0, 0.0)
    )
    replaced = {"asian": small, "black": zero}
    subgroups = tuple(replaced.get(r.code, r) for r in data.subgroups)
    return data.model_copy(update={"subgroups": subgroups})


def _saved(wb: Workbook) -> Workbook:
    buffer = io.BytesIO()
    wb.save(buffer)
    return load_workbook(io.BytesIO(buffer.getvalue()))


@pytest.fixture(scope="module", params=[PlanKind.SCHOOL, PlanKind.DISTRICT])
def example(request, config, settings) -> tuple[FormSpec, PlanData, Workbook]:
    data = _data(config, request.param)
    spec = config.spec(data.kind)
    return spec, data, _saved(example_workbook(spec, data, config, settings, issued_at=ISSUED))


def _valid(field: FieldSpec, value: object, config: ProgramConfig, fiscal_year: int) -> bool:
    match field.type:
        case FieldType.PERCENT:
            return isinstance(value, int | float) and 0 <= value <= 1
        case FieldType.CHOICE | FieldType.CONFIRM:
            assert field.choices
            return value in lookup_values(field.choices, config)
        case FieldType.DATE:
            return isinstance(value, dt.datetime) and (
                dt.date(fiscal_year - 2, 7, 1) <= value.date() <= dt.date(fiscal_year, 6, 30)
            )
        case FieldType.EMAIL:
            return isinstance(value, str) and "@" in value and "." in value.split("@")[1]
    return (
        isinstance(value, str) and bool(value.strip()) and len(value) <= (field.max_length or 32767)
    )


def test_every_required_field_is_filled_with_a_valid_answer(example, config):
    spec, data, wb = example
    for section in spec.sections:
        for field in section.fields:
            value = wb[section.sheet][field.cell].value
            if field.is_input and field.required:
                assert _valid(field, value, config, data.fiscal_year), (
                    section.key,
                    field.key,
                    value,
                )


def test_every_filled_input_cell_passes_its_field_constraints(example, config):
    spec, data, wb = example
    filled = 0
    for rows in table_rows(spec, data):
        ws = wb[rows.section.sheet]
        for row in range(rows.first_row, rows.last_row + 1):
            for column in rows.table.columns:
                value = ws[f"{column.column}{row}"].value
                if column.is_input and value not in (None, NOT_APPLICABLE):
                    assert _valid(column, value, config, data.fiscal_year), (column.key, row, value)
                    filled += 1
    assert filled > 30


def test_every_group_that_is_not_suppressed_has_a_target_below_its_latest_rate(example):
    spec, data, wb = example
    checked = 0
    for rows in table_rows(spec, data):
        target = next((c for c in rows.table.columns if c.key == "target"), None)
        if target is None:
            continue
        ws = wb[rows.section.sheet]
        latest = rows.table.column("rate_y1").column
        for row in range(rows.first_row, rows.last_row + 1):
            rate = ws[f"{latest}{row}"].value
            value = ws[f"{target.column}{row}"].value
            if rate in (SUPPRESSED_RATE, NO_DATA):
                # no data: the target cell stays the locked n/a it was issued as
                assert value == NOT_APPLICABLE or ws[f"B{row}"].value not in ("*", "—")
                continue
            assert isinstance(value, int | float), (rows.table.key, row)
            if isinstance(rate, int | float):
                assert value < rate or value == rate == 0, (rows.table.key, row, value, rate)
            checked += 1
    assert checked >= len(data.subgroups) + len(data.grades) - 1


def test_each_tier_has_two_or_three_catalog_strategies_and_one_other_with_a_full_plan(
    example, config
):
    spec, _, wb = example
    section = spec.section("tiers")
    for tier, table in enumerate(section.tables, start=1):
        ws = wb[section.sheet]
        rows = [
            {c.key: ws[f"{c.column}{r}"].value for c in table.columns}
            for r in range(table.first_row, table.first_row + table.rows)
        ]
        filled = [r for r in rows if r["strategy"]]
        assert len(filled) >= table.min_filled_rows
        catalog = [r["strategy"] for r in filled if r["strategy"] != OTHER_STRATEGY]
        assert 2 <= len(catalog) <= 3
        assert set(catalog) <= {s.name for s in config.strategies_for(tier)}
        others = [r for r in filled if r["strategy"] == OTHER_STRATEGY]
        assert len(others) == 1 and others[0]["other_strategy"]
        for r in filled:
            assert all(r[k] for k in ("action_steps", "responsible", "resources", "timeline")), r
            if r["strategy"] != OTHER_STRATEGY:
                assert r["other_strategy"] is None


def test_the_contact_team_and_certification_read_like_the_user_guide(example):
    spec, data, wb = example
    contact = wb[spec.section("contact").sheet]
    fields = {f.key: contact[f.cell].value for f in spec.section("contact").fields}
    assert (fields["first_name"], fields["last_name"]) == ("Kristin", "Garcia")
    assert fields["email"] == "kgarcia@belen.k12.nm.us"
    team = spec.section("contact").tables[0]
    names = [contact[f"B{r}"].value for r in range(team.first_row, team.first_row + team.rows)]
    assert names[0] == "Maria Garcia"  # the user guide's counselor, then the school's staff
    assert len(set(names[:4])) == 4 and None not in names[:4]
    certification = spec.section("certification")
    ws = wb[certification.sheet]
    values = {f.key: ws[f.cell].value for f in certification.fields}
    assert values["confirm"] == "Yes" and values["name"] == "Kristin Garcia"
    assert values["date"].date() < data.deadline


def test_progress_reflections_are_filled_only_where_there_is_a_current_rate(example):
    spec, data, wb = example
    table = spec.section("progress").tables[0]
    ws = wb[spec.section("progress").sheet]
    for i, period in enumerate(data.periods):
        row = table.first_row + i
        reflection = ws[f"{table.column('reflection').column}{row}"].value
        assert (reflection is not None) == (period.rate is not None)


def test_filling_leaves_the_issued_values_and_signature_intact(example):
    _, _, wb = example
    metadata = read_metadata(wb)
    assert verify(metadata, KEY)
    assert changed_prefilled(wb, metadata) == []


def test_the_example_is_deterministic(config, settings):
    data = _data(config, PlanKind.SCHOOL)
    spec = config.spec(data.kind)
    a = example_workbook(spec, data, config, settings, issued_at=ISSUED)
    b = example_workbook(spec, data, config, settings, issued_at=ISSUED)
    for wa, wb_ in zip(a.worksheets, b.worksheets, strict=True):
        assert [[c.value for c in r] for r in wa.iter_rows()] == [
            [c.value for c in r] for r in wb_.iter_rows()
        ]


PLACEHOLDERS = ("John Doe", "Jane Doe", "Clinic X", "Lorem", "TBD", "XXX")


def _strategy_rows(spec: FormSpec, wb: Workbook) -> list[dict[str, object]]:
    section = spec.section("tiers")
    ws = wb[section.sheet]
    return [
        {"tier": table.key, **{c.key: ws[f"{c.column}{r}"].value for c in table.columns}}
        for table in section.tables
        for r in range(table.first_row, table.first_row + table.rows)
        if ws[f"A{r}"].value
    ]


def _answers(wb: Workbook) -> list[str]:
    return [
        str(c.value)
        for ws in wb.worksheets
        if ws.sheet_state == "visible"
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.protection.locked is False
    ]


def test_every_strategy_has_its_own_action_steps_and_no_placeholders(example):
    spec, _, wb = example
    rows = _strategy_rows(spec, wb)
    steps = [r["action_steps"] for r in rows]
    assert len(steps) == len(set(steps)) >= 8  # no two strategies share an action step
    for row in rows:
        assert str(row["responsible"]).count(": ") == 1, row  # "Role: Person"
    text = " ".join(_answers(wb))
    assert not [p for p in PLACEHOLDERS if p in text]


def test_schools_of_one_district_get_different_plans(config, settings):
    spec = config.spec(PlanKind.SCHOOL)
    lea = Lea(code="006", name="BELEN CONSOLIDATED SCHOOLS")
    plans = []
    for i in range(1, 6):
        school = School(code=f"006{i:03d}", lea_code="006", name=f"SCHOOL {i}",
                        grade_low="9")  # fmt: skip
        data = synthetic.plan_data(config, 2027, lea, school)
        wb = example_workbook(spec, data, config, settings, issued_at=ISSUED)
        rows = _strategy_rows(spec, wb)
        root = wb[spec.section("root_cause").sheet]
        plans.append(
            (
                tuple((r["strategy"], r["other_strategy"], r["action_steps"]) for r in rows),
                root["B6"].value,
                root["B8"].value,
            )
        )
    strategies = {p[0] for p in plans}
    research = {p[1] for p in plans}
    assert len(strategies) == 5  # every school its own strategies and action steps
    assert len(research) == 5  # and its own research (its own rates, at least)
    for p in plans:
        assert "Our chronic absence rate was" in str(p[1])
