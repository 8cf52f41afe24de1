"""Benchmark: aggregate_period on a full synthetic period extract (about 310,000 students).

Run with `python -m bench.bench_period`. Writes the 80-day period sample with
period_students.csv to a temporary folder, then times (median of 5 runs each)
pandas.read_csv of period_students.csv alone, as a baseline, and aggregate_period on the
typed extract. Prints a table and one JSON line. Goal (issue 12): 3 s or less.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pandas as pd

from aip_forms.config import ProgramConfig
from aip_forms.data import formats
from aip_forms.data.aggregate import aggregate_period, read_period_students_csv
from aip_forms.data.sample import write_period_sample
from bench.common import median_seconds, print_report

RUNS = 5
PERIOD = "80"


def main() -> None:
    config = ProgramConfig()
    with tempfile.TemporaryDirectory(prefix="aip-bench-") as tmp:
        out = Path(tmp)
        start = time.perf_counter()
        write_period_sample(out, PERIOD, students=True)
        write_seconds = time.perf_counter() - start
        path = out / formats.PERIOD_STUDENTS.filename
        read_csv = median_seconds(lambda: pd.read_csv(path), RUNS, warm_up=False)
        typed = median_seconds(lambda: read_period_students_csv(path), RUNS, warm_up=False)
        extract = read_period_students_csv(path)
        aggregate = median_seconds(lambda: aggregate_period(extract, config), RUNS, warm_up=False)
        result = aggregate_period(extract, config)

    figures = {
        "benchmark": "aggregate_period",
        "period": PERIOD,
        "students": int(extract["student_id"].nunique()),
        "extract_rows": len(extract),
        "absence_rows": len(result),
        "runs": RUNS,
        "aggregate_median_s": round(aggregate, 3),
        "read_typed_median_s": round(typed, 3),
        "read_csv_median_s": round(read_csv, 3),
        "ratio_aggregate_to_read_csv": round(aggregate / read_csv, 2),
        "write_period_sample_s": round(write_seconds, 2),
        "pandas": pd.__version__,
    }
    rows = [
        ("students (extract rows)", f"{figures['students']:,} ({figures['extract_rows']:,})"),
        ("period rate rows", f"{len(result):,}"),
        (f"aggregate_period, median of {RUNS}", f"{aggregate:.3f} s"),
        (f"read_period_students_csv (typed), median of {RUNS}", f"{typed:.3f} s"),
        (f"pandas.read_csv period_students.csv, median of {RUNS}", f"{read_csv:.3f} s"),
        ("ratio aggregate / read_csv", f"{aggregate / read_csv:.2f}"),
        ("write_period_sample(students=True), once", f"{write_seconds:.2f} s"),
    ]
    print_report(rows, figures)


if __name__ == "__main__":
    main()
