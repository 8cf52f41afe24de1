"""The district packet: an LEA's district plan and every school plan as one PDF.

The packet opens with a cover and a table of contents (drawn with matplotlib's PDF
backend, its lines linked to the plans), then each plan's own document. The PDF has one
top-level bookmark per plan, holding that plan's section bookmarks. All plans are
rendered with the LEA's suppression, computed once over all of them, so that no
document reveals what another hides.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matplotlib.typing import RcKeyType
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.annotations import Link
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from aip_forms.config import ProgramConfig
from aip_forms.domain import FiscalYear, PlanKind
from aip_forms.errors import InvalidInput
from aip_forms.filled_plan import Plan
from aip_forms.issued_data import PlanData
from exports import layout
from exports.context import Glance, plan_glance, status_text
from exports.pdf import PdfConverter
from exports.render import render_docx, selection_for
from exports.review import ReviewInfo, format_when
from exports.suppression import suppress

if TYPE_CHECKING:
    from aip_forms.storage import ObjectStore

PlanItem = tuple[PlanData, Plan, ReviewInfo | None]

PAGE_W_IN, PAGE_H_IN = 8.5, 11.0
MARGIN_IN = 0.75
ROW_IN = 0.3
FIRST_PAGE_TOP_IN = 4.6  # the cover block above the first page's contents
NEXT_PAGE_TOP_IN = 1.5
FIRST_PAGE_ROWS = math.floor((PAGE_H_IN - FIRST_PAGE_TOP_IN - 1.0) / ROW_IN)
NEXT_PAGE_ROWS = math.floor((PAGE_H_IN - NEXT_PAGE_TOP_IN - 1.0) / ROW_IN)


class PacketError(InvalidInput, ValueError):
    """The plans given cannot make one packet."""


@dataclass(frozen=True)
class ContentsEntry:
    title: str
    status: str
    page: int  # 1-based page of the packet
    glance: Glance | None = None  # the plan's figures, as on its one-page summary


@dataclass(frozen=True)
class PacketResult:
    path: Path
    entries: tuple[ContentsEntry, ...]
    pages: int


def plan_title(data: PlanData) -> str:
    if data.school is None:
        return f"District plan: {data.lea.name}"
    return f"{data.school.name} ({data.school.code})"


def packet_order(items: Iterable[PlanItem]) -> list[PlanItem]:
    """The district plan first, then the school plans by name."""
    items = list(items)
    if not items:
        raise PacketError("no plans to compile")
    leas = {(d.lea.code, d.fiscal_year) for d, _, _ in items}
    if len(leas) > 1:
        raise PacketError(f"a packet holds one LEA's plans of one year, not {sorted(leas)}")
    seen: set[tuple[str, str | None]] = set()
    for d, _, _ in items:
        key = (d.lea.code, d.school.code if d.school else None)
        if key in seen:
            raise PacketError(f"two plans for {plan_title(d)}")
        seen.add(key)
    return sorted(
        items,
        key=lambda item: (
            item[0].kind is not PlanKind.DISTRICT,
            item[0].school.name if item[0].school else "",
            item[0].entity_code,
        ),
    )


def contents_pages(n: int) -> int:
    if n <= FIRST_PAGE_ROWS:
        return 1
    return 1 + math.ceil((n - FIRST_PAGE_ROWS) / NEXT_PAGE_ROWS)


def compile_packet(
    items: Iterable[PlanItem],
    out: Path,
    config: ProgramConfig,
    *,
    converter: PdfConverter,
    sections: str | Iterable[str] | None = None,
    generated: dt.date | None = None,
    all_data: Iterable[PlanData] | None = None,
    chart_store: ObjectStore | None = None,
) -> PacketResult:
    """Render every plan, convert them in one go, and bind them behind a contents page.

    Suppression is computed over `all_data` (the LEA's PlanData, also of plans not in the
    packet) when given, else over the packet's plans. Charts kept in `chart_store` (drawn
    when the plans were submitted) are read, not drawn."""
    ordered = packet_order(items)
    generated = generated or dt.date.today()
    keys = layout.parse_keys(sections)
    suppression = suppress(list(all_data) if all_data else [d for d, _, _ in ordered], config)
    with tempfile.TemporaryDirectory(prefix="aip-packet-") as tmp:
        work = Path(tmp)

        def documents() -> Iterator[Path]:
            for i, (data, plan, review) in enumerate(ordered):
                selection = selection_for(config.spec(data.kind), keys, strict=False)
                path = work / f"{i:04d}-{data.entity_code}.docx"
                path.write_bytes(
                    render_docx(
                        plan,
                        data,
                        config,
                        sections=selection,
                        review=review,
                        suppression=suppression,
                        generated=generated,
                        chart_store=chart_store,
                    )
                )
                yield path

        pdfs = converter.convert(documents(), work / "pdf")
        readers = [PdfReader(p) for p in pdfs]
        first_page = contents_pages(len(ordered)) + 1
        entries = []
        for (data, plan, review), reader in zip(ordered, readers, strict=True):
            glance = plan_glance(plan, data, config, suppression)
            entries.append(
                ContentsEntry(plan_title(data), status_text(plan, review), first_page, glance)
            )
            first_page += len(reader.pages)
        contents, links = contents_pdf(ordered[0][0], entries, generated, config.agency)
        writer = PdfWriter()
        writer.append(PdfReader(io.BytesIO(contents)), import_outline=False)
        for entry, reader in zip(entries, readers, strict=True):
            writer.append(reader, outline_item=entry.title)
        for page_index, rect, target in links:
            writer.add_annotation(page_index, Link(rect=rect, target_page_index=target))
        fy = FiscalYear(year=ordered[0][0].fiscal_year)
        writer.add_metadata(
            {
                "/Title": f"{ordered[0][0].lea.name}: attendance improvement plans, {fy.label}",
                "/Author": config.agency,
                "/Creator": "aip-forms",
            }
        )
        stamp_page_numbers(writer)
        writer.page_mode = "/UseOutlines"
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "wb") as f:
            writer.write(f)
        pages = len(writer.pages)
    return PacketResult(out, tuple(entries), pages)


Rect = tuple[float, float, float, float]
STAMP_PT = 8.0
STAMP_FROM_BOTTOM_PT = 14.0  # under each plan's own footer ("Page 2 of 10")


def stamp_page_numbers(writer: PdfWriter) -> None:
    """Number the packet's pages continuously ("Packet page 13 of 96"), centred in the bottom
    margin, so that the contents' page numbers are the numbers printed on the pages; each
    plan keeps its own "Page 1 of 10" (its own page count) in its footer."""
    total = len(writer.pages)
    for number, page in enumerate(writer.pages, start=1):
        box = page.mediabox
        width, height = float(box.width), float(box.height)
        text = f"Packet page {number} of {total}"
        x = float(box.left) + (width - len(text) * STAMP_PT * 0.5) / 2  # Helvetica ~0.5 em
        overlay = PageObject.create_blank_page(width=width, height=height)
        font = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
        overlay[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/FStamp"): font})}
        )
        stream = DecodedStreamObject()
        y = float(box.bottom) + STAMP_FROM_BOTTOM_PT
        stream.set_data(
            f"BT /FStamp {STAMP_PT} Tf 0.35 g {x:.1f} {y:.1f} Td ({text}) Tj ET".encode()
        )
        overlay[NameObject("/Contents")] = writer._add_object(stream)
        page.merge_page(overlay)


def contents_pdf(
    district: PlanData,
    entries: Sequence[ContentsEntry],
    generated: dt.date,
    agency: str,  # the program's (config.agency)
) -> tuple[bytes, list[tuple[int, Rect, int]]]:
    """The cover and contents pages, and their links: (page index, rectangle in points,
    target page index)."""
    import matplotlib as mpl
    from matplotlib.backends.backend_pdf import FigureCanvasPdf, PdfPages
    from matplotlib.figure import Figure

    fy = FiscalYear(year=district.fiscal_year)
    links: list[tuple[int, Rect, int]] = []
    buffer = io.BytesIO()
    style: dict[RcKeyType, Any] = {
        "pdf.fonttype": 42,
        "font.family": "DejaVu Sans",
        "text.parse_math": False,
    }
    with mpl.rc_context(style), PdfPages(buffer, metadata={"Creator": "aip-forms"}) as pdf:
        remaining = list(entries)
        page = 0
        while page == 0 or remaining:
            fig = Figure(figsize=(PAGE_W_IN, PAGE_H_IN))
            FigureCanvasPdf(fig)

            def text(x: float, y: float, s: str, figure: Figure = fig, **kw: object) -> None:
                figure.text(x / PAGE_W_IN, 1 - y / PAGE_H_IN, s, va="top", **kw)  # type: ignore[arg-type]

            if page == 0:
                top, rows = FIRST_PAGE_TOP_IN, FIRST_PAGE_ROWS
                text(
                    MARGIN_IN,
                    1.2,
                    agency,
                    size=11,
                    color="#595959",
                    weight="bold",
                )
                text(
                    MARGIN_IN,
                    1.6,
                    "District Packet: Attendance Improvement Plans",
                    size=20,
                    color="#1f3864",
                    weight="bold",
                )
                text(MARGIN_IN, 2.15, district.lea.name, size=15, weight="bold")
                text(
                    MARGIN_IN,
                    2.5,
                    f"LEA {district.lea.code} · Fiscal Year {fy.year} "
                    f"(school year {fy.school_year})",
                    size=11,
                )
                text(
                    MARGIN_IN,
                    2.8,
                    f"{len(entries)} plans · generated {format_when(generated)}",
                    size=11,
                )
                text(
                    MARGIN_IN,
                    3.15,
                    "Groups with fewer than "
                    f"{district.min_group_size} students, and the cells that would reveal "
                    "them, are shown as *.",
                    size=8.5,
                    style="italic",
                    color="#595959",
                )
                text(MARGIN_IN, 3.85, "Contents", size=13, weight="bold", color="#1f3864")
            else:
                top, rows = NEXT_PAGE_TOP_IN, NEXT_PAGE_ROWS
                text(
                    MARGIN_IN, 0.9, "Contents (continued)", size=13, weight="bold", color="#1f3864"
                )
            head: dict[str, Any] = {"size": 8, "weight": "bold", "color": "#595959"}
            last = district.history_years[-1] if district.history_years else district.fiscal_year
            text(MARGIN_IN, top - 0.35, "Plan", **head)
            text(STATUS_X, top - 0.35, "Status", **head)
            for x, label in zip(FIGURE_X, figure_labels(district.fiscal_year, last), strict=True):
                text(x, top - 0.45, label, ha="right", **head)
            text(PAGE_W_IN - MARGIN_IN, top - 0.35, "Page", ha="right", **head)
            for row, entry in enumerate(remaining[:rows]):
                y = top + row * ROW_IN
                text(MARGIN_IN, y, _fit(entry.title, 42), size=8.5)
                text(STATUS_X, y, _fit(entry.status, 28), size=7.5, color="#404040")
                for x, value in zip(FIGURE_X, _figures(entry), strict=True):
                    text(x, y, value, size=8.5, ha="right")
                text(PAGE_W_IN - MARGIN_IN, y, str(entry.page), size=9, ha="right")
                bottom_pt = (PAGE_H_IN - y - ROW_IN + 0.05) * 72
                rect = (
                    MARGIN_IN * 72,
                    bottom_pt,
                    (PAGE_W_IN - MARGIN_IN) * 72,
                    bottom_pt + ROW_IN * 72,
                )
                links.append((page, rect, entry.page - 1))
            remaining = remaining[rows:]
            pdf.savefig(fig)
            page += 1
    return buffer.getvalue(), links


STATUS_X = 3.6
FIGURE_X = (5.65, 6.15, 6.7, 7.25)  # right edges: rate, change, target, Tiers 3-4


def figure_labels(fiscal_year: int, last_year: int) -> tuple[str, ...]:
    return (
        f"Rate\nFY{last_year}",
        "Change",
        f"Target\nFY{fiscal_year}",
        "Tiers\n3 and 4",
    )


def _figures(entry: ContentsEntry) -> tuple[str, str, str, str]:
    g = entry.glance
    if g is None:
        return ("", "", "", "")
    return (g.latest, g.change, g.target, g.tiers)


def _fit(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
