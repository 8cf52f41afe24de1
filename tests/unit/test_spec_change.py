"""A field added to the spec alone reaches every reader: the workbook, validation and the
plan document. The spec here is a copy of the school plan's with two root-cause fields
more, given to the whole pipeline through the program config; no other file knows them.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from pydantic import ValidationError

from aip_forms.config import ProgramConfig, Settings
from aip_forms.domain import Lea, PlanKind, School
from aip_forms.issued_data import PlanData
from aip_forms.spec import FieldSpec, FieldType, FormSpec, spec_for
from exports.render import render_docx
from tests.support.planbook import planbook, row_counts, valid_values, where
from tests.unit.test_render_docx import document_text, squash
from validators.cells import WorkbookCells
from validators.read import PlanReader
from validators.rules import RuleContext, run_rules
from validators.validate import ValidationReport, validate_upload
from workbook_templates import synthetic
from workbook_templates.example import example_workbook
from workbook_templates.generate import generate_all, generate_one, output_path

KEY = b"spec-change-key"
ISSUED = "2026-08-03T14:05:00Z"
SHEET = "3 Root Cause Analysis"
NEW_FIELDS = (
    FieldSpec(
        key="local_data",
        label="Local Attendance Data Reviewed",
        type=FieldType.LONG_TEXT,
        required=True,
        max_length=1000,
        example="Attendance by bus route, fall 2025",
    ),
    FieldSpec(
        key="families_surveyed",
        label="Families Surveyed",
        type=FieldType.INTEGER,
        min_value=1,
        max_value=2000,
        example="150",
    ),
)


def with_fields(spec: FormSpec, section_key: str, *fields: FieldSpec) -> FormSpec:
    """`spec` with `fields` added at the end of a section, built (and so checked) anew."""
    data = spec.model_dump()
    section = next(s for s in data["sections"] if s["key"] == section_key)
    section["fields"] = (*section["fields"], *(f.model_dump() for f in fields))
    return FormSpec.model_validate(data)


SPEC = with_fields(spec_for(PlanKind.SCHOOL), "root_cause", *NEW_FIELDS)
CONFIG = ProgramConfig(forms={PlanKind.SCHOOL: SPEC})
ROOT = SPEC.section("root_cause")
LONG, NUMBER = (next(f for f in ROOT.fields if f.key == n.key) for n in NEW_FIELDS)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("home")
    return Settings(home=home, database_url="sqlite://", secret_key=KEY, workbook_password="pw")


@pytest.fixture(scope="module")
def data() -> PlanData:
    school = School(code="001-004", lea_code="001", name="BELEN HIGH", grade_low="9")
    return synthetic.plan_data(CONFIG, 2027, Lea(code="001", name="BELEN"), school)


def saved(wb: Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def example(data: PlanData, settings: Settings, **cells: object) -> bytes:
    """The example workbook of the changed spec, with some root-cause cells changed."""
    wb = example_workbook(CONFIG.spec(data.kind), data, CONFIG, settings, issued_at=ISSUED)
    for cell, value in cells.items():
        wb[SHEET][cell] = value
    return saved(wb)


def validate(content: bytes) -> ValidationReport:
    return validate_upload(content, key=KEY, config=CONFIG)


def at(report: ValidationReport, code: str) -> list[str]:
    return [f"{p.sheet}!{p.cell}" for p in report.errors if p.code == code]


def test_the_new_fields_are_placed_below_the_section_s_last_field():
    # a long text takes its label's row above it; the number's label goes to its left
    assert (LONG.label_cell, LONG.cell) == ("B11", "B12")
    assert (NUMBER.label_cell, NUMBER.cell) == ("A13", "B13")


def test_the_generated_workbook_has_their_labels_and_unlocked_validated_inputs(
    data, settings, tmp_path: Path
):
    path = generate_one(data, tmp_path / "plan.xlsx", CONFIG, settings, issued_at=ISSUED)
    ws = load_workbook(path)[SHEET]
    validations = {
        str(ref): dv for dv in ws.data_validations.dataValidation for ref in dv.sqref.ranges
    }
    for field in (LONG, NUMBER):
        assert ws[field.label_cell].value == field.label
        assert ws[field.label_cell].protection.locked
        assert not ws[field.cell].protection.locked
        assert ws[field.cell].value is None
    assert validations[LONG.cell].type == "textLength"
    assert validations[LONG.cell].formula1 == "1000"
    number = validations[NUMBER.cell]
    assert (number.type, number.formula1, number.formula2) == ("whole", "1", "2000")
    assert load_workbook(path).defined_names["aip_root_cause_families_surveyed"].attr_text == (
        f"'{SHEET}'!$B$13"
    )


def test_the_compiled_statewide_path_writes_them_too(data, settings, tmp_path: Path):
    summary = generate_all([data], tmp_path, CONFIG, settings, workers=1, issued_at=ISSUED)
    assert not summary.failures
    ws = load_workbook(output_path(tmp_path, data))[SHEET]
    assert [ws[f.label_cell].value for f in (LONG, NUMBER)] == [LONG.label, NUMBER.label]
    assert not ws[NUMBER.cell].protection.locked


def test_the_example_fills_them_and_validation_reads_them_back(data, settings):
    report = validate(example(data, settings))
    assert report.valid, [(p.code, p.cell) for p in report.errors]
    assert report.plan is not None
    assert report.plan.field("root_cause", "local_data") == "Attendance by bus route, fall 2025"
    assert report.plan.field("root_cause", "families_surveyed") == 150


def test_blank_out_of_range_and_wrong_type_are_errors_at_their_cells(data, settings):
    report = validate(example(data, settings, B12=None, B13=5000))
    assert at(report, "ROOT_CAUSE_MISSING") == [f"{SHEET}!B12"]
    assert at(report, "VALUE_OUT_OF_RANGE") == [f"{SHEET}!B13"]
    report = validate(example(data, settings, B13="about a hundred"))
    assert at(report, "VALUE_INVALID") == [f"{SHEET}!B13"]


def test_the_plan_document_shows_their_labels_and_values(data, settings):
    report = validate(example(data, settings, B13=321))
    assert report.plan is not None
    text = squash(document_text(render_docx(report.plan, data, CONFIG)))
    assert "Local Attendance Data Reviewed Attendance by bus route, fall 2025" in text
    assert "Families Surveyed 321" in text
    # the document of the unchanged spec does not have them
    plain = squash(document_text(render_docx(report.plan, data, ProgramConfig())))
    assert "Families Surveyed" not in plain


def test_the_test_planbook_answers_them_from_the_spec():
    values = valid_values(PlanKind.SCHOOL, config=CONFIG)
    cells = WorkbookCells(zipfile.ZipFile(io.BytesIO(planbook("school", values, config=CONFIG))))
    read = PlanReader(cells, SPEC, CONFIG, row_counts=row_counts("school")).read()
    assert [*read.problems, *run_rules(RuleContext(SPEC, CONFIG, read, final=True))] == []
    assert read.plan.field("root_cause", "families_surveyed") == 150
    assert where("school", "root_cause.local_data", config=CONFIG) == f"{SHEET}!B12"


def test_a_field_on_an_occupied_cell_is_refused_naming_both_and_the_cell():
    clash = NEW_FIELDS[1].model_copy(update={"cell": "B10"})
    with pytest.raises(ValidationError) as raised:
        with_fields(spec_for(PlanKind.SCHOOL), "root_cause", clash)
    assert (
        "field root_cause.barriers and field root_cause.families_surveyed share the cell "
        f"{SHEET}!B10"
    ) in str(raised.value)
