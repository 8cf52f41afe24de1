"""The operator's endpoints. Public: a load balancer and Prometheus call them without a
session. `/metrics` answers only addresses in AIP_METRICS_ALLOW (loopback and the private
networks by default; anyone else gets a 404), and the deployment's nginx keeps it to the
internal network as well. They never open a session, and say nothing about plans, people
or students."""

from __future__ import annotations

import ipaddress
import logging
import time

from flask import Blueprint, Flask, Response, abort, current_app, g, jsonify, request

from aip_forms.observability import (
    Labels,
    Network,
    exposition,
    metrics_networks,
    new_request_id,
    registry,
    request_id,
)
from web.access import PUBLIC, requires

bp = Blueprint("ops", __name__)
log = logging.getLogger("web.requests")
OPS_ENDPOINTS = ("ops.healthz", "ops.readyz", "ops.metrics")


@bp.get("/healthz")
@requires(PUBLIC)
def healthz() -> Response:
    """The process is up and answering; nothing else is asked."""
    return jsonify(status="ok")


@bp.get("/readyz")
@requires(PUBLIC)
def readyz() -> tuple[Response, int]:
    """Database, storage, LibreOffice and (when set) Redis answer: 200, else 503 naming
    what does not (the reasons go to the log, not to the caller)."""
    from aip_forms.services.health import readiness

    checks = readiness(current_app.extensions["aip"])
    failing = [c.name for c in checks if not c.ok]
    for check in checks:
        if not check.ok:
            log.warning("not ready: %s", check.detail, extra={"check": check.name})
    body = {
        "status": "not ready" if failing else "ready",
        "checks": {c.name: "ok" if c.ok else "failing" for c in checks},
    }
    return jsonify(body), 503 if failing else 200


@bp.get("/metrics")
@requires(PUBLIC)
def metrics() -> Response:
    """Prometheus text format: requests, latency, uploads, mail (every process), jobs."""
    from aip_forms.services.health import job_counts, mail_queued

    if not _allowed(request.remote_addr, current_app.config["AIP_METRICS_ALLOW"]):
        abort(404)
    core = current_app.extensions["aip"]
    jobs: dict[Labels, float] = {}
    mail: dict[Labels, float] = {}
    try:
        jobs = {(("status", s),): float(n) for s, n in job_counts(core.engine).items()}
        mail = {(): float(mail_queued(core.engine))}
    except Exception:  # the database down must not hide the other metrics
        log.warning("metrics: job counts unavailable", exc_info=True)
    text = exposition(registry().collected(), {"aip_jobs": jobs, "aip_mail_queued": mail})
    return Response(text, mimetype="text/plain", headers={"Cache-Control": "no-store"})


# ---- request hooks --------------------------------------------------------------------------


def init_app(flask_app: Flask) -> None:
    """Request id, timing, the request log line and the counters, around every request;
    behind AIP_TRUSTED_PROXIES reverse proxies, the client's address and scheme as the
    nearest proxy saw them (else every sign-in would be throttled as the proxy's)."""
    core = flask_app.extensions["aip"]
    env = core.settings.environment
    proxies = trusted_proxies(env.get("AIP_TRUSTED_PROXIES", ""))
    flask_app.config["AIP_METRICS_ALLOW"] = metrics_networks(env.get("AIP_METRICS_ALLOW", ""))
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        flask_app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            flask_app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    registry(core.settings.home / "metrics")
    flask_app.before_request(_start)
    flask_app.after_request(_finish)
    flask_app.teardown_request(_end)
    flask_app.register_blueprint(bp)


def trusted_proxies(value: str) -> int:
    """AIP_TRUSTED_PROXIES: how many reverse proxies stand before the portal (0 to 5)."""
    value = value.strip() or "0"
    if not value.isdigit() or int(value) > 5:
        from aip_forms.errors import InvalidInput

        raise InvalidInput(f"AIP_TRUSTED_PROXIES must be a number from 0 to 5, not {value!r}")
    return int(value)


def _allowed(address: str | None, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in net for net in networks)


def _start() -> None:
    g.request_started = time.perf_counter()
    g.request_id = new_request_id(request.headers.get("X-Request-ID"))
    g.request_id_token = request_id.set(g.request_id)


def _end(_error: BaseException | None) -> None:
    """The request id ends with its request (lines logged after it carry none)."""
    token = g.pop("request_id_token", None)
    if token is not None:
        request_id.reset(token)


def _finish(response: Response) -> Response:
    started = g.get("request_started")
    if started is None:
        return response
    seconds = time.perf_counter() - started
    endpoint = request.endpoint or "(none)"  # a route's name: no ids, no personal data
    metrics = registry()
    metrics.inc("aip_http_requests_total", endpoint=endpoint, method=request.method,
                status=str(response.status_code))  # fmt: skip
    metrics.observe("aip_http_request_seconds", seconds, endpoint=endpoint)
    response.headers["X-Request-ID"] = g.request_id
    if endpoint not in OPS_ENDPOINTS:
        log.info("request", extra={"method": request.method, "endpoint": endpoint,
                                   "status": response.status_code,
                                   "ms": round(seconds * 1000, 1)})  # fmt: skip
    return response
