"""Program profiles (issue 14): the metric, target, selection and staffing rules of the `nm`
and `lausd` profiles, pinned at their edges, and how a profile is chosen and overridden."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from aip_forms.bootstrap import App
from aip_forms.config import ProgramConfig
from aip_forms.errors import InvalidInput
from aip_forms.programs.rules import (
    Direction,
    SchoolFigures,
    StaffingBand,
    StaffingRule,
)

NM = ProgramConfig.load(None, "nm")
LAUSD = ProgramConfig.load(None, "lausd")


# ---- the metric -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("absent", "enrolled", "counted"),
    [
        (4, 100, True),  # attended exactly 96.0%
        (5, 100, False),  # 95.0%
        (0, 100, True),
        (7, 175, True),  # 168/175 = 96.0% exactly
        (8, 175, False),  # 95.43%
        (1, 24, False),  # 95.83%: under 96% however it is rounded for print
        (1, 25, True),  # 96.0%
    ],
)
def test_lausd_counts_a_student_attending_96_percent_or_more(absent, enrolled, counted):
    assert LAUSD.metric.counts(absent, enrolled) is counted


@pytest.mark.parametrize(
    ("absent", "enrolled", "counted"),
    [(10, 100, True), (9, 100, False), (18, 180, True), (17, 180, False)],
)
def test_nm_counts_a_student_absent_10_percent_or_more(absent, enrolled, counted):
    assert NM.metric.counts(absent, enrolled) is counted


def test_the_metric_vectorizes_and_knows_its_direction():
    absent, enrolled = np.array([4, 5, 10]), np.array([100, 100, 100])
    assert LAUSD.metric.counted(absent, enrolled).tolist() == [True, False, False]
    assert NM.metric.counted(absent, enrolled).tolist() == [False, False, True]
    assert NM.metric.direction is Direction.LOWER_IS_BETTER
    assert LAUSD.metric.direction is Direction.HIGHER_IS_BETTER
    assert LAUSD.metric.better(0.62, than=0.57) and NM.metric.better(0.08, than=0.12)


# ---- the target rule --------------------------------------------------------------------


def test_lausd_targets_at_least_five_points_above_last_year():
    rule = LAUSD.target_rule
    assert rule.check(0.62, previous=0.57) is None  # exactly +5 points
    assert rule.check(0.70, previous=0.57) is None
    problem = rule.check(0.619, previous=0.57)
    assert problem is not None
    assert "minimum 62.0%" in problem.message and "plus 5 points" in problem.message
    assert problem.bound == pytest.approx(0.62)
    assert rule.minimum(0.57) == pytest.approx(0.62)


def test_nm_targets_must_be_below_the_latest_rate():
    assert NM.target_rule.check(0.119, previous=0.12) is None
    problem = NM.target_rule.check(0.12, previous=0.12)
    assert problem is not None and "not below the latest rate 12.0%" in problem.message
    assert NM.target_rule.minimum(0.12) is None


def test_no_previous_year_means_no_refusal():
    assert LAUSD.target_rule.check(0.1, previous=None) is None


# ---- staffing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("enrolled", "days"),
    [
        (0, 1),
        (50, 1),
        (51, 2),
        (100, 2),
        (101, 3),
        (150, 3),
        (151, 4),
        (200, 4),
        (201, 5),
        (2000, 5),
    ],
)
def test_lausd_counselor_days_per_50_students(enrolled, days):
    assert LAUSD.staffing is not None
    assert LAUSD.staffing.days_for(enrolled) == days


def test_the_staffing_table_prints_as_the_reference_does():
    assert LAUSD.staffing is not None
    assert LAUSD.staffing.table() == [
        ("0-50", 1),
        ("51-100", 2),
        ("101-150", 3),
        ("151-200", 4),
        ("201 or more", 5),
    ]
    assert NM.staffing is None


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ([(50, 1), (100, 2)], "must end with one that has no upper bound"),
        ([(100, 1), (50, 2), (None, 3)], "must ascend"),
        ([(50, 1), (None, 2), (None, 3)], "must ascend"),
    ],
)
def test_staffing_bands_that_do_not_ascend_and_close_are_refused(bands, message):
    with pytest.raises(ValidationError, match=message):
        StaffingRule(bands=tuple(StaffingBand(up_to=u, days=d) for u, d in bands))


def test_negative_enrollment_is_refused():
    assert LAUSD.staffing is not None
    with pytest.raises(ValueError, match="cannot be negative"):
        LAUSD.staffing.days_for(-1)


# ---- selection --------------------------------------------------------------------------


def _school(code, rate, index, enrolled=80):
    return SchoolFigures(code=code, rate=rate, enrolled=enrolled, academic_index=index)


def test_lausd_selects_the_lowest_shares_under_the_index_cut_off_ranked_with_reasons():
    schools = [
        _school("A", 0.61, 750),
        _school("B", 0.48, 799.9),  # lowest share, index just under 800
        _school("C", 0.40, 800),  # the lowest share, but an index of 800 is not under 800
        _school("D", 0.55, 640),
        _school("E", 0.55, 700, enrolled=120),  # same share as D, more students: first
        _school("F", None, 500),  # no figures: cannot be ranked
        _school("G", 0.30, None),  # no index: not eligible
    ]
    every_rate = LAUSD.selection.model_copy(update={"lowest_share": None})
    picked = every_rate.select(schools)
    assert [(s.rank, s.code) for s in picked] == [(1, "B"), (2, "E"), (3, "D"), (4, "A")]
    assert picked[0].reason == (
        "rank 1: 48.0% in the targeted grades; Academic Performance Index 799.9 (under 800)"
    )
    # by default "lowest" is the lower half of the six schools with figures (G, C, B):
    # G has no index and C's is not under 800, so B alone is selected
    (only,) = LAUSD.selection.select(schools)
    assert only.code == "B"
    assert only.reason == (
        "rank 1: 48.0% in the targeted grades; in the lowest 50% of schools; "
        "Academic Performance Index 799.9 (under 800)"
    )


def test_lausd_selection_can_be_capped():
    capped = LAUSD.selection.model_copy(update={"max_schools": 2, "lowest_share": None})
    schools = [_school(c, r, 700) for c, r in (("A", 0.5), ("B", 0.4), ("C", 0.6))]
    assert [s.code for s in capped.select(schools)] == ["B", "A"]


def test_nm_selects_schools_where_any_group_reaches_5_percent():
    schools = [
        SchoolFigures("low", rate=0.049, enrolled=300, highest_subgroup_rate=0.049),
        SchoolFigures("edge", rate=0.03, enrolled=300, highest_subgroup_rate=0.05),
        SchoolFigures("high", rate=0.21, enrolled=300, highest_subgroup_rate=0.30),
    ]
    picked = NM.selection.select(schools)
    assert [(s.rank, s.code) for s in picked] == [(1, "high"), (2, "edge")]
    assert "5% or more requires a plan" in picked[1].reason


# ---- choosing and overriding a profile --------------------------------------------------


def test_the_default_profile_is_new_mexicos_unchanged():
    assert ProgramConfig() == NM
    assert NM.chronic_threshold_pct == 10.0 and NM.targeted_grades is None


def test_aip_program_selects_lausd(tmp_path):
    app = App.from_env({"AIP_HOME": str(tmp_path), "AIP_PROGRAM": "lausd"})
    assert app.config.profile == "lausd"
    assert app.config.targeted_grades == ("K", "9")


def test_an_unknown_profile_is_refused_naming_the_known_ones(tmp_path):
    with pytest.raises(InvalidInput, match=r"program profile \(nm, lausd\), not 'ohio'"):
        App.from_env({"AIP_HOME": str(tmp_path), "AIP_PROGRAM": "ohio"})


def test_a_file_overrides_only_what_it_names(tmp_path):
    path = tmp_path / "program.json"
    path.write_text(json.dumps({"profile": "lausd", "metric": {"threshold_pct": 95}}))
    config = ProgramConfig.load(path)
    assert config.metric.threshold_pct == 95
    assert config.metric.kind is LAUSD.metric.kind  # kept from the profile
    assert config.staffing == LAUSD.staffing


def test_a_file_written_before_profiles_still_loads(tmp_path):
    path = tmp_path / "program.json"
    path.write_text(json.dumps({"chronic_threshold_pct": 7.3, "plan_required_pct": 4}))
    config = ProgramConfig.load(path)
    assert config.metric.threshold_pct == 7.3 and config.selection.threshold_pct == 4


def test_a_file_for_another_profile_than_aip_program_is_refused(tmp_path):
    path = tmp_path / "program.json"
    path.write_text(json.dumps({"profile": "lausd"}))
    with pytest.raises(ValueError, match="is for the 'lausd' profile but AIP_PROGRAM is 'nm'"):
        ProgramConfig.load(path, "nm")


def test_a_targeted_grade_the_program_does_not_have_is_refused():
    with pytest.raises(ValidationError, match="targeted grade 'TK' is not a grade"):
        ProgramConfig(targeted_grades=("TK",))


# ---- what the command line says ---------------------------------------------------------


@pytest.mark.parametrize("profile", ["nm", "lausd"])
def test_the_command_lines_help_names_no_state(profile: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from aip_forms.cli import cli

    env = {"AIP_HOME": str(tmp_path), "AIP_PROGRAM": profile}
    runner = CliRunner(env=env)
    helps = [runner.invoke(cli, [*group, "--help"]) for group in ([], ["users"], ["compile"])]
    for result in helps:
        assert result.exit_code == 0, result.output
        for word in ("New Mexico", "PED", "NMSA", "LAUSD"):
            assert word not in result.output, (word, result.output)
    assert "the program profile in AIP_PROGRAM" in " ".join(helps[0].output.split())


@pytest.mark.parametrize(
    ("config", "email", "phone"),
    [(NM, "garcia@belen.k12.nm.us", "505-555-0142"), (LAUSD, "kgarcia@lausd.net", "213-555-0142")],
)
def test_the_contact_fields_show_the_programs_examples(config, email, phone):
    from aip_forms.domain import PlanKind

    for kind in (PlanKind.SCHOOL, PlanKind.DISTRICT):
        contact = config.spec(kind).sections[0]
        examples = {f.key: f.example for f in contact.fields}
        assert (examples["email"], examples["phone"]) == (email, phone)
        helps = " ".join(f.help or "" for f in contact.fields)
        assert f"Example: {email}" in helps
        assert ("nm.us" in helps) is (config is NM)
