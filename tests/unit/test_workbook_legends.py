"""Marks and notes of generated workbooks (issue 13): `*` for suppressed and `—` for no data
like the documents, a key next to every table that can show them, the enrollment's year,
and a note where the district's schools do not add up to the district."""

from __future__ import annotations

import pytest
from openpyxl.workbook.workbook import Workbook

from aip_forms.domain import PlanKind
from aip_forms.issued_data import DataRow, PlanData
from aip_forms.spec import INSTRUCTIONS_SHEET
from aip_forms.workbook_format.layout import NO_DATA, SUPPRESSED, legend, shows_numbers
from tests.support import mutate
from workbook_templates.build import build_workbook
from workbook_templates.instructions import enrollment_note

CONFIG, SETTINGS, ISSUED = mutate.CONFIG, mutate.SETTINGS, mutate.ISSUED


def _build(data: PlanData) -> Workbook:
    return build_workbook(CONFIG.spec(data.kind), data, CONFIG, SETTINGS, issued_at=ISSUED)


def _with_gaps(kind: PlanKind) -> PlanData:
    data = mutate.plan_data(kind)
    subgroups = list(data.subgroups)
    subgroups[3] = subgroups[3].model_copy(update={"enrollment": 6, "suppressed": True})
    subgroups[4] = DataRow(
        code=subgroups[4].code, label=subgroups[4].label, enrollment=None, rates=()
    )
    return data.model_copy(update={"subgroups": tuple(subgroups)})


def _texts(wb: Workbook) -> list[str]:
    return [
        str(c.value)
        for ws in wb.worksheets
        if ws.sheet_state == "visible"
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
    ]


@pytest.mark.parametrize("kind", [PlanKind.SCHOOL, PlanKind.DISTRICT], ids=str)
def test_marks_are_the_documents_and_every_numbers_table_has_the_key_above_it(kind):
    data = _with_gaps(kind)
    wb = _build(data)
    spec = CONFIG.spec(kind)
    texts = _texts(wb)
    assert not [t for t in texts if t.startswith("n<")]
    demographics = wb[spec.section("demographics").sheet]
    first = spec.section("demographics").tables[0].first_row
    assert demographics[f"B{first + 3}"].value == SUPPRESSED
    assert demographics[f"B{first + 4}"].value == NO_DATA
    key = legend(CONFIG.min_group_size)
    assert "* suppressed" in key and "— no data" in key and "n/a no target needed" in key
    for section in spec.sections:
        ws = wb[section.sheet]
        has_key = key in str(ws["A3"].value or "")
        assert has_key == any(shows_numbers(t) for t in section.tables), section.sheet
        marks = {c.value for row in ws.iter_rows() for c in row} & {SUPPRESSED, NO_DATA}
        assert not marks or has_key, section.sheet


def test_enrollment_headers_name_the_year():
    wb = _build(mutate.plan_data(PlanKind.SCHOOL))
    ws = wb[CONFIG.spec(PlanKind.SCHOOL).section("grades").sheet]
    assert ws["B5"].value == "Enrollment FY2027 (current year)"


def test_a_district_whose_schools_do_not_add_up_says_why():
    data = mutate.plan_data(PlanKind.DISTRICT)
    district = next(r.enrollment for r in data.subgroups if r.code == "all")
    total = sum(r.enrollment or 0 for r in data.schools if not r.suppressed)
    assert district != total  # the synthetic data differs, as real data does
    wb = _build(data)
    text = " ".join(str(c.value) for c in wb[INSTRUCTIONS_SHEET]["A"] if c.value)
    assert f"The schools' enrollments shown add up to {total:,}" in text
    assert f"the district's is {district:,}" in text
    assert "changed schools within the district counts at each school" in text
    assert "in FY2027 (the current year)" in text


def test_a_district_whose_schools_add_up_says_so_and_no_reason():
    data = mutate.plan_data(PlanKind.DISTRICT)
    schools = tuple(r.model_copy(update={"suppressed": False}) for r in data.schools)
    total = sum(r.enrollment or 0 for r in schools)
    subgroups = tuple(
        r.model_copy(update={"enrollment": total}) if r.code == "all" else r for r in data.subgroups
    )
    note = enrollment_note(
        data.model_copy(update={"schools": schools, "subgroups": subgroups}), CONFIG
    )
    assert note.endswith(f"add up to {total:,}, the district's figure.")
    assert "differ" not in note


def test_a_suppressed_school_is_left_out_of_the_sum_and_said_so():
    data = mutate.plan_data(PlanKind.DISTRICT)
    schools = list(data.schools)
    schools[0] = schools[0].model_copy(update={"enrollment": 7, "suppressed": True})
    note = enrollment_note(data.model_copy(update={"schools": tuple(schools)}), CONFIG)
    total = sum(r.enrollment or 0 for r in schools[1:])
    assert f"add up to {total:,} (1 school suppressed or without data left out)" in note
