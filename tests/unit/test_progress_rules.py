"""Progress workbooks (issue 12): generated from the progress spec, signed with the period,
read back and validated by their own rules. One test per rule code; the workbooks are
built in code and filled with openpyxl as a coordinator would."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from aip_forms.config import ProgramConfig, Settings
from aip_forms.domain import Lea, PlanKind, School
from aip_forms.issued_data import PlanData, ProgressData, ProgressRow, StrategyRow
from aip_forms.spec import RATINGS, progress_spec
from aip_forms.workbook_format.metadata import read_metadata
from validators.rules import PROGRESS_RULES
from validators.validate import Expectation, ValidationReport, validate_upload
from workbook_templates.build import build_workbook

CONFIG = ProgramConfig()
SETTINGS = Settings(
    home=Path("/nonexistent"),
    database_url="sqlite://",
    secret_key=b"progress-secret",
    workbook_password="protect",
)
SPEC = progress_spec(PlanKind.SCHOOL)
DATA = PlanData(
    kind=PlanKind.SCHOOL,
    fiscal_year=2027,
    lea=Lea(code="006", name="BELEN CONSOLIDATED"),
    school=School(code="006001", lea_code="006", name="BELEN HIGH", grade_low="9", grade_high="12"),
    history_years=(),
    subgroups=(),
    grades=(),
    tier_counts={},
    deadline=dt.date(2027, 1, 20),
    progress=ProgressData(
        period="80",
        period_label="80-day",
        plan_id=7,
        plan_version=2,
        subgroups=(
            ProgressRow(
                code="all",
                label="All Students",
                plan_target=12.0,
                current_target=12.0,
                current_rate=14.5,
            ),
            ProgressRow(
                code="foster",
                label="Foster Care",
                plan_target=None,
                current_target=None,
                current_rate=None,
                suppressed=True,
            ),
        ),
        grades=(
            ProgressRow(
                code="9", label="Grade 9", plan_target=15.0, current_target=15.0, current_rate=16.0
            ),
        ),
        strategies=(
            StrategyRow(
                ref="1.1",
                tier=1,
                strategy="Parent Outreach Programs",
                action_steps="Biweekly workshops",
            ),
            StrategyRow(
                ref="2.1",
                tier=2,
                strategy="Attendance Mentoring",
                action_steps="Weekly mentor meetings",
            ),
        ),
    ),
)
# Inputs by sheet and cell, from the spec's positions (header row 5, data from row 6).
ABOUT = {"C12": "Kristin Garcia", "C13": "School Coordinator", "C14": "kg@belen.k12.nm.us",
         "C15": dt.date(2027, 1, 10)}  # fmt: skip
FILLED: dict[str, Any] = {
    **{f"1 Progress Update!{cell}": value for cell, value in ABOUT.items()},
    "2A Subgroup Progress!F6": 0.115,
    "2B Grade Progress!F6": 0.14,
    "3 Strategy Reflection!F6": RATINGS[0],
    "3 Strategy Reflection!G6": "Workshops drew 60 families; absences fell in October.",
    "3 Strategy Reflection!F7": RATINGS[1],
    "3 Strategy Reflection!G7": "Mentors met 42 students weekly; 30 improved.",
}


def issued() -> bytes:
    wb = build_workbook(SPEC, DATA, CONFIG, SETTINGS, issued_at="2027-01-05T15:00:00Z")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


ISSUED = issued()


def filled(changes: dict[str, Any] | None = None) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(ISSUED))
    for ref, value in {**FILLED, **(changes or {})}.items():
        sheet, _, cell = ref.rpartition("!")
        wb[sheet][cell].value = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


ANY = Expectation()


def check(data: bytes, expect: Expectation = ANY) -> ValidationReport:
    return validate_upload(
        data, key=SETTINGS.secret_key, config=CONFIG, filename="p.xlsx", expect=expect, final=True
    )


def codes(report: ValidationReport) -> list[tuple[str, str | None, str | None]]:
    return [(p.code, p.sheet, p.cell) for p in report.errors]


def test_the_issued_workbook_is_prefilled_locked_and_signed_with_its_period() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(ISSUED))
    subgroups = wb["2A Subgroup Progress"]
    assert [c.value for c in subgroups[6]][:5] == ["All Students", 0.12, None, 0.12, 0.145]
    assert subgroups["E7"].value == "*"  # suppressed
    assert subgroups["B6"].protection.locked and not subgroups["F6"].protection.locked
    strategies = wb["3 Strategy Reflection"]
    assert [c.value for c in strategies[7]][:4] == ["2.1", "Tier 2", "Attendance Mentoring",
                                                   "Weekly mentor meetings"]  # fmt: skip
    assert wb["1 Progress Update"]["C9"].value == "80-day"
    metadata = read_metadata(wb)
    assert (metadata.period, metadata.kind, metadata.school_code) == ("80", "school", "006001")


def test_a_complete_update_is_valid_and_read_by_the_spec() -> None:
    report = check(filled(), Expectation(PlanKind.SCHOOL, 2027, "006", "006001", "80"))
    assert report.valid, report.errors
    assert report.identity is not None and report.identity.period == "80"
    assert report.plan is not None
    (row, _) = report.plan.rows("subgroups", "subgroups")
    assert (row.code, row.get("adjusted_target")) == ("all", 0.115)
    assert [r.code for r in report.plan.rows("strategies", "strategies")] == ["1.1", "2.1"]


def test_every_progress_rule_has_a_test_named_after_its_code() -> None:
    names = set(globals())
    assert PROGRESS_RULES
    for code, _fn in PROGRESS_RULES:
        assert f"test_{code}" in names, code


def test_WRONG_PERIOD() -> None:
    report = check(filled(), Expectation(period="120"))
    assert codes(report) == [("WRONG_PERIOD", None, None)]
    assert "period 80" in report.errors[0].message and report.outcome == "unreadable"


def test_removing_the_period_breaks_the_signature() -> None:
    wb = openpyxl.load_workbook(io.BytesIO(filled()))
    meta = wb["aip_meta"]
    for row in meta.iter_rows():
        if row[0].value == "period":
            row[1].value = "120"
    out = io.BytesIO()
    wb.save(out)
    assert codes(check(out.getvalue())) == [("META_SIGNATURE_INVALID", None, None)]


def test_ADJUSTED_TARGET_MISSING() -> None:
    report = check(filled({"2B Grade Progress!F6": None}))
    assert codes(report) == [("ADJUSTED_TARGET_MISSING", "2B Grade Progress", "F6")]
    assert "Grade 9" in report.errors[0].message and "15.0%" in report.errors[0].message


def test_no_adjusted_target_is_needed_for_a_suppressed_group() -> None:
    assert check(filled({"2A Subgroup Progress!F7": None})).valid


def test_ADJUSTED_TARGET_OUT_OF_RANGE() -> None:
    report = check(filled({"2A Subgroup Progress!F6": "150%"}))
    assert codes(report) == [("ADJUSTED_TARGET_OUT_OF_RANGE", "2A Subgroup Progress", "F6")]
    assert "All Students" in report.errors[0].message and "150.0%" in report.errors[0].message


def test_RAISED_TARGET_NO_REASON() -> None:
    raised = {"2A Subgroup Progress!F6": 0.13}
    report = check(filled(raised))
    assert codes(report) == [("RAISED_TARGET_NO_REASON", "2A Subgroup Progress", "G6")]
    assert "13.0%" in report.errors[0].message and "12.0%" in report.errors[0].message
    reason = {**raised, "2A Subgroup Progress!G6": "Flu outbreak in December."}
    assert check(filled(reason)).valid
    assert check(filled({"2A Subgroup Progress!F6": 0.12})).valid  # kept, not raised


def test_STRATEGY_RATING_MISSING() -> None:
    report = check(filled({"3 Strategy Reflection!F7": None}))
    assert codes(report) == [("STRATEGY_RATING_MISSING", "3 Strategy Reflection", "F7")]
    assert "Attendance Mentoring" in report.errors[0].message


def test_STRATEGY_RATING_UNKNOWN() -> None:
    report = check(filled({"3 Strategy Reflection!F6": "Great"}))
    assert codes(report) == [("STRATEGY_RATING_UNKNOWN", "3 Strategy Reflection", "F6")]


def test_STRATEGY_REFLECTION_MISSING() -> None:
    report = check(filled({"3 Strategy Reflection!G6": None}))
    assert codes(report) == [("STRATEGY_REFLECTION_MISSING", "3 Strategy Reflection", "G6")]
    assert "Parent Outreach Programs" in report.errors[0].message


def test_a_changed_current_rate_is_tampering() -> None:
    report = check(filled({"2A Subgroup Progress!E6": 0.05}))
    assert codes(report) == [("PREFILL_CHANGED", "2A Subgroup Progress", "E6")]


@pytest.mark.parametrize("kind", list(PlanKind))
def test_the_progress_spec_lays_out_without_overlaps(kind: PlanKind) -> None:
    spec = CONFIG.progress_spec(kind)
    assert spec.form == "progress" and spec.kind is kind
    assert CONFIG.form_spec(kind, "80") is spec and CONFIG.form_spec(kind) is CONFIG.spec(kind)
