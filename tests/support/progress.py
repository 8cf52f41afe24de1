"""Progress updates in the portal's tests (issue 12): a school plan approved, a period's data
loaded (synthetic rates for school 006001), and a progress workbook filled as a coordinator
would (the same targets, every strategy rated and reflected on)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import insert, select

from aip_forms.bootstrap import App
from aip_forms.data.load import load_paths
from aip_forms.db.models import EnrollmentRow
from aip_forms.domain import PlanKind
from aip_forms.services.access import PlanRef
from tests.integration.test_progress_cycle import fill
from tests.support.nm import approve
from tests.support.plans import submitted

__all__ = ["PLAN", "UPDATE", "approved_plan", "fill", "load_period"]

PLAN = PlanRef(PlanKind.SCHOOL, 2027, "006", "006001")
UPDATE = "FY2027-school-006001-80"
COORDINATOR, REVIEWER = "school@belen.org", "district@belen.org"
# Synthetic period rates (not PED's data): the school's all-students rate and one grade.
RATES = (
    "fiscal_year,period,lea_code,school_code,group_type,group_code,students,chronically_absent,"
    "rate_pct\n"
    "2027,{period},006,006001,subgroup,all,400,58,14.5\n"
    "2027,{period},006,006001,grade,9,100,20,20.0\n"
)


def approved_plan(core: App) -> int:
    """The school plan submitted by its coordinator and approved by the district; its id."""
    result = submitted(core, PLAN, COORDINATOR)
    assert result.submission is not None
    approve(result.submission.id, reviewer_email=REVIEWER, uow=core.uow, clock=core.clock)
    return result.submission.plan.id


def load_period(core: App, period: str = "80") -> None:
    """PED loads the period's (synthetic) rates, as `aip data load period_rates.csv` does."""
    with core.engine.begin() as c:
        if c.scalar(select(EnrollmentRow.fiscal_year).where(EnrollmentRow.fiscal_year == 2027)
                    .limit(1)) is None:  # fmt: skip
            c.execute(insert(EnrollmentRow), [
                {"fiscal_year": 2027, "lea_code": "006", "school_code": "006001",
                 "group_type": "subgroup", "group_code": "all", "enrollment": 400},
            ])  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "period_rates.csv").write_text(RATES.format(period=period))
        loaded = load_paths(core.engine, core.config, [Path(folder)])
        assert loaded.ok, loaded
