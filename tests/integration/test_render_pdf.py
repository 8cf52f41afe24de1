"""Plan documents as PDF through LibreOffice: every section's data is in the PDF's text
(pdftotext), custom reports hold only their sections, hostile text converts, and the
converters start LibreOffice once for many documents, keep time limits and leave no
process or temporary file behind. Also `aip render` end to end.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from aip_forms.cli import cli as aip
from aip_forms.config import Settings
from aip_forms.db.session import make_engine, upgrade
from exports.office import UnoConverter
from exports.pdf import ConversionFailed, ConverterMissing, LibreOfficeConverter, find_soffice
from exports.render import render_docx
from exports.suppression import suppress
from tests.unit.test_generate_queries import seed
from tests.unit.test_render_docx import (
    COLUMN_LABEL,
    CONFIG,
    GENERATED,
    REVIEW,
    document_text,
    example_plan,
    expected_texts,
    lea_data,
    squash,
)
from tests.unit.test_template_safety import HOSTILE, LONG, hostile_plan

libreoffice = pytest.mark.libreoffice
BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")  # pdftotext adds them


def pdf_text(path: Path) -> str:
    """The PDF's text without page headers and footers, whitespace squashed."""
    raw = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    furniture = re.compile(
        r"^(.* · .*Attendance Improvement Plan · FY\d{4}|Status: .*|.* · Generated .*"
        r"|Page \d+ of \d+|\d{4})$"
    )
    raw = BIDI_MARKS.sub("", raw)
    lines = [line for line in raw.replace("\f", "\n").splitlines() if not furniture.match(line)]
    return squash(" ".join(lines))


def unhyphenated(text: str) -> str:
    """pdftotext joins a word broken at a hyphen ("at-" / "risk" -> "atrisk"): compare
    without hyphens."""
    return squash(text).replace("-", "")


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> dict[str, tuple[Path, object, object]]:
    """Four documents rendered and converted in one go by the long-lived converter."""
    home = tmp_path_factory.mktemp("home")
    out = tmp_path_factory.mktemp("pdf")
    district, school = lea_data()[:2]
    school_plan, district_plan = example_plan(school, home), example_plan(district, home)
    documents = {
        "school": (school, school_plan, {"review": REVIEW}),
        "district": (district, district_plan, {"review": REVIEW}),
        "custom": (school, school_plan, {"sections": "contact,tiers"}),
        "hostile": (school, hostile_plan(school_plan), {}),
    }
    sources = []
    for name, (data, plan, kw) in documents.items():
        path = out / f"{name}.docx"
        path.write_bytes(render_docx(plan, data, CONFIG, generated=GENERATED, **kw))
        sources.append(path)
    pdfs = UnoConverter().convert(sources, out)
    return {
        name: (pdf, d, p) for (name, (d, p, _)), pdf in zip(documents.items(), pdfs, strict=True)
    }


@libreoffice
@pytest.mark.parametrize("name", ["school", "district"])
def test_every_sections_data_is_in_the_pdf_text(converted, name):
    pdf, data, plan = converted[name]
    text = unhyphenated(pdf_text(pdf))
    hidden = {code for *_, kind, code in suppress([data], CONFIG).hidden if kind != "tier"}
    words = set(text.split())
    missing = [
        (key, t)
        for key, t in expected_texts(plan, data, hidden)
        if not (
            set(unhyphenated(t.removeprefix(COLUMN_LABEL)).split()) <= words
            if t.startswith(COLUMN_LABEL)
            else unhyphenated(t) in text
        )
    ]
    assert missing == []
    assert unhyphenated("Add a timeline for the Tier 4 case management strategy.") in text


@libreoffice
def test_the_tiers_print_on_landscape_pages_and_the_rest_on_portrait(converted):
    reader = PdfReader(converted["school"][0])
    landscape = []
    for number, page in enumerate(reader.pages):
        box = page.mediabox
        if box.width > box.height:
            landscape.append(number)
        text = page.extract_text()
        if "Tier 1 (0-5% absence)" in text or "Step 5 - Final Submission" in text:
            assert (box.width > box.height) is ("Tier 1 (0-5% absence)" in text)
    assert landscape and landscape == list(range(landscape[0], landscape[-1] + 1))
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert "Step 4 - Tiers of Support" in titles and "Step 1 - Contact Information" in titles


@libreoffice
def test_a_custom_pdf_holds_only_the_chosen_sections(converted):
    text = pdf_text(converted["custom"][0])
    assert "Step 1 - Contact Information" in text and "Step 4 - Tiers of Support" in text
    for absent in (
        "Root Cause Analysis",
        "Final Submission",
        "Progress Updates",
        "Review Status and Comments",
        "Demographic Subgroups",
    ):
        assert absent not in text.split("Contents", 1)[1].split("Step 1 - Contact", 1)[1]


@libreoffice
def test_hostile_text_prints_as_typed_in_the_pdf(converted):
    text = pdf_text(converted["hostile"][0])
    for typed in ("jinja", "blocks", "docxtpl", "unicode"):
        assert squash(HOSTILE[typed]) in text, typed
    assert squash(HOSTILE["markup"]) in text
    assert text.count("Forty thousand characters of one reflection.") >= LONG.count("Forty") - 20


def _counting_soffice(tmp_path: Path) -> tuple[str, Path]:
    """A soffice that logs each start, then runs the real one."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    log = tmp_path / "starts.log"
    script = tmp_path / "soffice"
    script.write_text(f'#!/bin/sh\necho start >> "{log}"\nexec "{find_soffice()}" "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script), log


@libreoffice
def test_the_batch_converter_starts_libreoffice_once_and_cleans_up(
    converted, tmp_path, monkeypatch
):
    binary, log = _counting_soffice(tmp_path)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    sources = [converted[n][0].with_suffix(".docx") for n in ("school", "district", "custom")]
    pdfs = LibreOfficeConverter(binary=binary).convert(sources, tmp_path / "out")
    assert [p.name for p in pdfs] == ["school.pdf", "district.pdf", "custom.pdf"]
    assert all(PdfReader(p).pages for p in pdfs)
    assert log.read_text().count("start") == 1
    assert list(scratch.iterdir()) == []  # the profile and staging copies are gone


@libreoffice
def test_a_run_over_its_time_limit_is_stopped_and_leaves_no_process(
    converted, tmp_path, monkeypatch
):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    source = converted["school"][0].with_suffix(".docx")
    slow = LibreOfficeConverter(timeout=0.3, per_document=0, retries=1)
    with pytest.raises(ConversionFailed, match="timed out after 0 s"):
        slow.convert([source], tmp_path / "out")
    left = subprocess.run(["pgrep", "-f", str(scratch)], capture_output=True, text=True)
    assert left.stdout == ""
    assert list(scratch.iterdir()) == []


@libreoffice
def test_the_long_lived_converter_serves_many_calls_with_one_libreoffice(converted, tmp_path):
    binary, log = _counting_soffice(tmp_path)
    sources = [converted[n][0].with_suffix(".docx") for n in ("school", "custom")]
    with UnoConverter(binary=binary) as converter:
        first = converter.convert(sources[:1], tmp_path / "a")
        server = converter._server
        assert server is not None
        second = converter.convert(sources[1:], tmp_path / "b")
        assert converter._server is server
        office = server.office.pid
    assert log.read_text().count("start") == 1
    assert PdfReader(first[0]).pages and PdfReader(second[0]).pages
    with pytest.raises(ProcessLookupError):
        os.killpg(office, 0)  # its whole process group is gone


@libreoffice
def test_when_the_long_lived_office_fails_a_fresh_batch_run_converts_the_rest(converted, tmp_path):
    # the batch run has its own counting program: the server's soffice may be killed
    # (with its process group) before its wrapper script writes to a shared log
    batch, log = _counting_soffice(tmp_path / "batch")
    source = converted["custom"][0].with_suffix(".docx")
    broken = UnoConverter(
        binary=find_soffice(),
        python="/bin/false",  # its worker dies at once
        fallback=LibreOfficeConverter(binary=batch),
    )
    (pdf,) = broken.convert([source], tmp_path / "out")
    assert PdfReader(pdf).pages
    assert log.read_text().count("start") == 1  # the batch run converted it


@pytest.mark.parametrize("converter", [LibreOfficeConverter, UnoConverter])
def test_a_missing_libreoffice_says_what_to_install(converter, tmp_path):
    source = tmp_path / "plan.docx"
    source.write_bytes(b"not converted")
    with pytest.raises(ConverterMissing, match=r"apt-get install .*libreoffice-writer-nogui"):
        converter(binary=str(tmp_path / "no-soffice")).convert([source], tmp_path)


# ---- aip render -------------------------------------------------------------------------------


def run(*args: str):
    return CliRunner().invoke(aip, ["render", *args])


@pytest.fixture
def home(aip_home: Path) -> Path:
    engine = make_engine(Settings.from_env().database_url)
    upgrade(engine)
    seed(engine)
    engine.dispose()
    return aip_home


@pytest.fixture
def workbook(home: Path, tmp_path: Path) -> Path:
    path = tmp_path / "school.xlsx"
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
            str(path),
        ],
    )
    assert result.exit_code == 0, result.output
    return path


@libreoffice
def test_aip_render_prints_a_workbook_as_pdf(workbook, tmp_path):
    out = tmp_path / "plan.pdf"
    result = run(str(workbook), "--format", "pdf", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.output
    text = pdf_text(out)
    assert "BELEN HIGH" in text and "Step 4 - Tiers of Support" in text


def test_aip_render_writes_a_custom_docx_named_after_the_plan(workbook, tmp_path):
    result = run(
        str(workbook), "--sections", "contact,review", "--format", "docx", "--out", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    (written,) = tmp_path.glob("plan-FY2027-school-001002.docx")
    text = document_text(written.read_bytes())
    assert "Step 1 - Contact Information" in text and "Review Status and Comments" in text
    assert "Step 4 - Tiers of Support" not in text


def test_aip_render_prints_a_plan_with_problems_as_a_draft(home, tmp_path):
    blank = tmp_path / "blank.xlsx"
    result = CliRunner().invoke(
        aip,
        ["workbook", "generate", "--fy", "2027", "--lea", "001", "--out", str(blank)],
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "draft.docx"
    result = run(str(blank), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "problem(s)" in result.output and "marked as a draft" in result.output
    assert "Status: Draft, not valid" in document_text(out.read_bytes())


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--plan", "17", "--out", "x.pdf"], 2, "no plan 17"),
        (["--out", "x.pdf"], 2, "give a plan workbook FILE or --plan ID"),
        (
            ["WORKBOOK", "--sections", "contact,appendix", "--out", "x.docx"],
            2,
            "unknown section 'appendix'",
        ),
        (["WORKBOOK", "--format", "docx", "--out", "x.pdf"], 2, "--out ends in .pdf"),
    ],
)
def test_aip_render_refuses_bad_requests_with_a_message(args, code, message, workbook, tmp_path):
    args = [str(workbook) if a == "WORKBOOK" else a for a in args]
    args = [str(tmp_path / a) if a.startswith("x.") else a for a in args]
    result = run(*args)
    assert result.exit_code == code
    assert message in result.output and "Traceback" not in result.output


def test_aip_render_refuses_a_file_that_is_not_a_plan_workbook(home, tmp_path):
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 not really")
    result = run(str(junk), "--out", str(tmp_path / "x.docx"))
    assert result.exit_code == 2
    assert "junk.xlsx cannot be rendered" in result.output


def test_aip_render_says_when_the_database_lacks_the_plans_data(workbook, tmp_path, monkeypatch):
    monkeypatch.setenv("AIP_HOME", str(tmp_path / "empty-home"))  # same key, empty database
    result = run(str(workbook), "--out", str(tmp_path / "x.docx"))
    assert result.exit_code == 2
    assert "Unknown LEA code '001'" in result.output and "aip data load" in result.output


def test_aip_render_says_what_to_install_without_libreoffice(workbook, tmp_path, monkeypatch):
    monkeypatch.setenv("AIP_SOFFICE", str(tmp_path / "no-soffice"))
    monkeypatch.setenv("AIP_PDF_CONVERTER", "batch")
    result = run(str(workbook), "--out", str(tmp_path / "x.pdf"))
    assert result.exit_code == 3  # unavailable, as for a database or storage outage
    assert "apt-get install" in result.output and "Traceback" not in result.output


# ---- contents with page numbers (issue 13, point 1) ----------------------------------------

CONTENTS_LINE = re.compile(r"^(?P<title>\S.*?)\s*\.{3,}\s*(?P<page>\d+)$")


def pdf_pages(path: Path) -> list[list[str]]:
    """Each page's lines, as pdftotext reads them."""
    raw = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    return [
        [line.strip() for line in BIDI_MARKS.sub("", page).splitlines() if line.strip()]
        for page in raw.split("\f")
    ]


def contents_and_headings(path: Path) -> tuple[list[tuple[str, int]], dict[str, int]]:
    """The contents' (title, page number) and the page each of those titles is printed on
    as a heading (first after the contents; a long heading may wrap)."""
    pages = pdf_pages(path)
    contents = [
        (m["title"], int(m["page"]), n)
        for n, lines in enumerate(pages, start=1)
        for m in map(CONTENTS_LINE.match, lines)
        if m
    ]
    last = max(n for *_, n in contents)
    printed = {}
    for title, _, _ in contents:
        printed[title] = next(
            n
            for n, lines in enumerate(pages, start=1)
            if n > last
            and any(line == title or (len(line) >= 15 and title.startswith(line)) for line in lines)
        )
    return [(t, p) for t, p, _ in contents], printed


@libreoffice
@pytest.mark.parametrize("name", ["school", "district", "custom"])
def test_each_contents_line_gives_the_page_its_section_is_printed_on(converted, name):
    pdf = converted[name][0]
    contents, printed = contents_and_headings(pdf)
    expected = {"school": 10, "district": 10, "custom": 3}[name]  # summary, steps, sign-off
    assert len(contents) >= expected, contents
    assert [(t, printed[t]) for t, _ in contents] == contents
    numbers = [p for _, p in contents]
    assert numbers == sorted(numbers) and numbers[0] > 1  # the contents are on page 1
    footer = pdf_pages(pdf)[numbers[-1] - 1]
    assert f"Page {numbers[-1]} of {len(PdfReader(pdf).pages)}" in footer


@libreoffice
def test_a_batch_soffice_run_also_numbers_the_contents(converted, tmp_path):
    _, data, plan = converted["custom"]
    source = tmp_path / "src" / "plan.docx"
    source.parent.mkdir()
    source.write_bytes(render_docx(plan, data, CONFIG, generated=GENERATED))
    (pdf,) = LibreOfficeConverter().convert([source], tmp_path / "pdf")
    contents, printed = contents_and_headings(pdf)
    assert len(contents) >= 8
    assert [(t, printed[t]) for t, _ in contents] == contents
