"""Is the system ready? Probes of what it depends on, and the check of every setting.

Each probe says one thing about one dependency (`Check`): ok, a warning, or a failure with
the project's error kind (InvalidInput: a setting is wrong; Unavailable: a dependency
cannot be reached), and a message that names the setting. The portal's `/readyz` runs the
cheap probes (`readiness`); `aip check-config` runs `check_config`, which also checks every
AIP_* setting, writes a probe object to the store, and speaks to SMTP.

No probe prints a secret: database URLs are shown with the password hidden.
"""

from __future__ import annotations

import difflib
import shutil
import smtplib
import ssl
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from aip_forms.errors import AipError, InvalidInput, Unavailable, one_line
from aip_forms.observability import metrics_networks

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from aip_forms.bootstrap import App
    from aip_forms.config import Settings
    from aip_forms.storage import ObjectStore

Status = Literal["ok", "warn", "fail"]

# Every AIP_* variable aip-forms reads (a name not here is reported as a likely typo).
KNOWN_SETTINGS = frozenset(
    {
        "AIP_HOME", "AIP_DATABASE_URL", "AIP_SECRET_KEY", "AIP_WORKBOOK_PASSWORD",
        "AIP_PROGRAM_CONFIG", "AIP_STORAGE_URL", "AIP_S3_ENDPOINT_URL",
        "AIP_S3_OBJECT_LOCK_MODE", "AIP_S3_RETENTION_DAYS", "AIP_PDF_CONVERTER", "AIP_SOFFICE",
        "AIP_SMTP_HOST", "AIP_SMTP_PORT", "AIP_SMTP_TLS", "AIP_SMTP_USER", "AIP_SMTP_PASSWORD",
        "AIP_MAIL_FROM", "AIP_BASE_URL", "AIP_TLS", "AIP_REDIS_URL", "AIP_DEMO_NO_SERVE",
        "AIP_TRUSTED_PROXIES", "AIP_METRICS_ALLOW", "AIP_BACKUP_KEY",
    }
)  # fmt: skip
MIN_SECRET_LENGTH = 32
TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Check:
    name: str  # what was checked: "database", "storage", "AIP_BASE_URL", ...
    status: Status
    detail: str
    kind: type[AipError] | None = None  # for a failure: InvalidInput or Unavailable

    @property
    def ok(self) -> bool:
        return self.status != "fail"

    def __str__(self) -> str:
        return f"{self.status:5} {self.name}: {self.detail}"


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def warn(name: str, detail: str) -> Check:
    return Check(name, "warn", detail)


def failed(name: str, error: BaseException) -> Check:
    """A failure from any exception, as its kind and the one line a user would see."""
    _, message = one_line(error)
    kind: type[AipError] = Unavailable
    if isinstance(error, InvalidInput | ValueError):
        kind = InvalidInput
    return Check(name, "fail", message, kind)


def _probe(name: str, probe: Callable[[], Check], setting: str = "") -> Check:
    """The probe's result; a failure as a Check whose message names `setting`."""
    try:
        return probe()
    except Exception as e:  # a probe never raises: it reports
        check = failed(name, e)
        if setting and setting not in check.detail:
            check = Check(name, "fail", f"{setting}: {check.detail}", check.kind)
        return check


# ---- probes of the dependencies --------------------------------------------------------------


def probe_database(engine: Engine) -> Check:
    from sqlalchemy import text

    from aip_forms.db.session import HEAD_REVISION, schema_revision

    def run() -> Check:
        where = engine.url.render_as_string(hide_password=True)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as e:
            raise Unavailable(f"AIP_DATABASE_URL {where}: {one_line(e)[1]}") from None
        revision = schema_revision(engine)
        if revision is None:
            return warn("database", f"{where}: reachable, empty (the schema is made at first use)")
        if revision > HEAD_REVISION:
            raise InvalidInput(
                f"AIP_DATABASE_URL {where}: schema revision {revision} is newer than this "
                f"aip-forms ({HEAD_REVISION}); upgrade aip-forms"
            )
        behind = "" if revision == HEAD_REVISION else f", upgraded to {HEAD_REVISION} at first use"
        return ok("database", f"{where}: reachable, schema revision {revision}{behind}")

    return _probe("database", run)


def probe_storage(store: ObjectStore, *, write: bool, retained: bool = False) -> Check:
    """Lists the store; with `write`, also writes, reads back and deletes a probe object
    (not under Object Lock, where the probe could not be deleted for years)."""
    from aip_forms.storage.base import sha256_hex

    def run() -> Check:
        next(iter(store.iter_keys("health/")), None)
        if not write:
            return ok("storage", f"{store!r}: reachable")
        if retained:
            return warn("storage", f"{store!r}: reachable; writing not tried (Object Lock "
                        "would keep the probe object for the whole retention period)")  # fmt: skip
        key, data = f"health/probe-{uuid.uuid4().hex}.txt", b"aip check-config probe\n"
        store.put(key, data, sha256=sha256_hex(data))
        try:
            if store.get(key) != data:
                raise Unavailable(f"{store!r}: the probe object read back differs")
        finally:
            store.delete(key)
        return ok("storage", f"{store!r}: reachable and writable")

    return _probe("storage", run, "AIP_STORAGE_URL")


def probe_redis(url: str) -> Check:
    def run() -> Check:
        import redis

        try:
            client = redis.Redis.from_url(
                url, socket_connect_timeout=TIMEOUT_S, socket_timeout=TIMEOUT_S
            )
        except ValueError as e:
            raise InvalidInput(f"AIP_REDIS_URL: {e}") from None
        try:
            client.ping()
        except redis.RedisError as e:
            raise Unavailable(f"AIP_REDIS_URL {_hide(url)}: Redis unreachable: {e}") from None
        finally:
            client.close()
        return ok("redis", f"{_hide(url)}: reachable")

    return _probe("redis", run)


def probe_smtp(settings: Settings) -> Check:
    """Connects, says EHLO, STARTTLS and logs in as configured; sends nothing."""

    def run() -> Check:
        tls = settings.smtp_tls.strip().lower() or "none"
        port = settings.smtp_port or (587 if tls == "starttls" else 25)
        where = f"{settings.smtp_host}:{port}"
        try:
            with smtplib.SMTP(settings.smtp_host, port, timeout=TIMEOUT_S) as smtp:
                smtp.ehlo()
                if tls == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if settings.smtp_user:
                    smtp.login(settings.smtp_user, settings.smtp_password)
        except smtplib.SMTPAuthenticationError:
            raise InvalidInput(
                f"AIP_SMTP_USER/AIP_SMTP_PASSWORD: the server at {where} refused them"
            ) from None
        except (smtplib.SMTPException, OSError) as e:
            raise Unavailable(f"AIP_SMTP_HOST {where}: cannot speak SMTP: {e}") from None
        return ok("smtp", f"{where}: reachable" + (", signed in" if settings.smtp_user else ""))

    return _probe("smtp", run)


def probe_libreoffice(soffice: str) -> Check:
    def run() -> Check:
        from exports.pdf import find_soffice

        program = shutil.which(soffice) if soffice else find_soffice()
        if not program:
            where = f"AIP_SOFFICE {soffice!r}" if soffice else "soffice on the PATH"
            raise Unavailable(f"LibreOffice not found ({where}): PDFs cannot be made")
        return ok("libreoffice", f"{program}")

    return _probe("libreoffice", run)


def readiness(core: App) -> list[Check]:
    """The cheap probes the portal's /readyz runs: nothing is written."""
    checks = [
        probe_database(core.engine),
        _probe("storage", lambda: probe_storage(core.store, write=False), "AIP_STORAGE_URL"),
        probe_libreoffice(core.settings.soffice),
    ]
    if core.settings.redis_url:
        checks.append(probe_redis(core.settings.redis_url))
    return checks


def job_counts(engine: Engine) -> dict[str, int]:
    """Background jobs by status (queued, running, done, failed), from the database."""
    from sqlalchemy import func, select

    from aip_forms.db.models import JobRow

    counts = dict.fromkeys(("queued", "running", "done", "failed"), 0)
    with engine.connect() as conn:
        for status, n in conn.execute(select(JobRow.status, func.count()).group_by(JobRow.status)):
            counts[str(status)] = int(n)
    return counts


def mail_queued(engine: Engine) -> int:
    """Messages waiting in the mail outbox (`aip_forms.mail_outbox`), from the database."""
    from sqlalchemy import func, select

    from aip_forms.db.models import MailOutboxRow

    with engine.connect() as conn:
        unsent = MailOutboxRow.sent_at.is_(None)
        query = select(func.count()).select_from(MailOutboxRow).where(unsent)
        return int(conn.execute(query).scalar_one())


# ---- every setting ----------------------------------------------------------------------------


def check_config(
    env: Mapping[str, str], *, production: bool | None = None, write: bool = True
) -> list[Check]:
    """Every AIP_* setting in `env`, then every dependency they name. `production`
    (default: when AIP_BASE_URL is https:// or AIP_TLS is on) also requires real secrets."""
    from aip_forms.bootstrap import App

    checks = list(_names(env))
    program = env.get("AIP_PROGRAM_CONFIG", "").strip()
    if program:
        from aip_forms.config import ProgramConfig

        try:
            ProgramConfig.load(program)
        except (OSError, ValueError) as e:
            why = e.strerror if isinstance(e, OSError) else " ".join(str(e).split())
            return [*checks, failed("AIP_PROGRAM_CONFIG", InvalidInput(
                f"AIP_PROGRAM_CONFIG {program}: {why}"))]  # fmt: skip
    try:
        core = App.from_env(env)
    except Exception as e:
        return [*checks, failed("settings", e)]
    with core:
        s = core.settings
        tls = env.get("AIP_TLS", "").strip().lower()
        if production is None:
            production = s.base_url.startswith("https://") or tls in ("1", "true", "yes", "on")
        checks += _values(env, s, production)
        checks.append(_database(s.database_url))
        retained = bool(env.get("AIP_S3_OBJECT_LOCK_MODE", "").strip())
        checks.append(
            _probe(
                "storage",
                lambda: probe_storage(core.store, write=write, retained=retained),
                "AIP_STORAGE_URL",
            )
        )
        if s.redis_url:
            checks.append(probe_redis(s.redis_url))
        if s.smtp_host:
            checks.append(probe_smtp(s))
        elif production:
            checks.append(failed("AIP_SMTP_HOST", InvalidInput(
                "AIP_SMTP_HOST is not set: in production mail must go to a server, not to "
                f"files under {s.home / 'outbox'}")))  # fmt: skip
        else:
            checks.append(warn("smtp", f"AIP_SMTP_HOST not set: mail is written to "
                               f"{s.home / 'outbox'}"))  # fmt: skip
        checks.append(probe_libreoffice(s.soffice))
    return checks


def _names(env: Mapping[str, str]) -> list[Check]:
    out = []
    for name in sorted(n for n in env if n.startswith("AIP_") and n not in KNOWN_SETTINGS):
        close = difflib.get_close_matches(name, KNOWN_SETTINGS, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        out.append(warn(name, f"not a setting aip-forms reads{hint}"))
    return out


def _values(env: Mapping[str, str], s: Settings, production: bool) -> list[Check]:
    out: list[Check] = []

    def refuse(name: str, message: str) -> None:
        out.append(Check(name, "fail", message, InvalidInput))

    base = urlsplit(s.base_url)
    if base.scheme not in ("http", "https") or not base.netloc:
        refuse("AIP_BASE_URL", f"AIP_BASE_URL must be http(s)://host[:port], not {s.base_url!r}")
    elif production and base.scheme != "https":
        refuse("AIP_BASE_URL", f"AIP_BASE_URL {s.base_url!r}: production needs https://")
    proxies = env.get("AIP_TRUSTED_PROXIES", "").strip()
    if proxies and not (proxies.isdigit() and int(proxies) <= 5):
        refuse("AIP_TRUSTED_PROXIES", f"AIP_TRUSTED_PROXIES must be a number from 0 to 5, "
               f"not {proxies!r}")  # fmt: skip
    elif production and not proxies:
        out.append(warn("AIP_TRUSTED_PROXIES", "not set: behind a reverse proxy, set it to 1, "
                        "or every client looks like the proxy to sign-in throttling"))  # fmt: skip
    try:
        metrics_networks(env.get("AIP_METRICS_ALLOW", ""))
    except InvalidInput as e:
        refuse("AIP_METRICS_ALLOW", str(e))
    tls = env.get("AIP_TLS", "").strip().lower()
    if tls not in ("", "1", "true", "yes", "on", "0", "false", "no", "off"):
        refuse("AIP_TLS", f"AIP_TLS must be on or off, not {tls!r}")
    if "@" not in s.mail_from or " " in s.mail_from.strip():
        refuse("AIP_MAIL_FROM", f"AIP_MAIL_FROM must be an email address, not {s.mail_from!r}")
    if s.pdf_converter not in ("", "uno", "batch"):
        refuse("AIP_PDF_CONVERTER", f"AIP_PDF_CONVERTER must be uno or batch, not "
               f"{s.pdf_converter!r}")  # fmt: skip
    if s.smtp_tls.strip().lower() not in ("", "none", "starttls"):
        refuse("AIP_SMTP_TLS", f"AIP_SMTP_TLS must be starttls or none, not {s.smtp_tls!r}")
    if s.smtp_user and not s.smtp_password:
        refuse("AIP_SMTP_PASSWORD", "AIP_SMTP_USER is set but AIP_SMTP_PASSWORD is not")
    key = env.get("AIP_SECRET_KEY", "")
    if production and not key:
        refuse("AIP_SECRET_KEY", "AIP_SECRET_KEY is not set: in production every machine "
               "must share one key (openssl rand -hex 32)")  # fmt: skip
    elif production and len(key) < MIN_SECRET_LENGTH:
        refuse("AIP_SECRET_KEY", f"AIP_SECRET_KEY is {len(key)} characters; production needs "
               f"at least {MIN_SECRET_LENGTH} (openssl rand -hex 32)")  # fmt: skip
    elif not key:
        out.append(warn("AIP_SECRET_KEY", f"not set: the key in {s.home / 'secret.key'} is used"))
    else:
        out.append(ok("AIP_SECRET_KEY", f"set ({len(key)} characters)"))
    out += _backup_key(s, production)
    if not any(c.name.startswith("AIP_") and c.status == "fail" for c in out):
        out.append(ok("settings", "production" if production else "not production (no TLS)"))
    return out


def _backup_key(s: Settings, production: bool) -> list[Check]:
    from aip_forms.config import MAKE_BACKUP_KEY

    try:
        key = s.backup_key_bytes()
    except InvalidInput as e:
        return [Check("AIP_BACKUP_KEY", "fail", str(e), InvalidInput)]
    if key:
        return [ok("AIP_BACKUP_KEY", "set: backups are encrypted (AES-256-GCM)")]
    if production:
        why = "backups are written unencrypted (every plan, password hashes, 2FA seeds)"
        return [warn("AIP_BACKUP_KEY", f"not set: {why}; make a key with: {MAKE_BACKUP_KEY}")]
    return []


def _database(url: str) -> Check:
    """The database named by AIP_DATABASE_URL, reached without changing it."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError
    from sqlalchemy.exc import NoSuchModuleError as NoDriver

    try:
        parsed = make_url(url)
        postgres = parsed.get_backend_name() == "postgresql"
        engine = create_engine(parsed, connect_args={"connect_timeout": 5} if postgres else {})
    except (ArgumentError, NoDriver, ValueError) as e:
        return failed("database", InvalidInput(f"AIP_DATABASE_URL: {e}"))
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        folder = Path(parsed.database).parent
        if not folder.is_dir():
            engine.dispose()
            return warn("database", f"SQLite in {folder}, which does not exist yet (made at "
                        "first use)")  # fmt: skip
    try:
        return probe_database(engine)
    finally:
        engine.dispose()


def _hide(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def exit_code(checks: list[Check]) -> int:
    """2 when a setting is wrong, else 3 when a dependency is unreachable, else 0."""
    kinds = {c.kind for c in checks if c.status == "fail"}
    if InvalidInput in kinds:
        return 2
    return 3 if kinds else 0
