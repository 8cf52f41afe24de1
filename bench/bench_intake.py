"""Benchmark: the upload intake of issue 9, worst case over hostile and real-world files.

Run with `python -m bench.bench_intake` from the repository root. Measures, in one run:

- every hostile variant of tests/unit/test_validate_issue9.py, plus the outside test's
  largest: tens of millions of tiny elements under 10 MB, in a sheet that is read and in
  xl/workbook.xml, and a 2-million-cell row. Each file is validated in a fresh process
  (`python -m bench.bench_intake --one FILE`), which reports the seconds `validate_upload`
  took and the process's peak resident memory (imports included);
- the real-world corpus (tests/corpus): each file's seconds, and the peak resident memory of
  one fresh process that validates them all;
- the baseline, in the same run: a fresh process that only runs `openpyxl.load_workbook` on
  the example plan, its peak memory; and the example plan's validation in a fresh process.

Goals (issue 9): every file refused or accepted within 2 s and 200 MB of process memory.
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import print_report

MiB = 1 << 20
ROOT = Path(__file__).resolve().parents[1]


def peak_memory_mib() -> float:
    """This process's peak resident memory. Not getrusage's ru_maxrss: Linux keeps that
    across exec, so a child would report its parent's peak (VmHWM is the process's own)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one(path: str) -> None:
    """In a fresh process: validate one file, print seconds and peak memory as JSON."""
    from tests.support import mutate
    from validators.validate import validate_upload

    data = Path(path).read_bytes()
    start = time.perf_counter()
    report = validate_upload(data, key=mutate.KEY, config=mutate.CONFIG, filename=path)
    took = time.perf_counter() - start
    rss = peak_memory_mib()
    codes = [p.code for p in report.errors][:2]
    print(json.dumps({"seconds": took, "rss_mib": rss, "exit": report.exit_code, "codes": codes}))


def load_only(path: str) -> None:
    """In a fresh process: the baseline, openpyxl.load_workbook of one file."""
    import openpyxl

    start = time.perf_counter()
    openpyxl.load_workbook(path)
    took = time.perf_counter() - start
    print(json.dumps({"seconds": took, "rss_mib": peak_memory_mib(), "exit": 0, "codes": []}))


@dataclass(frozen=True)
class Run:
    seconds: float
    rss_mib: float
    exit: int
    codes: list[str]
    files: int = 1


def child(mode: str, path: Path) -> Run:
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_intake", mode, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{path.name}: {out.stderr[-2000:]}")
    return Run(**json.loads(out.stdout.splitlines()[-1]))


def random_tags(count: int, seed: int = 3) -> bytes:
    """`count` empty elements, 4 bytes each: mostly <a/>, one in fifty <b/> at random, so
    they compress well (the file stays far under 10 MB) but not like a bomb (the ratio
    stays under the 1,000 intake names as one)."""
    rng = random.Random(seed)
    return b"".join(rng.choices((b"<a/>", b"<b/>"), weights=(49, 1), k=count))


def hostile_files(folder: Path) -> list[Path]:
    from aip_forms.domain import PlanKind
    from tests.support import hostile_plans, mutate
    from tests.unit.test_validate_issue9 import CASES

    files = {case.id: case.build() for case in CASES}
    example = mutate.example(PlanKind.SCHOOL)
    files["example-plan"] = example

    def with_tags(part: str, count: int) -> bytes:
        def edit(parts: dict[str, bytes]) -> None:
            name = mutate.sheet_parts(parts).get(part, part)
            content = parts[name]
            end = content.rindex(b"</")
            parts[name] = content[:end] + random_tags(count) + content[end:]

        return mutate.edit_parts(example, edit)

    files["20M-elements-in-a-read-sheet"] = with_tags("1 Contact Information", 20_000_000)
    files["20M-elements-in-workbook-xml"] = with_tags("xl/workbook.xml", 20_000_000)
    # The deepest nesting intake's element bound lets expat see (the reader stops at 64).
    files["249k-levels-deep"] = hostile_plans.with_deep_nesting(
        example, "1 Contact Information", 249_000
    )
    files["2M-cell-row"] = hostile_plans.with_wide_row(
        example, "1 Contact Information", 5, 2_000_000
    )
    paths = []
    for name, data in files.items():
        path = folder / f"{name}.xlsx"
        path.write_bytes(data)
        paths.append(path)
    return paths


def corpus() -> None:
    """In a fresh process: validate every corpus file; print the worst seconds, the slowest
    file and the process's peak memory."""
    from tests.support import mutate
    from validators.validate import validate_upload

    files = sorted(
        p
        for p in (ROOT / "tests" / "corpus").glob("*/**/*")  # not MANIFEST.csv
        if p.suffix in {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".csv"}
    )
    worst, slowest = 0.0, ""
    for path in files:
        data = path.read_bytes()
        start = time.perf_counter()
        validate_upload(data, key=mutate.KEY, config=mutate.CONFIG, filename=path.name)
        took = time.perf_counter() - start
        if took > worst:
            worst, slowest = took, "/".join(path.parts[-2:])
    print(
        json.dumps(
            {
                "seconds": worst,
                "rss_mib": peak_memory_mib(),
                "exit": 2,
                "codes": [slowest],
                "files": len(files),
            }
        )
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths = hostile_files(Path(folder))
        results = {path.stem: child("--one", path) for path in paths}
        sizes = {path.stem: path.stat().st_size for path in paths}
        example = next(p for p in paths if p.stem == "example-plan")
        baseline = child("--load-only", example)
    run = child("--corpus", ROOT)
    count, corpus_max, corpus_slowest, corpus_rss = (
        run.files,
        run.seconds,
        run.codes[0],
        run.rss_mib,
    )
    hostile = {k: v for k, v in results.items() if k != "example-plan"}
    slowest = max(hostile, key=lambda k: hostile[k].seconds)
    fattest = max(hostile, key=lambda k: hostile[k].rss_mib)
    rows = [
        (
            f"{name} ({sizes[name] / MiB:.2f} MB)",
            f"{r.seconds:.3f} s, {r.rss_mib:.0f} MiB, exit {r.exit} {' '.join(r.codes)}",
        )
        for name, r in results.items()
    ]
    rows += [
        (
            "baseline: openpyxl.load_workbook of the example plan, fresh process",
            f"{baseline.seconds:.3f} s, {baseline.rss_mib:.0f} MiB",
        ),
        (
            f"real-world corpus ({count} files), one process",
            f"max {corpus_max:.3f} s ({corpus_slowest}), peak {corpus_rss:.0f} MiB",
        ),
    ]
    figures = {
        "benchmark": "upload_intake",
        "hostile_files": len(hostile),
        "hostile_max_s": round(hostile[slowest].seconds, 3),
        "hostile_slowest": slowest,
        "hostile_max_rss_mib": round(hostile[fattest].rss_mib, 1),
        "hostile_fattest": fattest,
        "example_validate_rss_mib": round(results["example-plan"].rss_mib, 1),
        "baseline_load_workbook_rss_mib": round(baseline.rss_mib, 1),
        "corpus_files": count,
        "corpus_max_s": round(corpus_max, 3),
        "corpus_process_rss_mib": round(corpus_rss, 1),
    }
    print_report(rows, figures)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        one(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "--corpus":
        corpus()
    elif len(sys.argv) == 3 and sys.argv[1] == "--load-only":
        load_only(sys.argv[2])
    else:
        main()
