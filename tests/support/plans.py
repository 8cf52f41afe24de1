"""Plan workbooks for the portal's tests: downloaded from the portal (or built for a plan),
filled as a coordinator would with the example answers, with cells changed or emptied."""

from __future__ import annotations

import io
from collections.abc import Mapping

import openpyxl

from aip_forms.bootstrap import App
from aip_forms.data.queries import plan_data
from aip_forms.services.access import PlanRef
from aip_forms.services.submissions import SubmitResult, submit
from workbook_templates.example import fill_example

SCHOOL = "FY2027-school-006001"
OTHER_SCHOOL = "FY2027-school-007001"
DISTRICT = "FY2027-district-006"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def filled(
    core: App,
    ref: PlanRef,
    workbook: bytes,
    cells: Mapping[str, object] | None = None,
) -> bytes:
    """`workbook` (as downloaded) filled with the example answers, then `cells`
    ("Sheet!C5" -> value; None empties the cell) changed."""
    wb = openpyxl.load_workbook(io.BytesIO(workbook))
    data = plan_data(core.engine, core.config, ref.fiscal_year, ref.lea_code, ref.school_code)
    fill_example(wb, core.config.spec(ref.kind), data, core.config)
    for where, value in (cells or {}).items():
        sheet, _, cell = where.rpartition("!")
        wb[sheet][cell].value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def issued(core: App, ref: PlanRef) -> bytes:
    """The plan's pre-filled workbook as the portal issues it."""
    from aip_forms.services.home import prefilled_workbook

    return prefilled_workbook(
        ref, engine=core.engine, config=core.config, settings=core.settings
    ).data


def complete(core: App, ref: PlanRef, cells: Mapping[str, object] | None = None) -> bytes:
    return filled(core, ref, issued(core, ref), cells)


def submitted(core: App, ref: PlanRef, email: str) -> SubmitResult:
    """A certified version of `ref` stored as `email` through the submit service."""
    result = submit(
        complete(core, ref),
        user_email=email,
        uow=core.uow,
        store=core.store,
        validate=core.validator,
        final=True,
        filename="plan.xlsx",
        plan=ref,
        clock=core.clock,
    )
    problems = result.report.errors if result.report else []
    assert result.ok, (result.message, [(p.code, p.message) for p in problems])
    return result
