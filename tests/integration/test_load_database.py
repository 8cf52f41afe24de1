"""Loading reference data into SQLite and PostgreSQL: contents, all-or-nothing, merges, CLI.

Most tests run once per database (the `engine` fixture). The sample is the synthetic statewide
data set (`aip_forms.data.sample`), shrunk for speed; the slow tests load it at full size.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select

from aip_forms.cli import cli
from aip_forms.config import ProgramConfig
from aip_forms.data import formats
from aip_forms.data.load import load_paths
from aip_forms.data.sample import write_sample
from aip_forms.db.models import AbsenceRow, DataLoadRow, EnrollmentRow, SchoolRow
from aip_forms.db.session import make_engine, upgrade
from tests.support import count_rows, snapshot, write_csv
from tests.support.postgres import PostgresServer

CONFIG = ProgramConfig()
FY = 2027


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small statewide sample with a student extract (every LEA and school, few students)."""
    out = tmp_path_factory.mktemp("sample")
    write_sample(out, students=True, fiscal_year=FY, seed=11, scale=0.03)
    return out


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_sample_loads_with_the_numbers_of_its_files(engine: Engine, sample_dir: Path) -> None:
    report = load_paths(engine, CONFIG, [sample_dir])
    assert report.problems == []
    assert [f.kind for f in report.files] == list(formats.LOAD_ORDER)
    files = {kind: read(sample_dir / f"{kind}.csv") for kind in formats.LOAD_ORDER}
    assert count_rows(engine, "lea") == len(files["leas"])
    assert count_rows(engine, "school") == len(files["schools"])
    assert report.written["lea"] == len(files["leas"])

    with engine.connect() as conn:
        stored = pd.DataFrame(conn.execute(select(AbsenceRow)).mappings().all())
        enrollment = pd.DataFrame(conn.execute(select(EnrollmentRow)).mappings().all())
        load = conn.execute(select(DataLoadRow.id, DataLoadRow.source)).one()
    assert load.id == report.load_id and str(sample_dir) in load.source

    # The extract's year: every reporting period, from the students.
    extract_year = int(files["students"]["fiscal_year"].iloc[0])
    periods = stored[stored.fiscal_year == extract_year].period.unique()
    assert sorted(periods) == ["120", "40", "80", "EOY"]
    assert (enrollment.fiscal_year == extract_year).any()

    # chronic_absence.csv: every row stored as written (the extract gives its EOY rows again).
    expected = files["chronic_absence"]
    key = list(formats.CHRONIC_ABSENCE.key)
    merged = expected.merge(stored.astype(str), on=key, suffixes=("", "_db"), how="left")
    assert len(merged) == len(expected)
    for column in ("students", "chronically_absent", "tier1", "tier4"):
        assert (merged[column] == merged[f"{column}_db"]).all(), column
    assert (merged["rate_pct"].astype(float) == merged["rate_pct_db"].astype(float)).all()

    current = enrollment[enrollment.fiscal_year == FY]
    assert len(current) == len(files["enrollment"])
    lea_all = files["enrollment"].query("school_code == '' and group_code == 'all'").iloc[0]
    row = current[(current.lea_code == lea_all.lea_code) & (current.school_code == "")]
    assert int(row[row.group_code == "all"].enrollment.iloc[0]) == int(lea_all.enrollment)


@pytest.mark.postgres
def test_same_contents_on_sqlite_and_postgresql(
    postgres: PostgresServer, sample_dir: Path, tmp_path: Path
) -> None:
    contents = []
    for url in (f"sqlite:///{tmp_path / 'aip.db'}", postgres.url(postgres.create_database())):
        engine = make_engine(url)
        assert load_paths(engine, CONFIG, [sample_dir]).ok
        contents.append(snapshot(engine))
        engine.dispose()
    assert {k: len(v) for k, v in contents[0].items()} == {
        k: len(v) for k, v in contents[1].items()
    }
    assert contents[0] == contents[1]


def test_a_bad_file_among_good_ones_changes_nothing(
    engine: Engine, sample_dir: Path, tmp_path: Path
) -> None:
    first = load_paths(engine, CONFIG, [sample_dir / "leas.csv", sample_dir / "schools.csv"])
    assert first.ok
    before = snapshot(engine, ("lea", "school", "enrollment", "absence", "data_load"))

    bad_dir = tmp_path / "bad"
    shutil.copytree(sample_dir, bad_dir)
    enrollment = read(bad_dir / "enrollment.csv")
    enrollment.loc[5, "enrollment"] = "12.5"
    enrollment.loc[9, "lea_code"] = "999"
    enrollment.to_csv(bad_dir / "enrollment.csv", index=False)
    leas = read(bad_dir / "leas.csv")
    leas.loc[0, "lea_name"] = "RENAMED IN THIS LOAD"
    leas.to_csv(bad_dir / "leas.csv", index=False)

    report = load_paths(engine, CONFIG, [bad_dir])
    assert [(Path(p.file).name, p.line, p.column) for p in report.problems] == [
        ("enrollment.csv", 7, "enrollment"),
        ("enrollment.csv", 11, "lea_code"),
    ]
    assert snapshot(engine, ("lea", "school", "enrollment", "absence", "data_load")) == before


def test_reloading_the_same_files_is_idempotent(engine: Engine, sample_dir: Path) -> None:
    assert load_paths(engine, CONFIG, [sample_dir]).ok
    once = snapshot(engine)
    again = load_paths(engine, CONFIG, [sample_dir])
    assert again.ok
    assert snapshot(engine) == once
    assert count_rows(engine, "data_load") == 2


def test_a_load_replaces_rows_with_the_same_key_and_keeps_the_others(
    engine: Engine, tmp_path: Path
) -> None:
    write_csv(
        tmp_path / "leas.csv", [["lea_code", "lea_name", "lea_type"], ["001", "A", "district"]]
    )
    header = list(formats.ENROLLMENT.column_names)
    write_csv(
        tmp_path / "enrollment.csv",
        [
            header,
            ["2026", "001", "", "subgroup", "all", "100"],
            ["2026", "001", "", "grade", "K", "9"],
        ],
    )
    assert load_paths(engine, CONFIG, [tmp_path]).ok
    update = tmp_path / "update"
    update.mkdir()
    write_csv(
        update / "leas.csv", [["lea_code", "lea_name", "lea_type"], ["001", "A2", "state_charter"]]
    )
    write_csv(
        update / "enrollment.csv",
        [
            header,
            ["FY26", "001", "", "subgroup", "ALL", "120"],
            ["2027", "001", "", "grade", "k", "8"],
        ],
    )
    report = load_paths(engine, CONFIG, [update])
    assert report.written == {"lea": 1, "enrollment": 2}
    contents = snapshot(engine)
    assert contents["lea"] == [("001", "A2", "state_charter")]
    assert contents["enrollment"] == [
        (2026, "001", "", "grade", "K", 9),
        (2026, "001", "", "subgroup", "all", 120),
        (2027, "001", "", "grade", "K", 8),
    ]


def test_a_student_extract_is_aggregated_and_replaces_rows_of_the_same_key(
    engine: Engine, tmp_path: Path
) -> None:
    write_csv(
        tmp_path / "leas.csv", [["lea_code", "lea_name", "lea_type"], ["001", "A", "district"]]
    )
    write_csv(
        tmp_path / "schools.csv",
        [formats.SCHOOLS.column_names, ["001", "001001", "Alpha", "K", "5"]],
    )
    absence_header = formats.CHRONIC_ABSENCE.column_names[:9]
    write_csv(
        tmp_path / "chronic_absence.csv",
        [absence_header, ["2027", "40", "001", "001001", "subgroup", "all", "", "", "99"]],
    )
    flags = ["N"] * 7
    write_csv(
        tmp_path / "students.csv",
        [
            formats.STUDENTS.column_names,
            ["2027", "S1", "001", "001001", "K", "F", "H", *flags, "40", "4", *[""] * 6],
            ["2027", "S2", "001", "001001", "1", "M", "W", *flags, "40", "3", *[""] * 6],
        ],
    )
    assert load_paths(engine, CONFIG, [tmp_path]).ok
    with engine.connect() as conn:
        rows = conn.execute(
            select(AbsenceRow.school_code, AbsenceRow.students, AbsenceRow.chronically_absent)
            .add_columns(AbsenceRow.rate_pct, AbsenceRow.tier2, AbsenceRow.tier3)
            .where(AbsenceRow.group_code == "all")
            .order_by(AbsenceRow.school_code)
        ).all()
        kindergarten = conn.execute(
            select(EnrollmentRow.enrollment).where(
                EnrollmentRow.school_code == "001001", EnrollmentRow.group_code == "K"
            )
        ).scalar_one()
    # 4/40 = 10% is chronically absent (tier 3); 3/40 = 7.5% is not (tier 2).
    assert [tuple(r) for r in rows] == [("", 2, 1, 50.0, 1, 1), ("001001", 2, 1, 50.0, 1, 1)]
    assert kindergarten == 1


# --- the command line ---------------------------------------------------------------------


@pytest.fixture
def cli_env(aip_home: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AIP_DATABASE_URL", database_url)
    return database_url


def test_cli_load_exit_codes(cli_env: str, sample_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    good = runner.invoke(cli, ["data", "load", str(sample_dir)])
    assert good.exit_code == 0, good.output
    assert "Rows written: lea 149, school 835" in good.stdout

    engine = make_engine(cli_env)
    before = snapshot(engine)
    bad = tmp_path / "enrollment.csv"
    write_csv(bad, [formats.ENROLLMENT.column_names, ["2027", "001", "", "subgroup", "all", "x"]])
    (tmp_path / "schools.xlsx").write_text("not a workbook")
    result = runner.invoke(
        cli,
        ["data", "load", str(bad), str(tmp_path / "missing.csv"), str(tmp_path / "schools.xlsx")],
    )
    assert result.exit_code == 2
    assert f'{bad}:2:enrollment  not a whole number: "x"' in result.stderr
    assert f"{tmp_path / 'missing.csv'}  no such file or directory" in result.stderr
    assert f"{tmp_path / 'schools.xlsx'}  cannot read it as an Excel workbook" in result.stderr
    assert "3 problems; nothing was loaded." in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(engine) == before
    engine.dispose()


def test_cli_load_in_a_real_process_prints_no_traceback(aip_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "leas.csv"
    path.write_bytes("lea_code,lea_name,lea_type\n045,ESPAÑOLA,district\n".encode("latin-1"))
    env = os.environ | {"AIP_HOME": str(aip_home), "AIP_SECRET_KEY": "k"}
    result = subprocess.run(
        [sys.executable, "-c", "from aip_forms.cli import main; main()", "data", "load", str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert result.returncode == 2
    assert f"{path}:2  not UTF-8 text" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    engine = make_engine(f"sqlite:///{aip_home / 'aip.db'}")
    upgrade(engine)
    assert count_rows(engine, "lea") == 0
    engine.dispose()


def test_cli_formats_lists_every_column() -> None:
    result = CliRunner().invoke(cli, ["data", "formats"], terminal_width=200)
    assert result.exit_code == 0
    for fmt in formats.FORMATS:
        assert fmt.filename in result.output
        for column in fmt.columns:
            assert column.name in result.output


# --- full size ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def full_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("full-sample")
    result = CliRunner().invoke(cli, ["data", "sample", "--out", str(out), "--students"])
    assert result.exit_code == 0, result.output
    assert f"Next: aip data load {out}" in result.output
    return out


@pytest.mark.slow
@pytest.mark.xdist_group("full_sample")
def test_full_sample_loads(engine: Engine, full_sample: Path) -> None:
    report = load_paths(engine, CONFIG, [full_sample])
    assert report.ok
    assert report.files[-1].rows > 300_000  # the student extract
    assert report.written["school"] == 835 and report.written["absence"] > 100_000


# ---- the schools file's optional academic index (program profiles, issue 14) -------------


def test_an_academic_index_is_loaded_with_the_schools_and_a_bad_one_named(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'aip.db'}")
    upgrade(engine)
    leas = tmp_path / "leas.csv"
    leas.write_text("lea_code,lea_name,lea_type\n001,ALPHA,district\n")
    schools = tmp_path / "schools.csv"
    schools.write_text(
        "lea_code,school_code,school_name,grade_low,grade_high,academic_index\n"
        "001,001001,Alpha Elementary,K,5,742.5\n"
        "001,001002,Alpha High,9,12,\n"
    )
    assert load_paths(engine, CONFIG, [leas, schools]).ok
    with engine.connect() as conn:
        got = {c: i for c, i in conn.execute(select(SchoolRow.code, SchoolRow.academic_index))}
    assert got == {"001001": 742.5, "001002": None}

    schools.write_text(
        "lea_code,school_code,school_name,grade_low,grade_high,academic_index\n"
        "001,001001,Alpha Elementary,K,5,-3\n"
        "001,001002,Alpha High,9,12,high\n"
    )
    report = load_paths(engine, CONFIG, [schools])
    assert [(Path(p.file).name, p.line, p.column, p.message) for p in report.problems] == [
        ("schools.csv", 2, "academic_index", 'negative number: "-3"'),
        ("schools.csv", 3, "academic_index", 'not a number: "high"'),
    ]
    with engine.connect() as conn:  # nothing changed
        got = {c: i for c, i in conn.execute(select(SchoolRow.code, SchoolRow.academic_index))}
    assert got == {"001001": 742.5, "001002": None}
