"""Fiscal years, tiers and program configuration (New Mexico defaults)."""

import datetime as dt

import pytest
from pydantic import ValidationError

from aip_forms.config import ProgramConfig, Settings
from aip_forms.domain import FiscalYear, PlanKind, Strategy, TierBand


def test_fy2027_runs_july_2026_to_june_2027():
    fy = FiscalYear(year=2027)
    assert (fy.start, fy.end) == (dt.date(2026, 7, 1), dt.date(2027, 6, 30))
    assert fy.school_year == "2026-27"
    assert str(fy) == "FY2027"


@pytest.mark.parametrize("text", ["2027", "FY2027", "fy27", "2026-27", 2027])
def test_fiscal_year_parse(text):
    assert FiscalYear.parse(text).year == 2027


def test_fiscal_year_parse_rejects_nonsense():
    with pytest.raises(ValueError, match="fiscal year"):
        FiscalYear.parse("next year")


@pytest.mark.parametrize(
    ("rate", "tier"),
    [(0, 1), (4.999, 1), (5, 2), (9.999, 2), (10, 3), (19.999, 3), (20, 4), (100, 4)],
)
def test_tier_edges(rate, tier):
    assert ProgramConfig().tier_of(rate) == tier


def test_tiers_must_cover_without_gaps():
    with pytest.raises(ValidationError, match="starts at"):
        ProgramConfig(
            tiers=(
                TierBand(tier=1, name="a", lower=0, upper=5),
                TierBand(tier=2, name="b", lower=6, upper=None),
            )
        )


def test_new_mexico_defaults():
    c = ProgramConfig()
    assert c.chronic_threshold_pct == 10
    assert c.min_group_size == 10
    assert [p.code for p in c.periods_for(PlanKind.DISTRICT)] == ["40", "80", "120"]
    assert [p.code for p in c.periods_for(PlanKind.SCHOOL)] == ["80", "120", "EOY"]
    labels = [s.label for s in c.subgroups]
    for expected in (
        "All Students",
        "Female",
        "Male",
        "Economically Disadvantaged",
        "English Learners",
        "Students with Disabilities",
        "Homeless",
        "Foster Care",
        "Military-connected",
        "Migrant",
    ):
        assert expected in labels
    assert [g.code for g in c.grades][:3] == ["PK", "K", "1"] and c.grades[-1].code == "12"


def test_strategy_catalog_has_user_guide_examples_per_tier():
    c = ProgramConfig()
    names = {t: [s.name for s in c.strategies_for(t)] for t in (1, 2, 3, 4)}
    assert {"Engaging School Climate", "Parent Outreach Programs"} <= set(names[1])
    assert {"Attendance Mentoring", "Check-In/Check-Out Systems"} <= set(names[2])
    assert {"Family Resource Referrals", "Academic Support Plans"} <= set(names[3])
    assert {"Case Management", "Community Agency Partnerships"} <= set(names[4])
    with pytest.raises(ValidationError, match="Other"):
        Strategy(tier=1, name="Other", evidence="Promising")


def test_deadline_defaults_and_override(tmp_path):
    assert ProgramConfig().deadline(2027, PlanKind.DISTRICT) == dt.date(2026, 10, 1)
    path = tmp_path / "program.json"
    path.write_text('{"deadlines": {"2027": {"district": "2026-09-27", "school": "2026-10-30"}}}')
    c = ProgramConfig.load(path)
    assert c.deadline(2027, PlanKind.SCHOOL) == dt.date(2026, 10, 30)


def test_secret_key_generated_once(tmp_path):
    a = Settings.from_env({"AIP_HOME": str(tmp_path)})
    b = Settings.from_env({"AIP_HOME": str(tmp_path)})
    assert a.secret_key == b.secret_key and len(a.secret_key) == 64
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    c = Settings.from_env({"AIP_HOME": str(tmp_path), "AIP_SECRET_KEY": "k"})
    assert c.secret_key == b"k"
    assert c.database_url == f"sqlite:///{tmp_path / 'aip.db'}"
