"""More than a thousand malformed workbooks: mutations of real generated and example
workbooks (tests.support.mutate.corpus) and Hypothesis-generated values in input cells. Each
must give a ValidationReport, never an exception, whose problems are structured (a code of
the catalogue, its severity, a message, a real cell), whose JSON is strict, and the whole run
must stay under 200 MB (tracemalloc). Speed per file is measured in bench/bench_validate.py;
here a generous alarm only catches a hang."""

from __future__ import annotations

import itertools
import json
import re
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from aip_forms.domain import PlanKind
from aip_forms.spec import spec_for
from tests.support import guard, mutate
from tests.support.mutate import Formula
from validators.problems import CATALOGUE
from validators.validate import ValidationReport, validate_upload

pytestmark = pytest.mark.slow

MiB = 1 << 20
HANG_GUARD = 30  # seconds per file: a hang detector, not a speed goal
CELL = re.compile(r"^[A-Z]{1,3}([1-9][0-9]*)$")


@contextmanager
def hang_guard(what: str) -> Iterator[None]:
    with guard.hang_guard(HANG_GUARD, what):
        yield


def complaints(report: object) -> list[str]:
    """What is wrong with a report as a report (empty: nothing)."""
    if not isinstance(report, ValidationReport):
        return [f"not a ValidationReport: {report!r}"]
    found = []
    if (report.outcome == "valid") == bool(report.errors):
        found.append(f"outcome {report.outcome} with {len(report.errors)} errors")
    if report.outcome == "unreadable" and report.plan is not None:
        found.append("an unreadable workbook with a plan")
    for p in report.problems:
        entry = CATALOGUE.get(p.code)
        if entry is None:
            found.append(f"code {p.code!r} is not in the catalogue")
            continue
        if p.severity != entry.severity or (p in report.errors) != (p.severity == "error"):
            found.append(f"{p.code}: severity {p.severity}")
        if not p.message.strip():
            found.append(f"{p.code}: empty message")
        if p.cell is not None and not (p.sheet and CELL.match(p.cell)):
            found.append(f"{p.code}: cell {p.sheet!r}!{p.cell!r}")
    try:
        json.dumps(report.to_dict(), allow_nan=False, default=str)
    except ValueError as error:
        found.append(f"JSON: {error}")
    return found


def test_the_corpus_is_large_varied_and_the_same_every_run() -> None:
    names = [name for name, _ in mutate.corpus(seed=0)]
    families = {name.split("/")[1].split(":")[0] for name in names}

    assert len(names) >= 1000
    assert len(set(names)) == len(names)
    assert families == {
        "byte-flip", "truncate", "delete-entry", "duplicate-entry", "delete-element",
        "rename-element", "swap-type", "odd-number", "odd-index", "odd-reference", "odd-name",
        "drop-relationship", "drop-sheet-entry", "doctype", "utf8", "cut", "encoding",
    }  # fmt: skip
    first = list(itertools.islice(mutate.corpus(seed=0), 80))
    time.sleep(1.1)  # zip entries carry a time: it must not change the bytes
    assert first == list(itertools.islice(mutate.corpus(seed=0), 80))
    for name, data in first:
        assert data != mutate.base_workbook(name.split("/")[0]), name


# One test per base, so that xdist spreads the corpus over its workers.
@pytest.mark.parametrize("base", list(mutate.BASES))
def test_every_malformed_workbook_gets_a_structured_report(base: str) -> None:
    failures: list[str] = []
    outcomes: Counter[str] = Counter()
    tracemalloc.start()
    try:
        for name, data in mutate.corpus(seed=0, bases=[base]):
            with hang_guard(name):
                try:
                    report = validate_upload(
                        data, key=mutate.KEY, config=mutate.CONFIG, filename="plan.xlsx"
                    )
                except Exception as error:  # what this test is for: nothing escapes
                    failures.append(f"{name}: {type(error).__name__}: {error}")
                    continue
            failures += [f"{name}: {c}" for c in complaints(report)]
            outcomes[report.outcome] += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert failures == []
    assert peak < 200 * MiB, f"{peak / MiB:.0f} MiB"
    # the corpus does damage of every kind: refused files and broken plans
    assert min(outcomes["unreadable"], outcomes["invalid"] + outcomes["valid"]) > 50, outcomes


# ---- Hypothesis: any value in any input cell ---------------------------------------------


def input_columns(kind: PlanKind) -> list[tuple[PlanKind, str, str, int, int]]:
    """(kind, sheet, column letter, first row, rows) of every input field and table column of
    the example workbook (three rows of the tables whose rows come from data)."""
    places = []
    for section in spec_for(kind).sections:
        for f in section.fields:
            if f.is_input and f.cell:
                match = CELL.match(f.cell)
                assert match
                places.append((kind, section.sheet, f.cell.rstrip("0123456789"), int(match[1]), 1))
        for table in section.tables:
            for c in table.columns:
                if c.is_input and c.column:
                    places.append((kind, section.sheet, c.column, table.first_row, table.rows or 3))
    return places


# Any field or column is as likely as another, whatever its number of rows.
PLACES = st.sampled_from(input_columns(PlanKind.SCHOOL) + input_columns(PlanKind.DISTRICT)).flatmap(
    lambda p: st.integers(p[3], p[3] + p[4] - 1).map(lambda row: (p[0], p[1], f"{p[2]}{row}"))
)
TEXT = st.characters(exclude_categories=("Cs", "Cc", "Cn"), include_characters="\t\n\u00a0")
VALUES = st.one_of(
    st.none(),
    st.text(TEXT, max_size=60),
    st.text(TEXT, min_size=1900, max_size=4100),
    st.text(" \u00a0\t0123456789.,%+-eE", max_size=12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.booleans(),
    st.builds(Formula, st.sampled_from(["SUM(1,2)", "A1", 'HYPERLINK("http://x")', "", "1/0"])),
    st.sampled_from(
        ["Other", "Yes", "No", "n<10", "*", "=1+1", "25%", "9/15/2026", "Case Management",
         "kgarcia@belen.k12.nm.us", "a@@b", "#N/A", "TRUE", "1e308", "NaN", float("nan"),
         float("inf"), -0.0, 1e308, 5e-324, 46280, 0.25, 25]
    ),
)  # fmt: skip


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(place=PLACES, value=VALUES)
def test_any_value_in_an_input_cell_is_reported_at_its_row(place, value) -> None:
    kind, sheet, cell = place
    note(f"{kind} workbook, {sheet}!{cell} = {value!r:.60}")
    data = mutate.with_cells(mutate.example(kind), {(sheet, cell): value})

    with hang_guard(f"{sheet}!{cell} = {value!r:.40}"):
        report = validate_upload(data, key=mutate.KEY, config=mutate.CONFIG)

    assert complaints(report) == []
    assert report.outcome != "unreadable", report.problems
    row = CELL.match(cell)
    assert row
    for p in report.problems:
        assert p.sheet == sheet and p.cell and CELL.match(p.cell)[1] == row[1], p  # type: ignore[index]
    if isinstance(value, Formula):
        assert ("FORMULA_IN_INPUT", cell) in [(p.code, p.cell) for p in report.errors]
