"""aggregate_students: tier and chronic edges, exclusions, LEA dedupe, subgroups, grades."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aip_forms.config import ProgramConfig
from aip_forms.data import formats
from aip_forms.data.aggregate import aggregate_students, periods_present, read_students_csv

FLAGS = (
    "econ_disadv",
    "english_learner",
    "disability",
    "homeless",
    "foster_care",
    "military",
    "migrant",
)


def student(
    sid: str,
    days: dict[str, tuple[int | None, int | None]],
    *,
    school: str = "001001",
    lea: str = "001",
    grade: str = "3",
    sex: str = "F",
    race: str = "H",
    **flags: bool,
) -> dict[str, object]:
    row: dict[str, object] = {
        "fiscal_year": 2026,
        "student_id": sid,
        "lea_code": lea,
        "school_code": school,
        "grade": grade,
        "sex": sex,
        "race_ethnicity": race,
    }
    row.update({flag: flags.get(flag, False) for flag in FLAGS})
    for period in formats.PERIOD_CODES:
        enrolled, absent = days.get(period, (None, None))
        row[f"days_enrolled_{period.lower()}"] = enrolled
        row[f"days_absent_{period.lower()}"] = absent
    return row


def extract(*rows: dict[str, object]) -> pd.DataFrame:
    frame = pd.DataFrame(list(rows))
    for column in frame.columns:
        if column.startswith("days_"):
            frame[column] = frame[column].astype("Int64")
    return frame[list(formats.STUDENTS.column_names)]


def eoy(enrolled: int, absent: int) -> dict[str, tuple[int | None, int | None]]:
    return {"EOY": (enrolled, absent)}


def row(
    absence: pd.DataFrame,
    group: str = "all",
    *,
    school: str = "001001",
    period: str = "EOY",
    group_type: str | None = None,
) -> pd.Series:
    kind = group_type or (
        "grade" if group in {g.code for g in ProgramConfig().grades} else "subgroup"
    )
    match = absence[
        (absence["period"] == period)
        & (absence["school_code"] == school)
        & (absence["group_type"] == kind)
        & (absence["group_code"] == group)
    ]
    assert len(match) == 1, f"expected one row for {period}/{school}/{group}, got {len(match)}"
    return match.iloc[0]


def counts(r: pd.Series) -> tuple[int, ...]:
    return tuple(
        int(r[c]) for c in ("students", "chronically_absent", "tier1", "tier2", "tier3", "tier4")
    )


# ---- edges ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("absent", "tier", "chronic"),
    [
        (0, 1, 0),
        (4, 1, 0),  # 4.0%
        (5, 2, 0),  # exactly 5%: Tier 2
        (9, 2, 0),  # 9.0%
        (10, 3, 1),  # exactly 10%: Tier 3 and chronically absent
        (19, 3, 1),
        (20, 4, 1),  # exactly 20%: Tier 4
        (100, 4, 1),
    ],
)
def test_tier_and_chronic_edges_out_of_100_days(absent, tier, chronic):
    absence = aggregate_students(extract(student("a", eoy(100, absent))), ProgramConfig()).absence
    r = row(absence)
    assert int(r["chronically_absent"]) == chronic
    assert [int(r[f"tier{t}"]) for t in (1, 2, 3, 4)] == [int(t == tier) for t in (1, 2, 3, 4)]


def test_edges_with_days_that_do_not_divide_evenly():
    # 9/180 = 5%, 8/180 = 4.44%; 18/180 = 10%, 17/180 = 9.44%; 36/180 = 20%, 35/180 = 19.4%;
    # 7/140 = 5% and 14/140 = 10% and 28/140 = 20% exactly.
    frame = extract(
        student("a", eoy(180, 8)),
        student("b", eoy(180, 9)),
        student("c", eoy(180, 17)),
        student("d", eoy(180, 18)),
        student("e", eoy(180, 35)),
        student("f", eoy(180, 36)),
        student("g", eoy(140, 7)),
        student("h", eoy(140, 14)),
        student("i", eoy(140, 28)),
    )
    r = row(aggregate_students(frame, ProgramConfig()).absence)
    # tier1: a; tier2: b, c, g; tier3: d, e, h; tier4: f, i; chronic: d, e, f, h, i
    assert counts(r) == (9, 5, 1, 3, 3, 2)
    assert r["rate_pct"] == pytest.approx(55.6)


def test_configured_edges_are_used_exactly():
    config = ProgramConfig(chronic_threshold_pct=7.3)
    # 73/1000 is exactly 7.3%; 72/1000 is not.
    frame = extract(student("a", eoy(1000, 73)), student("b", eoy(1000, 72)))
    assert int(row(aggregate_students(frame, config).absence)["chronically_absent"]) == 1


# ---- who counts -------------------------------------------------------------------------


def test_students_under_min_enrolled_days_are_left_out_of_that_period():
    config = ProgramConfig(min_enrolled_days=10)
    frame = extract(
        student("short", {"40": (9, 5), "EOY": (100, 30)}),
        student("enough", {"40": (10, 1), "EOY": (100, 1)}),
    )
    absence = aggregate_students(frame, config).absence
    assert counts(row(absence, period="40")) == (1, 1, 0, 0, 1, 0)
    assert counts(row(absence, period="EOY")) == (2, 1, 1, 0, 0, 1)


def test_a_blank_period_is_not_reported():
    frame = extract(
        student("a", {"40": (40, 1), "EOY": (180, 9)}),  # 2.5% at 40 days, 5% at EOY
        student("b", {"EOY": (150, 30)}),  # entered after day 40; 20% at EOY
    )
    absence = aggregate_students(frame, ProgramConfig()).absence
    assert sorted(set(absence["period"])) == ["40", "EOY"]
    assert counts(row(absence, period="40")) == (1, 0, 1, 0, 0, 0)
    assert counts(row(absence, period="EOY")) == (2, 1, 0, 1, 0, 1)


def test_periods_present_in_calendar_order():
    frame = extract(student("a", {"EOY": (180, 1), "80": (80, 0), "40": (40, 0)}))
    assert periods_present(frame) == ["40", "80", "EOY"]


def test_blank_absent_days_next_to_enrolled_days_count_as_none_missed():
    frame = extract(student("a", {"EOY": (100, None)}))
    assert counts(row(aggregate_students(frame, ProgramConfig()).absence)) == (1, 0, 1, 0, 0, 0)


def test_days_given_as_float_with_nan_match_nullable_integers():
    frame = extract(
        student("a", {"40": (40, 4), "EOY": (180, 30)}),
        student("b", {"EOY": (120, 5)}),
    )
    as_float = frame.astype({c: "float64" for c in frame.columns if c.startswith("days_")})
    assert as_float["days_enrolled_40"].isna().sum() == 1
    expected = aggregate_students(frame, ProgramConfig())
    got = aggregate_students(as_float, ProgramConfig())
    pd.testing.assert_frame_equal(got.absence, expected.absence)
    pd.testing.assert_frame_equal(got.enrollment, expected.enrollment)


# ---- levels -----------------------------------------------------------------------------


def test_lea_counts_a_student_in_two_schools_once_with_days_summed():
    frame = extract(
        # 5/100 = 5% (Tier 2) at the first school, 10/50 = 20% (Tier 4) at the second:
        # 15/150 = 10% in the LEA, one chronically absent student in Tier 3.
        student("mover", eoy(100, 5), school="001001", grade="3"),
        student("mover", eoy(50, 10), school="001002", grade="4"),
        student("stayer", eoy(180, 0), school="001001", grade="3"),
    )
    absence = aggregate_students(frame, ProgramConfig()).absence
    assert counts(row(absence, school="001001")) == (2, 0, 1, 1, 0, 0)
    assert counts(row(absence, school="001002")) == (1, 1, 0, 0, 0, 1)
    assert counts(row(absence, school="")) == (2, 1, 1, 0, 1, 0)
    # The mover's grade at LEA level is the one of the school with the most days.
    assert int(row(absence, "3", school="")["students"]) == 2
    assert not ((absence["school_code"] == "") & (absence["group_code"] == "4")).any()


def test_a_student_in_two_leas_counts_in_each():
    frame = extract(
        student("x", eoy(90, 20), lea="001", school="001001"),
        student("x", eoy(90, 0), lea="002", school="002001"),
    )
    absence = aggregate_students(frame, ProgramConfig()).absence
    lea_rows = absence[(absence["school_code"] == "") & (absence["group_code"] == "all")]
    assert dict(zip(lea_rows["lea_code"], lea_rows["chronically_absent"], strict=True)) == {
        "001": 1,
        "002": 0,
    }


def test_rows_are_ordered_lea_first_then_its_schools():
    frame = extract(
        student("a", eoy(100, 0), lea="002", school="002001"),
        student("b", eoy(100, 0), lea="001", school="001002"),
        student("c", eoy(100, 0), lea="001", school="001001"),
    )
    absence = aggregate_students(frame, ProgramConfig()).absence
    alls = absence[absence["group_code"] == "all"]
    assert list(zip(alls["lea_code"], alls["school_code"], strict=True)) == [
        ("001", ""),
        ("001", "001001"),
        ("001", "001002"),
        ("002", ""),
        ("002", "002001"),
    ]


# ---- groups -----------------------------------------------------------------------------


def test_subgroups_from_sex_race_and_program_flags():
    frame = extract(
        student("a", eoy(100, 12), sex="F", race="I", econ_disadv=True, homeless=True),
        student("b", eoy(100, 2), sex="M", race="I", econ_disadv=True),
        student("c", eoy(100, 30), sex="M", race="W", english_learner=True, migrant=True),
    )
    absence = aggregate_students(frame, ProgramConfig()).absence
    school = absence[(absence["school_code"] == "001001") & (absence["group_type"] == "subgroup")]
    got = {
        code: (int(s), int(c))
        for code, s, c in zip(
            school["group_code"], school["students"], school["chronically_absent"], strict=True
        )
    }
    assert got == {
        "all": (3, 2),
        "female": (1, 1),
        "male": (2, 1),
        "amind": (2, 1),
        "white": (1, 1),
        "ecodis": (2, 1),
        "homeless": (1, 1),
        "el": (1, 1),
        "migrant": (1, 1),
    }  # groups with no students (asian, swd, foster ...) have no row


def test_flags_written_as_y_n_text_are_read_as_flags():
    typed = extract(
        student("a", eoy(100, 12), econ_disadv=True), student("b", eoy(100, 0), disability=True)
    )
    text = typed.assign(**{f: typed[f].map({True: "Y", False: "N"}) for f in FLAGS})
    expected = aggregate_students(typed, ProgramConfig()).absence
    pd.testing.assert_frame_equal(aggregate_students(text, ProgramConfig()).absence, expected)


def test_grade_rows_with_tier_counts():
    frame = extract(
        student("a", eoy(100, 3), grade="K"),
        student("b", eoy(100, 6), grade="K"),
        student("c", eoy(100, 25), grade="K"),
        student("d", eoy(100, 11), grade="12", school="001009"),
        student("e", eoy(100, 11), grade="01"),  # a leading zero is still grade 1
    )
    absence = aggregate_students(frame, ProgramConfig()).absence
    assert counts(row(absence, "K")) == (3, 1, 1, 1, 0, 1)
    assert counts(row(absence, "1")) == (1, 1, 0, 0, 1, 0)
    assert counts(row(absence, "12", school="001009")) == (1, 1, 0, 0, 1, 0)
    lea_grades = absence[(absence["school_code"] == "") & (absence["group_type"] == "grade")]
    assert list(lea_grades["group_code"]) == ["K", "1", "12"]  # catalog order


def test_rate_is_rounded_half_up_to_one_decimal_from_exact_counts():
    # 1 of 16 = 6.25% -> 6.3 (round-half-even would give 6.2); 1 of 3 = 33.3%.
    sixteen = [student(f"s{i}", eoy(100, 10 if i == 0 else 0)) for i in range(16)]
    three = [student(f"t{i}", eoy(100, 50 if i == 0 else 0), school="001002") for i in range(3)]
    absence = aggregate_students(extract(*sixteen, *three), ProgramConfig()).absence
    assert row(absence)["rate_pct"] == 6.3
    assert row(absence, school="001002")["rate_pct"] == 33.3
    assert int(row(absence)["chronically_absent"]) == 1


# ---- enrollment and shape ---------------------------------------------------------------


def test_enrollment_counts_students_of_the_latest_period():
    config = ProgramConfig(min_enrolled_days=5)
    frame = extract(
        student("a", {"40": (40, 0), "80": (80, 0)}),
        student("b", {"40": (40, 0)}),  # left before the 80th day: blank at 80
        student("c", {"80": (4, 0)}),  # too few days
        student("d", {"80": (30, 0)}, econ_disadv=True),
    )
    enrollment = aggregate_students(frame, config).enrollment
    assert tuple(enrollment.columns) == formats.ENROLLMENT.column_names
    got = {
        (s, g): int(n)
        for s, g, n in zip(
            enrollment["school_code"],
            enrollment["group_code"],
            enrollment["enrollment"],
            strict=True,
        )
    }
    assert got[("", "all")] == 2
    assert got[("001001", "all")] == 2
    assert got[("001001", "ecodis")] == 1
    assert set(enrollment["fiscal_year"]) == {2026}


def test_output_columns_are_the_documented_formats():
    result = aggregate_students(extract(student("a", eoy(100, 10))), ProgramConfig())
    assert tuple(result.absence.columns) == formats.CHRONIC_ABSENCE.column_names
    assert tuple(result.enrollment.columns) == formats.ENROLLMENT.column_names
    assert (result.absence["fiscal_year"] == 2026).all()


def test_an_extract_without_days_gives_no_rows():
    result = aggregate_students(extract(student("a", {})), ProgramConfig())
    assert result.absence.empty
    assert result.enrollment.empty
    assert tuple(result.absence.columns) == formats.CHRONIC_ABSENCE.column_names


def test_read_students_csv_round_trip(tmp_path: Path):
    frame = extract(
        student("a", {"40": (40, 2), "EOY": (180, 20)}, lea="007", school="007001"),
        student("b", {"EOY": (100, 0)}, lea="007", school="007001", homeless=True),
    )
    text = frame.assign(**{f: frame[f].map({True: "Y", False: "N"}) for f in FLAGS})
    path = tmp_path / "students.csv"
    text.to_csv(path, index=False)
    back = read_students_csv(path)
    assert back["lea_code"].tolist() == ["007", "007"]  # leading zeros kept
    assert back["homeless"].tolist() == [False, True]
    assert back["days_enrolled_40"].isna().tolist() == [False, True]
    pd.testing.assert_frame_equal(
        aggregate_students(back, ProgramConfig()).absence,
        aggregate_students(frame, ProgramConfig()).absence,
    )


# ---- against a plain reference implementation ---------------------------------------------


def reference(frame: pd.DataFrame, config: ProgramConfig) -> dict[tuple, tuple[int, ...]]:
    """The same rules written as loops over students, for comparison."""
    sex_of = {"F": "female", "M": "male"}
    race_of = {"I": "amind", "A": "asian", "B": "black", "H": "hispanic", "W": "white"}
    flag_of = {s.extract_column: s.code for s in config.subgroups if s.extract_column}
    days: dict[tuple, list[int]] = {}  # (lea, school, period, student) -> [enrolled, absent]
    attributes = {}
    for r in frame.to_dict("records"):
        attributes[r["student_id"]] = r
        for school in (r["school_code"], ""):
            for period in ("40", "EOY"):
                enrolled = r[f"days_enrolled_{period.lower()}"]
                absent = r[f"days_absent_{period.lower()}"]
                if pd.isna(enrolled):
                    continue
                d = days.setdefault((r["lea_code"], school, period, r["student_id"]), [0, 0])
                d[0] += int(enrolled)
                d[1] += 0 if pd.isna(absent) else int(absent)
    out: dict[tuple, list[int]] = {}
    for (lea, school, period, sid), (enrolled, absent) in days.items():
        if enrolled < config.min_enrolled_days:
            continue
        rate = Fraction(100 * absent, enrolled)
        tier = _tier(rate, config)
        chronic = int(rate >= Fraction(str(config.chronic_threshold_pct)))
        r = attributes[sid]
        groups = [("subgroup", "all"), ("subgroup", sex_of[r["sex"]])]
        groups += [("subgroup", race_of[r["race_ethnicity"]]), ("grade", r["grade"])]
        groups += [("subgroup", code) for column, code in flag_of.items() if r[column]]
        for group in groups:
            c = out.setdefault((period, lea, school, *group), [0, 0, 0, 0, 0, 0])
            c[0] += 1
            c[1] += chronic
            c[1 + tier] += 1
    return {k: tuple(v) for k, v in out.items()}


def _tier(rate: Fraction, config: ProgramConfig) -> int:
    for band in config.tiers:
        lower = Fraction(str(band.lower))
        if rate >= lower and (band.upper is None or rate < Fraction(str(band.upper))):
            return band.tier
    raise AssertionError(rate)


days_st = st.tuples(st.integers(1, 180), st.integers(0, 180)).map(lambda t: (t[0], min(t)))
student_st = st.fixed_dictionaries(
    {
        "sid": st.sampled_from(["a", "b", "c", "d", "e", "f"]),
        "where": st.sampled_from([("001", "001001"), ("001", "001002"), ("002", "002001")]),
        "grade": st.sampled_from(["PK", "K", "5", "9"]),
        "sex": st.sampled_from(["F", "M"]),
        "race": st.sampled_from(["I", "A", "B", "H", "W"]),
        "econ": st.booleans(),
        "homeless": st.booleans(),
        "d40": st.none() | days_st,
        "deoy": days_st,
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(student_st, min_size=1, max_size=12), st.sampled_from([1, 10, 31]))
def test_matches_a_plain_reference_implementation(students, min_days):
    config = ProgramConfig(min_enrolled_days=min_days)
    rows, seen = [], set()
    for s in students:
        if (s["sid"], s["where"][1]) in seen:
            continue  # one row per student per school
        seen.add((s["sid"], s["where"][1]))
        # A student keeps one grade, sex, race and flags across schools in this test.
        first = next(t for t in students if t["sid"] == s["sid"])
        days = {"EOY": s["deoy"]} | ({"40": s["d40"]} if s["d40"] else {})
        rows.append(
            student(
                s["sid"],
                days,
                lea=s["where"][0],
                school=s["where"][1],
                grade=first["grade"],
                sex=first["sex"],
                race=first["race"],
                econ_disadv=first["econ"],
                homeless=first["homeless"],
            )
        )
    frame = extract(*rows)
    absence = aggregate_students(frame, config).absence
    got = {
        (r.period, r.lea_code, r.school_code, r.group_type, r.group_code): (
            r.students,
            r.chronically_absent,
            r.tier1,
            r.tier2,
            r.tier3,
            r.tier4,
        )
        for r in absence.itertuples()
    }
    assert got == reference(frame, config)
    assert np.array_equal(
        absence["rate_pct"].to_numpy(),
        np.floor(absence["chronically_absent"] * 1000 / absence["students"] + 0.5) / 10,
    )
