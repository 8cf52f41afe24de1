"""Plan documents as DOCX: every section's data is there, custom reports hold only what was
chosen, charts are inline images at print resolution, tables repeat their header rows and
the strategies print on landscape pages.

The builders at the top (example plans read back through validation, their expected
texts) are shared with the other rendering tests.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from PIL import Image

from aip_forms.catalog import OTHER_STRATEGY
from aip_forms.config import ProgramConfig, Settings
from aip_forms.domain import Lea, PlanKind, School
from aip_forms.filled_plan import Plan
from aip_forms.issued_data import DataRow, PlanData
from aip_forms.spec import FieldType
from aip_forms.workbook_format.layout import history_labels
from exports import layout
from exports.render import PlanMismatch, render_docx
from exports.review import ReviewComment, ReviewInfo
from exports.suppression import suppress
from validators.validate import validate_upload
from workbook_templates import synthetic
from workbook_templates.example import example_workbook

CONFIG = ProgramConfig()
KEY = b"render-test-key"
FY = 2027
GENERATED = dt.date(2026, 10, 21)
LEA = Lea(code="001", name="BELEN CONSOLIDATED SCHOOLS")
SCHOOLS = (
    School(code="001-001", lea_code="001", name="BELEN HIGH", grade_low="9", grade_high="12"),
    School(
        code="001-002", lea_code="001", name="LA MERCED ELEMENTARY", grade_low="PK", grade_high="5"
    ),
    School(code="001-003", lea_code="001", name="BELEN MIDDLE", grade_low="6", grade_high="8"),
)
REVIEW = ReviewInfo(
    status="returned",
    reviewer="Dana Ortiz",
    reviewed_at=dt.datetime(2026, 10, 20, 9, 30),
    submitted_by="Kristin Garcia",
    submitted_at=dt.datetime(2026, 10, 1, 16, 2),
    version=2,
    comments=(
        ReviewComment(
            "Dana Ortiz",
            "Add a timeline for the Tier 4 case management strategy.",
            dt.datetime(2026, 10, 20, 9, 25),
            "section tiers",
        ),
    ),
)


def settings(home: Path) -> Settings:
    return Settings(home=home, database_url="sqlite://", secret_key=KEY, workbook_password="pw")


def with_small_group(data: PlanData, code: str = "asian", n: int = 3) -> PlanData:
    """`data` with one subgroup under the minimum size."""
    rows = tuple(
        DataRow(code=r.code, label=r.label, enrollment=n, rates=(61.0, 62.0, 63.0))
        if r.code == code
        else r
        for r in data.subgroups
    )
    return data.model_copy(update={"subgroups": rows})


def lea_data() -> list[PlanData]:
    """The district plan's data and its three schools', one school with a group of 3."""
    district = synthetic.plan_data(CONFIG, FY, LEA, None, SCHOOLS)
    schools = [synthetic.plan_data(CONFIG, FY, LEA, s) for s in SCHOOLS]
    schools[0] = with_small_group(schools[0])
    return [district, *schools]


def example_plan(data: PlanData, home: Path) -> Plan:
    """The example answers for `data`, read back from the workbook like an upload."""
    wb = example_workbook(CONFIG.spec(data.kind), data, CONFIG, settings(home))
    buffer = io.BytesIO()
    wb.save(buffer)
    report = validate_upload(buffer.getvalue(), key=KEY, config=CONFIG)
    assert report.valid, [p.code for p in report.errors]
    assert report.plan is not None
    return report.plan


def document_text(content: bytes) -> str:
    """Every paragraph of the body, headers and footers, one per line."""
    document = docx.Document(io.BytesIO(content))
    parts = [document.element.body]
    for section in document.sections:
        parts += [section.header._element, section.footer._element]
    lines = []
    for part in parts:
        for paragraph in part.iter(qn("w:p")):
            text = []
            for node in paragraph.iter(qn("w:t"), qn("w:br"), qn("w:tab")):
                text.append({qn("w:br"): "\n", qn("w:tab"): "\t"}.get(node.tag, node.text or ""))
            lines.append("".join(text))
    return "\n".join(lines)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def pct(fraction: float) -> str:
    return f"{fraction * 100:.1f}%"


COLUMN_LABEL = "\x00column:"  # marks a table's text, header or cell (see `expected_texts`)


def expected_texts(
    plan: Plan,
    data: PlanData,
    hidden: set[str] = frozenset(),  # type: ignore[assignment]
) -> Iterator[tuple[str, str]]:
    """(section key, text) pairs that a full report must show, from the spec, the plan and
    the data; rows of `hidden` subgroup codes are left out (they show *). Table header
    labels and table cells' text start with COLUMN_LABEL: a PDF's text may interleave the
    lines of neighbouring narrow cells (a PDF test compares their words)."""
    spec = CONFIG.spec(plan.kind)
    years = history_labels(data.fiscal_year)
    printed = layout.titles(spec)
    for section in spec.sections:
        key = section.key
        yield key, printed[section.key]
        for f in section.fields:
            yield key, f.label
            value = plan.field(key, f.key)
            if f.type is FieldType.DATE and isinstance(value, dt.date):
                yield key, f"{value:%B} {value.day}, {value.year}"
            elif isinstance(value, str) and not f.prefilled:
                yield key, value
        for table in section.tables:
            yield key, table.label
            for column in layout.columns(table):
                label = column.label
                for k, year in years.items():
                    label = label.replace("{" + k + "}", year)
                yield key, COLUMN_LABEL + label
            for row in plan.filled_rows(key, table.key):
                if row.code in hidden:
                    continue
                for column in table.columns:
                    value = row.get(column.key)
                    if column.prefilled:
                        continue
                    if isinstance(value, str):  # a text of several words may wrap
                        yield key, (COLUMN_LABEL if " " in value else "") + value
                    elif column.type is FieldType.PERCENT and isinstance(value, float):
                        yield key, pct(value)
                strategy = row.get("strategy")
                if isinstance(strategy, str) and strategy != OTHER_STRATEGY:
                    found = next(s for s in CONFIG.strategies if s.name == strategy)
                    yield key, found.evidence.value
    for row in data.subgroups:
        if row.code not in hidden and row.enrollment is not None:
            yield "demographics", f"{row.label}"
            yield "demographics", f"{row.enrollment:,}"
            if row.rates[-1] is not None:
                yield "demographics", f"{row.rates[-1]:.1f}%"
    for _tier, count in data.tier_counts.items():
        if count is not None and count >= data.min_group_size:
            yield "tiers", f"{count:,}"


@pytest.fixture(scope="session")
def lea(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[PlanData, Plan]]:
    home = tmp_path_factory.mktemp("home")
    return [(d, example_plan(d, home)) for d in lea_data()]


@pytest.fixture(scope="session")
def school(lea) -> tuple[PlanData, Plan]:
    return lea[1]


@pytest.fixture(scope="session")
def district(lea) -> tuple[PlanData, Plan]:
    return lea[0]


def render(pair: tuple[PlanData, Plan], **kw) -> bytes:
    data, plan = pair
    kw.setdefault("generated", GENERATED)
    return render_docx(plan, data, CONFIG, **kw)


@pytest.mark.parametrize("which", ["school", "district"])
def test_a_full_report_shows_every_section_of_the_spec_with_its_data(which, request):
    data, plan = request.getfixturevalue(which)
    text = squash(document_text(render((data, plan), review=REVIEW)))
    mask = suppress([data], CONFIG)  # which cells hide is pinned in test_suppression
    hidden = {code for *_, kind, code in mask.hidden if kind in ("subgroup", "grade")}
    assert "asian" in hidden or data.kind is PlanKind.DISTRICT
    missing = [
        (key, t)
        for key, t in expected_texts(plan, data, hidden)
        if squash(t.removeprefix(COLUMN_LABEL)) not in text
    ]
    assert missing == []
    for t in (
        "Review Status and Comments",
        "Returned",
        "Dana Ortiz",
        "Kristin Garcia",
        "Add a timeline for the Tier 4 case management strategy.",
    ):
        assert t in text
    assert f"Fiscal Year {FY} (school year 2026-27)" in text
    assert data.entity_name in text and data.lea.name in text


def test_the_title_page_lists_the_shown_sections_and_the_header_the_status(school):
    content = render(school, review=REVIEW)
    document = docx.Document(io.BytesIO(content))
    body = [p.text for p in document.paragraphs]
    # each line ends in a tab and its page number's field (filled in by LibreOffice or Word)
    contents = [line.removesuffix("\t") for line in body[body.index("Contents") + 1 :][:10]]
    assert contents == [
        "At a Glance",
        "Step 1 - Contact Information",
        "Step 2A - Chronic Absence Data for Sub-populations (Demographics)",
        "Step 2B - Chronic Absence Data for Grade Levels",
        "Step 3 - Root Cause Analysis",
        "Step 4 - Tiers of Support",
        "Step 5 - Final Submission",
        "Step 6 - Progress Updates",
        "Review Status and Comments",  # after the last step, with unique step numbers
        "Sign-off",
    ]
    header = squash(document_text(content))
    assert "Status: Returned" in header
    assert "BELEN HIGH · School Attendance Improvement Plan · FY2027" in header


def test_a_custom_report_holds_only_the_chosen_sections(school):
    _data, _plan = school
    text = document_text(render(school, sections="contact,tiers"))
    spec = CONFIG.spec(PlanKind.SCHOOL)
    for section in spec.sections:
        shown = layout.titles(spec)[section.key] in text
        assert shown is (section.key in ("contact", "tiers")), section.key
    assert "Review Status and Comments" not in text
    assert "Custom report: Contact Information; Tiers of Support" in squash(text)
    assert (
        len(docx.Document(io.BytesIO(render(school, sections="contact,tiers"))).inline_shapes) == 0
    )


def test_targets_is_every_targets_section_and_charts_adds_their_charts(district):
    content = render(district, sections="targets,charts")
    text = document_text(content)
    spec = CONFIG.spec(PlanKind.DISTRICT)
    assert [s.key for s in spec.sections if layout.titles(spec)[s.key] in text] == [
        "school_targets",
        "demographics",
        "grades",
    ]
    assert len(docx.Document(io.BytesIO(content)).inline_shapes) == 3


def test_an_unknown_section_is_refused_with_the_keys_there_are(school, district):
    with pytest.raises(layout.UnknownSection, match="root_cause"):
        render(district, sections="root_cause")
    with pytest.raises(layout.UnknownSection, match="choose at least one section"):
        render(school, sections="charts")


@pytest.mark.parametrize(("which", "charts"), [("school", 4), ("district", 5)])
def test_charts_are_inline_png_images_at_print_resolution(which, charts, request):
    content = render(request.getfixturevalue(which))
    document = docx.Document(io.BytesIO(content))
    shapes = document.inline_shapes
    assert len(shapes) == charts  # targets per group (and per school), tiers, progress
    for shape in shapes:
        blip = shape._inline.graphic.graphicData.pic.blipFill.blip
        image = document.part.related_parts[blip.embed].image
        assert image.content_type == "image/png"
        with Image.open(io.BytesIO(image.blob)) as png:
            assert png.width / shape.width.inches >= 200


def test_a_suppressed_group_shows_stars_and_is_not_charted(school):
    data, _plan = school
    text = document_text(render(school))
    asian = next(r for r in data.subgroups if r.code == "asian")
    assert asian.enrollment == 3
    line = text.split("\nAsian\n", 1)[1].split("\n")[:5]
    assert line == ["*", "*", "*", "*", "*"]  # enrollment, three rates, target
    assert "63.0%" not in text  # its rate
    note = next(t for t in text.split("\n") if t.startswith("Not charted, to protect"))
    assert "Asian" in note


def test_the_lea_suppression_hides_the_same_school_cells_in_district_and_school_plans(lea):
    datas = [d for d, _ in lea]
    shared = suppress(datas, CONFIG)
    school_code = SCHOOLS[0].code
    alone = suppress([lea[1][0]], CONFIG)
    assert alone.hidden <= shared.hidden
    hidden_total = shared.is_hidden(("school", school_code), "subgroup", "all")
    district_text = document_text(render(lea[0], suppression=shared))
    row = district_text.split(f"\n{school_code}\n", 1)[1].split("\n")
    assert (row[1] == "*") is hidden_total


def test_tables_repeat_their_header_rows_and_the_tiers_print_landscape(school):
    document = docx.Document(io.BytesIO(render(school)))
    body = document.element.body
    data_tables = [
        t for t in body.iter(qn("w:tbl")) if t.find(f".//{qn('w:tblHeader')}") is not None
    ]
    assert len(data_tables) >= 8  # team, subgroups, grades, four tiers, comments, periods
    orientations = [s.orientation for s in document.sections]
    assert [o.name for o in orientations] == ["PORTRAIT", "PORTRAIT", "LANDSCAPE", "PORTRAIT"]
    tiers_start = next(
        i
        for i, p in enumerate(document.paragraphs)
        if p.text == "Step 4 - Tiers of Support" and p.style.name == "Heading 1"
    )
    breaks = [
        i
        for i, p in enumerate(document.paragraphs)
        if p._p.pPr is not None and p._p.pPr.sectPr is not None
    ]
    assert breaks[1] < tiers_start < breaks[2]


def test_the_footer_numbers_pages_and_the_title_page_has_no_header(school):
    document = docx.Document(io.BytesIO(render(school)))
    footer_xml = document.sections[1].footer._element.xml
    assert 'w:instr="PAGE"' in footer_xml and 'w:instr="NUMPAGES"' in footer_xml
    first = document.sections[0]
    assert first.header.is_linked_to_previous  # no header part: an empty title page top


def test_when_the_tiers_are_the_last_section_the_last_page_is_landscape(school):
    document = docx.Document(io.BytesIO(render(school, sections="contact,tiers")))
    assert [s.orientation.name for s in document.sections] == ["PORTRAIT", "PORTRAIT", "LANDSCAPE"]
    only = docx.Document(io.BytesIO(render(school, sections="tiers")))
    assert [s.orientation.name for s in only.sections] == ["PORTRAIT", "LANDSCAPE"]


def test_progress_shows_in_a_full_report_only_when_there_are_updates(school):
    data, plan = school
    assert "Step 6 - Progress Updates" in document_text(render(school))
    blank = plan.model_copy(deep=True)
    for row in blank.sections["progress"].tables["periods"]:
        row.values["reflection"] = None
        row.values["adjusted_target"] = None
    text = document_text(render_docx(blank, data, CONFIG, generated=GENERATED))
    assert "Step 6 - Progress Updates" not in text
    chosen = document_text(render_docx(blank, data, CONFIG, sections="progress"))
    assert "No progress updates have been entered yet." in chosen


def test_a_plan_is_only_rendered_with_its_own_data(school, district):
    with pytest.raises(PlanMismatch):
        render_docx(school[1], district[0], CONFIG)


# ---- contents with page numbers (issue 13, point 1; the pages: test_render_pdf) -----------


@pytest.mark.parametrize(("which", "sections"), [("school", None), ("district", "contact,tiers")])
def test_each_contents_line_refers_to_its_sections_heading_by_a_page_field(
    which, sections, request
):
    document = docx.Document(io.BytesIO(render(request.getfixturevalue(which), sections=sections)))
    body = document.element.body
    marked = {}  # bookmark name -> text of the Heading 1 it sits in
    for p in document.paragraphs:
        for start in p._p.iter(qn("w:bookmarkStart")):
            assert p.style is not None and p.style.name == "Heading 1"
            marked[start.get(qn("w:name"))] = p.text
    lines = [
        p for p in document.paragraphs if p.style is not None and p.style.name == "AIP Contents"
    ]
    assert len(lines) >= 3
    for line in lines:
        (instruction,) = [t.text for t in line._p.iter(qn("w:instrText"))]
        name = re.fullmatch(r" PAGEREF (\S+) \\h ", instruction)
        assert name is not None, instruction
        assert marked[name[1]] == line.text.strip()
        (stop,) = line.paragraph_format.tab_stops
        assert stop.leader is not None and stop.leader.name == "DOTS"
    assert len(marked) == len(lines)
    assert len(body.findall(".//" + qn("w:bookmarkEnd"))) >= len(lines)
    assert document.settings.element.find(qn("w:updateFields")).get(qn("w:val")) == "true"
