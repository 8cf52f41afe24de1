"""Benchmark: aggregate_students on the full synthetic extract (about 310,000 students).

Run with `python -m bench.bench_aggregate`. Writes the full sample with students.csv to a
temporary folder, then times (median of 5 runs each) pandas.read_csv of students.csv alone,
as a baseline, and aggregate_students on the typed extract. Prints a table and one JSON line.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pandas as pd

from aip_forms.config import ProgramConfig
from aip_forms.data import formats
from aip_forms.data.aggregate import aggregate_students, read_students_csv
from aip_forms.data.sample import write_sample
from bench.common import median_seconds, print_report

RUNS = 5


def main() -> None:
    config = ProgramConfig()
    with tempfile.TemporaryDirectory(prefix="aip-bench-") as tmp:
        out = Path(tmp)
        start = time.perf_counter()
        summary = write_sample(out, students=True)
        write_seconds = time.perf_counter() - start
        path = out / formats.STUDENTS.filename
        read_csv = median_seconds(lambda: pd.read_csv(path), RUNS, warm_up=False)
        extract = read_students_csv(path)
        aggregate = median_seconds(lambda: aggregate_students(extract, config), RUNS, warm_up=False)
        result = aggregate_students(extract, config)

    figures = {
        "benchmark": "aggregate_students",
        "students": int(extract["student_id"].nunique()),
        "extract_rows": len(extract),
        "absence_rows": len(result.absence),
        "enrollment_rows": len(result.enrollment),
        "runs": RUNS,
        "aggregate_median_s": round(aggregate, 3),
        "read_csv_median_s": round(read_csv, 3),
        "ratio_aggregate_to_read_csv": round(aggregate / read_csv, 2),
        "write_sample_s": round(write_seconds, 2),
        "schools": summary.schools,
        "pandas": pd.__version__,
    }
    rows = [
        ("students (extract rows)", f"{figures['students']:,} ({figures['extract_rows']:,})"),
        (
            "output rows (absence / enrollment)",
            f"{len(result.absence):,} / {len(result.enrollment):,}",
        ),
        (f"aggregate_students, median of {RUNS}", f"{aggregate:.3f} s"),
        (f"pandas.read_csv students.csv, median of {RUNS}", f"{read_csv:.3f} s"),
        ("ratio aggregate / read_csv", f"{aggregate / read_csv:.2f}"),
        ("write_sample(students=True), once", f"{write_seconds:.2f} s"),
    ]
    print_report(rows, figures)


if __name__ == "__main__":
    main()
