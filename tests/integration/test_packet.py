"""Compiled documents: the district packet (one PDF, a bookmark per plan, a linked table
of contents) and the statewide summary workbook, through the API and `aip compile`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from pypdf import PdfReader

from aip_forms.cli import cli as aip
from aip_forms.config import Settings
from aip_forms.db.session import make_engine, upgrade
from exports.office import UnoConverter
from exports.packet import PacketError, compile_packet, packet_order, plan_title
from tests.unit.test_generate_queries import seed
from tests.unit.test_render_docx import CONFIG, GENERATED, REVIEW, example_plan, lea_data

libreoffice = pytest.mark.libreoffice


def top_bookmarks(reader: PdfReader) -> list[tuple[str, int]]:
    return [
        (item.title, reader.get_destination_page_number(item))
        for item in reader.outline
        if not isinstance(item, list)
    ]


@pytest.fixture(scope="module")
def items(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    datas = lea_data()
    plans = [(d, example_plan(d, home), REVIEW if d.school is None else None) for d in datas]
    return list(reversed(plans))  # the packet puts them in order itself


@pytest.fixture(scope="module")
def packet(items, tmp_path_factory):
    out = tmp_path_factory.mktemp("packet") / "packet.pdf"
    return compile_packet(items, out, CONFIG, converter=UnoConverter(), generated=GENERATED)


@libreoffice
def test_the_packet_has_one_bookmark_per_plan_at_its_first_page(packet, items):
    reader = PdfReader(packet.path)
    bookmarks = top_bookmarks(reader)
    district = next(d for d, _, _ in items if d.school is None)
    schools = sorted((d for d, _, _ in items if d.school), key=lambda d: d.school.name)
    assert [title for title, _ in bookmarks] == [plan_title(d) for d in [district, *schools]]
    assert [page + 1 for _, page in bookmarks] == [e.page for e in packet.entries]
    assert bookmarks[0][1] == 1  # after the one contents page
    assert len(reader.pages) == packet.pages
    for title, page in bookmarks:
        assert "Attendance Improvement Plan" in reader.pages[page].extract_text(), title
    nested = [item for item in reader.outline if isinstance(item, list)]
    assert len(nested) == len(bookmarks)  # each plan's own section bookmarks under it


@libreoffice
def test_the_contents_page_lists_every_plan_with_its_page_and_links_to_it(packet):
    reader = PdfReader(packet.path)
    text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(packet.path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "District Packet: Attendance Improvement Plans" in text
    for entry in packet.entries:
        assert entry.title in text and str(entry.page) in text
    assert "Returned" in text  # the district plan's review status
    links = [a.get_object() for a in reader.pages[0].get("/Annots", [])]
    targets = []
    for link in links:
        destination = link["/Dest"]
        targets.append(reader.get_page_number(destination[0].get_object()))
    assert targets == [e.page - 1 for e in packet.entries]


@libreoffice
def test_packet_pages_are_numbered_continuously_and_plans_keep_their_own_count(packet):
    """Issue 13 point 1: the contents' page numbers are the numbers printed on the pages."""
    pages = subprocess.run(
        ["pdftotext", "-layout", str(packet.path), "-"], capture_output=True, text=True,
        check=True,
    ).stdout.split("\f")[: packet.pages]  # fmt: skip
    for number, text in enumerate(pages, start=1):
        assert f"Packet page {number} of {packet.pages}" in text, number
    starts = [e.page for e in packet.entries] + [packet.pages + 1]
    for entry, end in zip(packet.entries, starts[1:], strict=False):
        own = end - entry.page  # the plan's own page count, in its footer
        assert f"Page 2 of {own}" in pages[entry.page], entry.title  # the title page has none
        assert f"Page {own} of {own}" in pages[end - 2], entry.title


@libreoffice
def test_the_cover_lists_every_plans_figures_as_its_summary_does(packet):
    """Issue 13 point 2: the cover's table has each plan's latest rate, change, target and
    students in Tiers 3 and 4, the figures of the plan's own one-page summary."""
    cover = subprocess.run(
        ["pdftotext", "-layout", "-f", "1", "-l", "1", str(packet.path), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "Target" in cover and "Tiers" in cover
    lines = cover.splitlines()
    for entry in packet.entries:
        g = entry.glance
        assert g is not None and g.target not in ("", "—"), entry.title
        (line,) = [line for line in lines if line.strip().startswith(entry.title[:20])]
        assert line.split()[-5:] == [g.latest, g.change, g.target, g.tiers, str(entry.page)]


@libreoffice
def test_short_sections_share_pages(packet):
    """Issue 13 point 1: Final Submission and Progress Updates on one page, Review Status
    and Sign-off on one page, in every plan (they were a page each)."""
    pages = subprocess.run(
        ["pdftotext", str(packet.path), "-"], capture_output=True, text=True, check=True
    ).stdout.split("\f")
    for pair in (("Step 5 - Final Submission", "Step 6 - Progress Updates"),
                 ("Review Status and Comments", "Sign-off\n")):  # fmt: skip
        shared = [p for p in pages if pair[0] in p and pair[1] in p and "Contents" not in p]
        assert len(shared) == len(packet.entries), pair


@libreoffice
def test_every_plan_in_the_packet_hides_the_same_cells(packet, items):
    text = subprocess.run(
        ["pdftotext", str(packet.path), "-"], capture_output=True, text=True, check=True
    ).stdout
    small = next(d for d, _, _ in items if d.school and d.subgroups[4].enrollment == 3)
    assert small.subgroups[4].code == "asian"
    plan_text = text.split(small.school.name, 2)[-1]
    assert "\nAsian\n" in plan_text and "63.0%" not in plan_text


def test_a_packet_holds_one_leas_plans_once(items):
    other = items[0][0].model_copy(
        update={"lea": items[0][0].lea.model_copy(update={"code": "002"})}
    )
    with pytest.raises(PacketError, match="one LEA's plans"):
        packet_order([*items, (other, items[0][1], None)])
    with pytest.raises(PacketError, match="two plans for"):
        packet_order([*items, items[0]])
    with pytest.raises(PacketError, match="no plans"):
        packet_order([])


# ---- aip compile ---------------------------------------------------------------------------


def run(*args: str):
    return CliRunner().invoke(aip, ["compile", *args])


@pytest.fixture
def home(aip_home: Path) -> Path:
    engine = make_engine(Settings.from_env().database_url)
    upgrade(engine)
    seed(engine)
    engine.dispose()
    return aip_home


@libreoffice
def test_aip_compile_makes_the_district_packet_from_example_plans(home, tmp_path):
    out = tmp_path / "packet.pdf"
    result = run("--fy", "2027", "--lea", "001", "--examples", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}: 3 plans" in result.output
    titles = [title for title, _ in top_bookmarks(PdfReader(out))]
    assert titles == [
        "District plan: BELEN CONSOLIDATED SCHOOLS",
        "BELEN ELEMENTARY (001001)",
        "BELEN HIGH (001002)",
    ]


@libreoffice
def test_aip_compile_takes_the_newest_valid_workbooks_of_a_folder(home, tmp_path):
    folder = tmp_path / "uploads"
    folder.mkdir()
    (folder / "broken.xlsx").write_bytes(b"not a workbook")
    result = CliRunner().invoke(
        aip,
        [
            "workbook",
            "example",
            "--fy",
            "2027",
            "--lea",
            "001",
            "--school",
            "001002",
            "--out",
            str(folder / "high.xlsx"),
        ],
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "packet.pdf"
    result = run("--fy", "2027", "--lea", "001", "--from", str(folder), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output and "broken.xlsx" in result.output
    assert "no valid plan for BELEN ELEMENTARY" in result.output
    assert [t for t, _ in top_bookmarks(PdfReader(out))] == ["BELEN HIGH (001002)"]


def test_aip_compile_writes_the_statewide_summary(home, tmp_path):
    folder = tmp_path / "uploads"
    result = CliRunner().invoke(
        aip,
        [
            "workbook",
            "example",
            "--fy",
            "2027",
            "--lea",
            "001",
            "--out",
            str(folder / "district.xlsx"),
        ],
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "summary.xlsx"
    result = run("--fy", "FY2027", "--statewide", "--from", str(folder), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "received" in result.output
    wb = load_workbook(out)
    sheet = wb["Summary"]
    assert sheet.freeze_panes == "A2"
    assert (
        sheet.auto_filter.ref
        == f"A1:{sheet.cell(1, sheet.max_column).column_letter}{sheet.max_row}"
    )
    assert not sheet.protection.sheet
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    header = [c.value for c in sheet[1]]
    status = header.index("Plan Status")
    plans = {(r[1], r[3]): r[status] for r in rows}
    assert plans[("001", None)] == "Certified, not yet reviewed"
    assert plans[("001", "001001")] == "No plan received"
    assert {r[1] for r in rows} == {"001", "002"}
    target = header.index("Target FY2027")
    # the district plan's targets: all hidden in this small LEA ("*"); groups without data
    # have none (issue 13: no default target where there is nothing to aim at)
    district = [r for r in rows if r[3] is None and r[1] == "001"]
    assert "*" in {r[target] for r in district} and {r[target] for r in district} <= {"*", None}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fy", "2027", "--out", "x.pdf"], "give --lea CODE"),
        (["--fy", "2027", "--lea", "001", "--statewide", "--out", "x.pdf"], "give --lea CODE"),
        (
            ["--fy", "2027", "--lea", "001", "--out", "x.pdf"],
            "no plans of LEA 001 for FY2027 to compile",
        ),
        (["--fy", "2027", "--lea", "001", "--examples", "--out", "x.xlsx"], "must be a .pdf"),
        (["--fy", "2027", "--statewide", "--out", "x.pdf"], "must be a .xlsx"),
        (["--fy", "20x7", "--statewide", "--out", "x.xlsx"], "not a fiscal year"),
        (["--fy", "2027", "--lea", "NOPE", "--examples", "--out", "x.pdf"], "Unknown LEA code"),
        (
            [
                "--fy",
                "2027",
                "--lea",
                "001",
                "--examples",
                "--sections",
                "appendix",
                "--out",
                "x.pdf",
            ],
            "unknown section 'appendix'",
        ),
    ],
)
def test_aip_compile_refuses_bad_requests_with_a_message(args, message, home, tmp_path):
    args = [str(tmp_path / a) if a.startswith("x.") else a for a in args]
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
