"""Fault: the mail server down. A real SMTP server (aiosmtpd on loopback) is stopped while
aip-forms mails: the use case goes on, the message waits in the outbox (PostgreSQL), `aip
mail send-queued` says the server still refuses (exit 3) and keeps it, and once the server
is back every message arrives exactly once, even with two senders draining at the same
time and a drain run again."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from aip_forms.bootstrap import App
from aip_forms.db.models import JobRow, MailOutboxRow
from aip_forms.jobs.run import run_job
from aip_forms.jobs.service import request_statewide
from aip_forms.mail import Mail
from aip_forms.mail_outbox import next_wait
from aip_forms.observability import exposition
from aip_forms.services.health import mail_queued
from aip_forms.services.users import add_user
from tests.integration.test_jobs import FY, PED, build_world
from tests.support.faults import aip
from tests.support.postgres import PostgresServer
from tests.support.smtp import Inbox, free_port
from tests.unit.test_generate_queries import seed

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


class MailServer:
    """aiosmtpd on one port, stopped and started again; what it took is kept across."""

    def __init__(self) -> None:
        self.inbox = Inbox(port=free_port())
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.inbox.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def server() -> Iterator[MailServer]:
    made = MailServer()
    made.start()
    try:
        yield made
    finally:
        made.stop()


@pytest.fixture
def env(postgres: PostgresServer, tmp_path: Path, server: MailServer) -> Iterator[dict[str, str]]:
    database = postgres.create_database()
    yield {
        "AIP_HOME": str(tmp_path),
        "AIP_SECRET_KEY": "mail-fault-key",
        "AIP_BASE_URL": "https://aip.example.gov",
        "AIP_DATABASE_URL": postgres.url(database),
        "AIP_SMTP_HOST": "127.0.0.1",
        "AIP_SMTP_PORT": str(server.inbox.port),
        "AIP_MAIL_FROM": "aip-forms@ped.example.gov",
    }
    postgres.drop_database(database)


def outbox_rows(app: App) -> list[tuple[str, int, bool, str]]:
    with app.uow() as u:
        rows = u.session.execute(
            select(
                MailOutboxRow.subject,
                MailOutboxRow.attempts,
                MailOutboxRow.sent_at.is_not(None),
                MailOutboxRow.last_error,
            ).order_by(MailOutboxRow.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_mail_sent_while_the_server_is_down_waits_and_goes_out_once(
    env: dict[str, str], server: MailServer
) -> None:
    with App.from_env(env) as app:
        seed(app.engine)
        app.mailer.send(Mail(["before@nm.org"], "Sent while up", "one"))
        assert [m["Subject"] for m in server.inbox.messages] == ["Sent while up"]
        assert outbox_rows(app) == []  # what the server takes at once is not kept

        server.stop()
        # a use case that mails goes on: the user is added, the link waits in the outbox
        add_user("garcia@belen.k12.nm.us", "school_coordinator", school_code="001001",
                 uow=app.uow, mailer=app.mailer, site=app.site)  # fmt: skip
        app.mailer.send(Mail(["ped@nm.org"], "Second while down", "two"))
        waiting = outbox_rows(app)
        assert [(s, n, sent) for s, n, sent, _ in waiting] == [
            (waiting[0][0], 1, False),
            ("Second while down", 1, False),
        ]
        assert all(f"127.0.0.1:{server.inbox.port} did not take" in e for *_, e in waiting)
        assert mail_queued(app.engine) == 2  # what /metrics shows as aip_mail_queued
        assert "aip_mail_queued 2" in exposition([], {"aip_mail_queued": {(): 2.0}})

    still_down = aip(env, "mail", "send-queued", "--all")
    assert still_down.returncode == 3, still_down.stdout + still_down.stderr
    assert "0 sent, 1 refused, 2 still queued." in still_down.stdout
    last = still_down.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: the queued mail stays queued: mail server 127.0.0.1:")
    assert "Traceback" not in still_down.stderr

    listed = aip(env, "mail", "queued")
    assert listed.returncode == 0 and "2 message(s) queued." in listed.stdout
    assert "garcia@" not in listed.stdout  # subjects and errors, never addresses or bodies

    server.start()
    assert len(server.inbox.messages) == 1
    sent = aip(env, "mail", "send-queued", "--all")
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "2 sent, 0 refused, 0 still queued." in sent.stdout
    again = aip(env, "mail", "send-queued", "--all")
    assert "0 sent, 0 refused, 0 still queued." in again.stdout

    subjects = [m["Subject"] for m in server.inbox.messages]
    assert subjects[0] == "Sent while up" and sorted(subjects[1:]) == sorted(
        [waiting[0][0], "Second while down"]
    )
    (link,) = server.inbox.to("garcia@belen.k12.nm.us")
    assert "/account/set-password/" in link.get_content()
    with App.from_env(env) as app:
        assert [sent for _, _, sent, _ in outbox_rows(app)] == [True, True]
        assert mail_queued(app.engine) == 0
        with app.uow() as u:  # a set-password link is not kept once the mail went
            bodies = u.session.scalars(select(MailOutboxRow.body)).all()
        assert bodies == ["", ""]


def test_two_senders_draining_at_once_send_each_message_once(
    env: dict[str, str], server: MailServer
) -> None:
    server.stop()
    with App.from_env(env) as app:
        for n in range(30):
            app.mailer.send(Mail([f"c{n}@nm.org"], f"Reminder {n}", "due Friday"))
        assert len(outbox_rows(app)) == 30
    server.start()

    reports = []

    def drain() -> None:
        with App.from_env(env) as other:
            reports.append(other.mail_outbox.send_queued(due_only=False))

    senders = [threading.Thread(target=drain) for _ in range(2)]
    for t in senders:
        t.start()
    for t in senders:
        t.join()
    assert sum(r.sent for r in reports) == 30 and sum(r.failed for r in reports) == 0
    with App.from_env(env) as app:
        assert [sent for _, _, sent, _ in outbox_rows(app)] == [True] * 30
    subjects = sorted(m["Subject"] for m in server.inbox.messages)
    assert subjects == sorted(f"Reminder {n}" for n in range(30))  # each once
    ids = [m["Message-ID"] for m in server.inbox.messages]
    assert len(set(ids)) == 30


def test_a_job_ending_while_the_server_is_down_mails_its_requester_later(
    env: dict[str, str], server: MailServer
) -> None:
    with App.from_env(env) as app:
        build_world(app)
        job = request_statewide(FY, user_email=PED, uow=app.uow, queue=_Later())
        server.stop()
        done = run_job(job.id, app=app)
        assert done.status == "done", done.error
        with app.uow() as u:
            notified = u.session.scalar(select(JobRow.notified_at).where(JobRow.id == job.id))
            queued = u.session.scalar(
                select(func.count())
                .select_from(MailOutboxRow)
                .where(MailOutboxRow.sent_at.is_(None))
            )
        assert notified is not None and queued == 1
        run_job(job.id, app=app)  # a redelivered message: nothing queued a second time
        assert len(outbox_rows(app)) == 1
        server.start()
        report = app.mail_outbox.send_queued(due_only=False)
    assert (report.sent, report.waiting) == (1, 0)
    (mail,) = server.inbox.to(PED)
    assert f"https://aip.example.gov/jobs/{job.id}" in mail.get_content()


def test_a_message_is_tried_again_later_and_later_but_never_dropped() -> None:
    waits = [next_wait(n).total_seconds() for n in (1, 2, 3, 4, 7, 8, 50)]
    assert waits == [60, 120, 240, 480, 3600, 3600, 3600]


class _Later:
    """A queue that keeps the job for the test to run."""

    def enqueue(self, job_id: str) -> None:
        self.job_id = job_id
