"""Synthetic statewide sample data: every New Mexico LEA, made-up schools, students and rates.

`write_sample` writes leas.csv, schools.csv, enrollment.csv, chronic_absence.csv (and with
students=True the student extract students.csv) in the formats of `formats.py`, plus
SYNTHETIC_DATA_README.txt. The same seed gives byte-identical files.

How the numbers come about: each year simulates every student (school, grade, sex,
race/ethnicity, program flags, days enrolled and absent per reporting period, from a per-student
absence propensity), and `aggregate_students` turns the students into rows. The year before
`fiscal_year` is the extract (full year); the two years before it keep only their end-of-year
rows; the current year has its 40th day, which also gives current-year enrollment. School
sizes and absence drift from year to year, and the state's rate falls a little each year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from aip_forms.config import ProgramConfig
from aip_forms.data import formats, lausd_sample, nm_leas
from aip_forms.data.aggregate import aggregate_students
from aip_forms.data.nm_leas import GRADE_CODES, PROFILES, LeaInput, SchoolInput

TARGET_STUDENTS = 310_000
YEAR_DAYS = 180
PERIOD_ENDS = (40, 80, 120, YEAR_DAYS)  # last instructional day of 40, 80, 120, EOY
README_NAME = "SYNTHETIC_DATA_README.txt"

# Year offsets from fiscal_year: -3, -2, -1 (the extract year) and 0 (the current year).
_YEARS = (-3, -2, -1, 0)
# Statewide shift of the absence logit by year: rates drift down after the post-2020 peak.
_STATE_TREND = {-3: 0.16, -2: 0.08, -1: 0.0, 0: -0.1}
_YEAR_PERIODS = {-3: ("EOY",), -2: ("EOY",), 0: ("40",)}
_ENROLLMENT_TREND = {-3: 0.03, -2: 0.015, -1: 0.0, 0: -0.012}  # log size: enrollment declines

_BASE_LOGIT = -3.2
# Grade effects on the absence logit, PK..12: early grades and high school miss the most.
_GRADE_EFFECT = np.array(
    [0.5, 0.3, 0.08, 0.0, -0.05, -0.05, -0.02, 0.08, 0.15, 0.22, 0.42, 0.5, 0.58, 0.72]
)
# Race effects in nm_leas.RACES order (I, A, B, H, P, W, M).
_RACE_EFFECT = np.array([0.25, -0.45, 0.1, 0.05, 0.1, -0.12, 0.05])
_RACE_ED = np.array([0.12, -0.2, 0.05, 0.06, 0.0, -0.15, -0.02])  # econ. disadvantage shift


@dataclass(frozen=True)
class SampleSummary:
    leas: int
    schools: int
    students: int  # distinct students in the extract year
    rows: dict[str, int] = field(default_factory=dict)  # file name -> data rows
    paths: dict[str, Path] = field(default_factory=dict)  # file name -> path


def write_sample(
    out_dir: Path,
    *,
    students: bool = False,
    fiscal_year: int = 2027,
    seed: int = 2027,
    config: ProgramConfig | None = None,
    scale: float = 1.0,
) -> SampleSummary:
    """Write the synthetic data set into out_dir; `scale` shrinks every school (tests)."""
    config = config or ProgramConfig()
    out_dir.mkdir(parents=True, exist_ok=True)
    directory_seed, school_seed, *year_seeds = np.random.SeedSequence(seed).spawn(2 + len(_YEARS))
    leas, schools = _directory(config, np.random.default_rng(directory_seed))
    traits = _school_traits(leas, schools, np.random.default_rng(school_seed))

    absence_parts = []
    extract = pd.DataFrame()
    enrollment = pd.DataFrame()
    for offset, year_seed in zip(_YEARS, year_seeds, strict=True):
        rng = np.random.default_rng(year_seed)
        # Only the extract year keeps every period; other years need one of them.
        periods = _YEAR_PERIODS.get(offset, formats.PERIOD_CODES)
        frame = _simulate_year(
            traits, fiscal_year + offset, offset, rng, scale=scale, periods=periods
        )
        aggregates = aggregate_students(frame, config)
        absence_parts.append(aggregates.absence[aggregates.absence["period"].isin(periods[-1:])])
        if offset == -1:
            extract = frame
        if offset == 0:
            enrollment = aggregates.enrollment

    school_table = _schools_frame(schools)
    if _lausd(config):
        index_rng = np.random.default_rng(np.random.SeedSequence([seed, 96]))
        school_table["academic_index"] = lausd_sample.academic_index(traits.absence, index_rng)
    tables = {
        formats.LEAS.filename: _leas_frame(leas),
        formats.SCHOOLS.filename: school_table,
        formats.ENROLLMENT.filename: enrollment,
        formats.CHRONIC_ABSENCE.filename: pd.concat(absence_parts, ignore_index=True),
    }
    if students:
        tables[formats.STUDENTS.filename] = students_csv_frame(extract)
    readme = (
        _lausd_readme(fiscal_year, seed, scale)
        if _lausd(config)
        else _readme(fiscal_year, seed, scale)
    )
    paths = _write_tables(out_dir, tables, README_NAME, readme)
    return SampleSummary(
        leas=len(leas),
        schools=len(schools),
        students=int(extract["student_id"].nunique()),
        rows={name: len(table) for name, table in tables.items()},
        paths=paths,
    )


PERIOD_README_NAME = "SYNTHETIC_PERIOD_DATA_README.txt"


def write_period_sample(
    out_dir: Path,
    period: str,
    *,
    students: bool = False,
    fiscal_year: int = 2027,
    seed: int = 2027,
    config: ProgramConfig | None = None,
    scale: float = 1.0,
) -> SampleSummary:
    """Write a reporting period's synthetic data for `fiscal_year` into out_dir:
    period_rates.csv (and with students=True period_students.csv), with the same LEAs and
    schools as `write_sample` of the same seed, and a README saying it is synthetic."""
    config = config or ProgramConfig()
    if period not in formats.PERIOD_CODES:
        raise ValueError(f"unknown reporting period {period!r} (expected 40, 80, 120 or EOY)")
    out_dir.mkdir(parents=True, exist_ok=True)
    directory_seed, school_seed, *_year_seeds = np.random.SeedSequence(seed).spawn(2 + len(_YEARS))
    leas, schools = _directory(config, np.random.default_rng(directory_seed))
    traits = _school_traits(leas, schools, np.random.default_rng(school_seed))
    periods = formats.PERIOD_CODES[: formats.PERIOD_CODES.index(period) + 1]
    # A seed of its own: the current year simulated through this period.
    rng = np.random.default_rng(np.random.SeedSequence([seed, len(periods)]))
    frame = _simulate_year(traits, fiscal_year, 0, rng, scale=scale, periods=periods)
    absence = aggregate_students(frame, config).absence
    rates = absence[absence["period"] == period]
    tables = {
        formats.PERIOD_RATES.filename: rates[list(formats.PERIOD_RATES.column_names)],
    }
    if students:
        tables[formats.PERIOD_STUDENTS.filename] = period_students_frame(frame, period)
    readme = _period_readme(fiscal_year, period, seed, scale, "LAUSD" if _lausd(config) else "PED")
    paths = _write_tables(out_dir, tables, PERIOD_README_NAME, readme)
    return SampleSummary(
        leas=len(leas),
        schools=len(schools),
        students=int(frame["student_id"].nunique()),
        rows={name: len(table) for name, table in tables.items()},
        paths=paths,
    )


def _lausd(config: ProgramConfig) -> bool:
    return config.profile == "lausd"


def _directory(
    config: ProgramConfig, rng: np.random.Generator
) -> tuple[tuple[LeaInput, ...], tuple[SchoolInput, ...]]:
    """The LEAs and schools of the profile's sample: every New Mexico LEA, or one large
    urban district for the lausd profile."""
    if _lausd(config):
        return lausd_sample.leas(), lausd_sample.schools(rng)
    leas = nm_leas.all_leas()
    return leas, nm_leas.plan_schools(leas, rng, TARGET_STUDENTS)


def _lausd_readme(fiscal_year: int, seed: int, scale: float) -> str:
    return lausd_sample.README.format(
        students=round(lausd_sample.TARGET_STUDENTS * scale),
        seed=seed,
        size="full size" if scale == 1.0 else f"scale {scale:g} of full size",
        fiscal_year=fiscal_year,
        first=fiscal_year - 3,
        last=fiscal_year - 1,
    )


def _write_tables(
    out_dir: Path, tables: dict[str, pd.DataFrame], readme_name: str, readme: str
) -> dict[str, Path]:
    paths = {}
    for name, table in tables.items():
        paths[name] = out_dir / name
        table.to_csv(paths[name], index=False, lineterminator="\n")
    paths[readme_name] = out_dir / readme_name
    paths[readme_name].write_text(readme, encoding="utf-8")
    return paths


def period_students_frame(frame: pd.DataFrame, period: str) -> pd.DataFrame:
    """The extract of one period as written to period_students.csv (students enrolled by
    the period's day only)."""
    enrolled = frame[f"days_enrolled_{period.lower()}"]
    out = students_csv_frame(frame[enrolled.notna()])
    out = out.assign(
        period=period,
        days_enrolled=out[f"days_enrolled_{period.lower()}"],
        days_absent=out[f"days_absent_{period.lower()}"],
    )
    return out[list(formats.PERIOD_STUDENTS.column_names)]


def _period_readme(
    fiscal_year: int, period: str, seed: int, scale: float, owner: str = "PED"
) -> str:
    size = "full size" if scale == 1.0 else f"scale {scale:g} of full size"
    return f"""SYNTHETIC DATA - NOT {owner} DATA

Every number in these files is synthetic: the {period} reporting period of fiscal year
{fiscal_year}, generated by aip-forms (aip_forms.data.sample.write_period_sample, seed {seed},
{size}) for demonstrations and tests. They describe no real school or student. LEA and
school codes are those of the synthetic sample of the same seed (aip data sample).

Load them after the year's sample: aip data load <sample folder>, then aip data load <this
folder>. A period is loaded once; aip data load --replace replaces it.
"""


# ---- schools ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Traits:
    """Per-school generation inputs, as arrays indexed by school position."""

    leas: tuple[LeaInput, ...]
    schools: tuple[SchoolInput, ...]
    lea_codes: tuple[str, ...]
    school_codes: tuple[str, ...]
    lea_of: npt.NDArray[np.int64]
    per_grade: npt.NDArray[np.float64]  # schools x grades, expected students at full size
    race_cdf: npt.NDArray[np.float64]  # schools x races, cumulative shares
    econ_disadv: npt.NDArray[np.float64]  # logit
    english_learner: npt.NDArray[np.float64]
    military: npt.NDArray[np.float64]
    migrant: npt.NDArray[np.float64]
    absence: npt.NDArray[np.float64]  # school's shift of the absence logit
    drift: npt.NDArray[np.float64]  # school's absence drift per year (logit)
    size_drift: npt.NDArray[np.float64]  # school's log size drift per year


def _school_traits(
    leas: tuple[LeaInput, ...], schools: tuple[SchoolInput, ...], rng: np.random.Generator
) -> _Traits:
    lea_pos = {lea.code: i for i, lea in enumerate(leas)}
    lea_of = np.array([lea_pos[s.lea_code] for s in schools], dtype=np.int64)
    n = len(schools)
    school_leas = [leas[i] for i in lea_of]
    profiles = [PROFILES[lea.profile] for lea in school_leas]
    shares = np.array([_race_shares(lea) for lea in school_leas])
    # Neighbourhoods differ: perturb each school's mix around its LEA's profile.
    shares = shares * rng.lognormal(0.0, 0.35, size=shares.shape)
    shares /= shares.sum(axis=1, keepdims=True)
    district_effect = rng.normal(0.0, 0.18, size=len(leas))
    alternative = np.array([s.level == "alternative" for s in schools])
    return _Traits(
        leas=leas,
        schools=schools,
        lea_codes=tuple(lea.code for lea in leas),
        school_codes=tuple(school.code for school in schools),
        lea_of=lea_of,
        per_grade=np.array([s.per_grade for s in schools]),
        race_cdf=np.cumsum(shares, axis=1),
        econ_disadv=_logit(np.array([p.econ_disadv for p in profiles]))
        + rng.normal(0.0, 0.6, size=n),
        english_learner=np.array([p.english_learner for p in profiles])
        * rng.lognormal(0.0, 0.4, size=n),
        military=np.array(
            [
                p.military if lea.military is None else lea.military
                for p, lea in zip(profiles, school_leas, strict=True)
            ]
        ),
        migrant=np.array([p.migrant for p in profiles]),
        absence=np.array([p.absence for p in profiles])
        + district_effect[lea_of]
        + rng.normal(0.0, 0.2, size=n)
        + 0.6 * alternative,
        drift=rng.normal(0.0, 0.12, size=(len(_YEARS), n)).cumsum(axis=0),
        size_drift=rng.normal(0.0, 0.04, size=(len(_YEARS), n)).cumsum(axis=0),
    )


def _race_shares(lea: LeaInput) -> npt.NDArray[np.float64]:
    shares = np.array(PROFILES[lea.profile].races)
    if lea.amind is not None:  # the LEA's own American Indian share, the rest in proportion
        shares = shares * (1 - lea.amind) / (1 - shares[0])
        shares[0] = lea.amind
    return shares


def _logit(p: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.log(p / (1 - p))


def _expit(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 1 / (1 + np.exp(-x))


# ---- students -----------------------------------------------------------------------------


def _simulate_year(
    traits: _Traits,
    fiscal_year: int,
    offset: int,
    rng: np.random.Generator,
    *,
    scale: float,
    periods: tuple[str, ...] = formats.PERIOD_CODES,
) -> pd.DataFrame:
    """One year's student extract, typed for aggregate_students; days blank outside periods."""
    year = _YEARS.index(offset)
    size = np.exp(traits.size_drift[year] - traits.size_drift[_YEARS.index(-1)])
    expected = traits.per_grade * scale * np.exp(_ENROLLMENT_TREND[offset]) * size[:, None]
    counts = rng.poisson(expected)
    school = np.repeat(np.arange(counts.size) // counts.shape[1], counts.ravel())
    grade = np.repeat(np.tile(np.arange(counts.shape[1]), counts.shape[0]), counts.ravel())
    race, student = _student_traits(traits, school, grade, rng)
    logit = (
        _BASE_LOGIT
        + _STATE_TREND[offset]
        + traits.absence[school]
        + traits.drift[year, school]
        + _GRADE_EFFECT[grade]
        + _RACE_EFFECT[race]
        + 0.38 * student["econ_disadv"]
        + 0.65 * student["homeless"]
        + 0.5 * student["foster_care"]
        + 0.22 * student["disability"]
        + 0.3 * student["migrant"]
        - 0.15 * student["military"]
        + rng.normal(0.0, 0.85, size=len(school))
    )
    entry, exit_, row_school, row_student = _enrollment_spells(traits, school, grade, rng)
    ends = np.array([PERIOD_ENDS[formats.PERIOD_CODES.index(p)] for p in periods])
    enrolled, absent = _days(entry, exit_, _expit(logit)[row_student], ends, rng)
    ids = (900_000_000 + rng.permutation(len(school))).astype(str).astype(object)

    order = np.lexsort((row_student, row_school))
    s = row_student[order]
    frame = pd.DataFrame(
        {
            "fiscal_year": np.full(len(order), fiscal_year, dtype=np.int64),
            "student_id": ids[s],
            # Categorical codes: the same values as strings, a fraction of the memory.
            "lea_code": _categorical(traits.lea_of[row_school[order]], traits.lea_codes),
            "school_code": _categorical(row_school[order], traits.school_codes),
            "grade": _categorical(grade[s], GRADE_CODES),
            "sex": _categorical(np.where(student["female"][s], 0, 1), ("F", "M")),
            "race_ethnicity": _categorical(race[s], nm_leas.RACES),
            **{flag: student[flag][s] for flag in _FLAGS},
        }
    )
    for period in formats.PERIOD_CODES:
        k = periods.index(period) if period in periods else None
        days = enrolled[order, k] if k is not None else np.full(len(order), -1)
        missed = absent[order, k] if k is not None else np.zeros(len(order), dtype=np.int64)
        blank = days < 0
        frame[f"days_enrolled_{period.lower()}"] = pd.arrays.IntegerArray(
            np.where(blank, 0, days), blank
        )
        frame[f"days_absent_{period.lower()}"] = pd.arrays.IntegerArray(
            np.where(blank, 0, missed), blank.copy()
        )
    return frame


_FLAGS = tuple(c.name for c in formats.STUDENTS.columns if c.type is formats.ColumnType.FLAG)


def _student_traits(
    traits: _Traits,
    school: npt.NDArray[np.int64],
    grade: npt.NDArray[np.int64],
    rng: np.random.Generator,
) -> tuple[npt.NDArray[np.int64], dict[str, npt.NDArray[np.bool_]]]:
    """Race/ethnicity (position in nm_leas.RACES), sex and program flags of each student."""
    n = len(school)
    female = rng.random(n) < 0.49
    race = (rng.random(n)[:, None] > traits.race_cdf[school]).sum(axis=1)
    race = np.minimum(race, len(nm_leas.RACES) - 1)
    econ = rng.random(n) < _expit(traits.econ_disadv[school] + _RACE_ED[race] * 4)
    el_rate = traits.english_learner[school] * np.where(np.isin(race, (0, 1, 3)), 1.3, 0.15)
    el_rate *= np.where(grade <= 7, 1.25, 0.65)  # most learners reach proficiency by grade 6
    return race, {
        "female": female,
        "econ_disadv": econ,
        "english_learner": rng.random(n) < el_rate,
        # Pre-K includes the developmental-disability preschool programs.
        "disability": rng.random(n) < np.where(grade == 0, 0.3, np.where(female, 0.11, 0.2)),
        "homeless": rng.random(n) < np.where(econ, 0.04, 0.006),
        "foster_care": rng.random(n) < np.where(econ, 0.006, 0.001),
        "military": rng.random(n) < traits.military[school] * np.where(econ, 0.5, 1.2),
        "migrant": rng.random(n) < traits.migrant[school] * np.where(race == 3, 1.4, 0.2),
    }


def _categorical(codes: npt.NDArray[np.int64], values: tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=pd.Index(values, dtype=object))


def _enrollment_spells(
    traits: _Traits,
    school: npt.NDArray[np.int64],
    grade: npt.NDArray[np.int64],
    rng: np.random.Generator,
) -> tuple[npt.NDArray[np.int64], ...]:
    """Rows of (entry day, exit day, school, student): late entries, early exits, movers."""
    n = len(school)
    entry = np.where(rng.random(n) < 0.08, rng.integers(1, 150, size=n), 0)
    leaves = rng.random(n) < 0.07
    exit_ = np.where(leaves, rng.integers(entry + 10, YEAR_DAYS + 10), YEAR_DAYS)
    exit_ = np.minimum(exit_, YEAR_DAYS)

    # Movers change school mid-year: most within their LEA, some to another LEA.
    new_school = np.full(n, -1)
    within = rng.random(n) < 0.03
    new_school[within] = _other_school(traits, school[within], grade[within], rng, same_lea=True)
    across = (rng.random(n) < 0.012) & ~within
    new_school[across] = _other_school(traits, school[across], grade[across], rng, same_lea=False)
    movers = np.flatnonzero((new_school >= 0) & (exit_ == YEAR_DAYS) & (entry < 100))
    move_day = rng.integers(entry[movers] + 15, 165)
    exit_[movers] = move_day
    second_entry = move_day + rng.integers(0, 6, size=len(movers))

    rows_student = np.concatenate([np.arange(n), movers])
    return (
        np.concatenate([entry, second_entry]),
        np.concatenate([exit_, np.full(len(movers), YEAR_DAYS)]),
        np.concatenate([school, new_school[movers]]),
        rows_student,
    )


def _other_school(
    traits: _Traits,
    school: npt.NDArray[np.int64],
    grade: npt.NDArray[np.int64],
    rng: np.random.Generator,
    *,
    same_lea: bool,
) -> npt.NDArray[np.int64]:
    """A random other school serving the grade (same LEA or statewide); -1 when none."""
    serves = traits.per_grade > 0  # schools x grades
    lea = traits.lea_of if same_lea else np.zeros(len(traits.schools), dtype=np.int64)
    n_grades = serves.shape[1]
    cand_school, cand_grade = np.nonzero(serves)
    cand_key = lea[cand_school] * n_grades + cand_grade
    by_key = np.argsort(cand_key, kind="stable")
    sorted_keys = cand_key[by_key]
    key = lea[school] * n_grades + grade
    start = np.searchsorted(sorted_keys, key, side="left")
    count = np.searchsorted(sorted_keys, key, side="right") - start
    pick = start + np.floor(rng.random(len(school)) * count).astype(np.int64)
    chosen = cand_school[by_key[np.minimum(pick, len(by_key) - 1)]]
    chosen = np.where((count > 1) & (chosen != school), chosen, -1)
    return chosen.astype(np.int64)


def _days(
    entry: npt.NDArray[np.int64],
    exit_: npt.NDArray[np.int64],
    propensity: npt.NDArray[np.float64],
    ends: npt.NDArray[np.int64],
    rng: np.random.Generator,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Cumulative days enrolled and absent at each period end; -1 before the row's entry."""
    starts = np.concatenate(([0], ends[:-1]))
    segment = np.clip(
        np.minimum(exit_[:, None], ends) - np.maximum(entry[:, None], starts), 0, None
    )
    absent = rng.binomial(segment, propensity[:, None])
    enrolled = np.cumsum(segment, axis=1)
    enrolled[entry[:, None] >= ends] = -1
    return enrolled, np.cumsum(absent, axis=1)


# ---- files --------------------------------------------------------------------------------


def _leas_frame(leas: tuple[LeaInput, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lea_code": [lea.code for lea in leas],
            "lea_name": [lea.name for lea in leas],
            "lea_type": [lea.type.value for lea in leas],
        }
    )[list(formats.LEAS.column_names)]


def _schools_frame(schools: tuple[SchoolInput, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lea_code": [s.lea_code for s in schools],
            "school_code": [s.code for s in schools],
            "school_name": [s.name for s in schools],
            "grade_low": [s.grade_low for s in schools],
            "grade_high": [s.grade_high for s in schools],
        }
    )[[c for c in formats.SCHOOLS.column_names if c not in formats.SCHOOLS.optional_columns]]


def students_csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The extract as written to students.csv: flags as Y/N, blank days left blank."""
    out = frame.copy()
    for column in formats.STUDENTS.column_names:
        if formats.STUDENTS.column(column).type is formats.ColumnType.FLAG:
            out[column] = np.where(frame[column].to_numpy(dtype=bool), "Y", "N")
    return out[list(formats.STUDENTS.column_names)]


def _readme(fiscal_year: int, seed: int, scale: float) -> str:
    size = "full size" if scale == 1.0 else f"scale {scale:g} of full size"
    return f"""SYNTHETIC DATA - NOT PED DATA

Every number in these files (students, enrollment, days enrolled and absent, chronic-absence
rates, tier counts) and every school name is synthetic: generated by aip-forms
(aip_forms.data.sample, seed {seed}, {size}) for demonstrations and tests. They describe no
real school or student. Only the names of the 89 school districts are real public names, and
their relative sizes are rough approximations; the state-chartered schools are invented. LEA
and school codes are synthetic, not PED's codes.

Fiscal year {fiscal_year} (school year {fiscal_year - 1}-{str(fiscal_year)[-2:]}) is the
current year: enrollment.csv and the 40-day rows of chronic_absence.csv. Years
{fiscal_year - 3} to {fiscal_year - 1} have end-of-year rows. students.csv, when present, is the
student-level extract of {fiscal_year - 1}; its aggregation equals the {fiscal_year - 1} rows.
"""
