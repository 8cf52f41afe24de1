"""The audit log: who changed what, when, and the state before and after, as JSON.

Append-only: this module offers `Trail` (INSERTs in the caller's transaction, so a
change and its audit line commit together) and `entries`; nothing here updates or deletes,
and a trigger refuses UPDATE and DELETE on the table (migration 0002).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aip_forms.db.models import AuditRow, UserRow
from aip_forms.services.uow import aware

Json = dict[str, Any]


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor: str | None  # email; None for the system (e.g. a reconcile run)
    action: str
    entity: str
    entity_id: str
    before: Json | None
    after: Json | None


@dataclass(frozen=True)
class Trail:
    """The audit lines one actor writes in one transaction, all stamped `at`:

        trail = audit.Trail(session, actor_id=user.id, at=now)
        trail.plan("plan.approved", plan.id, before={...}, after={...})

    Each line is an INSERT in the caller's session, so it commits with the change it
    describes or not at all."""

    session: Session
    actor_id: int | None  # None: the system (e.g. a reconcile run)
    at: dt.datetime

    def plan(
        self, action: str, plan_id: int, *, before: Json | None = None, after: Json | None = None
    ) -> None:
        self._add(action, "plan", plan_id, before, after)

    def user(
        self, action: str, user_id: int, *, before: Json | None = None, after: Json | None = None
    ) -> None:
        self._add(action, "user", user_id, before, after)

    def account(self, action: str, user_id: int, **details: Any) -> None:
        """An account event (sign-in, code, lock, password, second factor, activation)."""
        self._add(action, "user", user_id, None, details or None)

    def unknown_account(self, action: str, email: str, **details: Any) -> None:
        """An event about an email no user has (a failed sign-in, a reset request)."""
        self._add(action, "email", email[-40:], None, {"email": email, **details})

    def registration(self, action: str, registration_id: int, **details: Any) -> None:
        self._add(action, "registration", registration_id, None, details or None)

    def announcement(
        self,
        action: str,
        announcement_id: int,
        *,
        before: Json | None = None,
        after: Json | None = None,
    ) -> None:
        self._add(action, "announcement", announcement_id, before, after)

    def job(self, action: str, job_id: str, **details: Any) -> None:
        """A background job requested, finished or failed (`aip_forms.jobs`)."""
        self._add(action, "job", job_id, None, details or None)

    def access_token(self, action: str, token_id: int, **details: Any) -> None:
        """A personal access token created or revoked (never its secret)."""
        self._add(action, "access_token", token_id, None, details or None)

    def orphan_deleted(self, key: str) -> None:
        """A stored object no record names, deleted (its key's tail identifies it)."""
        self._add("storage.orphan_deleted", "object", key[-40:], {"key": key}, None)

    def record_purged(self, plan_id: int, **details: Any) -> None:
        """A plan past its retention, removed with its versions (`services.retention`)."""
        self._add("retention.purged", "plan", plan_id, details or None, None)

    def _add(
        self,
        action: str,
        entity: str,
        entity_id: int | str,
        before: Json | None,
        after: Json | None,
    ) -> None:
        self.session.add(
            AuditRow(
                at=self.at,
                actor_id=self.actor_id,
                action=action,
                entity=entity,
                entity_id=str(entity_id),
                before=before,
                after=after,
            )
        )


def entries(
    session: Session, *, entity: str | None = None, entity_id: int | str | None = None
) -> list[AuditEntry]:
    """Entries in the order they were written, optionally for one entity."""
    query = select(AuditRow, UserRow.email).outerjoin(UserRow, AuditRow.actor_id == UserRow.id)
    if entity is not None:
        query = query.where(AuditRow.entity == entity)
    if entity_id is not None:
        query = query.where(AuditRow.entity_id == str(entity_id))
    return [
        AuditEntry(
            row.id,
            aware(row.at),
            email,
            row.action,
            row.entity,
            row.entity_id,
            row.before,
            row.after,
        )
        for row, email in session.execute(query.order_by(AuditRow.id))
    ]
