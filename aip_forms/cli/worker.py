"""`aip worker`: a Celery worker that runs background jobs from the Redis queue."""

from __future__ import annotations

import os

import click

from aip_forms.cli.common import app, fail


@click.command()
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    help="Jobs run at once, each in its own process (default: the number of CPUs).",
)
@click.option(
    "--recover-after",
    default=3600,
    show_default=True,
    type=click.IntRange(1, 7 * 86400),
    help="Seconds after which a job whose worker died is taken up by another worker; "
    "keep it longer than the longest job.",
)
@click.option(
    "--loglevel",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
def worker(concurrency: int | None, recover_after: int, loglevel: str) -> None:
    """Run background jobs (district packets, statewide summaries) until stopped.

    Needs AIP_REDIS_URL, the queue the portal sends jobs to; each worker process builds its
    own database, storage, LibreOffice and mail from the environment on its first job.
    """
    from aip_forms.jobs.celery_queue import celery_app

    redis_url = app().settings.redis_url  # settings only: nothing is built before the fork
    if not redis_url:
        fail("aip worker needs AIP_REDIS_URL (redis://host:6379/0); without it the portal "
             "runs jobs itself, in a background thread")  # fmt: skip
    argv = ["worker", f"--loglevel={loglevel.upper()}", "--without-gossip", "--without-mingle"]
    argv += [f"--hostname=aip-{os.getpid()}@%h"]
    if concurrency is not None:
        argv.append(f"--concurrency={concurrency}")
    from aip_forms.observability import configure_logging

    configure_logging()  # the jobs' own lines as JSON, with the asking request's id
    celery_app(redis_url, recover_after=recover_after).worker_main(argv)
