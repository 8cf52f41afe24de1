"""Suppression in shared and compiled outputs: groups under the minimum size are hidden,
and so is a second cell wherever a total would reveal a hidden one.

The property tests draw whole LEAs student by student (so that every partition adds up,
as real counts do), publish them (the statewide summary workbook, the documents' view
model), read back what a reader sees, and check with exact rational arithmetic, by an
oracle independent of the implementation, that the published cells and every sum a
reader knows determine no hidden count.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from aip_forms.config import ProgramConfig
from aip_forms.domain import Lea, PlanKind, School
from aip_forms.filled_plan import Plan
from aip_forms.issued_data import DataRow, PlanData
from aip_forms.spec import spec_for
from exports import layout
from exports.context import HIDDEN, document_context
from exports.summary import statewide_summary
from exports.suppression import (
    Constraint,
    Publication,
    cell,
    suppress,
    suppress_publication,
)

CONFIG = ProgramConfig()
MIN = CONFIG.min_group_size
FY = 2027
SEX = ("female", "male")
RACES = ("amind", "asian", "black", "hispanic", "pacisl", "white", "multi")
GRADES = ("9", "10", "11", "12")
Student = tuple[int, int, int, int, bool]  # sex, race, grade, tier, economically disadvantaged


# ---- drawing LEAs ----------------------------------------------------------------------------

students = st.tuples(
    st.integers(0, 1),
    st.sampled_from([0, 1, 2, 3, 3, 3, 5, 5, 6]),  # some races rare, like real schools
    st.integers(0, 3),
    st.sampled_from([1, 1, 2, 2, 3, 4]),
    st.booleans(),
)
leas = st.lists(st.lists(students, min_size=1, max_size=70), min_size=1, max_size=4)


def _rows(codes: Iterable[str], counts: Counter[str], labels: dict[str, str]) -> tuple:
    return tuple(
        DataRow(
            code=c,
            label=labels[c],
            enrollment=counts[c],
            rates=(20.0, 21.0, 22.0),
            suppressed=False,
        )
        for c in codes
    )


def _plan_data(lea: Lea, school: School | None, pupils: list[Student], schools=()) -> PlanData:
    subgroups: Counter[str] = Counter()
    grades: Counter[str] = Counter()
    tiers: Counter[int] = Counter()
    for sex, race, grade, tier, poor in pupils:
        subgroups.update(["all", SEX[sex], RACES[race], *(["ecodis"] if poor else [])])
        grades[GRADES[grade]] += 1
        tiers[tier] += 1
    labels = {s.code: s.label for s in CONFIG.subgroups}
    codes = ["all", *SEX, *RACES, "ecodis"]
    grade_labels = {g: f"Grade {g}" for g in GRADES}
    return PlanData(
        kind=PlanKind.SCHOOL if school else PlanKind.DISTRICT,
        fiscal_year=FY,
        lea=lea,
        school=school,
        history_years=(2024, 2025, 2026),
        subgroups=_rows(codes, subgroups, labels),
        grades=_rows(GRADES, grades, grade_labels),
        schools=schools,
        tier_counts={t: tiers[t] for t in (1, 2, 3, 4)},
        deadline=CONFIG.deadline(FY, PlanKind.SCHOOL),
        min_group_size=MIN,
    )


def lea_plans(schools_students: list[list[Student]]) -> list[PlanData]:
    lea = Lea(code="900", name="DRAWN SCHOOLS")
    schools = [
        School(code=f"900-{i}", lea_code="900", name=f"SCHOOL {i}", grade_low="9", grade_high="12")
        for i in range(len(schools_students))
    ]
    school_plans = [_plan_data(lea, s, p) for s, p in zip(schools, schools_students, strict=True)]
    school_rows = tuple(
        DataRow(code=s.code, label=s.name, enrollment=len(p), rates=(1.0, 2.0, 3.0))
        for s, p in zip(schools, schools_students, strict=True)
    )
    everyone = [pupil for pupils in schools_students for pupil in pupils]
    return [_plan_data(lea, None, everyone, school_rows), *school_plans]


# ---- the oracle -----------------------------------------------------------------------------


def true_sums(plans: list[PlanData]) -> list[Constraint]:
    """Every sum a reader knows to hold, written out here independently of the module."""
    out = []
    district = next(d for d in plans if d.school is None)
    entities = [("lea", district.lea.code)] + [("school", d.school.code) for d in plans if d.school]
    for e in entities:
        total = cell(e, "subgroup", "all")
        out.append(Constraint(total, tuple(cell(e, "subgroup", c) for c in SEX)))
        out.append(Constraint(total, tuple(cell(e, "subgroup", c) for c in RACES)))
        out.append(Constraint(total, tuple(cell(e, "grade", g) for g in GRADES)))
        out.append(Constraint(total, tuple(cell(e, "tier", str(t)) for t in (1, 2, 3, 4))))
    schools = entities[1:]
    for group_type, codes in (("subgroup", ("all", *SEX, *RACES, "ecodis")), ("grade", GRADES)):
        for code in codes:
            out.append(
                Constraint(
                    cell(entities[0], group_type, code),
                    tuple(cell(s, group_type, code) for s in schools),
                )
            )
    return out


def determined(sums: list[Constraint], known: dict, unknown: set) -> set:
    """Unknown cells the sums fix, by exact Gauss-Jordan elimination over the rationals."""
    columns = sorted(unknown)
    index = {c: i for i, c in enumerate(columns)}
    rows = []
    for con in sums:
        row = [Fraction(0)] * len(columns)
        for c, sign in ((con.total, 1), *((m, -1) for m in con.members)):
            if c in index:
                row[index[c]] += sign
        if any(row):
            rows.append(row)
    pivot_rows: list[tuple[int, list[Fraction]]] = []
    r = 0
    for col in range(len(columns)):
        pivot = next((i for i in range(r, len(rows)) if rows[i][col] != 0), None)
        if pivot is None:
            continue
        rows[r], rows[pivot] = rows[pivot], rows[r]
        head = rows[r][col]
        rows[r] = [v / head for v in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][col] != 0:
                factor = rows[i][col]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[r], strict=True)]
        pivot_rows.append((col, rows[r]))
        r += 1
    return {columns[col] for col, row in pivot_rows if sum(1 for v in row if v != 0) == 1}


def check_published(plans: list[PlanData], published: dict) -> None:
    """`published`: cell -> int shown, or HIDDEN. Nothing hidden may be worked out."""
    hidden = {c for c, v in published.items() if v == HIDDEN}
    known = {c: v for c, v in published.items() if v != HIDDEN}
    sums = true_sums(plans)
    # a count a reader never sees (e.g. tiers in the summary) is unknown too, but not hidden
    in_sums = {c for con in sums for c in (con.total, *con.members)}
    unknown = hidden | (in_sums - set(known))
    assert determined(sums, known, unknown) & hidden == set()
    for con in sums:  # no small count comes out as a difference of published ones
        if con.total in known and all(m in known or m in hidden for m in con.members):
            parts = [m for m in con.members if m in hidden]
            assert len(parts) != 1
            if parts:
                rest = sum(known[m] for m in con.members if m in known)
                assert known[con.total] - rest == 0 or known[con.total] - rest >= MIN
    true_counts = {
        cell(("school" if d.school else "lea", d.entity_code), "subgroup", r.code): r.enrollment
        for d in plans
        for r in d.subgroups
    }
    for c, n in true_counts.items():
        if c in published and n is not None and n < MIN:
            assert published[c] == HIDDEN


# ---- reading the outputs back ------------------------------------------------------------------


def summary_cells(plans: list[PlanData]) -> dict:
    buffer = io.BytesIO()
    statewide_summary([(d, None, None) for d in plans], CONFIG).save(buffer)
    sheet = load_workbook(io.BytesIO(buffer.getvalue()), read_only=True)["Summary"]
    rows = sheet.iter_rows(values_only=True)
    header = list(next(rows))
    at = {
        name: header.index(name)
        for name in ("LEA Code", "School Code", "Group Type", "Group", "Enrollment")
    }
    by_label = {s.label: s.code for s in CONFIG.subgroups} | {f"Grade {g}": g for g in GRADES}
    out = {}
    for row in rows:
        entity = (
            ("school", row[at["School Code"]])
            if row[at["School Code"]]
            else ("lea", row[at["LEA Code"]])
        )
        group_type = row[at["Group Type"]].lower()
        out[cell(entity, group_type, by_label[row[at["Group"]]])] = row[at["Enrollment"]]
    return out


def document_cells(plans: list[PlanData]) -> dict:
    """What the documents of a packet print, from their view model (all sections)."""
    mask = suppress(plans, CONFIG)
    out: dict = {}
    for data in plans:
        spec = spec_for(data.kind)
        plan = Plan(
            kind=data.kind,
            spec_version=1,
            fiscal_year=FY,
            lea_code=data.lea.code,
            school_code=data.school.code if data.school else None,
        )
        context = document_context(
            plan,
            data,
            CONFIG,
            selection=layout.select(data.kind, None),
            suppression=mask,
            spec=spec,
        )
        entity = ("school", data.school.code) if data.school else ("lea", data.lea.code)
        sections = context["s"]
        for group_type, key, table in (
            ("subgroup", "demographics", "subgroups"),
            ("grade", "grades", "grades"),
        ):
            rows = sections[key].t[table].rows
            source = data.subgroups if group_type == "subgroup" else data.grades
            for data_row, row in zip(source, rows, strict=True):
                out[cell(entity, group_type, data_row.code)] = _number(row.cells["enrollment"])
        for item in sections["tiers"].fields:
            tier = item.label.split()[3]
            out[cell(entity, "tier", tier)] = _number(item.value)
        if data.school is None:
            for data_row, row in zip(
                data.schools, sections["school_targets"].t["schools"].rows, strict=True
            ):
                key = cell(("school", data_row.code), "subgroup", "all")
                assert out.get(key, _number(row.cells["enrollment"])) == _number(
                    row.cells["enrollment"]
                )  # the same cell is printed the same in every document
                out[key] = _number(row.cells["enrollment"])
    return out


def _number(text: str) -> int | str:
    return HIDDEN if text == HIDDEN else int(text.replace(",", ""))


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(leas)
def test_no_hidden_count_can_be_worked_out_from_the_summary_workbook(schools_students):
    plans = lea_plans(schools_students)
    check_published(plans, summary_cells(plans))


@PROPERTY
@given(leas)
def test_no_hidden_count_can_be_worked_out_from_a_packets_documents(schools_students):
    plans = lea_plans(schools_students)
    check_published(plans, document_cells(plans))


# ---- small cases, by hand -------------------------------------------------------------------


def _publication(values: dict[str, int], sums: list[tuple[str, tuple[str, ...]]]) -> Publication:
    pub = Publication()
    school = ("school", "s")
    for code, n in values.items():
        pub.add(cell(school, "subgroup", code), n)
    for total, members in sums:
        pub.constraints.append(
            Constraint(
                cell(school, "subgroup", total), tuple(cell(school, "subgroup", m) for m in members)
            )
        )
    return pub


def _hidden(pub: Publication) -> set[str]:
    return {code for *_, code in suppress_publication(pub, MIN).hidden}


def test_a_lone_small_group_takes_the_smallest_other_group_of_its_sum_with_it():
    pub = _publication({"all": 100, "a": 3, "b": 40, "c": 57}, [("all", ("a", "b", "c"))])
    assert _hidden(pub) == {"a", "b"}


def test_two_small_groups_that_add_up_to_under_the_minimum_take_a_third():
    pub = _publication(
        {"all": 100, "a": 2, "b": 3, "c": 45, "d": 50}, [("all", ("a", "b", "c", "d"))]
    )
    assert _hidden(pub) == {"a", "b", "c"}


def test_nothing_is_hidden_when_every_group_is_large_enough():
    pub = _publication({"all": 100, "a": 30, "b": 70}, [("all", ("a", "b"))])
    assert _hidden(pub) == set()


def test_a_hidden_total_is_not_left_as_the_sum_of_its_shown_parts():
    pub = _publication(
        {"all": 8, "a": 4, "b": 4, "top": 50, "other": 42},
        [("all", ("a", "b")), ("top", ("all", "other"))],
    )
    hidden = _hidden(pub)
    assert {"all", "a", "b"} <= hidden and "other" in hidden  # other would give all away


def test_the_audit_catches_what_the_sum_rules_miss():
    """A 4 x 4 table with row and column totals. Two hidden 2 x 2 blocks joined by one
    hidden cell: every row and column has two hidden cells or more, yet rows 1-2 minus
    columns 1-2 give the joining cell (a bridge). The audit must hide more."""
    school = ("school", "s")
    pub = Publication()
    grid = {(r, c): 20 + 3 * r + c for r in range(4) for c in range(4)}
    for (r, c), n in grid.items():
        pub.add(cell(school, "subgroup", f"a{r}{c}"), n)
    for r in range(4):
        pub.add(cell(school, "subgroup", f"row{r}"), sum(grid[r, c] for c in range(4)))
        pub.constraints.append(
            Constraint(
                cell(school, "subgroup", f"row{r}"),
                tuple(cell(school, "subgroup", f"a{r}{c}") for c in range(4)),
            )
        )
    for c in range(4):
        pub.add(cell(school, "subgroup", f"col{c}"), sum(grid[r, c] for r in range(4)))
        pub.constraints.append(
            Constraint(
                cell(school, "subgroup", f"col{c}"),
                tuple(cell(school, "subgroup", f"a{r}{c}") for r in range(4)),
            )
        )
    blocks = ["a00", "a01", "a10", "a11", "a22", "a23", "a32", "a33", "a12"]
    pub.flagged.update(cell(school, "subgroup", code) for code in blocks)
    bridge = {cell(school, "subgroup", "a12")}
    assert determined(pub.constraints, {}, {cell(school, "subgroup", c) for c in blocks}) == bridge
    hidden = suppress_publication(pub, MIN).hidden
    assert len(hidden) > len(blocks)
    assert determined(pub.constraints, {}, set(hidden)) == set()
