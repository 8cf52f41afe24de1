"""SQLAlchemy 2 models. Schema changes go through Alembic (aip_forms/db/migrations)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class LeaRow(Base):
    __tablename__ = "lea"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    type: Mapped[str] = mapped_column(String(20))


class SchoolRow(Base):
    __tablename__ = "school"
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    lea_code: Mapped[str] = mapped_column(ForeignKey("lea.code"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    grade_low: Mapped[str] = mapped_column(String(4))
    grade_high: Mapped[str] = mapped_column(String(4))
    # A program that selects schools by an academic index (LAUSD) loads it with the schools.
    academic_index: Mapped[float | None] = mapped_column(Float, nullable=True)


class EnrollmentRow(Base):
    """Students enrolled in a group; school_code '' is the LEA as a whole."""

    __tablename__ = "enrollment"
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    lea_code: Mapped[str] = mapped_column(ForeignKey("lea.code"), primary_key=True)
    school_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    group_type: Mapped[str] = mapped_column(String(10), primary_key=True)
    group_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    enrollment: Mapped[int] = mapped_column(Integer)
    __table_args__ = (CheckConstraint("enrollment >= 0", name="enrollment_nonneg"),)


class AbsenceRow(Base):
    """Chronic absence of a group in a reporting period (EOY for completed years)."""

    __tablename__ = "absence"
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(4), primary_key=True)
    lea_code: Mapped[str] = mapped_column(ForeignKey("lea.code"), primary_key=True)
    school_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    group_type: Mapped[str] = mapped_column(String(10), primary_key=True)
    group_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    students: Mapped[int | None] = mapped_column(Integer)
    chronically_absent: Mapped[int | None] = mapped_column(Integer)
    rate_pct: Mapped[float] = mapped_column(Float)
    tier1: Mapped[int | None] = mapped_column(Integer)
    tier2: Mapped[int | None] = mapped_column(Integer)
    tier3: Mapped[int | None] = mapped_column(Integer)
    tier4: Mapped[int | None] = mapped_column(Integer)
    __table_args__ = (CheckConstraint("rate_pct >= 0 AND rate_pct <= 100", name="rate_range"),)


class DataLoadRow(Base):
    """Provenance: one row per successful `aip data load`."""

    __tablename__ = "data_load"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    loaded_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    source: Mapped[str] = mapped_column(String(500))
    summary: Mapped[str] = mapped_column(String(2000))


# ---- submissions and review (issue 4) -----------------------------------------------------
#
# Who may do what lives in `aip_forms.services.access`; the state machine in
# `aip_forms.services.review`. Statuses are plain strings here so that the schema does not
# change when the workflow gains a state; the services check them.


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UserRow(Base):
    """A person who works with plans. `password_hash` is argon2id, NULL until the user sets
    one (users added by `aip users add` start so); `totp_secret` counts once confirmed."""

    __tablename__ = "app_user"  # "user" is reserved in PostgreSQL
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utc_now)
    phone: Mapped[str] = mapped_column(String(32), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # refuses a replayed code


# ---- portal accounts (issue 10) ------------------------------------------------------------


class RegistrationRow(Base):
    """A request for an account (user guide §2.1), waiting for a PED coordinator."""

    __tablename__ = "registration"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    first_name: Mapped[str] = mapped_column(String(60))
    last_name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(32))
    lea_code: Mapped[str] = mapped_column(ForeignKey("lea.code"))
    school_code: Mapped[str | None] = mapped_column(ForeignKey("school.code"))
    password_hash: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # pending, approved, denied
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utc_now)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    reason: Mapped[str] = mapped_column(String(500), default="")


class SignInChallengeRow(Base):
    """One sign-in attempt past its password: the second factor it waits for. `id` is the
    random handle the portal keeps; an emailed code is stored only as its SHA-256."""

    __tablename__ = "sign_in_challenge"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    method: Mapped[str] = mapped_column(String(8))  # email, totp
    code_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    tries: Mapped[int] = mapped_column(Integer, default=0)
    resends: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class AccountTokenRow(Base):
    """A single-use link sent by mail (password reset, or set-password for a new account),
    stored only as the SHA-256 of its random value."""

    __tablename__ = "account_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # reset, invite
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ThrottleRow(Base):
    """Failed sign-ins of one key ("account:<email>", "address:<ip>") and the back-off; or
    an upload quota's window ("uploads:<email>:minute"): its count and its start."""

    __tablename__ = "throttle"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    blocked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class AnnouncementRow(Base):
    """A PED notice (user guide §2.3) for everyone, district or school coordinators,
    shown from `starts_on` to `ends_on` inclusive."""

    __tablename__ = "announcement"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(16))  # everyone, districts, schools
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utc_now)
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="dates_in_order"),)


class RoleGrantRow(Base):
    """One role of a user; a user may hold several (a landing page picks one).

    district_coordinator has `lea_code`; school_coordinator has `lea_code` and `school_code`;
    the PED roles have neither.
    """

    __tablename__ = "role_grant"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    lea_code: Mapped[str | None] = mapped_column(ForeignKey("lea.code"))
    school_code: Mapped[str | None] = mapped_column(ForeignKey("school.code"))
    granted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utc_now)


class PlanRecordRow(Base):
    """One plan: fiscal year x LEA (district plan) or school (school plan) x kind; with a
    `period` ("40", "80", "120", "EOY"), the progress update of that plan for that period
    (issue 12), a record of its own, versioned and reviewed like the plan.

    `storage_prefix` is the plan's folder in object storage (see `storage.object_key`); it is
    unique, which also makes (fiscal year, LEA, school, kind) unique where school is NULL.
    `lock_version` is bumped by every change, so that an UPDATE of it serializes writers of
    one plan (a row lock on PostgreSQL, the write lock on SQLite).
    """

    __tablename__ = "plan"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    lea_code: Mapped[str] = mapped_column(ForeignKey("lea.code"), index=True)
    school_code: Mapped[str | None] = mapped_column(ForeignKey("school.code"))
    period: Mapped[str | None] = mapped_column(String(4))  # None: the plan itself
    storage_prefix: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    lock_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utc_now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utc_now)
    __table_args__ = (
        CheckConstraint(
            "(kind = 'district' AND school_code IS NULL) OR "
            "(kind = 'school' AND school_code IS NOT NULL)",
            name="kind_matches_school",
        ),
    )


class SubmissionRow(Base):
    """One uploaded version of a plan: never changed but for its review status."""

    __tablename__ = "submission"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    object_key: Mapped[str] = mapped_column(String(300), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str | None] = mapped_column(String(255))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utc_now)
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    __table_args__ = (
        UniqueConstraint("plan_id", "version", name="uq_submission_plan_version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )


class ReviewEventRow(Base):
    """A reviewer's decision on a submission: approve or return."""

    __tablename__ = "review_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id"), index=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    action: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utc_now)


class CommentRow(Base):
    """A reviewer's comment on a submission, about the whole plan, a section or a cell;
    open until resolved."""

    __tablename__ = "review_comment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    section: Mapped[str | None] = mapped_column(String(40))
    sheet: Mapped[str | None] = mapped_column(String(31))
    cell: Mapped[str | None] = mapped_column(String(12))
    field: Mapped[str | None] = mapped_column(String(120))  # the spec's field, when known
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utc_now)
    # open until a reviewer resolves it (migration 0005); both set, or neither
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    __table_args__ = (
        CheckConstraint("(sheet IS NULL) = (cell IS NULL)", name="sheet_with_cell"),
        CheckConstraint("(resolved_at IS NULL) = (resolved_by IS NULL)", name="resolved_together"),
    )


class AuditRow(Base):
    """The append-only log of every state change. Only `services.audit` writes it, and only
    by INSERT; on both databases a trigger refuses UPDATE and DELETE (migration 0002)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utc_now)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[str] = mapped_column(String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)


# ---- background jobs and API tokens (issue 11) ---------------------------------------------


class JobRow(Base):
    """A district packet or statewide summary made in the background (`aip_forms.jobs`).

    `id` is a random 128-bit token (32 hex digits): the job's page and download are reached
    by it, so it must not be guessable. The result is one object in the store under a key
    derived from the id; `notified_at` is set once the requester has been mailed."""

    __tablename__ = "job"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # packet, statewide
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    requested_by: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # queued, running, done, failed
    progress: Mapped[int] = mapped_column(Integer, default=0)
    progress_text: Mapped[str] = mapped_column(String(200), default="")
    result_key: Mapped[str | None] = mapped_column(String(300))
    result_sha256: Mapped[str | None] = mapped_column(String(64))
    result_size: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    notified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # the queue (Redis) was down when it was asked for: `aip jobs dispatch` sends it later
    dispatch_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    __table_args__ = (
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status_known"),
    )


class AccessTokenRow(Base):
    """A personal access token for the machine API, stored only as the SHA-256 of its
    secret; `scopes` is a space-separated list (`services.tokens.SCOPES`)."""

    __tablename__ = "access_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    scopes: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


# ---- progress updates, deadlines and reminders (issue 12) ----------------------------------


class HiddenCellsRow(Base):
    """The cells the documents hide (small groups, and the cells that would give them away)
    in one LEA's plans of a fiscal year, as of a data load: computed once per load
    (`dashboards.precompute_hidden_cells`, or by the first dashboard that needs them) so that
    no dashboard request after a load computes them again. `cells` is a list of
    [scope, code, group type, group code]."""

    __tablename__ = "hidden_cells"
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    load_id: Mapped[int] = mapped_column(ForeignKey("data_load.id"), primary_key=True)
    lea_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    cells: Mapped[list[Any]] = mapped_column(JSON)


class PeriodLoadRow(Base):
    """A reporting period's data as loaded (`aip data load` of period_rates or
    period_students files): one row per fiscal year and period. A second load of the same
    period is refused unless it is an explicit replacement (`--replace`), which bumps
    `replacements` and points `load_id` at the new load."""

    __tablename__ = "period_load"
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(4), primary_key=True)
    load_id: Mapped[int] = mapped_column(ForeignKey("data_load.id"))
    rows: Mapped[int] = mapped_column(Integer)
    first_loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    replacements: Mapped[int] = mapped_column(Integer, default=0)


class DeadlineRow(Base):
    """A deadline PED set for a fiscal year, plan kind and period ("" = the plan itself);
    one not set here comes from the program config (`services.deadlines`)."""

    __tablename__ = "deadline"
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    period: Mapped[str] = mapped_column(String(4), primary_key=True)
    due_on: Mapped[dt.date] = mapped_column(Date)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    set_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utc_now)


class ReminderSentRow(Base):
    """One reminder, overdue notice or digest mailed: unique per recipient, subject (a plan,
    or a digest's scope), deadline (or a digest's week) and kind, so that sending again
    sends nobody a second copy."""

    __tablename__ = "reminder_sent"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(120))
    deadline: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))  # reminder, overdue, digest
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        UniqueConstraint("recipient", "subject", "deadline", "kind", name="uq_reminder_sent_once"),
    )


class MailOutboxRow(Base):
    """A message the mail server has not taken yet (`aip_forms.mail_outbox`): queued when
    the server was down, or in the same transaction as what it tells of (a job's end), and
    sent by `aip mail send-queued` with retries. `message_id` stays the same on every try,
    so a copy sent again after a crash is the same message to the receiving side.
    `claimed_until` keeps two senders off one message; `sent_at` is set once it went."""

    __tablename__ = "mail_outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recipients: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    last_error: Mapped[str] = mapped_column(String(500), default="")
