"""What an operator watches: metrics (Prometheus text format), structured JSON logs, and the
request id that ties a request's log lines to the jobs it asks for.

Metrics are counters and histograms kept in memory by each process. Gunicorn runs several
worker processes and Celery more, so each process also writes a snapshot of its own values
to a folder (`$AIP_HOME/metrics/<pid>-<random>.json`, at most every few seconds and when
scraped), and `/metrics` adds up the snapshots of every process sharing that folder:
counters keep counting when a worker is replaced. (prometheus_client's multiprocess mode
does the same; it is not a dependency of this project, so this module writes the text
format itself: https://prometheus.io/docs/instrumenting/exposition_formats/.)

Labels never carry personal data or student counts: endpoints by name (not the path, which
holds ids), HTTP status, problem codes, job states, mail outcome.
"""

from __future__ import annotations

import atexit
import contextvars
import ipaddress
import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from aip_forms.errors import InvalidInput

if TYPE_CHECKING:
    from aip_forms.mail import Mail, Mailer

M = TypeVar("M", bound="Mailer")

# ---- the request id ----------------------------------------------------------------------

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("aip_request_id", default="")
_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def new_request_id(given: str | None = None) -> str:
    """`given` (a proxy's X-Request-ID) when it is a plain token, else a fresh one."""
    return given if given and _ID.match(given) else uuid.uuid4().hex


# ---- structured logs ---------------------------------------------------------------------

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id, and the extra
    fields a caller passed (`log.info("...", extra={"job_id": ...})`)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        rid = getattr(record, "request_id", "") or request_id.get()
        if rid:
            entry["request_id"] = rid
        for name, value in vars(record).items():
            if name not in _STANDARD and name != "request_id" and not name.startswith("_"):
                entry[name] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info).splitlines()[-1]
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines on stderr for the `aip_forms` and `web` loggers (idempotent)."""
    for name in ("aip_forms", "web", "exports"):
        logger = logging.getLogger(name)
        if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
            handler = logging.StreamHandler()
            handler.setFormatter(JsonFormatter())
            logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False


# ---- metrics -----------------------------------------------------------------------------

BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, float("inf"))
HELP = {
    "aip_http_requests_total": ("counter", "HTTP requests by endpoint, method and status."),
    "aip_http_request_seconds": ("histogram", "Time to answer an HTTP request, by endpoint."),
    "aip_uploads_checked_total": ("counter", "Uploaded workbooks checked, by outcome."),
    "aip_upload_problems_total": ("counter", "Errors found in uploads, by problem code."),
    "aip_mail_total": ("counter", "Mail messages by outcome (sent, failed)."),
    "aip_jobs": ("gauge", "Background jobs by status (from the database)."),
    "aip_mail_queued": ("gauge", "Mail the server has not taken yet (the outbox, database)."),
}
Labels = tuple[tuple[str, str], ...]


class Registry:
    """Counters and histograms of this process, with snapshots in `folder` (if given)."""

    def __init__(self, folder: Path | None = None, flush_every: float = 5.0) -> None:
        self.folder = folder
        self.flush_every = flush_every
        self.name = f"{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
        self._lock = threading.Lock()
        self._counters: dict[str, dict[Labels, float]] = {}
        self._histograms: dict[str, dict[Labels, list[float]]] = {}  # buckets..., sum, count
        self._flushed = 0.0
        self._timer: threading.Timer | None = None

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            values = self._counters.setdefault(name, {})
            values[key] = values.get(key, 0.0) + amount
        self.maybe_flush()

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            row = self._histograms.setdefault(name, {}).setdefault(key, [0.0] * (len(BUCKETS) + 2))
            for i, edge in enumerate(BUCKETS):
                if seconds <= edge:
                    row[i] += 1
            row[-2] += seconds
            row[-1] += 1
        self.maybe_flush()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "counters": {
                    n: [[list(k), v] for k, v in d.items()] for n, d in self._counters.items()
                },
                "histograms": {
                    n: [[list(k), list(v)] for k, v in d.items()]
                    for n, d in self._histograms.items()
                },
            }

    def maybe_flush(self, *, force: bool = False) -> None:
        if self.folder is None:
            return
        now = time.monotonic()
        if not force and now - self._flushed < self.flush_every:
            self._flush_later()  # an idle process still shows its last counts soon
            return
        self._flushed = now
        try:
            self.folder.mkdir(exist_ok=True)  # in AIP_HOME; never re-made once it is gone
            tmp = self.folder / f".{self.name}.tmp"
            tmp.write_text(json.dumps(self.snapshot()))
            tmp.replace(self.folder / self.name)
        except OSError:
            pass  # metrics must never fail a request

    def _flush_later(self) -> None:
        with self._lock:
            if self._timer is not None:
                return
            self._timer = threading.Timer(self.flush_every, self._timer_fired)
            self._timer.daemon = True
            self._timer.start()

    def _timer_fired(self) -> None:
        with self._lock:
            self._timer = None
        self.maybe_flush(force=True)

    def collected(self) -> list[dict[str, Any]]:
        """Every process's snapshot (this one's fresh)."""
        if self.folder is None:
            return [self.snapshot()]
        self.maybe_flush(force=True)
        found = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                found.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue  # being replaced right now: the next scrape has it
        return found or [self.snapshot()]


def exposition(snapshots: Iterable[dict[str, Any]], gauges: dict[str, dict[Labels, float]]) -> str:
    """The Prometheus text format of the summed snapshots and the given gauges."""
    counters: dict[str, dict[Labels, float]] = {}
    histograms: dict[str, dict[Labels, list[float]]] = {}
    for snap in snapshots:
        for name, rows in snap.get("counters", {}).items():
            for labels, value in rows:
                key = tuple(tuple(p) for p in labels)
                counters.setdefault(name, {})[key] = counters.get(name, {}).get(key, 0.0) + value
        for name, rows in snap.get("histograms", {}).items():
            for labels, values in rows:
                key = tuple(tuple(p) for p in labels)
                into = histograms.setdefault(name, {}).setdefault(key, [0.0] * len(values))
                for i, v in enumerate(values):
                    into[i] += v
    lines: list[str] = []
    for name, (kind, text) in HELP.items():
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
        if kind == "counter":
            for key, value in sorted(counters.get(name, {}).items()):
                lines.append(f"{name}{_labels(key)} {_number(value)}")
        elif kind == "gauge":
            for key, value in sorted(gauges.get(name, {}).items()):
                lines.append(f"{name}{_labels(key)} {_number(value)}")
        else:
            for key, row in sorted(histograms.get(name, {}).items()):
                for edge, count in zip(BUCKETS, row, strict=False):
                    le = "+Inf" if edge == float("inf") else repr(edge)
                    lines.append(f"{name}_bucket{_labels((*key, ('le', le)))} {_number(count)}")
                lines.append(f"{name}_sum{_labels(key)} {row[-2]!r}")
                lines.append(f"{name}_count{_labels(key)} {_number(row[-1])}")
    return "\n".join(lines) + "\n"


def _labels(key: Iterable[tuple[str, str]]) -> str:
    pairs = list(key)
    if not pairs:
        return ""
    inner = ",".join(f'{k}="{_escaped(str(v))}"' for k, v in pairs)
    return "{" + inner + "}"


def _escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


# ---- this process's registry -------------------------------------------------------------

_registries: dict[int, Registry] = {}


def registry(folder: Path | None = None) -> Registry:
    """This process's registry (a new one after a fork); `folder` on first use."""
    pid = os.getpid()
    found = _registries.get(pid)
    if found is None:
        _registries.clear()
        found = _registries[pid] = Registry()
    if folder is not None and found.folder != folder:
        if found.folder is None:
            atexit.register(found.maybe_flush, force=True)  # what the last seconds counted
        found.folder = folder
    return found


def count_upload(problem_codes: Iterable[str], *, refused: bool) -> None:
    """One upload checked: its outcome, and each error code found (codes, never values)."""
    metrics = registry()
    metrics.inc("aip_uploads_checked_total", outcome="refused" if refused else "accepted")
    for code in problem_codes:
        metrics.inc("aip_upload_problems_total", code=code)


def count_mail(*, sent: bool) -> None:
    registry().inc("aip_mail_total", outcome="sent" if sent else "failed")


def counted(mailer: M) -> M:
    """`mailer`, its `send` counting what was sent and what failed (the failure goes on).
    The same object, so that what it is stays visible (an outbox folder, an SMTP server)."""
    send = mailer.send

    def counting_send(mail: Mail) -> None:
        try:
            send(mail)
        except BaseException:
            count_mail(sent=False)
            raise
        count_mail(sent=True)

    mailer.send = counting_send  # type: ignore[method-assign]
    return mailer


# ---- who may read /metrics -------------------------------------------------------------------

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
METRICS_ALLOW = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"


def metrics_networks(value: str) -> tuple[Network, ...]:
    """AIP_METRICS_ALLOW: the networks /metrics answers, comma-separated (CIDR or single
    addresses); empty means loopback and the private networks."""
    found = []
    for part in (value.strip() or METRICS_ALLOW).split(","):
        try:
            found.append(ipaddress.ip_network(part.strip(), strict=False))
        except ValueError:
            raise InvalidInput(
                f"AIP_METRICS_ALLOW must list networks such as 10.0.0.0/8, not {part.strip()!r}"
            ) from None
    return tuple(found)
