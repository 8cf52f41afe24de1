"""PED announcements (user guide §2.3): deadlines and policy updates that coordinators see
on their home page between a start and an end date.

    post_announcement(title, body, audience, starts_on, ends_on, *, actor_email, uow,
                      clock=utc_now) -> AnnouncementView
    update_announcement(announcement_id, title, body, audience, starts_on, ends_on, *,
                        actor_email, uow, clock=utc_now) -> AnnouncementView
    list_announcements(*, actor_email, uow) -> list[AnnouncementView]     # PED: all of them
    get_announcement(announcement_id, *, actor_email, uow) -> AnnouncementView  # PED
    current_announcements(grants, *, uow, today) -> list[AnnouncementView] # a user's home page
    withdraw_announcement(announcement_id, *, actor_email, uow, clock=utc_now) -> None

Audience: everyone, districts (district coordinators) or schools (school coordinators);
PED users see every current announcement. Only PED coordinators post and withdraw.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from aip_forms.db.models import AnnouncementRow, UserRow
from aip_forms.errors import NotFound
from aip_forms.services import audit
from aip_forms.services.access import Grant, Role
from aip_forms.services.fields import Fields
from aip_forms.services.uow import Clock, UowFactory, aware, utc_now
from aip_forms.services.users import require_ped_coordinator


class Audience(StrEnum):
    EVERYONE = "everyone"
    DISTRICTS = "districts"
    SCHOOLS = "schools"


@dataclass(frozen=True)
class AnnouncementView:
    id: int
    title: str
    body: str
    audience: Audience
    starts_on: dt.date
    ends_on: dt.date
    author: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class _Checked:
    title: str
    body: str
    audience: Audience
    starts_on: dt.date
    ends_on: dt.date

    def audit(self) -> dict[str, str]:
        return {
            "title": self.title,
            "audience": self.audience.value,
            "from": str(self.starts_on),
            "to": str(self.ends_on),
        }


def _checked(
    title: str,
    body: str,
    audience: Audience | str,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    today: dt.date,
) -> _Checked:
    """The fields of an announcement, or InvalidFields naming every one that is wrong."""
    fields = Fields()
    title = fields.text("title", title, max_length=200)
    body = fields.text("body", body, max_length=5000, multiline=True)
    kind = Audience.EVERYONE
    try:
        kind = Audience(str(audience).strip().lower())
    except ValueError:
        fields.add("audience", "choose everyone, districts or schools")
    if starts_on is None:
        fields.add("starts_on", "is required")
    if ends_on is None:
        fields.add("ends_on", "is required")
    elif ends_on < today:
        fields.add("ends_on", "is in the past")
    elif starts_on is not None and ends_on < starts_on:
        fields.add("ends_on", "must be on or after the start date")
    fields.raise_if_any()
    assert starts_on is not None and ends_on is not None
    return _Checked(title, body, kind, starts_on, ends_on)


def post_announcement(
    title: str,
    body: str,
    audience: Audience | str,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    *,
    actor_email: str,
    uow: UowFactory,
    clock: Clock = utc_now,
) -> AnnouncementView:
    now = clock()
    checked = _checked(title, body, audience, starts_on, ends_on, now.date())
    with uow() as u:
        s = u.session
        actor = require_ped_coordinator(s, actor_email)
        row = AnnouncementRow(
            title=checked.title,
            body=checked.body,
            audience=checked.audience.value,
            starts_on=checked.starts_on,
            ends_on=checked.ends_on,
            created_by=actor.id,
            created_at=now,
        )
        s.add(row)
        s.flush()
        audit.Trail(s, actor.id, now).announcement(
            "announcement.posted", row.id, after=checked.audit()
        )
        view = _view(row, actor.email)
        u.commit()
    return view


def update_announcement(
    announcement_id: int,
    title: str,
    body: str,
    audience: Audience | str,
    starts_on: dt.date | None,
    ends_on: dt.date | None,
    *,
    actor_email: str,
    uow: UowFactory,
    clock: Clock = utc_now,
) -> AnnouncementView:
    """Change an announcement's text, audience or dates (PED coordinators)."""
    now = clock()
    checked = _checked(title, body, audience, starts_on, ends_on, now.date())
    with uow() as u:
        s = u.session
        actor = require_ped_coordinator(s, actor_email)
        row = s.get(AnnouncementRow, announcement_id)
        if row is None:
            raise NotFound(f"no announcement {announcement_id}")
        before = {
            "title": row.title,
            "audience": row.audience,
            "from": str(row.starts_on),
            "to": str(row.ends_on),
        }
        row.title, row.body, row.audience = checked.title, checked.body, checked.audience.value
        row.starts_on, row.ends_on = checked.starts_on, checked.ends_on
        audit.Trail(s, actor.id, now).announcement(
            "announcement.changed", announcement_id, before=before, after=checked.audit()
        )
        view = _view(row, actor.email)
        u.commit()
    return view


def list_announcements(*, actor_email: str, uow: UowFactory) -> list[AnnouncementView]:
    """Every announcement, the newest start first (PED coordinators)."""
    with uow() as u:
        require_ped_coordinator(u.session, actor_email)
        return _query(u.session, select(AnnouncementRow))


def get_announcement(
    announcement_id: int, *, actor_email: str, uow: UowFactory
) -> AnnouncementView:
    """One announcement, to edit (PED coordinators); NotFound when there is none."""
    with uow() as u:
        require_ped_coordinator(u.session, actor_email)
        found = _query(
            u.session, select(AnnouncementRow).where(AnnouncementRow.id == announcement_id)
        )
        if not found:
            raise NotFound(f"no announcement {announcement_id}")
        return found[0]


def current_announcements(
    grants: Iterable[Grant], *, uow: UowFactory, today: dt.date
) -> list[AnnouncementView]:
    """What a user with `grants` sees today."""
    roles = {g.role for g in grants}
    audiences = {Audience.EVERYONE.value}
    if roles & {Role.PED_COORDINATOR, Role.PED_REVIEWER} or Role.DISTRICT_COORDINATOR in roles:
        audiences.add(Audience.DISTRICTS.value)
    if roles & {Role.PED_COORDINATOR, Role.PED_REVIEWER} or Role.SCHOOL_COORDINATOR in roles:
        audiences.add(Audience.SCHOOLS.value)
    with uow() as u:
        return _query(
            u.session,
            select(AnnouncementRow).where(
                AnnouncementRow.audience.in_(sorted(audiences)),
                AnnouncementRow.starts_on <= today,
                AnnouncementRow.ends_on >= today,
            ),
        )


def withdraw_announcement(
    announcement_id: int, *, actor_email: str, uow: UowFactory, clock: Clock = utc_now
) -> None:
    """Stop showing an announcement: it ends yesterday (one not yet shown is deleted)."""
    with uow() as u:
        s = u.session
        actor = require_ped_coordinator(s, actor_email)
        row = s.get(AnnouncementRow, announcement_id)
        if row is None:
            raise NotFound(f"no announcement {announcement_id}")
        now = clock()
        today = now.date()
        before = {"title": row.title, "from": str(row.starts_on), "to": str(row.ends_on)}
        if row.starts_on >= today:
            s.delete(row)
        elif row.ends_on >= today:
            row.ends_on = today - dt.timedelta(days=1)
        audit.Trail(s, actor.id, now).announcement(
            "announcement.withdrawn", announcement_id, before=before
        )
        u.commit()


def _query(s: Session, query: Select[Any]) -> list[AnnouncementView]:
    rows = s.execute(
        query.add_columns(UserRow.email)
        .outerjoin(UserRow, AnnouncementRow.created_by == UserRow.id)
        .order_by(AnnouncementRow.starts_on.desc(), AnnouncementRow.id.desc())
    )
    return [_view(row, email) for row, email in rows]


def _view(row: AnnouncementRow, author: str | None) -> AnnouncementView:
    return AnnouncementView(
        row.id,
        row.title,
        row.body,
        Audience(row.audience),
        row.starts_on,
        row.ends_on,
        author,
        aware(row.created_at),
    )
