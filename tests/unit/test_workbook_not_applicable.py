"""Rows without data (issue 13): a suppressed group, or one PED has no figure for, asks for
no target. Generated workbooks (both paths) lock its target cell and show n/a; the reader
reads that as no target; the validator refuses a value typed there (NOT_APPLICABLE_FILLED)."""

from __future__ import annotations

import io

import openpyxl
import pytest

from aip_forms.domain import PlanKind
from aip_forms.issued_data import DataRow, PlanData, ProgressData, ProgressRow, StrategyRow
from aip_forms.spec import NOT_APPLICABLE, progress_spec
from tests.support import mutate
from validators.validate import validate_upload
from workbook_templates import styles
from workbook_templates.build import build_workbook
from workbook_templates.compiled import compile_template, render
from workbook_templates.example import fill_example

CONFIG, SETTINGS, ISSUED = mutate.CONFIG, mutate.SETTINGS, mutate.ISSUED


def _data() -> PlanData:
    """A school plan with one suppressed subgroup and one grade without any figure."""
    base = mutate.plan_data(PlanKind.SCHOOL)
    subgroups = list(base.subgroups)
    subgroups[2] = subgroups[2].model_copy(update={"enrollment": 4, "suppressed": True})
    grades = list(base.grades)
    grades[1] = DataRow(code=grades[1].code, label=grades[1].label, enrollment=None, rates=())
    grades[0] = grades[0].model_copy(update={"enrollment": 80, "suppressed": False})
    return base.model_copy(update={"subgroups": tuple(subgroups), "grades": tuple(grades)})


def _both_paths(data: PlanData) -> dict[str, openpyxl.Workbook]:
    spec = CONFIG.spec(data.kind)
    built = io.BytesIO()
    build_workbook(spec, data, CONFIG, SETTINGS, issued_at=ISSUED).save(built)
    template = compile_template(spec, CONFIG, SETTINGS, data.fiscal_year)
    return {
        "reference": openpyxl.load_workbook(io.BytesIO(built.getvalue())),
        "compiled": openpyxl.load_workbook(io.BytesIO(render(template, data, ISSUED))),
    }


@pytest.mark.parametrize("path", ["reference", "compiled"])
def test_a_row_without_data_has_a_locked_na_target_and_others_a_yellow_input(path):
    data = _data()
    wb = _both_paths(data)[path]
    spec = CONFIG.spec(data.kind)
    for key, index, mark in (("demographics", 2, "*"), ("grades", 1, "—")):
        section = spec.section(key)
        (table,) = section.tables
        ws = wb[section.sheet]
        row = table.first_row + index
        assert ws[f"B{row}"].value == mark  # enrollment: "*" suppressed, "—" no data
        target = ws[f"{table.column('target').column}{row}"]
        assert target.value == NOT_APPLICABLE
        assert target.style == styles.NOT_APPLICABLE_STYLE
        assert target.protection.locked
        assert target.fill.fgColor.rgb.endswith(styles.GREY)
        other = ws[f"{table.column('target').column}{table.first_row}"]  # has data
        assert other.value is None and not other.protection.locked
        assert other.style == "aip_input_pct"


def test_both_paths_mark_the_same_cells():
    books = _both_paths(_data())
    marked = {
        path: sorted(
            f"{ws.title}!{c.coordinate}"
            for ws in wb.worksheets
            for r in ws.iter_rows()
            for c in r
            if c.value == NOT_APPLICABLE
        )
        for path, wb in books.items()
    }
    assert marked["reference"] == marked["compiled"]
    assert len(marked["reference"]) >= 2


def _uploaded(wb: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_the_example_leaves_na_cells_alone_and_validates_with_no_target_there():
    data = _data()
    spec = CONFIG.spec(data.kind)
    wb = build_workbook(spec, data, CONFIG, SETTINGS, issued_at=ISSUED)
    fill_example(wb, spec, data, CONFIG)
    report = validate_upload(_uploaded(wb), key=mutate.KEY, config=CONFIG, final=True)
    assert report.valid, [p.message for p in report.problems]
    assert report.plan is not None
    assert report.plan.rows("demographics", "subgroups")[2].get("target") is None
    assert report.plan.rows("grades", "grades")[1].get("target") is None
    assert report.plan.rows("grades", "grades")[0].get("target") is not None

    # a coordinator unprotects the sheet and types a target over the n/a
    section = spec.section("grades")
    cell = f"{section.tables[0].column('target').column}{section.tables[0].first_row + 1}"
    wb[section.sheet][cell] = 0.05
    report = validate_upload(_uploaded(wb), key=mutate.KEY, config=CONFIG, final=True)
    assert [(p.code, p.sheet, p.cell) for p in report.errors] == [
        ("NOT_APPLICABLE_FILLED", section.sheet, cell)
    ]
    assert report.errors[0].message.startswith(f"{section.sheet}!{cell}:")
    assert "5.0% was entered" in report.errors[0].message


def _progress_data() -> PlanData:
    base = mutate.plan_data(PlanKind.SCHOOL)
    rows = (
        ProgressRow(
            code="all",
            label="All Students",
            plan_target=20.0,
            current_target=18.0,
            current_rate=21.5,
        ),
        ProgressRow(
            code="asian",
            label="Asian",
            plan_target=None,
            current_target=None,
            current_rate=None,
            suppressed=True,
        ),
        ProgressRow(
            code="female", label="Female", plan_target=None, current_target=None, current_rate=12.0
        ),
    )
    progress = ProgressData(
        period="80",
        period_label="80-day",
        plan_id=1,
        plan_version=2,
        subgroups=rows,
        grades=rows[:1],
        strategies=(StrategyRow(ref="1.1", tier=1, strategy="Parent Outreach Programs"),),
    )
    return base.model_copy(update={"progress": progress})


def test_a_progress_update_locks_the_adjusted_target_of_groups_without_a_target():
    data = _progress_data()
    spec = progress_spec(PlanKind.SCHOOL)
    wb = build_workbook(spec, data, CONFIG, SETTINGS, issued_at=ISSUED)
    section = spec.section("subgroups")
    (table,) = section.tables
    ws = wb[section.sheet]
    column = table.column("adjusted_target").column
    shown = [ws[f"{column}{table.first_row + i}"].value for i in range(3)]
    assert shown == [None, NOT_APPLICABLE, NOT_APPLICABLE]
    reason = table.column("raise_reason").column
    assert [ws[f"{reason}{table.first_row + i}"].value for i in range(3)] == shown
    assert ws[f"D{table.first_row + 1}"].value == "—"  # no target in force: no data mark
    assert ws[f"E{table.first_row + 1}"].value == "*"  # suppressed rate

    template = compile_template(spec, CONFIG, SETTINGS, data.fiscal_year)
    compiled = openpyxl.load_workbook(io.BytesIO(render(template, data, ISSUED)))
    assert [compiled[section.sheet][f"{column}{table.first_row + i}"].value for i in range(3)] == (
        shown
    )

    ws[f"{column}{table.first_row + 2}"] = 0.1
    report = validate_upload(_uploaded(wb), key=mutate.KEY, config=CONFIG)
    assert ("NOT_APPLICABLE_FILLED", f"{column}{table.first_row + 2}") in [
        (p.code, p.cell) for p in report.errors
    ]


def test_a_revision_keeps_na_where_an_older_version_had_a_target():
    """A plan stored before its group lost its data (or before n/a cells) had a target
    there; the revision workbook does not write it over the locked n/a."""
    from aip_forms.services.revision import write_answers

    data = _data()
    spec = CONFIG.spec(data.kind)
    wb = build_workbook(spec, data, CONFIG, SETTINGS, issued_at=ISSUED)
    codes = [r.code for r in data.grades]
    stored = {
        "sections": {
            "grades": {
                "tables": {
                    "grades": [
                        {"row": 6, "code": codes[0], "values": {"target": 0.2}},
                        {"row": 7, "code": codes[1], "values": {"target": 0.1}},
                    ]
                }
            }
        }
    }
    assert write_answers(wb, spec, data, stored) == 1
    section = spec.section("grades")
    column = section.tables[0].column("target").column
    first = section.tables[0].first_row
    assert [wb[section.sheet][f"{column}{first + i}"].value for i in range(2)] == [
        0.2,
        NOT_APPLICABLE,
    ]
