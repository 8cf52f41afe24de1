"""Build the plan document templates, exports/templates/{district,school}_plan.docx.

The templates are generated from the form spec with python-docx and carry docxtpl tags
that read the view model of `exports.context`: one block per spec section (title,
purpose, a label/value table of its fields, one table per spec table with the spec's
columns and their relative widths, charts) in spec order, plus the review block after
certification. Wording that is not in the spec (title page, header, footer) is here.

Run `python -m exports.make_templates` after changing the spec; a test checks that the
committed templates are the ones this script builds.
"""

from __future__ import annotations

import copy
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docx
from docx.document import Document
from docx.enum.table import WD_ALIGN_VERTICAL, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Inches, Length, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from lxml import etree

from aip_forms.domain import PlanKind
from aip_forms.spec import FormSpec, SectionSpec, TableSpec, spec_for
from exports import layout

TEMPLATES = Path(__file__).parent / "templates"
FONT = "Arial"
NAVY = "1F3864"
ZEBRA = "E9EEF6"
PAGE_W, PAGE_H = Inches(8.5), Inches(11)
MARGIN = Inches(0.75)
TWIPS_PER_EMU = 1 / 635
TAG = "AIP Tag"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def template_path(kind: PlanKind) -> Path:
    return TEMPLATES / f"{PlanKind(kind).value}_plan.docx"


def _twips(emu: int) -> int:
    return round(emu * TWIPS_PER_EMU)


def usable_width(landscape: bool) -> Length:
    """Text width in EMU."""
    return Emu((PAGE_H if landscape else PAGE_W) - 2 * MARGIN)


# ---- styles -------------------------------------------------------------------------


def _styles(doc: Document) -> None:
    styles = doc.styles
    normal = styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(10)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    normal.paragraph_format.space_after = Pt(4)
    for name, size, color in (
        ("Title", 26, NAVY),
        ("Heading 1", 16, NAVY),
        ("Heading 2", 12, NAVY),
    ):
        style = styles[name]
        style.font.name = FONT
        style.font.size = Pt(size)
        style.font.bold = True
        style.font.color.rgb = RGBColor.from_string(color)
        rfonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            rfonts.attrib.pop(qn(attr), None)
        style.paragraph_format.keep_with_next = True
    styles["Title"].paragraph_format.space_after = Pt(12)
    styles["Heading 1"].paragraph_format.page_break_before = True
    styles["Heading 1"].paragraph_format.space_after = Pt(6)
    styles["Heading 2"].paragraph_format.space_before = Pt(12)

    def para(name: str, size: float, **kw: object) -> None:
        style = styles.add_style(name, 1)  # WD_STYLE_TYPE.PARAGRAPH
        style.base_style = normal
        style.font.size = Pt(size)
        style.font.italic = bool(kw.get("italic"))
        style.font.bold = bool(kw.get("bold"))
        if "color" in kw:
            style.font.color.rgb = RGBColor.from_string(str(kw["color"]))
        fmt = style.paragraph_format
        fmt.space_before = Pt(float(kw.get("before", 0)))  # type: ignore[arg-type]
        fmt.space_after = Pt(float(kw.get("after", 0)))  # type: ignore[arg-type]
        if kw.get("center"):
            fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER

    para("AIP Cell", 9)
    para("AIP Cell Number", 9)
    styles["AIP Cell Number"].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    para("AIP Cell Header", 9, bold=True, color="FFFFFF")
    para("AIP Purpose", 10, italic=True, color="404040", after=8)
    para("AIP Note", 8, italic=True, color="595959", before=4, after=4)
    para("AIP Caption", 8.5, italic=True, color="404040", after=10, center=True)
    para("AIP Chart", 10, before=8, center=True)
    para("AIP Agency", 11, bold=True, color="595959", before=96, after=24)
    para("AIP Subtitle", 18, bold=True, color="262626", after=6)
    para("AIP Title Line", 12, color="262626", after=4)
    para("AIP Contents Heading", 12, bold=True, color=NAVY, before=24, after=6)
    para("AIP Contents", 10, after=2)
    para("AIP Header", 8, color="595959")
    para(TAG, 1)
    para("AIP Break", 1)
    styles["AIP Chart"].paragraph_format.keep_with_next = True


# ---- low-level helpers ----------------------------------------------------------------


def value(expression: str) -> str:
    """A docxtpl value tag: {{ expression }}."""
    return "{{ " + expression + " }}"


def para_tag(statement: str) -> str:
    """A docxtpl paragraph tag, {%p statement %}: its whole paragraph is replaced."""
    return "{%p " + statement + " %}"


def row_tag(statement: str) -> str:
    """A docxtpl table-row tag, {%tr statement %}: its whole row is replaced."""
    return "{%tr " + statement + " %}"


def _tag(doc: Document, text: str) -> None:
    """A paragraph holding only a docxtpl paragraph tag; docxtpl removes it."""
    doc.add_paragraph(text, style=TAG)


def _shade(cell: _Cell, fill: str) -> None:
    props = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    props.append(shd)


def _row_flag(table: Table, index: int, flag: str) -> None:
    tr = table.rows[index]._tr
    props = tr.get_or_add_trPr()
    element = OxmlElement(f"w:{flag}")
    props.append(element)


def _fixed_layout(table: Table, widths: list[int]) -> None:
    """Fixed column widths (EMU) so long text wraps instead of widening a column."""
    tbl = table._tbl
    _table_prop(tbl.tblPr, "w:tblW", {"w:w": str(sum(_twips(w) for w in widths)), "w:type": "dxa"})
    _table_prop(tbl.tblPr, "w:tblLayout", {"w:type": "fixed"})
    _table_prop(tbl.tblPr, "w:tblCellMar", {})
    margins = tbl.tblPr.find(qn("w:tblCellMar"))
    for side, twips in (("top", 25), ("left", 80), ("bottom", 25), ("right", 80)):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:w"), str(twips))
        edge.set(qn("w:type"), "dxa")
        margins.append(edge)
    for col, w in zip(tbl.tblGrid.findall(qn("w:gridCol")), widths, strict=True):
        col.set(qn("w:w"), str(_twips(w)))
    for row in table.rows:
        for cell, w in zip(row.cells, widths, strict=True):
            cell.width = w


TBL_PR_ORDER = (
    "w:tblStyle",
    "w:tblpPr",
    "w:tblOverlap",
    "w:bidiVisual",
    "w:tblStyleRowBandSize",
    "w:tblStyleColBandSize",
    "w:tblW",
    "w:jc",
    "w:tblCellSpacing",
    "w:tblInd",
    "w:tblBorders",
    "w:shd",
    "w:tblLayout",
    "w:tblCellMar",
    "w:tblLook",
)


def _table_prop(props: etree._Element, tag: str, attrs: dict[str, str]) -> None:
    """Set a table property, keeping the schema's element order (Word insists on it)."""
    old = props.find(qn(tag))
    if old is not None:
        props.remove(old)
    element = OxmlElement(tag)
    for name, value in attrs.items():
        element.set(qn(name), value)
    later = TBL_PR_ORDER[TBL_PR_ORDER.index(tag) + 1 :]
    successor = next((c for c in props if c.tag in {qn(t) for t in later}), None)
    if successor is None:
        props.append(element)
    else:
        successor.addprevious(element)


def _cell_text(cell: _Cell, text: str, style: str) -> Paragraph:
    paragraph = cell.paragraphs[0]
    paragraph.text = text
    paragraph.style = style
    return paragraph


def _widths(weights: list[float], landscape: bool) -> list[int]:
    total = usable_width(landscape)
    scale = total / sum(weights)
    widths = [int(w * scale) for w in weights]
    widths[-1] += total - sum(widths)
    return widths


def _data_table(
    doc: Document,
    expr: str,
    cols: tuple[layout.Column, ...],
    landscape: bool,
    header: bool = True,
    keep_rows: bool = True,
) -> None:
    """A table with a repeated header row and one row per item of `expr`.rows."""
    rows = 4 if header else 3
    table = doc.add_table(rows=rows, cols=len(cols))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    first = 0
    if header:
        _row_flag(table, 0, "tblHeader")
        for cell, col in zip(table.rows[0].cells, cols, strict=True):
            _cell_text(cell, value(f"{expr}.h['{col.key}']"), "AIP Cell Header")
            _shade(cell, NAVY)
        first = 1
    _cell_text(table.rows[first].cells[0], row_tag(f"for r in {expr}.rows"), "AIP Cell")
    for cell, col in zip(table.rows[first + 1].cells, cols, strict=True):
        _cell_text(
            cell, value(f"r.cells['{col.key}']"), "AIP Cell Number" if col.numeric else "AIP Cell"
        )
        _shade(cell, value("r.bg"))  # zebra rows; a tag in the attribute keeps tcPr's order
    if keep_rows:
        _row_flag(table, first + 1, "cantSplit")
    _cell_text(table.rows[first + 2].cells[0], "{%tr endfor %}", "AIP Cell")
    _fixed_layout(table, _widths([c.width for c in cols], landscape))


def _fields_table(doc: Document, expr: str, landscape: bool) -> None:
    cols = (layout.Column("label", "", 2.0), layout.Column("value", "", 3.0))
    table = doc.add_table(rows=3, cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _cell_text(table.rows[0].cells[0], row_tag(f"for f in {expr}"), "AIP Cell")
    label = _cell_text(table.rows[1].cells[0], "{{ f.label }}", "AIP Cell")
    label.runs[0].bold = True
    _shade(table.rows[1].cells[0], ZEBRA)
    _cell_text(table.rows[1].cells[1], "{{ f.value }}", "AIP Cell")
    _row_flag(table, 1, "cantSplit")
    _cell_text(table.rows[2].cells[0], "{%tr endfor %}", "AIP Cell")
    _fixed_layout(table, _widths([c.width for c in cols], landscape))


def _field(run_parent: Paragraph, instr: str) -> None:
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), instr)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    fld.append(run)
    run_parent._p.append(fld)


# ---- sections ----------------------------------------------------------------------------


def _page(sect_pr: etree._Element, landscape: bool, dynamic: bool = False) -> None:
    size = sect_pr.find(qn("w:pgSz"))
    if size is None:
        size = OxmlElement("w:pgSz")
        sect_pr.insert(0, size)
    if dynamic:  # the last section's orientation is the last shown section's
        size.set(qn("w:w"), "{{ doc.last_page.w }}")
        size.set(qn("w:h"), "{{ doc.last_page.h }}")
        size.set(qn("w:orient"), "{{ doc.last_page.orient }}")
        return
    w, h = (PAGE_H, PAGE_W) if landscape else (PAGE_W, PAGE_H)
    size.set(qn("w:w"), str(_twips(w)))
    size.set(qn("w:h"), str(_twips(h)))
    size.set(qn("w:orient"), "landscape" if landscape else "portrait")


def _break(doc: Document, sentinel: etree._Element, landscape: bool, refs: bool) -> None:
    """A paragraph that ends a section: its page orientation and header/footer refs."""
    sect_pr = copy.deepcopy(sentinel)
    if not refs:
        for ref in sect_pr.findall(qn("w:headerReference")) + sect_pr.findall(
            qn("w:footerReference")
        ):
            sect_pr.remove(ref)
    _page(sect_pr, landscape)
    paragraph = doc.add_paragraph(style="AIP Break")
    paragraph._p.get_or_add_pPr().append(sect_pr)


def _header_footer(doc: Document) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = PAGE_W, PAGE_H
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, MARGIN)
    section.header_distance = section.footer_distance = Inches(0.4)
    for part, left, right in (
        (section.header, "{{ doc.header }}", "{{ doc.status }}"),
        (section.footer, "{{ doc.footer }}", None),
    ):
        part.is_linked_to_previous = False
        table = part.add_table(1, 2, usable_width(False))
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        _table_prop(table._tbl.tblPr, "w:tblW", {"w:w": "5000", "w:type": "pct"})
        left_cell, right_cell = table.rows[0].cells
        for cell, share in ((left_cell, 0.7), (right_cell, 0.3)):
            cell.width = Emu(int(usable_width(False) * share))
        for col, share in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), (0.7, 0.3), strict=True):
            col.set(qn("w:w"), str(_twips(int(usable_width(False) * share))))
        _cell_text(left_cell, left, "AIP Header")
        p = _cell_text(right_cell, right or "Page ", "AIP Header")
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        if right is None:
            _field(p, "PAGE")
            p._p.append(_run(" of "))
            _field(p, "NUMPAGES")
        first = part.paragraphs[0]  # a header must end with a paragraph, not a table
        first.style = "AIP Break"
        part._element.append(first._p)


def _run(text: str) -> etree._Element:
    run = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    t.text = text
    run.append(t)
    return run


def _title_page(doc: Document, sentinel: etree._Element) -> None:
    doc.add_paragraph("{{ doc.agency }}", style="AIP Agency")
    doc.add_paragraph("{{ doc.title }}", style="Title")
    doc.add_paragraph("{{ doc.entity_name }}", style="AIP Subtitle")
    doc.add_paragraph("{{ doc.entity_line }}", style="AIP Title Line")
    doc.add_paragraph("{{ doc.fiscal_year }}", style="AIP Title Line")
    doc.add_paragraph("", style="AIP Title Line")
    _fields_table(doc, "doc.facts", landscape=False)
    doc.add_paragraph("{{ doc.contents_title }}", style="AIP Contents Heading")
    _tag(doc, "{%p for c in doc.contents %}")
    doc.add_paragraph("{{ c.title }}", style="AIP Contents")
    _tag(doc, "{%p endfor %}")
    doc.add_paragraph("{{ doc.privacy_note }}", style="AIP Note")
    _break(doc, sentinel, landscape=False, refs=False)


def _summary(doc: Document) -> None:
    """The one-page summary after the title page (issue 13 point 2)."""
    doc.add_paragraph("{{ summary.title }}", style="Heading 1")
    doc.add_paragraph("{{ summary.purpose }}", style="AIP Purpose")
    _fields_table(doc, "summary.facts", landscape=False)
    _tag(doc, "{%p if summary.note %}")
    doc.add_paragraph("{{ summary.note }}", style="AIP Note")
    _tag(doc, "{%p endif %}")


def _charts(doc: Document, expr: str) -> None:
    _tag(doc, para_tag(f"for c in {expr}.charts"))
    doc.add_paragraph("{{ c.image }}", style="AIP Chart")
    doc.add_paragraph("{{ c.caption }}", style="AIP Caption")
    _tag(doc, "{%p endfor %}")
    _tag(doc, para_tag(f"if {expr}.chart_note"))
    doc.add_paragraph(value(f"{expr}.chart_note"), style="AIP Note")
    _tag(doc, "{%p endif %}")


def _table_block(doc: Document, expr: str, table: TableSpec, landscape: bool) -> None:
    cols = layout.columns(table)
    doc.add_paragraph(value(f"{expr}.label"), style="Heading 2")
    _tag(doc, para_tag(f"if {expr}.rows"))
    numeric = all(c.numeric or c.width <= 40 for c in cols)
    _data_table(doc, expr, cols, landscape, keep_rows=numeric)
    _tag(doc, "{%p else %}")
    doc.add_paragraph(value(f"{expr}.empty"), style="AIP Note")
    _tag(doc, "{%p endif %}")
    _tag(doc, para_tag(f"if {expr}.note"))
    doc.add_paragraph(value(f"{expr}.note"), style="AIP Note")
    _tag(doc, "{%p endif %}")


def _section(doc: Document, section: SectionSpec, sentinel: etree._Element) -> None:
    key = section.key
    expr = f"s['{key}']"
    landscape = layout.is_landscape(section)
    _tag(doc, para_tag(f"if show['{key}']"))
    if landscape:
        _tag(doc, para_tag(f"if {expr}.break_before"))
        _break(doc, sentinel, landscape=False, refs=True)
        _tag(doc, "{%p endif %}")
    heading = doc.add_paragraph(value(f"{expr}.title"), style="Heading 1")
    if key in layout.FLOWING:  # a short section follows the last one on its page
        heading.paragraph_format.page_break_before = False
        heading.paragraph_format.space_before = Pt(18)
    doc.add_paragraph(value(f"{expr}.purpose"), style="AIP Purpose")
    if section.fields:
        _fields_table(doc, f"{expr}.fields", landscape)
        _tag(doc, para_tag(f"if {expr}.note"))
        doc.add_paragraph(value(f"{expr}.note"), style="AIP Note")
        _tag(doc, "{%p endif %}")
        if key in layout.CHARTED:
            _charts(doc, expr)
    for table in section.tables:
        _table_block(doc, f"{expr}.t['{table.key}']", table, landscape)
    if key in layout.CHARTED and not section.fields:
        _charts(doc, expr)
    if key == "progress":
        _progress_updates(doc, landscape)
    if landscape:
        _tag(doc, para_tag(f"if {expr}.break_after"))
        _break(doc, sentinel, landscape=True, refs=True)
        _tag(doc, "{%p endif %}")
    _tag(doc, "{%p endif %}")


def _progress_updates(doc: Document, landscape: bool) -> None:
    """The plan's progress updates (issue 12): an overview per period, then each period's
    rates against the targets in force and the approved update's reflections."""
    _tag(doc, "{%p if progress.show %}")
    doc.add_paragraph("{{ progress.title }}", style="Heading 2")
    doc.add_paragraph("{{ progress.purpose }}", style="AIP Purpose")
    overview = (
        layout.Column("period", "", 14),
        layout.Column("update", "", 22),
        layout.Column("target", "", 12, numeric=True),
        layout.Column("rate", "", 12, numeric=True),
        layout.Column("met", "", 8),
    )
    _data_table(doc, "progress.overview", overview, landscape)
    _note(doc, "progress.overview.note")
    _tag(doc, "{%p for p in progress.periods %}")
    doc.add_paragraph("{{ p.groups.label }}", style="Heading 2")
    groups = (
        layout.Column("group", "", 30),
        layout.Column("target", "", 12, numeric=True),
        layout.Column("rate", "", 10, numeric=True),
        layout.Column("met", "", 8),
        layout.Column("adjusted", "", 14, numeric=True),
    )
    _tag(doc, "{%p if p.groups.rows %}")
    _data_table(doc, "p.groups", groups, landscape)
    _tag(doc, "{%p else %}")
    doc.add_paragraph("{{ p.groups.empty }}", style="AIP Note")
    _tag(doc, "{%p endif %}")
    _note(doc, "p.groups.note")
    reflections = (
        layout.Column("ref", "", 6),
        layout.Column("strategy", "", 22),
        layout.Column("rating", "", 14),
        layout.Column("reflection", "", 48),
    )
    _tag(doc, "{%p if p.reflections.rows %}")
    doc.add_paragraph("{{ p.reflections.label }}", style="Heading 2")
    _data_table(doc, "p.reflections", reflections, landscape, keep_rows=False)
    _tag(doc, "{%p endif %}")
    _note(doc, "p.reflections.note")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endif %}")


def _note(doc: Document, expr: str) -> None:
    _tag(doc, para_tag(f"if {expr}"))
    doc.add_paragraph(value(expr), style="AIP Note")
    _tag(doc, "{%p endif %}")


def _review(doc: Document) -> None:
    _tag(doc, para_tag(f"if show['{layout.REVIEW}']"))
    doc.add_paragraph("{{ review.title }}", style="Heading 1")
    doc.add_paragraph("{{ review.purpose }}", style="AIP Purpose")
    _fields_table(doc, "review.fields", landscape=False)
    doc.add_paragraph("{{ review.comments.label }}", style="Heading 2")
    cols = (
        layout.Column("date", "", 12),
        layout.Column("author", "", 16),
        layout.Column("where", "", 16),
        layout.Column("body", "", 46),
    )
    _tag(doc, "{%p if review.comments.rows %}")
    _data_table(doc, "review.comments", cols, landscape=False, keep_rows=False)
    _tag(doc, "{%p else %}")
    doc.add_paragraph("{{ review.comments.empty }}", style="AIP Note")
    _tag(doc, "{%p endif %}")
    _signoff(doc)
    _tag(doc, "{%p endif %}")


def _signoff(doc: Document) -> None:
    """The sign-off page: decisions and identity as a table, then lines to sign on."""
    heading = doc.add_paragraph("{{ review.signoff.title }}", style="Heading 1")
    heading.paragraph_format.page_break_before = False  # short: on the review's page
    heading.paragraph_format.space_before = Pt(18)
    doc.add_paragraph("{{ review.signoff.purpose }}", style="AIP Purpose")
    _fields_table(doc, "review.signoff.fields", landscape=False)
    doc.add_paragraph("", style="AIP Title Line")
    table = doc.add_table(rows=3, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    _cell_text(table.rows[0].cells[0], row_tag("for f in review.signoff.lines"), "AIP Cell")
    label = _cell_text(table.rows[1].cells[0], "{{ f.label }}", "AIP Cell")
    label.runs[0].bold = True
    table.rows[1].cells[0].vertical_alignment = WD_ALIGN_VERTICAL.BOTTOM  # on the line
    line = _cell_text(table.rows[1].cells[1], "", "AIP Cell")
    line.paragraph_format.space_before = Pt(24)  # room to sign above the line
    borders = OxmlElement("w:tcBorders")
    bottom = OxmlElement("w:bottom")
    for name, val in (("w:val", "single"), ("w:sz", "8"), ("w:space", "0"), ("w:color", "000000")):
        bottom.set(qn(name), val)
    borders.append(bottom)
    table.rows[1].cells[1]._tc.get_or_add_tcPr().append(borders)
    _row_flag(table, 1, "cantSplit")
    _cell_text(table.rows[2].cells[0], "{%tr endfor %}", "AIP Cell")
    _fixed_layout(table, _widths([2.0, 3.0], landscape=False))


def build(spec: FormSpec) -> Document:
    doc = docx.Document()
    _styles(doc)
    _header_footer(doc)
    sentinel = doc.sections[0]._sectPr
    _title_page(doc, sentinel)
    _summary(doc)
    for section in spec.sections:
        _section(doc, section, sentinel)
    _review(doc)
    _page(sentinel, landscape=False, dynamic=True)
    props = doc.core_properties
    props.title = spec.title
    props.author = props.last_modified_by = "aip-forms"
    props.comments = "Generated by exports/make_templates.py from the form spec."
    return doc


def template_bytes(kind: PlanKind) -> bytes:
    """The committed template of `kind`, as built from New Mexico's spec."""
    return spec_template_bytes(spec_for(kind))


def spec_template_bytes(spec: FormSpec) -> bytes:
    """The template of `spec`, byte for byte the same on every build (fixed zip times)."""
    buffer = io.BytesIO()
    build(spec).save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts(buffer.getvalue()):
            archive.writestr(
                zipfile.ZipInfo(name, date_time=ZIP_TIME),
                content,
                compress_type=zipfile.ZIP_DEFLATED,
            )
    return out.getvalue()


def parts(data: bytes) -> Iterator[tuple[str, bytes]]:
    """The parts of a .docx in its own order, for comparing templates."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            yield name, archive.read(name)


def main() -> None:
    TEMPLATES.mkdir(parents=True, exist_ok=True)
    for kind in PlanKind:
        path = template_path(kind)
        path.write_bytes(template_bytes(kind))
        print(f"Wrote {path}")


if __name__ == "__main__":
    main()
