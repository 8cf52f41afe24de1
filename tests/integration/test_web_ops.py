"""The operator's endpoints of the portal: /healthz, /readyz naming what is not ready
(503), /metrics counting requests, uploads by problem code, mail and jobs; and the JSON
request log: a request id on every line, nothing personal and no student counts."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from aip_forms import observability
from aip_forms.db.models import JobRow
from aip_forms.domain import PlanKind
from aip_forms.mail import Mail, SmtpMailer
from aip_forms.observability import JsonFormatter, counted
from aip_forms.services.access import PlanRef
from aip_forms.storage import StorageUnavailable
from tests.integration.test_web_plans import upload
from tests.support.plans import SCHOOL, complete
from tests.support.s3 import closed_port
from tests.support.web import Portal, make_portal, open_session
from web.access import PUBLIC
from web.ops.views import OPS_ENDPOINTS


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Portal]:
    observability._registries.clear()  # this portal's counts only
    made = make_portal(tmp_path / "home")
    yield made
    made.core.close()
    observability._registries.clear()


def metric(portal: Portal, line_start: str) -> float:
    text = portal.client().get("/metrics").get_data(as_text=True)
    for line in text.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_the_ops_endpoints_are_public_and_open_no_session(portal: Portal) -> None:
    for endpoint in OPS_ENDPOINTS:
        view = portal.flask.view_functions[endpoint]
        assert view.access_policy.who == PUBLIC  # type: ignore[attr-defined]
    client = portal.client()
    for path in ("/healthz", "/readyz", "/metrics"):
        r = client.get(path, headers={"X-Request-ID": "lb-probe-000001"})
        assert r.status_code == 200, path
        assert "Set-Cookie" not in r.headers, path
        assert r.headers["X-Request-ID"] == "lb-probe-000001"
    assert client.get("/healthz").json == {"status": "ok"}
    assert observability.request_id.get() == ""  # the id ended with its request
    ready = client.get("/readyz").json
    assert ready == {
        "status": "ready",
        "checks": {"database": "ok", "storage": "ok", "libreoffice": "ok"},
    }


class BrokenStore:
    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        raise StorageUnavailable("s3://plans: could not connect to the endpoint")


def test_readyz_names_each_dependency_that_is_not_ready(
    portal: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    core = portal.core
    core.__dict__["engine"] = create_engine(
        f"postgresql+psycopg://aip:hunter2@127.0.0.1:{closed_port()}/aip"
    )
    core.__dict__["store"] = BrokenStore()
    core.settings.soffice = "/nonexistent/soffice"
    core.settings.redis_url = f"redis://127.0.0.1:{closed_port()}/0"
    with caplog.at_level(logging.WARNING, logger="web.requests"):
        r = portal.client().get("/readyz")
    assert r.status_code == 503
    assert r.json == {
        "status": "not ready",
        "checks": {"database": "failing", "storage": "failing", "libreoffice": "failing",
                   "redis": "failing"},
    }  # fmt: skip
    assert "hunter2" not in r.get_data(as_text=True) + caplog.text
    assert "could not connect to the endpoint" in caplog.text  # the reason, for the operator
    assert portal.client().get("/healthz").status_code == 200  # the process itself is fine


def test_metrics_count_requests_uploads_by_code_mail_and_jobs(portal: Portal) -> None:
    client = portal.client()
    open_session(portal, client, "school@belen.org")
    assert client.get("/plans").status_code == 200
    before = metric(portal, 'aip_uploads_checked_total{outcome="refused"}')
    ref = PlanRef(PlanKind.SCHOOL, 2027, "006", "006001")
    bad = complete(portal.core, ref, {"1 Contact Information!C13": "not an email"})
    assert upload(client, bad, key=SCHOOL).status_code == 302  # to the report
    assert metric(portal, 'aip_uploads_checked_total{outcome="refused"}') == before + 1
    text = client.get("/metrics").get_data(as_text=True)
    codes = re.findall(r'aip_upload_problems_total\{code="([^"]+)"\} 1', text)
    assert codes, text
    assert 'aip_http_requests_total{endpoint="plans.mine",method="GET",status="200"} 1' in text
    assert 'aip_http_request_seconds_count{endpoint="plans.mine"} 1' in text

    portal.core.mailer.send(Mail(["someone@belen.org"], "Subject", "Body"))
    broken = counted(SmtpMailer("127.0.0.1", closed_port(), "aip@ped.nm.gov", timeout=2))
    with pytest.raises(Exception, match="mail"):
        broken.send(Mail(["someone@belen.org"], "Subject", "Body"))
    assert metric(portal, 'aip_mail_total{outcome="sent"}') == 1
    assert metric(portal, 'aip_mail_total{outcome="failed"}') == 1

    user_id, _ = portal.grants("ped@ped.nm.gov")
    now = dt.datetime.now(dt.UTC)
    with portal.core.uow() as u:
        for n, status in enumerate(("queued", "queued", "running", "failed")):
            u.session.add(JobRow(id=f"{n:032x}", kind="statewide", parameters={},
                                 requested_by=user_id, status=status, created_at=now))  # fmt: skip
        u.commit()
    assert metric(portal, 'aip_jobs{status="queued"}') == 2
    assert metric(portal, 'aip_jobs{status="running"}') == 1
    assert metric(portal, 'aip_jobs{status="failed"}') == 1


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
REQUEST_FIELDS = {"time", "level", "logger", "message", "request_id", "method", "endpoint",
                  "status", "ms"}  # fmt: skip


def test_log_lines_carry_a_request_id_and_nothing_personal(portal: Portal) -> None:
    """Sign in, look at plans, check an upload, submit it: every line the portal and the
    services log is JSON with the request id; no email, no name, no student count."""
    handler = Lines()
    loggers = [logging.getLogger(n) for n in ("web", "aip_forms", "exports", "validators")]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        client = portal.client()
        client.get("/sign-in")
        open_session(portal, client, "school@belen.org")
        for path in ("/", "/plans", f"/plans/{SCHOOL}/history", "/dashboards"):
            client.get(path, headers={"X-Request-ID": "walk-" + "0" * 10})
        ref = PlanRef(PlanKind.SCHOOL, 2027, "006", "006001")
        workbook = complete(portal.core, ref)
        assert upload(client, workbook, key=SCHOOL).status_code == 302
        upload(client, workbook, key=SCHOOL, action="submit", certify=True)
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    assert handler.lines
    enrollment = _enrollment_numbers(portal)
    for line in handler.lines:
        entry = json.loads(line)
        assert "request_id" in entry, line
        assert not EMAIL.search(line), line
        assert "Belen" not in line and "BELEN" not in line, line
        if entry["message"] == "request":
            assert set(entry) <= REQUEST_FIELDS, line
        numbers = {int(n) for n in re.findall(r"\b\d{2,}\b", entry["message"])}
        assert not numbers & enrollment, line
    requests = [json.loads(line) for line in handler.lines if '"message": "request"' in line]
    assert {r["endpoint"] for r in requests} >= {"home.home", "plans.mine", "plans.upload"}
    assert any(r["request_id"] == "walk-" + "0" * 10 for r in requests)


def _enrollment_numbers(portal: Portal) -> set[int]:
    from sqlalchemy import select

    from aip_forms.db.models import EnrollmentRow

    with portal.core.uow() as u:
        return {n for n in u.session.scalars(select(EnrollmentRow.enrollment)) if n >= 10}


def test_behind_a_trusted_proxy_the_client_address_is_the_proxys_word(tmp_path: Path) -> None:
    """Sign-in throttling counts per address: behind nginx, without AIP_TRUSTED_PROXIES,
    every client would be 127.0.0.1."""
    from flask import request

    made = make_portal(tmp_path / "home", env={"AIP_TRUSTED_PROXIES": "1"})
    seen: list[tuple[str | None, str]] = []

    @made.flask.after_request
    def note(response: object) -> object:
        seen.append((request.remote_addr, request.scheme))
        return response

    made.client().get("/healthz", headers={"X-Forwarded-For": "203.0.113.9",
                                            "X-Forwarded-Proto": "https"})  # fmt: skip
    plain = make_portal(tmp_path / "plain")

    @plain.flask.after_request
    def note_plain(response: object) -> object:
        seen.append((request.remote_addr, request.scheme))
        return response

    plain.client().get("/healthz", headers={"X-Forwarded-For": "203.0.113.9"})
    assert seen == [("203.0.113.9", "https"), ("127.0.0.1", "http")]
    made.core.close()
    plain.core.close()
    with pytest.raises(Exception, match="AIP_TRUSTED_PROXIES must be a number from 0 to 5"):
        make_portal(tmp_path / "bad", env={"AIP_TRUSTED_PROXIES": "many"})


@pytest.mark.parametrize(
    ("allow", "address", "status"),
    [
        ("", "127.0.0.1", 200),
        ("", "10.1.2.3", 200),  # the private networks by default
        ("", "::1", 200),
        ("", "::ffff:192.168.1.9", 200),  # IPv4 written as IPv6
        ("", "203.0.113.7", 404),  # a stranger: as if there were nothing there
        ("", "2001:db8::1", 404),
        ("198.51.100.0/24, 127.0.0.1", "198.51.100.20", 200),
        ("198.51.100.0/24", "127.0.0.1", 404),  # the list replaces the default
    ],
)
def test_metrics_answer_only_the_allowed_networks(
    tmp_path: Path, allow: str, address: str, status: int
) -> None:
    made = make_portal(tmp_path / "home", env={"AIP_METRICS_ALLOW": allow} if allow else None)
    try:
        r = made.client().get("/metrics", environ_base={"REMOTE_ADDR": address})
        assert r.status_code == status
        assert ("aip_http_requests_total" in r.get_data(as_text=True)) is (status == 200)
        health = made.client().get("/healthz", environ_base={"REMOTE_ADDR": address})
        assert health.status_code == 200  # the load balancer's probes stay public
    finally:
        made.core.close()


def test_a_bad_metrics_allow_list_stops_the_portal_with_its_name(tmp_path: Path) -> None:
    from aip_forms.errors import InvalidInput

    with pytest.raises(InvalidInput, match=r"AIP_METRICS_ALLOW .* not 'intranet'"):
        make_portal(tmp_path / "home", env={"AIP_METRICS_ALLOW": "10.0.0.0/8,intranet"})
