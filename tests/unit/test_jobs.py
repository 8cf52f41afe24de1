"""The job queue the composition root picks, and the embedded queue's two ways of running
a job (a background thread, or at once), without any server."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from aip_forms.bootstrap import App
from aip_forms.jobs.celery_queue import TASK, CeleryQueue
from aip_forms.jobs.queues import InlineQueue
from aip_forms.jobs.service import new_job_id, result_filename, result_key
from aip_forms.services.integrity import JOB_RESULT_KEY, SUBMISSION_KEY
from aip_forms.storage.base import validate_key


def test_without_redis_jobs_run_in_this_process(tmp_path: Path) -> None:
    with App.from_env({"AIP_HOME": str(tmp_path), "AIP_SECRET_KEY": "k"}) as app:
        assert isinstance(app.queue, InlineQueue)


def test_with_redis_jobs_go_to_celery_without_connecting(tmp_path: Path) -> None:
    env = {"AIP_HOME": str(tmp_path), "AIP_SECRET_KEY": "k", "AIP_REDIS_URL": "redis://h:1/2"}
    with App.from_env(env) as app:
        queue = app.queue
        assert isinstance(queue, CeleryQueue)
        assert queue.app.conf.broker_url == "redis://h:1/2"
        assert queue.app.conf.task_acks_late and queue.app.conf.task_reject_on_worker_lost
        assert TASK in queue.app.tasks


def test_the_inline_queue_runs_a_job_in_a_background_thread() -> None:
    ran: list[tuple[str, str]] = []
    release = threading.Event()

    def run(job_id: str) -> None:
        release.wait(10)
        ran.append((job_id, threading.current_thread().name))

    queue = InlineQueue(run)
    queue.enqueue("a")
    queue.enqueue("b")
    assert ran == []  # enqueue returned before the job ran
    release.set()
    queue.close()
    assert [job for job, _ in ran] == ["a", "b"]
    assert all(name.startswith("aip-job") for _, name in ran)


def test_the_inline_queue_outlives_a_failing_job(caplog: pytest.LogCaptureFixture) -> None:
    ran: list[str] = []

    def run(job_id: str) -> None:
        if job_id == "bad":
            raise RuntimeError("boom")
        ran.append(job_id)

    queue = InlineQueue(run)
    queue.enqueue("bad")
    queue.enqueue("good")
    queue.close()
    assert ran == ["good"]
    assert "background job bad stopped" in caplog.text


def test_the_inline_queue_can_run_a_job_at_once() -> None:
    ran: list[str] = []
    InlineQueue(ran.append, background=False).enqueue("a")
    assert ran == ["a"]


def test_job_ids_are_128_random_bits_and_name_their_result() -> None:
    ids = {new_job_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(len(i) == 32 and int(i, 16) < 2**128 for i in ids)
    job = new_job_id()
    for name in (result_filename("packet", 2027, "001"), result_filename("statewide", 2027, None)):
        key = validate_key(result_key(job, name))
        assert JOB_RESULT_KEY.match(key) and not SUBMISSION_KEY.match(key)
