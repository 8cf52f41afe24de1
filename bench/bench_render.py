"""Benchmark: plan documents (DOCX, PDF) and the district packet.

Run with `python -m bench.bench_render`. Builds a synthetic LEA of 30 schools (elementary,
middle and high) with example plans (not timed), then times:

- DOCX per plan: a full school report with its four charts, each plan drawn fresh (charts
  are cached per content, so a re-render is timed apart), the same without charts, and a
  district report; baseline: saving a one-paragraph python-docx document. The fresh
  report is set against the baseline and the 200 ms goal, and its charts' share (fresh
  minus cached) is shown apart;
- PDF per plan: one plan through a fresh `soffice` run (start-up included), one plan
  through a LibreOffice already running (UNO), and ten plans through one UNO run with
  rendering overlapping conversion; baseline: converting a one-line document with a bare
  `soffice --convert-to pdf` run;
- the district packet of 30 school plans and the district plan (render, convert, bind),
  with the long-lived converter and with one batch `soffice` run.

Goals (issue 5): DOCX 200 ms or less per plan, PDF 1.5 s or less per plan, the packet
20 s or less. Prints a table and one JSON line.
"""

from __future__ import annotations

import io
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import docx

from aip_forms.config import ProgramConfig, Settings
from aip_forms.domain import Lea, School
from aip_forms.filled_plan import Plan
from aip_forms.issued_data import PlanData
from aip_forms.services.plan_sources import example_plans
from bench.common import median_seconds, print_report
from exports import charts, layout
from exports.office import UnoConverter
from exports.packet import compile_packet
from exports.pdf import LibreOfficeConverter
from exports.render import render_docx
from workbook_templates import synthetic

FISCAL_YEAR = 2027
SCHOOLS = 30
RUNS = 7
DOCX_GOAL_S = 0.2
KINDS = (("ELEMENTARY", "PK", "5"), ("MIDDLE", "6", "8"), ("HIGH", "9", "12"))


def lea_plans(config: ProgramConfig, settings: Settings) -> list[tuple[PlanData, Plan]]:
    lea = Lea(code="099", name="BENCH MUNICIPAL SCHOOLS")
    schools = tuple(
        School(
            code=f"099-{i:03d}",
            lea_code="099",
            name=f"BENCH {KINDS[i % 3][0]} {i + 1}",
            grade_low=KINDS[i % 3][1],
            grade_high=KINDS[i % 3][2],
        )
        for i in range(SCHOOLS)
    )
    datas = [synthetic.plan_data(config, FISCAL_YEAR, lea, None, schools)]
    datas += [synthetic.plan_data(config, FISCAL_YEAR, lea, s) for s in schools]
    return list(example_plans(datas, config, settings))


def baseline_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("One line.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    config = ProgramConfig()
    with tempfile.TemporaryDirectory(prefix="aip-bench-render-") as tmp:
        root = Path(tmp)
        settings = Settings(
            home=root, database_url="sqlite://", secret_key=b"bench", workbook_password="bench"
        )
        plans = lea_plans(config, settings)
        district, schools = plans[0], plans[1:]

        # ---- DOCX ------------------------------------------------------------------------
        base_docx = median_seconds(baseline_docx, RUNS * 3)
        render_docx(*reversed(schools[0]), config)  # imports, template compilation
        charts.clear_cache()
        fresh = [timed(lambda d=d, p=p: render_docx(p, d, config)) for d, p in schools[1:11]]
        docx_fresh, docx_fresh_max = statistics.median(fresh), max(fresh)
        data, plan = schools[1]
        docx_cached = median_seconds(lambda: render_docx(plan, data, config), RUNS)
        no_charts = layout.Selection(layout.section_keys(data.kind), charts=False, full=True)
        docx_plain = median_seconds(
            lambda: render_docx(plan, data, config, sections=no_charts), RUNS
        )
        d_data, d_plan = district
        render_docx(d_plan, d_data, config)  # the district template's compilation
        charts.clear_cache()
        docx_district = timed(lambda: render_docx(d_plan, d_data, config))
        pages_docx = render_docx(plan, data, config)

        # ---- PDF -------------------------------------------------------------------------
        one_line = root / "one-line.docx"
        one_line.write_bytes(baseline_docx())
        base_pdf = timed(lambda: LibreOfficeConverter().convert([one_line], root / "base"))

        def fresh_soffice() -> None:
            source = root / "single.docx"
            source.write_bytes(render_docx(plan, data, config))
            LibreOfficeConverter().convert([source], root / "single")

        pdf_cold = timed(fresh_soffice)
        with UnoConverter() as office:
            office.convert([one_line], root / "warm")  # started before the request comes

            def warm_office() -> None:
                source = root / "warm.docx"
                source.write_bytes(render_docx(plan, data, config))
                office.convert([source], root / "warm")

            pdf_warm = median_seconds(warm_office, 3, warm_up=False)

        def ten(d: Path) -> list[Path]:
            def sources() -> Iterator[Path]:
                for i, (sd, sp) in enumerate(schools[11:21]):
                    path = d / f"s{i}.docx"
                    path.write_bytes(render_docx(sp, sd, config))
                    yield path

            d.mkdir()
            return UnoConverter().convert(sources(), d / "pdf")

        charts.clear_cache()
        pdf_ten = timed(lambda: ten(root / "ten")) / 10

        # ---- packet ----------------------------------------------------------------------
        items = [(d, p, None) for d, p in plans]
        charts.clear_cache()
        start = time.perf_counter()
        result = compile_packet(items, root / "packet.pdf", config, converter=UnoConverter())
        packet_uno = time.perf_counter() - start
        charts.clear_cache()
        start = time.perf_counter()
        compile_packet(items, root / "packet-batch.pdf", config, converter=LibreOfficeConverter())
        packet_batch = time.perf_counter() - start

    figures = {
        "benchmark": "render",
        "runs": RUNS,
        "baseline_docx_s": round(base_docx, 4),
        "docx_school_fresh_charts_s": round(docx_fresh, 3),
        "docx_school_fresh_charts_max_s": round(docx_fresh_max, 3),
        "docx_school_cached_charts_s": round(docx_cached, 3),
        "docx_charts_share_s": round(docx_fresh - docx_cached, 3),
        "docx_goal_met": docx_fresh <= DOCX_GOAL_S,
        "docx_school_no_charts_s": round(docx_plain, 3),
        "docx_district_s": round(docx_district, 3),
        "docx_ratio_fresh": round(docx_fresh / base_docx, 1),
        "docx_bytes": len(pages_docx),
        "baseline_soffice_one_line_s": round(base_pdf, 2),
        "pdf_single_fresh_soffice_s": round(pdf_cold, 2),
        "pdf_single_running_office_s": round(pdf_warm, 2),
        "pdf_per_plan_of_10_s": round(pdf_ten, 2),
        "pdf_ratio_running": round(pdf_warm / base_pdf, 2),
        "packet_plans": len(items),
        "packet_pages": result.pages,
        "packet_uno_s": round(packet_uno, 1),
        "packet_batch_s": round(packet_batch, 1),
        "packet_ratio": round(packet_uno / base_pdf, 1),
        "goals": {"docx_s": DOCX_GOAL_S, "pdf_s": 1.5, "packet_s": 20},
    }
    rows = [
        ("baseline: python-docx one paragraph, save", f"{base_docx * 1000:.1f} ms"),
        (
            "DOCX school plan, full report, fresh charts",
            f"{docx_fresh * 1000:.0f} ms (median of {len(fresh)} plans, slowest "
            f"{docx_fresh_max * 1000:.0f} ms; {docx_fresh / base_docx:.0f}x baseline; goal "
            f"{DOCX_GOAL_S * 1000:.0f} ms {'met' if docx_fresh <= DOCX_GOAL_S else 'MISSED'})",
        ),
        ("DOCX same plan again (charts cached)", f"{docx_cached * 1000:.0f} ms"),
        ("  so four fresh charts cost", f"{(docx_fresh - docx_cached) * 1000:.0f} ms"),
        ("DOCX school plan without charts", f"{docx_plain * 1000:.0f} ms"),
        (f"DOCX district plan ({SCHOOLS} schools), fresh charts", f"{docx_district * 1000:.0f} ms"),
        ("baseline: bare soffice, one-line document", f"{base_pdf:.2f} s"),
        ("PDF one plan, fresh soffice run", f"{pdf_cold:.2f} s"),
        (
            "PDF one plan, LibreOffice running (UNO)",
            f"{pdf_warm:.2f} s ({pdf_warm / base_pdf:.2f}x baseline)",
        ),
        ("PDF per plan, 10 plans in one UNO run", f"{pdf_ten:.2f} s"),
        (
            f"packet: district + {SCHOOLS} schools, {result.pages} pages",
            f"UNO {packet_uno:.1f} s ({packet_uno / base_pdf:.1f}x baseline), "
            f"batch soffice {packet_batch:.1f} s",
        ),
    ]
    print_report(rows, figures)


if __name__ == "__main__":
    main()
