"""The lausd program profile on its own sample (issue 14): the sample is labelled synthetic,
counts students attending 96% or more, carries an academic index, and `aip data select`
ranks the schools the program picks with reasons and counselor days."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from aip_forms.bootstrap import App
from aip_forms.cli import cli as aip
from aip_forms.config import ProgramConfig
from aip_forms.data.load import load_paths
from aip_forms.data.sample import README_NAME, write_sample
from aip_forms.services.selection import select_schools

LAUSD = ProgramConfig.load(None, "lausd")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    home = tmp_path_factory.mktemp("lausd-home")
    data = tmp_path_factory.mktemp("lausd-data")
    write_sample(data, students=True, config=LAUSD, scale=0.2)
    app = App.from_env({"AIP_HOME": str(home), "AIP_PROGRAM": "lausd"})
    report = load_paths(app.engine, app.config, [data])
    assert report.ok, report.problems
    app.close()
    return home, data


def test_the_sample_says_it_is_synthetic_and_carries_an_index(loaded):
    _, data = loaded
    readme = (data / README_NAME).read_text()
    assert readme.startswith("SYNTHETIC DATA - NOT LAUSD DATA")
    assert "attending 96% or more" in readme
    schools = pd.read_csv(data / "schools.csv")
    assert schools["academic_index"].between(200, 1000).all()


def test_the_sample_rates_are_the_share_attending_96_percent_or_more(loaded):
    _, data = loaded
    students = pd.read_csv(data / "students.csv")
    year = students[(students["fiscal_year"] == 2026) & students["days_enrolled_eoy"].notna()]
    year = year.groupby("student_id")[["days_enrolled_eoy", "days_absent_eoy"]].sum()
    enrolled = year["days_enrolled_eoy"].astype(int)
    absent = year["days_absent_eoy"].fillna(0).astype(int)
    attending = int(((enrolled - absent) * 100 >= 96 * enrolled).sum())
    rows = pd.read_csv(data / "chronic_absence.csv", dtype=str, keep_default_na=False)
    lea_all = rows[
        (rows["fiscal_year"] == "2026")
        & (rows["period"] == "EOY")
        & (rows["school_code"] == "")
        & (rows["group_code"] == "all")
    ]
    assert int(lea_all["chronically_absent"].iloc[0]) == attending  # counted: attending >= 96%
    assert 0.2 < attending / len(year) < 0.8  # a share, not a chronic-absence rate


def test_selection_ranks_the_lowest_shares_under_the_index_cut_off(loaded):
    home, _ = loaded
    app = App.from_env({"AIP_HOME": str(home), "AIP_PROGRAM": "lausd"})
    chosen = select_schools(uow=app.uow, config=app.config, fiscal_year=2027)
    app.close()
    assert chosen.grades == ("K", "9") and chosen.data_year == 2026
    assert 0 < len(chosen.schools) <= chosen.considered // 2  # the lower half, index < 800
    rates = [s.rate for s in chosen.schools]
    assert rates == sorted(rates)
    assert all(s.academic_index is not None and s.academic_index < 800 for s in chosen.schools)
    assert [s.rank for s in chosen.schools] == list(range(1, len(chosen.schools) + 1))
    staffing = LAUSD.staffing
    assert staffing is not None
    for s in chosen.schools:
        assert s.support_days == staffing.days_for(s.enrolled)
        assert s.reason.startswith(f"rank {s.rank}: {s.rate:.1%} in the targeted grades")


def test_aip_data_select_prints_and_writes_the_ranked_list(loaded, tmp_path):
    home, _ = loaded
    out = tmp_path / "selected.csv"
    env = {"AIP_HOME": str(home), "AIP_PROGRAM": "lausd"}
    result = CliRunner(env=env).invoke(aip, ["data", "select", "--fy", "2027", "--csv", str(out)])
    assert result.exit_code == 0, result.output
    assert "share of students attending 96% or more in K, 9" in " ".join(result.output.split())
    rows = list(csv.DictReader(out.read_text().splitlines()))
    assert rows and rows[0]["rank"] == "1"
    assert set(rows[0]) >= {"index", "reason", "counselor days per week"}


def test_select_refuses_a_year_without_data_and_an_unknown_lea(loaded):
    home, _ = loaded
    env = {"AIP_HOME": str(home), "AIP_PROGRAM": "lausd"}
    runner = CliRunner(env=env)
    no_year = runner.invoke(aip, ["data", "select", "--fy", "2031"])
    assert no_year.exit_code == 2
    assert "no end-of-year rates for FY2030" in no_year.output
    no_lea = runner.invoke(aip, ["data", "select", "--fy", "2027", "--lea", "NOPE"])
    assert no_lea.exit_code == 2 and "no LEA with code 'NOPE'" in no_lea.output
