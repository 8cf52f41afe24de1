"""Reading reference data files: encodings, line numbers, headers, kinds, typed values."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from aip_forms.config import ProgramConfig
from aip_forms.data import formats
from aip_forms.data.load_problems import UnreadableFile
from aip_forms.data.readers import kind_of, known_files, parse_values, read_raw, read_table
from tests.support import write_csv, write_xlsx

LEAS_HEADER = ["lea_code", "lea_name", "lea_type"]
ENROLLMENT_HEADER = list(formats.ENROLLMENT.column_names)


def unreadable(path: Path, **kwargs: str) -> list:
    with pytest.raises(UnreadableFile) as caught:
        read_table(path, **kwargs)
    return caught.value.problems


def test_csv_with_bom_crlf_and_padding_reads_trimmed_values(tmp_path: Path) -> None:
    path = tmp_path / "leas.csv"
    path.write_bytes(
        b"\xef\xbb\xbf LEA_Code ,Lea_Name,lea_type\r\n 001 , BELEN CONSOLIDATED ,district\r\n"
    )
    table = read_table(path)
    assert table.kind == "leas"
    assert table.frame.loc[2].tolist() == ["001", "BELEN CONSOLIDATED", "district"]


def test_line_numbers_are_physical_lines_across_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "leas.csv"
    path.write_text("lea_code,lea_name,lea_type\n001,A,district\n\n,,\n002,B,district\n\n\n")
    table = read_table(path)
    assert list(table.frame.index) == [2, 5]
    assert table.frame.loc[5, "lea_code"] == "002"


def test_line_numbers_count_lines_inside_quoted_values(tmp_path: Path) -> None:
    path = tmp_path / "leas.csv"
    path.write_text('lea_code,lea_name,lea_type\n001,"TWO\nLINES",district\n002,B,district\n')
    table = read_table(path)
    assert list(table.frame.index) == [2, 4]
    assert table.frame.loc[2, "lea_name"] == "TWO\nLINES"


def test_column_order_and_case_do_not_matter(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "leas.csv", [["LEA_TYPE", "Lea_Code", "lea_name"], ["district", "7", "X"]]
    )
    assert read_table(path).frame.loc[2].to_dict() == {
        "lea_code": "7",
        "lea_name": "X",
        "lea_type": "district",
    }


def test_missing_and_unknown_columns_are_all_named_with_a_suggestion(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "enrollment.csv",
        [["fiscal_year", "lea_cod", "group_type", "group_code", "enrolment", "notes"], [1] * 6],
    )
    problems = unreadable(path)
    found = {(p.code, p.column): p for p in problems}
    assert set(found) == {
        ("unknown_column", "lea_cod"),
        ("unknown_column", "enrolment"),
        ("unknown_column", "notes"),
        ("missing_column", "lea_code"),
        ("missing_column", "school_code"),
        ("missing_column", "enrollment"),
    }
    assert 'did you mean "enrollment"' in found["unknown_column", "enrolment"].message
    assert 'did you mean "lea_code"' in found["unknown_column", "lea_cod"].message
    assert "did you mean" not in found["unknown_column", "notes"].message
    assert all(p.file == "enrollment.csv" and p.line == 1 for p in problems)


def test_optional_columns_may_be_left_out_of_the_header(tmp_path: Path) -> None:
    header = [c for c in formats.CHRONIC_ABSENCE.column_names if c not in ("tier1", "students")]
    row = ["2026", "EOY", "001", "", "subgroup", "all", "5", "12.5", "1", "2", "3"]
    table = read_table(write_csv(tmp_path / "chronic_absence.csv", [header, row]))
    assert list(table.frame.columns) == list(formats.CHRONIC_ABSENCE.column_names)
    assert table.frame.loc[2, "tier1"] == ""
    assert table.frame.loc[2, "rate_pct"] == "12.5"


def test_not_utf8_names_the_line_and_says_how_to_save(tmp_path: Path) -> None:
    path = tmp_path / "leas.csv"
    path.write_bytes(
        "lea_code,lea_name,lea_type\n001,A,district\n045,ESPAÑOLA,district\n".encode("latin-1")
    )
    (p,) = unreadable(path)
    assert (p.file, p.line, p.code) == ("leas.csv", 3, "not_utf8")
    assert "ESPAÑOLA" in p.message
    assert "UTF-8" in p.message and "CSV UTF-8" in p.message


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n \n\r\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "schools.csv"
    path.write_bytes(content)
    (p,) = unreadable(path)
    assert (p.file, p.code) == ("schools.csv", "empty_file")


def test_header_only_file(tmp_path: Path) -> None:
    (p,) = unreadable(write_csv(tmp_path / "leas.csv", [LEAS_HEADER]))
    assert (p.file, p.line, p.code) == ("leas.csv", 1, "no_rows")


def test_values_beyond_the_header_are_reported_per_row(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "leas.csv",
        [
            LEAS_HEADER,
            ["1", "A", "district", "x"],
            ["2", "B", "district"],
            ["3", "C", "district", "", "y"],
        ],
    )
    table = read_table(path)
    assert [(p.line, p.code) for p in table.problems] == [(2, "extra_values"), (4, "extra_values")]
    assert "5 values but the header has 3" in table.problems[1].message
    assert list(table.frame.index) == [3]


def test_trailing_empty_header_cells_are_ignored(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "leas.csv", [[*LEAS_HEADER, "", ""], ["1", "A", "district", "", ""]]
    )
    assert read_table(path).frame.loc[2, "lea_type"] == "district"


def test_kind_by_file_name_then_by_header(tmp_path: Path) -> None:
    assert kind_of(Path("x/Chronic_Absence.xlsx"), []) == "chronic_absence"
    assert kind_of(Path("fy27 export.csv"), ENROLLMENT_HEADER) == "enrollment"
    assert kind_of(Path("fy27 export.csv"), ["LEA_CODE", "lea_name", "lea_type"]) == "leas"
    assert kind_of(Path("notes.csv"), ["a", "b"]) is None
    (p,) = unreadable(write_csv(tmp_path / "notes.csv", [["a", "b"], ["1", "2"]]))
    assert p.code == "unknown_kind"


def test_known_files_in_load_order(tmp_path: Path) -> None:
    for name in ("students.csv", "notes.txt", "LEAS.csv", "enrollment.xlsx", "schools.csv"):
        (tmp_path / name).write_text("x")
    assert [p.name for p in known_files(tmp_path)] == [
        "LEAS.csv",
        "schools.csv",
        "enrollment.xlsx",
        "students.csv",
    ]


def test_xlsx_reads_like_the_csv_with_row_numbers(tmp_path: Path) -> None:
    rows = [
        ENROLLMENT_HEADER,
        ["2027", "001", "", "subgroup", "all", "120"],
        [None] * 6,
        ["FY2027", "001", "001001", "grade", "01", "12.5"],
    ]
    csv_table = read_table(write_csv(tmp_path / "enrollment.csv", rows))
    xlsx_table = read_table(write_xlsx(tmp_path / "enrollment.xlsx", rows))
    assert list(xlsx_table.frame.index) == [2, 4]
    pd.testing.assert_frame_equal(
        xlsx_table.frame.astype(str), csv_table.frame.astype(str), check_index_type=False
    )


def test_xlsx_numbers_and_text_cells(tmp_path: Path) -> None:
    rows = [
        ENROLLMENT_HEADER,
        [2027, "001", None, "subgroup", "all", 120.0],
        [2027, 1, None, "grade", 3, 12.5],
    ]
    frame = read_table(write_xlsx(tmp_path / "enrollment.xlsx", rows)).frame
    assert frame.loc[2, "enrollment"] == "120"
    assert frame.loc[3, "enrollment"] == "12.5"
    assert frame.loc[3, "group_code"] == "3"


def test_a_file_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "leas.xlsx"
    path.write_text("lea_code,lea_name,lea_type\n")
    (p,) = unreadable(path)
    assert (p.file, p.code) == ("leas.xlsx", "not_xlsx")


def test_missing_file_and_other_extensions(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile) as caught:
        read_raw(tmp_path / "leas.csv")
    assert caught.value.problems[0].code == "file_missing"
    (p,) = unreadable(write_csv(tmp_path / "leas.txt", [LEAS_HEADER]))
    assert p.code == "unknown_extension"


# --- typed values -------------------------------------------------------------------------


def parsed(tmp_path: Path, name: str, rows: list[list[str]]) -> tuple[pd.DataFrame, list]:
    table = read_table(write_csv(tmp_path / name, rows))
    return parse_values(table, ProgramConfig())


@pytest.mark.parametrize(
    ("column", "text", "code"),
    [
        ("enrollment", "12.5", "not_integer"),
        ("enrollment", "twelve", "not_integer"),
        ("enrollment", "-3", "negative"),
        ("enrollment", "", "required"),
        ("fiscal_year", "27", "fiscal_year"),
        ("fiscal_year", "2026/27", "fiscal_year"),
        ("lea_code", "00 1", "not_code"),
        ("lea_code", "X" * 17, "not_code"),
        ("group_type", "district", "group_type"),
    ],
)
def test_bad_values_are_named_by_line_column_and_value(
    tmp_path: Path, column: str, text: str, code: str
) -> None:
    good = {"fiscal_year": "2027", "lea_code": "001", "school_code": "", "group_type": "subgroup"}
    good |= {"group_code": "all", "enrollment": "10"}
    bad = good | {column: text}
    rows = [ENROLLMENT_HEADER, list(good.values()), list(bad.values()), list(bad.values())]
    _, problems = parsed(tmp_path, "enrollment.csv", rows)
    assert [(p.file, p.line, p.column, p.code) for p in problems] == [
        ("enrollment.csv", 3, column, code),
        ("enrollment.csv", 4, column, code),
    ]
    if text:
        assert f'"{text}"' in problems[0].message
        assert str(problems[0]) == f"enrollment.csv:3:{column}  {problems[0].message}"


def test_accepted_spellings_become_canonical_values(tmp_path: Path) -> None:
    header = list(formats.STUDENTS.column_names)
    row = [
        "FY27",
        "S1",
        "001",
        "001001",
        "01",
        "f",
        "h",
        "Yes",
        "n",
        "1",
        "0",
        "TRUE",
        "false",
        "N",
    ]
    row += ["40", "", "80", "2", "", "", "", ""]
    values, problems = parsed(tmp_path, "students.csv", [header, row])
    assert problems == []
    record = values.loc[2]
    assert record["fiscal_year"] == 2027
    assert (record["grade"], record["sex"], record["race_ethnicity"]) == ("1", "F", "H")
    flags = [record[c] for c in header[7:14]]
    assert flags == [True, False, True, False, True, False, False]
    assert record["days_enrolled_40"] == 40 and pd.isna(record["days_absent_40"])
    assert str(values["days_absent_80"].dtype) == "Int64"


def test_rates_from_0_to_100_only(tmp_path: Path) -> None:
    header = ["fiscal_year", "period", "lea_code", "school_code", "group_type", "group_code"]
    header.append("rate_pct")
    base = ["2026", "eoy", "001", "", "subgroup", "all"]
    rows = [header] + [[*base, rate] for rate in ("0", "100", "12.34", "100.1", "-0.5", "n/a")]
    values, problems = parsed(tmp_path, "chronic_absence.csv", rows)
    assert [(p.line, p.column, p.code) for p in problems] == [
        (5, "rate_pct", "rate_range"),
        (6, "rate_pct", "rate_range"),
        (7, "rate_pct", "not_number"),
    ]
    assert values["rate_pct"].iloc[:3].tolist() == [0.0, 100.0, 12.34]
    assert values["period"].iloc[0] == "EOY"


def test_grades_of_schools(tmp_path: Path) -> None:
    header = list(formats.SCHOOLS.column_names)
    rows = [header, ["001", "1", "A", "pk", "05"], ["001", "2", "B", "K", "13"]]
    values, problems = parsed(tmp_path, "schools.csv", rows)
    assert values.loc[2, "grade_low"] == "PK" and values.loc[2, "grade_high"] == "5"
    assert [(p.line, p.column, p.code, p.value) for p in problems] == [
        (3, "grade_high", "grade", "13")
    ]


def test_semicolon_separated_file_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "leas.csv"
    path.write_text("lea_code;lea_name;lea_type\n001;A;district\n")
    problems = unreadable(path)
    assert problems[0].code == "unknown_column"
    assert "separated by ';'" in problems[0].message
    assert {p.column for p in problems[1:]} == set(LEAS_HEADER)


def test_header_problems_point_at_the_header_line(tmp_path: Path) -> None:
    path = tmp_path / "leas.csv"
    path.write_text("\n\nlea_code,lea_name\n001,A\n")
    (p,) = unreadable(path)
    assert (p.line, p.column, p.code) == (3, "lea_type", "missing_column")


def test_empty_workbook(tmp_path: Path) -> None:
    (p,) = unreadable(write_xlsx(tmp_path / "leas.xlsx", []))
    assert (p.file, p.code) == ("leas.xlsx", "empty_file")
