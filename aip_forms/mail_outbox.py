"""The mail outbox: messages the mail server has not taken yet, kept in the database and
sent again until it takes them, so that a server that is down loses nothing.

- `durable(outbox)`: the mailer every use case sends through (`App.mailer`). It hands a
  message to the server at once; when the server does not take it (Unavailable), the
  message goes into the outbox and the use case carries on, the mail going out later.
  Only a database that is down as well makes `send` raise (Unavailable, as before).
- `MailOutbox.add(session, mail)`: a message queued in the caller's own transaction, so
  that it exists exactly when what it tells of does (a job's end, `jobs.run`);
  `deliver(id)` tries it right after the commit.
- `MailOutbox.send_queued()`: what `aip mail send-queued` runs (every minute, from
  `deploy/systemd/aip-outbox.timer`): each message that is due is claimed with one
  conditional UPDATE (two senders never take the same one), handed to the server and
  marked sent. A refusal keeps it, with the reason, for a later try (after 1, 2, 4 ...
  minutes, at most an hour apart); nothing is ever dropped.

A message's body (it may hold a sign-in code or a set-password link) is emptied once the
server has taken it; the row stays, as the record that it went.

Sent twice? Only when a process dies between the server taking a message and the outbox
recording it: the claim then lapses (CLAIM) and it is sent again, with the same
Message-ID, which mail clients use to show one message.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, or_, select, update

from aip_forms.db.models import MailOutboxRow
from aip_forms.errors import Unavailable, one_line
from aip_forms.mail import Mail, Mailer, new_message_id

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from aip_forms.services.uow import Clock, UowFactory

log = logging.getLogger(__name__)

CLAIM = dt.timedelta(minutes=5)  # far longer than one SMTP conversation (10 s timeout)
LONGEST_WAIT = dt.timedelta(hours=1)


def next_wait(attempts: int) -> dt.timedelta:
    """How long after its `attempts`-th failed try a message is tried again."""
    return min(LONGEST_WAIT, dt.timedelta(minutes=2 ** max(0, min(attempts - 1, 10))))


@dataclass(frozen=True)
class Queued:
    """A message in the outbox, as `aip mail queued` lists it (no body: it may hold links)."""

    id: int
    to: tuple[str, ...]
    subject: str
    created_at: dt.datetime
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str


@dataclass(frozen=True)
class SendReport:
    sent: int
    failed: int
    waiting: int  # still unsent after this run
    reason: str = ""  # why the server refused, when it did


class MailOutbox:
    """The outbox on a database (`uow`), sending through `transport` (SMTP or a folder)."""

    def __init__(self, uow: UowFactory, transport: Mailer, clock: Clock, sender: str) -> None:
        self.uow, self.transport, self.clock, self.sender = uow, transport, clock, sender
        self._send: Callable[[Mail], None] = transport.send  # the server's, never re-queued

    def add(self, session: Session, mail: Mail, *, error: str = "") -> MailOutboxRow:
        """Queue `mail` in the caller's transaction (flushed: its id is known)."""
        now = self.clock()
        row = MailOutboxRow(
            recipients=list(mail.to),
            subject=mail.subject[:300],
            body=mail.body,
            message_id=mail.message_id or new_message_id(self.sender),
            created_at=now,
            attempts=1 if error else 0,
            next_attempt_at=now + next_wait(1) if error else now,
            last_error=error[:500],
        )
        session.add(row)
        session.flush()
        return row

    def queue(self, mail: Mail, *, error: str = "") -> int:
        """Queue `mail` in a transaction of its own; its id."""
        with self.uow() as u:
            row = self.add(u.session, mail, error=error)
            u.commit()
            return row.id

    def deliver(self, outbox_id: int, *, due_only: bool = False) -> bool:
        """Send one queued message if no one else is sending it; True when the server took
        it. A server that does not take it leaves it queued for a later try (no error)."""
        now = self.clock()
        where: list[Any] = [
            MailOutboxRow.id == outbox_id,
            MailOutboxRow.sent_at.is_(None),
            or_(MailOutboxRow.claimed_until.is_(None), MailOutboxRow.claimed_until < now),
        ]
        if due_only:
            where.append(MailOutboxRow.next_attempt_at <= now)
        with self.uow() as u:
            claimed = u.session.execute(
                update(MailOutboxRow)
                .where(*where)
                .values(claimed_until=now + CLAIM, attempts=MailOutboxRow.attempts + 1)
            )
            u.commit()
            if cast("CursorResult[Any]", claimed).rowcount != 1:
                return False
            row = u.session.get(MailOutboxRow, outbox_id)
            assert row is not None
            mail = Mail(tuple(row.recipients), row.subject, row.body, message_id=row.message_id)
            attempts = row.attempts
        try:
            self._send(mail)
        except Unavailable as error:
            reason = one_line(error)[1]
            log.warning("queued mail %s not taken (try %s): %s", outbox_id, attempts, reason)
            self._record(
                outbox_id,
                claimed_until=None,
                next_attempt_at=self.clock() + next_wait(attempts),
                last_error=reason[:500],
            )
            return False
        # the body may hold a sign-in code or a set-password link: not kept once sent
        self._record(outbox_id, sent_at=self.clock(), claimed_until=None, last_error="", body="")
        return True

    def _record(self, outbox_id: int, **values: Any) -> None:
        with self.uow() as u:
            u.session.execute(
                update(MailOutboxRow).where(MailOutboxRow.id == outbox_id).values(**values)
            )
            u.commit()

    def send_queued(self, *, due_only: bool = True, limit: int = 1000) -> SendReport:
        """Send what is due (everything unsent with `due_only=False`), oldest first; stop
        at the first message the server does not take (the rest would not go either)."""
        sent = failed = 0
        reason = ""
        for outbox_id in self._unsent(due_only=due_only, limit=limit):
            if self.deliver(outbox_id, due_only=due_only):
                sent += 1
                continue
            with self.uow() as u:
                row = u.session.get(MailOutboxRow, outbox_id)
                if row is not None and row.sent_at is None and row.claimed_until is None:
                    failed, reason = failed + 1, row.last_error
                    break
        return SendReport(sent=sent, failed=failed, waiting=len(self.waiting()), reason=reason)

    def _unsent(self, *, due_only: bool, limit: int) -> list[int]:
        query = select(MailOutboxRow.id).where(MailOutboxRow.sent_at.is_(None))
        if due_only:
            query = query.where(MailOutboxRow.next_attempt_at <= self.clock())
        with self.uow() as u:
            return list(u.session.scalars(query.order_by(MailOutboxRow.id).limit(limit)))

    def waiting(self) -> list[Queued]:
        """Every message not sent yet, oldest first."""
        with self.uow() as u:
            rows = u.session.scalars(
                select(MailOutboxRow)
                .where(MailOutboxRow.sent_at.is_(None))
                .order_by(MailOutboxRow.id)
            ).all()
            return [
                Queued(
                    r.id,
                    tuple(r.recipients),
                    r.subject,
                    r.created_at,
                    r.attempts,
                    r.next_attempt_at,
                    r.last_error,
                )
                for r in rows
            ]


def durable(outbox: MailOutbox) -> Mailer:
    """The outbox's transport, its `send` queuing what the server does not take. The same
    object, so that what it is stays visible (an outbox folder, an SMTP server)."""
    transport = outbox.transport
    send = outbox._send

    def send_or_queue(mail: Mail) -> None:
        mail = replace(mail, message_id=mail.message_id or new_message_id(outbox.sender))
        try:
            send(mail)
        except Unavailable as error:
            reason = one_line(error)[1]
            queued = outbox.queue(mail, error=reason)
            log.warning("mail queued as %s: the server did not take it: %s", queued, reason)

    transport.send = send_or_queue  # type: ignore[method-assign]
    return transport
