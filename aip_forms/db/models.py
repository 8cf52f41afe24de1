"""SQLAlchemy 2 models. Schema changes go through Alembic (aip_forms/db/migrations)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
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
    """A person who works with plans. The portal adds passwords and OTP next."""

    __tablename__ = "app_user"  # "user" is reserved in PostgreSQL
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_utc_now)


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
    """One plan: fiscal year x LEA (district plan) or school (school plan) x kind.

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
    """A reviewer's comment on a submission, about the whole plan, a section or a cell."""

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
    __table_args__ = (CheckConstraint("(sheet IS NULL) = (cell IS NULL)", name="sheet_with_cell"),)


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
