"""The synthetic statewide sample: determinism, the LEA directory, agreement with the extract."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from aip_forms.config import ProgramConfig
from aip_forms.data import formats, nm_leas
from aip_forms.data.aggregate import aggregate_students, read_students_csv
from aip_forms.data.sample import README_NAME, SampleSummary, write_sample

SMALL = 0.05
FY = 2027


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SampleSummary]:
    out = tmp_path_factory.mktemp("sample")
    return out, write_sample(out, students=True, fiscal_year=FY, scale=SMALL)


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def absence(path: Path) -> pd.DataFrame:
    frame = read(path / formats.CHRONIC_ABSENCE.filename)
    numbers = ["fiscal_year", "students", "chronically_absent", "tier1", "tier2", "tier3", "tier4"]
    return frame.astype({c: "int64" for c in numbers} | {"rate_pct": "float64"})


def test_same_seed_gives_byte_identical_files(small, tmp_path):
    first, _ = small
    write_sample(tmp_path, students=True, fiscal_year=FY, scale=SMALL)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 6
    for name in names:
        assert (first / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_another_seed_gives_other_numbers_but_the_same_directory(small, tmp_path):
    first, _ = small
    write_sample(tmp_path, fiscal_year=FY, scale=SMALL, seed=1)
    other = formats.CHRONIC_ABSENCE.filename
    assert (first / other).read_bytes() != (tmp_path / other).read_bytes()
    leas = formats.LEAS.filename
    assert (first / leas).read_bytes() == (tmp_path / leas).read_bytes()


def test_the_student_file_is_optional_and_changes_nothing_else(small, tmp_path):
    first, _ = small
    summary = write_sample(tmp_path, fiscal_year=FY, scale=SMALL)
    assert not (tmp_path / formats.STUDENTS.filename).exists()
    assert formats.STUDENTS.filename not in summary.paths
    for name in (formats.ENROLLMENT.filename, formats.CHRONIC_ABSENCE.filename):
        assert (first / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_every_district_under_its_public_name_with_synthetic_codes(small):
    out, summary = small
    leas = read(out / formats.LEAS.filename)
    assert tuple(leas.columns) == formats.LEAS.column_names
    districts = leas[leas["lea_type"] == "district"]
    assert len(districts) == 89
    assert list(districts["lea_code"]) == [f"{i:03d}" for i in range(1, 90)]
    assert list(districts["lea_name"]) == sorted(districts["lea_name"])
    for name in (
        "ALBUQUERQUE PUBLIC SCHOOLS",
        "BELEN CONSOLIDATED SCHOOLS",
        "GADSDEN INDEPENDENT SCHOOLS",
        "LAS CRUCES PUBLIC SCHOOLS",
        "GALLUP-MCKINLEY COUNTY SCHOOLS",
        "MORIARTY-EDGEWOOD SCHOOL DISTRICT",
        "ZUNI PUBLIC SCHOOLS",
    ):
        assert name in set(districts["lea_name"])
    charters = leas[leas["lea_type"] == "state_charter"]
    assert 50 <= len(charters) <= 70
    assert all(re.fullmatch(r"5\d\d", c) for c in charters["lea_code"])
    assert leas["lea_code"].is_unique and leas["lea_name"].is_unique
    assert summary.leas == len(leas)


def test_schools_have_unique_codes_inside_their_lea_and_valid_spans(small):
    out, summary = small
    schools = read(out / formats.SCHOOLS.filename)
    optional = formats.SCHOOLS.optional_columns  # New Mexico's sample has no academic index
    assert tuple(schools.columns) == tuple(
        c for c in formats.SCHOOLS.column_names if c not in optional
    )
    assert schools["school_code"].is_unique
    assert all(re.fullmatch(r"\d{6}", c) for c in schools["school_code"])
    assert (schools["school_code"].str[:3] == schools["lea_code"]).all()
    order = {g: i for i, g in enumerate(nm_leas.GRADE_CODES)}
    assert (schools["grade_low"].map(order) <= schools["grade_high"].map(order)).all()
    leas = read(out / formats.LEAS.filename)
    assert set(schools["lea_code"]) == set(leas["lea_code"])  # every LEA has a school
    per_lea = schools.groupby("lea_code").size()
    charters = leas.loc[leas["lea_type"] == "state_charter", "lea_code"]
    assert (per_lea[charters] == 1).all()  # a state charter is one school
    assert "Belen High School" in set(schools["school_name"])
    assert summary.schools == len(schools)


def test_the_extract_aggregates_to_exactly_the_prior_year_rows(small):
    out, summary = small
    students = read_students_csv(out / formats.STUDENTS.filename)
    assert set(students["fiscal_year"]) == {FY - 1}
    assert summary.students == students["student_id"].nunique()
    assert summary.rows[formats.STUDENTS.filename] == len(students)
    # Movers give some students two rows, so LEA totals are not sums of school totals.
    assert students.duplicated(["lea_code", "student_id"]).sum() > 0

    ours = aggregate_students(students, ProgramConfig()).absence
    ours = ours[ours["period"] == "EOY"]
    lines = (out / formats.CHRONIC_ABSENCE.filename).read_text().splitlines()
    written = [line for line in lines[1:] if line.startswith(f"{FY - 1},EOY,")]
    assert len(written) > 1000
    assert ours.to_csv(index=False, lineterminator="\n").splitlines() == [lines[0], *written]


def test_years_and_periods_of_each_file(small):
    out, _ = small
    rows = absence(out)
    assert sorted(set(zip(rows["fiscal_year"], rows["period"], strict=True))) == [
        (FY - 3, "EOY"),
        (FY - 2, "EOY"),
        (FY - 1, "EOY"),
        (FY, "40"),
    ]
    enrollment = read(out / formats.ENROLLMENT.filename)
    assert tuple(enrollment.columns) == formats.ENROLLMENT.column_names
    assert set(enrollment["fiscal_year"]) == {str(FY)}
    # Current-year enrollment is the 40th-day count of students.
    current = rows[rows["fiscal_year"] == FY].astype({"fiscal_year": str})
    merged = enrollment.merge(current, on=["lea_code", "school_code", "group_type", "group_code"])
    assert len(merged) == len(enrollment) == len(current)
    assert (merged["enrollment"].astype(int) == merged["students"]).all()


def test_rates_and_counts_are_consistent(small):
    out, _ = small
    rows = absence(out)
    assert rows["rate_pct"].between(0, 100).all()
    assert (rows["students"] > 0).all()
    assert (rows["chronically_absent"] <= rows["students"]).all()
    expected = (rows["chronically_absent"] * 1000 / rows["students"] + 0.5) // 1 / 10
    assert (rows["rate_pct"] == expected).all()
    tiers = rows[["tier1", "tier2", "tier3", "tier4"]].sum(axis=1)
    assert (tiers == rows["students"]).all()
    assert (rows["chronically_absent"] == rows["tier3"] + rows["tier4"]).all()
    assert not rows.duplicated(list(formats.CHRONIC_ABSENCE.key)).any()


def test_the_synthetic_notice_is_written(small):
    out, summary = small
    text = (out / README_NAME).read_text()
    assert "SYNTHETIC" in text
    assert "not PED data".lower() in text.lower()
    assert "district" in text
    assert summary.paths[README_NAME] == out / README_NAME
    assert set(summary.rows) == {p.name for p in out.iterdir()} - {README_NAME}


def test_full_size_statewide_data_looks_like_new_mexico(tmp_path):
    summary = write_sample(tmp_path, fiscal_year=FY)
    assert 800 <= summary.schools <= 900
    assert 295_000 <= summary.students <= 325_000
    rows = absence(tmp_path)
    prior = rows[(rows["fiscal_year"] == FY - 1) & (rows["group_type"] == "subgroup")]
    lea = (
        prior[prior["school_code"] == ""]
        .groupby("group_code")[["students", "chronically_absent"]]
        .sum()
    )
    rate = lea["chronically_absent"] / lea["students"] * 100
    assert 30 <= rate["all"] <= 38
    for group in ("ecodis", "homeless", "foster"):
        assert rate[group] > rate["all"] + 3, group

    schools = prior[(prior["school_code"] != "") & (prior["group_code"] == "all")]
    low, high = schools["rate_pct"].quantile([0.05, 0.95])
    assert low < 12 and high > 55
    spans = read(tmp_path / formats.SCHOOLS.filename)
    level = schools.merge(spans, on=["lea_code", "school_code"])
    by_level = level.groupby(level["grade_high"] == "12")[["chronically_absent", "students"]].sum()
    assert (by_level["chronically_absent"] / by_level["students"])[True] > (
        by_level["chronically_absent"] / by_level["students"]
    )[False]
    tiny = prior[(prior["school_code"] != "") & prior["group_code"].isin(["asian", "pacisl"])]
    assert (tiny["students"] < 5).sum() > 50

    by_year = rows[(rows["school_code"] == "") & (rows["group_code"] == "all")]
    state = by_year.groupby("fiscal_year")[["chronically_absent", "students"]].sum()
    yearly = state["chronically_absent"] / state["students"]
    assert yearly[FY - 3] > yearly[FY - 1]  # drift: the post-2020 peak eases
    apd = rows[
        (rows["lea_code"] == "002") & (rows["school_code"] == "") & (rows["group_code"] == "all")
    ]
    assert 60_000 <= apd["students"].iloc[-1] <= 80_000  # Albuquerque, 40th day
