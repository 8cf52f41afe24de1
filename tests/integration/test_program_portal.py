"""The portal in a program's words (issue 14): banner, footer, role names, times and the
dashboards' words come from the program config; New Mexico's stay as they were."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from aip_forms.config import ProgramConfig
from aip_forms.db.models import PlanRecordRow
from tests.support.web import make_portal, open_session, text

PAGES = ("/sign-in", "/register", "/role", "/", "/dashboards")


@pytest.mark.parametrize(
    ("profile", "present", "absent"),
    [
        (
            "nm",
            ("An official website of the State of New Mexico", "PED Absence Coordinator",
             "New Mexico Public Education Department - Attendance Improvement Plans (NMSA 22-12A)",
             "for example name@district.k12.nm.us."),
            ("LAUSD", "Los Angeles"),
        ),
        (
            "lausd",
            ("An official website of the Los Angeles Unified School District",
             "LAUSD Absence Coordinator",
             "Los Angeles Unified School District - Attendance Improvement Program",
             "for example name@lausd.net."),
            ("New Mexico", "NMSA", "PED ", "chronic", "Chronic", "nm.us"),
        ),
    ],
)  # fmt: skip
def test_the_portal_names_its_own_program(
    tmp_path: Path, profile: str, present: tuple[str, ...], absent: tuple[str, ...]
) -> None:
    portal = make_portal(tmp_path / profile, config=ProgramConfig.load(None, profile))
    client = portal.client()
    pages = [text(client.get(path)) for path in ("/sign-in", "/register", "/register/received")]
    open_session(portal, client, "ped@ped.nm.gov")
    user_id, _ = portal.grants("ped@ped.nm.gov")
    for path in (*PAGES[2:], f"/admin/users/{user_id}"):
        response = client.get(path)
        assert response.status_code == 200, path
        pages.append(text(response))
    portal.core.close()
    shown = " ".join(pages)
    assert "{{" not in shown and "{%" not in shown  # no template code shown as text
    agency = portal.core.config.agency_short
    assert f"School coordinators only: your school&#39;s {agency} code." in shown
    assert f"School coordinators only: the school&#39;s {agency} code." in shown  # admin
    assert f"Your request was sent to {agency}&#39;s Absence Coordinator." in shown
    for words in present:
        assert words in shown, words
    for words in absent:
        assert words not in shown.replace("ped@ped.nm.gov", ""), words


@pytest.mark.parametrize(("profile", "agency"), [("nm", "PED"), ("lausd", "LAUSD")])
def test_my_plans_says_whose_period_data_is_not_loaded_yet(
    tmp_path: Path, profile: str, agency: str
) -> None:
    portal = make_portal(tmp_path / profile, config=ProgramConfig.load(None, profile))
    with portal.core.uow() as u:  # an approved district plan, as a review leaves it
        u.session.add(
            PlanRecordRow(kind="district", fiscal_year=2027, lea_code="006", school_code=None,
                          storage_prefix="fy2027/district/006", status="approved")
        )  # fmt: skip
        u.commit()
    client = portal.client()
    open_session(portal, client, "district@belen.org")
    page = " ".join(html.unescape(text(client.get("/plans"))).split())
    portal.core.close()
    assert f"{agency} has not loaded this period's attendance data yet" in page
    if profile == "lausd":
        assert "New Mexico" not in page and "PED" not in page
