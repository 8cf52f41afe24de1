"""Workbook generation with the reference builder: layout, locking, validations, names."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, range_boundaries
from openpyxl.utils.protection import hash_password
from openpyxl.workbook.workbook import Workbook

from aip_forms.config import ProgramConfig, Settings
from aip_forms.domain import Lea, PlanKind, School
from aip_forms.issued_data import DataRow, PlanData
from aip_forms.spec import (
    INSTRUCTIONS_SHEET,
    LOOKUP_SHEET,
    META_SHEET,
    STRATEGY_ROWS,
    FieldType,
    FormSpec,
)
from aip_forms.workbook_format.layout import lookup_values, table_rows
from workbook_templates import styles, synthetic
from workbook_templates.build import build_workbook

PASSWORD = "pw-for-tests"
ISSUED = "2026-08-03T14:05:00Z"


@pytest.fixture(scope="module")
def config() -> ProgramConfig:
    return ProgramConfig()


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        home=tmp_path_factory.mktemp("home"),
        database_url="sqlite://",
        secret_key=b"test-secret",
        workbook_password=PASSWORD,
    )


def lea() -> Lea:
    return Lea(code="001", name="BELEN CONSOLIDATED SCHOOLS")


def schools(n: int) -> tuple[School, ...]:
    return tuple(
        School(code=f"001-{i:03d}", lea_code="001", name=f"BELEN SCHOOL {i}", grade_low="9")
        for i in range(1, n + 1)
    )


def school_data(config: ProgramConfig, **changes: object) -> PlanData:
    school = School(code="001-004", lea_code="001", name="BELEN HIGH", grade_low="9")
    data = synthetic.plan_data(config, 2027, lea(), school)
    return data.model_copy(update=changes)


def district_data(config: ProgramConfig, n_schools: int = 5) -> PlanData:
    return synthetic.plan_data(config, 2027, lea(), None, schools(n_schools))


def reloaded(wb: Workbook) -> Workbook:
    buffer = io.BytesIO()
    wb.save(buffer)
    return load_workbook(io.BytesIO(buffer.getvalue()))


@pytest.fixture(scope="module", params=[PlanKind.SCHOOL, PlanKind.DISTRICT])
def generated(request, config, settings) -> tuple[FormSpec, PlanData, Workbook]:
    data = school_data(config) if request.param is PlanKind.SCHOOL else district_data(config)
    spec = config.spec(data.kind)
    return spec, data, reloaded(build_workbook(spec, data, config, settings, issued_at=ISSUED))


def input_and_prefilled_cells(spec: FormSpec, data: PlanData):
    """(sheet, cell, field, is_input) for every field and every table cell of the spec."""
    for section in spec.sections:
        for field in section.fields:
            yield section.sheet, field.cell, field
    for rows in table_rows(spec, data):
        for row in range(rows.first_row, rows.last_row + 1):
            for column in rows.table.columns:
                yield rows.section.sheet, f"{column.column}{row}", column


def test_sheets_are_instructions_sections_then_hidden_lookup_and_very_hidden_metadata(generated):
    spec, _, wb = generated
    assert wb.sheetnames == [
        INSTRUCTIONS_SHEET,
        *(s.sheet for s in spec.sections),
        LOOKUP_SHEET,
        META_SHEET,
    ]
    states = {ws.title: ws.sheet_state for ws in wb.worksheets}
    assert states.pop(LOOKUP_SHEET) == "hidden"
    assert states.pop(META_SHEET) == "veryHidden"
    assert set(states.values()) == {"visible"}
    assert wb.active.title == INSTRUCTIONS_SHEET


def test_prefilled_cells_are_locked_grey_and_inputs_unlocked_yellow_with_a_border(generated):
    spec, data, wb = generated
    checked = {True: 0, False: 0}
    for sheet, ref, field in input_and_prefilled_cells(spec, data):
        cell = wb[sheet][ref]
        colour = cell.fill.fgColor.rgb[-6:]
        if field.prefilled:
            assert cell.protection.locked, (sheet, ref)
            assert colour == styles.GREY, (sheet, ref)
        else:
            assert not cell.protection.locked, (sheet, ref)
            assert colour == styles.YELLOW, (sheet, ref)
            assert cell.border.left.style == "thin" and cell.border.bottom.style == "thin"
        checked[field.prefilled] += 1
    assert checked[True] > 20 and checked[False] > 50
    # everything else is locked: a protected sheet only lets the inputs change
    inputs = {(s, r) for s, r, f in input_and_prefilled_cells(spec, data) if f.is_input}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if (ws.title, cell.coordinate) not in inputs:
                    assert cell.protection.locked, (ws.title, cell.coordinate)


def test_every_sheet_and_the_structure_are_protected_with_the_deployment_password(generated):
    _, _, wb = generated
    for ws in wb.worksheets:
        p = ws.protection
        assert p.sheet, ws.title
        assert p.password == hash_password(PASSWORD)
        assert p.formatColumns is False and p.formatRows is False  # allowed
        assert p.selectUnlockedCells is False  # allowed
        assert p.insertRows and p.deleteRows and p.formatCells  # not allowed
    assert wb.security.lockStructure
    assert wb.security.workbookPassword == hash_password(PASSWORD)


def _validations(wb: Workbook, sheet: str) -> list:
    return list(wb[sheet].data_validations.dataValidation)


def _covering(wb: Workbook, sheet: str, ref: str):
    return [dv for dv in _validations(wb, sheet) if ref in dv.sqref]


def test_every_input_has_one_validation_with_a_prompt_and_its_constraint(generated, config):
    spec, data, wb = generated
    for sheet, ref, field in input_and_prefilled_cells(spec, data):
        found = _covering(wb, sheet, ref)
        if field.prefilled:
            assert found == [], (sheet, ref)
            continue
        assert len(found) == 1, (sheet, ref, found)
        dv = found[0]
        assert dv.showInputMessage and dv.promptTitle and dv.prompt
        assert len(dv.prompt) <= 255 and len(dv.promptTitle) <= 32
        match field.type:
            case FieldType.CHOICE | FieldType.CONFIRM:
                assert dv.type == "list"
                assert re.fullmatch(r"Lists!\$([A-Z]+)\$2:\$\1\$\d+", dv.formula1), dv.formula1
                values = [
                    c.value for row in wb[LOOKUP_SHEET][dv.formula1.split("!")[1]] for c in row
                ]
                assert values == list(lookup_values(field.choices, config))
            case FieldType.PERCENT:
                assert (dv.type, dv.operator, dv.formula1, dv.formula2) == (
                    "decimal",
                    "between",
                    "0",
                    "1",
                )
            case FieldType.DATE:
                assert dv.type == "date" and dv.operator == "between"
            case _ if field.max_length:
                assert (dv.type, dv.operator) == ("textLength", "lessThanOrEqual")
                assert dv.formula1 == str(field.max_length)
            case _:
                assert dv.type is None  # a prompt only


def test_no_list_validation_is_an_inline_list(generated):
    _, _, wb = generated
    lists = [dv for ws in wb.worksheets for dv in ws.data_validations.dataValidation]
    assert any(dv.type == "list" for dv in lists)
    for dv in lists:
        if dv.type == "list":
            assert '"' not in dv.formula1 and "," not in dv.formula1
            assert dv.formula1.startswith(f"{LOOKUP_SHEET}!")


def test_strategy_lists_hold_the_catalog_of_their_tier_and_other(generated, config):
    _, _, wb = generated
    ws = wb[LOOKUP_SHEET]
    headers = [c.value for c in ws[1]]
    for tier in (1, 2, 3, 4):
        column = headers.index(f"strategies_tier{tier}") + 1
        values = [ws.cell(row=r, column=column).value for r in range(2, ws.max_row + 1)]
        values = [v for v in values if v is not None]
        assert values == [s.name for s in config.strategies_for(tier)] + ["Other"]
    assert "yes_no" in headers


def _destination(wb: Workbook, name: str) -> tuple[str, str]:
    ((sheet, ref),) = wb.defined_names[name].destinations
    return sheet, ref.replace("$", "")


def test_every_field_and_table_column_has_a_defined_name_on_its_cells(generated):
    spec, data, wb = generated
    expected = {}
    for section in spec.sections:
        for field in section.fields:
            expected[spec.field_name(section, field)] = (section.sheet, field.cell)
    for rows in table_rows(spec, data):
        for c in rows.table.columns:
            ref = f"{c.column}{rows.first_row}:{c.column}{rows.last_row}"
            expected[spec.field_name(rows.section, c, rows.table)] = (rows.section.sheet, ref)
    names = {n for n in wb.defined_names if not n.startswith("_xlnm")}
    assert names == set(expected)
    for name, where in expected.items():
        assert _destination(wb, name) == where, name


def test_tier_tables_have_the_spec_number_of_strategy_rows(generated):
    spec, _, wb = generated
    section = spec.section("tiers")
    for table in section.tables:
        _, ref = _destination(wb, spec.field_name(section, table.columns[0], table))
        _, first, _, last = range_boundaries(ref)
        assert last - first + 1 == STRATEGY_ROWS


def test_history_columns_are_labelled_with_the_three_prior_fiscal_years(generated):
    spec, _, wb = generated
    section = spec.section("demographics")
    ws = wb[section.sheet]
    header = [c.value for c in ws[section.tables[0].header_row] if c.value]
    assert header[2:5] == [
        "Chronic Absence FY2024",
        "Chronic Absence FY2025",
        "Chronic Absence FY2026",
    ]


def test_prefilled_rates_are_fractions_with_a_percent_format_and_counts_are_numbers(
    config, settings
):
    data = school_data(config)
    spec = config.spec(data.kind)
    wb = reloaded(build_workbook(spec, data, config, settings, issued_at=ISSUED))
    (table,) = spec.section("demographics").tables
    ws = wb[spec.section("demographics").sheet]
    all_students = data.subgroups[0]
    first = table.first_row
    assert [c.value for c in ws[first]][:5] == [
        "All Students",
        all_students.enrollment,
        *(round(r / 100, 6) for r in all_students.rates),
    ]
    rate, count = (f"{table.column(k).column}{first}" for k in ("rate_y3", "enrollment"))
    assert ws[rate].number_format == "0.0%" and ws[count].number_format == "#,##0"
    contact = spec.section("contact")
    prefilled = [f.cell for f in contact.fields if f.prefilled]
    assert [wb[contact.sheet][c].value for c in prefilled] == [
        "BELEN CONSOLIDATED SCHOOLS",
        "001",
        "BELEN HIGH",
        "001-004",
    ]
    tiers = spec.section("tiers")
    for field in tiers.fields:
        tier = int(field.key[4])
        assert wb[tiers.sheet][field.cell].value == data.tier_counts[tier]


def test_a_school_plan_lists_the_grades_it_was_given_in_order(config, settings):
    data = school_data(config)
    spec = config.spec(data.kind)
    wb = reloaded(build_workbook(spec, data, config, settings, issued_at=ISSUED))
    section = spec.section("grades")
    ws = wb[section.sheet]
    first = section.tables[0].first_row
    labels = [ws.cell(row=r, column=1).value for r in range(first, first + len(data.grades) + 1)]
    assert labels == ["Grade 9", "Grade 10", "Grade 11", "Grade 12", None]


def test_suppressed_groups_show_a_star_like_the_documents_and_no_target(config, settings):
    base = school_data(config)
    small = DataRow(
        code="asian", label="Asian", enrollment=4, rates=(12.5, 20.0, 25.0), suppressed=True
    )
    subgroups = tuple(small if r.code == "asian" else r for r in base.subgroups)
    data = base.model_copy(update={"subgroups": subgroups})
    spec = config.spec(data.kind)
    wb = reloaded(build_workbook(spec, data, config, settings, issued_at=ISSUED))
    ws = wb[spec.section("demographics").sheet]
    row = spec.section("demographics").tables[0].first_row
    row += [r.code for r in data.subgroups].index("asian")
    assert [c.value for c in ws[row]][:6] == ["Asian", "*", "*", "*", "*", "n/a"]
    assert ws[row][5].protection.locked and ws[row][5].style == styles.NOT_APPLICABLE_STYLE
    assert 4 not in [c.value for c in ws[row]]  # the real count is nowhere on the sheet
    instructions = " ".join(str(c.value) for c in wb[INSTRUCTIONS_SHEET]["A"] if c.value)
    assert "n<10" not in instructions and "show * for enrollment and rates" in instructions


def test_a_district_plan_has_one_row_per_school(config, settings):
    data = district_data(config, n_schools=7)
    spec = config.spec(data.kind)
    wb = reloaded(build_workbook(spec, data, config, settings, issued_at=ISSUED))
    section = spec.section("school_targets")
    (table,) = section.tables
    ws = wb[section.sheet]
    first = table.first_row
    codes = [ws.cell(row=r, column=1).value for r in range(first, first + 8)]
    assert codes == [s.code for s in data.schools] + [None]
    target = table.column("target").column
    assert _destination(wb, "aip_school_targets_schools_target") == (
        section.sheet,
        f"{target}{first}:{target}{first + 6}",
    )


def test_a_district_without_schools_keeps_one_empty_locked_row(config, settings):
    data = district_data(config, n_schools=0)
    spec = config.spec(data.kind)
    wb = reloaded(build_workbook(spec, data, config, settings, issued_at=ISSUED))
    section = spec.section("school_targets")
    first = f"{section.tables[0].column('school_code').column}{section.tables[0].first_row}"
    ws = wb[section.sheet]
    assert ws[first].value is None and ws[first].protection.locked
    assert _destination(wb, "aip_school_targets_schools_school_code")[1] == f"{first}:{first}"


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1)", "=1+1"]
)
def test_text_that_looks_like_a_formula_is_stored_as_text(config, settings, name):
    school = School(code="001-009", lea_code="001", name=name)
    data = school_data(config, school=school, lea=Lea(code="001", name=name))
    spec = config.spec(data.kind)
    buffer = io.BytesIO()
    build_workbook(spec, data, config, settings, issued_at=ISSUED).save(buffer)
    with zipfile.ZipFile(buffer) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
        assert not any(b"<f>" in z.read(n) or b"<f " in z.read(n) for n in sheets)
    wb = load_workbook(io.BytesIO(buffer.getvalue()))
    contact = spec.section("contact")
    for key in ("lea_name", "school_name"):
        cell = wb[contact.sheet][next(f.cell for f in contact.fields if f.key == key)]
        assert cell.value == name and cell.data_type == "s"


def test_the_instructions_say_for_whom_what_by_when_and_how_to_return_it(config, settings):
    data = school_data(config)
    spec = config.spec(data.kind)
    wb = reloaded(build_workbook(spec, data, config, settings, issued_at=ISSUED))
    text = "\n".join(str(c.value) for c in wb[INSTRUCTIONS_SHEET]["A"] if c.value)
    assert "BELEN HIGH (school code 001-004), BELEN CONSOLIDATED SCHOOLS (LEA code 001)" in text
    assert "Thursday, October 15, 2026" in text  # config.deadline(2027, school)
    assert "aip-forms portal" in text and ".xlsx" in text
    assert "Grey cells are pre-filled" in text and "Light yellow cells" in text
    for section in spec.sections:
        assert section.title in text
    assert f"Students per tier: {data.tier_source}." in text


def test_table_sheets_print_landscape_fit_to_width_with_repeated_headers(generated):
    spec, _, wb = generated
    for section in spec.sections:
        ws = wb[section.sheet]
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    for key in ("demographics", "grades", "progress"):
        section = spec.section(key)
        header = section.tables[0].header_row
        assert wb[section.sheet].print_title_rows == f"${header}:${header}"


def test_a_prefilled_field_without_a_data_binding_is_an_error(config, settings):
    spec = config.spec(PlanKind.SCHOOL)
    contact = spec.section("contact")
    field = contact.fields[0].model_copy(update={"key": "mystery"})
    changed = contact.model_copy(update={"fields": (field, *contact.fields[1:])})
    sections = tuple(changed if s.key == "contact" else s for s in spec.sections)
    broken = spec.model_copy(update={"sections": sections})
    with pytest.raises(KeyError, match="mystery"):
        build_workbook(broken, school_data(config), config, settings)


def test_a_spec_of_the_other_kind_is_refused(config, settings):
    with pytest.raises(ValueError, match="cannot build"):
        build_workbook(config.spec(PlanKind.DISTRICT), school_data(config), config, settings)


def test_label_cells_sit_left_of_short_fields_and_above_long_text(config, settings):
    data = school_data(config)
    spec = config.spec(data.kind)
    wb = reloaded(build_workbook(spec, data, config, settings, issued_at=ISSUED))
    for section in spec.sections:
        for field in section.fields:
            letter, row = coordinate_from_string(field.cell)
            col = column_index_from_string(letter)
            ws = wb[section.sheet]
            if field.type is FieldType.LONG_TEXT:
                assert ws.cell(row=row - 1, column=col).value == field.label
            else:
                assert ws.cell(row=row, column=col - 1).value == field.label
            assert ws[field.label_cell].value == field.label
