"""A portal with real plans in it, for the review, documents and API tests: the small data
set of `test_generate_queries.seed` (LEA 001 with two schools, LEA 002 with one), the
users of `test_render_stored` plus Vista Academy's coordinator, and example workbooks
submitted through the submit service: LEA 001's district plan, Belen Elementary's school
plan and LEA 002's Vista Academy plan, each submitted for review."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aip_forms.bootstrap import App
from aip_forms.config import ProgramConfig, Settings
from aip_forms.data.queries import plan_data
from aip_forms.services.submissions import submit
from aip_forms.services.users import add_user
from aip_forms.spec import spec_for
from tests.integration.test_render_stored import USERS
from tests.support.web import Clock, Portal
from tests.unit.test_generate_queries import seed
from web import create_app
from workbook_templates.example import example_workbook

FY = 2027
PED, READER = "ped@ped.nm.gov", "reader@ped.nm.gov"
DISTRICT, SCHOOL, HIGH = "district@belen.org", "elementary@belen.org", "high@belen.org"
VISTA, VISTA_SCHOOL = "district@vista.org", "academy@vista.org"
ROLES = {
    "ped_coordinator": PED,
    "ped_reviewer": READER,
    "district_coordinator": DISTRICT,
    "school_coordinator": SCHOOL,
}


@dataclass
class World:
    portal: Portal
    district_plan: int  # LEA 001, submitted
    school_plan: int  # Belen Elementary, submitted
    vista_school_plan: int  # Vista Academy (LEA 002), submitted

    @property
    def core(self) -> App:
        return self.portal.core

    def workbook(self, lea: str, school: str | None) -> bytes:
        data = plan_data(self.core.engine, self.core.config, FY, lea, school)
        out = io.BytesIO()
        example_workbook(spec_for(data.kind), data, self.core.config, self.core.settings).save(out)
        return out.getvalue()

    def submit(self, data: bytes, user: str, *, final: bool = True) -> int:
        c = self.core
        result = submit(data, user_email=user, uow=c.uow, store=c.store, validate=c.validator,
                        final=final, filename="plan.xlsx", clock=self.portal.clock)  # fmt: skip
        assert result.submission is not None, result.message
        return result.submission.plan.id


def make_world(home: Path, **settings: object) -> World:
    home.mkdir(parents=True, exist_ok=True)
    base = {"home": home, "database_url": f"sqlite:///{home / 'aip.db'}",
            "secret_key": b"review-test-secret", "workbook_password": "protect",
            "base_url": "https://aip.ped.nm.gov", "environment": {}}  # fmt: skip
    clock = Clock()
    core = App(Settings(**{**base, **settings}), ProgramConfig(), clock=clock)  # type: ignore[arg-type]
    seed(core.engine)
    for email, role, grant in USERS:
        add_user(email, role, uow=core.uow, **grant)
    add_user(VISTA_SCHOOL, "school_coordinator", uow=core.uow, school_code="002001")
    portal = Portal(core, create_app(core, testing=True), clock, home)
    world = World(portal, 0, 0, 0)
    world.district_plan = world.submit(world.workbook("001", None), DISTRICT)
    world.school_plan = world.submit(world.workbook("001", "001001"), SCHOOL)
    world.vista_school_plan = world.submit(world.workbook("002", "002001"), VISTA_SCHOOL)
    return world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    made = make_world(tmp_path / "home")
    yield made
    made.core.close()
