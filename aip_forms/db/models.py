"""SQLAlchemy 2 models. Schema changes go through Alembic (aip_forms/db/migrations)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
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
