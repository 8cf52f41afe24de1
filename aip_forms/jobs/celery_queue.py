"""Jobs on a real queue: Celery, with Redis as the broker (AIP_REDIS_URL).

The portal (or any process) enqueues with `CeleryQueue.enqueue(job_id)`: the message
carries the job id only, never a file. Workers (`aip worker`, on as many machines as PED
runs) take messages one at a time and call `run.run_job` with an App that each worker
process builds from its environment through the composition root, on its first job.

A message is acknowledged only when its job has run (`acks_late`); a worker process that
dies mid-job has its message put back at once (`reject_on_worker_lost`), and a whole worker
(or machine) that dies leaves it unacknowledged in Redis, where another worker takes it up
after `recover_after` seconds (Redis's visibility timeout: keep it longer than the longest
job, or a slow job is started a second time; `run_job` makes that harmless but wasteful).
A job that fails because the database cannot record anything is tried again later.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from celery import Celery, current_task, signals
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from aip_forms.errors import Unavailable

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from aip_forms.bootstrap import App

TASK = "aip.run_job"
RECOVER_AFTER = 3600  # seconds


def celery_app(redis_url: str, *, recover_after: int = RECOVER_AFTER) -> Celery:
    """The Celery app on `redis_url`, with the job task registered."""
    app = Celery("aip", broker=redis_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,  # a waiting job goes to a free worker, not a busy one
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": recover_after,
            "unacked_restore_interval": max(1, min(10, recover_after // 3)),
            "unacked_restore_throttle": 1,
        },
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5},
    )
    app.task(
        name=TASK,
        shared=False,
        acks_late=True,
        reject_on_worker_lost=True,
        autoretry_for=(Unavailable,),
        retry_backoff=True,
        max_retries=5,
    )(_run)
    return app


def _run(job_id: str) -> None:
    from aip_forms.jobs.run import run_job
    from aip_forms.observability import request_id

    asked_by = getattr(current_task.request, "aip_request_id", None) if current_task else None
    token = request_id.set(str(asked_by or ""))
    log.info("job started", extra={"job_id": str(job_id)})
    try:
        run_job(str(job_id), app=_process_app())
    finally:
        log.info("job ended", extra={"job_id": str(job_id)})
        request_id.reset(token)


_apps: dict[int, App] = {}


def _process_app() -> App:
    """This process's App, built on its first job: never before a fork, never at import."""
    pid = os.getpid()
    if pid not in _apps:
        from aip_forms.bootstrap import App

        _apps.clear()  # a forked child's copy of its parent's (none is built there)
        _apps[pid] = App.from_env()
    return _apps[pid]


@signals.worker_process_shutdown.connect
@signals.worker_shutdown.connect
def _close_process_app(**_: Any) -> None:
    found = _apps.pop(os.getpid(), None)
    if found is not None:
        found.close()


class CeleryQueue:
    """`JobQueue` on Celery: sends the job id to the workers."""

    def __init__(self, app: Celery) -> None:
        self.app = app

    @classmethod
    def from_url(cls, redis_url: str) -> CeleryQueue:
        return cls(celery_app(redis_url))

    def enqueue(self, job_id: str) -> None:
        try:
            from aip_forms.observability import request_id

            # the id of the request that asked for the job, for the worker's log lines
            self.app.send_task(TASK, args=[job_id], headers={"aip_request_id": request_id.get()})
        except (KombuError, RedisError, OSError) as error:
            raise Unavailable(f"the job queue (Redis) is unavailable: {error}") from None

    def close(self) -> None:
        self.app.close()
