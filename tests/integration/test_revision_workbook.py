"""The revision workbook of a returned plan (issue 13): a "Reviewer comments" sheet listing
every open comment with a link to its cell, the commented cells highlighted, and the
Instructions saying who returned the plan and when. Through the real service, database
and validator; the workbook is opened with openpyxl as a coordinator's Excel would."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine

from aip_forms.bootstrap import App
from aip_forms.services.revision import (
    COMMENTS_HEADER,
    COMMENTS_SHEET,
    HIGHLIGHT,
    revision_workbook,
)
from aip_forms.services.uow import sql_uow
from aip_forms.spec import INSTRUCTIONS_SHEET
from aip_forms.storage import LocalObjectStore, ObjectStore
from tests.integration.test_submit import (
    CERTIFY,
    CONFIG,
    SCHOOL_DATA,
    SETTINGS,
    Rig,
    edited,
    example,
)
from tests.support.nm import add_comment, return_plan
from tests.unit.test_workflow import seed_reference, seed_users

WHEN = dt.datetime(2026, 10, 2, 15, 30, tzinfo=dt.UTC)


@pytest.fixture
def rig(engine: Engine, tmp_path: Path) -> Rig:
    seed_reference(engine)
    uow = sql_uow(engine)
    seed_users(uow)
    store: ObjectStore = LocalObjectStore(tmp_path / "objects")
    return Rig(engine, uow, store, App(SETTINGS, CONFIG).validator)


def _returned(rig: Rig) -> tuple[int, int]:
    first = rig.submit(example(), final=True)
    assert first.submission is not None
    sub = first.submission.id
    add_comment(sub, "Name the bus routes.", author_email="district@belen.org", uow=rig.uow,
                cell="'3 Root Cause Analysis'!B10", clock=lambda: WHEN)  # fmt: skip
    add_comment(sub, "Is 3% realistic for this group?", author_email="district@belen.org",
                uow=rig.uow, cell="'2A Demographic Targets'!F7", clock=lambda: WHEN)  # fmt: skip
    add_comment(sub, "Add a family-engagement strategy.", author_email="district@belen.org",
                uow=rig.uow, section="tiers", clock=lambda: WHEN)  # fmt: skip
    returned = return_plan(sub, reviewer_email="district@belen.org", uow=rig.uow,
                           comment="Please revise the steps commented.",
                           clock=lambda: WHEN)  # fmt: skip
    return returned.plan.id, sub


def test_the_revision_workbook_lists_links_and_highlights_every_comment(rig: Rig) -> None:
    plan_id, _ = _returned(rig)
    made = revision_workbook(plan_id, uow=rig.uow, plan_data=lambda ref: SCHOOL_DATA,
                             config=CONFIG, settings=SETTINGS)  # fmt: skip
    wb = openpyxl.load_workbook(io.BytesIO(made.data))
    assert wb.sheetnames[:2] == [INSTRUCTIONS_SHEET, COMMENTS_SHEET]
    ws = wb[COMMENTS_SHEET]
    assert [c.value for c in ws[4]] == list(COMMENTS_HEADER)
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=5) if row[0].value]
    assert [r[0] for r in rows] == [1, 2, 3, 4]
    assert {r[1] for r in rows} == {"district@belen.org"}
    assert {r[2] for r in rows} == {dt.datetime(2026, 10, 2)}
    by_body = {r[5]: r for r in rows}
    root = by_body["Name the bus routes."]
    assert root[3] == "3 Root Cause Analysis!B10" and root[4] == "Barriers"
    target = by_body["Is 3% realistic for this group?"]
    assert target[3] == "2A Demographic Targets!F7"
    group = wb["2A Demographic Targets"]["A7"].value
    assert target[4] == f"Current Year Target (%): {group}"
    tiers = by_body["Add a family-engagement strategy."]
    assert tiers[3] == "4 Tiers of Support!A1" and "Tiers of Support" in tiers[4]
    assert by_body["Please revise the steps commented."][4] == "The whole plan"

    links = {ws.cell(row=5 + i, column=4).hyperlink.location for i in range(4)}
    assert "'3 Root Cause Analysis'!B10" in links and "'2A Demographic Targets'!F7" in links
    assert all(ws.cell(row=5 + i, column=4).hyperlink.target is None for i in range(4))

    for sheet, cell in (("3 Root Cause Analysis", "B10"), ("2A Demographic Targets", "F7")):
        highlighted = wb[sheet][cell]
        assert highlighted.fill.fgColor.rgb.endswith(HIGHLIGHT), (sheet, cell)
        assert highlighted.comment is not None  # and still the note
        assert not highlighted.protection.locked  # still the coordinator's to change
    untouched = wb["3 Root Cause Analysis"]["B8"]
    assert not untouched.fill.fgColor.rgb.endswith(HIGHLIGHT)
    assert ws.protection.sheet  # read-only, like the pre-filled cells

    notice = str(wb[INSTRUCTIONS_SHEET]["A2"].value)
    assert notice.startswith(
        "This plan was returned for revision by district@belen.org on October 2, 2026 (version 1)."
    )
    assert f'4 open comments: see the sheet "{COMMENTS_SHEET}"' in notice
    assert str(wb[INSTRUCTIONS_SHEET]["A4"].value).startswith("For: BELEN HIGH")


def test_a_revised_workbook_with_its_comments_sheet_validates_and_resubmits(rig: Rig) -> None:
    plan_id, _ = _returned(rig)
    made = revision_workbook(plan_id, uow=rig.uow, plan_data=lambda ref: SCHOOL_DATA,
                             config=CONFIG, settings=SETTINGS)  # fmt: skip
    revised = edited(made.data, {"3 Root Cause Analysis!B10": "Routes 4 and 9.", **CERTIFY})
    second = rig.submit(revised, final=True)
    assert second.submission is not None, second.message
    assert second.submission.version == 2
