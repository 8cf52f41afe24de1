"""Benchmark: what a user waits for when they run a command, as a whole process.

Run with `python -m bench.bench_startup` from the repository root. Measures, in one run,
each command as a fresh process (Python start-up and imports included), interleaved with
its baseline so that both see the same machine load; median of RUNS each:

- `aip --help` against `python -c pass` (goal: 0.3 s or less);
- `aip workbook validate FILE` on a filled school workbook (PK-5) and on a filled district
  workbook (177 schools), against a process that only runs `openpyxl.load_workbook` on the
  same file (goal: 1.5 times the baseline or less);
- the import time of the command line's modules, from `python -X importtime`, for the
  record.

Prints a table and one JSON line.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_validate import district_workbook, school_workbook
from bench.common import print_report
from tests.support import mutate

RUNS = 21
AIP = [sys.executable, "-m", "aip_forms"]


def _seconds(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def paired(command: list[str], baseline: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Medians of `command` and `baseline`, run alternately RUNS times after a warm-up."""
    _seconds(command, env), _seconds(baseline, env)
    ours, base = [], []
    for _ in range(RUNS):
        ours.append(_seconds(command, env))
        base.append(_seconds(baseline, env))
    return statistics.median(ours), statistics.median(base)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="aip-bench-startup-") as tmp:
        home = Path(tmp)
        # the key the example workbooks are signed with, so validation runs every check
        env = {**os.environ, "AIP_HOME": str(home), "AIP_SECRET_KEY": mutate.KEY.decode()}
        env.pop("AIP_DATABASE_URL", None)
        school = home / "school.xlsx"
        school.write_bytes(school_workbook())
        district = home / "district.xlsx"
        district.write_bytes(district_workbook())
        help_s, bare_s = paired([*AIP, "--help"], [sys.executable, "-c", "pass"], env)
        load = "import sys, openpyxl; openpyxl.load_workbook(sys.argv[1])"
        figures: dict[str, float] = {"help_s": help_s, "python_bare_s": bare_s}
        rows = [
            ("aip --help", f"{help_s * 1000:.0f} ms (goal 300 ms)"),
            ("  python -c pass", f"{bare_s * 1000:.0f} ms"),
        ]
        for name, path in (("school", school), ("district", district)):
            check = subprocess.run([*AIP, "workbook", "validate", str(path)], env=env, check=False)
            if check.returncode != 0:
                raise SystemExit(f"the {name} workbook does not validate; nothing measured")
            ours, base = paired(
                [*AIP, "workbook", "validate", str(path)],
                [sys.executable, "-c", load, str(path)],
                env,
            )
            figures |= {f"validate_{name}_s": ours, f"openpyxl_{name}_s": base}
            figures[f"validate_{name}_ratio"] = ours / base
            rows += [
                (
                    f"aip workbook validate ({name})",
                    f"{ours * 1000:.0f} ms, {ours / base:.2f} x baseline (goal 1.5)",
                ),
                (f"  openpyxl.load_workbook ({name})", f"{base * 1000:.0f} ms"),
            ]
    print_report(rows, figures)


if __name__ == "__main__":
    main()
