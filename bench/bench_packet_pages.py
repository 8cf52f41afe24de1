"""Measure: how much of a district packet is blank paper (issue 13 point 1).

Run with `python -m bench.bench_packet_pages`. Builds a synthetic LEA (the district plan and
three school plans, elementary, middle, high, with example answers; not timed), compiles
its packet through the long-lived LibreOffice, and reads every page with `pdftotext
-layout`: a page is "at least two-thirds blank" when its body (without the page header,
footers and the packet page stamp) has fewer than a third of the lines of the fullest page.
Title pages and pages that are mostly a chart count as blank by this measure, so the figure
is an upper bound. Prints a table and one JSON line.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from aip_forms.config import ProgramConfig, Settings
from aip_forms.domain import Lea, School
from aip_forms.services.plan_sources import example_plans
from bench.common import print_report
from exports.office import UnoConverter
from exports.packet import compile_packet
from workbook_templates import synthetic

FISCAL_YEAR = 2027
KINDS = (("ELEMENTARY", "PK", "5"), ("MIDDLE", "6", "8"), ("HIGH", "9", "12"))
FURNITURE = ("Page ", "Generated", "Attendance Improvement Plan ·", "Packet page")


def body_lines(page: str) -> int:
    return sum(1 for line in page.splitlines() if line.strip() and not any(
        word in line for word in FURNITURE))  # fmt: skip


def main() -> None:
    config = ProgramConfig()
    with tempfile.TemporaryDirectory(prefix="aip-bench-pages-") as tmp:
        home = Path(tmp)
        settings = Settings(home=home, database_url="sqlite://", secret_key=b"bench",
                            workbook_password="bench", environment={})  # fmt: skip
        lea = Lea(code="099", name="BENCH MUNICIPAL SCHOOLS")
        schools = tuple(
            School(code=f"099-{i:03d}", lea_code="099", name=f"BENCH {name} {i + 1}",
                   grade_low=low, grade_high=high)
            for i, (name, low, high) in enumerate(KINDS)
        )  # fmt: skip
        datas = [synthetic.plan_data(config, FISCAL_YEAR, lea, None, schools)]
        datas += [synthetic.plan_data(config, FISCAL_YEAR, lea, s) for s in schools]
        items = [(d, p, None) for d, p in example_plans(datas, config, settings)]
        with UnoConverter() as converter:
            result = compile_packet(items, home / "packet.pdf", config, converter=converter)
        text = subprocess.run(["pdftotext", "-layout", str(result.path), "-"],
                              capture_output=True, text=True, check=True).stdout  # fmt: skip
    lines = [body_lines(page) for page in text.split("\f")[: result.pages]]
    full = max(lines)
    blank = [i + 1 for i, n in enumerate(lines) if n < full / 3]
    rows = [
        ("packet: district plan + 3 school plans", f"{result.pages} pages"),
        ("pages at least two-thirds blank", f"{len(blank)} (pages {', '.join(map(str, blank))})"),
        ("fullest page", f"{full} body lines"),
    ]
    print_report(rows, {"packet_pages": result.pages, "mostly_blank_pages": len(blank)})


if __name__ == "__main__":
    main()
