"""Benchmark: plan workbook generation, compiled templates against the openpyxl builder.

Run with `python -m bench.bench_workbook`. Writes the statewide sample data (write_sample),
loads it into a temporary SQLite database, then times:

- one school workbook (a school of median size) and one district workbook (the LEA with the
  most schools): the compiled path (`compiled.render`) against building the same workbook
  from scratch with openpyxl (`build.build_workbook` + save), both to bytes in memory,
  median of RUNS each, and their ratio;
- the statewide set: reading every plan from the database (`all_plan_data`) plus
  `generate_all` with one worker per core, in this process; and the same through the
  command line (`aip workbook generate --all`), as wall time including Python's start-up.

Prints a table and one JSON line.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import openpyxl

from aip_forms.config import ProgramConfig, Settings
from aip_forms.data.load import load_paths
from aip_forms.data.queries import all_plan_data
from aip_forms.data.sample import write_sample
from aip_forms.db.session import make_engine, upgrade
from aip_forms.domain import PlanKind
from aip_forms.issued_data import PlanData
from aip_forms.spec import spec_for
from aip_forms.workbook_format.metadata import issued_at_text
from bench.common import median_seconds, print_report
from workbook_templates.build import build_workbook
from workbook_templates.compiled import compile_template, render
from workbook_templates.generate import generate_all

RUNS = 15
FISCAL_YEAR = 2027


def single(
    data: PlanData, config: ProgramConfig, settings: Settings
) -> tuple[float, float, float, int]:
    """(compiled s, builder s, compile-once s, bytes) for one plan's workbook."""
    spec = spec_for(data.kind)
    issued = issued_at_text()
    start = time.perf_counter()
    template = compile_template(spec, config, settings, FISCAL_YEAR)
    compile_seconds = time.perf_counter() - start

    def reference() -> None:
        build_workbook(spec, data, config, settings, issued_at=issued).save(io.BytesIO())

    compiled = median_seconds(lambda: render(template, data, issued), RUNS)
    builder = median_seconds(reference, RUNS)
    return compiled, builder, compile_seconds, len(render(template, data, issued))


def main() -> None:
    config = ProgramConfig()
    workers = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="aip-bench-") as tmp:
        root = Path(tmp)
        home = root / "home"
        settings = Settings(
            home=home,
            database_url=f"sqlite:///{root / 'aip.db'}",
            secret_key=b"bench-secret",
            workbook_password="bench-password",
        )
        write_sample(root / "sample", fiscal_year=FISCAL_YEAR)
        engine = make_engine(settings.database_url)
        upgrade(engine)
        report = load_paths(engine, config, [root / "sample"])
        assert report.ok, report.problems[:5]

        start = time.perf_counter()
        plans = list(all_plan_data(engine, config, FISCAL_YEAR))
        read_seconds = time.perf_counter() - start
        schools = sorted(
            (p for p in plans if p.kind is PlanKind.SCHOOL), key=lambda p: p.entity_code
        )
        school = sorted(schools, key=lambda p: p.subgroups[0].enrollment or 0)[len(schools) // 2]
        district = max(
            (p for p in plans if p.kind is PlanKind.DISTRICT), key=lambda p: len(p.schools)
        )

        s_fast, s_ref, s_compile, s_bytes = single(school, config, settings)
        d_fast, d_ref, d_compile, d_bytes = single(district, config, settings)

        out = root / "out"
        start = time.perf_counter()
        plans = list(all_plan_data(engine, config, FISCAL_YEAR))
        summary = generate_all(plans, out, config, settings, workers=workers)
        statewide = time.perf_counter() - start
        assert not summary.failures, summary.failures[:3]
        check = openpyxl.load_workbook(next(out.rglob("district-*.xlsx")))
        assert check.sheetnames[0] == "Instructions"

        shutil.rmtree(out)
        env = {
            **os.environ,
            "AIP_HOME": str(home),
            "AIP_DATABASE_URL": settings.database_url,
            "AIP_SECRET_KEY": "bench-secret",
        }
        command = [sys.executable, "-c", "from aip_forms.cli import main; main()"]
        command += ["workbook", "generate", "--fy", str(FISCAL_YEAR), "--all", "--out", str(out)]
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=600)
        cli_seconds = time.perf_counter() - start
        engine.dispose()

    counts = dict(summary.counts)
    figures = {
        "benchmark": "workbook_generation",
        "runs": RUNS,
        "school_compiled_median_s": round(s_fast, 4),
        "school_builder_median_s": round(s_ref, 4),
        "school_ratio": round(s_fast / s_ref, 3),
        "school_rows": len(school.subgroups) + len(school.grades),
        "school_bytes": s_bytes,
        "district_schools": len(district.schools),
        "district_compiled_median_s": round(d_fast, 4),
        "district_builder_median_s": round(d_ref, 4),
        "district_ratio": round(d_fast / d_ref, 3),
        "district_bytes": d_bytes,
        "compile_school_s": round(s_compile, 3),
        "compile_district_s": round(d_compile, 3),
        "read_all_plan_data_s": round(read_seconds, 2),
        "statewide_plans": counts,
        "statewide_in_process_s": round(statewide, 2),
        "statewide_generate_s": round(summary.seconds, 2),
        "statewide_cli_wall_s": round(cli_seconds, 2),
        "workers": workers,
        "openpyxl": openpyxl.__version__,
    }
    rows = [
        (
            f"school workbook, median of {RUNS}",
            f"compiled {s_fast * 1000:.1f} ms, builder {s_ref * 1000:.1f} ms, "
            f"ratio {s_fast / s_ref:.3f}",
        ),
        (
            f"district workbook ({len(district.schools)} schools), median of {RUNS}",
            f"compiled {d_fast * 1000:.1f} ms, builder {d_ref * 1000:.1f} ms, "
            f"ratio {d_fast / d_ref:.3f}",
        ),
        (
            "compile templates (once per kind)",
            f"school {s_compile:.3f} s, district {d_compile:.3f} s",
        ),
        ("read every plan (all_plan_data)", f"{read_seconds:.2f} s"),
        (
            f"statewide, in process ({workers} workers)",
            f"{statewide:.2f} s for {sum(counts.values())} plans {counts}",
        ),
        ("statewide, `aip workbook generate --all`", f"{cli_seconds:.2f} s wall"),
    ]
    print_report(rows, figures)


if __name__ == "__main__":
    main()
