"""Program profiles (issue 14), second part: the generator, validator, documents and
dashboards take their words and the metric's direction from the program config. New
Mexico's output is what it was; a Los Angeles Unified workbook names no state, agency or
metric but its own, and its rules run the other way (higher is better)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from aip_forms.config import ProgramConfig, Settings
from aip_forms.domain import Lea, PlanKind, School
from aip_forms.issued_data import DataRow
from aip_forms.services.dashboards import Entity, GroupResult
from aip_forms.services.eoy_report import GroupResult as EoyGroup
from aip_forms.spec import NOT_APPLICABLE, Wording, progress_spec, spec_for
from tests.support.planbook import planbook, row_counts, valid_values, where
from validators.cells import WorkbookCells
from validators.problems import Problem
from validators.read import PlanReader
from validators.rules import RuleContext, run_rules
from workbook_templates.build import build_workbook
from workbook_templates.synthetic import plan_data

NM = ProgramConfig.load(None, "nm")
LAUSD = ProgramConfig.load(None, "lausd")
SETTINGS = Settings(
    home=Path("/nonexistent"), database_url="sqlite://", secret_key=b"k", workbook_password="p"
)
NEW_MEXICO_WORDS = re.compile(r"New Mexico|NMSA|\bPED\b|[Cc]hronic", re.S)


def test_new_mexico_specs_are_the_default_specs_unchanged():
    for kind in ("district", "school"):
        assert NM.spec(kind) == spec_for(kind) == spec_for(kind, Wording())
        assert NM.progress_spec(kind) == progress_spec(kind)
    assert NM.spec("school").section("demographics").tables[0].column("rate_y1").label == (
        "Chronic Absence {y1}"
    )


def _texts(data: bytes) -> list[str]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    out = []
    for ws in wb.worksheets:
        if ws.title == "aip_meta":
            continue
        out += [str(c.value) for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
        for dv in ws.data_validations.dataValidation:
            out += [dv.prompt or "", dv.error or "", dv.promptTitle or ""]
    return out


def _workbook(config: ProgramConfig, spec_kind: str) -> bytes:
    lea = Lea(code="100", name="SYNTHETIC LOCAL DISTRICT")
    school = School(code="100001", lea_code="100", name="SYNTHETIC ELEMENTARY",
                    grade_low="K", grade_high="5")  # fmt: skip
    schools = (school,)
    data = plan_data(config, 2027, lea, school if spec_kind == "school" else None, schools)
    wb = build_workbook(
        config.spec(spec_kind), data, config, SETTINGS, issued_at="2026-08-01T00:00:00Z"
    )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize("kind", ["district", "school"])
def test_a_lausd_workbook_names_no_new_mexico_agency_law_or_metric(kind):
    texts = _texts(_workbook(LAUSD, kind))
    found = [t for t in texts if NEW_MEXICO_WORDS.search(t)]
    assert found == []
    joined = " ".join(texts)
    assert "LAUSD" in joined and "96%" in joined


@pytest.mark.parametrize("kind", ["district", "school"])
def test_a_new_mexico_workbook_keeps_its_words(kind):
    joined = " ".join(_texts(_workbook(NM, kind)))
    assert "pre-filled from PED data" in joined
    assert "A student is chronically absent when they miss 10% or more" in joined


def test_the_progress_spec_asks_why_a_target_is_made_less_ambitious():
    nm = NM.progress_spec("school").section("subgroups").tables[0].column("raise_reason")
    la = LAUSD.progress_spec("school").section("subgroups").tables[0].column("raise_reason")
    assert nm.label == "Reason, if the Target is Raised" and "above" in nm.help
    assert la.label == "Reason, if the Target is Lowered" and "below" in la.help
    assert "a lower share of students attending 96% or more allowed" in la.help


# ---- the target rule in the validator -------------------------------------------------


def _check(config: ProgramConfig, kind: str, values: dict[str, object]) -> list[Problem]:
    data = planbook(kind, values, config=config)
    cells = WorkbookCells(zipfile.ZipFile(io.BytesIO(data)))
    spec = config.spec(kind)
    read = PlanReader(cells, spec, config, row_counts=row_counts(kind)).read()
    return [
        *read.problems,
        *run_rules(RuleContext(spec=spec, config=config, read=read, final=True)),
    ]


def test_TARGET_BELOW_MINIMUM_refuses_a_target_under_five_points_above_the_latest_share():
    # The planbook's latest rate is 32%: LAUSD's minimum is 37%, exactly 37% passes.
    values = valid_values("district", config=LAUSD)
    targets = [k for k in values if re.search(r"\.target\.\d+$", k)]
    values |= dict.fromkeys(targets, 0.37)
    values["demographics.subgroups.target.1"] = 0.369
    problems = _check(LAUSD, "district", values)
    refused = [p for p in problems if p.code == "TARGET_BELOW_MINIMUM"]
    assert [f"{p.sheet}!{p.cell}" for p in refused] == [
        where("district", "demographics.subgroups.target.1", config=LAUSD)
    ]
    assert refused[0].severity == "error"
    assert "minimum of 37.0%" in refused[0].message and "32.0%" in refused[0].message
    assert "TARGET_NOT_BELOW_LATEST" not in {p.code for p in problems}


def test_new_mexico_still_warns_when_a_target_is_not_below_the_latest_rate():
    values = valid_values("district", config=NM) | {"demographics.subgroups.target.0": 0.37}
    codes = {p.code: p.severity for p in _check(NM, "district", values)}
    assert codes.get("TARGET_NOT_BELOW_LATEST") == "warning"
    assert "TARGET_BELOW_MINIMUM" not in codes


# ---- on track, target met --------------------------------------------------------------


def _result(current: float, previous: float, target: float, lower: bool) -> GroupResult:
    entity = Entity(PlanKind.DISTRICT, "100", "SYNTHETIC LOCAL DISTRICT")
    return GroupResult(entity, "k", "subgroup", "all", "All Students", target, current,
                       previous, False, "", lower)  # fmt: skip


@pytest.mark.parametrize(
    ("current", "previous", "target", "lower", "off", "why"),
    [
        (14.0, 12.0, 12.0, True, True, "2.0 points above target; rising since the last period"),
        (11.0, 12.0, 12.0, True, False, ""),
        (12.0, 12.0, 12.0, True, False, ""),  # at target: on track
        (60.0, 58.0, 62.0, False, True, "2.0 points below target"),
        (63.0, 64.0, 62.0, False, True, "falling since the last period"),
        (64.0, 60.0, 62.0, False, False, ""),
        (62.0, 62.0, 62.0, False, False, ""),  # at target: on track
    ],
)
def test_off_track_follows_the_metrics_direction(current, previous, target, lower, off, why):
    r = _result(current, previous, target, lower)
    assert (r.off_track, r.why) == (off, why)


@pytest.mark.parametrize(
    ("result", "target", "lower", "met"),
    [(12.0, 12.0, True, "Yes"), (12.1, 12.0, True, "No"), (62.0, 62.0, False, "Yes"),
     (61.9, 62.0, False, "No"), (70.0, 62.0, False, "Yes")],
)  # fmt: skip
def test_end_of_year_target_met_follows_the_direction(result, target, lower, met):
    g = EoyGroup("subgroup", "all", "All Students", target, result, lower_is_better=lower)
    assert g.met == met


def test_metric_meets_is_direction_aware():
    assert NM.metric.meets(0.12, 0.12) and not NM.metric.meets(0.121, 0.12)
    assert LAUSD.metric.meets(0.62, 0.62) and not LAUSD.metric.meets(0.619, 0.62)


def test_the_lausd_profile_has_its_own_names():
    assert (LAUSD.agency_short, LAUSD.time_zone) == ("LAUSD", "America/Los_Angeles")
    assert (NM.agency_short, NM.time_zone) == ("PED", "America/Denver")
    assert LAUSD.metric.definition() == (
        "A student counts when they attend 96% or more of the days they were enrolled (a "
        "student at exactly 96% counts)."
    )


# ---- progress: a reason when a target is made less ambitious ---------------------------


def _progress_upload(config: ProgramConfig, adjusted: float) -> list[str]:
    from tests.unit.test_progress_rules import DATA, FILLED
    from validators.validate import validate_upload

    spec = config.progress_spec("school")
    wb = build_workbook(spec, DATA, config, SETTINGS, issued_at="2027-01-05T15:00:00Z")
    kept = {"2B Grade Progress!F6": 0.15}  # grade 9's target in force, kept
    for ref, value in {**FILLED, **kept, "2A Subgroup Progress!F6": adjusted}.items():
        sheet, _, cell = ref.rpartition("!")
        wb[sheet][cell].value = value
    out = io.BytesIO()
    wb.save(out)
    report = validate_upload(
        out.getvalue(), key=SETTINGS.secret_key, config=config, filename="p.xlsx", final=True
    )
    return [f"{p.code} {p.cell}: {p.message}" for p in report.errors]


def test_lausd_asks_a_reason_when_a_target_is_lowered_not_raised():
    # The target in force is 12.0%; for LAUSD a higher share is better.
    (lowered,) = _progress_upload(LAUSD, 0.11)
    assert lowered.startswith("RAISED_TARGET_NO_REASON G6")
    assert "below the target in force (12.0%)" in lowered
    assert "a lower share of students attending 96% or more allowed" in lowered
    assert _progress_upload(LAUSD, 0.13) == []
    (raised,) = _progress_upload(NM, 0.13)
    assert "above the target in force" in raised and "chronic absence rate" in raised
    assert _progress_upload(NM, 0.11) == []


# ---- targeted grades --------------------------------------------------------------------


def _grades_workbook(config: ProgramConfig) -> openpyxl.Workbook:
    """A K-5 school plan whose every grade has data (60 students, three years of rates)."""
    lea = Lea(code="100", name="SYNTHETIC LOCAL DISTRICT")
    school = School(code="100001", lea_code="100", name="SYNTHETIC ELEMENTARY",
                    grade_low="K", grade_high="5")  # fmt: skip
    data = plan_data(config, 2027, lea, school, (school,))
    grades = tuple(
        DataRow(code=g.code, label=g.label, enrollment=60, rates=(0.55, 0.56, 0.57))
        for g in config.grades
        if g.code in ("K", "1", "2", "3", "4", "5")
    )
    data = data.model_copy(update={"grades": grades})
    spec = config.spec("school")
    return build_workbook(spec, data, config, SETTINGS, issued_at="2026-08-01T00:00:00Z")


def _grade_targets(wb: openpyxl.Workbook) -> dict[str, object]:
    ws = wb["2B Grade Targets"]
    return {str(ws[f"A{r}"].value): ws[f"F{r}"].value for r in range(6, 12)}


def test_lausd_asks_grade_targets_in_its_targeted_grades_only():
    targets = _grade_targets(_grades_workbook(LAUSD))
    assert targets == {
        "Kindergarten": None,
        **{f"Grade {g}": NOT_APPLICABLE for g in range(1, 6)},
    }
    assert set(_grade_targets(_grades_workbook(NM)).values()) == {None}  # NM: every grade


def _validated(wb: openpyxl.Workbook, config: ProgramConfig, changes: dict[str, object]) -> list:
    from validators.validate import validate_upload

    ws = wb["2B Grade Targets"]
    for cell, value in changes.items():
        ws[cell].value = value
    out = io.BytesIO()
    wb.save(out)
    report = validate_upload(
        out.getvalue(), key=SETTINGS.secret_key, config=config, filename="p.xlsx", final=False
    )
    return [(p.code, p.cell, p.message) for p in report.errors if p.sheet == ws.title]


def test_the_validator_requires_targets_in_targeted_grades_and_refuses_others():
    wb = _grades_workbook(LAUSD)
    found = _validated(wb, LAUSD, {"F7": 0.7})  # grade 1 filled, K left empty
    assert sorted((cell, code) for code, cell, _ in found) == [
        ("F6", "TARGET_MISSING"),
        ("F7", "NOT_APPLICABLE_FILLED"),
    ]
    refused = next(message for code, _, message in found if code == "NOT_APPLICABLE_FILLED")
    assert "Grade 1 is not a targeted grade of the program" in refused
    wb = _grades_workbook(LAUSD)
    assert _validated(wb, LAUSD, {"F6": 0.62}) == []  # K: 57% + 5 points
