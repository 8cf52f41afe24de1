"""Background jobs: the district packet and the statewide summary, made off the request.

- `requests`: the use cases the portal and the API call: `request_packet`,
  `request_statewide` (record a job and queue its id), `job_status`, `job_result` (only the
  requester or a PED user, checked on every call);
- `run`: `run_job`, the work itself, through the same services as `aip compile`
  (`documents.compile_lea` / `compile_statewide` over `stored_plans.stored_source`);
- `queues`: the `JobQueue` interface and `InlineQueue`, the embedded default (no server);
- `celery_queue`: `CeleryQueue` and the Celery app behind `aip worker` (Redis broker,
  `AIP_REDIS_URL`). A message carries only the job id.

The composition root (`App.queue`) picks Celery when AIP_REDIS_URL is set, else inline.
"""
