"""Metrics in the Prometheus text format, summed over the processes that share a folder;
JSON log lines with the request id, which a job run in the background thread keeps."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from aip_forms import observability
from aip_forms.jobs.queues import InlineQueue
from aip_forms.observability import (
    JsonFormatter,
    Registry,
    exposition,
    new_request_id,
    request_id,
)


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    observability._registries.clear()
    yield
    observability._registries.clear()


def test_counters_and_histograms_in_the_text_format() -> None:
    metrics = Registry()
    metrics.inc("aip_http_requests_total", endpoint="plans.mine", method="GET", status="200")
    metrics.inc("aip_http_requests_total", endpoint="plans.mine", method="GET", status="200")
    metrics.observe("aip_http_request_seconds", 0.03, endpoint="plans.mine")
    metrics.inc("aip_upload_problems_total", code='odd"code\\')
    text = exposition([metrics.snapshot()], {"aip_jobs": {(("status", "queued"),): 2.0}})
    lines = text.splitlines()
    assert "# TYPE aip_http_requests_total counter" in lines
    assert 'aip_http_requests_total{endpoint="plans.mine",method="GET",status="200"} 2' in lines
    assert 'aip_http_request_seconds_bucket{endpoint="plans.mine",le="0.025"} 0' in lines
    assert 'aip_http_request_seconds_bucket{endpoint="plans.mine",le="0.05"} 1' in lines
    assert 'aip_http_request_seconds_bucket{endpoint="plans.mine",le="+Inf"} 1' in lines
    assert 'aip_http_request_seconds_count{endpoint="plans.mine"} 1' in lines
    assert 'aip_upload_problems_total{code="odd\\"code\\\\"} 1' in lines
    assert 'aip_jobs{status="queued"} 2' in lines
    assert text.endswith("\n")


def test_every_process_sharing_the_folder_is_added_up(tmp_path: Path) -> None:
    one, two = Registry(tmp_path), Registry(tmp_path)
    one.inc("aip_mail_total", outcome="sent")
    two.inc("aip_mail_total", outcome="sent", amount=2)
    two.inc("aip_mail_total", outcome="failed")
    two.maybe_flush(force=True)
    text = exposition(one.collected(), {})
    assert 'aip_mail_total{outcome="sent"} 3' in text
    assert 'aip_mail_total{outcome="failed"} 1' in text
    (tmp_path / "broken.json").write_text("{half")  # a snapshot being replaced: skipped
    assert 'aip_mail_total{outcome="sent"} 3' in exposition(one.collected(), {})


def test_a_request_id_from_outside_is_used_only_when_it_is_a_plain_token() -> None:
    assert new_request_id("0af7651916cd43dd8448eb211c80319c") == "0af7651916cd43dd8448eb211c80319c"
    for hostile in ("x", 'a" injected', "line\nbreak-0000", "é" * 20, "a" * 65, None):
        made = new_request_id(hostile)
        assert made != hostile and len(made) == 32 and made.isalnum()


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


def test_log_lines_are_json_with_the_request_id_and_extra_fields() -> None:
    handler, log = Lines(), logging.getLogger("aip_forms.test_observability")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        token = request_id.set("req-0001-abcd")
        log.info("packet %s", "made", extra={"job_id": "ab" * 16})
        request_id.reset(token)
        log.info("no request")
    finally:
        log.removeHandler(handler)
    first, second = handler.lines
    assert first["message"] == "packet made" and first["request_id"] == "req-0001-abcd"
    assert first["job_id"] == "ab" * 16 and first["level"] == "info"
    assert "request_id" not in second


def test_a_job_in_the_background_thread_logs_with_the_asking_requests_id() -> None:
    handler, log = Lines(), logging.getLogger("aip_forms.jobs")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    queue = InlineQueue(lambda job_id: log.info("working on %s", job_id))
    try:
        token = request_id.set("req-asking-0042")
        queue.enqueue("c0ffee" * 5 + "00")
        request_id.reset(token)
        queue.close()
    finally:
        log.removeHandler(handler)
    assert [(line["message"], line.get("request_id")) for line in handler.lines] == [
        ("job started", "req-asking-0042"),
        ("working on " + "c0ffee" * 5 + "00", "req-asking-0042"),
        ("job ended", "req-asking-0042"),
    ]


def test_a_process_gone_idle_still_writes_its_last_counts(tmp_path: Path) -> None:
    import time

    metrics = Registry(tmp_path, flush_every=0.2)
    metrics.inc("aip_mail_total", outcome="sent")  # written at once
    metrics.inc("aip_mail_total", outcome="sent")  # within the interval: written later
    [path] = tmp_path.glob("*.json")
    assert json.loads(path.read_text())["counters"]["aip_mail_total"][0][1] == 1
    deadline = time.monotonic() + 30  # the flush runs every 0.2 s; a busy machine delays it
    while json.loads(path.read_text())["counters"]["aip_mail_total"][0][1] != 2:
        assert time.monotonic() < deadline, "the second count was never written"
        time.sleep(0.1)
