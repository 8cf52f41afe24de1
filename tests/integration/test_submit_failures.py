"""Submit when things fail: storage unreachable or failing mid-submit, the database failing
after the object was written, concurrent submits of one plan, a corrupted object, a submit
to another LEA's plan. Each ends consistent (checked as `aip storage verify` does: no
orphan objects, no record without its object) with a clear message, and a retry succeeds.

Failures are injected by wrapping the real store and unit of work; everything else is real
(SQLite and PostgreSQL, the local store and S3 over HTTP).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Self

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from aip_forms.db.models import PlanRecordRow
from aip_forms.errors import Corrupt
from aip_forms.services import audit
from aip_forms.services.integrity import reconcile, verify
from aip_forms.services.submissions import SubmitResult, get_submission, list_submissions
from aip_forms.services.uow import UnitOfWork, UowFactory
from aip_forms.storage import (
    CheckResult,
    LocalObjectStore,
    ObjectStore,
    StorageUnavailable,
    StoredObject,
)
from aip_forms.storage.s3 import S3ObjectStore, client_from_env
from tests.integration.test_submit import Rig, example, first_name, moto_endpoint, rig, store
from tests.support.s3 import TEST_ENV, closed_port

__all__ = ["moto_endpoint", "rig", "store"]  # fixtures, imported


class FailingStore:
    """A real store whose chosen operations fail: "put" before writing, "put-lost-reply"
    after writing (the reply lost), "delete"."""

    def __init__(self, inner: ObjectStore, *fail: str) -> None:
        self.inner, self.fail = inner, set(fail)

    def put(self, key: str, data: bytes, *, sha256: str, metadata: dict[str, str] | None = None
            ) -> StoredObject:  # fmt: skip
        if "put" in self.fail:
            raise StorageUnavailable("injected: the store is down")
        stored = self.inner.put(key, data, sha256=sha256, metadata=metadata)
        if "put-lost-reply" in self.fail:
            raise StorageUnavailable("injected: connection reset reading the reply")
        return stored

    def delete(self, key: str) -> None:
        if "delete" in self.fail:
            raise StorageUnavailable("injected: the store is down")
        self.inner.delete(key)

    def get(self, key: str) -> bytes:
        return self.inner.get(key)

    def head(self, key: str) -> StoredObject | None:
        return self.inner.head(key)

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        return self.inner.iter_keys(prefix)

    def check(self, key: str) -> CheckResult:
        return self.inner.check(key)


class CommitFails:
    """Units of work whose n-th commits (counted from 1) fail as a lost connection would."""

    def __init__(self, uow: UowFactory, *failing: int) -> None:
        self.uow, self.failing, self.commits = uow, set(failing), 0

    def __call__(self) -> UnitOfWork:
        return _FailingUnit(self.uow(), self)


class _FailingUnit:
    def __init__(self, inner: UnitOfWork, parent: CommitFails) -> None:
        self.inner, self.parent = inner, parent

    def __enter__(self) -> Self:
        self.session = self.inner.__enter__().session
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self.inner.__exit__(t, e, tb)

    def commit(self) -> None:
        self.parent.commits += 1
        if self.parent.commits in self.parent.failing:
            self.session.flush()
            raise OperationalError("COMMIT", None, Exception("server closed the connection"))
        self.inner.commit()


def plans(rig: Rig) -> int:
    with rig.uow() as u:
        return u.session.scalar(select(func.count()).select_from(PlanRecordRow)) or 0


def test_storage_unreachable(rig: Rig) -> None:
    env = {**TEST_ENV, "AIP_S3_ENDPOINT_URL": f"http://127.0.0.1:{closed_port()}"}
    dead = S3ObjectStore("aip-nowhere", "", client_from_env(env))
    data = example()
    result = rig.submit(data, final=True, store=dead)
    assert (result.outcome, result.exit_code) == ("failed", 3)
    assert "object storage failed" in result.message and "Try again" in result.message
    assert list_submissions(uow=rig.uow) == []
    rig.assert_consistent()
    assert rig.submit(data, final=True).outcome == "stored"
    rig.assert_consistent()


@pytest.mark.parametrize("failure", ["put", "put-lost-reply"])
def test_storage_failing_mid_submit(rig: Rig, failure: str) -> None:
    data = example()
    result = rig.submit(data, final=True, store=FailingStore(rig.store, failure))
    assert (result.outcome, result.exit_code) == ("failed", 3)
    assert "nothing was stored or recorded" in result.message
    assert list(rig.store.iter_keys()) == []  # a lost reply's object was deleted again
    rig.assert_consistent()
    retry = rig.submit(data, final=True)
    assert retry.submission is not None and retry.submission.version == 1
    rig.assert_consistent()


def test_database_failing_after_the_object_was_written(rig: Rig) -> None:
    data = example()
    failing = CommitFails(rig.uow, 2)  # 1: the new plan, 2: the submission
    result = rig.submit(data, final=True, uow=failing)
    assert (result.outcome, result.exit_code) == ("failed", 3)
    assert "database error: server closed the connection" in result.message
    assert "nothing was stored or recorded" in result.message
    assert list(rig.store.iter_keys()) == []
    with rig.uow() as u:
        assert "storage.orphan_deleted" in [e.action for e in audit.entries(u.session)]
    rig.assert_consistent()
    retry = rig.submit(data, final=True)
    assert retry.submission is not None and retry.submission.version == 1
    rig.assert_consistent()


@pytest.mark.parametrize("then", ["reconcile", "retry-same", "retry-other"])
def test_an_orphan_left_by_a_failed_clean_up_is_found_and_cleared(rig: Rig, then: str) -> None:
    data = example()
    failing = CommitFails(rig.uow, 2)
    result = rig.submit(data, final=True, uow=failing, store=FailingStore(rig.store, "delete"))
    assert (result.outcome, result.exit_code) == ("failed", 3)
    assert "aip storage reconcile" in result.message
    found = verify(uow=rig.uow, store=rig.store)
    assert [(p.kind, p.key) for p in found.problems] == [
        ("orphan", "fy2027/lea-006/school-006001/school/v0001.xlsx")
    ]
    if then == "reconcile":
        cleared = reconcile(uow=rig.uow, store=rig.store)
        assert cleared.deleted == ["fy2027/lea-006/school-006001/school/v0001.xlsx"]
        rig.assert_consistent()
        retry = rig.submit(data, final=True)
    else:  # the retry takes over the orphan's key: adopts identical bytes, replaces others
        retry = rig.submit(data if then == "retry-same" else example(cells=first_name("Kris")),
                           final=True)  # fmt: skip
    assert retry.submission is not None and retry.submission.version == 1, retry.message
    rig.assert_consistent()


def submit_together(rig: Rig, books: list[bytes]) -> list[SubmitResult]:
    start = threading.Barrier(len(books))

    def one(data: bytes) -> SubmitResult:
        start.wait()
        return rig.submit(data)

    with ThreadPoolExecutor(len(books)) as pool:
        return list(pool.map(one, books))


def test_concurrent_submits_of_one_plan_get_one_version_each(rig: Rig) -> None:
    books = [example(cells=first_name(name)) for name in ("Ana", "Ben", "Cy", "Dee")]
    results = submit_together(rig, books)
    stored = [r for r in results if r.outcome == "stored"]
    for r in results:
        assert r.outcome == "stored" or (r.outcome == "refused" and "Try again" in r.message)
    versions = sorted(r.submission.version for r in stored if r.submission)
    assert versions == list(range(1, len(stored) + 1))
    assert len(stored) >= 1
    assert plans(rig) == 1
    rig.assert_consistent()
    retry = rig.submit(example(cells=first_name("Eve")))
    assert retry.outcome == "stored"


def test_concurrent_identical_submits_store_once(rig: Rig) -> None:
    data = example()
    results = submit_together(rig, [data] * 3)
    outcomes = sorted(r.outcome for r in results)
    assert outcomes.count("stored") == 1
    assert set(outcomes) <= {"stored", "unchanged", "refused"}
    assert len(list_submissions(uow=rig.uow)) == 1
    rig.assert_consistent()


def corrupt(store: ObjectStore, key: str) -> None:
    """Change the stored bytes under the adapter, as a failing disk or an intruder would."""
    if isinstance(store, LocalObjectStore):
        path = store.root / key
        os.chmod(path, 0o644)
        path.write_bytes(b"PK\x03\x04 not what was stored")
    else:
        assert isinstance(store, S3ObjectStore)
        head = store.client.head_object(Bucket=store.bucket, Key=f"{store.prefix}/{key}")
        store.client.put_object(Bucket=store.bucket, Key=f"{store.prefix}/{key}",
                                Body=b"PK\x03\x04 not what was stored",
                                Metadata=head["Metadata"])  # fmt: skip


def test_a_corrupted_object_is_refused_on_read_and_reported(rig: Rig) -> None:
    result = rig.submit(example(), final=True)
    assert result.submission is not None
    corrupt(rig.store, result.submission.object_key)
    with pytest.raises(Corrupt, match="corrupt") as refused:
        get_submission(result.submission.id, uow=rig.uow, store=rig.store)
    assert refused.value.exit_code == 4  # corrupt: not a transient outage
    found = verify(uow=rig.uow, store=rig.store)
    assert [(p.kind, p.submission_id) for p in found.problems] == [
        ("corrupt", result.submission.id)
    ]


def test_a_submit_to_another_leas_plan_is_refused_and_nothing_stored(rig: Rig) -> None:
    data = example()
    result = rig.submit(data, "school@bernalillo.org", final=True)
    assert (result.outcome, result.exit_code) == ("refused", 2)
    assert "may not submit the FY2027 school plan of school 006001" in result.message
    assert list(rig.store.iter_keys()) == []
    assert plans(rig) == 0
    rig.assert_consistent()
    assert rig.submit(data, "school@belen.org", final=True).outcome == "stored"
    rig.assert_consistent()


def test_verify_reports_a_record_whose_object_is_missing(rig: Rig, tmp_path: Path) -> None:
    result = rig.submit(example())
    assert result.submission is not None
    rig.store.delete(result.submission.object_key)
    found = verify(uow=rig.uow, store=rig.store)
    assert [(p.kind, p.submission_id) for p in found.problems] == [
        ("missing", result.submission.id)
    ]
    with pytest.raises(Corrupt, match="missing"):
        get_submission(result.submission.id, uow=rig.uow, store=rig.store)
