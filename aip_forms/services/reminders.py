"""Reminders, overdue notices and weekly digests of deadlines (issue 12), by mail.

`send_reminders(today=...)` looks at every deadline of the fiscal year of `today`
(`services.deadlines`) and every coordinator:

- a reminder to the coordinator `config.reminder_days_before` days (14, then 3) before a
  deadline their plan or progress update has not met (met: submitted, resubmitted or
  approved); a progress update is owed once the plan is approved;
- an overdue notice once the deadline has passed and it is still not met;
- a weekly digest (from `config.digest_weekday` on, once per ISO week) of what is late or
  due within two weeks: to each district coordinator for their LEA's schools, and to PED
  coordinators for the districts.

Idempotent: each mail is recorded (`reminder_sent`, unique per recipient, subject, deadline
and kind) in the same transaction as it is sent, so running it twice, or by two workers at
once, mails nobody twice; a mail that fails to send is not recorded and goes next time.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from aip_forms.config import ProgramConfig
from aip_forms.db.models import ReminderSentRow, RoleGrantRow, UserRow
from aip_forms.domain import PlanKind
from aip_forms.mail import Mail, Mailer
from aip_forms.services.access import PlanRef, Role
from aip_forms.services.deadlines import Deadline, deadlines_of
from aip_forms.services.repository import find_plan
from aip_forms.services.uow import Clock, UowFactory, utc_now
from aip_forms.services.workflow import PlanStatus

MET = frozenset({PlanStatus.SUBMITTED, PlanStatus.RESUBMITTED, PlanStatus.APPROVED})
DIGEST_HORIZON_DAYS = 14


@dataclass(frozen=True)
class Owed:
    """A plan or progress update that has not met its deadline yet."""

    ref: PlanRef
    deadline: Deadline
    status: str  # "not started", "draft", "returned"

    @property
    def subject_key(self) -> str:
        return f"{self.ref.fiscal_year}/{self.ref.lea_code}/{self.ref.school_code or 'district'}"

    def line(self, today: dt.date) -> str:
        days = (self.deadline.due_on - today).days
        when = f"{-days} days overdue" if days < 0 else f"due in {days} days"
        who = f"school {self.ref.school_code}" if self.ref.school_code else "district"
        return (
            f"- LEA {self.ref.lea_code} {who}: {self.deadline.what}, due "
            f"{self.deadline.due_on:%B %d, %Y} ({when}; {self.status})"
        )


@dataclass
class ReminderReport:
    sent: list[tuple[str, str, str]] = field(default_factory=list)  # (recipient, kind, what)
    already: int = 0  # mails found sent before: not sent again


def fiscal_year_of(day: dt.date) -> int:
    return day.year + 1 if day.month >= 7 else day.year


def send_reminders(
    *,
    uow: UowFactory,
    config: ProgramConfig,
    mailer: Mailer,
    today: dt.date,
    clock: Clock = utc_now,
) -> ReminderReport:
    report = ReminderReport()
    fiscal_year = fiscal_year_of(today)
    with uow() as u:
        owed = _owed(u.session, config, fiscal_year)
        coordinators = _coordinators(u.session)
    for item in owed:
        kind = _notice(item.deadline.due_on, today, config)
        if kind is None:
            continue
        for email in coordinators.get(_owner(item.ref), []):
            mail = _notice_mail(item, kind, email, today)
            _send_once(uow, mailer, clock, report, email, item.subject_key, item.deadline.key,
                       kind, mail)  # fmt: skip
    if today.weekday() >= config.digest_weekday:
        _digests(uow, mailer, clock, report, owed, coordinators, today)
    return report


def _notice(due: dt.date, today: dt.date, config: ProgramConfig) -> str | None:
    days = (due - today).days
    if days < 0:
        return "overdue"
    ahead = [d for d in config.reminder_days_before if days <= d]
    return f"reminder-{min(ahead)}" if ahead else None


def _owner(ref: PlanRef) -> tuple[str, str, str | None]:
    if ref.school_code:
        return (Role.SCHOOL_COORDINATOR.value, ref.lea_code, ref.school_code)
    return (Role.DISTRICT_COORDINATOR.value, ref.lea_code, None)


def _coordinators(session: Session) -> dict[tuple[str, str, str | None], list[str]]:
    """(role, LEA, school) -> active users' emails; PED coordinators under ("ped", "", None)."""
    rows = session.execute(
        select(RoleGrantRow.role, RoleGrantRow.lea_code, RoleGrantRow.school_code, UserRow.email)
        .join(UserRow, RoleGrantRow.user_id == UserRow.id)
        .where(UserRow.active.is_(True))
        .order_by(UserRow.email)
    )
    found: dict[tuple[str, str, str | None], list[str]] = defaultdict(list)
    for role, lea, school, email in rows:
        if role == Role.PED_COORDINATOR.value:
            found[("ped", "", None)].append(email)
        elif role == Role.DISTRICT_COORDINATOR.value and lea:
            found[(role, lea, None)].append(email)
        elif role == Role.SCHOOL_COORDINATOR.value and lea and school:
            found[(role, lea, school)].append(email)
    return found


def _entities(session: Session) -> list[tuple[str, str | None]]:
    """(LEA, school) of every coordinator's plan: the plans that are owed."""
    rows = session.execute(
        select(RoleGrantRow.role, RoleGrantRow.lea_code, RoleGrantRow.school_code).distinct()
    )
    out: set[tuple[str, str | None]] = set()
    for role, lea, school in rows:
        if role == Role.DISTRICT_COORDINATOR.value and lea:
            out.add((lea, None))
        elif role == Role.SCHOOL_COORDINATOR.value and lea and school:
            out.add((lea, school))
    return sorted(out, key=lambda e: (e[0], e[1] or ""))


def _owed(session: Session, config: ProgramConfig, fiscal_year: int) -> list[Owed]:
    deadlines = deadlines_of(session, config, fiscal_year)
    owed = []
    for lea, school in _entities(session):
        kind = PlanKind.SCHOOL if school else PlanKind.DISTRICT
        plan = find_plan(session, PlanRef(kind, fiscal_year, lea, school))
        plan_status = PlanStatus(plan.status) if plan else None
        for deadline in (d for d in deadlines if d.kind is kind):
            ref = PlanRef(kind, fiscal_year, lea, school, deadline.period)
            if deadline.period is None:
                status = plan_status
            elif plan_status is not PlanStatus.APPROVED:
                continue  # the plan's own reminders come first
            else:
                record = find_plan(session, ref)
                status = PlanStatus(record.status) if record else None
            if status not in MET:
                owed.append(Owed(ref, deadline, status.value if status else "not started"))
    return owed


def _notice_mail(item: Owed, kind: str, email: str, today: dt.date) -> Mail:
    what, due = item.deadline.what, f"{item.deadline.due_on:%A, %B %d, %Y}"
    who = f"school {item.ref.school_code}" if item.ref.school_code else "the district"
    if kind == "overdue":
        subject = f"Overdue: the FY{item.ref.fiscal_year} {what} of {who}"
        first = f"The {what} of {who} (LEA {item.ref.lea_code}) was due {due}."
    else:
        subject = f"Reminder: the FY{item.ref.fiscal_year} {what} of {who} is due {due}"
        first = f"The {what} of {who} (LEA {item.ref.lea_code}) is due {due}."
    body = (
        f"{first}\nIts status: {item.status}.\n\n"
        "Download the workbook from the portal (or `aip workbook generate`), complete it and "
        "upload it; a submitted workbook meets the deadline.\n"
    )
    return Mail([email], subject, body)


def _send_once(
    uow: UowFactory,
    mailer: Mailer,
    clock: Clock,
    report: ReminderReport,
    recipient: str,
    subject: str,
    deadline: str,
    kind: str,
    mail: Mail,
) -> None:
    with uow() as u:
        sent = u.session.scalar(
            select(ReminderSentRow.id).where(
                ReminderSentRow.recipient == recipient,
                ReminderSentRow.subject == subject,
                ReminderSentRow.deadline == deadline,
                ReminderSentRow.kind == kind,
            )
        )
        if sent is not None:
            report.already += 1
            return
        u.session.add(
            ReminderSentRow(
                recipient=recipient, subject=subject, deadline=deadline, kind=kind, sent_at=clock()
            )
        )
        try:
            u.session.flush()
        except IntegrityError:  # another run is sending it right now
            report.already += 1
            return
        mailer.send(mail)  # Unavailable: rolled back, sent next time
        u.commit()
    report.sent.append((recipient, kind, mail.subject))


def _digests(
    uow: UowFactory,
    mailer: Mailer,
    clock: Clock,
    report: ReminderReport,
    owed: list[Owed],
    coordinators: dict[tuple[str, str, str | None], list[str]],
    today: dt.date,
) -> None:
    year, week, _ = today.isocalendar()
    week_key = f"{year}-W{week:02d}"
    soon = [o for o in owed if (o.deadline.due_on - today).days <= DIGEST_HORIZON_DAYS]
    by_lea: dict[str, list[Owed]] = defaultdict(list)
    for item in soon:
        if item.ref.school_code:
            by_lea[item.ref.lea_code].append(item)
    for lea, items in sorted(by_lea.items()):
        for email in coordinators.get((Role.DISTRICT_COORDINATOR.value, lea, None), []):
            body = "Your schools' plans and progress updates late or due soon:\n\n" + "\n".join(
                i.line(today) for i in items
            )
            mail = Mail([email], f"Weekly digest: LEA {lea}, week {week_key}", body + "\n")
            _send_once(uow, mailer, clock, report, email, f"digest/{lea}", week_key, "digest", mail)
    districts = [o for o in soon if not o.ref.school_code]
    if districts:
        for email in coordinators.get(("ped", "", None), []):
            body = "District plans and progress updates late or due soon:\n\n" + "\n".join(
                i.line(today) for i in districts
            )
            mail = Mail([email], f"Weekly digest: districts, week {week_key}", body + "\n")
            _send_once(uow, mailer, clock, report, email, "digest/ped", week_key, "digest", mail)
