"""Exports never turn text into a formula: text a coordinator typed (or a name in PED's
data) that starts with =, +, -, @ or a tab stays text in the statewide summary and in the
revision workbook. openpyxl writes any text starting with "=" as a formula unless told."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from aip_forms.domain import PlanKind, School
from aip_forms.services.revision import write_answers
from exports.summary import statewide_summary
from tests.support import mutate
from validators.validate import validate_upload

TRICKS = ['=HYPERLINK("http://203.0.113.9/x","Open")', "+1+1", "-2+3", "@SUM(1,2)", "\t=1+1"]


def formulas_in(data: bytes) -> list[bytes]:
    """Every <f> element of every sheet: none may come from text."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [
            archive.read(name)
            for name in archive.namelist()
            if name.startswith("xl/worksheets/") and b"<f>" in archive.read(name)
        ]


@pytest.mark.parametrize("trick", TRICKS)
def test_the_statewide_summary_keeps_names_as_text(trick: str) -> None:
    school = School(code="001-001", lea_code="001", name=trick, grade_low="PK", grade_high="5")
    data = mutate.plan_data(PlanKind.SCHOOL, school)
    out = io.BytesIO()
    statewide_summary([(data, None, None)], mutate.CONFIG).save(out)

    assert formulas_in(out.getvalue()) == []
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue()))["Summary"]
    names = [row[4] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names and set(names) == {trick}


@pytest.mark.parametrize("trick", TRICKS)
def test_the_revision_workbook_keeps_answers_as_text(trick: str) -> None:
    report = validate_upload(mutate.example(PlanKind.SCHOOL), key=mutate.KEY, config=mutate.CONFIG)
    assert report.plan is not None
    plan = report.plan.to_json_dict()
    plan["sections"]["contact"]["fields"]["title"] = trick
    book = mutate.book(PlanKind.SCHOOL)

    write_answers(
        book, mutate.CONFIG.spec(PlanKind.SCHOOL), mutate.plan_data(PlanKind.SCHOOL), plan
    )
    data = mutate.save(book)

    sheet, ref = mutate.cell_of(PlanKind.SCHOOL, "contact.title")
    cell = openpyxl.load_workbook(io.BytesIO(data))[sheet][ref]
    assert (cell.value, cell.data_type) == (trick, "s")
    assert not any(trick.encode() in part for part in formulas_in(data))
