"""Period data (issue 12): a reporting period's rates, aggregated or from a period student
extract, loaded all or nothing after the year's data, once per period unless replaced; on
SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from aip_forms.config import ProgramConfig
from aip_forms.data.load import load_paths
from aip_forms.data.readers import kind_of
from aip_forms.data.sample import write_period_sample
from aip_forms.db.models import AbsenceRow, PeriodLoadRow

CONFIG = ProgramConfig()

YEAR = {
    "leas.csv": "lea_code,lea_name,lea_type\n006,BELEN CONSOLIDATED,district\n",
    "schools.csv": "lea_code,school_code,school_name,grade_low,grade_high\n"
    "006,006001,BELEN HIGH,9,12\n",
    "enrollment.csv": "fiscal_year,lea_code,school_code,group_type,group_code,enrollment\n"
    "2027,006,006001,subgroup,all,400\n2027,006,,subgroup,all,400\n",
}
RATES = (
    "fiscal_year,period,lea_code,school_code,group_type,group_code,students,chronically_absent,"
    "rate_pct\n"
    "2027,80,006,006001,subgroup,all,400,60,15.0\n"
    "2027,80,006,,subgroup,all,400,60,15.0\n"
    "2027,80,006,006001,grade,9,100,20,20.0\n"
)
STUDENT_HEADER = (
    "fiscal_year,period,student_id,lea_code,school_code,grade,sex,race_ethnicity,econ_disadv,"
    "english_learner,disability,homeless,foster_care,military,migrant,days_enrolled,days_absent\n"
)


def files(folder: Path, contents: dict[str, str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in contents.items():
        (folder / name).write_text(text, encoding="utf-8")
        paths.append(folder / name)
    return paths


def rates(engine: Engine, period: str = "80") -> dict[tuple[str, str, str], float]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(AbsenceRow).where(AbsenceRow.fiscal_year == 2027, AbsenceRow.period == period)
        )
        return {(r.school_code, r.group_type, r.group_code): r.rate_pct for r in rows}


@pytest.fixture
def year_loaded(engine: Engine, tmp_path: Path) -> Engine:
    report = load_paths(engine, CONFIG, files(tmp_path / "year", YEAR))
    assert report.ok, report.problems
    return engine


def test_period_rates_load_after_the_year_and_record_the_period(
    year_loaded: Engine, tmp_path: Path
) -> None:
    report = load_paths(year_loaded, CONFIG, files(tmp_path / "p80", {"period_rates.csv": RATES}))
    assert report.ok, report.problems
    assert report.periods == [(2027, "80")]
    assert rates(year_loaded) == {
        ("006001", "subgroup", "all"): 15.0,
        ("", "subgroup", "all"): 15.0,
        ("006001", "grade", "9"): 20.0,
    }
    with year_loaded.connect() as conn:
        (loaded,) = conn.execute(select(PeriodLoadRow.__table__)).all()  # type: ignore[arg-type]
    assert (loaded.fiscal_year, loaded.period, loaded.rows, loaded.replacements) == (
        2027,
        "80",
        3,
        0,
    )


def test_period_before_the_year_is_refused_at_file_line_column(
    engine: Engine, tmp_path: Path
) -> None:
    year = {k: v for k, v in YEAR.items() if k != "enrollment.csv"}
    paths = files(tmp_path / "all", {**year, "period_rates.csv": RATES})
    report = load_paths(engine, CONFIG, paths)
    (problem,) = report.problems
    assert problem.code == "period_before_year"
    assert problem.location == f"{paths[-1]}:2:fiscal_year"
    assert "load FY2027's enrollment" in problem.message and "3 rows" in problem.message
    assert rates(engine) == {}


def test_an_unknown_school_is_refused_and_nothing_is_written(
    year_loaded: Engine, tmp_path: Path
) -> None:
    bad = RATES.replace("2027,80,006,006001,grade,9", "2027,80,006,999999,grade,9")
    (path,) = files(tmp_path / "p80", {"period_rates.csv": bad})
    report = load_paths(year_loaded, CONFIG, [path])
    assert [(p.code, p.location) for p in report.problems] == [
        ("unknown_school", f"{path}:4:school_code")
    ]
    assert rates(year_loaded) == {}
    with year_loaded.connect() as conn:
        assert conn.execute(select(PeriodLoadRow.__table__)).all() == []  # type: ignore[arg-type]


def test_a_period_loaded_twice_is_refused_unless_replaced(
    year_loaded: Engine, tmp_path: Path
) -> None:
    (path,) = files(tmp_path / "p80", {"period_rates.csv": RATES})
    assert load_paths(year_loaded, CONFIG, [path]).ok
    corrected = RATES.replace("400,60,15.0\n2027,80,006,,", "400,40,10.0\n2027,80,006,,")
    corrected = "\n".join(corrected.splitlines()[:3]) + "\n"  # the grade 9 row dropped
    (fixed,) = files(tmp_path / "fixed", {"period_rates.csv": corrected})

    again = load_paths(year_loaded, CONFIG, [fixed])
    (problem,) = again.problems
    assert problem.code == "period_loaded"
    assert problem.location == f"{fixed}:2:period"
    assert "--replace" in problem.message and "already loaded" in problem.message
    assert rates(year_loaded)[("006001", "subgroup", "all")] == 15.0

    replaced = load_paths(year_loaded, CONFIG, [fixed], replace=True)
    assert replaced.ok, replaced.problems
    # The whole period is replaced: the row the correction dropped is gone.
    assert rates(year_loaded) == {
        ("006001", "subgroup", "all"): 10.0,
        ("", "subgroup", "all"): 15.0,
    }
    with year_loaded.connect() as conn:
        (loaded,) = conn.execute(select(PeriodLoadRow.__table__)).all()  # type: ignore[arg-type]
    assert (loaded.rows, loaded.replacements, loaded.load_id) == (2, 1, replaced.load_id)


def test_a_period_student_extract_is_aggregated_into_the_period_rates(
    year_loaded: Engine, tmp_path: Path
) -> None:
    rows = [
        # 8 of 80 days absent is 10%: chronically absent; 7 of 80 is not.
        "2027,80,S1,006,006001,9,F,H,Y,N,N,N,N,N,N,80,8",
        "2027,80,S2,006,006001,9,M,W,N,N,N,N,N,N,N,80,7",
        "2027,80,S3,006,006001,10,F,H,N,N,N,N,N,N,N,40,0",
        "2027,80,S4,006,006001,10,M,I,N,N,N,N,N,N,N,80,40",
    ]
    text = STUDENT_HEADER + "\n".join(rows) + "\n"
    report = load_paths(year_loaded, CONFIG, files(tmp_path / "p80", {"period_students.csv": text}))
    assert report.ok, report.problems
    found = rates(year_loaded)
    assert found[("006001", "subgroup", "all")] == 50.0
    assert found[("", "subgroup", "all")] == 50.0
    assert found[("006001", "grade", "9")] == 50.0
    assert found[("006001", "subgroup", "female")] == 50.0
    assert found[("006001", "subgroup", "male")] == 50.0


def test_period_student_days_absent_over_enrolled_is_named(
    year_loaded: Engine, tmp_path: Path
) -> None:
    text = STUDENT_HEADER + "2027,80,S1,006,006001,9,F,H,Y,N,N,N,N,N,N,80,81\n"
    (path,) = files(tmp_path / "p80", {"period_students.csv": text})
    report = load_paths(year_loaded, CONFIG, [path])
    assert [(p.code, p.location) for p in report.problems] == [
        ("absent_over_enrolled", f"{path}:2:days_absent")
    ]


def test_period_files_are_known_by_name_not_by_a_similar_header() -> None:
    header = RATES.splitlines()[0].split(",")
    assert kind_of(Path("period_rates.csv"), header) == "period_rates"
    assert kind_of(Path("rates-80.csv"), header) != "period_rates"


def test_the_period_sample_is_synthetic_and_loads(year_loaded: Engine, tmp_path: Path) -> None:
    summary = write_period_sample(tmp_path / "p80", "80", students=True, scale=0.02)
    readme = summary.paths["SYNTHETIC_PERIOD_DATA_README.txt"].read_text()
    assert readme.startswith("SYNTHETIC DATA - NOT PED DATA")
    header = summary.paths["period_students.csv"].read_text().splitlines()[0]
    assert header == STUDENT_HEADER.strip()
    assert summary.rows["period_rates.csv"] > 1000
