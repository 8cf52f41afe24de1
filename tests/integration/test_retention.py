"""Retention: plans past the keeping period are listed, and removed only by
`aip retention purge --yes`, with an audit entry each, their versions, reviews, comments and
stored files; an object the store will not delete yet (Object Lock) is kept and reported."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from aip_forms.db.models import AuditRow
from aip_forms.services.retention import expired_plans, purge
from aip_forms.storage import LocalObjectStore, ObjectLocked
from tests.integration.test_backup_restore import local_system, populate

KEPT_UNTIL = dt.date(2032, 6, 30)  # an FY2027 plan: its year ends 2027-06-30, plus 5 years


def test_plans_are_listed_the_day_after_their_keeping_period(tmp_path: Path) -> None:
    system = local_system(tmp_path / "home")
    populate(system, tmp_path)
    with system.app() as core:
        assert core.config.retention_years == 5
        assert expired_plans(core.uow, years=5, today=KEPT_UNTIL) == []
        [plan] = expired_plans(core.uow, years=5, today=KEPT_UNTIL + dt.timedelta(days=1))
        assert (plan.plan_id, plan.fiscal_year, plan.versions) == (1, 2027, 2)
        assert str(plan) == "plan 1: FY2027 school plan of school 006001, resubmitted, 2 version(s)"
        assert expired_plans(core.uow, years=6, today=KEPT_UNTIL + dt.timedelta(days=1)) == []
    listed = system.run("retention", "list")
    assert listed.exit_code == 0
    assert listed.output.strip().endswith("0 plan(s) of FY2021 or earlier past 5 years.")
    shorter = system.run("retention", "list", "--older-than-years", "0")
    assert shorter.exit_code == 2 and "--older-than-years must be 1 or more" in shorter.stderr


def test_purge_needs_yes_and_changes_nothing_without_it(tmp_path: Path) -> None:
    system = local_system(tmp_path / "home")
    populate(system, tmp_path)
    before = system.counts()
    refused = system.run("retention", "purge")
    assert refused.exit_code == 2
    assert "--yes is required: 0 plan(s) past 5 years would be removed" in refused.stderr
    assert system.counts() == before


def test_purge_removes_the_plan_its_versions_and_files_and_audits_it(tmp_path: Path) -> None:
    system = local_system(tmp_path / "home")
    populate(system, tmp_path)
    before = system.counts()
    with system.app() as core:
        keys = list(core.store.iter_keys())
        report = purge(uow=core.uow, store=core.store, years=5,
                       today=KEPT_UNTIL + dt.timedelta(days=1), clock=core.clock)  # fmt: skip
        assert [p.plan_id for p in report.purged] == [1]
        assert (report.objects_deleted, report.objects_kept) == (2, [])
    after = system.counts()
    for table in ("plan", "submission", "review_event", "review_comment"):
        assert before[table] > 0 and after[table] == 0, table
    assert after["app_user"] == before["app_user"] and after["lea"] == before["lea"]
    assert after["audit_log"] == before["audit_log"] + 1
    assert system.keys() == []
    with system.app() as core, core.engine.connect() as conn:
        entry = conn.execute(select(AuditRow.__table__).order_by(AuditRow.id.desc()).limit(1)).one()
        assert (entry.action, entry.entity, entry.entity_id) == ("retention.purged", "plan", "1")
        assert entry.before["objects"] == keys and entry.before["retention_years"] == 5
    verified = system.run("storage", "verify")
    assert verified.exit_code == 0 and "0 recorded" in verified.output


class LockedStore(LocalObjectStore):
    """The local store, except that the server's retention forbids deleting `locked`."""

    locked: str = ""

    def delete(self, key: str) -> None:
        if key == self.locked:
            raise ObjectLocked(f"{key} is under retention")
        super().delete(key)


def test_an_object_still_retained_is_kept_and_reported(tmp_path: Path) -> None:
    system = local_system(tmp_path / "home")
    populate(system, tmp_path)
    store = LockedStore(tmp_path / "home" / "objects")
    store.locked = "fy2027/lea-006/school-006001/school/v0001.xlsx"
    with system.app() as core:
        report = purge(uow=core.uow, store=store, years=5,
                       today=KEPT_UNTIL + dt.timedelta(days=1))  # fmt: skip
    assert (report.objects_deleted, report.objects_kept) == (1, [store.locked])
    assert system.counts()["submission"] == 0
    orphan = system.run("storage", "verify")
    assert orphan.exit_code == 1 and f"orphan   {store.locked}" in orphan.output
