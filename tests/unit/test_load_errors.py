"""Bad input is reported row by row, with file, line and column, and nothing is written.

Each test loads files with mistakes into a SQLite database that already holds reference data,
checks every problem is named, and that the database is exactly as before.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from aip_forms.config import ProgramConfig
from aip_forms.data import formats
from aip_forms.data.load import LoadReport, load_paths
from aip_forms.data.load_problems import Problem
from aip_forms.db.session import make_engine
from tests.support import snapshot, write_csv, write_xlsx

CONFIG = ProgramConfig()
LEAS = [["lea_code", "lea_name", "lea_type"], ["001", "ALAMOGORDO", "district"]]
LEAS.append(["002", "BELEN CONSOLIDATED", "district"])
SCHOOLS = [
    list(formats.SCHOOLS.column_names),
    ["001", "001001", "Alpha Elementary", "PK", "5"],
    ["001", "001002", "Beta Middle", "6", "8"],
    ["002", "002001", "Belen High", "9", "12"],
]
ENROLLMENT = [list(formats.ENROLLMENT.column_names), ["2026", "001", "", "subgroup", "all", "900"]]
ABSENCE_HEADER = list(formats.CHRONIC_ABSENCE.column_names[:9])  # without tier counts
STUDENT_HEADER = list(formats.STUDENTS.column_names)


def student(
    sid: str, school: str = "001001", lea: str = "001", days: tuple[str, ...] = ("40", "2")
) -> list[str]:
    flags = ["N"] * 7
    periods = [*days, *[""] * (8 - len(days))]
    return ["2027", sid, lea, school, "K", "F", "H", *flags, *periods]


@pytest.fixture
def db(tmp_path: Path) -> Engine:
    """A SQLite database holding two LEAs, three schools and one enrollment row."""
    engine = make_engine(f"sqlite:///{tmp_path / 'aip.db'}")
    base = tmp_path / "base"
    base.mkdir()
    write_csv(base / "leas.csv", LEAS)
    write_csv(base / "schools.csv", SCHOOLS)
    write_csv(base / "enrollment.csv", ENROLLMENT)
    assert load_paths(engine, CONFIG, [base]).ok
    return engine


def rejected(engine: Engine, *paths: Path) -> list[Problem]:
    """Load the paths, expect problems and an unchanged database; return the problems."""
    before = snapshot(engine, (*snapshot_tables, "data_load"))
    report: LoadReport = load_paths(engine, CONFIG, list(paths))
    assert not report.ok
    assert report.written == {} and report.load_id is None
    assert snapshot(engine, (*snapshot_tables, "data_load")) == before
    return report.problems


snapshot_tables = ("lea", "school", "enrollment", "absence")


def where(problems: list[Problem]) -> list[tuple[str, int | None, str | None, str]]:
    return [(Path(p.file).name, p.line, p.column, p.code) for p in problems]


def test_the_fixture_database_is_not_empty(db: Engine) -> None:
    contents = snapshot(db)
    assert len(contents["lea"]) == 2 and len(contents["school"]) == 3
    assert contents["enrollment"] == [(2026, "001", "", "subgroup", "all", 900)]


def test_missing_column(db: Engine, tmp_path: Path) -> None:
    header = [c for c in formats.ENROLLMENT.column_names if c not in ("group_type", "enrollment")]
    path = write_csv(tmp_path / "enrollment.csv", [header, ["2027", "001", "", "all"]])
    problems = rejected(db, path)
    assert where(problems) == [
        ("enrollment.csv", 1, "group_type", "missing_column"),
        ("enrollment.csv", 1, "enrollment", "missing_column"),
    ]
    assert str(problems[0]).endswith('enrollment.csv:1:group_type  missing column "group_type"')


def test_misspelled_column_gets_a_suggestion(db: Engine, tmp_path: Path) -> None:
    header = ["fiscal_year", "lea_code", "schol_code", "group_type", "group_code", "Enrolment"]
    path = write_csv(
        tmp_path / "enrollment.csv", [header, ["2027", "001", "", "subgroup", "all", "5"]]
    )
    problems = rejected(db, path)
    messages = {p.column: p.message for p in problems}
    assert messages["schol_code"] == 'unknown column "schol_code" (did you mean "school_code"?)'
    assert messages["Enrolment"] == 'unknown column "Enrolment" (did you mean "enrollment"?)'
    assert {p.code for p in problems} == {"unknown_column", "missing_column"}
    assert all(p.line == 1 for p in problems)


def test_wrong_type_in_several_rows(db: Engine, tmp_path: Path) -> None:
    rows = [
        list(formats.ENROLLMENT.column_names),
        ["2027", "001", "", "subgroup", "all", "12.5"],
        ["2027", "001", "", "subgroup", "female", "6"],
        ["2027", "001", "", "subgroup", "male", "six"],
        ["FY2o27", "001", "", "subgroup", "hispanic", "3"],
    ]
    problems = rejected(db, write_csv(tmp_path / "enrollment.csv", rows))
    assert where(problems) == [
        ("enrollment.csv", 2, "enrollment", "not_integer"),
        ("enrollment.csv", 4, "enrollment", "not_integer"),
        ("enrollment.csv", 5, "fiscal_year", "fiscal_year"),
    ]
    assert str(problems[0]).endswith('enrollment.csv:2:enrollment  not a whole number: "12.5"')


def test_unknown_lea_code(db: Engine, tmp_path: Path) -> None:
    rows = [
        ENROLLMENT[0],
        ["2027", "099", "", "subgroup", "all", "5"],
        ["2027", "001", "", "subgroup", "all", "5"],
        ["2027", "098", "", "grade", "K", "5"],
    ]
    schools = [SCHOOLS[0], ["097", "097001", "Nowhere", "K", "5"]]
    problems = rejected(
        db,
        write_csv(tmp_path / "schools.csv", schools),
        write_csv(tmp_path / "enrollment.csv", rows),
    )
    assert where(problems) == [
        ("schools.csv", 2, "lea_code", "unknown_lea"),
        ("enrollment.csv", 2, "lea_code", "unknown_lea"),
        ("enrollment.csv", 4, "lea_code", "unknown_lea"),
    ]
    assert [p.value for p in problems] == ["097", "099", "098"]


def test_codes_from_files_of_the_same_load_are_known(db: Engine, tmp_path: Path) -> None:
    leas = [LEAS[0], ["003", "NEW LEA", "state_charter"]]
    schools = [SCHOOLS[0], ["003", "003001", "New Charter", "6", "12"]]
    enrollment = [ENROLLMENT[0], ["2027", "003", "003001", "grade", "6", "40"]]
    report = load_paths(
        db,
        CONFIG,
        [
            write_csv(tmp_path / "enrollment.csv", enrollment),
            write_csv(tmp_path / "schools.csv", schools),
            write_csv(tmp_path / "leas.csv", leas),
        ],
    )
    assert report.problems == []
    assert report.written == {"lea": 1, "school": 1, "enrollment": 1}


def test_unknown_school_code_and_school_of_another_lea(db: Engine, tmp_path: Path) -> None:
    rows = [
        ABSENCE_HEADER,
        ["2026", "EOY", "001", "001999", "subgroup", "all", "", "", "10"],
        ["2026", "EOY", "001", "002001", "subgroup", "all", "", "", "10"],
        ["2026", "EOY", "001", "001001", "subgroup", "all", "", "", "10"],
        ["2026", "EOY", "001", "XYZ", "subgroup", "all", "", "", "10"],
    ]
    problems = rejected(db, write_csv(tmp_path / "chronic_absence.csv", rows))
    assert where(problems) == [
        ("chronic_absence.csv", 2, "school_code", "unknown_school"),
        ("chronic_absence.csv", 3, "school_code", "school_in_other_lea"),
        ("chronic_absence.csv", 5, "school_code", "unknown_school"),
    ]
    assert problems[1].message == 'school "002001" belongs to LEA "002", not "001"'


def test_duplicate_rows_name_both_lines(db: Engine, tmp_path: Path) -> None:
    rows = [
        ENROLLMENT[0],
        ["2027", "001", "001001", "grade", "1", "5"],
        ["2027", "001", "001001", "grade", "2", "5"],
        ["2027", "001", "001001", "grade", "01", "6"],
        ["FY2027", "001", "001001", "grade", "2", "7"],
    ]
    problems = rejected(db, write_csv(tmp_path / "enrollment.csv", rows))
    assert where(problems) == [
        ("enrollment.csv", 4, None, "duplicate_key"),
        ("enrollment.csv", 5, None, "duplicate_key"),
    ]
    assert problems[0].message.endswith("as line 2")
    assert problems[1].message.endswith("as line 3")


def test_duplicate_across_two_files_of_the_same_kind(db: Engine, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = write_csv(tmp_path / "a" / "schools.csv", [SCHOOLS[0], SCHOOLS[1]])
    second = write_xlsx(tmp_path / "b" / "schools.xlsx", [SCHOOLS[0], SCHOOLS[2], SCHOOLS[1]])
    problems = rejected(db, tmp_path / "a", tmp_path / "b")
    assert where(problems) == [("schools.xlsx", 3, "school_code", "duplicate_key")]
    assert problems[0].message.endswith(f"as {first} line 2")
    assert problems[0].file == str(second)


def test_rate_outside_0_to_100(db: Engine, tmp_path: Path) -> None:
    rows = [
        ABSENCE_HEADER,
        ["2026", "EOY", "001", "", "subgroup", "all", "", "", "100.5"],
        ["2026", "EOY", "001", "", "subgroup", "male", "", "", "100"],
        ["2026", "EOY", "001", "", "subgroup", "female", "", "", "-1"],
        ["2026", "EOY", "001", "", "subgroup", "white", "", "", "250"],
    ]
    problems = rejected(db, write_csv(tmp_path / "chronic_absence.csv", rows))
    assert where(problems) == [
        ("chronic_absence.csv", 2, "rate_pct", "rate_range"),
        ("chronic_absence.csv", 4, "rate_pct", "rate_range"),
        ("chronic_absence.csv", 5, "rate_pct", "rate_range"),
    ]
    assert problems[0].message == 'rate outside 0..100: "100.5"'


def test_counts_must_agree_with_the_rate(db: Engine, tmp_path: Path) -> None:
    rows = [
        ABSENCE_HEADER,
        ["2026", "EOY", "001", "", "subgroup", "all", "300", "30", "10.0"],
        ["2026", "EOY", "001", "", "subgroup", "male", "300", "30", "10.1"],
        ["2026", "EOY", "001", "", "subgroup", "female", "300", "30", "12"],
        ["2026", "EOY", "001", "", "subgroup", "white", "30", "31", "100"],
        ["2026", "EOY", "001", "", "subgroup", "black", "0", "0", "0"],
        ["2026", "EOY", "001", "", "subgroup", "asian", "", "5", "3"],
    ]
    problems = rejected(db, write_csv(tmp_path / "chronic_absence.csv", rows))
    assert where(problems) == [
        ("chronic_absence.csv", 4, "rate_pct", "rate_mismatch"),
        ("chronic_absence.csv", 5, "chronically_absent", "absent_over_students"),
    ]
    assert "30/300 = 10.0%" in problems[0].message


def test_unknown_group_codes_and_periods(db: Engine, tmp_path: Path) -> None:
    rows = [
        ABSENCE_HEADER,
        ["2026", "EOY", "001", "", "subgroup", "Hispanic", "", "", "10"],
        ["2026", "EOY", "001", "", "grade", "13", "", "", "10"],
        ["2026", "EOY", "001", "", "subgroup", "K", "", "", "10"],
        ["2026", "100", "001", "", "grade", "K", "", "", "10"],
    ]
    problems = rejected(db, write_csv(tmp_path / "chronic_absence.csv", rows))
    assert where(problems) == [
        ("chronic_absence.csv", 3, "group_code", "group_code"),
        ("chronic_absence.csv", 4, "group_code", "group_code"),
        ("chronic_absence.csv", 5, "period", "period"),
    ]
    assert problems[0].message.startswith('unknown grade code: "13" (expected PK, K, 1, 2')


def test_grade_low_after_grade_high(db: Engine, tmp_path: Path) -> None:
    rows = [SCHOOLS[0], ["001", "001003", "C", "9", "K"], ["001", "001004", "D", "K", "K"]]
    problems = rejected(db, write_csv(tmp_path / "schools.csv", rows))
    assert where(problems) == [("schools.csv", 2, "grade_low", "grade_order")]
    assert problems[0].message == 'grade_low "9" is after grade_high "K"'


def test_more_days_absent_than_enrolled(db: Engine, tmp_path: Path) -> None:
    rows = [
        STUDENT_HEADER,
        student("S1", days=("40", "41")),
        student("S2", days=("40", "40", "80", "79")),
        student("S3", days=("40", "3", "80", "81")),
        student("S4", days=("", "3")),
    ]
    problems = rejected(db, write_csv(tmp_path / "students.csv", rows))
    assert where(problems) == [
        ("students.csv", 2, "days_absent_40", "absent_over_enrolled"),
        ("students.csv", 4, "days_absent_80", "absent_over_enrolled"),
        ("students.csv", 5, "days_absent_40", "absent_without_enrolled"),
    ]
    assert problems[0].message == "41 days absent but 40 days enrolled (days_enrolled_40)"


def test_student_extract_codes_are_checked(db: Engine, tmp_path: Path) -> None:
    bad = student("S2", school="002001")
    bad[4:7] = ["13", "X", "Q"]
    rows = [STUDENT_HEADER, student("S1"), bad, student("S1")]
    problems = rejected(db, write_csv(tmp_path / "students.csv", rows))
    assert where(problems) == [
        ("students.csv", 3, "school_code", "school_in_other_lea"),
        ("students.csv", 3, "grade", "grade"),
        ("students.csv", 3, "sex", "sex"),
        ("students.csv", 3, "race_ethnicity", "race"),
        ("students.csv", 4, None, "duplicate_key"),
    ]


def test_empty_file(db: Engine, tmp_path: Path) -> None:
    empty = tmp_path / "enrollment.csv"
    empty.write_bytes(b"")
    header_only = write_csv(tmp_path / "leas.csv", [LEAS[0]])
    problems = rejected(db, empty, header_only)
    assert where(problems) == [
        ("leas.csv", 1, None, "no_rows"),
        ("enrollment.csv", None, None, "empty_file"),
    ]


def test_wrong_encoding(db: Engine, tmp_path: Path) -> None:
    rows = [LEAS[0], ["045", "ESPAÑOLA PUBLIC SCHOOLS", "district"], ["046", "PEÑASCO", "district"]]
    problems = rejected(db, write_csv(tmp_path / "leas.csv", rows, encoding="latin-1"))
    assert where(problems) == [("leas.csv", 2, None, "not_utf8")]
    assert "ESPAÑOLA PUBLIC SCHOOLS" in problems[0].message
    assert "save the file as UTF-8 (in Excel: CSV UTF-8)" in problems[0].message


def test_every_file_is_checked_before_stopping(db: Engine, tmp_path: Path) -> None:
    """Problems in several files come back together, in loading order."""
    write_csv(tmp_path / "leas.csv", [LEAS[0], ["003", "", "district"]])
    write_csv(tmp_path / "schools.csv", [SCHOOLS[0], ["001", "001005", "E", "K", "Z"]])
    write_csv(
        tmp_path / "enrollment.csv", [ENROLLMENT[0], ["2027", "001", "", "subgroup", "all", "-2"]]
    )
    (tmp_path / "notes.txt").write_text("not data")
    problems = rejected(db, tmp_path)
    assert where(problems) == [
        ("leas.csv", 2, "lea_name", "required"),
        ("schools.csv", 2, "grade_high", "grade"),
        ("enrollment.csv", 2, "enrollment", "negative"),
    ]


def test_missing_path_and_directory_without_data(db: Engine, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    problems = rejected(db, tmp_path / "nope.csv", tmp_path / "empty")
    assert sorted(p.code for p in problems) == ["file_missing", "no_known_files"]


def test_xlsx_loads_the_same_as_its_csv(tmp_path: Path) -> None:
    rows = [
        ABSENCE_HEADER,
        ["2026", "EOY", "001", "", "subgroup", "all", "300", "30", "10"],
        ["2026", "80", "001", "001001", "grade", "03", "", "", "7.5"],
    ]
    contents = []
    problem_lists = []
    for suffix, writer in ((".csv", write_csv), (".xlsx", write_xlsx)):
        folder = tmp_path / suffix.strip(".")
        folder.mkdir()
        write_csv(folder / "leas.csv", LEAS)
        write_csv(folder / "schools.csv", SCHOOLS)
        writer(folder / f"chronic_absence{suffix}", rows)
        engine = make_engine(f"sqlite:///{folder / 'aip.db'}")
        assert load_paths(engine, CONFIG, [folder]).ok
        contents.append(snapshot(engine))
        bad = [*rows, ["2026", "EOY", "001", "", "subgroup", "male", "x", "", "101"]]
        writer(folder / f"chronic_absence{suffix}", bad)
        problem_lists.append(where(rejected(engine, folder)))
    assert contents[0] == contents[1]
    assert contents[0]["absence"][0][:9] == (
        2026,
        "80",
        "001",
        "001001",
        "grade",
        "3",
        None,
        None,
        7.5,
    )
    assert problem_lists[0] == [
        ("chronic_absence.csv", 4, "students", "not_integer"),
        ("chronic_absence.csv", 4, "rate_pct", "rate_range"),
    ]
    assert problem_lists[1] == [("chronic_absence.xlsx", *p[1:]) for p in problem_lists[0]]
