"""The audit log: who changed what, when, and the state before and after, as JSON.

Append-only: this module offers `record` (an INSERT in the caller's transaction, so a
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


def record(
    session: Session,
    *,
    at: dt.datetime,
    actor_id: int | None,
    action: str,
    entity: str,
    entity_id: int | str,
    before: Json | None = None,
    after: Json | None = None,
) -> None:
    session.add(
        AuditRow(
            at=at,
            actor_id=actor_id,
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
