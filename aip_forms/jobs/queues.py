"""The embedded job queue: no server, the jobs run in this process.

`InlineQueue` is what `App.queue` gives when AIP_REDIS_URL is not set (a laptop, `make
demo`, a one-machine install): each job runs in one background thread of the process that
asked for it (the portal's), one job at a time, and the request returns at once. Jobs still
queued or running when the process stops are not resumed (they stay queued or running: ask
again); a real queue with workers (`celery_queue`, `aip worker`) does not lose them.
With `background=False` the job runs in the caller's thread before `enqueue` returns
(tests, and a command line that waits anyway).
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

log = logging.getLogger(__name__)


class InlineQueue:
    def __init__(self, run: Callable[[str], object], *, background: bool = True) -> None:
        self._run = run
        self._executor = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="aip-job") if background else None
        )
        self.pending: list[Future[None]] = []

    def enqueue(self, job_id: str) -> None:
        if self._executor is None:
            self._run(job_id)
            return
        self.pending = [f for f in self.pending if not f.done()]
        # the thread runs in this context: the job's log lines carry the request's id
        context = contextvars.copy_context()
        self.pending.append(self._executor.submit(context.run, self._logged, job_id))

    def _logged(self, job_id: str) -> None:
        log.info("job started", extra={"job_id": job_id})
        try:
            self._run(job_id)
        except Exception:  # the job's record says what failed; this is the thread's end
            log.exception("background job %s stopped", job_id)
            return
        log.info("job ended", extra={"job_id": job_id})

    def close(self) -> None:
        """Wait for the jobs handed over so far, then stop the thread."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)


class Afterwards:
    """Work a request leaves for after its answer (`App.afterwards`): one background thread
    of the process, one task at a time, in the request's context (its log lines carry the
    request id). A task is best effort: its failure is logged and nothing else depends on
    it (the portal's charts of a version just stored, which a render draws when they are
    missing). `close` waits for what was handed over."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aip-after")
        self.pending: list[Future[None]] = []

    def submit(self, task: Callable[[], object], what: str) -> None:
        self.pending = [f for f in self.pending if not f.done()]
        context = contextvars.copy_context()
        self.pending.append(self._executor.submit(context.run, self._logged, task, what))

    @staticmethod
    def _logged(task: Callable[[], object], what: str) -> None:
        try:
            task()
        except Exception:
            log.exception("after the answer, %s failed", what)

    def wait(self) -> None:
        """Until every task handed over so far has ended (tests)."""
        wait(self.pending)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
