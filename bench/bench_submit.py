"""Benchmark: submit (validate, store, record) on the local backend and SQLite, the embedded
defaults.

Run with `python -m bench.bench_submit`. Generates 100 example workbooks, one per school of
one LEA, each submitted (final) by that school's coordinator, one after the other. The
validator is timed inside each submit, so the store-and-record overhead of a submit is its
time less its validation. Prints a table and one JSON line: medians per workbook and the
overhead as a ratio of validation time (the aim is 1.0 or less).
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from aip_forms.bootstrap import App
from aip_forms.config import ProgramConfig, Settings
from aip_forms.db.models import LeaRow, SchoolRow
from aip_forms.db.session import make_engine, upgrade
from aip_forms.domain import Lea, School
from aip_forms.services.integrity import verify
from aip_forms.services.submissions import submit
from aip_forms.services.uow import sql_uow
from aip_forms.services.users import add_user
from aip_forms.spec import spec_for
from aip_forms.storage import LocalObjectStore
from bench.common import print_report
from validators.validate import Expectation, ValidationReport
from workbook_templates.example import example_workbook
from workbook_templates.synthetic import plan_data

WORKBOOKS = 100


def main() -> None:
    config = ProgramConfig()
    with tempfile.TemporaryDirectory(prefix="aip-bench-") as tmp:
        home = Path(tmp)
        settings = Settings(home=home, database_url=f"sqlite:///{home / 'aip.db'}",
                            secret_key=b"bench-key", workbook_password="bench")  # fmt: skip
        engine = make_engine(settings.database_url)
        upgrade(engine)
        lea = Lea(code="001", name="BENCH DISTRICT")
        schools = [School(code=f"001{i:03d}", lea_code="001", name=f"SCHOOL {i}",
                          grade_low="9", grade_high="12") for i in range(WORKBOOKS)]  # fmt: skip
        with engine.begin() as c:
            c.execute(insert(LeaRow), [{"code": lea.code, "name": lea.name, "type": "district"}])
            c.execute(insert(SchoolRow), [s.model_dump() for s in schools])
        uow = sql_uow(engine)
        books = []
        for school in schools:
            add_user(f"c{school.code}@bench.org", "school_coordinator", school_code=school.code,
                     uow=uow)  # fmt: skip
            plan = plan_data(config, 2027, lea, school, schools=tuple(schools))
            buffer = io.BytesIO()
            example_workbook(spec_for(plan.kind), plan, config, settings).save(buffer)
            books.append((school.code, buffer.getvalue()))

        store = LocalObjectStore(home / "objects")
        real = App(settings, config).validator
        validation: list[float] = []

        def timed(data: bytes, *, filename: str | None, expect: Expectation, final: bool
                  ) -> ValidationReport:  # fmt: skip
            start = time.perf_counter()
            try:
                return real(data, filename=filename, expect=expect, final=final)
            finally:
                validation.append(time.perf_counter() - start)

        totals = []
        for code, data in books:
            start = time.perf_counter()
            result = submit(data, user_email=f"c{code}@bench.org", uow=uow, store=store,
                            validate=timed, final=True, filename=f"{code}.xlsx")  # fmt: skip
            totals.append(time.perf_counter() - start)
            if result.outcome != "stored":
                sys.exit(f"submit of {code} failed: {result.outcome}: {result.message}")
        report = verify(uow=uow, store=store)
        engine.dispose()
        size = statistics.median(len(d) for _, d in books)

    overheads = [t - v for t, v in zip(totals, validation, strict=True)]
    total, valid, over = (statistics.median(x) for x in (totals, validation, overheads))
    figures = {
        "benchmark": "submit",
        "workbooks": WORKBOOKS,
        "backend": "local",
        "database": "sqlite",
        "workbook_bytes_median": int(size),
        "submit_median_s": round(total, 4),
        "validate_median_s": round(valid, 4),
        "store_and_record_median_s": round(over, 4),
        "overhead_ratio": round(over / valid, 2),
        "submit_total_s": round(sum(totals), 2),
        "verified_ok": report.ok,
    }
    rows = [
        ("workbooks submitted (final, one per school)", f"{WORKBOOKS}"),
        ("workbook size, median", f"{int(size):,} bytes"),
        ("submit, median per workbook", f"{total * 1000:.1f} ms"),
        ("  validation, median", f"{valid * 1000:.1f} ms"),
        ("  store and record, median", f"{over * 1000:.1f} ms"),
        ("overhead / validation (aim <= 1.0)", f"{over / valid:.2f}"),
        ("all 100, sequential", f"{sum(totals):.2f} s"),
        ("verified after the run", f"{report.ok} ok, {len(report.problems)} problems"),
    ]
    print_report(rows, figures)


if __name__ == "__main__":
    main()
