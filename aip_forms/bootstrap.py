"""The composition root: every entry point (the `aip` command line, the web portal, job
workers) builds its collaborators here, from the AIP_* settings, and nowhere else.

    app = App.from_env()          # reads the environment once; builds nothing yet
    with app:                     # closes what was built (pool, S3 client, LibreOffice)
        submit(data, uow=app.uow, store=app.store, validate=app.validator, ...)

Each collaborator is built on first use, so a command pays only for what it touches:
`aip workbook validate` never imports SQLAlchemy, `aip submit` never starts LibreOffice.

| collaborator | what it is | chosen by |
| --- | --- | --- |
| `settings`, `config` | paths, keys, adapters; program rules | AIP_*, AIP_PROGRAM_CONFIG |
| `site` | the portal's address and name, the roles' names | AIP_BASE_URL, the profile |
| `engine`, `uow` | SQLAlchemy engine (schema brought to head), units of work | AIP_DATABASE_URL |
| `store` | object storage: a folder or S3 | AIP_STORAGE_URL, AIP_S3_*, AWS_* |
| `validator` | the upload validator with the signing key | AIP_SECRET_KEY |
| `converter` | DOCX to PDF: LibreOffice (UNO or batch) | AIP_PDF_CONVERTER, AIP_SOFFICE |
| `mailer` | SMTP or outbox folder; unsent mail waits in the db | AIP_SMTP_*, AIP_MAIL_FROM |
| `accounts` | password, code, link and throttling rules | AIP_PROGRAM_CONFIG (`accounts`) |
| `throttle` | failed sign-in counters: Redis, else the database | AIP_REDIS_URL |
| `queue` | background jobs: Celery on Redis, else a thread here | AIP_REDIS_URL |
| `afterwards` | best-effort work after a request's answer (a version's charts), a thread here | |
| `clock` | the time use cases record | (UTC now) |
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Self

from aip_forms.clock import Clock, utc_now
from aip_forms.config import ProgramConfig, Settings
from aip_forms.errors import InvalidInput

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from aip_forms.config import AccountPolicy
    from aip_forms.jobs.queues import Afterwards
    from aip_forms.jobs.service import JobQueue
    from aip_forms.mail import Mailer
    from aip_forms.mail_outbox import MailOutbox
    from aip_forms.services.submissions import Validator
    from aip_forms.services.throttle import Throttle
    from aip_forms.services.uow import UowFactory
    from aip_forms.site import Site
    from aip_forms.storage import ObjectStore
    from exports.pdf import PdfConverter


class App:
    """The collaborators of the use cases, built lazily from `settings`."""

    def __init__(
        self,
        settings: Settings,
        config: ProgramConfig | None = None,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self.settings = settings
        self.config = config if config is not None else ProgramConfig()
        self.clock = clock
        self._closers: list[Callable[[], object]] = []

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> App:
        """Settings and program config from `env` (default: the process environment).
        A broken setting or program file raises InvalidInput naming it."""
        try:
            settings = Settings.from_env(env)
            config = ProgramConfig.load(settings.program_config or None, settings.program)
        except (OSError, ValueError) as e:
            raise InvalidInput(f"configuration: {' '.join(str(e).split())}") from e
        return cls(settings, config)

    @cached_property
    def site(self) -> Site:
        """The portal as its users meet it: its address and name, what its roles are called."""
        from aip_forms.site import Site

        return Site.of(self.settings.base_url, self.config)

    # ---- adapters, each built on first use ----------------------------------------------

    @cached_property
    def engine(self) -> Engine:
        from aip_forms.db.session import ensure_schema, make_engine

        engine = make_engine(self.settings.database_url)
        self._closers.append(engine.dispose)
        ensure_schema(engine)
        return engine

    @cached_property
    def uow(self) -> UowFactory:
        from aip_forms.services.uow import sql_uow

        return sql_uow(self.engine)

    @cached_property
    def store(self) -> ObjectStore:
        from aip_forms.storage import store_from_env

        try:
            store = store_from_env(self.settings.environment, self.settings.home)
        except ValueError as e:
            raise InvalidInput(f"configuration: {e}") from e
        close = getattr(store, "close", None)  # an S3 store's client
        if callable(close):
            self._closers.append(close)
        return store

    @cached_property
    def validator(self) -> Validator:
        from aip_forms.observability import count_upload, registry
        from validators.validate import Expectation, ValidationReport, validate_upload

        registry(self.settings.home / "metrics")  # counts shared with /metrics

        key, config = self.settings.secret_key, self.config

        def validate(
            data: bytes, *, filename: str | None, expect: Expectation, final: bool
        ) -> ValidationReport:
            report = validate_upload(
                data, key=key, config=config, filename=filename, expect=expect, final=final
            )
            count_upload([p.code for p in report.errors], refused=not report.valid)
            return report

        return validate

    @cached_property
    def converter(self) -> PdfConverter:
        from exports.office import converter_named

        converter = converter_named(self.settings.pdf_converter, self.settings.soffice)
        close = getattr(converter, "close", None)
        if callable(close):
            self._closers.append(close)
        return converter

    @cached_property
    def mail_outbox(self) -> MailOutbox:
        """Mail the server has not taken yet, in the database (`aip_forms.mail_outbox`)."""
        from aip_forms.mail import mailer_for
        from aip_forms.mail_outbox import MailOutbox
        from aip_forms.observability import counted, registry

        s = self.settings
        registry(s.home / "metrics")  # counts shared with /metrics
        transport = counted(
            mailer_for(
                smtp_host=s.smtp_host,
                smtp_port=s.smtp_port,
                smtp_tls=s.smtp_tls,
                smtp_user=s.smtp_user,
                smtp_password=s.smtp_password,
                sender=s.mail_from,
                outbox=s.home / "outbox",
            )
        )
        # the database is reached only when a message has to wait
        return MailOutbox(lambda: self.uow(), transport, self.clock, s.mail_from)

    @cached_property
    def mailer(self) -> Mailer:
        """The SMTP server (or outbox folder); what it does not take waits in `mail_outbox`."""
        from aip_forms.mail_outbox import durable

        return durable(self.mail_outbox)

    @property
    def accounts(self) -> AccountPolicy:
        return self.config.accounts

    @cached_property
    def throttle(self) -> Throttle:
        from aip_forms.services.throttle import RedisThrottle, SqlThrottle

        if not self.settings.redis_url:
            return SqlThrottle(self.uow)
        try:
            throttle = RedisThrottle.from_url(self.settings.redis_url)
        except ValueError as e:
            raise InvalidInput(f"configuration: AIP_REDIS_URL: {e}") from e
        self._closers.append(throttle.close)
        return throttle

    @cached_property
    def queue(self) -> JobQueue:
        """Where background jobs go: Celery workers (`aip worker`) when AIP_REDIS_URL is
        set, else one background thread of this process (`jobs.queues.InlineQueue`)."""
        if self.settings.redis_url:
            from aip_forms.jobs.celery_queue import CeleryQueue

            celery = CeleryQueue.from_url(self.settings.redis_url)
            self._closers.append(celery.close)
            return celery
        from aip_forms.jobs.queues import InlineQueue
        from aip_forms.jobs.run import run_job

        inline = InlineQueue(lambda job_id: run_job(job_id, app=self))
        self._closers.append(inline.close)
        return inline

    @cached_property
    def afterwards(self) -> Afterwards:
        """Best-effort work a request leaves for after its answer, in this process."""
        from aip_forms.jobs.queues import Afterwards

        after = Afterwards()
        self._closers.append(after.close)
        return after

    # ---- lifetime ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close what was built, newest first; a failing close does not stop the others."""
        while self._closers:
            # closing must not mask the command's outcome
            with contextlib.suppress(Exception):
                self._closers.pop()()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
